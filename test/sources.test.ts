/**
 * Model sources over the network, against a loopback server that serves model directories the
 * way the hub does (302 to LFS with X-Linked-Size / X-Linked-Etag): hub ids and mirrors, URL
 * bases, the cache (a second load makes no request), progress events, offline mode, corrupt cache
 * entries, dropped connections (resumed with Range, or restarted), integrity failures, HTTP errors,
 * and in-memory File/Blob sources.
 */
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmbedder, DualbertError, loadModel } from '../ts/index.js';
import type { ProgressEvent } from '../ts/index.js';
import { hubSource, memorySource, urlSource } from '../ts/model/sources.js';
import { loadGolden, maxAbsDiff } from './helpers/golden.js';
import { writeTinyModelDir } from './helpers/model-dir.js';
import { type ModelServer, startModelServer } from './helpers/model-server.js';

const golden = loadGolden('tiny');
const texts = readFileSync(new URL('./fixtures/golden/texts.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => (JSON.parse(l) as { text: string }).text)
  .slice(0, 4);

const temps: string[] = [];
const tempDir = (prefix = 'dualbert-cache-'): string => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
};

let modelDir: string;
let server: ModelServer;
beforeAll(async () => {
  modelDir = writeTinyModelDir();
  temps.push(modelDir);
  server = await startModelServer({ 'acme/tiny': modelDir, 'acme/tiny@v1.0': modelDir }, { tiny: modelDir });
});
afterAll(async () => {
  await server.close();
  temps.forEach((d) => rmSync(d, { recursive: true, force: true }));
});
beforeEach(() => {
  server.requests.length = 0;
  server.faults = new Map();
  server.ranges = true;
});

async function expectCode(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<DualbertError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected a rejection').toBeInstanceOf(DualbertError);
  expect((e as DualbertError).code, (e as Error).message).toBe(code);
  expect((e as Error).message).toMatch(pattern);
  return e as DualbertError;
}

/** Embeds the first golden texts and compares with the golden mean vectors. */
async function checkGolden(model: Parameters<typeof createEmbedder>[0], options: Parameters<typeof createEmbedder>[1] = {}): Promise<void> {
  const embedder = await createEmbedder(model, { device: 'reference', ...options });
  const { data } = await embedder.embed(texts);
  texts.forEach((_, i) => expect(maxAbsDiff(data.subarray(i * 64, (i + 1) * 64), golden.texts[i]!.mean), `text ${i}`).toBeLessThanOrEqual(1e-6));
  embedder.dispose();
}

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile()).map((f) => relative(dir, join(dir, f)));

