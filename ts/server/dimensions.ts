/**
 * Matryoshka truncation for the `dimensions` request field: keep the first n values of each
 * embedding, then L2-normalize again when the full embedding was normalized (as
 * sentence-transformers' `truncate_dim` followed by its Normalize does). Kept in this one
 * function so it can be replaced by the library's own `dimensions` option once it has one.
 */

/**
 * The first `dimensions` values of `row`, renormalized when `renormalize` (eps 1e-12, as the
 * model's Normalize uses). Returns `row` itself when nothing is cut.
 * @example truncateDimensions(new Float32Array([0.6, 0.8, 0]), 1, true) // Float32Array [1]
 */
export function truncateDimensions(row: Float32Array, dimensions: number, renormalize: boolean): Float32Array {
  if (dimensions >= row.length) return row;
  const out = row.slice(0, dimensions);
  if (!renormalize) return out;
  let sumSquares = 0;
  for (const v of out) sumSquares += v * v;
  const scale = 1 / Math.max(Math.sqrt(sumSquares), 1e-12);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! * scale;
  return out;
}
