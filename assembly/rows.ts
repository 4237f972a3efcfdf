// The small row ops, run by the calling thread alone (they touch N·C or B·C values once, far
// below the GEMMs' cost): embedding gather + add, masked pooling, L2 normalization.
// Legend in ts/graph/ops.ts. `ids`, `typeIds` and `mask` are i32 [B·T]; the host has checked
// every id against its table before calling.

import { POOL_CLS, POOL_MAX } from './layout';

/**
 * out[n] = word[ids[n]] + position[n mod T] + tokenType[typeIds[n]], [N, C], added in that
 * order (two f32 roundings). The tables are row-major [rows][C].
 */
export function embed(out: usize, ids: usize, typeIds: usize, word: usize, position: usize, tokenType: usize, N: i32, T: i32, C: i32): void {
  const ld = (<usize>C) << 2;
  const C4 = C & ~3;
  for (let n = 0; n < N; n++) {
    const w = word + <usize>load<i32>(ids + ((<usize>n) << 2)) * ld;
    const p = position + <usize>(n % T) * ld;
    const t = tokenType + <usize>load<i32>(typeIds + ((<usize>n) << 2)) * ld;
    const o = out + (<usize>n) * ld;
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
 * Pools each sequence's token rows of x ([B·T, C]) into out ([B, C]) under the mask:
 * mean = Σ masked rows / max(count, 1e-9) (sentence-transformers' clamp), cls = row 0,
 * max = column-wise max over masked rows (−∞ when none, as the reference).
 * Rows are summed in order, per column: every build agrees bit for bit.
 */
export function pool(out: usize, x: usize, mask: usize, B: i32, T: i32, C: i32, mode: i32): void {
  const ld = (<usize>C) << 2;
  const C4 = C & ~3;
  for (let b = 0; b < B; b++) {
    const o = out + (<usize>b) * ld;
    const first = x + (<usize>(b * T)) * ld;
    if (mode == POOL_CLS) {
      memory.copy(o, first, ld);
      continue;
    }
    const isMax = mode == POOL_MAX;
    const init: f32 = isMax ? -Infinity : 0;
    for (let c = 0; c < C; c++) store<f32>(o + ((<usize>c) << 2), init);
    let count = 0;
    for (let t = 0; t < T; t++) {
      if (load<i32>(mask + ((<usize>(b * T + t)) << 2)) == 0) continue;
      count++;
      const row = first + (<usize>t) * ld;
      let c = 0;
      if (ASC_FEATURE_SIMD) {
        for (; c < C4; c += 4) {
          const off = (<usize>c) << 2;
          const v = v128.load(row + off);
          const a = v128.load(o + off);
          v128.store(o + off, isMax ? f32x4.max(a, v) : f32x4.add(a, v));
        }
      }
      for (; c < C; c++) {
        const off = (<usize>c) << 2;
        const v = load<f32>(row + off);
        const a = load<f32>(o + off);
        store<f32>(o + off, isMax ? max<f32>(a, v) : a + v);
      }
    }
    if (!isMax) {
      const denom = max<f32>(<f32>count, 1e-9);
      for (let c = 0; c < C; c++) {
        const off = (<usize>c) << 2;
        store<f32>(o + off, load<f32>(o + off) / denom);
      }
    }
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
