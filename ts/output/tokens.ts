/**
 * Per-token embeddings (`pooling: 'none'`): the last hidden state of every text, padded to the
 * longest text of the call, with the attention mask that says which rows are real tokens (what
 * late-interaction scoring, ColBERT-style, needs). Batches run at their own padded length, so
 * each batch's rows are widened to the call's length here.
 */

/**
 * Token embeddings of a call: `dims = [texts, T, C]`, T the longest text of the call in tokens;
 * row t of text i is `data.subarray((i·T + t)·C, (i·T + t + 1)·C)`, real when
 * `attentionMask[i·T + t]` is 1 (padding rows are zeros).
 * @example
 * const { data, dims: [n, T, C], attentionMask } = await embedder.embed(texts, { pooling: 'none' });
 */
export interface TokenEmbeddingsResult {
  data: Float32Array;
  dims: [number, number, number];
  attentionMask: Uint8Array;
}

/**
 * The token rows of one batch ([B·Tb, C], Tb the batch's padded length) as B rows of T·C values
 * (T ≥ Tb): each text's real tokens (mask 1) in place, zeros for its padding, so batches of
 * different lengths line up and padding never carries the encoder's values for pad tokens.
 * @example widenTokenRows(output, batch.attentionMask, 2, 5, 8, 384)   // Float32Array of 2 × 8·384
 */
export function widenTokenRows(output: Float32Array | Float64Array, mask: Uint8Array, rows: number, batchLength: number, callLength: number, C: number): Float32Array {
  const out = new Float32Array(rows * callLength * C);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < batchLength; t++) {
      if (mask[r * batchLength + t] === 0) continue;
      const from = (r * batchLength + t) * C;
      out.set(output.subarray(from, from + C), (r * callLength + t) * C);
    }
  }
  return out;
}

/**
 * The attention mask of a call's token embeddings: the first `lengths[i]` rows of text i.
 * @example tokenMask([2, 3], 3)   // Uint8Array [1, 1, 0, 1, 1, 1]
 */
export function tokenMask(lengths: readonly number[], T: number): Uint8Array {
  const mask = new Uint8Array(lengths.length * T);
  for (const [i, n] of lengths.entries()) mask.fill(1, i * T, i * T + n);
  return mask;
}
