/**
 * The embedder: tokenizer + graph + one backend. This is what `createEmbedder` returns.
 */
import { createBackend } from './backends/registry.js';
import type { Backend, BackendOptions, BackendWarning, Device } from './backends/types.js';
import { DualbertError } from './errors.js';
import { boundThreads, optionsOf, streamTextsOf, textsOf } from './inputs.js';
import { streamInWindows } from './stream.js';
import { Pacer } from './yield.js';
import { type BertGraph, buildBertGraph } from './graph/bert.js';
import { assertSupported, prepareGraph, type RunResult } from './graph/execute.js';
import { tokenEmbeddingsGraph } from './graph/heads.js';
import { type OutputPlan, applyOutput, checkTokenOptions, planOutput } from './output/embedding-output.js';
import { type Embeddings, type SimilarityMatrix, type Vector, similarity } from './output/similarity.js';
import { tokenMask, widenTokenRows } from './output/tokens.js';
import type { DataOf, EmbeddingPrecision } from './output/quantize.js';
import { type BatchInputs, POOLING_MODES, type PoolingMode } from './graph/ops.js';
import { bindWeights, quantizedNames } from './graph/weights.js';
import { type LoadOptions, type LoadedModel, loadModel } from './model/load.js';
import type {
  AnyEmbedOptions,
  AnyEmbeddingResult,
  EmbedBatchesOptions,
  EmbedderOptions,
  EmbedderStats,
  EmbeddingBatch,
  EmbeddingResult,
  EmbedOptions,
  QuantizedEmbedOptions,
  TokenEmbedOptions,
  TokenEmbeddingsResult,
} from './types.js';
import type { ModelSource } from './model/sources.js';
import type { Tokenizer } from './tokenizer/index.js';
import type { WorkerEmbedder, WorkerModeOptions } from './worker/worker-embedder.js';

export type {
  AnyEmbedOptions,
  AnyEmbeddingResult,
  EmbedBatchesOptions,
  EmbedderOptions,
  EmbedderStats,
  EmbeddingBatch,
  EmbeddingResult,
  EmbedOptions,
  QuantizedEmbedOptions,
  TokenEmbedOptions,
  TokenEmbeddingsResult,
} from './types.js';

/** Per-call settings, validated. */
interface EmbedPlan {
  graph: BertGraph;
  batchSize: number;
  truncation: boolean;
  /** The prompt put before every text ('' for none). */
  prefix: string;
  /** Per-token output (pooling 'none'): the graph ends at the last hidden state. */
  tokens: boolean;
  /** Truncation and quantization of the sentence embeddings (output/embedding-output.ts). */
  output: OutputPlan;
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
  /** Embedding width (the model's `truncate_dim` when it has one). */
  readonly dimension: number;
  /** Width of the graph's sentence embeddings (before any Matryoshka truncation). */
  private readonly width: number;
  private backend: Backend | undefined;
  private readonly graphs = new Map<string, BertGraph>();
  /** Calls run one after another: backends reuse their activation storage between batches. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Turns of the event loop between pieces of work on in-thread devices (see yield.ts). */
  private readonly pacer = new Pacer();

  private constructor(
    private readonly model: LoadedModel,
    backend: Backend,
    onWarning: ((w: BackendWarning) => void) | undefined,
  ) {
    super();
    if (onWarning) this.addEventListener('warning', (e) => onWarning((e as CustomEvent<BackendWarning>).detail));
    this.tokenizer = model.tokenizer;
    this.width = model.defaults.dense.at(-1)?.outFeatures ?? model.config.hiddenSize;
    this.dimension = Math.min(model.defaults.truncateDim ?? this.width, this.width);
    this.backend = backend;
  }

  /** Loads a model and prepares a backend. Prefer the `createEmbedder` function. */
  static async create(model: string | ModelSource, options: EmbedderOptions = {}): Promise<Embedder> {
    const { device = 'auto', progress_callback, dtype, cache, cache_dir, offline, revision, remote_host, maxAttempts, fetch, warn, signal, timeout, onWarning, ...backendOptions } = options;
    const loadOptions: LoadOptions = { progress_callback, dtype, cache, cache_dir, offline, revision, remote_host, maxAttempts, fetch, warn, signal, timeout };
    for (const k of Object.keys(loadOptions) as (keyof LoadOptions)[]) if (loadOptions[k] === undefined) delete loadOptions[k];
    const loaded = await loadModel(model, loadOptions);
    const { pooling, normalize, dense } = loaded.defaults;
    const graph = buildBertGraph(loaded.config, { pooling, normalize, dense }, { quantized: quantizedNames(loaded.checkpoint) });
    const weights = bindWeights(graph.weights, loaded.checkpoint);
    const opts: BackendOptions = { ...backendOptions, ...(dtype === 'fp16' || dtype === 'fp32' ? { dtype } : {}) };
    const threads = await boundThreads(opts.threads, (message) => onWarning?.({ code: 'SLOW_PATH', message }));
    if (threads !== undefined) opts.threads = threads;
    // Warnings during creation happen before anyone can listen: they go to onWarning directly;
    // later ones (a GPU lost mid-session) are dispatched as `warning` events.
    let sink: ((w: BackendWarning) => void) | undefined = onWarning;
    const backend = await createBackend(device, weights, opts, (w) => sink?.(w), graph.nodes);
    try {
      assertSupported(backend, graph.nodes); // e.g. a Dense head on a device that lacks it: fail now, clearly
      // The kernels of the default graph compiled now, in parallel, rather than one by one inside
      // the first embed().
      await backend.warmUp?.(prepareGraph(graph, backend).plan([graph.output]));
    } catch (e) {
      backend.dispose();
      throw e;
    }
    const embedder = new Embedder(loaded, backend, onWarning);
    sink = (w) => embedder.dispatchEvent(new CustomEvent('warning', { detail: w }));
    return embedder;
  }

