/**
 * Keeping the event loop alive during long calls. The wasm and reference devices compute on the
 * calling thread: a call that ran all its batches back to back would block timers, I/O, abort
 * events and (in a page without worker mode) the UI until it ended. The {@link Pacer} gives the
 * event loop a turn between pieces of work, and cuts a batch whose rows would take long into
 * slices of about `sliceMs` each (estimated from the speed measured so far), so an abort stops
 * within one slice. BERT rows are independent (padding is masked out), so a slice gives the
 * same embeddings as the whole batch.
 */
import type { RunResult } from './graph/execute.js';
import type { BatchInputs } from './graph/ops.js';

type MessageChannelLike = { port1: { onmessage: (() => void) | null; close?: () => void }; port2: { postMessage(m: unknown): void } };

/**
 * Resolves after the event loop had a turn: Node runs pending I/O and timers (setImmediate);
 * browsers `scheduler.yield()` where it exists, else a MessageChannel message (setTimeout(0)
 * would be clamped to 4 ms after a few nested calls).
 * @example for (const part of parts) { work(part); await yieldToEventLoop(); }
 */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as {
    setImmediate?: (f: () => void) => unknown;
    scheduler?: { yield?: () => Promise<void> };
    MessageChannel?: new () => MessageChannelLike;
  };
  if (typeof g.setImmediate === 'function') return new Promise((resolve) => g.setImmediate!(resolve));
  if (typeof g.scheduler?.yield === 'function') return g.scheduler.yield();
  if (typeof g.MessageChannel === 'function') {
    return new Promise((resolve) => {
      const channel = new g.MessageChannel!();
      channel.port1.onmessage = () => {
        channel.port1.close?.();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** How the pacer cuts work. */
export interface PacerOptions {
  /** Aimed-at milliseconds of one run on an in-thread device (default 100). */
  sliceMs?: number;
  /** Longest stretch without a turn of the event loop before the next piece of work (default 10 ms). */
  yieldEveryMs?: number;
  /** Padded tokens of the first run, before any speed is known (default 256). */
  firstRunTokens?: number;
  /**
   * Fewest padded tokens in a slice (default 256): the wasm GEMMs reach full speed from about
   * 128 rows (minilm, 1 thread: 31.1 GFLOP/s at 128 tokens, 27.3 at 16), so smaller slices would
   * cost throughput, and a machine under load (slow wall-clock estimates) must not shrink them.
   */
  minTokens?: number;
}

const now = (): number => performance.now();

/**
 * Paces the work of one embedder (its speed estimate is per backend).
 * @example
 * const pacer = new Pacer();
 * const { output } = await pacer.run(batch, true, signal, (b) => prepareGraph(graph, backend).run(b));
 */
export class Pacer {
  private msPerToken: number | undefined;
  private lastYield = now();
  private readonly sliceMs: number;
  private readonly yieldEveryMs: number;
  private readonly firstRunTokens: number;
  private readonly minTokens: number;

  constructor(options: PacerOptions = {}) {
    this.sliceMs = options.sliceMs ?? 100;
    this.yieldEveryMs = options.yieldEveryMs ?? 10;
    this.firstRunTokens = options.firstRunTokens ?? 256;
    this.minTokens = options.minTokens ?? 256;
  }

  /** Rows per slice for `rows` rows of `T` tokens: about `sliceMs` of work, at least `minTokens`. */
  private rowsPerSlice(rows: number, T: number): number {
    // The floor protects fast kernels' throughput; on a backend so slow that `minTokens` would
    // take over a second (the float64 reference on a real model), responsiveness wins.
    const slow = this.msPerToken! * this.minTokens > 10 * this.sliceMs;
    const minRows = slow ? 1 : Math.max(1, Math.ceil(this.minTokens / T));
    const estimate = this.msPerToken! * rows * T;
    if (estimate <= 1.5 * this.sliceMs) return rows;
    return Math.min(rows, Math.max(minRows, Math.ceil(rows / Math.ceil(estimate / this.sliceMs))));
  }

  /** Gives the event loop a turn when it has waited `yieldEveryMs`, then honours the signal. */
  async pause(signal?: AbortSignal): Promise<void> {
    if (now() - this.lastYield >= this.yieldEveryMs) {
      await yieldToEventLoop();
      this.lastYield = now();
    }
    signal?.throwIfAborted();
  }

  /** `items.map(f)`, with turns of the event loop in between (tokenizing a large call takes a while). */
  async map<T, U>(items: readonly T[], f: (item: T, index: number) => U, signal?: AbortSignal): Promise<U[]> {
    const out = new Array<U>(items.length);
    for (let i = 0; i < items.length; i++) {
      if ((i & 63) === 0) await this.pause(signal);
      out[i] = f(items[i]!, i);
    }
    return out;
  }

  /**
   * Runs one padded batch. On an in-thread device it runs in row slices of about `sliceMs` each
   * (each trimmed to its own longest row), with turns of the event loop in between; elsewhere
   * (the GPU computes while this thread waits) it runs whole.
   */
  async run(batch: BatchInputs, inThread: boolean, signal: AbortSignal | undefined, run: (b: BatchInputs) => Promise<RunResult>): Promise<RunResult> {
    await this.pause(signal);
    if (!inThread) return run(batch);
    const B = batch.batchSize;
    const T = batch.seqLen;
    let rowsPerRun = this.msPerToken === undefined ? Math.max(1, Math.floor(this.firstRunTokens / T)) : this.rowsPerSlice(B, T);
    if (rowsPerRun >= B) return this.timed(batch, run);
    let output: Float32Array | Float64Array | undefined;
    let C = 0;
    for (let start = 0; start < B; ) {
      if (start > 0) await this.pause(signal);
      const n = Math.min(rowsPerRun, B - start);
      const part = await this.timed(sliceRows(batch, start, n), run);
      if (!output) {
        C = part.output.length / n;
        output = part.output instanceof Float64Array ? new Float64Array(B * C) : new Float32Array(B * C);
      }
      output.set(part.output, start * C);
      start += n;
      // The speed is known after the first slice: size the rest of this batch by it.
      if (start < B) rowsPerRun = this.rowsPerSlice(B - start, T);
    }
    return { output: output!, captured: new Map() };
  }

  private async timed(batch: BatchInputs, run: (b: BatchInputs) => Promise<RunResult>): Promise<RunResult> {
    const t0 = now();
    const result = await run(batch);
    const perToken = (now() - t0) / (batch.batchSize * batch.seqLen);
    this.msPerToken = this.msPerToken === undefined ? perToken : 0.5 * this.msPerToken + 0.5 * perToken;
    return result;
  }
}

/** Rows `start … start + n − 1` of a padded batch, cut to the longest of them (padding columns only). */
export function sliceRows(batch: BatchInputs, start: number, n: number): BatchInputs {
  const T = batch.seqLen;
  let seqLen = 1;
  for (let r = start; r < start + n; r++) {
    for (let t = T - 1; t >= seqLen; t--) {
      if (batch.attentionMask[r * T + t]) {
        seqLen = t + 1;
        break;
      }
    }
  }
  const ids = new Int32Array(n * seqLen);
  const typeIds = new Int32Array(n * seqLen);
  const attentionMask = new Uint8Array(n * seqLen);
  for (let r = 0; r < n; r++) {
    const from = (start + r) * T;
    ids.set(batch.ids.subarray(from, from + seqLen), r * seqLen);
    typeIds.set(batch.typeIds.subarray(from, from + seqLen), r * seqLen);
    attentionMask.set(batch.attentionMask.subarray(from, from + seqLen), r * seqLen);
  }
  return { batchSize: n, seqLen, ids, typeIds, attentionMask };
}
