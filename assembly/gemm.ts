// GEMM with fused epilogues: out[N, M] = x[N, K] · Wᵀ + b, then nothing / GELU / + residual.
// Shapes use the legend of ts/graph/ops.ts; here N = rows of x, K = inner size, M = out columns.
//
// Layouts (byte offsets into linear memory, all f32):
//   x    [N][K] row-major (an activation);  out, res [N][M] row-major;  bias [M] padded to 8.
//   W    packed once at load into P = ⌈M/8⌉ panels of [K][8]: panel p holds W[8p + j][k] at
//        (p·K + k)·8 + j, zero-filled past M. One microkernel step reads 8 consecutive weights.
//   A    (packed-A path) a block of x rows re-laid per thread as groups of 4 rows: [K][4].
//
// Microkernel: 4 rows × 8 columns, 8 f32x4 accumulators; per k, the 4 x values are broadcast
// with v128.load32_splat and the 8 weights are two v128 loads (measured: 4×8 is the shape
// that fits x64's 16 XMM registers in V8; 6×8 and 4×16 spill). Accumulation is over k in order,
// mul then add (fused in the relaxed-SIMD builds), starting from 0; the bias is added in the
// epilogue (the reference's order).
// The scalar build computes the tile as four 2×4 blocks with scalar accumulators in the same
// order, so every build gives bit-identical results (the relaxed builds aside: FMA).
//
// Cache blocking: a task is (block of MC rows) × (group of PG panels). The weight panel
// (K·32 bytes) stays in L1/L2 while the MC/4 row groups of the block stream over it; the A
// block (MC·K·4 bytes) stays in L2 across the panels of the task. No k-blocking: the epilogue
// runs from the finished sums. The host picks MC, PG and whether to pack A (see
// ts/backends/wasm/backend.ts): packing costs one pass over the block and pays when a task
// covers many panels.

import { EPI_GELU, EPI_RESIDUAL, argF32, argI32, argPtr, nextTask, taskDone } from './layout';
import { GEMM_X, GEMM_W, GEMM_BIAS, GEMM_OUT, GEMM_RESIDUAL, GEMM_N, GEMM_K, GEMM_M, GEMM_EPI, GEMM_SCRATCH, GEMM_SCRATCH_PER_THREAD, GEMM_MC, GEMM_PG, GEMM_PACK_A, GEMM_LN_OUT, GEMM_LN_GAMMA, GEMM_LN_BETA, GEMM_LN_EPS } from '../ts/backends/wasm/job-args';
import { layerNormRow } from './layernorm';
import { gelu1, gelu4 } from './math';

/** Bytes of the 4×8 f32 tile each thread keeps at the start of its scratch. */
export const TILE_BYTES: usize = 128;

/**
 * c + a·b on four lanes. The relaxed-SIMD builds fuse it (f32x4.relaxed_madd: one FMA where
 * the CPU has one, +28% GEMM throughput measured on Zen 4); the others multiply, then add.
 */
// @ts-ignore: decorator
@inline function macc(c: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// ---- microkernels: compute one 4×8 tile of sums into `tile` ([4][8] f32) ----

/** A packed as [K][4] at `pa`; B panel [K][8] at `pb`. */
export function kernelPacked(pa: usize, pb: usize, K: i32, tile: usize): void {
  if (ASC_FEATURE_SIMD) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    // One k per iteration: unrolling makes V8 hoist the later B loads and spill (measured).
    const end = pb + ((<usize>K) << 5);
    while (pb < end) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      let a = v128.load32_splat(pa);
      c00 = macc(c00, a, b0);
      c01 = macc(c01, a, b1);
      a = v128.load32_splat(pa, 4);
      c10 = macc(c10, a, b0);
      c11 = macc(c11, a, b1);
      a = v128.load32_splat(pa, 8);
      c20 = macc(c20, a, b0);
      c21 = macc(c21, a, b1);
      a = v128.load32_splat(pa, 12);
      c30 = macc(c30, a, b0);
      c31 = macc(c31, a, b1);
      pa += 16;
      pb += 32;
    }
    v128.store(tile, c00, 0);
    v128.store(tile, c01, 16);
    v128.store(tile, c10, 32);
    v128.store(tile, c11, 48);
    v128.store(tile, c20, 64);
    v128.store(tile, c21, 80);
    v128.store(tile, c30, 96);
    v128.store(tile, c31, 112);
  } else {
    scalarBlock(pa, pa + 4, 16, pb, K, tile);
    scalarBlock(pa, pa + 4, 16, pb + 16, K, tile + 16);
    scalarBlock(pa + 8, pa + 12, 16, pb, K, tile + 64);
    scalarBlock(pa + 8, pa + 12, 16, pb + 16, K, tile + 80);
  }
}

