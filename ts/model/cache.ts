/**
 * Where downloaded model files are kept: a directory in Node (`~/.cache/dualbert` by default),
 * the Cache API in browsers. A store only keeps bytes and what we know about them; whether a
 * cached file can be trusted (its size and sha256 against what was recorded when it was
 * downloaded) is checked by the source that reads it (`sources.ts`).
 */

/**
 * What is recorded with a cached file.
 * @example
 * const meta: CacheMeta = { url, status: 'ok', size: bytes.byteLength, sha256 };
 */
export interface CacheMeta {
  /** The URL the file was downloaded from (after the revision was resolved in the path). */
  readonly url: string;
  /** 'missing': the server answered 404, so the model has no such file (remembered so a second load makes no request). */
  readonly status: 'ok' | 'missing';
  /** Bytes of the file. */
  readonly size?: number;
  /** sha256 (hex) of the file as downloaded and verified. */
  readonly sha256?: string;
  /**
   * How the file was proven whole when it was downloaded: its sha256 matched the server's, its
   * length matched the size the server announced, or its own format (e.g. safetensors header
   * offsets) accounts for every byte. Entries without it (older caches) are judged again on load.
   */
  readonly verified?: 'sha256' | 'length' | 'format';
  /** The server's ETag, for reference. */
  readonly etag?: string;
}

/**
 * A cached file and what is recorded with it.
 * @example
 * const entry = await cache.get(url);   // { meta, bytes } or undefined
 */
export interface CacheEntry {
  readonly meta: CacheMeta;
  /** The file's bytes (absent for 'missing' entries). */
  readonly bytes?: Uint8Array;
}

/**
 * The bytes of a download that was cut short, kept so a later attempt (in this process or the
 * next) can resume with an HTTP Range request.
 * @example
 * const partial = await cache.getPartial?.(url);   // { bytes, total, sha256, etag } or undefined
 */
export interface PartialDownload {
  readonly bytes: Uint8Array;
  /** The full size, when the server gave it. */
  readonly total?: number;
  /** The sha256 the server announced for the full file. */
  readonly sha256?: string;
  /** The ETag of the response the bytes came from (sent as If-Range when resuming). */
  readonly etag?: string;
}

/**
 * A key-value store of downloaded files, keyed by URL. Pass one as `cache` to use your own storage.
 * @example
 * const memory = new Map<string, CacheEntry>();
 * const cache: FileCache = { location: 'memory', get: async (u) => memory.get(u), put: async (u, e) => void memory.set(u, e), delete: async (u) => void memory.delete(u) };
 */
export interface FileCache {
  /** For messages: a directory, or "browser Cache API (dualbert)". */
  readonly location: string;
  /** The entry of a URL, or undefined. */
  get(url: string): Promise<CacheEntry | undefined>;
  /** Stores (or replaces) the entry of a URL. */
  put(url: string, entry: CacheEntry): Promise<void>;
  /** Removes the entry of a URL (a corrupt one, before it is downloaded again). */
  delete(url: string): Promise<void>;
  /** Optional: the kept part of an interrupted download of a URL. */
  getPartial?(url: string): Promise<PartialDownload | undefined>;
  /** Optional: appends bytes to the kept part (`info` is recorded on the first append after a reset). */
  appendPartial?(url: string, bytes: Uint8Array, info: Omit<PartialDownload, 'bytes'>): Promise<void>;
  /** Optional: forgets the kept part (download finished, or the server sent the file from the start). */
  resetPartial?(url: string): Promise<void>;
  /** Optional: the download stopped for now; another load (in this process or the next) may resume the kept part. */
  releasePartial?(url: string): Promise<void>;
}

const isNode = (): boolean => typeof process !== 'undefined' && !!process.versions?.node;

/** A file-system path segment for each part of a URL: host, then path segments (percent-encoded when unsafe). */
function urlToRelativePath(url: string): string[] {
  const u = new URL(url);
  const host = u.port ? `${u.hostname}_${u.port}` : u.hostname;
  const segments = u.pathname.split('/').filter((s) => s.length > 0).map((s) => decodeURIComponent(s));
  return [host, ...segments].map((s) => (s === '.' || s === '..' ? encodeURIComponent(s).replace(/\./g, '%2E') : s.replace(/[^\w.@+=,-]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)));
}

