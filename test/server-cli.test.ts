/**
 * `dualbert serve` as a process (bin/dualbert.js over dist/): it listens where it says, and on
 * SIGTERM it stops accepting, answers every request already received, and exits 0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureDistBuilt } from './helpers/build.js';
import { maxAbsDiff } from './helpers/golden.js';

type Dist = typeof import('../ts/index.js');
const BIN = join(ROOT, 'bin', 'dualbert.js');
let dist: Dist;
const children: ChildProcess[] = [];

beforeAll(async () => {
  ensureDistBuilt();
  dist = (await import(pathToFileURL(join(ROOT, 'dist/index.js')).href)) as Dist;
});

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Starts the CLI; resolves with the URL from its "listening on" line. */
function startCli(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string; stderr: () => string; exit: Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) resolve({ child, url: m[1]!, stderr: () => stderr, exit });
    });
    void exit.then((code) => reject(new Error(`dualbert serve exited (${code}) before listening: ${stderr}`)));
  });
}

describe('dualbert serve (the command)', () => {
  it('drains on SIGTERM: every request received is answered correctly, then exit code 0', async () => {
    const { child, url, stderr, exit } = await startCli(['--model', 'synthetic:tiny', '--device', 'wasm', '--port', '0']);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stderr()).toContain('(model synthetic:tiny, wasm');
    // 24 requests of 16 texts each (about 1,500 tokens a request): enough work that the server
    // still holds most of them when the signal comes.
    const texts = Array.from({ length: 24 }, (_, i) => `request ${i}: ${'several words of text '.repeat(4 + (i % 20))}`);
    const inputsOf = (t: string): string[] => Array.from({ length: 16 }, (_, k) => (k % 2 ? t.toUpperCase() : t) + ` ${k}`);
    const pending = texts.map((t) =>
      fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ input: inputsOf(t) }) }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { data: { embedding: number[] }[] },
      })),
    );
    // Wait until the server has received every request (in flight + answered, from its own
    // metrics), then ask it to stop while it still holds some.
    let heldAtSignal = 0;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const inflight = Number(/^dualbert_inflight_requests (\d+)/m.exec(metrics)?.[1]) - 1; // not this /metrics request
      const answered = Number(/^dualbert_requests_total\{code="200",route="openai"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
      if (inflight + answered >= texts.length) {
        heldAtSignal = inflight;
        break;
      }
      if (Date.now() > deadline) throw new Error(`the server received only ${inflight + answered} of ${texts.length} requests in 30 s`);
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGTERM');
    const replies = await Promise.all(pending);
    expect(await exit).toBe(0);
    expect(heldAtSignal).toBeGreaterThan(0); // the drain had work to finish
    expect(stderr()).toContain('SIGTERM: draining');
    expect(stderr()).toContain('dualbert serve: stopped');

    const direct = await dist.createEmbedder('synthetic:tiny', { device: 'wasm' });
    const all = texts.flatMap(inputsOf);
    const { data, dims } = await direct.embed(all);
    direct.dispose();
    replies.forEach((r, i) => {
      expect(r.status, `request ${i}`).toBe(200);
      expect(r.body.data).toHaveLength(16);
      r.body.data.forEach((d, j) => expect(maxAbsDiff(d.embedding, data.subarray((16 * i + j) * dims[1], (16 * i + j + 1) * dims[1]))).toBeLessThanOrEqual(1e-6));
    });
    // Nothing listens any more.
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it('reads the API key from DUALBERT_API_KEY; a bad flag is a usage error (exit 2)', async () => {
    const { child, url, exit } = await startCli(['-m', 'synthetic:tiny', '-d', 'reference', '-p', '0'], { DUALBERT_API_KEY: 'k' });
    expect((await fetch(`${url}/embed`, { method: 'POST', body: '{"inputs":"x"}' })).status).toBe(401);
    expect((await fetch(`${url}/embed`, { method: 'POST', body: '{"inputs":"x"}', headers: { Authorization: 'Bearer k' } })).status).toBe(200);
    child.kill('SIGINT');
    expect(await exit).toBe(0);

    const bad = spawn(process.execPath, [BIN, 'serve', '--model', 'synthetic:tiny', '--max-wait-ms', 'soon'], { cwd: ROOT });
    let err = '';
    bad.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const code = await new Promise<number | null>((resolve) => bad.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('--max-wait-ms must be an integer ≥ 0, got "soon"');
  });
});