/** A as four row pointers (row-major, consecutive k 4 bytes apart); B panel [K][8] at `pb`. */
export function kernelStrided(a0: usize, a1: usize, a2: usize, a3: usize, pb: usize, K: i32, tile: usize): void {
  if (ASC_FEATURE_SIMD) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    const end = pb + ((<usize>K) << 5);
    while (pb < end) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      let a = v128.load32_splat(a0);
      c00 = macc(c00, a, b0);
      c01 = macc(c01, a, b1);
      a = v128.load32_splat(a1);
      c10 = macc(c10, a, b0);
      c11 = macc(c11, a, b1);
      a = v128.load32_splat(a2);
      c20 = macc(c20, a, b0);
      c21 = macc(c21, a, b1);
      a = v128.load32_splat(a3);
      c30 = macc(c30, a, b0);
      c31 = macc(c31, a, b1);
      a0 += 4;
      a1 += 4;
      a2 += 4;
      a3 += 4;
      pb += 32;
    }
    v128.store(tile, c00, 0);
    v128.store(tile, c01, 16);
    v128.store(tile, c10, 32);
    v128.store(tile, c11, 48);
    v128.store(tile, c20, 64);
    v128.store(tile, c21, 80);
    v128.store(tile, c30, 96);
    v128.store(tile, c31, 112);
  } else {
    scalarBlock(a0, a1, 4, pb, K, tile);
    scalarBlock(a0, a1, 4, pb + 16, K, tile + 16);
    scalarBlock(a2, a3, 4, pb, K, tile + 64);
    scalarBlock(a2, a3, 4, pb + 16, K, tile + 80);
  }
}

/**
 * Scalar 2×4 block (scalar build): rows at a0, a1 advancing `aStep` bytes per k, 4 columns of
 * a [K][8] panel at `pb`; writes two tile rows (8 floats apart). 8 accumulators, k in order.
 * (2×4 beats 4×4 by 16% in V8: 16 scalar accumulators plus operands spill x64's 16 XMM.)
 */
// @ts-ignore: decorator
@inline function scalarBlock(a0: usize, a1: usize, aStep: usize, pb: usize, K: i32, tile: usize): void {
  let c00: f32 = 0, c01: f32 = 0, c02: f32 = 0, c03: f32 = 0;
  let c10: f32 = 0, c11: f32 = 0, c12: f32 = 0, c13: f32 = 0;
  for (let k = 0; k < K; k++) {
    const b0 = load<f32>(pb, 0);
    const b1 = load<f32>(pb, 4);
    const b2 = load<f32>(pb, 8);
    const b3 = load<f32>(pb, 12);
    let a = load<f32>(a0);
    c00 += a * b0;
    c01 += a * b1;
    c02 += a * b2;
    c03 += a * b3;
    a = load<f32>(a1);
    c10 += a * b0;
    c11 += a * b1;
    c12 += a * b2;
    c13 += a * b3;
    a0 += aStep;
    a1 += aStep;
    pb += 32;
  }
  store<f32>(tile, c00, 0);
  store<f32>(tile, c01, 4);
  store<f32>(tile, c02, 8);
  store<f32>(tile, c03, 12);
  store<f32>(tile, c10, 32);
  store<f32>(tile, c11, 36);
  store<f32>(tile, c12, 40);
  store<f32>(tile, c13, 44);
}

// ---- epilogue: tile (+ bias, GELU / + residual) → out ----

