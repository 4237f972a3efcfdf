/**
 * Dynamic batching: the inputs of concurrent requests are merged into forward passes, each pass
 * run alone (one model, no overlapping device work), and every result goes back to the request
 * and position it came from.
 *
 * A pass is formed when the device is free and either the queued tokens fill the budget or the
 * oldest input has waited `maxWaitMs` (0, the default: whatever has arrived by then — inputs that
 * came in while the previous pass ran are batched together, as continuous batching does). The batcher then takes the oldest inputs (first come,
 * first served) that share the oldest one's key (same model call options), up to the token
 * budget, sorts them by length and cuts them into passes (see {@link planPasses}) whose padded
 * size (count × longest) stays within `maxBatchTokens` (a single input longer than that runs
 * alone). Sorting by length keeps padding small: short texts are not padded to a long one's length.
 */

/** One input of a request, as the batcher sees it. */
export interface WorkInput<P> {
  /** Inputs with the same key can share a pass (e.g. "embed|normalize|prompt"). */
  key: string;
  /** Tokens this input occupies in a pass (special tokens included, after truncation). */
  tokens: number;
  payload: P;
}

/** What a pass reports (for metrics). */
export interface PassReport {
  key: string;
  /** Inputs in the pass. */
  size: number;
  /** Real tokens of those inputs. */
  tokens: number;
  /** count × longest: what the device computes. */
  paddedTokens: number;
  /** Wall time of the pass, ms. */
  ms: number;
  /** How long each input waited in the queue before its pass started, ms. */
  waits: number[];
  /** The error the pass failed with, if it did. */
  error?: unknown;
}

/** Settings of a {@link Batcher}. */
export interface BatcherOptions<P, R> {
  /** Padded tokens per pass (count × longest). */
  maxBatchTokens: number;
  /** Inputs per pass. */
  maxBatchSize: number;
  /**
   * What one pass costs beyond its tokens, in tokens (dispatch, synchronization, readback): a
   * sorted run of inputs is split into several passes when the padding saved is worth more than
   * this. Small on the CPU (a pass costs about its tokens), large on a GPU (a small pass costs
   * about as much as a big one). Default 64.
   */
  passOverheadTokens?: number;
  /** How long the first input of a pass may wait for others to join it, ms. */
  maxWaitMs: number;
  /** Inputs that may wait in the queue (not counting the pass in flight). */
  maxQueue: number;
  /** Runs one pass: the payloads share `key`; returns one result per payload, in order. */
  run: (key: string, payloads: P[]) => Promise<R[]>;
  /** Called after every pass. */
  onPass?: (report: PassReport) => void;
  /** Clock (tests). Default performance.now. */
  now?: () => number;
}

/** Thrown by {@link Batcher.submit} when the queue cannot take a request's inputs. */
export class QueueFullError extends Error {
  constructor(
    readonly queued: number,
    readonly capacity: number,
  ) {
    super(`the server is busy: ${queued} inputs are queued (capacity ${capacity}); retry later`);
    this.name = 'QueueFullError';
  }
}

/** A request's handle on its inputs in the batcher. */
export interface Ticket<R> {
  /** Resolves with one result per submitted input, in submission order; rejects on the first failure. */
  readonly results: Promise<R[]>;
  /**
   * Gives up on the request: its queued inputs leave the queue (a pass already running is not
   * stopped; its results for this request are dropped) and `results` rejects with `reason`.
   */
  cancel(reason: unknown): void;
}

interface Job<R> {
  results: (R | undefined)[];
  remaining: number;
  settled: boolean;
  resolve: (r: R[]) => void;
  reject: (e: unknown) => void;
}

interface Queued<P, R> {
  key: string;
  tokens: number;
  payload: P;
  job: Job<R>;
  index: number;
  enqueuedAt: number;
}

/**
 * The dynamic batcher. One instance serializes all device work of a server.
 * @example
 * const batcher = new Batcher({ maxBatchTokens: 16384, maxBatchSize: 256, maxWaitMs: 2, maxQueue: 4096,
 *   run: async (key, texts) => embedRows(texts) });
 * const rows = await batcher.submit([{ key: 'embed', tokens: 12, payload: 'hello' }]).results;
 */
export class Batcher<P, R> {
  private queue: Queued<P, R>[] = [];
  private queuedTokenCount = 0;
  private running = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private readonly now: () => number;

  constructor(private readonly options: BatcherOptions<P, R>) {
    this.now = options.now ?? (() => performance.now());
  }

  /** Inputs waiting for a pass. */
  get queueDepth(): number {
    return this.queue.length;
  }

  /** Tokens of the inputs waiting for a pass. */
  get queuedTokens(): number {
    return this.queuedTokenCount;
  }

  /** Whether a pass is running now. */
  get busy(): boolean {
    return this.running;
  }

  /**
   * Queues a request's inputs. Throws {@link QueueFullError} when they do not fit in the queue
   * (nothing is queued then). An empty list resolves at once with [].
   */
  submit(inputs: readonly WorkInput<P>[]): Ticket<R> {
    if (this.queue.length + inputs.length > this.options.maxQueue) throw new QueueFullError(this.queue.length, this.options.maxQueue);
    let job!: Job<R>;
    const results = new Promise<R[]>((resolve, reject) => {
      job = { results: new Array<R | undefined>(inputs.length), remaining: inputs.length, settled: false, resolve, reject };
    });
    if (inputs.length === 0) {
      job.settled = true;
      job.resolve([]);
    }
    const enqueuedAt = this.now();
    inputs.forEach((input, index) => {
      this.queue.push({ key: input.key, tokens: input.tokens, payload: input.payload, job, index, enqueuedAt });
      this.queuedTokenCount += input.tokens;
    });
    this.pump();
    return {
      results,
      cancel: (reason) => {
        if (job.settled) return;
        this.fail(job, reason);
        this.removeJob(job);
      },
    };
  }