const META_SUFFIX = '.dualbert-meta.json';

/**
 * A directory cache (Node): `<dir>/<host>/<url path>`, e.g.
 * `~/.cache/dualbert/huggingface.co/Xenova/all-MiniLM-L6-v2/resolve/main/onnx/model.onnx`,
 * with `<file>.dualbert-meta.json` beside each file. Writes go to a temporary file first and are
 * renamed into place, so an interrupted write never leaves a half file under the real name.
 * @example
 * const embedder = await createEmbedder('hf:BAAI/bge-small-en-v1.5', { cache: directoryCache('/data/dualbert') });
 */
export function directoryCache(dir: string): FileCache {
  const paths = async (url: string): Promise<{ file: string; meta: string }> => {
    const { join } = await import('node:path');
    const file = join(dir, ...urlToRelativePath(url));
    return { file, meta: file + META_SUFFIX };
  };
  // This cache's writer name per URL, for the partial downloads it keeps (see getPartial).
  const writers = new Map<string, string>();
  const partialPath = (file: string, url: string): string => {
    let w = writers.get(url);
    if (!w) {
      w = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
      writers.set(url, w);
    }
    return `${file}.partial.${w}`;
  };
  return {
    location: dir,
    async get(url) {
      const fs = await import('node:fs/promises');
      const p = await paths(url);
      let meta: CacheMeta;
      try {
        meta = JSON.parse(await fs.readFile(p.meta, 'utf8')) as CacheMeta;
      } catch {
        return undefined;
      }
      if (meta.status === 'missing') return { meta };
      try {
        const buf = await fs.readFile(p.file);
        return { meta, bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) };
      } catch {
        return { meta }; // meta without its file: the source sees a size mismatch and downloads again
      }
    },
    async put(url, entry) {
      const fs = await import('node:fs/promises');
      const { dirname } = await import('node:path');
      const p = await paths(url);
      await fs.mkdir(dirname(p.file), { recursive: true });
      // Unique per write (two processes, or two loads in one, may write the same file at once).
      const tmp = `${p.file}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2, 10)}.tmp`;
      try {
        // The old meta goes first: between the two renames a reader finds no entry, never a
        // record that describes other bytes.
        await fs.rm(p.meta, { force: true });
        if (entry.bytes) {
          await fs.writeFile(tmp, entry.bytes);
          await fs.rename(tmp, p.file);
        }
        await fs.writeFile(`${tmp}.meta`, JSON.stringify(entry.meta));
        await fs.rename(`${tmp}.meta`, p.meta);
      } finally {
        await fs.rm(tmp, { force: true }).catch(() => undefined);
        await fs.rm(`${tmp}.meta`, { force: true }).catch(() => undefined);
      }
    },
    async delete(url) {
      const fs = await import('node:fs/promises');
      const p = await paths(url);
      await fs.rm(p.meta, { force: true });
      await fs.rm(p.file, { force: true });
    },
    // Interrupted downloads: <file>.partial.<writer> (bytes so far) and <file>.partial.<writer>.json
    // (what they belong to, and the writing process). Each load writes its own file: two loads of
    // one file at once (two processes, or two in one) must never interleave their bytes, or a
    // later resume would build a file of the right length from the wrong bytes. A load resumes
    // only a part whose writer is gone (its process died, or it gave up and released it), and
    // claims it with an atomic rename, so no two loads resume the same part.
    async getPartial(url) {
      const fs = await import('node:fs/promises');
      const { basename, dirname, join } = await import('node:path');
      const p = await paths(url);
      const prefix = `${basename(p.file)}.partial.`;
      let names: string[];
      try {
        names = await fs.readdir(dirname(p.file));
      } catch {
        return undefined;
      }
      for (const name of names) {
        if (!name.startsWith(prefix) || name.endsWith('.json') || name.endsWith('.tmp')) continue;
        const data = join(dirname(p.file), name);
        try {
          const info = JSON.parse(await fs.readFile(`${data}.json`, 'utf8')) as PartialInfo;
          if (info.url !== url || (!info.released && writerAlive(info.pid))) continue;
          const mine = partialPath(p.file, url);
          await fs.rename(data, mine); // fails if another load claimed it first
          await fs.rm(`${data}.json`, { force: true });
          const { url: _u, pid: _p, released: _r, ...rest } = info;
          await fs.writeFile(`${mine}.json`, JSON.stringify({ ...rest, url, pid: process.pid }));
          const buf = await fs.readFile(mine);
          if (buf.byteLength === 0) continue;
          return { ...rest, bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) };
        } catch {
          // claimed by someone else, or unreadable: try the next one
        }
      }
      return undefined;
    },
    async appendPartial(url, bytes, info) {
      const fs = await import('node:fs/promises');
      const { dirname } = await import('node:path');
      const p = await paths(url);
      const mine = partialPath(p.file, url);
      const exists = await fs.stat(`${mine}.json`).then(
        () => true,
        () => false,
      );
      if (!exists) {
        await fs.mkdir(dirname(p.file), { recursive: true });
        await fs.writeFile(mine, new Uint8Array(0));
        await fs.writeFile(`${mine}.json`, JSON.stringify({ ...info, url, pid: process.pid } satisfies PartialInfo));
      }
      await fs.appendFile(mine, bytes);
    },
    async resetPartial(url) {
      const fs = await import('node:fs/promises');
      const mine = partialPath((await paths(url)).file, url);
      await fs.rm(`${mine}.json`, { force: true });
      await fs.rm(mine, { force: true });
      writers.delete(url);
    },
    async releasePartial(url) {
      const fs = await import('node:fs/promises');
      const mine = partialPath((await paths(url)).file, url);
      try {
        const info = JSON.parse(await fs.readFile(`${mine}.json`, 'utf8')) as PartialInfo;
        await fs.writeFile(`${mine}.json`, JSON.stringify({ ...info, released: true }));
      } catch {
        // nothing kept
      }
      writers.delete(url);
    },
  };
}

