/**
 * The embedder: tokenizer + graph + one backend. This is what `createEmbedder` returns.
 */
import {
  type BackendOptions,
  type BackendWarning,
  type DeviceBackend,
  type Device,
  type DeviceOption,
  createAutoBackend,
  createBackend,
} from './backends/backend.js';
import type { GraphWeights } from './graph/weights.js';
import type { WebGpuStats } from './backends/webgpu/backend.js';
import { DualbertError } from './errors.js';
import { checkText, streamInWindows } from './stream.js';
import { type BertGraph, buildBertGraph } from './graph/bert.js';
import { assertSupported, runGraph } from './graph/execute.js';
import { POOLING_MODES, type PoolingMode } from './graph/ops.js';
import { bindWeights } from './graph/weights.js';
import { type LoadOptions, type LoadedModel, type ProgressCallback, type WeightsDtype, loadModel } from './model/load.js';
import type { ModelSource } from './model/sources.js';
import type { Tokenizer } from './tokenizer/index.js';
import type { WorkerEmbedder, WorkerModeOptions } from './worker/worker-embedder.js';

/**
 * Options of {@link createEmbedder}: the device, its settings, and progress reporting.
 * @example await createEmbedder('synthetic:minilm', { device: 'wasm', threads: 2, progress_callback: console.log });
 */
export interface EmbedderOptions extends Omit<BackendOptions, 'dtype'>, Omit<LoadOptions, 'progress_callback' | 'dtype'> {
  /** Which path runs the model. 'auto' picks the fastest available. Default 'auto'. */
  device?: DeviceOption;
  /** Called with non-fatal events (the GPU was lost and work moved to the CPU, a slow path). */
  onWarning?: (warning: BackendWarning) => void;
  /** Called as files are read, downloaded and when the model is ready (transformers.js event names). */
  progress_callback?: ProgressCallback;
  /**
   * Precision. 'fp32' (default); 'fp16': the webgpu path computes in f16 where it can, and an
   * ONNX-only model is read from `model_fp16.onnx`; 'q8' | 'int8' | 'uint8': an ONNX-only model is
   * read from that int8 export, dequantized to float32 (with a warning) and computed in fp32.
   */
  dtype?: WeightsDtype;
}

/**
 * Options of {@link Embedder.embed}; unset fields take the model's defaults.
 * @example await embedder.embed(texts, { pooling: 'cls', normalize: false, batchSize: 16 });
 */
export interface EmbedOptions {
  /** Pooling over tokens; default from the model's sentence-transformers files (else 'mean'). */
  pooling?: PoolingMode;
  /** L2-normalize each embedding; default from the model (true when it has a Normalize module). */
  normalize?: boolean;
  /** Texts per forward pass. Default 32. */
  batchSize?: number;
  /**
   * Cut texts longer than the model's max length (default true, as sentence-transformers does).
   * With false, a text that does not fit throws `INPUT_TOO_LONG`.
   */
  truncation?: boolean;
  /**
   * Text put before every input, e.g. 'query: ' (sentence-transformers `prompt`). Wins over
   * `prompt_name`.
   */
  prompt?: string;
  /**
   * The name of one of the model's prompts (config_sentence_transformers.json), e.g. 'query'.
   * Default: the model's `default_prompt_name`, if any.
   */
  prompt_name?: string;
}

/**
 * Options of {@link Embedder.embedBatches}.
 * @example embedder.embedBatches(texts, { batchSize: 64, signal: AbortSignal.timeout(60_000) });
 */
export interface EmbedBatchesOptions extends EmbedOptions {
  /** Stops between batches: the iterator throws the signal's reason (an AbortError by default). */
  signal?: AbortSignal;
  /**
   * Texts read ahead and sorted by length before they are cut into batches (less padding),
   * in multiples of batchSize. Results are still yielded in input order. Default 4.
   */
  lookaheadBatches?: number;
}

/**
 * One slice of a stream of embeddings: rows `offset … offset + dims[0] − 1` of the input.
 * @example for await (const { data, dims, offset } of embedder.embedBatches(texts)) save(offset, data, dims);
 */
export interface EmbeddingBatch extends EmbeddingResult {
  offset: number;
}

/**
 * Embeddings as one row-major matrix, `dims = [texts, hidden]` (the transformers.js Tensor shape).
 * @example const { data, dims } = await embedder.embed(['a', 'b']); const second = data.subarray(dims[1], 2 * dims[1]);
 */
