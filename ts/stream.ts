/**
 * Streaming over a large or unbounded input: texts are read a window at a time (a few batches,
 * so that length-sorting inside the window still cuts padding), each window is embedded, and
 * the results are yielded batch by batch in input order. Shared by the in-thread embedder and
 * the worker proxy, which differ only in how a window is embedded.
 */
import { DualbertError } from './errors.js';

/** Embeddings as one row-major matrix in any precision (see EmbeddingResult in types.ts). */
interface Matrix {
  data: Float32Array | Int8Array | Uint8Array;
  dims: [number, number];
}

export interface StreamOptions {
  batchSize: number;
  /** Window size in batches. */
  lookaheadBatches?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Throws INVALID_ARGUMENT unless `text` is a string; `index` names it in the message. */
export function checkText(text: unknown, index: number): asserts text is string {
  if (typeof text !== 'string') throw new DualbertError('INVALID_ARGUMENT', `embed: text ${index} is ${typeof text}, not a string`);
}

/** Yields `{ data, dims, offset }` per batch of `texts`, in input order. */
export async function* streamInWindows<M extends Matrix>(
  texts: Iterable<string> | AsyncIterable<string>,
  options: StreamOptions,
  embedWindow: (window: string[]) => Promise<M>,
): AsyncGenerator<M & { offset: number }> {
  const { batchSize, signal } = options;
  const lookahead = options.lookaheadBatches ?? 4;
  if (!Number.isInteger(lookahead) || lookahead < 1) {
    throw new DualbertError('INVALID_ARGUMENT', `lookaheadBatches must be a positive integer, got ${String(lookahead)}`);
  }
  const windowSize = batchSize * lookahead;
  let offset = 0;
  let pending: string[] = [];

  async function* flush(): AsyncGenerator<M & { offset: number }> {
    signal?.throwIfAborted();
    const window = pending;
    pending = [];
    const { data, dims } = await embedWindow(window);
    const C = dims[1];
    for (let i = 0; i < window.length; i += batchSize) {
      const n = Math.min(batchSize, window.length - i);
      yield { data: data.slice(i * C, (i + n) * C), dims: [n, C], offset: offset + i } as M & { offset: number };
    }
    offset += window.length;
  }

  for await (const text of texts) {
    signal?.throwIfAborted();
    checkText(text, offset + pending.length);
    pending.push(text);
    if (pending.length === windowSize) yield* flush();
  }
  if (pending.length) yield* flush();
}
