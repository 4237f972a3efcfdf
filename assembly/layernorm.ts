// LayerNorm over the C columns of each row: out = (x − mean) / sqrt(var + eps) · gamma + beta.
// x and out are [N, C] (legend in ts/graph/ops.ts); gamma and beta are [C].
//
// Two passes in f32, about a shift: d = x − x[0] (exact when the row sits on a large offset,
// where x and x[0] are within a factor 2 of each other), mean_d = Σd / C, var = Σ(d − mean_d)² / C.
// Without the shift, a row like 1000 ± 1 loses its mean to f32 rounding (ulp(1000) = 6e-5,
// already ~1e-4 of the row's spread) and no later pass can recover it.
// Sums use four lanes reduced as (l0 + l1) + (l2 + l3), then the tail in order; the scalar
// build keeps four partial sums the same way (bit-identical builds).

import { argF32, argI32, argPtr, nextTask, taskDone } from './layout';
import { LN_X, LN_OUT, LN_GAMMA, LN_BETA, LN_N, LN_C, LN_EPS } from '../ts/backends/wasm/job-args';

/** Rows per task of a LayerNorm job (ts/backends/wasm/backend.ts counts tasks the same way). */
const ROWS_PER_TASK = 16;

/**
 * One thread's share of a LayerNorm job. Arguments: the LN_* slots of
 * ts/backends/wasm/job-args.ts.
 */
export function layerNormJob(ctrl: usize, _tid: i32, gen: i32, first: i32): void {
  const x = argPtr(ctrl, LN_X);
  const out = argPtr(ctrl, LN_OUT);
  const gamma = argPtr(ctrl, LN_GAMMA);
  const beta = argPtr(ctrl, LN_BETA);
  const N = argI32(ctrl, LN_N);
  const C = argI32(ctrl, LN_C);
  const eps = argF32(ctrl, LN_EPS);
  const tasks = (N + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
  const ld = (<usize>C) << 2;
  for (let t = first; t >= 0; t = nextTask(ctrl, gen, tasks)) {
    const r1 = min(N, (t + 1) * ROWS_PER_TASK);
    for (let r = t * ROWS_PER_TASK; r < r1; r++) {
      layerNormRow(x + (<usize>r) * ld, out + (<usize>r) * ld, gamma, beta, C, eps);
    }
    taskDone(ctrl, tasks);
  }
}

/** LayerNorm of one row of C values (also run by GEMM tasks that fuse it, gemm.ts). */
export function layerNormRow(x: usize, out: usize, gamma: usize, beta: usize, C: i32, eps: f32): void {
  const C4 = C & ~3;
  const x0 = load<f32>(x);
  // Pass 1: mean of d = x − x0.
  let sum: f32;
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    const s = f32x4.splat(x0);
    let acc = f32x4.splat(0);
    for (; c < C4; c += 4) acc = f32x4.add(acc, f32x4.sub(v128.load(x + ((<usize>c) << 2)), s));
    sum = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  } else {
    let a0: f32 = 0, a1: f32 = 0, a2: f32 = 0, a3: f32 = 0;
    for (; c < C4; c += 4) {
      const p = x + ((<usize>c) << 2);
      a0 += load<f32>(p) - x0;
      a1 += load<f32>(p, 4) - x0;
      a2 += load<f32>(p, 8) - x0;
      a3 += load<f32>(p, 12) - x0;
    }
    sum = (a0 + a1) + (a2 + a3);
  }
  for (; c < C; c++) sum += load<f32>(x + ((<usize>c) << 2)) - x0;
  const mean = sum / <f32>C;

  // Pass 2: variance about the mean.
  let sq: f32;
  c = 0;
  if (ASC_FEATURE_SIMD) {
    const s = f32x4.splat(x0);
    const m = f32x4.splat(mean);
    let acc = f32x4.splat(0);
    for (; c < C4; c += 4) {
      const d = f32x4.sub(f32x4.sub(v128.load(x + ((<usize>c) << 2)), s), m);
      acc = f32x4.add(acc, f32x4.mul(d, d));
    }
    sq = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  } else {
    let a0: f32 = 0, a1: f32 = 0, a2: f32 = 0, a3: f32 = 0;
    for (; c < C4; c += 4) {
      const p = x + ((<usize>c) << 2);
      const d0 = load<f32>(p) - x0 - mean;
      const d1 = load<f32>(p, 4) - x0 - mean;
      const d2 = load<f32>(p, 8) - x0 - mean;
      const d3 = load<f32>(p, 12) - x0 - mean;
      a0 += d0 * d0;
      a1 += d1 * d1;
      a2 += d2 * d2;
      a3 += d3 * d3;
    }
    sq = (a0 + a1) + (a2 + a3);
  }
  for (; c < C; c++) {
    const d = load<f32>(x + ((<usize>c) << 2)) - x0 - mean;
    sq += d * d;
  }
  const inv: f32 = 1.0 / sqrt<f32>(sq / <f32>C + eps);

  // Pass 3: normalize, scale, shift.
  c = 0;
  if (ASC_FEATURE_SIMD) {
    const s = f32x4.splat(x0);
    const m = f32x4.splat(mean);
    const iv = f32x4.splat(inv);
    for (; c < C4; c += 4) {
      const o = (<usize>c) << 2;
      const d = f32x4.sub(f32x4.sub(v128.load(x + o), s), m);
      v128.store(out + o, f32x4.add(f32x4.mul(f32x4.mul(d, iv), v128.load(gamma + o)), v128.load(beta + o)));
    }
  }
  for (; c < C; c++) {
    const o = (<usize>c) << 2;
    const d = load<f32>(x + o) - x0 - mean;
    store<f32>(out + o, d * inv * load<f32>(gamma + o) + load<f32>(beta + o));
  }
}