export interface EmbeddingResult {
  data: Float32Array;
  dims: [number, number];
}


/**
 * What {@link Embedder.stats} reports.
 * @example if ((embedder.stats().wasmMemoryBytes ?? 0) > 2 ** 30) console.warn('over 1 GiB of wasm memory');
 */
export interface EmbedderStats {
  device: Device;
  threads: number;
  /** wasm: bytes of the linear memory (weights + activation arena); it only grows. */
  wasmMemoryBytes?: number;
  /** webgpu: pipelines, bind groups, activation buckets and buffers created. */
  webgpu?: WebGpuStats;
}

/** Per-call settings, validated. */
interface EmbedPlan {
  graph: BertGraph;
  batchSize: number;
  truncation: boolean;
  /** The prompt put before every text ('' for none). */
  prefix: string;
}


/**
 * Turns texts into sentence embeddings with one model on one device. Dispatches `warning` events
 * (a `CustomEvent` whose `detail` is a {@link BackendWarning}), e.g. when the GPU is lost and a
 * call finishes on the CPU.
 * @example
 * const embedder = await createEmbedder('synthetic:minilm');
 * embedder.addEventListener('warning', (e) => console.warn((e as CustomEvent).detail.message));
 * const { data, dims } = await embedder.embed(['a text']);
 */
