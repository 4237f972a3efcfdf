/**
 * Where model files come from. A source reads files by their path relative to the model root;
 * the loader decides which files it needs, so only those are read.
 */
import { DualbertError } from '../errors.js';

export interface ModelSource {
  /** Human-readable location for messages, e.g. a directory path or URL. */
  readonly location: string;
  /** The bytes of a file, or undefined when the model has no such file. Other failures throw. */
  read(path: string): Promise<Uint8Array | undefined>;
}

const isNode = (): boolean => typeof process !== 'undefined' && !!process.versions?.node;

/** A directory on the local filesystem (Node only). */
export function directorySource(dir: string): ModelSource {
  return {
    location: dir,
    async read(path) {
      if (!isNode()) {
        throw new DualbertError('INVALID_ARGUMENT', `a model directory ("${dir}") can only be read in Node; in a browser pass a URL`);
      }
      const { readFile } = await import('node:fs/promises');
      const { join } = await import('node:path');
      try {
        const buf = await readFile(join(dir, path));
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return undefined;
        throw new DualbertError('MISSING_FILE', `cannot read ${join(dir, path)}: ${(e as Error).message}`, { cause: e });
      }
    },
  };
}

/** Files under a base URL (http(s) through fetch; file: URLs through the filesystem in Node). */
export function urlSource(base: string | URL): ModelSource {
  const root = new URL(base.toString().endsWith('/') ? base.toString() : `${base.toString()}/`);
  if (root.protocol === 'file:') {
    return { ...directorySourceFromFileUrl(root), location: root.href };
  }
  return {
    location: root.href,
    async read(path) {
      const url = new URL(path, root);
      let response: Response;
      try {
        response = await fetch(url);
      } catch (e) {
        throw new DualbertError('MISSING_FILE', `cannot fetch ${url.href}: ${(e as Error).message}`, { cause: e });
      }
      if (response.status === 404) return undefined;
      if (!response.ok) throw new DualbertError('MISSING_FILE', `cannot fetch ${url.href}: HTTP ${response.status} ${response.statusText}`);
      return new Uint8Array(await response.arrayBuffer());
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
  return urlSource(new URL('../../assets/all-MiniLM-L6-v2/', import.meta.url));
}

/** Decodes a file as UTF-8 text. */
export function utf8(bytes: Uint8Array): string {
  return new TextDecoder('utf-8').decode(bytes);
}

/** Reads and parses a JSON file; undefined when absent; INVALID_CONFIG naming the file when malformed. */
export async function readJson(source: ModelSource, path: string): Promise<unknown | undefined> {
  const bytes = await source.read(path);
  if (!bytes) return undefined;
  try {
    return JSON.parse(utf8(bytes));
  } catch (e) {
    throw new DualbertError('INVALID_CONFIG', `${source.location}/${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}
