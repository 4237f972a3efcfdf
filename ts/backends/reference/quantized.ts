/**
 * ONNX dynamic quantization, written to be read: the arithmetic onnxruntime runs for a Linear
 * layer of a `quantize_dynamic` file (DynamicQuantizeLinear → MatMulInteger → Cast → Mul → Add),
 * every float step rounded to float32 as onnxruntime rounds it. The oracle of the q8 kernels
 * (see `LinearNode.precision` in ts/graph/ops.ts). Shapes use the legend of ts/graph/ops.ts.
 */
import type { QuantizedMatrix } from '../../graph/weights.js';

const f32 = Math.fround;

/** Rounds to the nearest integer, ties to even (C's nearbyint, WebAssembly's f32.nearest). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v); // ties toward +∞
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** DynamicQuantizeLinear's output: uint8 values with one scale and zero point. */
export interface DynamicQuantized {
  readonly values: Uint8Array;
  readonly scale: number;
  readonly zeroPoint: number;
}

/**
 * DynamicQuantizeLinear of float32 values (`x` is rounded to float32 first): the range widened
 * to include 0, scale = (max − min) / 255 (1 when max = min), zero point = round-half-even of
 * clamp(0 − min / scale, 0, 255), values = clamp(round-half-even(x / scale) + zero point, 0, 255).
 */
export function dynamicQuantize(x: ArrayLike<number>): DynamicQuantized {
  let min = 0;
  let max = 0;
  for (let i = 0; i < x.length; i++) {
    const v = f32(x[i]!);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const scale = max === min ? 1 : f32(f32(max - min) / 255);
  const zeroPoint = roundHalfEven(Math.max(0, Math.min(255, f32(0 - f32(min / scale)))));
  const values = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) values[i] = Math.max(0, Math.min(255, roundHalfEven(f32(f32(x[i]!) / scale)) + zeroPoint));
  return { values, scale, zeroPoint };
}

/**
 * out[r][m] = f32(Σ_k (xq[r][k] − xz)(w[m][k] − wz[m])) · f32(xs · ws[m]) + b[m], in float32.
 * x is [rows, K] (quantized as one tensor), W is [M, K], b is [M]; returns [rows, M]. The
 * integer sums are exact (JavaScript numbers hold them).
 */
export function quantizedLinear(x: ArrayLike<number>, rows: number, K: number, w: QuantizedMatrix, M: number, bias: ArrayLike<number>): Float64Array {
  const { values: xq, scale: xs, zeroPoint: xz } = dynamicQuantize(x);
  const out = new Float64Array(rows * M);
  const xRow = new Int32Array(K);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < K; k++) xRow[k] = xq[r * K + k]! - xz;
    for (let m = 0; m < M; m++) {
      const i = w.scale.length === 1 ? 0 : m;
      const wz = w.zeroPoint[i]!;
      let sum = 0;
      for (let k = 0; k < K; k++) sum += xRow[k]! * (w.values[m * K + k]! - wz);
      const multiplier = f32(xs * w.scale[i]!);
      out[r * M + m] = f32(f32(f32(sum) * multiplier) + f32(bias[m]!));
    }
  }
  return out;
}
