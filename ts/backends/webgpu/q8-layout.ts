/**
 * How the webgpu backend keeps a q8 linear weight (shaders/gemm_q8.wgsl): laid out once, on the
 * CPU, when the backend is created. W [M, K] of int8 or uint8 becomes
 * - `words` [⌈K/4⌉, Mp] u32, Mp = M rounded up to 4: the word at (kw, m) holds the signed bytes
 *   w8[m][4kw .. 4kw+3] (k0 in the low byte, as dot4I8Packed reads them), zero past K and M;
 *   int8 weights as they are, uint8 weights as w − 128 (their zero point moved by the same 128),
 *   so one kernel runs every file: Σ (xq − xz)(w − wz) = Σ (xq − xz)(w8 − zpe);
 * - `meta` [Mp] × 4 u32: (zpe, scale as f32 bits, Σ_k w8[m][k], 0) per output row.
 * A quarter of the bytes of float32 weights (plus 16 bytes per row).
 */
import type { QuantizedMatrix } from '../../graph/weights.js';

/** A q8 weight as gemm_q8.wgsl reads it. */
export interface Q8Layout {
  /** [⌈K/4⌉, Mp] u32. */
  readonly words: Uint32Array;
  /** [Mp, 4] u32: effective zero point (i32), scale (f32 bits), column sum (i32), 0. */
  readonly meta: Uint32Array;
  /** M rounded up to 4. */
  readonly mp: number;
  /** ⌈K/4⌉. */
  readonly kw: number;
}

const f32Word = new Float32Array(1);
const u32Word = new Uint32Array(f32Word.buffer);

/**
 * The gemm_q8 layout of a [M, K] quantized matrix.
 * @example
 * const l = q8Layout(2, 3, { dtype: 'int8', values: Int8Array.of(1, 2, 3, -1, -2, -3), scale: Float32Array.of(0.5), zeroPoint: Int32Array.of(0) });
 * l.words[0];     // 0x030201 (row 0: bytes 1, 2, 3, 0)
 * l.meta[2];      // 6 (Σ_k of row 0)
 */
export function q8Layout(M: number, K: number, q: QuantizedMatrix): Q8Layout {
  const kw = Math.ceil(K / 4);
  const mp = Math.ceil(M / 4) * 4;
  const words = new Uint32Array(kw * mp);
  const meta = new Uint32Array(mp * 4);
  const shift = q.dtype === 'uint8' ? 128 : 0;
  for (let m = 0; m < M; m++) {
    const i = q.scale.length === 1 ? 0 : m;
    let colsum = 0;
    for (let k = 0; k < K; k++) {
      const w8 = q.values[m * K + k]! - shift;
      colsum += w8;
      const at = (k >> 2) * mp + m;
      words[at] = words[at]! | ((w8 & 0xff) << (8 * (k & 3)));
    }
    f32Word[0] = q.scale[i]!;
    meta[4 * m] = (q.zeroPoint[i]! - shift) >>> 0;
    meta[4 * m + 1] = u32Word[0]!;
    meta[4 * m + 2] = colsum >>> 0;
  }
  return { words, meta, mp, kw };
}
