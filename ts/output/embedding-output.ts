/**
 * What happens to a call's sentence embeddings after the graph, in sentence-transformers' order:
 * Matryoshka truncation to `dimensions` (renormalized when the call normalizes), then
 * quantization to `precision` over the whole call (so int8/uint8 ranges computed from the batch
 * are those of every embedding of the call, as `encode()` computes them). Options are checked
 * when the call is made, before any work is queued.
 */
import { DualbertError } from '../errors.js';
import { truncateEmbeddings } from './dimensions.js';
import { EMBEDDING_PRECISIONS, type EmbeddingMatrix, type EmbeddingPrecision, type QuantizeOptions, quantizeEmbeddings } from './quantize.js';

/** The output options of a call (a subset of EmbedOptions). */
export interface OutputOptions extends QuantizeOptions {
  dimensions?: number;
  precision?: EmbeddingPrecision;
}

/** A call's output steps, checked. */
export interface OutputPlan {
  /** Keep this many dimensions (undefined: all). */
  readonly dimensions: number | undefined;
  /** Renormalize after truncating (the call's embeddings are normalized). */
  readonly renormalize: boolean;
  readonly precision: EmbeddingPrecision;
  readonly quantize: QuantizeOptions;
}

/**
 * Checks the output options of a call against the model: `dimensions` (default: the model's
 * `truncate_dim`) between 1 and the embedding width; `precision` a known one; `ranges` /
 * `calibration` only with int8 or uint8, and not both.
 * @example planOutput({ dimensions: 256, precision: 'int8' }, { width: 768, normalize: true, truncateDim: undefined })
 */
export function planOutput(options: OutputOptions, model: { width: number; normalize: boolean; truncateDim: number | undefined }, call = 'embed'): OutputPlan {
  const dimensions = options.dimensions ?? model.truncateDim;
  if (dimensions !== undefined && (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1 || dimensions > model.width)) {
    throw new DualbertError('INVALID_ARGUMENT', `dimensions must be an integer from 1 to the model's ${model.width}, got ${String(dimensions)}`);
  }
  const precision = options.precision ?? 'float32';
  if (!EMBEDDING_PRECISIONS.includes(precision)) {
    throw new DualbertError('INVALID_ARGUMENT', `precision "${String(precision)}" is not one of ${EMBEDDING_PRECISIONS.join(', ')}`);
  }
  const calibrated = options.ranges !== undefined || options.calibration !== undefined;
  if (calibrated && precision !== 'int8' && precision !== 'uint8') {
    throw new DualbertError('INVALID_ARGUMENT', `ranges and calibration apply to precision int8 or uint8, not ${precision}`);
  }
  if (options.ranges !== undefined && options.calibration !== undefined) {
    throw new DualbertError('INVALID_ARGUMENT', 'pass ranges or calibration, not both (ranges win in sentence-transformers; say which you mean)');
  }
  if (call === 'embedBatches' && (precision === 'int8' || precision === 'uint8') && !calibrated) {
    // Ranges from "the batch" would differ from window to window of a stream: codes of one
    // stream must be comparable, so they come from the caller.
    throw new DualbertError('INVALID_ARGUMENT', `embedBatches with precision ${precision} needs ranges or calibration embeddings (ranges taken from each window would differ between windows)`);
  }
  const quantize: QuantizeOptions = {
    ...(options.ranges !== undefined ? { ranges: options.ranges } : {}),
    ...(options.calibration !== undefined ? { calibration: options.calibration } : {}),
  };
  return { dimensions: dimensions !== undefined && dimensions < model.width ? dimensions : undefined, renormalize: model.normalize, precision, quantize };
}

/**
 * Per-token output (`pooling: 'none'`) is the last hidden state as it is: sentence-level output
 * options do not apply to it, and asking for them is an error rather than silently ignored.
 * @example checkTokenOptions({ pooling: 'none', precision: 'int8' })   // throws INVALID_ARGUMENT
 */
export function checkTokenOptions(options: OutputOptions & { normalize?: boolean }, call = 'embed'): void {
  if (call === 'embedBatches') throw new DualbertError('INVALID_ARGUMENT', "pooling 'none' (per-token embeddings) is for embed(): each window would be padded to its own length");
  for (const key of ['dimensions', 'ranges', 'calibration'] as const) {
    if (options[key] !== undefined) throw new DualbertError('INVALID_ARGUMENT', `pooling 'none' returns the token embeddings as they are: ${key} does not apply`);
  }
  if (options.precision !== undefined && options.precision !== 'float32') {
    throw new DualbertError('INVALID_ARGUMENT', `pooling 'none' returns float32 token embeddings: precision ${String(options.precision)} does not apply`);
  }
  if (options.normalize === true) throw new DualbertError('INVALID_ARGUMENT', "pooling 'none' returns the token embeddings as they are: normalize does not apply");
}

/**
 * Applies a call's output plan to its float32 embeddings.
 * @example applyOutput({ data, dims: [n, 768] }, plan)   // e.g. Int8Array, dims [n, 256]
 */
export function applyOutput(m: EmbeddingMatrix<Float32Array>, plan: OutputPlan): EmbeddingMatrix {
  const truncated = plan.dimensions === undefined ? m : truncateEmbeddings(m, plan.dimensions, plan.renormalize);
  return plan.precision === 'float32' ? truncated : quantizeEmbeddings(truncated, plan.precision, plan.quantize);
}
