/**
 * Issue #16, defects 2 and 3 (and the "fetch failed" item of 8): downloads against a loopback
 * server that stalls, cuts, lies about lengths and drops connections. Every request is bounded
 * (timeout, AbortSignal), a dead request never keeps the process alive, and the cache records
 * only files whose length is proven, so a short download never poisons later loads.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DualbertError, loadModel } from '../ts/index.js';
import { directoryCache } from '../ts/model/cache.js';
import { sha256Hex, urlSource } from '../ts/model/sources.js';
import { ROOT, ensureDistBuilt } from './helpers/build.js';
import { type FaultServer, startFaultServer } from './helpers/fault-server.js';
import { writeTinyModelDir } from './helpers/model-dir.js';

const temps: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'dualbert-rel-'));
  temps.push(d);
  return d;
};

let modelDir: string;
let weights: Buffer;
let server: FaultServer;
beforeAll(async () => {
  modelDir = writeTinyModelDir();
  temps.push(modelDir);
  weights = readFileSync(join(modelDir, 'model.safetensors'));
  server = await startFaultServer(modelDir);
});
afterAll(async () => {
  await server.close();
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});
beforeEach(() => {
  server.clearFaults();
  server.requests.length = 0;
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  expect(e, 'expected a rejection').toBeInstanceOf(Error);
  return e!;
}

async function expectCode(p: Promise<unknown>, code: string, pattern: RegExp): Promise<DualbertError> {
  const e = await rejection(p);
  expect(e).toBeInstanceOf(DualbertError);
  expect((e as DualbertError).code, e.message).toBe(code);
  expect(e.message).toMatch(pattern);
  return e as DualbertError;
}

/** The cached bytes of a file of the server (undefined when the cache has no entry). */
async function cachedBytes(cacheDir: string, file: string): Promise<Uint8Array | undefined> {
  return (await directoryCache(cacheDir).get(new URL(file, server.url).href))?.bytes;
}