  /** The path that runs the model. */
  get device(): Device {
    return this.live().device;
  }

  /** Threads the backend computes with (1 unless the wasm path runs with workers). */
  get threads(): number {
    return this.live().threads;
  }

  /**
   * Memory and resource figures of the backend, for monitoring long-running processes:
   * the wasm linear memory in bytes, or the WebGPU pools (buckets, buffers, pipelines).
   * @example const { wasmMemoryBytes, webgpu } = embedder.stats();
   */
  stats(): EmbedderStats {
    return this.live().stats();
  }

  /** The model's defaults: pooling, normalization and max length. */
  get defaults(): LoadedModel['defaults'] {
    return this.model.defaults;
  }

  /**
   * Embeds texts. Results are in input order. `precision` returns quantized embeddings,
   * `dimensions` Matryoshka-truncated ones, `pooling: 'none'` per-token embeddings with their mask.
   * @example
   * const { data, dims } = await embedder.embed(['a cat', 'a dog']);   // dims = [2, 384]
   * const codes = await embedder.embed(texts, { precision: 'ubinary', dimensions: 256 });   // Uint8Array, [n, 32]
   */
  embed(texts: string | readonly string[], options: TokenEmbedOptions): Promise<TokenEmbeddingsResult>;
  embed<P extends EmbeddingPrecision>(texts: string | readonly string[], options: QuantizedEmbedOptions<P>): Promise<EmbeddingResult<DataOf<P>>>;
  embed(texts: string | readonly string[], options?: EmbedOptions): Promise<EmbeddingResult>;
  async embed(texts: string | readonly string[], options: AnyEmbedOptions = {}): Promise<AnyEmbeddingResult> {
    const list = textsOf(texts); // checked and copied now: the caller may change the array before the call runs
    const plan = this.plan(optionsOf(options));
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
  embedBatches<P extends EmbeddingPrecision>(texts: Iterable<string> | AsyncIterable<string>, options: EmbedBatchesOptions & QuantizedEmbedOptions<P>): AsyncGenerator<EmbeddingBatch<DataOf<P>>>;
  embedBatches(texts: Iterable<string> | AsyncIterable<string>, options?: EmbedBatchesOptions): AsyncGenerator<EmbeddingBatch>;
  embedBatches(texts: Iterable<string> | AsyncIterable<string>, options: EmbedBatchesOptions & AnyEmbedOptions = {}): AsyncGenerator<EmbeddingBatch<Float32Array | Int8Array | Uint8Array>> {
    const input = streamTextsOf(texts); // a string is one text
    const { signal, ...rest } = optionsOf<EmbedBatchesOptions & AnyEmbedOptions>(options, 'embedBatches');
    const plan = this.plan(rest, 'embedBatches');
    return streamInWindows(input, { batchSize: plan.batchSize, lookaheadBatches: rest.lookaheadBatches, signal }, (window) => {
      const run = this.queue.then(() => this.embedAll(window, plan, signal) as Promise<EmbeddingResult<Float32Array | Int8Array | Uint8Array>>);
      this.queue = run.catch(() => undefined);
      return run;
    });
  }

  /**
   * The similarity matrix of two sets of embeddings (or two vectors) under the model's
   * `similarity_fn_name` (cosine unless the model says dot, euclidean or manhattan), as
   * sentence-transformers' `model.similarity()`.
   * @example const { data, dims } = embedder.similarity(await embedder.embed(queries), await embedder.embed(docs));
   */
  similarity(a: Vector | Embeddings, b: Vector | Embeddings): SimilarityMatrix {
    return similarity(a, b, this.model.defaults.similarityFnName);
  }

  /** Frees the backend. The embedder cannot be used afterwards. */
  dispose(): void {
    this.backend?.dispose();
    this.backend = undefined;
  }

  /** Validates per-call options once, before any work is queued. */
  private plan(options: AnyEmbedOptions, call: 'embed' | 'embedBatches' = 'embed'): EmbedPlan {
    const tokens = options.pooling === 'none';
    if (tokens) checkTokenOptions(options, call);
    const pooling = options.pooling === undefined || options.pooling === 'none' ? this.model.defaults.pooling : options.pooling;
    if (!POOLING_MODES.includes(pooling)) {
      throw new DualbertError('INVALID_ARGUMENT', `pooling "${String(pooling)}" is not one of ${[...POOLING_MODES, 'none'].join(', ')}`);
    }
    const normalize = tokens ? false : (options.normalize ?? this.model.defaults.normalize);
    const output = planOutput(options, { width: this.width, normalize, truncateDim: this.model.defaults.truncateDim }, call);
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new DualbertError('INVALID_ARGUMENT', `batchSize must be a positive integer, got ${String(batchSize)}`);
    }
    const graph = tokens ? this.tokenGraph() : this.graph(pooling, normalize);
    return { graph, batchSize, truncation: options.truncation ?? true, prefix: this.prompt(options), tokens, output };
  }