describe('hub ids through a mirror, with a cache', () => {
  it('hf:owner/name downloads only what the model needs, with progress, into the cache; a second load makes no request', async () => {
    const cache_dir = tempDir();
    const events: ProgressEvent[] = [];
    await checkGolden('hf:acme/tiny', { remote_host: server.url, cache_dir, progress_callback: (e) => events.push(e) });

    // Hub URLs: /acme/tiny/resolve/main/<file>, redirected to the LFS store.
    const hubPaths = server.requests.filter((r) => r.path.startsWith('/acme/')).map((r) => r.path);
    expect(hubPaths).toContain('/acme/tiny/resolve/main/config.json');
    expect(hubPaths).toContain('/acme/tiny/resolve/main/model.safetensors');
    // Only the needed files: no vocab.txt (tokenizer.json exists), no ONNX, no pytorch_model.bin.
    expect(hubPaths.some((p) => /vocab\.txt|\.onnx|pytorch_model/.test(p))).toBe(false);

    // Progress: initiate → download/progress (loaded/total bytes) → done per file, then ready.
    const forWeights = events.filter((e) => 'file' in e && e.file === 'model.safetensors');
    expect(forWeights[0]!.status).toBe('initiate');
    const downloads = forWeights.filter((e) => e.status === 'download') as Extract<ProgressEvent, { status: 'download' }>[];
    const size = statSync(join(modelDir, 'model.safetensors')).size;
    expect(downloads.length).toBeGreaterThan(1);
    expect(downloads[0]!.loaded).toBe(0);
    expect(downloads.at(-1)!.loaded).toBe(size);
    expect(downloads.every((d) => d.total === size)).toBe(true);
    const progress = forWeights.filter((e) => e.status === 'progress') as Extract<ProgressEvent, { status: 'progress' }>[];
    expect(progress.at(-1)!.progress).toBe(100);
    expect(forWeights.at(-1)).toMatchObject({ status: 'done', bytes: size });
    expect(events.at(-1)).toMatchObject({ status: 'ready', name: 'hf:acme/tiny' });

    // The cache: readable paths, one meta file beside each.
    const cached = filesUnder(cache_dir);
    expect(cached).toContain(join('127.0.0.1_' + new URL(server.url).port, 'acme', 'tiny', 'resolve', 'main', 'model.safetensors'));

    // Second load: no request at all (404s are remembered too), done events marked cached, no downloads.
    server.requests.length = 0;
    const again: ProgressEvent[] = [];
    await checkGolden('hf:acme/tiny', { remote_host: server.url, cache_dir, progress_callback: (e) => again.push(e) });
    expect(server.requests).toEqual([]);
    expect(again.some((e) => e.status === 'download')).toBe(false);
    expect(again.find((e) => e.status === 'done' && e.file === 'model.safetensors')).toMatchObject({ cached: true });

    // Offline from the cache works; offline with an empty cache names the missing file.
    await checkGolden('hf:acme/tiny', { remote_host: server.url, cache_dir, offline: true });
    expect(server.requests).toEqual([]);
    await expectCode(createEmbedder('hf:acme/tiny', { remote_host: server.url, cache_dir: tempDir(), offline: true }), 'NOT_CACHED', /offline: .*acme\/tiny\/resolve\/main\/config\.json is not in the cache/);
    expect(server.requests).toEqual([]);
  });

  it('a revision in the id (or the revision option) picks the resolve path; a bare owner/name that is no directory is a hub id', async () => {
    await checkGolden('hf:acme/tiny@v1.0', { remote_host: server.url, cache: false });
    expect(server.requests[0]!.path).toBe('/acme/tiny/resolve/v1.0/config.json');
    server.requests.length = 0;
    await checkGolden('acme/tiny', { remote_host: server.url, cache: false, revision: 'v1.0' });
    expect(server.requests[0]!.path).toBe('/acme/tiny/resolve/v1.0/config.json');
    expect(hubSource('acme/tiny@refs/pr/1', { remote_host: 'https://mirror.example/' }).location).toBe('https://mirror.example/acme/tiny/resolve/refs%2Fpr%2F1/');
    expect(hubSource('acme/tiny').location).toMatch(/^https:\/\/huggingface\.co\/acme\/tiny\/resolve\/main\/$|^.*\/acme\/tiny\/resolve\/main\/$/);
    expect(() => hubSource('not a repo')).toThrow(/not a hub model id/);
  });

  it('a corrupt or truncated cache entry is detected (size, sha256) and downloaded again', async () => {
    const cache_dir = tempDir();
    await loadModel('hf:acme/tiny', { remote_host: server.url, cache_dir });
    const cachedWeights = join(cache_dir, filesUnder(cache_dir).find((f) => f.endsWith('model.safetensors'))!);

    // One flipped byte: same size, wrong sha256.
    const bytes = readFileSync(cachedWeights);
    bytes[bytes.length - 7] = bytes[bytes.length - 7]! ^ 0xff;
    writeFileSync(cachedWeights, bytes);
    server.requests.length = 0;
    const warnings: string[] = [];
    await checkGolden('hf:acme/tiny', { remote_host: server.url, cache_dir, warn: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toMatch(/model\.safetensors is corrupt \(its sha256 does not match/);
    expect(server.count('/resolve/main/model.safetensors')).toBe(1);
    expect(server.count('/resolve/main/config.json')).toBe(0);

    // Cut short: size mismatch. Offline, it is an error naming the file; online, it is fetched again.
    writeFileSync(cachedWeights, readFileSync(cachedWeights).subarray(0, 1000));
    await expectCode(loadModel('hf:acme/tiny', { remote_host: server.url, cache_dir, offline: true }), 'NOT_CACHED', /model\.safetensors is corrupt \(it has 1000 bytes/);
    server.requests.length = 0;
    await checkGolden('hf:acme/tiny', { remote_host: server.url, cache_dir });
    expect(server.count('/resolve/main/model.safetensors')).toBe(1);
  });
});

describe('downloads that fail', () => {
  it('a connection dropped mid-file is resumed with Range', async () => {
    server.faults.set('model.safetensors', { cutAfter: 3_000_000, times: 1 });
    await checkGolden('hf:acme/tiny', { remote_host: server.url, cache: false });
    const lfs = server.requests.filter((r) => r.path.startsWith('/lfs/') && r.path.endsWith('model.safetensors'));
    expect(lfs.map((r) => [r.range, r.status])).toEqual([
      [undefined, 200],
      [expect.stringMatching(/^bytes=\d+-$/), 206],
    ]);
    expect(Number(/\d+/.exec(lfs[1]!.range!)![0])).toBeGreaterThan(0);
  });

  it('a download that failed for good is kept in the cache and resumed by the next load (another process) with Range', async () => {
    const cache_dir = tempDir();
    server.faults.set('model.safetensors', { cutAfter: 3_000_000 });
    await expect(loadModel('hf:acme/tiny', { remote_host: server.url, cache_dir, maxAttempts: 1 })).rejects.toMatchObject({ code: 'TRUNCATED_DOWNLOAD' });
    const partial = filesUnder(cache_dir).find((f) => /model\.safetensors\.partial\.[\w-]+$/.test(f))!;
    expect(partial).toBeDefined();
    const kept = statSync(join(cache_dir, partial)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(3_000_000);

    server.faults = new Map();
    server.requests.length = 0;
    await checkGolden('hf:acme/tiny', { remote_host: server.url, cache_dir });
    const lfs = server.requests.filter((r) => r.path.startsWith('/lfs/') && r.path.endsWith('model.safetensors'));
    expect(lfs.map((r) => [r.range, r.status])).toEqual([[`bytes=${kept}-`, 206]]);
    expect(filesUnder(cache_dir).some((f) => f.includes('.partial'))).toBe(false);

    // A kept part the server will not continue (no Range support) is dropped and the file fetched whole.
    const cache2 = tempDir();
    server.faults.set('model.safetensors', { cutAfter: 2_000_000, times: 1 });
    await expect(loadModel('hf:acme/tiny', { remote_host: server.url, cache_dir: cache2, maxAttempts: 1 })).rejects.toMatchObject({ code: 'TRUNCATED_DOWNLOAD' });
    server.ranges = false;
    server.requests.length = 0;
    await checkGolden('hf:acme/tiny', { remote_host: server.url, cache_dir: cache2 });
    expect(server.requests.filter((r) => r.path.startsWith('/lfs/') && r.path.endsWith('model.safetensors')).map((r) => r.status)).toEqual([200]);
  });

  it('without Range support the download restarts from the beginning', async () => {
    server.ranges = false;
    server.faults.set('model.safetensors', { cutAfter: 2_000_000, times: 1 });
    await checkGolden(urlSource(`${server.url}/plain/tiny/`, { cache: false }));
    expect(server.requests.filter((r) => r.path.endsWith('model.safetensors')).map((r) => r.status)).toEqual([200, 200]);
  });

  it('a connection that always drops: TRUNCATED_DOWNLOAD naming the file and the bytes received', async () => {
    server.faults.set('model.safetensors', { cutAfter: 1_000_000 });
    const e = await expectCode(loadModel('hf:acme/tiny', { remote_host: server.url, cache: false }), 'TRUNCATED_DOWNLOAD', /model\.safetensors failed after 3 attempt\(s\): connection lost after \d+ of \d+ bytes/);
    expect(e.message).toContain('/acme/tiny/resolve/main/model.safetensors');
  });

  it('a body shorter than its Content-Length, and a sha256 that does not match the hub, are errors (never wrong weights)', async () => {
    server.ranges = false;
    server.faults.set('model.safetensors', { shortBody: 100 });
    await expectCode(loadModel(urlSource(`${server.url}/plain/tiny/`, { cache: false, maxAttempts: 2 })), 'TRUNCATED_DOWNLOAD', /model\.safetensors failed after 2 attempt\(s\): (the server sent \d+ of \d+ bytes|connection lost)/);
    server.faults = new Map([['model.safetensors', { wrongSha256: true }]]);
    const cache_dir = tempDir();
    await expectCode(loadModel('hf:acme/tiny', { remote_host: server.url, cache_dir }), 'TRUNCATED_DOWNLOAD', /sha256 [0-9a-f]{64} does not match the server's 0{64}/);
    expect(filesUnder(cache_dir).some((f) => f.endsWith('model.safetensors'))).toBe(false); // nothing bad was cached
  });

  it('HTTP errors: unknown repository (401), missing config (404), server errors after retries, nothing listening', async () => {
    await expectCode(loadModel('hf:acme/nope', { remote_host: server.url, cache: false }), 'NETWORK_ERROR', /acme\/nope\/resolve\/main\/config\.json: HTTP 401 \(the repository may not exist/);
    await expectCode(loadModel(urlSource(`${server.url}/plain/nothing/`, { cache: false })), 'MODEL_NOT_FOUND', /plain\/nothing\/: no config\.json/);
    server.faults.set('tokenizer.json', { status: 503 });
    await expectCode(loadModel('hf:acme/tiny', { remote_host: server.url, cache: false }), 'NETWORK_ERROR', /tokenizer\.json \(3 attempt\(s\)\): HTTP 503/);
    expect(server.count('/lfs/acme%2Ftiny%40main/tokenizer.json') + server.count('tokenizer.json')).toBeGreaterThanOrEqual(3);
    const closed = await startModelServer({});
    const url = closed.url;
    await closed.close();
    await expectCode(loadModel(`hf:acme/tiny`, { remote_host: url, cache: false, maxAttempts: 1 }), 'NETWORK_ERROR', /cannot fetch http:\/\/127\.0\.0\.1:\d+\/acme\/tiny\/resolve\/main\/config\.json/);
  });
});

describe('URL bases and in-memory files', () => {
  it('an http URL base (cached under cache_dir) gives the golden vectors', async () => {
    const cache_dir = tempDir();
    await checkGolden(`${server.url}/plain/tiny`, { cache_dir });
    server.requests.length = 0;
    await checkGolden(`${server.url}/plain/tiny/`, { cache_dir });
    expect(server.requests).toEqual([]);
  });

  it('File objects from a picked directory (webkitRelativePath), Blobs and ArrayBuffers by path', async () => {
    const files = filesUnder(modelDir).map((p) => {
      const f = new File([readFileSync(join(modelDir, p))], p.split('/').pop()!);
      Object.defineProperty(f, 'webkitRelativePath', { value: `picked/${p}` });
      return f;
    });
    await checkGolden(memorySource(files));
    const map: Record<string, Blob | ArrayBuffer | Uint8Array> = {};
    for (const p of filesUnder(modelDir)) {
      const b = readFileSync(join(modelDir, p));
      map[p] = p.endsWith('.json') ? new Blob([b]) : p.endsWith('.safetensors') ? b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) : new Uint8Array(b);
    }
    await checkGolden(memorySource(map, 'my files'));
    await expectCode(createEmbedder(memorySource({}, 'empty picker')), 'MODEL_NOT_FOUND', /empty picker: no config\.json/);
  });
});
