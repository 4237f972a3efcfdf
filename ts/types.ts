/**
 * The public types of embedding calls, in one module that both the in-thread embedder
 * (embedder.ts) and worker mode (worker/) import, so neither imports the other.
 */
import type { BackendOptions, BackendStats, BackendWarning, DeviceOption } from './backends/types.js';
import type { PoolingMode } from './graph/ops.js';
import type { LoadOptions, ProgressCallback, WeightsDtype } from './model/load.js';

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
export type EmbedderStats = BackendStats;