  /** The prompt of a call: `prompt`, else the named or default prompt of the model, else ''. */
  private prompt(options: Pick<EmbedOptions, 'prompt' | 'prompt_name'>): string {
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
  private async embedAll(texts: readonly string[], plan: EmbedPlan, signal?: AbortSignal): Promise<AnyEmbeddingResult> {
    this.live();
    const C = plan.graph.outputSize;
    const { maxLength, lowercaseInput } = this.model.defaults;
    const encodings = await this.pacer.map(texts, (t, i) => {
      const text = plan.prefix + t;
      const e = this.tokenizer.encode(lowercaseInput ? text.toLowerCase() : text, { maxLength: plan.truncation ? maxLength : null, padding: false });
      if (e.ids.length > maxLength) {
        throw new DualbertError(
          'INPUT_TOO_LONG',
          `text ${i} has ${e.ids.length} tokens; the model accepts ${maxLength} (pass truncation: true to cut it)`,
        );
      }
      return e;
    }, signal);
    // Longest first: the first batch sizes the backend's activation storage for the whole call.
    const order = texts.map((_, i) => i).sort((a, b) => encodings[b]!.ids.length - encodings[a]!.ids.length || a - b);
    // Per-token output: every text padded to the call's longest (T rows of C each).
    const T = plan.tokens && order.length ? encodings[order[0]!]!.ids.length : 0;
    const width = plan.tokens ? T * C : C;
    const data = new Float32Array(texts.length * width);
    const store = (rows: readonly number[], output: Float32Array | Float64Array): void => {
      for (const [r, textIndex] of rows.entries()) data.set(output.subarray(r * width, (r + 1) * width), textIndex * width);
    };
    // On the GPU, batch i + 1 is padded and submitted before batch i is read back, so the host
    // work of one batch (padding, recording, the readback round trip) overlaps the GPU work of
    // the other. In-thread devices compute while they are called: nothing to overlap there.
    const overlap = this.live().overlapsBatches === true;
    let inFlight: { rows: number[]; result: Promise<RunResult> } | undefined;
    try {
      for (let start = 0; start < order.length; start += plan.batchSize) {
        signal?.throwIfAborted();
        const rows = order.slice(start, start + plan.batchSize);
        const batch = this.tokenizer.pad(
          rows.map((i) => encodings[i]!),
          { direction: 'Right' },
        );
        const result = this.runBatch(plan.graph, batch, signal, plan.tokens ? { T, C } : undefined);
        if (!overlap) {
          store(rows, (await result).output);
          continue;
        }
        if (inFlight) store(inFlight.rows, (await inFlight.result).output);
        inFlight = { rows, result };
      }
      if (inFlight) store(inFlight.rows, (await inFlight.result).output);
    } finally {
      // A batch left in flight by an error is awaited by no one: keep its rejection handled.
      inFlight?.result.catch(() => undefined);
    }
    if (plan.tokens) return { data, dims: [texts.length, T, C], attentionMask: tokenMask(encodings.map((e) => e.ids.length), T) };
    return applyOutput({ data, dims: [texts.length, C] }, plan.output);
  }

  /** Runs one batch (a GPU lost under device 'auto' is handled by the backend: see backends/fallback.ts). */
  private runBatch(graph: BertGraph, batch: BatchInputs, signal?: AbortSignal, tokens?: { T: number; C: number }): Promise<RunResult> {
    const inThread = this.live().device !== 'webgpu';
    return this.pacer.run(batch, inThread, signal, async (b) => {
      const result = await prepareGraph(graph, this.live()).run(b);
      // Token rows of a (slice of a) batch, widened to the call's length so slices line up.
      return tokens ? { ...result, output: widenTokenRows(result.output, b.attentionMask, b.batchSize, b.seqLen, tokens.T, tokens.C) } : result;
    });
  }

  /** The encoder without a head: its output is the last hidden state (pooling 'none'). */
  private tokenGraph(): BertGraph {
    let g = this.graphs.get('none');
    if (!g) {
      g = tokenEmbeddingsGraph(this.graph(this.model.defaults.pooling, false));
      this.graphs.set('none', g);
    }
    return g;
  }

  private graph(pooling: PoolingMode, normalize: boolean): BertGraph {
    const key = `${pooling}/${normalize}`;
    let g = this.graphs.get(key);
    if (!g) {
      g = buildBertGraph(this.model.config, { pooling, normalize, dense: this.model.defaults.dense }, { quantized: quantizedNames(this.model.checkpoint) });
      this.graphs.set(key, g);
    }
    return g;
  }

  private live(): Backend {
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