describe('#16.2 every request is bounded: timeout, AbortSignal, and the process exits', () => {
  it('a server that accepts and never answers fails after `timeout` per attempt (NETWORK_ERROR), not after minutes', async () => {
    server.fault('config.json', { kind: 'stall' });
    const t0 = performance.now();
    await expectCode(
      loadModel(server.url, { cache: false, timeout: 1000, maxAttempts: 2 }),
      'NETWORK_ERROR',
      /config\.json.*2 attempt.*no answer within 1000 ms/,
    );
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(server.count('config.json')).toBeGreaterThanOrEqual(1);
  });

  it('a body that goes silent mid-file is given up after `timeout` and resumed with Range', async () => {
    server.fault('model.safetensors', { kind: 'stall-body', after: 1000, times: 1 });
    const model = await loadModel(server.url, { cache: false, timeout: 300 });
    expect(model.checkpoint.size).toBeGreaterThan(0);
    expect(server.requests.filter((r) => r.path === 'model.safetensors').map((r) => r.range)).toEqual([undefined, 'bytes=1000-']);
  });

  it('a body that stays silent: TRUNCATED_DOWNLOAD saying how many bytes came and that nothing arrived', async () => {
    server.fault('model.safetensors', { kind: 'stall-body', after: 1000 });
    await expectCode(
      loadModel(server.url, { cache: false, timeout: 200, maxAttempts: 2 }),
      'TRUNCATED_DOWNLOAD',
      /after 1000 of \d+ bytes \(nothing arrived for 200 ms\)/,
    );
  });

  it('timeout bounds silence, not the whole transfer: a slow but steady server succeeds', async () => {
    server.fault('model.safetensors', { kind: 'drip', bytes: Math.ceil(weights.length / 6), everyMs: 60 });
    const model = await loadModel(server.url, { cache: false, timeout: 250 });
    expect(model.checkpoint.size).toBeGreaterThan(0);
  });

  it('an AbortSignal stops a stalled load at once with its reason; an aborted signal makes no request', async () => {
    server.fault('config.json', { kind: 'stall' });
    const controller = new AbortController();
    const t0 = performance.now();
    const pending = loadModel(server.url, { cache: false, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user gave up')), 100);
    expect((await rejection(pending)).message).toBe('user gave up');
    expect(performance.now() - t0).toBeLessThan(2000);

    const e = await rejection(loadModel(server.url, { cache: false, signal: AbortSignal.timeout(150) }));
    expect(e.name).toBe('TimeoutError');

    server.requests.length = 0;
    await rejection(loadModel(server.url, { cache: false, signal: AbortSignal.abort() }));
    expect(server.requests.length).toBe(0);
  });

  it('bad timeout and signal options are INVALID_ARGUMENT', async () => {
    await expectCode(loadModel(server.url, { timeout: -1 }), 'INVALID_ARGUMENT', /timeout must be a positive number/);
    await expectCode(loadModel(server.url, { timeout: '5s' as unknown as number }), 'INVALID_ARGUMENT', /timeout.*"5s"/);
    await expectCode(loadModel(server.url, { signal: {} as AbortSignal }), 'INVALID_ARGUMENT', /signal must be an AbortSignal/);
  });

  it('a dead request never keeps the process alive: a child process exits by itself right after the load fails', () => {
    ensureDistBuilt();
    server.fault('config.json', { kind: 'stall' });
    const script = `
      import { loadModel } from './dist/index.js';
      const t0 = Date.now();
      loadModel(process.argv[1], { cache: false, timeout: 300, maxAttempts: 2 }).then(
        () => console.log('loaded'),
        (e) => console.log('rejected', e.code, Date.now() - t0),
      );`;
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, server.url], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^rejected NETWORK_ERROR \d+/);
    expect(r.status, 'the child must exit by itself, well before the 20 s kill').toBe(0);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('#16.8 a refused connection names ECONNREFUSED instead of a bare "fetch failed"', async () => {
    const port = await new Promise<number>((ok) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => ok(p));
      });
    });
    await expectCode(loadModel(`http://127.0.0.1:${port}/m/`, { cache: false, maxAttempts: 1 }), 'NETWORK_ERROR', /ECONNREFUSED/);
  });

  it('connections dropped at once are retried; a redirect loop and server errors end in NETWORK_ERROR', async () => {
    server.fault('config.json', { kind: 'drop', times: 2 });
    await loadModel(server.url, { cache: false });
    // (fetch itself may retry a request whose kept-alive connection was closed under it)
    expect(server.count('config.json')).toBeGreaterThanOrEqual(3);
    server.fault('config.json', { kind: 'drop' });
    await expectCode(loadModel(server.url, { cache: false, maxAttempts: 2 }), 'NETWORK_ERROR', /config\.json.*2 attempt/);
    server.fault('config.json', { kind: 'redirect-loop' });
    await expectCode(loadModel(server.url, { cache: false }), 'NETWORK_ERROR', /too many redirects/);
    server.fault('config.json', { kind: 'status', status: 503 });
    await expectCode(loadModel(server.url, { cache: false, maxAttempts: 2 }), 'NETWORK_ERROR', /HTTP 503/);
  });
});

