/**
 * Worker mode: the same API as {@link Embedder}, with loading and inference in a worker so the
 * page stays responsive. Results come back as transferred buffers; `dispose()` terminates the
 * worker and frees its memory.
 */
import { isNode } from '../env.js';
import type { BackendStats, Device } from '../backends/types.js';
import { checkTokenOptions, planOutput } from '../output/embedding-output.js';
import type { DataOf, EmbeddingPrecision } from '../output/quantize.js';
import { type Embeddings, type SimilarityMatrix, type Vector, similarity } from '../output/similarity.js';
import type {
  AnyEmbeddingResult,
  AnyEmbedOptions,
  EmbedBatchesOptions,
  EmbedderOptions,
  EmbeddingBatch,
  EmbeddingResult,
  EmbedOptions,
  QuantizedEmbedOptions,
  TokenEmbedOptions,
  TokenEmbeddingsResult,
} from '../types.js';
import { DualbertError, type DualbertErrorCode } from '../errors.js';
import { loadModelMeta, type ModelDefaults } from '../model/load.js';
import { optionsOf, streamTextsOf, textsOf } from '../inputs.js';
import { streamInWindows } from '../stream.js';
import type { Tokenizer } from '../tokenizer/index.js';
import type { WorkerRequest, WorkerResponse } from './protocol.js';

/** The minimal worker surface shared by Web Workers and Node's worker_threads. */
interface WorkerHandle {
  post(message: WorkerRequest): void;
  terminate(): void;
}

type Pending = { resolve: (r: WorkerResponse) => void; reject: (e: Error) => void; progress?: EmbedderOptions['progress_callback'] };


/**
 * Options of worker mode: the embedder's options, plus where the worker script is.
 * @example await createEmbedder('synthetic:minilm', { worker: true, workerUrl: '/assets/worker-main.js' });
 */
export interface WorkerModeOptions extends EmbedderOptions {
  worker: true;
  /** URL of `worker/worker-main.js` when a bundler moved it (default: next to this module). */
  workerUrl?: string | URL;
}

async function startWorker(url: URL, onMessage: (m: WorkerResponse) => void, onFailure: (e: Error) => void): Promise<WorkerHandle> {
  if (!isNode && typeof Worker !== 'undefined') {
    const worker = new Worker(url, { type: 'module', name: 'dualbert' });
    worker.addEventListener('message', (e: MessageEvent) => onMessage(e.data as WorkerResponse));
    worker.addEventListener('error', (e: ErrorEvent) => onFailure(new Error(e.message || 'worker failed to start')));
    return { post: (m) => worker.postMessage(m), terminate: () => worker.terminate() };
  }
  if (isNode) {
    const { Worker: NodeWorker } = await import('node:worker_threads');
    const worker = new NodeWorker(url);
    worker.on('message', onMessage);
    worker.on('error', onFailure);
    worker.on('exit', (code) => code !== 0 && onFailure(new Error(`worker exited with code ${code}`)));
    return { post: (m) => worker.postMessage(m), terminate: () => void worker.terminate() };
  }
  throw new DualbertError('INVALID_ARGUMENT', 'worker mode needs Web Workers (browsers) or worker_threads (Node)');
}

/**
 * An embedder whose model runs in a worker (same API as {@link Embedder}): the page or the main
 * thread stays responsive. Dispatches `warning` events like the in-thread embedder.
 * @example
 * const embedder = await createEmbedder('synthetic:minilm', { worker: true });
 * embedder.addEventListener('warning', (e) => console.warn((e as CustomEvent).detail.message));
 * const { data } = await embedder.embed(['hello']);
 */
export class WorkerEmbedder extends EventTarget {
  /** The model's tokenizer (loaded on this thread too, so it can be used synchronously). */
  readonly tokenizer: Tokenizer;
  /** Embedding width. */
  readonly dimension: number;
  /** The model's defaults: pooling, normalization and max length. */
  readonly defaults: ModelDefaults;
  private currentDevice: Device;
  private readonly workerThreads: number;
  private worker: WorkerHandle | undefined;
  private readonly pending: Map<number, Pending>;
  private nextId: number;

