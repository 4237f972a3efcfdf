/**
 * What `embed()` and `embedBatches()` accept, checked and copied when the call is made. Calls are
 * queued behind each other, so a call must not read the caller's array (or options) later: the
 * caller may change them in between, and what ran would not be what was asked. Holes of sparse
 * arrays, non-strings and options of the wrong type are INVALID_ARGUMENT naming the index or
 * the option; never an all-zero vector, "42"/"null" text or an internal error later.
 */
import { availableCores } from './env.js';
import { DualbertError } from './errors.js';
import { isAbortSignal } from './model/deadline.js';
import type { EmbedBatchesOptions, EmbedOptions } from './types.js';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  return Array.isArray(value) ? 'an array' : typeof value;
}

/**
 * `embed()`'s texts as a new array of strings: a string is one text.
 * @example textsOf(['a', 'b'])   // a copy; textsOf([, 'b']) throws INVALID_ARGUMENT naming index 0
 */
export function textsOf(texts: unknown, call = 'embed'): string[] {
  if (typeof texts === 'string') return [texts];
  if (!Array.isArray(texts)) {
    throw new DualbertError('INVALID_ARGUMENT', `${call}(texts): texts must be a string or an array of strings, got ${describe(texts)}`);
  }
  const out = new Array<string>(texts.length);
  for (let i = 0; i < texts.length; i++) {
    if (!(i in texts)) throw new DualbertError('INVALID_ARGUMENT', `${call}: text ${i} is a hole (an empty slot of a sparse array), not a string`);
    const t: unknown = texts[i];
    if (typeof t !== 'string') throw new DualbertError('INVALID_ARGUMENT', `${call}: text ${i} is ${describe(t)}, not a string`);
    out[i] = t;
  }
  return out;
}

/**
 * `embedBatches()`'s input: a string is one text; an array is copied (and checked) now; any
 * other iterable or async iterable is read as the stream goes (each item checked as it comes).
 * @example streamTextsOf('hello')   // ['hello'], not five characters
 */
export function streamTextsOf(texts: unknown): Iterable<string> | AsyncIterable<string> {
  if (typeof texts === 'string' || Array.isArray(texts)) return textsOf(texts, 'embedBatches');
  const t = texts as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown } | null | undefined;
  if (t && (typeof t[Symbol.iterator] === 'function' || typeof t[Symbol.asyncIterator] === 'function'))
    return texts as Iterable<string> | AsyncIterable<string>;
  throw new DualbertError(
    'INVALID_ARGUMENT',
    `embedBatches(texts): texts must be a string, an array, an iterable or an async iterable of strings, got ${describe(texts)}`,
  );
}

const CHECKS: Record<string, (v: unknown) => boolean> = {
  pooling: (v) => typeof v === 'string',
  normalize: (v) => typeof v === 'boolean',
  truncation: (v) => typeof v === 'boolean',
  batchSize: (v) => typeof v === 'number',
  prompt: (v) => typeof v === 'string',
  prompt_name: (v) => typeof v === 'string',
  lookaheadBatches: (v) => typeof v === 'number',
  signal: isAbortSignal,
};
const EXPECTED: Record<string, string> = {
  pooling: 'a pooling mode name',
  normalize: 'true or false',
  truncation: 'true or false',
  batchSize: 'a positive integer',
  prompt: 'a string',
  prompt_name: 'a string',
  lookaheadBatches: 'a positive integer',
  signal: 'an AbortSignal',
};

/**
 * The options of a call, checked for type and copied: `undefined` and `null` mean none.
 * @example optionsOf(null)   // {}; optionsOf({ normalize: 'no' }) throws INVALID_ARGUMENT
 */
export function optionsOf<O extends EmbedOptions | EmbedBatchesOptions>(options: unknown, call = 'embed'): O {
  if (options === undefined || options === null) return {} as O;
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new DualbertError('INVALID_ARGUMENT', `${call}(texts, options): options must be an object, got ${describe(options)}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    const check = CHECKS[key];
    if (check && !check(value)) throw new DualbertError('INVALID_ARGUMENT', `${call}: option ${key} must be ${EXPECTED[key]}, got ${describe(value)}`);
    out[key] = value;
  }
  return out as O;
}

/**
 * The `threads` option bounded by the cores the platform reports: more threads than cores only
 * add contention (and each wasm worker holds memory), so they are capped, with a warning.
 * @example await boundThreads(1000, console.warn)   // 2 on a 2-core machine, and a warning
 */
export async function boundThreads(requested: unknown, warn: (message: string) => void): Promise<number | undefined> {
  if (requested === undefined) return undefined;
  if (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 1) {
    throw new DualbertError('INVALID_ARGUMENT', `threads must be a positive integer, got ${describe(requested)}`);
  }
  const cores = await availableCores();
  if (requested <= cores) return requested;
  warn(`threads: ${requested} asked for, but this machine reports ${cores} core${cores === 1 ? '' : 's'}: using ${cores}`);
  return cores;
}
