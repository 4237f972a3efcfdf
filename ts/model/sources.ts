/**
 * Where model files come from. A source reads files by their path relative to the model root;
 * the loader decides which files it needs, so only those are read.
 *
 * Sources: a local directory (Node), files under a URL base (with a cache, progress, retries
 * that resume with HTTP Range, and integrity checks), the Hugging Face hub (`hf:owner/name@rev`,
 * a URL base under `<host>/<owner>/<name>/resolve/<revision>/`), and in-memory files
 * (`File`/`Blob`/`ArrayBuffer` maps, for browsers).
 */
import { isNode } from '../env.js';
import { DualbertError } from '../errors.js';
import { type CacheMeta, type FileCache, type PartialDownload, defaultCache } from './cache.js';
import { checkCompleteness } from './completeness.js';
import { DEFAULT_TIMEOUT_MS, Watchdog, checkRequestOptions, describeFetchError } from './deadline.js';

/**
 * Per-read options: the loader passes its progress hooks.
 * @example
 * await source.read('model.safetensors', { onProgress: (loaded, total) => console.log(loaded, total) });
 */
export interface ReadOptions {
  /** Called as bytes arrive from the network (first with loaded = 0); not called for local or cached reads. */
  onProgress?: (loaded: number, total: number | undefined) => void;
  /** Called when the file comes from the cache (no request made). */
  onCached?: () => void;
}

/**
 * Where a model's files come from: anything that reads a file by its path in the model.
 * @example
 * const source: ModelSource = { location: 'my store', read: async (path) => store.get(path) };
 * const embedder = await createEmbedder(source);
 */
export interface ModelSource {
  /** Human-readable location for messages, e.g. a directory path or URL. */
  readonly location: string;
  /** The bytes of a file, or undefined when the model has no such file. Other failures throw. */
  read(path: string, options?: ReadOptions): Promise<Uint8Array | undefined>;
  /**
   * Optional (network sources): forgets any cached copy of a file and reads it again from where it
   * comes from. The loader calls it once for a file that fails to parse, before reporting the error.
   */
  reload?(path: string, options?: ReadOptions): Promise<Uint8Array | undefined>;
}


/**
 * A directory on the local filesystem (Node only).
 * @example
 * const embedder = await createEmbedder(directorySource('./models/all-MiniLM-L6-v2'));
 */
export function directorySource(dir: string): ModelSource {
  return {
    location: dir,
    async read(path) {
      if (!isNode) {
        throw new DualbertError('INVALID_ARGUMENT', `a model directory ("${dir}") can only be read in Node; in a browser pass a URL`);
      }
      const { readFile } = await import('node:fs/promises');
      const { join } = await import('node:path');
      try {
        const buf = await readFile(join(dir, path));
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw new DualbertError('MISSING_FILE', `cannot read ${join(dir, path)}: ${(e as Error).message}`, { cause: e });
      }
    },
  };
}

/**
 * Options of network sources.
 * @example
 * urlSource('https://example.com/models/minilm/', { cache_dir: '/tmp/cache', maxAttempts: 5 });
 */
export interface UrlSourceOptions {
  /**
   * Where downloaded files are kept: a {@link FileCache}, or false for none. Default: a directory
   * cache in Node (`cache_dir`, else `~/.cache/dualbert`), the Cache API in browsers.
   */
  cache?: FileCache | false;
  /** Node: the directory of the default cache. */
  cache_dir?: string;
  /** Use only the cache; a file that is not cached throws `NOT_CACHED` naming it. */
  offline?: boolean;
  /** Attempts per file when a connection fails or a download is cut short (default 3); later attempts resume with Range when the server allows it. */
  maxAttempts?: number;
  /** The fetch to use (default: globalThis.fetch). */
  fetch?: typeof fetch;
  /** Called with a message when a cached file fails its check and is downloaded again. */
  warn?: (message: string) => void;
  /** Cancels loading: open requests are aborted and the load rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Milliseconds a request may wait for the server's answer, and then for each next piece of the
   * body, before the attempt is given up (and retried, up to `maxAttempts`). Default 30 000.
   * For a bound on the whole load, pass `signal: AbortSignal.timeout(ms)`.
   */
  timeout?: number;
}

/**
 * Files under a base URL (http(s) through fetch with a cache; file: URLs through the filesystem in Node).
 * @example
 * const embedder = await createEmbedder(urlSource('https://example.com/models/minilm/', { cache: false }));
 */