  private constructor(init: {
    worker: WorkerHandle;
    pending: Map<number, Pending>;
    nextId: number;
    tokenizer: Tokenizer;
    created: Extract<WorkerResponse, { type: 'created' }>;
  }) {
    super();
    this.worker = init.worker;
    this.pending = init.pending;
    this.nextId = init.nextId;
    this.tokenizer = init.tokenizer;
    this.dimension = init.created.dimension;
    this.defaults = init.created.defaults;
    this.currentDevice = init.created.device;
    this.workerThreads = init.created.threads;
  }

  /** Starts the worker and loads the model in it. Prefer `createEmbedder(model, { worker: true })`. */
  static async create(model: string, options: WorkerModeOptions): Promise<WorkerEmbedder> {
    if (typeof model !== 'string') {
      throw new DualbertError('INVALID_ARGUMENT', 'worker mode takes a model spec string (a URL, "hf:owner/name" or "synthetic:…"); a ModelSource cannot cross to a worker');
    }
    const { worker: _, workerUrl, progress_callback, onWarning, signal, ...embedderOptions } = options;
    signal?.throwIfAborted(); // an AbortSignal cannot cross to the worker: aborting terminates it (below)
    for (const [key, value] of Object.entries(embedderOptions)) {
      // Functions (fetch, warn) and objects with methods (a custom cache) cannot be cloned into a worker.
      const hasMethods = typeof value === 'object' && value !== null && Object.values(value).some((v) => typeof v === 'function');
      if (typeof value === 'function' || hasMethods) {
        throw new DualbertError('INVALID_ARGUMENT', `worker mode: option "${key}" holds functions and cannot be sent to a worker`);
      }
    }
    const pending = new Map<number, Pending>();
    const fail = (e: Error): void => {
      const error = new DualbertError('WORKER_FAILED', `dualbert worker failed: ${e.message}`, { cause: e });
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    };
    // Warnings before the embedder exists go to onWarning; later ones are `warning` events too.
    let embedder: WorkerEmbedder | undefined;
    const onMessage = (m: WorkerResponse): void => {
      if (m.type === 'warning') {
        if (embedder) embedder.dispatchEvent(new CustomEvent('warning', { detail: m.warning }));
        onWarning?.(m.warning);
        return;
      }
      const p = pending.get(m.id);
      if (!p) return;
      if (m.type === 'progress') {
        p.progress?.(m.event);
        return;
      }
      pending.delete(m.id);
      if (m.type === 'error') p.reject(new DualbertError((m.error.code ?? 'WORKER_FAILED') as DualbertErrorCode, m.error.message));
      else p.resolve(m);
    };
    const url = workerUrl ? new URL(workerUrl, typeof location !== 'undefined' ? location.href : undefined) : new URL('./worker-main.js', import.meta.url);
    const worker = await startWorker(url, onMessage, fail);
    const created = new Promise<WorkerResponse>((resolve, reject) => {
      pending.set(0, { resolve, reject, ...(progress_callback ? { progress: progress_callback } : {}) });
      worker.post({ id: 0, type: 'create', model, options: embedderOptions });
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    try {
      // The tokenizer is loaded here as well (in parallel, from the same place and cache), so
      // `tokenizer` works without a round trip.
      const { cache, cache_dir, offline, revision, remote_host, maxAttempts, timeout } = embedderOptions;
      const loadOptions = Object.fromEntries(Object.entries({ cache, cache_dir, offline, revision, remote_host, maxAttempts, timeout, signal }).filter(([, v]) => v !== undefined));
      const [response, meta] = await Promise.all([created, loadModelMeta(model, loadOptions)]);
      embedder = new WorkerEmbedder({ worker, pending, nextId: 1, tokenizer: meta.tokenizer, created: response as Extract<WorkerResponse, { type: 'created' }> });
      return embedder;
    } catch (e) {
      worker.terminate();
      throw e;
    }
  }

  /** The path the model runs on in the worker (it can change to 'wasm' if the GPU is lost). */
  get device(): Device {
    return this.currentDevice;
  }

  /** Threads the worker's backend computes with. */
  get threads(): number {
    return this.workerThreads;
  }

  /**
   * Embeds texts in the worker. Results are in input order.
   * @example const { data, dims } = await embedder.embed(['a cat', 'a dog']);
   */
  embed(texts: string | readonly string[], options: TokenEmbedOptions): Promise<TokenEmbeddingsResult>;
  embed<P extends EmbeddingPrecision>(texts: string | readonly string[], options: QuantizedEmbedOptions<P>): Promise<EmbeddingResult<DataOf<P>>>;
  embed(texts: string | readonly string[], options?: EmbedOptions): Promise<EmbeddingResult>;
  async embed(texts: string | readonly string[], options: AnyEmbedOptions = {}): Promise<AnyEmbeddingResult> {
    const list = textsOf(texts);
    const response = (await this.request({ type: 'embed', texts: list, options: optionsOf(options) })) as Extract<WorkerResponse, { type: 'embedded' }>;
    this.currentDevice = response.device;
    return response.result;
  }

  /**
   * The similarity matrix of two sets of embeddings under the model's `similarity_fn_name` (see
   * Embedder.similarity); computed here, no round trip.
   * @example embedder.similarity(await embedder.embed(queries), await embedder.embed(docs)).data
   */
  similarity(a: Vector | Embeddings, b: Vector | Embeddings): SimilarityMatrix {
    return similarity(a, b, this.defaults.similarityFnName);
  }

  /**
   * Streams embeddings batch by batch, in input order (see Embedder.embedBatches).
   * @example for await (const { data, offset } of embedder.embedBatches(texts, { batchSize: 64 })) save(offset, data);
   */
  embedBatches<P extends EmbeddingPrecision>(texts: Iterable<string> | AsyncIterable<string>, options: EmbedBatchesOptions & QuantizedEmbedOptions<P>): AsyncGenerator<EmbeddingBatch<DataOf<P>>>;
  embedBatches(texts: Iterable<string> | AsyncIterable<string>, options?: EmbedBatchesOptions): AsyncGenerator<EmbeddingBatch>;
  embedBatches(texts: Iterable<string> | AsyncIterable<string>, options: EmbedBatchesOptions & AnyEmbedOptions = {}): AsyncGenerator<EmbeddingBatch<Float32Array | Int8Array | Uint8Array>> {
    const input = streamTextsOf(texts);
    const { signal, lookaheadBatches, ...embedOptions } = optionsOf<EmbedBatchesOptions & AnyEmbedOptions>(options, 'embedBatches');
    const batchSize = embedOptions.batchSize ?? 32;
    // The same checks as in-thread streaming (no per-token output, calibrated int8), before the worker sees a window.
    if ((embedOptions as AnyEmbedOptions).pooling === 'none') checkTokenOptions(embedOptions, 'embedBatches');
    planOutput(embedOptions, { width: Number.MAX_SAFE_INTEGER, normalize: false, truncateDim: undefined }, 'embedBatches');
    return streamInWindows(input, { batchSize, lookaheadBatches, signal }, (window) => this.embed(window, embedOptions as QuantizedEmbedOptions) as Promise<EmbeddingResult<Float32Array | Int8Array | Uint8Array>>);
  }

  /**
   * The worker's backend figures (device, threads, bytes held; see Embedder.stats).
   * @example const { device, weightBytes } = await embedder.stats();
   */
  async stats(): Promise<BackendStats> {
    const response = (await this.request({ type: 'stats' })) as Extract<WorkerResponse, { type: 'stats' }>;
    this.currentDevice = response.stats.device;
    return response.stats;
  }

  /** Terminates the worker and frees everything it held. */
  dispose(): void {
    if (!this.worker) return;
    const worker = this.worker;
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(new DualbertError('DISPOSED', 'this embedder was disposed'));
    this.pending.clear();
    worker.terminate();
  }

  private request(message: Omit<Extract<WorkerRequest, { type: 'embed' }>, 'id'> | { type: 'stats' }): Promise<WorkerResponse> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new DualbertError('DISPOSED', 'this embedder was disposed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.post({ ...message, id });
    });
  }
}