/** What `<file>.partial.<writer>.json` records. */
type PartialInfo = Omit<PartialDownload, 'bytes'> & { url: string; pid: number; released?: boolean };

/** Whether the process that wrote a partial download still runs (then its part is not ours to take). */
function writerAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true; // another load of this process, still downloading (it would have released it)
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Options of {@link browserCache}.
 * @example const cache = browserCache('dualbert-models', { opfsAbove: 64 * 2 ** 20 });
 */
export interface BrowserCacheOptions {
  /**
   * Files of at least this many bytes go to the origin private file system (OPFS) where the
   * browser has it, the rest to the Cache API. Default 32 MiB; Infinity keeps everything in the Cache API.
   */
  opfsAbove?: number;
}

/**
 * The browser's storage for downloaded models: the Cache API (`caches.open(name)`, keyed by URL,
 * what we record travels in headers), and the origin private file system for large files where
 * the browser has it (see {@link BrowserCacheOptions}).
 * @example
 * const embedder = await createEmbedder('hf:Xenova/all-MiniLM-L6-v2', { cache: browserCache('my-app-models') });
 */
export function browserCache(name = 'dualbert', options: BrowserCacheOptions = {}): FileCache {
  const small = cacheApiStore(name);
  const threshold = options.opfsAbove ?? 32 * 1024 * 1024;
  if (!hasOpfs() || threshold === Infinity) return small;
  const large = opfsCache(name);
  return {
    location: `${small.location} and OPFS (${name}/) for files of ${threshold} bytes or more`,
    async get(url) {
      return (await small.get(url)) ?? (await large.get(url).catch(() => undefined));
    },
    async put(url, entry) {
      if (entry.bytes && entry.bytes.byteLength >= threshold) {
        await large.put(url, entry);
        await small.delete(url);
      } else {
        await small.put(url, entry);
        await large.delete(url).catch(() => undefined);
      }
    },
    async delete(url) {
      await small.delete(url);
      await large.delete(url).catch(() => undefined);
    },
  };
}

/** Whether this browser has the origin private file system. */
export function hasOpfs(): boolean {
  return typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function';
}

/**
 * The origin private file system (OPFS): files at `<name>/<host>/<url path>` with
 * `<file>.dualbert-meta.json` beside them; each write is committed whole when its stream closes.
 * @example
 * const embedder = await createEmbedder('hf:BAAI/bge-base-en-v1.5', { cache: opfsCache() });
 */