export class Embedder extends EventTarget {
  /** The model's tokenizer. */
  readonly tokenizer: Tokenizer;
  /** Embedding width. */
  readonly dimension: number;
  private backend: DeviceBackend | undefined;
  private readonly graphs = new Map<string, BertGraph>();
  /** Calls run one after another: backends reuse their activation storage between batches. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly model: LoadedModel,
    backend: DeviceBackend,
    /** device 'auto' on the GPU: what a CPU backend needs if the GPU fails mid-session. */
    private fallback: { weights: GraphWeights; options: BackendOptions } | undefined,
    onWarning: ((w: BackendWarning) => void) | undefined,
  ) {
    super();
    if (onWarning) this.addEventListener('warning', (e) => onWarning((e as CustomEvent<BackendWarning>).detail));
    this.tokenizer = model.tokenizer;
    this.dimension = model.defaults.dense.at(-1)?.outFeatures ?? model.config.hiddenSize;
    this.backend = backend;
  }

  /** Loads a model and prepares a backend. Prefer the `createEmbedder` function. */
  static async create(model: string | ModelSource, options: EmbedderOptions = {}): Promise<Embedder> {
    const { device = 'auto', progress_callback, dtype, cache, cache_dir, offline, revision, remote_host, maxAttempts, fetch, warn, onWarning, ...backendOptions } = options;
    const loadOptions: LoadOptions = { progress_callback, dtype, cache, cache_dir, offline, revision, remote_host, maxAttempts, fetch, warn };
    for (const k of Object.keys(loadOptions) as (keyof LoadOptions)[]) if (loadOptions[k] === undefined) delete loadOptions[k];
    const loaded = await loadModel(model, loadOptions);
    const { pooling, normalize, dense } = loaded.defaults;
    const graph = buildBertGraph(loaded.config, { pooling, normalize, dense });
    const weights = bindWeights(graph.weights, loaded.checkpoint);
    const opts: BackendOptions = { ...backendOptions, ...(dtype === 'fp16' || dtype === 'fp32' ? { dtype } : {}) };
    // Warnings during creation happen before anyone can listen: pass them to onWarning directly.
    const backend = device === 'auto' ? await createAutoBackend(weights, opts, onWarning) : await createBackend(device, weights, opts);
    try {
      assertSupported(backend, graph.nodes); // e.g. a Dense head on a device that lacks it: fail now, clearly
    } catch (e) {
      backend.dispose();
      throw e;
    }
    const fallback = device === 'auto' && backend.device === 'webgpu' ? { weights, options: opts } : undefined;
    return new Embedder(loaded, backend, fallback, onWarning);
  }

  /** The path that runs the model. */
  get device(): Device {
    return this.live().device;
  }

  /** Threads the backend computes with (1 unless the wasm path runs with workers). */
  get threads(): number {
    return this.live().threads ?? 1;
  }

  /**
   * Memory and resource figures of the backend, for monitoring long-running processes:
   * the wasm linear memory in bytes, or the WebGPU pools (buckets, buffers, pipelines).
   * @example const { wasmMemoryBytes, webgpu } = embedder.stats();
   */
  stats(): EmbedderStats {
    const backend = this.live() as DeviceBackend & { memoryBytes?: number; stats?: () => WebGpuStats };
    return {
      device: backend.device,
      threads: backend.threads ?? 1,
      ...(typeof backend.memoryBytes === 'number' ? { wasmMemoryBytes: backend.memoryBytes } : {}),
      ...(typeof backend.stats === 'function' ? { webgpu: backend.stats() } : {}),
    };
  }

  /** The model's defaults: pooling, normalization and max length. */
  get defaults(): LoadedModel['defaults'] {
    return this.model.defaults;
  }

  /**
   * Embeds texts. Results are in input order.
   * @example
   * const { data, dims } = await embedder.embed(['a cat', 'a dog']);   // dims = [2, 384]
   */
  async embed(texts: string | readonly string[], options: EmbedOptions = {}): Promise<EmbeddingResult> {
    const list = typeof texts === 'string' ? [texts] : texts;
    if (!Array.isArray(list)) throw new DualbertError('INVALID_ARGUMENT', 'embed(texts): texts must be a string or an array of strings');
    list.forEach((t, i) => checkText(t, i));
    const plan = this.plan(options);
    const run = this.queue.then(() => this.embedAll(list, plan));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Embeds a large or unbounded sequence of texts, yielding one batch of embeddings at a time in
   * input order, so memory stays bounded and work can be cancelled between batches.
   * @example
   * for await (const { data, dims, offset } of embedder.embedBatches(texts, { batchSize: 64, signal })) {
   *   store(offset, data, dims);
   * }
   */
  async *embedBatches(texts: Iterable<string> | AsyncIterable<string>, options: EmbedBatchesOptions = {}): AsyncGenerator<EmbeddingBatch> {
    const plan = this.plan(options);
    const signal = options.signal;
    yield* streamInWindows(texts, { batchSize: plan.batchSize, lookaheadBatches: options.lookaheadBatches, signal }, (window) => {
      const run = this.queue.then(() => this.embedAll(window, plan, signal));
      this.queue = run.catch(() => undefined);
      return run;
    });
  }

  /** Frees the backend. The embedder cannot be used afterwards. */
  dispose(): void {
    this.backend?.dispose();
    this.backend = undefined;
  }

  /** Validates per-call options once, before any work is queued. */
  private plan(options: EmbedOptions): EmbedPlan {
    const pooling = options.pooling ?? this.model.defaults.pooling;
    if (!POOLING_MODES.includes(pooling)) {
      throw new DualbertError('INVALID_ARGUMENT', `pooling "${String(pooling)}" is not one of ${POOLING_MODES.join(', ')}`);
    }
    const normalize = options.normalize ?? this.model.defaults.normalize;
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new DualbertError('INVALID_ARGUMENT', `batchSize must be a positive integer, got ${String(batchSize)}`);
    }
    return { graph: this.graph(pooling, normalize), batchSize, truncation: options.truncation ?? true, prefix: this.prompt(options) };
  }

  /** The prompt of a call: `prompt`, else the named or default prompt of the model, else ''. */
  private prompt(options: EmbedOptions): string {
    const { prompts, defaultPromptName, includePrompt } = this.model.defaults;
    let prefix = '';
    if (options.prompt !== undefined) {
      if (typeof options.prompt !== 'string') throw new DualbertError('INVALID_ARGUMENT', `prompt must be a string, got ${typeof options.prompt}`);
      prefix = options.prompt;
    } else {
      const name = options.prompt_name ?? defaultPromptName;
      if (name !== undefined) {
        const p = Object.hasOwn(prompts, name) ? prompts[name] : undefined;
        if (p === undefined) {
          const names = Object.keys(prompts);
          throw new DualbertError('INVALID_ARGUMENT', `prompt_name "${String(name)}" is not one of the model's prompts (${names.length ? names.join(', ') : 'it has none'})`);
        }
        prefix = p;
      }
    }
    if (prefix && !includePrompt) {
      throw new DualbertError('UNSUPPORTED_ARCHITECTURE', 'the model pools without its prompt tokens (Pooling include_prompt: false), which dualbert does not implement');
    }
    return prefix;
  }

  /**
   * Tokenizes every text, sorts them by length so each batch holds texts of similar length
   * (little padding), runs the batches, and writes each embedding back at its input position.
   */
  private async embedAll(texts: readonly string[], plan: EmbedPlan, signal?: AbortSignal): Promise<EmbeddingResult> {
    this.live();
    const C = this.dimension;
    const data = new Float32Array(texts.length * C);
    const { maxLength, lowercaseInput } = this.model.defaults;
    const encodings = texts.map((t, i) => {
      const text = plan.prefix + t;
      const e = this.tokenizer.encode(lowercaseInput ? text.toLowerCase() : text, { maxLength: plan.truncation ? maxLength : null, padding: false });
      if (e.ids.length > maxLength) {
        throw new DualbertError(
          'INPUT_TOO_LONG',
          `text ${i} has ${e.ids.length} tokens; the model accepts ${maxLength} (pass truncation: true to cut it)`,
        );
      }
      return e;
    });
    // Longest first: the first batch sizes the backend's activation storage for the whole call.
    const order = texts.map((_, i) => i).sort((a, b) => encodings[b]!.ids.length - encodings[a]!.ids.length || a - b);
    for (let start = 0; start < order.length; start += plan.batchSize) {
      signal?.throwIfAborted();
      const rows = order.slice(start, start + plan.batchSize);
      const batch = this.tokenizer.pad(
        rows.map((i) => encodings[i]!),
        { direction: 'Right' },
      );
      const { output } = await this.runBatch(plan.graph, batch);
      rows.forEach((textIndex, r) => data.set(output.subarray(r * C, (r + 1) * C), textIndex * C));
    }
    return { data, dims: [texts.length, C] };
  }

  /**
   * Runs one batch. With device 'auto' on the GPU, a GPU failure (device lost, a failed pipeline)
   * moves the embedder to the CPU for good: the batch is run again there and a warning is sent.
   */
  private async runBatch(graph: BertGraph, batch: Parameters<typeof runGraph>[2]): ReturnType<typeof runGraph> {
    const backend = this.live();
    try {
      return await runGraph(graph, backend, batch);
    } catch (e) {
      const gpuFailure = !(e instanceof DualbertError) || e.code === 'DEVICE_UNAVAILABLE';
      if (!this.fallback || backend.device !== 'webgpu' || !gpuFailure) throw e;
      const { weights, options } = this.fallback;
      const warn = (w: BackendWarning): boolean => this.dispatchEvent(new CustomEvent('warning', { detail: w }));
      const { webgpu: _gpu, ...cpuOptions } = options;
      const cpu = await createBackend('wasm', weights, cpuOptions).catch(() => createBackend('reference', weights, cpuOptions));
      try {
        backend.dispose();
      } catch {
        // a lost device may refuse cleanup; nothing else holds it
      }
      this.backend = cpu;
      this.fallback = undefined;
      warn({ code: 'GPU_FALLBACK', message: `the GPU failed (${(e as Error).message}); continuing on device "${cpu.device}"` });
      return runGraph(graph, cpu, batch);
    }
  }

  private graph(pooling: PoolingMode, normalize: boolean): BertGraph {
    const key = `${pooling}/${normalize}`;
    let g = this.graphs.get(key);
    if (!g) {
      g = buildBertGraph(this.model.config, { pooling, normalize, dense: this.model.defaults.dense });
      this.graphs.set(key, g);
    }
    return g;
  }

  private live(): DeviceBackend {
    if (!this.backend) throw new DualbertError('DISPOSED', 'this embedder was disposed');
    return this.backend;
  }
}

/**
 * Loads a model and returns an {@link Embedder}; with `worker: true`, a {@link WorkerEmbedder}
 * that runs everything in a worker (same API).
 * @param model "synthetic:tiny", "synthetic:minilm", a model directory (Node), or a URL base.
 * @example
 * import { createEmbedder } from 'dualbert';
 * const embedder = await createEmbedder('synthetic:minilm', { device: 'reference' });
 * const { data, dims } = await embedder.embed(['Hello world'], { pooling: 'mean', normalize: true });
 */
export function createEmbedder(model: string, options: WorkerModeOptions): Promise<WorkerEmbedder>;
export function createEmbedder(model: string | ModelSource, options?: EmbedderOptions & { worker?: false }): Promise<Embedder>;
export async function createEmbedder(
  model: string | ModelSource,
  options: EmbedderOptions & { worker?: boolean; workerUrl?: string | URL } = {},
): Promise<Embedder | WorkerEmbedder> {
  if (options.worker) {
    const { WorkerEmbedder } = await import('./worker/worker-embedder.js');
    return WorkerEmbedder.create(model as string, options as WorkerModeOptions);
  }
  const { worker: _, workerUrl: __, ...rest } = options;
  return Embedder.create(model, rest);
}
