// The small row ops, run by the calling thread alone (they touch N·C or B·C values once, far
// below the GEMMs' cost): embedding gather + add, masked pooling, L2 normalization, and the
// activation of a Dense head.
// Legend in ts/graph/ops.ts. `ids`, `typeIds` and `mask` are i32 [B·T]; the host has checked
// every id against its table before calling.

import { ACT_RELU, ACT_SIGMOID, ACT_TANH, POOL_CLS, POOL_LASTTOKEN, POOL_MAX, POOL_MEAN_SQRT_LEN, POOL_WEIGHTEDMEAN } from './layout';
import { exp1 } from './math';

/**
 * out[n] = word[ids[n]] + position[(n mod T) + posOffset] + tokenType[typeIds[n]], [N, C], added
 * in that order (two f32 roundings). The tables are row-major [rows][C]; `position` or
 * `tokenType` 0 means the model has no such table (its term is left out).
 */
export function embed(out: usize, ids: usize, typeIds: usize, word: usize, position: usize, tokenType: usize, N: i32, T: i32, C: i32, posOffset: i32): void {
  const ld = (<usize>C) << 2;
  const C4 = C & ~3;
  for (let n = 0; n < N; n++) {
    const w = word + <usize>load<i32>(ids + ((<usize>n) << 2)) * ld;
    const p = position + <usize>(n % T + posOffset) * ld;
    const t = tokenType + <usize>load<i32>(typeIds + ((<usize>n) << 2)) * ld;
    const o = out + (<usize>n) * ld;
    if (position == 0 || tokenType == 0) {
      // Rotary or segment-less families: the terms they have, in the same order.
      for (let c = 0; c < C; c++) {
        const off = (<usize>c) << 2;
        let v = load<f32>(w + off);
        if (position != 0) v += load<f32>(p + off);
        if (tokenType != 0) v += load<f32>(t + off);
        store<f32>(o + off, v);
      }
      continue;
    }
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      for (; c < C4; c += 4) {
        const off = (<usize>c) << 2;
        v128.store(o + off, f32x4.add(f32x4.add(v128.load(w + off), v128.load(p + off)), v128.load(t + off)));
      }
    }
    for (; c < C; c++) {
      const off = (<usize>c) << 2;
      store<f32>(o + off, load<f32>(w + off) + load<f32>(p + off) + load<f32>(t + off));
    }
  }
}

/**
 * Pools each sequence's token rows of x ([B·T, C]) into out ([B, C]) under the mask (the modes
 * of sentence-transformers' Pooling module; t is the position in the sequence, from 0):
 *   mean          = Σ masked rows / max(count, 1e-9) (sentence-transformers' clamp)
 *   cls           = row 0
 *   max           = column-wise max over masked rows (−∞ when none, as the reference)
 *   mean_sqrt_len = Σ masked rows / sqrt(count)
 *   weightedmean  = Σ (t+1)·row / max(Σ (t+1), 1e-9) over masked rows
 *   lasttoken     = the row of the last masked token (row 0 when none)
 * Rows are summed in order, per column (a weight is multiplied first, then added: no FMA), so
 * every build agrees bit for bit.
 */
export function pool(out: usize, x: usize, mask: usize, B: i32, T: i32, C: i32, mode: i32): void {
  const ld = (<usize>C) << 2;
  const C4 = C & ~3;
  for (let b = 0; b < B; b++) {
    const o = out + (<usize>b) * ld;
    const first = x + (<usize>(b * T)) * ld;
    if (mode == POOL_CLS || mode == POOL_LASTTOKEN) {
      let t = 0;
      if (mode == POOL_LASTTOKEN) {
        for (let j = 0; j < T; j++) if (load<i32>(mask + ((<usize>(b * T + j)) << 2)) != 0) t = j;
      }
      memory.copy(o, first + (<usize>t) * ld, ld);
      continue;
    }
    const isMax = mode == POOL_MAX;
    const weighted = mode == POOL_WEIGHTEDMEAN;
    const init: f32 = isMax ? -Infinity : 0;
    for (let c = 0; c < C; c++) store<f32>(o + ((<usize>c) << 2), init);
    let count: f32 = 0; // Σ weights: the token count, or Σ (t+1) (exact in f32 up to 2^24)
    for (let t = 0; t < T; t++) {
      if (load<i32>(mask + ((<usize>(b * T + t)) << 2)) == 0) continue;
      const w: f32 = weighted ? <f32>(t + 1) : 1;
      count += w;
      const row = first + (<usize>t) * ld;
      let c = 0;
      if (ASC_FEATURE_SIMD) {
        const wv = f32x4.splat(w);
        for (; c < C4; c += 4) {
          const off = (<usize>c) << 2;
          const v = v128.load(row + off);
          const a = v128.load(o + off);
          v128.store(o + off, isMax ? f32x4.max(a, v) : f32x4.add(a, weighted ? f32x4.mul(wv, v) : v));
        }
      }
      for (; c < C; c++) {
        const off = (<usize>c) << 2;
        const v = load<f32>(row + off);
        const a = load<f32>(o + off);
        store<f32>(o + off, isMax ? max<f32>(a, v) : a + (weighted ? w * v : v));
      }
    }
    if (!isMax) {
      const denom: f32 = mode == POOL_MEAN_SQRT_LEN ? sqrt<f32>(count) : max<f32>(count, 1e-9);
      for (let c = 0; c < C; c++) {
        const off = (<usize>c) << 2;
        store<f32>(o + off, load<f32>(o + off) / denom);
      }
    }
  }
}

/**
 * Applies a Dense head's activation in place to n values (the GEMM that precedes it added the
 * bias; GELU and identity are GEMM epilogues). f32 with the exp of math.ts:
 *   tanh(x) = sign(x)·(1 − e^{−2|x|}) / (1 + e^{−2|x|}),  sigmoid(x) = 1 / (1 + e^{−x}) for x ≥ 0
 *   and e^x / (1 + e^x) below (neither form overflows; |error| ≤ ~2e-7 against float64).
 */
export function activate(x: usize, n: i32, act: i32): void {
  for (let i = 0; i < n; i++) {
    const p = x + ((<usize>i) << 2);
    const v = load<f32>(p);
    let r: f32;
    if (act == ACT_RELU) {
      r = max<f32>(v, 0);
    } else if (act == ACT_TANH) {
      const e = exp1(-2 * abs<f32>(v));
      r = copysign<f32>((1 - e) / (1 + e), v);
    } else if (act == ACT_SIGMOID) {
      const e = exp1(-abs<f32>(v));
      r = v >= 0 ? 1 / (1 + e) : e / (1 + e);
    } else {
      r = v;
    }
    store<f32>(p, r);
  }
}

/**
 * out[b] = x[b] / max(‖x[b]‖₂, eps) for B rows of C (torch.nn.functional.normalize). The sum of
 * squares is taken in f64, so tiny rows (1e-20) do not underflow and huge ones do not overflow.
 */
export function normalize(out: usize, x: usize, B: i32, C: i32, eps: f64): void {
  const ld = (<usize>C) << 2;
  for (let b = 0; b < B; b++) {
    const row = x + (<usize>b) * ld;
    const o = out + (<usize>b) * ld;
    let sq: f64 = 0;
    for (let c = 0; c < C; c++) {
      const v = <f64>load<f32>(row + ((<usize>c) << 2));
      sq += v * v;
    }
    const denom = max<f64>(sqrt<f64>(sq), eps);
    for (let c = 0; c < C; c++) {
      const off = (<usize>c) << 2;
      store<f32>(o + off, <f32>(<f64>load<f32>(row + off) / denom));
    }
  }
}
