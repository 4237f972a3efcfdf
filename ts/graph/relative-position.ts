/**
 * MPNet's relative position bias (transformers' `MPNetEncoder.compute_position_bias`): the score
 * of query i and key j gains bias[bucket(j − i), h], where offsets are bucketed T5-style — exact
 * below 8 in either direction, then logarithmic up to `maxDistance`, then saturated.
 *
 * The bucket arithmetic is float32 in transformers (`torch.log(n.float() / max_exact)` …), and
 * an offset near a bucket boundary (16, 32, 64) lands on one side or the other by float32
 * rounding, so it is reproduced here step by step in float32.
 */

/** The bucket of offset j − i (transformers' relative_position_bucket, bidirectional). */
export function relativePositionBucket(offset: number, buckets: number, maxDistance: number): number {
  const half = Math.floor(buckets / 2);
  let n = -offset;
  let ret = n < 0 ? half : 0;
  n = Math.abs(n);
  const maxExact = Math.floor(half / 2);
  if (n < maxExact) return ret + n;
  const f = Math.fround;
  const ratio = f(f(Math.log(f(n / maxExact))) / f(Math.log(maxDistance / maxExact)));
  const large = maxExact + Math.trunc(f(ratio * (half - maxExact)));
  ret += Math.min(large, half - 1);
  return ret;
}

/**
 * The bias by offset, [NH, 2S − 1]: column j − i + S − 1 of row h is table[bucket(j − i), h],
 * for every offset of sequences up to S tokens. `table` is the checkpoint's
 * `relative_attention_bias.weight`, [rows, NH] (rows ≥ buckets).
 */
export function relativeBiasByOffset(table: Float32Array, buckets: number, numHeads: number, maxDistance: number, span: number): Float32Array {
  const width = 2 * span - 1;
  const out = new Float32Array(numHeads * width);
  for (let c = 0; c < width; c++) {
    const bucket = relativePositionBucket(c - (span - 1), buckets, maxDistance);
    for (let h = 0; h < numHeads; h++) out[h * width + c] = table[bucket * numHeads + h]!;
  }
  return out;
}