/**
 * Writes `rows` (≤ 4) × `cols` (≤ 8) of the tile to out (row stride `ldo` bytes), after adding
 * the bias (8 values at `bias`, padded) and applying `epi`; res has row stride `ldr`.
 * Full 8-column tiles use v128 stores; a partial last panel goes element by element, so no
 * access crosses the end of a row (or of memory).
 */
export function epilogue(tile: usize, bias: usize, out: usize, ldo: usize, res: usize, ldr: usize, epi: i32, rows: i32, cols: i32): void {
  if (ASC_FEATURE_SIMD) {
    const bias0 = v128.load(bias);
    const bias1 = v128.load(bias, 16);
    for (let r = 0; r < rows; r++) {
      const t = tile + ((<usize>r) << 5);
      let v0 = f32x4.add(v128.load(t), bias0);
      let v1 = f32x4.add(v128.load(t, 16), bias1);
      if (epi == EPI_GELU) {
        v0 = gelu4(v0);
        v1 = gelu4(v1);
      }
      const o = out + (<usize>r) * ldo;
      if (cols == 8) {
        if (epi == EPI_RESIDUAL) {
          const rr = res + (<usize>r) * ldr;
          v0 = f32x4.add(v0, v128.load(rr));
          v1 = f32x4.add(v1, v128.load(rr, 16));
        }
        v128.store(o, v0);
        v128.store(o, v1, 16);
      } else {
        v128.store(t, v0);
        v128.store(t, v1, 16);
        for (let c = 0; c < cols; c++) {
          const off = (<usize>c) << 2;
          let v = load<f32>(t + off);
          if (epi == EPI_RESIDUAL) v += load<f32>(res + (<usize>r) * ldr + off);
          store<f32>(o + off, v);
        }
      }
    }
  } else {
    for (let r = 0; r < rows; r++) {
      const t = tile + ((<usize>r) << 5);
      const o = out + (<usize>r) * ldo;
      for (let c = 0; c < cols; c++) {
        const off = (<usize>c) << 2;
        let v = load<f32>(t + off) + load<f32>(bias + off);
        if (epi == EPI_GELU) v = gelu1(v);
        else if (epi == EPI_RESIDUAL) v += load<f32>(res + (<usize>r) * ldr + off);
        store<f32>(o + off, v);
      }
    }
  }
}

// ---- A packing ----

/**
 * Packs rows [r0, r1) of x ([N][K]) as groups of 4 rows, [K][4] per group, at `dst`. Rows past
 * N − 1 repeat row N − 1 (their results are computed and discarded), so the kernel never reads
 * outside x.
 */
export function packRows(x: usize, K: i32, N: i32, r0: i32, r1: i32, dst: usize): void {
  const lda = (<usize>K) << 2;
  for (let g = r0; g < r1; g += 4) {
    const p0 = x + (<usize>g) * lda;
    const p1 = x + (<usize>min(g + 1, N - 1)) * lda;
    const p2 = x + (<usize>min(g + 2, N - 1)) * lda;
    const p3 = x + (<usize>min(g + 3, N - 1)) * lda;
    let k = 0;
    if (ASC_FEATURE_SIMD) {
      // 4×4 transposes: four rows' k..k+3 become four [row0..row3] vectors.
      for (; k + 4 <= K; k += 4) {
        const off = (<usize>k) << 2;
        const r0v = v128.load(p0 + off);
        const r1v = v128.load(p1 + off);
        const r2v = v128.load(p2 + off);
        const r3v = v128.load(p3 + off);
        const t0 = v128.shuffle<f32>(r0v, r1v, 0, 4, 1, 5);
        const t1 = v128.shuffle<f32>(r0v, r1v, 2, 6, 3, 7);
        const t2 = v128.shuffle<f32>(r2v, r3v, 0, 4, 1, 5);
        const t3 = v128.shuffle<f32>(r2v, r3v, 2, 6, 3, 7);
        const d = dst + ((<usize>k) << 4);
        v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5), 0);
        v128.store(d, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 16);
        v128.store(d, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 32);
        v128.store(d, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 48);
      }
    }
    for (; k < K; k++) {
      const off = (<usize>k) << 2;
      const d = dst + ((<usize>k) << 4);
      store<f32>(d, load<f32>(p0 + off), 0);
      store<f32>(d, load<f32>(p1 + off), 4);
      store<f32>(d, load<f32>(p2 + off), 8);
      store<f32>(d, load<f32>(p3 + off), 12);
    }
    dst += (<usize>K) << 4;
  }
}

