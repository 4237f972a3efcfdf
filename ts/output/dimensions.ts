/**
 * Matryoshka truncation: keep the first n values of each embedding, then L2-normalize again when
 * the full embedding was normalized — what sentence-transformers' `encode(truncate_dim=n,
 * normalize_embeddings=True)` returns (its Normalize module runs before the truncation, so a
 * truncated vector is renormalized only this way). Used by `embed(texts, { dimensions })`, by a
 * model's own `truncate_dim`, and by `dualbert serve`'s `dimensions` field.
 */
import { DualbertError } from '../errors.js';

/** torch.nn.functional.normalize's eps, as the model's Normalize module uses. */
const EPS = 1e-12;

/**
 * The first `dimensions` values of `row`, renormalized (in float64) when `renormalize`. Returns
 * `row` itself when nothing is cut.
 * @example truncateDimensions(new Float32Array([0.6, 0.8, 0]), 1, true) // Float32Array [1]
 */
export function truncateDimensions(row: Float32Array, dimensions: number, renormalize: boolean): Float32Array {
  if (dimensions >= row.length) return row;
  const out = row.slice(0, dimensions);
  if (!renormalize) return out;
  let sumSquares = 0;
  for (const v of out) sumSquares += v * v;
  const scale = 1 / Math.max(Math.sqrt(sumSquares), EPS);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! * scale;
  return out;
}

/**
 * {@link truncateDimensions} of every row of a row-major [n, d] matrix: [n, min(d, dimensions)].
 * @example truncateEmbeddings({ data, dims: [2, 768] }, 256, true).dims   // [2, 256]
 */
export function truncateEmbeddings(m: { data: Float32Array; dims: [number, number] }, dimensions: number, renormalize: boolean): { data: Float32Array; dims: [number, number] } {
  if (!Number.isInteger(dimensions) || dimensions < 1) {
    throw new DualbertError('INVALID_ARGUMENT', `dimensions must be a positive integer, got ${String(dimensions)}`);
  }
  const [n, d] = m.dims;
  if (dimensions >= d) return m;
  const out = new Float32Array(n * dimensions);
  for (let i = 0; i < n; i++) out.set(truncateDimensions(m.data.subarray(i * d, (i + 1) * d), dimensions, renormalize), i * dimensions);
  return { data: out, dims: [n, dimensions] };
}