export function urlSource(base: string | URL, options: UrlSourceOptions = {}): ModelSource {
  checkRequestOptions(options);
  const root = new URL(base.toString().endsWith('/') ? base.toString() : `${base.toString()}/`);
  if (root.protocol === 'file:') {
    return { ...directorySourceFromFileUrl(root), location: root.href };
  }
  let cachePromise: Promise<FileCache | undefined> | undefined;
  const getCache = (): Promise<FileCache | undefined> =>
    (cachePromise ??= options.cache === false ? Promise.resolve(undefined) : options.cache ? Promise.resolve(options.cache) : defaultCache(options.cache_dir));
  const read = async (path: string, readOptions: ReadOptions, reload: boolean): Promise<Uint8Array | undefined> => {
    options.signal?.throwIfAborted();
    const url = new URL(path, root).href;
    const cache = await getCache();
    if (reload && cache) {
      // A copy that failed to parse: never read it again, whatever happens next.
      await cache.delete(url).catch(() => undefined);
      if (options.offline) {
        throw new DualbertError('NOT_CACHED', `offline: the cached ${url} cannot be read and cannot be downloaded again; load the model once online`);
      }
    }
    const cached = cache && !reload ? await readCached(cache, url, options) : undefined;
    if (cached) {
      if (cached.status === 'missing') return undefined;
      readOptions.onCached?.();
      return cached.bytes;
    }
    if (options.offline) {
      throw new DualbertError(
        'NOT_CACHED',
        `offline: ${url} is not in the cache${cache ? ` (${cache.location})` : ' (no cache is available here)'}; load the model once online first`,
      );
    }
    const partial = cache && !reload ? await partialSink(cache, url, options) : undefined;
    const result = await download(url, { ...options, ...(readOptions.onProgress ? { onProgress: readOptions.onProgress } : {}), ...(partial ? { partial } : {}) });
    if (cache && (!result || result.verified)) {
      // Only a file whose length is proven is recorded: an unproven one is fetched again next time.
      const meta: CacheMeta = result
        ? { url, status: 'ok', size: result.bytes.byteLength, sha256: result.sha256, verified: result.verified!, ...(result.etag ? { etag: result.etag } : {}) }
        : { url, status: 'missing' };
      try {
        await cache.put(url, result ? { meta, bytes: result.bytes } : { meta });
      } catch (e) {
        options.warn?.(`could not write ${url} to the cache (${cache.location}): ${(e as Error).message}`);
      }
    } else if (cache && result) {
      options.warn?.(`${url} is not cached: its length could not be verified (no size from the server, or one its format contradicts)`);
    }
    return result?.bytes;
  };
  return {
    location: root.href,
    read: (path, readOptions = {}) => read(path, readOptions, false),
    reload: (path, readOptions = {}) => read(path, readOptions, true),
  };
}

/**
 * A cached entry that passed its checks, or undefined (absent, corrupt or unproven: corrupt
 * entries are deleted). Entries written before lengths were verified (no `verified` field) are
 * judged by their format now; one that cannot prove itself is downloaded again when online.
 */
async function readCached(
  cache: FileCache,
  url: string,
  options: UrlSourceOptions,
): Promise<{ status: 'missing' } | { status: 'ok'; bytes: Uint8Array } | undefined> {
  let entry: Awaited<ReturnType<FileCache['get']>>;
  try {
    entry = await cache.get(url);
  } catch (e) {
    options.warn?.(`could not read ${url} from the cache (${cache.location}): ${(e as Error).message}`);
    return undefined;
  }
  if (!entry) return undefined;
  if (entry.meta.status === 'missing') return { status: 'missing' };
  const bytes = entry.bytes;
  let problem: string | undefined;
  if (!bytes) problem = 'the file is gone';
  else if (entry.meta.size !== bytes.byteLength) problem = `it has ${bytes.byteLength} bytes, ${entry.meta.size} were downloaded`;
  else if (!entry.meta.sha256 || (await sha256Hex(bytes)) !== entry.meta.sha256) problem = 'its sha256 does not match the downloaded file';
  else if (!entry.meta.verified) {
    const verdict = checkCompleteness(new URL(url).pathname, bytes);
    if (verdict.status === 'short') problem = `it is incomplete: ${verdict.reason}`;
    else if (verdict.status === 'unknown' && !options.offline) {
      options.warn?.(`cached ${url} was stored without a verified size: downloading it again`);
      return undefined;
    }
  }
  if (!problem) return { status: 'ok', bytes: bytes! };
  const message = `cached ${url} is corrupt (${problem})`;
  await cache.delete(url).catch(() => undefined);
  if (options.offline) throw new DualbertError('NOT_CACHED', `offline: ${message} and cannot be downloaded again; load the model once online`);
  options.warn?.(`${message}: downloading it again`);
  return undefined;
}

