/**
 * POST /rerank of `dualbert serve --reranker SPEC` (bin/dualbert.js over dist/): TEI's rerank
 * answer — `{index, score, text?}` best first — with the cross-encoder's scores as
 * sentence-transformers' CrossEncoder gives them (test/fixtures/rerank), raw_scores the logits;
 * a reranker with several labels, or none that loads, stops the server at start with a clear line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureDistBuilt } from './helpers/build.js';
import { maxAbsDiff } from './helpers/golden.js';

interface Golden {
  queries: string[];
  documents: string[];
  'tiny-ce': { logits: number[]; rank: { corpus_id: number; score: number; text: string }[][] };
}
const fixture = (path: string): string => fileURLToPath(new URL(`./fixtures/${path}`, import.meta.url));
const golden = JSON.parse(gunzipSync(readFileSync(fixture('rerank/reference.json.gz'))).toString('utf8')) as Golden;
const BIN = join(ROOT, 'bin', 'dualbert.js');
const children: ChildProcess[] = [];

beforeAll(() => ensureDistBuilt());
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Starts `dualbert serve`; resolves with its URL, or with its exit code and stderr when it stops first. */
function startCli(args: string[]): Promise<{ url?: string; code?: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  return new Promise((resolve) => {
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) resolve({ url: m[1]!, stderr });
    });
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

async function post(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}/rerank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

describe('dualbert serve --reranker', () => {
  it('POST /rerank answers best first with the cross-encoder scores of sentence-transformers; raw_scores gives the logits', async () => {
    const { url, stderr } = await startCli(['--model', 'synthetic:tiny', '--reranker', fixture('rerank/tiny-ce'), '--device', 'reference', '--port', '0', '--in-process']);
    expect(url, stderr).toBeDefined();
    expect(stderr).toMatch(/reranker .*tiny-ce/);
    for (const [qi, query] of golden.queries.entries()) {
      const want = golden['tiny-ce'].rank[qi]!;
      const res = await post(url!, { query, texts: golden.documents, return_text: true, truncate: true });
      expect(res.status).toBe(200);
      const got = res.body as { index: number; score: number; text: string }[];
      expect(got.map((r) => r.index)).toEqual(want.map((r) => r.corpus_id));
      expect(got.map((r) => r.text)).toEqual(want.map((r) => r.text));
      expect(maxAbsDiff(got.map((r) => r.score), want.map((r) => r.score))).toBeLessThanOrEqual(1e-6);
    }
    const raw = await post(url!, { query: golden.queries[0], texts: golden.documents, raw_scores: true, truncate: true });
    const byIndex = [...(raw.body as { index: number; score: number }[])].sort((a, b) => a.index - b.index);
    expect(maxAbsDiff(byIndex.map((r) => r.score), golden['tiny-ce'].logits.slice(0, golden.documents.length))).toBeLessThanOrEqual(1e-6);
    // A pair longer than the model takes: 413 unless truncate.
    const long = golden.documents[7]!;
    expect((await post(url!, { query: 'q', texts: [long] })).status).toBe(413);
    expect((await post(url!, { query: 'q', texts: [long], truncate: true })).status).toBe(200);
  });

  it('a reranker that is not one, or has several labels, stops the server at start', async () => {
    const three = await startCli(['--model', 'synthetic:tiny', '--reranker', fixture('rerank/tiny3-ce'), '--device', 'reference', '--port', '0']);
    expect(three.code).toBe(1);
    expect(three.stderr).toMatch(/--reranker: \/rerank gives one score per text; this cross-encoder has 3 labels/);
    const notCe = await startCli(['--model', 'synthetic:tiny', '--reranker', 'synthetic:nothing', '--device', 'reference', '--port', '0']);
    expect(notCe.code).toBe(1);
    expect(notCe.stderr).toMatch(/--reranker: unknown synthetic model "nothing"/);
  });
});
