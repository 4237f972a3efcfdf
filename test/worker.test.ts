/**
 * Worker mode in Node (worker_threads), through the built dist/ as users run it: same vectors as
 * in-thread, transferable results, progress forwarded, errors typed, dispose terminates.
 * (The browser's module Web Worker is tested in Chromium with the bundles.)
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureDistBuilt } from './helpers/build.js';
import { loadGolden, maxAbsDiff } from './helpers/golden.js';
import { writeTinyModelDir } from './helpers/model-dir.js';
import { startModelServer } from './helpers/model-server.js';

type Dist = typeof import('../ts/index.js');
let dist: Dist;
const golden = loadGolden('tiny');

beforeAll(async () => {
  ensureDistBuilt();
  dist = (await import(pathToFileURL(join(ROOT, 'dist/index.js')).href)) as Dist;
});

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (e: { code?: string }) => e.code,
  );
}

describe('worker mode (Node worker_threads)', () => {
  it('embeds in the worker with the same API and the golden vectors; progress is forwarded', async () => {
    const events: string[] = [];
    const embedder = await dist.createEmbedder('synthetic:tiny', { worker: true, device: 'reference', progress_callback: (e) => events.push(e.status) });
    expect(embedder).toBeInstanceOf(dist.WorkerEmbedder);
    expect(embedder.device).toBe('reference');
    expect(embedder.dimension).toBe(64);
    expect(embedder.tokenizer.encode('HELLO WORLD').ids).toEqual([101, 7592, 2088, 102]);
    expect(events).toContain('ready');

    const rows = golden.texts.slice(0, 12);
    const texts = ['', '\t\n\r', 'HELLO WORLD'];
    const { data, dims } = await embedder.embed(texts);
    expect(dims).toEqual([3, 64]);
    texts.forEach((_, i) => expect(maxAbsDiff(data.subarray(i * 64, (i + 1) * 64), rows[i]!.mean)).toBeLessThanOrEqual(1e-6));

    const inThread = await dist.createEmbedder('synthetic:tiny', { device: 'reference' });
    const many = Array.from({ length: 23 }, (_, i) => `text number ${i} ${'word '.repeat(i)}`);
    const want = (await inThread.embed(many)).data;
    const seen: number[] = [];
    for await (const { data: d, dims: dd, offset } of embedder.embedBatches(many, { batchSize: 5, lookaheadBatches: 2 })) {
      expect(Array.from(d)).toEqual(Array.from(want.subarray(offset * 64, (offset + dd[0]) * 64)));
      seen.push(offset);
    }
    expect(seen).toEqual([0, 5, 10, 15, 20]);
    inThread.dispose();

    embedder.dispose();
    expect(await codeOf(embedder.embed(['after dispose']))).toBe('DISPOSED');
  });

  it('errors from the worker keep their code', async () => {
    expect(await codeOf(dist.createEmbedder('synthetic:nope', { worker: true }))).toBe('MODEL_NOT_FOUND');
    const embedder = await dist.createEmbedder('synthetic:tiny', { worker: true, device: 'reference' });
    expect(await codeOf(embedder.embed(['x'], { batchSize: 0 }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(embedder.embed([3 as never]))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(dist.createEmbedder('synthetic:tiny', { worker: true, fetch: globalThis.fetch }))).toBe('INVALID_ARGUMENT');
    embedder.dispose();
  });

  it('a worker that dies gives WORKER_FAILED, not a hang', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dualbert-worker-'));
    const script = join(dir, 'broken-worker.mjs');
    writeFileSync(script, 'throw new Error("boom at startup");\n');
    expect(await codeOf(dist.createEmbedder('synthetic:tiny', { worker: true, workerUrl: pathToFileURL(script) }))).toBe('WORKER_FAILED');
    rmSync(dir, { recursive: true, force: true });
  });

  it('honours the loader options (remote_host, cache_dir, then offline) on both threads, and reports stats()', async () => {
    const modelDir = writeTinyModelDir();
    const hub = await startModelServer({ 'acme/tiny': modelDir });
    const cacheDir = mkdtempSync(join(tmpdir(), 'dualbert-worker-cache-'));
    try {
      const options = { worker: true as const, device: 'wasm' as const, threads: 1, remote_host: hub.url, cache_dir: cacheDir };
      const embedder = await dist.createEmbedder('hf:acme/tiny', options);
      const stats = await embedder.stats();
      expect(stats.device).toBe('wasm');
      expect(stats.weightBytes).toBeGreaterThan(0);
      expect((await embedder.embed(['HELLO WORLD'])).dims).toEqual([1, 64]);
      embedder.dispose();
      expect(hub.requests.length).toBeGreaterThan(0);
      // Everything the worker and the page's tokenizer needed is now in cache_dir: offline works.
      const before = hub.requests.length;
      const offline = await dist.createEmbedder('hf:acme/tiny', { ...options, offline: true });
      expect(offline.tokenizer.encode('HELLO WORLD').ids).toEqual([101, 7592, 2088, 102]);
      expect((await offline.embed(['HELLO WORLD'])).dims).toEqual([1, 64]);
      offline.dispose();
      expect(hub.requests.length).toBe(before);
    } finally {
      await hub.close();
      rmSync(cacheDir, { recursive: true, force: true });
      rmSync(modelDir, { recursive: true, force: true });
    }
  });
});
