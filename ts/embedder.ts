/**
 * The embedder: tokenizer + graph + one backend. This is what `createEmbedder` returns.
 */
import { type BackendOptions, type DeviceBackend, type Device, type DeviceOption, createBackend } from './backends/backend.js';
import { DualbertError } from './errors.js';
import { type BertGraph, buildBertGraph } from './graph/bert.js';
import { runGraph } from './graph/execute.js';
import type { PoolingMode } from './graph/ops.js';
import { bindWeights } from './graph/weights.js';
import { type LoadedModel, type ProgressCallback, loadModel } from './model/load.js';
import type { ModelSource } from './model/sources.js';
import type { Tokenizer } from './tokenizer/index.js';

export interface EmbedderOptions extends BackendOptions {
  /** Which path runs the model. 'auto' picks the fastest available. Default 'auto'. */
  device?: DeviceOption;
  /** Called as files are read and when the model is ready (transformers.js event names). */
  progress_callback?: ProgressCallback;
}

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
}

/** Embeddings as one row-major matrix, `dims = [texts, hidden]` (the transformers.js Tensor shape). */
export interface EmbeddingResult {
  data: Float32Array;
  dims: [number, number];
}

const POOLING_MODES: readonly PoolingMode[] = ['mean', 'cls', 'max'];

export class Embedder {
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
  ) {
    this.tokenizer = model.tokenizer;
    this.dimension = model.config.hiddenSize;
    this.backend = backend;
  }

  /** Loads a model and prepares a backend. Prefer the `createEmbedder` function. */
  static async create(model: string | ModelSource, options: EmbedderOptions = {}): Promise<Embedder> {
    const loaded = await loadModel(model, options.progress_callback ? { progress_callback: options.progress_callback } : {});
    const graph = buildBertGraph(loaded.config, { pooling: loaded.defaults.pooling, normalize: loaded.defaults.normalize });
    const { device = 'auto', progress_callback: _, ...backendOptions } = options;
    const backend = await createBackend(device, bindWeights(graph.weights, loaded.checkpoint), backendOptions);
    return new Embedder(loaded, backend);
  }

  /** The path that runs the model. */
  get device(): Device {
    return this.live().device;
  }

  /** Threads the backend computes with (1 unless the wasm path runs with workers). */
  get threads(): number {
    return this.live().threads ?? 1;
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
    list.forEach((t, i) => {
      if (typeof t !== 'string') throw new DualbertError('INVALID_ARGUMENT', `embed(texts): texts[${i}] is ${typeof t}, not a string`);
    });
    const pooling = options.pooling ?? this.model.defaults.pooling;
    if (!POOLING_MODES.includes(pooling)) {
      throw new DualbertError('INVALID_ARGUMENT', `pooling "${String(pooling)}" is not one of ${POOLING_MODES.join(', ')}`);
    }
    const normalize = options.normalize ?? this.model.defaults.normalize;
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new DualbertError('INVALID_ARGUMENT', `batchSize must be a positive integer, got ${String(batchSize)}`);
    }
    const truncation = options.truncation ?? true;

    const run = this.queue.then(() => this.embedAll(list, this.graph(pooling, normalize), batchSize, truncation));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Frees the backend. The embedder cannot be used afterwards. */
  dispose(): void {
    this.backend?.dispose();
    this.backend = undefined;
  }

  private async embedAll(texts: readonly string[], graph: BertGraph, batchSize: number, truncation: boolean): Promise<EmbeddingResult> {
    const backend = this.live();
    const C = this.dimension;
    const data = new Float32Array(texts.length * C);
    const { maxLength, lowercaseInput } = this.model.defaults;
    for (let start = 0; start < texts.length; start += batchSize) {
      const chunk = texts.slice(start, start + batchSize).map((t) => (lowercaseInput ? t.toLowerCase() : t));
      const batch = this.tokenizer.encodeBatch(chunk, { maxLength: truncation ? maxLength : null });
      if (!truncation) {
        const i = batch.lengths.findIndex((n) => n > maxLength);
        if (i >= 0) {
          throw new DualbertError(
            'INPUT_TOO_LONG',
            `text ${start + i} has ${batch.lengths[i]} tokens; the model accepts ${maxLength} (pass truncation: true to cut it)`,
          );
        }
      }
      const { output } = await runGraph(graph, backend, batch);
      data.set(output instanceof Float32Array ? output : Float32Array.from(output), start * C);
    }
    return { data, dims: [texts.length, C] };
  }

  private graph(pooling: PoolingMode, normalize: boolean): BertGraph {
    const key = `${pooling}/${normalize}`;
    let g = this.graphs.get(key);
    if (!g) {
      g = buildBertGraph(this.model.config, { pooling, normalize });
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
 * Loads a model and returns an {@link Embedder}.
 * @param model "synthetic:tiny", "synthetic:minilm", a model directory (Node), or a URL base.
 * @example
 * import { createEmbedder } from 'dualbert';
 * const embedder = await createEmbedder('synthetic:minilm', { device: 'reference' });
 * const { data, dims } = await embedder.embed(['Hello world'], { pooling: 'mean', normalize: true });
 */
export function createEmbedder(model: string | ModelSource, options: EmbedderOptions = {}): Promise<Embedder> {
  return Embedder.create(model, options);
}