/** sha256 of bytes, as lowercase hex (Web Crypto: Node ≥ 20 and browsers). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/** A quoted or weak ETag that is a sha256 (the hub's `X-Linked-Etag` of LFS files), as bare hex. */
function sha256FromEtag(etag: string | null): string | undefined {
  const v = etag?.replace(/^W\//, '').replace(/"/g, '').trim().toLowerCase();
  return v && /^[0-9a-f]{64}$/.test(v) ? v : undefined;
}

interface Downloaded {
  bytes: Uint8Array;
  sha256: string;
  etag: string | undefined;
  /** How the length was proven (undefined: it was not, and the file must not be cached). */
  verified: CacheMeta['verified'];
}

interface DownloadOptions extends UrlSourceOptions {
  onProgress?: (loaded: number, total: number | undefined) => void;
  /** Where the bytes of an interrupted download are kept, so the next process can resume it. */
  partial?: PartialSink;
}

/** Keeps the bytes of a download as they arrive (in 4 MiB appends), in a cache that can. */
interface PartialSink {
  /** What an earlier, interrupted download left. */
  readonly existing: PartialDownload | undefined;
  push(bytes: Uint8Array, info: Omit<PartialDownload, 'bytes'>): Promise<void>;
  flush(): Promise<void>;
  reset(): Promise<void>;
  /** The download failed for good: flush, and let a later load resume the kept part. */
  release(): Promise<void>;
}

const PARTIAL_FLUSH_BYTES = 4 * 1024 * 1024;

async function partialSink(cache: FileCache, url: string, options: UrlSourceOptions): Promise<PartialSink | undefined> {
  const { getPartial, appendPartial, resetPartial } = cache;
  if (!getPartial || !appendPartial || !resetPartial) return undefined;
  const existing = await getPartial.call(cache, url).catch(() => undefined);
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let info: Omit<PartialDownload, 'bytes'> = {};
  let broken = false; // a failing store must not fail the download
  const guard = async (f: () => Promise<void>): Promise<void> => {
    if (broken) return;
    try {
      await f();
    } catch (e) {
      broken = true;
      options.warn?.(`could not keep the partial download of ${url} (${cache.location}): ${(e as Error).message}`);
    }
  };
  const sink: PartialSink = {
    existing,
    async push(bytes, i) {
      info = i;
      pending.push(bytes);
      pendingBytes += bytes.byteLength;
      if (pendingBytes >= PARTIAL_FLUSH_BYTES) await sink.flush();
    },
    async flush() {
      if (pendingBytes === 0) return;
      const data = concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      await guard(() => appendPartial.call(cache, url, data, info));
    },
    async reset() {
      pending = [];
      pendingBytes = 0;
      await guard(() => resetPartial.call(cache, url));
    },
    async release() {
      await sink.flush();
      await guard(async () => cache.releasePartial?.(url));
    },
  };
  return sink;
}

/**
 * Follows redirects by hand in Node so the hub's `X-Linked-Size` / `X-Linked-Etag` (sent on the
 * redirect to the LFS storage) can be read; browsers follow redirects themselves.
 */
async function fetchFollowing(
  url: string,
  headers: Record<string, string>,
  fetchFn: typeof fetch,
  signal: AbortSignal,
): Promise<{ response: Response; finalUrl: string; linkedSize: number | undefined; linkedSha: string | undefined }> {
  let current = url;
  let linkedSize: number | undefined;
  let linkedSha: string | undefined;
  for (let hops = 0; hops < 10; hops++) {
    const response = await fetchFn(current, { headers, redirect: isNode ? 'manual' : 'follow', signal });
    const size = response.headers.get('x-linked-size');
    if (size && /^\d+$/.test(size)) linkedSize = Number(size);
    linkedSha ??= sha256FromEtag(response.headers.get('x-linked-etag'));
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel().catch(() => undefined);
      current = new URL(location, current).href;
      continue;
    }
    return { response, finalUrl: current, linkedSize, linkedSha };
  }
  throw new DualbertError('NETWORK_ERROR', `cannot fetch ${url}: too many redirects`);
}