export function opfsCache(name = 'dualbert'): FileCache {
  const dirOf = async (segments: string[], create: boolean): Promise<FileSystemDirectoryHandle | undefined> => {
    let dir = await navigator.storage.getDirectory();
    for (const s of [name, ...segments]) {
      try {
        dir = await dir.getDirectoryHandle(s, { create });
      } catch {
        return undefined;
      }
    }
    return dir;
  };
  const split = (url: string): { dirs: string[]; file: string } => {
    const parts = urlToRelativePath(url);
    return { dirs: parts.slice(0, -1), file: parts.at(-1)! };
  };
  const readText = async (dir: FileSystemDirectoryHandle, file: string): Promise<string | undefined> => {
    try {
      return await (await (await dir.getFileHandle(file)).getFile()).text();
    } catch {
      return undefined;
    }
  };
  const write = async (dir: FileSystemDirectoryHandle, file: string, data: Uint8Array | string): Promise<void> => {
    const w = await (await dir.getFileHandle(file, { create: true })).createWritable();
    await w.write(data as Uint8Array<ArrayBuffer> | string);
    await w.close();
  };
  return {
    location: `OPFS (${name}/)`,
    async get(url) {
      const { dirs, file } = split(url);
      const dir = await dirOf(dirs, false);
      const raw = dir && (await readText(dir, file + META_SUFFIX));
      if (!dir || !raw) return undefined;
      const meta = JSON.parse(raw) as CacheMeta;
      if (meta.status === 'missing') return { meta };
      try {
        return { meta, bytes: new Uint8Array(await (await (await dir.getFileHandle(file)).getFile()).arrayBuffer()) };
      } catch {
        return { meta };
      }
    },
    async put(url, entry) {
      const { dirs, file } = split(url);
      const dir = (await dirOf(dirs, true))!;
      // The old record goes first, so a write cut short never pairs it with other bytes.
      await dir.removeEntry(file + META_SUFFIX).catch(() => undefined);
      if (entry.bytes) await write(dir, file, entry.bytes);
      await write(dir, file + META_SUFFIX, JSON.stringify(entry.meta));
    },
    async delete(url) {
      const { dirs, file } = split(url);
      const dir = await dirOf(dirs, false);
      if (!dir) return;
      await dir.removeEntry(file + META_SUFFIX).catch(() => undefined);
      await dir.removeEntry(file).catch(() => undefined);
    },
  };
}

/** The Cache API part of {@link browserCache}. */
function cacheApiStore(name: string): FileCache {
  const open = async (): Promise<Cache> => caches.open(name);
  return {
    location: `browser Cache API (${name})`,
    async get(url) {
      const res = await (await open()).match(url);
      if (!res) return undefined;
      const raw = res.headers.get('x-dualbert-meta');
      if (!raw) return undefined;
      let meta: CacheMeta;
      try {
        meta = JSON.parse(raw) as CacheMeta;
      } catch {
        return undefined;
      }
      if (meta.status === 'missing') return { meta };
      return { meta, bytes: new Uint8Array(await res.arrayBuffer()) };
    },
    async put(url, entry) {
      const body = entry.bytes ? new Blob([entry.bytes as Uint8Array<ArrayBuffer>]) : null;
      await (await open()).put(url, new Response(body, { headers: { 'x-dualbert-meta': JSON.stringify(entry.meta), 'content-type': 'application/octet-stream' } }));
    },
    async delete(url) {
      await (await open()).delete(url);
    },
  };
}

/** `~/.cache/dualbert` (or `$DUALBERT_CACHE`, or `$XDG_CACHE_HOME/dualbert`). Node only. */
export async function defaultCacheDir(): Promise<string> {
  const { homedir } = await import('node:os');
  const { join } = await import('node:path');
  const env = process.env;
  if (env['DUALBERT_CACHE']) return env['DUALBERT_CACHE'];
  return join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'dualbert');
}

/**
 * The cache to use by default: the directory cache in Node (at `cacheDir` when given), the Cache
 * API in browsers that have it, none otherwise.
 */
export async function defaultCache(cacheDir?: string): Promise<FileCache | undefined> {
  if (isNode()) return directoryCache(cacheDir ?? (await defaultCacheDir()));
  if (typeof caches !== 'undefined') return browserCache();
  return undefined;
}