// ---- the parallel job ----

/**
 * One thread's share of a GEMM job. Arguments: the GEMM_* slots of ts/backends/wasm/job-args.ts.
 * MC: rows per block (multiple of 4); PG: panels per task; packA: 1 to pack each row block, 0 to
 * read x rows in place. When lnOut ≠ 0 (and PG covers all panels, so a task finishes whole rows),
 * each task also LayerNorms its finished rows of out into lnOut while they are in cache
 * (layernorm.ts, the same arithmetic as the LayerNorm job).
 * Scratch of thread `tid`: [tile 128 B][A block MC·K·4 B when packA].
 */
export function gemmJob(ctrl: usize, tid: i32, gen: i32, first: i32): void {
  const x = argPtr(ctrl, GEMM_X);
  const w = argPtr(ctrl, GEMM_W);
  const bias = argPtr(ctrl, GEMM_BIAS);
  const out = argPtr(ctrl, GEMM_OUT);
  const res = argPtr(ctrl, GEMM_RESIDUAL);
  const N = argI32(ctrl, GEMM_N);
  const K = argI32(ctrl, GEMM_K);
  const M = argI32(ctrl, GEMM_M);
  const epi = argI32(ctrl, GEMM_EPI);
  const scratch = argPtr(ctrl, GEMM_SCRATCH) + (<usize>tid) * argPtr(ctrl, GEMM_SCRATCH_PER_THREAD);
  const MC = argI32(ctrl, GEMM_MC);
  const PG = argI32(ctrl, GEMM_PG);
  const packA = argI32(ctrl, GEMM_PACK_A) != 0;
  const lnOut = argPtr(ctrl, GEMM_LN_OUT);
  const gamma = argPtr(ctrl, GEMM_LN_GAMMA);
  const beta = argPtr(ctrl, GEMM_LN_BETA);
  const eps = argF32(ctrl, GEMM_LN_EPS);

  const P = (M + 7) >> 3;
  const groups = (P + PG - 1) / PG;
  const tasks = ((N + MC - 1) / MC) * groups;
  const lda = (<usize>K) << 2;
  const ldo = (<usize>M) << 2;
  const tile = scratch;
  const apack = scratch + TILE_BYTES;
  let packedBlock = -1;
  for (let t = first; t >= 0; t = nextTask(ctrl, gen, tasks)) {
    const block = t / groups;
    const group = t - block * groups;
    const r0 = block * MC;
    const r1 = min(N, r0 + MC);
    const p1 = min(P, (group + 1) * PG);
    if (packA && packedBlock != block) {
      packRows(x, K, N, r0, r1, apack);
      packedBlock = block;
    }
    for (let p = group * PG; p < p1; p++) {
      const pb = w + (<usize>p) * (<usize>K) * 32;
      const col = (<usize>p) << 5;
      const cols = min(8, M - (p << 3));
      for (let r = r0; r < r1; r += 4) {
        if (packA) {
          kernelPacked(apack + (<usize>(r - r0)) * lda, pb, K, tile);
        } else {
          const a0 = x + (<usize>r) * lda;
          kernelStrided(
            a0,
            x + (<usize>min(r + 1, N - 1)) * lda,
            x + (<usize>min(r + 2, N - 1)) * lda,
            x + (<usize>min(r + 3, N - 1)) * lda,
            pb,
            K,
            tile,
          );
        }
        const o = (<usize>r) * ldo + col;
        epilogue(tile, bias + col, out + o, ldo, res + o, ldo, epi, min(4, r1 - r), cols);
      }
    }
    if (lnOut != 0) {
      for (let r = r0; r < r1; r++) layerNormRow(out + (<usize>r) * ldo, lnOut + (<usize>r) * ldo, gamma, beta, M, eps);
    }
    taskDone(ctrl, tasks);
  }
}