/**
 * Downloads one file: undefined on 404; retries failed, silent or cut-short transfers (resuming
 * with Range when the server answers 206), then checks the size (X-Linked-Size or
 * Content-Length), the sha256 when the server gives one, and what the file's own format says
 * about its length (see completeness.ts). Every request is bounded by `timeout` and `signal`.
 */
async function download(url: string, options: DownloadOptions): Promise<Downloaded | undefined> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const attempts = Math.max(1, options.maxAttempts ?? 3);
  const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
  const pathname = new URL(url).pathname;
  let chunks: Uint8Array[] = [];
  let loaded = 0;
  let total: number | undefined;
  let expectedSha: string | undefined;
  let etag: string | undefined;
  let resumeUrl = url;
  let lastError = '';
  const partial = options.partial;
  const existing = partial?.existing;
  if (existing) {
    // An earlier process left part of this file: ask for the rest.
    chunks = [existing.bytes];
    loaded = existing.bytes.byteLength;
    total = existing.total;
    expectedSha = existing.sha256;
    etag = existing.etag;
  }
  const restart = async (): Promise<void> => {
    chunks = [];
    loaded = 0;
    await partial?.reset();
  };
  try {
    return await attemptDownload();
  } catch (e) {
    await partial?.release();
    throw e;
  }

  async function attemptDownload(): Promise<Downloaded | undefined> {
    for (let attempt = 0; attempt < attempts; attempt++) {
      const headers: Record<string, string> = loaded > 0 ? { Range: `bytes=${loaded}-` } : {};
      if (loaded > 0 && etag && !etag.startsWith('W/')) headers['If-Range'] = etag;
      const watchdog = new Watchdog(timeout, options.signal);
      try {
        let response: Response;
        let finalUrl: string;
        let linked: { size: number | undefined; sha: string | undefined };
        try {
          const r = await fetchFollowing(loaded > 0 ? resumeUrl : url, headers, fetchFn, watchdog.signal);
          response = r.response;
          finalUrl = r.finalUrl;
          linked = { size: r.linkedSize, sha: r.linkedSha };
          if (loaded === 0) {
            total = r.linkedSize;
            expectedSha = r.linkedSha;
          }
        } catch (e) {
          options.signal?.throwIfAborted();
          if (e instanceof DualbertError && !watchdog.timedOut) throw e;
          lastError = watchdog.timedOut ? `no answer within ${timeout} ms` : describeFetchError(e);
          continue;
        }
        watchdog.touch();
        if (response.status === 404 && loaded === 0) {
          await response.body?.cancel().catch(() => undefined);
          return undefined;
        }
        if (response.status === 401 || response.status === 403) {
          throw new DualbertError('NETWORK_ERROR', `cannot fetch ${url}: HTTP ${response.status} (the repository may not exist, or be private or gated)`);
        }
        if (loaded > 0 && response.status === 206) {
          const range = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '');
          if (!range || Number(range[1]) !== loaded) {
            await response.body?.cancel().catch(() => undefined);
            await restart();
            continue;
          }
        } else if (response.status === 200) {
          if (loaded > 0) {
            // The server ignored Range (or the file changed): start over, and take the size and
            // sha256 from this response, not from the one (or the kept part) being replaced.
            await restart();
            total = linked.size;
            expectedSha = linked.sha;
          }
        } else if (response.status === 416 && loaded > 0) {
          await response.body?.cancel().catch(() => undefined);
          await restart();
          continue;
        } else {
          await response.body?.cancel().catch(() => undefined);
          lastError = `HTTP ${response.status} ${response.statusText}`;
          if (response.status >= 500 || response.status === 429 || response.status === 408) continue;
          throw new DualbertError('NETWORK_ERROR', `cannot fetch ${url}: ${lastError}`);
        }
        resumeUrl = finalUrl;
        etag ??= response.headers.get('etag') ?? undefined;
        expectedSha ??= sha256FromEtag(response.headers.get('x-linked-etag'));
        const rangeTotal = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
        if (rangeTotal && linked.size === undefined) total = Number(rangeTotal[1]); // the size the server states now
        if (total === undefined) {
          const encoding = response.headers.get('content-encoding');
          const length = response.headers.get('content-length');
          if (rangeTotal) total = Number(rangeTotal[1]);
          else if (length && /^\d+$/.test(length) && (!encoding || encoding === 'identity') && response.status === 200) total = Number(length);
        }
        options.onProgress?.(loaded, total);
        try {
          if (response.body) {
            const reader = response.body.getReader();
            for (;;) {
              const { done, value } = await reader.read();
              if (done) break;
              watchdog.touch();
              chunks.push(value);
              loaded += value.byteLength;
              await partial?.push(value, { ...(total !== undefined ? { total } : {}), ...(expectedSha ? { sha256: expectedSha } : {}), ...(etag ? { etag } : {}) });
              options.onProgress?.(loaded, total);
            }
          }
        } catch (e) {
          options.signal?.throwIfAborted();
          const why = watchdog.timedOut ? `nothing arrived for ${timeout} ms` : describeFetchError(e);
          lastError = `connection lost after ${loaded}${total !== undefined ? ` of ${total}` : ''} bytes (${why})`;
          await partial?.flush();
          continue; // resume (or restart) on the next attempt
        }
        if (total !== undefined && loaded !== total) {
          lastError = `the server sent ${loaded} of ${total} bytes`;
          if (loaded > total) await restart();
          else await partial?.flush();
          continue;
        }
        const bytes = concat(chunks, loaded);
        chunks = [bytes];
        const sha256 = await sha256Hex(bytes);
        if (expectedSha && sha256 !== expectedSha) {
          lastError = `sha256 ${sha256} does not match the server's ${expectedSha}`;
          await restart();
          continue;
        }
        let verified: CacheMeta['verified'] = expectedSha ? 'sha256' : total !== undefined ? 'length' : undefined;
        if (verified !== 'sha256') {
          // A clean end is no proof: without a size (or with a wrong one) the body may end early.
          const verdict = checkCompleteness(pathname, bytes);
          if (verdict.status === 'short' && total === undefined) {
            lastError = `the transfer ended cleanly after ${loaded} bytes, but ${verdict.reason}`;
            total = verdict.expected;
            await partial?.flush();
            continue; // ask for the rest (Range), or start over
          }
          // The announced size was met but the format says bytes are missing: the server's file is
          // short, or its size was wrong. Not proven, so not cached; the parser reports it.
          if (verdict.status === 'short' && verdict.certain) verified = undefined;
          if (verdict.status === 'complete') verified ??= 'format';
        }
        await partial?.reset();
        return { bytes, sha256, etag, verified };
      } finally {
        watchdog.dispose();
      }
    }
    if (loaded > 0 || /bytes|sha256/.test(lastError)) {
      throw new DualbertError('TRUNCATED_DOWNLOAD', `download of ${url} failed after ${attempts} attempt(s): ${lastError}`);
    }
    throw new DualbertError('NETWORK_ERROR', `cannot fetch ${url} (${attempts} attempt(s)): ${lastError}`);
  }
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]!.byteLength === length) return chunks[0]!;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** The default hub: `https://huggingface.co`, or `$HF_ENDPOINT` in Node (as huggingface_hub reads it). */
export function defaultRemoteHost(): string {
  const env = isNode ? process.env['HF_ENDPOINT'] : undefined;
  return env || 'https://huggingface.co';
}

