/**
 * The public types of embedding calls, in one module that both the in-thread embedder
 * (embedder.ts) and worker mode (worker/) import, so neither imports the other.
 */
import type { BackendOptions, BackendStats, BackendWarning, DeviceOption } from './backends/types.js';
import type { PoolingMode } from './graph/ops.js';
import type { LoadOptions, ProgressCallback, WeightsDtype } from './model/load.js';
import type { EmbeddingPrecision, QuantizeOptions } from './output/quantize.js';
import type { TokenEmbeddingsResult } from './output/tokens.js';

export type { DataOf, EmbeddingPrecision, QuantizeOptions } from './output/quantize.js';
export type { TokenEmbeddingsResult } from './output/tokens.js';

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
   * read from that int8 export (quantize_dynamic's), its Linear weights kept in int8 and computed
   * with onnxruntime's arithmetic on the wasm and webgpu devices (dot4I8Packed on WebGPU; not with
   * `shaderF16`); files with a fixed activation quantization are dequantized with a warning.
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
  /**
   * Matryoshka: keep the first n dimensions of each embedding, renormalized when the call
   * normalizes (sentence-transformers `encode(truncate_dim=n, normalize_embeddings=True)`).
   * Default: the model's `truncate_dim`, if any.
   */
  dimensions?: number;
}

/**
 * Options of an {@link Embedder.embed} call that returns quantized embeddings
 * (sentence-transformers `precision`): `int8` / `uint8` (Int8Array / Uint8Array, calibrated by
 * `ranges`, `calibration` embeddings, or else the call's own embeddings), `binary` / `ubinary`
 * (the bits x > 0 packed MSB first: Int8Array / Uint8Array with `dims = [n, d/8]`).
 * @example const { data, dims } = await embedder.embed(texts, { precision: 'ubinary' });   // Uint8Array, [n, 48]
 */
export interface QuantizedEmbedOptions<P extends EmbeddingPrecision = EmbeddingPrecision> extends EmbedOptions, QuantizeOptions {
  precision: P;
}

/**
 * Options of an {@link Embedder.embed} call that returns per-token embeddings (the last hidden
 * state with its attention mask: late interaction) instead of pooled sentence embeddings.
 * @example const { data, dims, attentionMask } = await embedder.embed(texts, { pooling: 'none' });
 */
export interface TokenEmbedOptions extends Omit<EmbedOptions, 'pooling' | 'dimensions' | 'normalize'> {
  pooling: 'none';
}

/**
 * Any options of an {@link Embedder.embed} call, when the kind of result is only known at run
 * time (cast the result to the kind you asked for).
 * @example const r = (await embedder.embed(texts, options as EmbedOptions)) as AnyEmbeddingResult;
 */
export interface AnyEmbedOptions extends Omit<EmbedOptions, 'pooling'>, QuantizeOptions {
  pooling?: PoolingMode | 'none';
  precision?: EmbeddingPrecision;
}

/**
 * What an {@link Embedder.embed} call with {@link AnyEmbedOptions} returns.
 * @example const r: AnyEmbeddingResult = await embedder.embed(texts, options); if (r.dims.length === 3) useTokens(r);
 */
export type AnyEmbeddingResult = EmbeddingResult<Float32Array | Int8Array | Uint8Array> | TokenEmbeddingsResult;

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
export interface EmbeddingBatch<D extends Float32Array | Int8Array | Uint8Array = Float32Array> extends EmbeddingResult<D> {
  offset: number;
}

/**
 * Embeddings as one row-major matrix, `dims = [texts, hidden]` (the transformers.js Tensor shape);
 * Int8Array or Uint8Array for a quantized `precision` (`dims[1]` is then d/8 for the binary ones).
 * @example const { data, dims } = await embedder.embed(['a', 'b']); const second = data.subarray(dims[1], 2 * dims[1]);
 */
export interface EmbeddingResult<D extends Float32Array | Int8Array | Uint8Array = Float32Array> {
  data: D;
  dims: [number, number];
}


/**
 * What {@link Embedder.stats} reports.
 * @example if ((embedder.stats().wasmMemoryBytes ?? 0) > 2 ** 30) console.warn('over 1 GiB of wasm memory');
 */
export type EmbedderStats = BackendStats;