  /** Stops waiting for inputs to gather: from now on every queued input runs as soon as the device is free. */
  drain(): void {
    this.draining = true;
    this.pump();
  }

  /** Resolves when the queue is empty and no pass is running. */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private fail(job: Job<R>, reason: unknown): void {
    if (job.settled) return;
    job.settled = true;
    job.reject(reason);
  }

  private removeJob(job: Job<R>): void {
    const kept: Queued<P, R>[] = [];
    for (const q of this.queue) {
      if (q.job === job) this.queuedTokenCount -= q.tokens;
      else kept.push(q);
    }
    this.queue = kept;
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.running || this.queue.length > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * Schedules a cycle when the device is free and a pass is due (the budget is full, the oldest
   * input has waited maxWaitMs, or the queue is draining); otherwise arms the wait timer. A due
   * cycle still starts on the next turn of the event loop (setImmediate), so requests whose bytes
   * arrived together are parsed and join the same pass, even with maxWaitMs 0.
   */
  private pump(): void {
    if (this.running || this.queue.length === 0 || this.immediate) return;
    const { maxWaitMs, maxBatchTokens } = this.options;
    const waited = this.now() - this.queue[0]!.enqueuedAt;
    if (!this.draining && waited < maxWaitMs && this.queuedTokenCount < maxBatchTokens) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, Math.max(0, maxWaitMs - waited));
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.start();
    });
  }

  private start(): void {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    void this.cycle().finally(() => {
      this.running = false;
      this.notifyIdle();
      this.pump();
    });
  }

  /** Takes the oldest inputs of one key up to the token budget and runs them as length-sorted passes. */
  private async cycle(): Promise<void> {
    const { maxBatchTokens, maxBatchSize } = this.options;
    const key = this.queue[0]!.key;
    const taken: Queued<P, R>[] = [];
    const kept: Queued<P, R>[] = [];
    let budget = maxBatchTokens;
    for (const q of this.queue) {
      const fits = q.key === key && taken.length < maxBatchSize && (taken.length === 0 || q.tokens <= budget);
      if (fits) {
        taken.push(q);
        budget -= q.tokens;
        this.queuedTokenCount -= q.tokens;
      } else {
        kept.push(q);
      }
    }
    this.queue = kept;
    // Longest first; ties in arrival order (stable sort).
    taken.sort((a, b) => b.tokens - a.tokens);
    let start = 0;
    for (const end of planPasses(
      taken.map((q) => q.tokens),
      this.options,
    )) {
      // Inputs whose request already failed or was cancelled are not computed.
      const pass = taken.slice(start, end).filter((q) => !q.job.settled);
      start = end;
      if (pass.length > 0) await this.runPass(key, pass);
    }
  }

  private async runPass(key: string, pass: Queued<P, R>[]): Promise<void> {
    const startedAt = this.now();
    const report: PassReport = {
      key,
      size: pass.length,
      tokens: pass.reduce((s, q) => s + q.tokens, 0),
      paddedTokens: pass.length * Math.max(...pass.map((q) => q.tokens)),
      ms: 0,
      waits: pass.map((q) => startedAt - q.enqueuedAt),
    };
    try {
      const results = await this.options.run(
        key,
        pass.map((q) => q.payload),
      );
      if (results.length !== pass.length) throw new Error(`a pass of ${pass.length} inputs returned ${results.length} results`);
      pass.forEach((q, i) => {
        const { job } = q;
        if (job.settled) return;
        job.results[q.index] = results[i];
        if (--job.remaining === 0) {
          job.settled = true;
          job.resolve(job.results as R[]);
        }
      });
    } catch (e) {
      report.error = e;
      for (const q of pass) {
        if (!q.job.settled) {
          this.fail(q.job, e);
          this.removeJob(q.job);
        }
      }
    } finally {
      report.ms = this.now() - startedAt;
      this.options.onPass?.(report);
    }
  }
}

/**
 * Cuts inputs sorted longest first into passes of consecutive inputs, minimizing the total cost
 * Σ (passOverheadTokens + count × longest) — padded tokens plus a fixed price per pass — with
 * count × longest ≤ maxBatchTokens (one input alone always fits) and count ≤ maxBatchSize.
 * Dynamic programming over the cut points: O(n × maxBatchSize). Returns each pass's end index.
 * @example planPasses([128, 120, 16, 12, 10], { maxBatchTokens: 16384, maxBatchSize: 256, passOverheadTokens: 64 }) // [2, 5]
 */
export function planPasses(
  lengths: readonly number[],
  options: { maxBatchTokens: number; maxBatchSize: number; passOverheadTokens?: number | undefined },
): number[] {
  const n = lengths.length;
  const overhead = options.passOverheadTokens ?? 64;
  // best[j]: the least cost of the first j inputs; from[j]: where the last pass of that plan starts.
  const best = new Array<number>(n + 1).fill(Infinity);
  const from = new Array<number>(n + 1).fill(0);
  best[0] = 0;
  for (let j = 1; j <= n; j++) {
    for (let i = j - 1; i >= 0 && j - i <= options.maxBatchSize; i--) {
      const padded = (j - i) * lengths[i]!;
      if (j - i > 1 && padded > options.maxBatchTokens) break; // longer runs only grow
      const cost = best[i]! + overhead + padded;
      if (cost < best[j]!) {
        best[j] = cost;
        from[j] = i;
      }
    }
  }
  const ends: number[] = [];
  for (let j = n; j > 0; j = from[j]!) ends.push(j);
  return ends.reverse();
}