/**
 * Options of hub sources.
 * @example
 * hubSource('BAAI/bge-small-en-v1.5', { revision: 'main', remote_host: 'https://hf-mirror.example' });
 */
export interface HubOptions extends UrlSourceOptions {
  /** A branch, tag or commit (default 'main'); `owner/name@rev` in the id wins. */
  revision?: string;
  /** The hub or a mirror (default https://huggingface.co, or $HF_ENDPOINT in Node). transformers.js calls this `env.remoteHost`. */
  remote_host?: string;
}

/** Splits "owner/name@revision" (also with a leading "hf:"). */
export function parseHubId(id: string): { repo: string; revision: string | undefined } {
  const bare = id.replace(/^hf:/, '');
  const at = bare.indexOf('@');
  const repo = at >= 0 ? bare.slice(0, at) : bare;
  const revision = at >= 0 ? bare.slice(at + 1) : undefined;
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(repo) || repo.includes('..') || revision === '') {
    throw new DualbertError('INVALID_ARGUMENT', `"${id}" is not a hub model id: expected owner/name or owner/name@revision`);
  }
  return { repo, revision };
}

/**
 * A model on the Hugging Face hub (or a mirror): files at `<host>/<owner>/<name>/resolve/<revision>/<file>`.
 * @example
 * const source = hubSource('Xenova/all-MiniLM-L6-v2', { revision: 'main' });
 */
