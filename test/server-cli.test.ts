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
    const texts = Array.from({ length: 24 }, (_, i) => `request ${i}: ${'several words of text '.repeat(4 + (i % 20))}`);
    const pending = texts.map((t) =>
      fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ input: [t, t.toUpperCase()] }) }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { data: { embedding: number[] }[] },
      })),
    );
    // Wait until the server holds every request (its own gauge), then ask it to stop.
    for (;;) {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const inflight = Number(/^dualbert_inflight_requests (\d+)/m.exec(metrics)?.[1]);
      if (inflight >= texts.length + 1) break; // + the /metrics request itself
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGTERM');
    const replies = await Promise.all(pending);
    expect(await exit).toBe(0);
    expect(stderr()).toContain('SIGTERM: draining');
    expect(stderr()).toContain('dualbert serve: stopped');

    const direct = await dist.createEmbedder('synthetic:tiny', { device: 'wasm' });
    const all = texts.flatMap((t) => [t, t.toUpperCase()]);
    const { data, dims } = await direct.embed(all);
    direct.dispose();
    replies.forEach((r, i) => {
      expect(r.status, `request ${i}`).toBe(200);
      r.body.data.forEach((d, j) => expect(maxAbsDiff(d.embedding, data.subarray((2 * i + j) * dims[1], (2 * i + j + 1) * dims[1]))).toBeLessThanOrEqual(1e-6));
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