describe('#16.3 the cache records only files whose length is proven', () => {
  it('a body without Content-Length that ends early is recognised by the safetensors header: the rest is fetched, the cache holds the whole file', async () => {
    const cache_dir = tempDir();
    server.fault('model.safetensors', { kind: 'chunked-short', after: 5000, times: 1 });
    await loadModel(server.url, { cache_dir });
    expect(server.requests.filter((r) => r.path === 'model.safetensors').map((r) => r.range)).toEqual([undefined, 'bytes=5000-']);
    expect(Buffer.from((await cachedBytes(cache_dir, 'model.safetensors'))!).equals(weights)).toBe(true);
  });

  it('a short body without Content-Length every time: TRUNCATED_DOWNLOAD, nothing cached; once the server is fixed the load works', async () => {
    const cache_dir = tempDir();
    server.fault('model.safetensors', { kind: 'chunked-short', after: 5000 });
    await expectCode(loadModel(server.url, { cache_dir, maxAttempts: 2 }), 'TRUNCATED_DOWNLOAD', /5000 (of \d+ )?bytes/);
    expect(await cachedBytes(cache_dir, 'model.safetensors')).toBeUndefined();
    server.clearFaults();
    expect((await loadModel(server.url, { cache_dir })).checkpoint.size).toBeGreaterThan(0);
  });

  it('a Content-Length smaller than the file: the short file is never cached, it is fetched once more, and the error is INVALID_WEIGHTS only if it stays short', async () => {
    const cache_dir = tempDir();
    server.fault('model.safetensors', { kind: 'lie-short', length: 4000, times: 1 });
    await loadModel(server.url, { cache_dir });
    expect(server.count('model.safetensors')).toBe(2);
    expect(Buffer.from((await cachedBytes(cache_dir, 'model.safetensors'))!).equals(weights)).toBe(true);

    const again = tempDir();
    server.requests.length = 0;
    server.fault('model.safetensors', { kind: 'lie-short', length: 4000 });
    await expectCode(loadModel(server.url, { cache_dir: again }), 'INVALID_WEIGHTS', /model\.safetensors: header length \d+ does not fit a 4000-byte file/);
    expect(server.count('model.safetensors')).toBe(2);
    expect(await cachedBytes(again, 'model.safetensors')).toBeUndefined();
    // Fixed server, same cache: nothing was poisoned.
    server.clearFaults();
    expect((await loadModel(server.url, { cache_dir: again })).checkpoint.size).toBeGreaterThan(0);
  });

  it('a Content-Length bigger than the body (a clean close) is TRUNCATED_DOWNLOAD and nothing is cached', async () => {
    const cache_dir = tempDir();
    server.fault('model.safetensors', { kind: 'lie-long', extra: 100 });
    await expectCode(loadModel(server.url, { cache_dir, maxAttempts: 2 }), 'TRUNCATED_DOWNLOAD', /model\.safetensors/);
    expect(await cachedBytes(cache_dir, 'model.safetensors')).toBeUndefined();
  });

  it('a connection cut mid-file is resumed; the cached file is the whole file', async () => {
    const cache_dir = tempDir();
    server.fault('model.safetensors', { kind: 'truncate', after: 3000, times: 1 });
    await loadModel(server.url, { cache_dir });
    expect(Buffer.from((await cachedBytes(cache_dir, 'model.safetensors'))!).equals(weights)).toBe(true);
  });

  it('a file that cannot prove its length (vocab.txt without Content-Length) is used but not cached; JSON and safetensors prove themselves', async () => {
    const dir = writeTinyModelDir({ tokenizer: 'vocab' });
    temps.push(dir);
    const vocabServer = await startFaultServer(dir);
    try {
      const cache_dir = tempDir();
      for (const f of ['vocab.txt', 'config.json', 'model.safetensors']) vocabServer.fault(f, { kind: 'chunked' });
      const warnings: string[] = [];
      await loadModel(vocabServer.url, { cache_dir, warn: (m) => warnings.push(m) });
      expect(warnings.join('\n')).toMatch(/vocab\.txt is not cached/);
      const cache = directoryCache(cache_dir);
      expect(await cache.get(new URL('vocab.txt', vocabServer.url).href)).toBeUndefined();
      expect((await cache.get(new URL('config.json', vocabServer.url).href))?.meta.verified).toBe('format');
      expect((await cache.get(new URL('model.safetensors', vocabServer.url).href))?.meta.verified).toBe('format');
      vocabServer.requests.length = 0;
      await loadModel(vocabServer.url, { cache_dir });
      expect(vocabServer.requests.map((r) => r.path)).toEqual(['vocab.txt']);
    } finally {
      await vocabServer.close();
    }
  });

  it('a poisoned entry left by an older version (short file, no proof of length) is judged by its format and fetched again', async () => {
    const cache_dir = tempDir();
    const url = new URL('model.safetensors', server.url).href;
    const short = new Uint8Array(weights.subarray(0, 6000));
    await directoryCache(cache_dir).put(url, { meta: { url, status: 'ok', size: short.byteLength, sha256: await sha256Hex(short) }, bytes: short });
    const warnings: string[] = [];
    await loadModel(server.url, { cache_dir, warn: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toMatch(/cached .*model\.safetensors is corrupt \(it is incomplete/);
    expect(Buffer.from((await cachedBytes(cache_dir, 'model.safetensors'))!).equals(weights)).toBe(true);
  });

  it('a cached file that fails to parse is evicted and fetched once more before the error', async () => {
    const cache_dir = tempDir();
    const tokenizer = readFileSync(join(modelDir, 'tokenizer.json'));
    const broken = new TextEncoder().encode('{"model": {"type": "WordPiece"}}');
    // The server serves a broken tokenizer.json (with a correct length) for two requests: the
    // first load reads it, fetches it again, and fails; the broken copy is in the cache.
    server.fault('tokenizer.json', { kind: 'replace', body: broken, times: 2 });
    await expectCode(loadModel(server.url, { cache_dir }), 'INVALID_TOKENIZER', /tokenizer\.json/);
    expect(server.count('tokenizer.json')).toBe(2);
    expect(Buffer.from((await cachedBytes(cache_dir, 'tokenizer.json'))!).equals(Buffer.from(broken))).toBe(true);
    // The server is fixed: the next load finds the cached copy unreadable, evicts it and fetches the good one.
    const warnings: string[] = [];
    await loadModel(server.url, { cache_dir, warn: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toMatch(/tokenizer\.json cannot be read .*fetching it again/);
    expect(Buffer.from((await cachedBytes(cache_dir, 'tokenizer.json'))!).equals(tokenizer)).toBe(true);
    // Offline, a cached copy that fails to parse cannot be fetched again: NOT_CACHED, and it is evicted.
    const offlineDir = tempDir();
    server.fault('config.json', { kind: 'replace', body: new TextEncoder().encode('{"model_type": '), times: 2 });
    await expectCode(loadModel(server.url, { cache_dir: offlineDir }), 'INVALID_CONFIG', /config\.json is not valid JSON/);
    expect(await cachedBytes(offlineDir, 'config.json')).toBeDefined();
    await expectCode(loadModel(server.url, { cache_dir: offlineDir, offline: true }), 'NOT_CACHED', /offline: the cached .*config\.json cannot be read/);
    expect(await cachedBytes(offlineDir, 'config.json')).toBeUndefined();
  });

  it('a partial download belongs to its writer: another load resumes it only once the writer released it or died', async () => {
    const url = new URL('model.safetensors', server.url).href;
    const dir = tempDir();
    const writer = directoryCache(dir);
    const other = directoryCache(dir); // another load (its own cache object), same process
    expect(await writer.getPartial!(url)).toBeUndefined();
    await writer.appendPartial!(url, new Uint8Array(weights.subarray(0, 5000)), { total: weights.length });
    expect(await other.getPartial!(url), 'the writer is still downloading').toBeUndefined();
    await writer.releasePartial!(url);
    const claimed = await other.getPartial!(url);
    expect(claimed?.bytes.byteLength).toBe(5000);
    expect(claimed?.total).toBe(weights.length);
    expect(await writer.getPartial!(url), 'claimed once, by one load').toBeUndefined();
    // A part left by a process that died is free to take.
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.partial\.[\w-]+\.json$/.test(f));
    expect(files).toHaveLength(1);
    const info = join(dir, files[0]!);
    writeFileSync(info, JSON.stringify({ ...JSON.parse(readFileSync(info, 'utf8')), pid: dead }));
    expect((await writer.getPartial!(url))?.bytes.byteLength).toBe(5000);
  });

  it('two loads of one file at once both get the true file, and so does the cache', async () => {
    const cache_dir = tempDir();
    server.fault('model.safetensors', { kind: 'stall-body', after: 5_000_000, times: 1 });
    const first = loadModel(server.url, { cache_dir, timeout: 1500 });
    while (server.count('model.safetensors') === 0) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    const [a, b] = await Promise.all([first, loadModel(server.url, { cache_dir })]);
    const word = (m: typeof a): Buffer => Buffer.from(m.checkpoint.get('embeddings.word_embeddings.weight')!.data.buffer);
    expect(word(a).equals(word(b))).toBe(true);
    expect(Buffer.from((await cachedBytes(cache_dir, 'model.safetensors'))!).equals(weights)).toBe(true);
  });

  it('directory cache writes are atomic: no temporary file is left, and concurrent loads into one cache agree', async () => {
    const cache_dir = tempDir();
    await Promise.all([loadModel(server.url, { cache_dir }), loadModel(server.url, { cache_dir }), loadModel(server.url, { cache_dir })]);
    const all = readdirSync(cache_dir, { recursive: true, encoding: 'utf8' });
    expect(all.filter((f) => /\.tmp(\.meta)?$/.test(f))).toEqual([]);
    expect(Buffer.from((await cachedBytes(cache_dir, 'model.safetensors'))!).equals(weights)).toBe(true);
    const source = urlSource(server.url, { cache_dir, offline: true });
    expect(Buffer.from((await source.read('model.safetensors'))!).equals(weights)).toBe(true);
  });
});

describe('fault injection: random sequences of server faults never poison the cache', () => {
  it('whatever the server does to each request, a load gives the right weights or a DualbertError, and once the server behaves the cache serves the true files', async () => {
    const fc = (await import('fast-check')).default;
    const faultKind = fc.oneof(
      fc.constant(undefined),
      fc.constant({ kind: 'stall' } as const),
      fc.nat(weights.length).map((after) => ({ kind: 'stall-body', after }) as const),
      fc.nat(weights.length).map((after) => ({ kind: 'truncate', after }) as const),
      fc.nat(weights.length).map((length) => ({ kind: 'lie-short', length }) as const),
      fc.integer({ min: 1, max: 1000 }).map((extra) => ({ kind: 'lie-long', extra }) as const),
      fc.nat(weights.length).map((after) => ({ kind: 'chunked-short', after }) as const),
      fc.constant({ kind: 'chunked' } as const),
      fc.constant({ kind: 'drop' } as const),
      fc.constantFrom(500, 503, 429).map((status) => ({ kind: 'status', status }) as const),
      fc.uint8Array({ maxLength: 64 }).map((body) => ({ kind: 'replace', body }) as const),
    );
    const reference = await loadModel(modelDir);
    const word = reference.checkpoint.get('embeddings.word_embeddings.weight')!.data;
    await fc.assert(
      fc.asyncProperty(fc.array(faultKind, { maxLength: 4 }), fc.array(faultKind, { maxLength: 2 }), async (weightFaults, configFaults) => {
        server.clearFaults();
        server.faultSequence('model.safetensors', weightFaults);
        server.faultSequence('config.json', configFaults);
        const cache_dir = tempDir();
        try {
          const model = await loadModel(server.url, { cache_dir, timeout: 150, maxAttempts: 3 });
          expect(Buffer.from(model.checkpoint.get('embeddings.word_embeddings.weight')!.data.buffer).equals(Buffer.from(word.buffer))).toBe(true);
        } catch (e) {
          expect(e, String(e)).toBeInstanceOf(DualbertError);
          expect(['NETWORK_ERROR', 'TRUNCATED_DOWNLOAD', 'INVALID_WEIGHTS', 'INVALID_CONFIG']).toContain((e as DualbertError).code);
        }
        const cached = await cachedBytes(cache_dir, 'model.safetensors');
        if (cached) expect(Buffer.from(cached).equals(weights)).toBe(true);
        server.clearFaults();
        const again = await loadModel(server.url, { cache_dir });
        expect(again.checkpoint.size).toBe(reference.checkpoint.size);
        expect(Buffer.from((await cachedBytes(cache_dir, 'model.safetensors'))!).equals(weights)).toBe(true);
        expect(Buffer.from((await cachedBytes(cache_dir, 'config.json'))!).equals(readFileSync(join(modelDir, 'config.json')))).toBe(true);
      }),
      { numRuns: 15, seed: 16050 },
    );
  });
});