export function hubSource(id: string, options: HubOptions = {}): ModelSource {
  const { repo, revision: fromId } = parseHubId(id);
  const revision = fromId ?? options.revision ?? 'main';
  const host = (options.remote_host ?? defaultRemoteHost()).replace(/\/+$/, '');
  const source = urlSource(`${host}/${repo}/resolve/${encodeURIComponent(revision)}/`, options);
  return { location: source.location, read: (path, o) => source.read(path, o), reload: (path, o) => source.reload!(path, o) };
}

/**
 * What a browser hands over: files of a picked directory, or buffers by path.
 * @example
 * const files: InMemoryFiles = input.files!;   // <input type="file" webkitdirectory>
 */
export type InMemoryFiles =
  | Iterable<File>
  | ReadonlyMap<string, Blob | ArrayBuffer | ArrayBufferView>
  | Readonly<Record<string, Blob | ArrayBuffer | ArrayBufferView>>;

/**
 * Model files already in memory: a `File` list (e.g. from `<input type="file" webkitdirectory>`,
 * whose paths start with the picked folder's name, which is dropped), or a map of path → Blob /
 * ArrayBuffer / typed array.
 * @example
 * const source = memorySource({ 'config.json': configBlob, 'tokenizer.json': tokBlob, 'model.safetensors': weights });
 */
export function memorySource(files: InMemoryFiles, location = 'in-memory files'): ModelSource {
  const map = new Map<string, Blob | ArrayBuffer | ArrayBufferView>();
  if (typeof (files as Iterable<File>)[Symbol.iterator] === 'function' && !(files instanceof Map)) {
    const list = [...(files as Iterable<File>)];
    const paths = list.map((f) => (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name);
    // Drop the picked folder's name when every path has the same first segment.
    const first = paths[0]?.split('/')[0];
    const common = paths.length > 0 && paths.every((p) => p.includes('/') && p.split('/')[0] === first);
    for (const [i, f] of list.entries()) map.set(common ? paths[i]!.slice(first!.length + 1) : paths[i]!, f);
  } else if (files instanceof Map) {
    for (const [k, v] of files) map.set(k.replace(/^\.?\//, ''), v);
  } else {
    for (const [k, v] of Object.entries(files as Record<string, Blob | ArrayBuffer | ArrayBufferView>)) map.set(k.replace(/^\.?\//, ''), v);
  }
  return {
    location,
    async read(path) {
      const f = map.get(path);
      if (f === undefined) return undefined;
      if (f instanceof ArrayBuffer) return new Uint8Array(f);
      if (ArrayBuffer.isView(f)) return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
      if (typeof Blob !== 'undefined' && f instanceof Blob) return new Uint8Array(await f.arrayBuffer());
      throw new DualbertError('INVALID_ARGUMENT', `${location}: "${path}" is not a Blob, File, ArrayBuffer or typed array`);
    },
  };
}

function directorySourceFromFileUrl(url: URL): ModelSource {
  // fileURLToPath without importing node:url at module load (keeps the module browser-safe).
  const path = decodeURIComponent(url.pathname);
  return directorySource(path);
}

/** The all-MiniLM-L6-v2 tokenizer files shipped in the package (used by the synthetic models). */
export function bundledTokenizerSource(): ModelSource {
  return urlSource(new URL('../../assets/all-MiniLM-L6-v2/', import.meta.url), { cache: false });
}

/** Decodes a file as UTF-8 text. */
export function utf8(bytes: Uint8Array): string {
  return new TextDecoder('utf-8').decode(bytes);
}

/** Reads and parses a JSON file; undefined when absent; INVALID_CONFIG naming the file when malformed. */
export async function readJson(source: ModelSource, path: string, options?: ReadOptions): Promise<unknown | undefined> {
  const bytes = await source.read(path, options);
  if (!bytes) return undefined;
  try {
    return JSON.parse(utf8(bytes));
  } catch (e) {
    throw new DualbertError('INVALID_CONFIG', `${source.location.replace(/\/+$/, '')}/${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}
