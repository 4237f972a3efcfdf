// Linear layers in int8: ONNX dynamic quantization as onnxruntime computes it
// (DynamicQuantizeLinear → MatMulInteger → Cast → Mul → Add), with the epilogues and the fused
// LayerNorm of gemm.ts. Shapes: x [N, K] f32, W [M, K] int8/uint8, out and res [N, M] f32
// (legend of ts/graph/ops.ts). The arithmetic (see LinearNode.precision):
//
//   xs = (max − min) / 255 over every value of x, min ≤ 0 ≤ max (1 when max = min), f32
//   xz = round-half-even(clamp(0 − min / xs, 0, 255))
//   xq = clamp(round-half-even(x / xs) + xz, 0, 255)           (f32 division, like MLAS)
//   s[n][m] = Σ_k (xq − xz)(wq − wz[m])                        exact in i32 (K ≤ 32 768)
//   out = f32(s) · f32(xs · ws[m]) + b[m], then GELU / + residual
//
// so that a q8 file gives what onnxruntime gives, bit for bit in the integer part.
//
// Two jobs per linear layer. Q8_MINMAX: tasks take chunks of x and write their min and max to
// a stats array (exact in any order). Q8_GEMM: every thread reduces the stats to xs and xz (the
// same few f32 operations in each thread), then each task quantizes its block of rows into its
// scratch and multiplies it with panels of W.
//
// Layouts (byte offsets):
//   W     packed once at load (ts/backends/wasm/backend.ts) as P = ⌈M/8⌉ panels of Kp/2 steps
//         (Kp = K rounded up to 4, zeros after K); one step is 16 bytes, the int8 weights of 8
//         rows at 2 consecutive k: [r0k0 r0k1 r1k0 r1k1 … r7k0 r7k1]. uint8 weights are stored
//         as int8 (w − 128) and their zero point moved by the same 128, so every file runs the
//         same kernel: Σ x'(w − wz) = Σ x'·w8 − (wz − 128)·Σ x', with x' = xq − xz.
//   zpe   [M rounded up to 8] i32: the zero point of each row in that int8 form ("effective").
//   ws    [M rounded up to 8] f32: the scale of each row.
//   A     per thread, a block of MC rows of x' as i16, groups of 4 rows: per k pair 16 bytes
//         [row0 k0 k1, row1 k0 k1, row2 …, row3 …], then the MC row sums Σ_k x' (i32).
//
// Microkernel (SIMD128): 4 rows × 8 columns, 8 i32x4 accumulators. Per k pair: one 16-byte
// load of weights widened to two i16x8 (rows 0–3 and 4–7 of the panel), and per row of x one
// 32-bit splat of its (k0, k1) pair; i32x4.dot_i16x8_s multiplies lane pairs and adds them, so
// lane j accumulates x'(k0)·w(j,k0) + x'(k1)·w(j,k1): no horizontal sums. |x'| ≤ 255 and
// |w8| ≤ 128: a pair sum is ≤ 65 280, a row of K = 4096 stays under 2²⁸. The scalar build runs
// the same sums in i32 (integer sums are exact: every build gives the same bits).
//
// Relaxed-SIMD builds, where a matrix's int8 weights span at most 128 values (7 bits, as
// quantize_dynamic's reduce_range gives): i32x4.relaxed_dot_i8x16_i7x16_add_s multiplies 16
// byte pairs and adds them into 4 lanes, twice the products per instruction of the i16 path.
// Its contract needs the second operand in [0, 127], so the weights are stored as b = w8 + o
// (o = −min w8, per matrix) and x as xq − 128 (int8): the sums are
//   Σ x'(w8 − zpe) = Σ (xq−128)·b + (128 − xz)·Σ_k b − (o + zpe)·Σ x'
// with the column sums Σ_k b kept beside the weights ("colsum") and o folded into zpe. Layouts
// of this path: W steps of 4 k, 32 bytes [r0 k0..k3, r1 …, r2 …, r3 … | r4 …, …, r7 k0..k3];
// A groups of 4 rows, steps of 4 k, 16 bytes [row0 k0..k3, row1 …, row2 …, row3 …]. Exact too:
// the same bits as every other build.

import { argF32, argI32, argPtr, nextTask, taskDone } from './layout';
import {
  Q8_X, Q8_W, Q8_ZPE, Q8_WSCALE, Q8_BIAS, Q8_OUT, Q8_RESIDUAL, Q8_N, Q8_K, Q8_M, Q8_EPI, Q8_SCRATCH,
  Q8_SCRATCH_PER_THREAD, Q8_MC, Q8_PG, Q8_LN_OUT, Q8_LN_GAMMA, Q8_LN_BETA, Q8_LN_EPS, Q8_STATS, Q8_STATS_COUNT,
  Q8_COLSUM, Q8MM_X, Q8MM_COUNT, Q8MM_STATS, Q8MM_CHUNK,
} from '../ts/backends/wasm/job-args';
import { TILE_BYTES, epilogue } from './gemm';
import { layerNormRow } from './layernorm';

/** K rounded up to a multiple of 4 (the packed weights and rows are zero past K). */
// @ts-ignore: decorator
@inline export function q8PaddedK(K: i32): i32 {
  return (K + 3) & ~3;
}

/** Bytes of scratch one thread needs for a q8 GEMM job with MC-row blocks of K columns. */
export function gemmQ8ScratchBytes(MC: i32, K: i32): usize {
  return TILE_BYTES + (<usize>MC) * (<usize>q8PaddedK(K)) * 2 + (<usize>MC) * 4;
}

// ---- Q8_MINMAX: min and max of x per chunk ----

/**
 * One thread's share of a min/max job: task t scans values [t·chunk, min(count, (t+1)·chunk))
 * of the f32 array at x and writes (min(0, …), max(0, …)) to stats + 8t.
 */
export function q8MinMaxJob(ctrl: usize, _tid: i32, gen: i32, first: i32): void {
  const x = argPtr(ctrl, Q8MM_X);
  const count = argI32(ctrl, Q8MM_COUNT);
  const stats = argPtr(ctrl, Q8MM_STATS);
  const chunk = argI32(ctrl, Q8MM_CHUNK);
  const tasks = (count + chunk - 1) / chunk;
  for (let t = first; t >= 0; t = nextTask(ctrl, gen, tasks)) {
    let i = t * chunk;
    const end = min(count, i + chunk);
    let lo: f32 = 0;
    let hi: f32 = 0;
    if (ASC_FEATURE_SIMD) {
      let vlo = f32x4.splat(0);
      let vhi = f32x4.splat(0);
      for (; i + 4 <= end; i += 4) {
        const v = v128.load(x + ((<usize>i) << 2));
        // pmin / pmax (b < a ? b : a): one instruction each on x64, where f32x4.min / max are
        // a NaN-aware sequence of several (this pass took ~10% of a K = 1536 layer). A NaN is
        // skipped, in every build alike (the scalar loop below compares the same way); a −0
        // bound gives the same scale and zero point as +0.
        vlo = f32x4.pmin(vlo, v);
        vhi = f32x4.pmax(vhi, v);
      }
      lo = min(min(f32x4.extract_lane(vlo, 0), f32x4.extract_lane(vlo, 1)), min(f32x4.extract_lane(vlo, 2), f32x4.extract_lane(vlo, 3)));
      hi = max(max(f32x4.extract_lane(vhi, 0), f32x4.extract_lane(vhi, 1)), max(f32x4.extract_lane(vhi, 2), f32x4.extract_lane(vhi, 3)));
    }
    for (; i < end; i++) {
      const v = load<f32>(x + ((<usize>i) << 2));
      lo = v < lo ? v : lo;
      hi = hi < v ? v : hi;
    }
    store<f32>(stats + ((<usize>t) << 3), lo);
    store<f32>(stats + ((<usize>t) << 3), hi, 4);
    taskDone(ctrl, tasks);
  }
}

// ---- quantizing a block of rows ----

/**
 * Quantizes rows [r0, r1) of x ([N][K] f32) with scale xs and zero point xz and packs
 * x' = xq − xz as i16 in groups of 4 rows (layout above) at `dst`, then the row sums at
 * `sums` (i32 per row of the block). Rows past N are zeros.
 */
export function quantizeRows(x: usize, K: i32, N: i32, r0: i32, r1: i32, xs: f32, xz: i32, dst: usize, sums: usize): void {
  const Kp = q8PaddedK(K);
  const lda = (<usize>K) << 2;
  const groupBytes = (<usize>Kp) << 3; // 4 rows × Kp × 2 bytes
  for (let g = r0; g < r1; g += 4) {
    const d = dst + (<usize>((g - r0) >> 2)) * groupBytes;
    for (let j = 0; j < 4; j++) {
      const r = g + j;
      let sum = 0;
      // Row j of the group: its pair (k, k+1) goes to d + (k/2)·16 + 4j.
      const dj = d + ((<usize>j) << 2);
      if (r >= N) {
        for (let k = 0; k < Kp; k += 2) store<u32>(dj + ((<usize>k) << 3), 0);
      } else {
        const row = x + (<usize>r) * lda;
        let k = 0;
        if (ASC_FEATURE_SIMD) {
          const vs = f32x4.splat(xs);
          // clamp(round(v / xs) + xz, 0, 255) − xz = round(clamp(v / xs, −xz, 255 − xz)), the
          // bounds being integers; rounded half to even by adding 1.5·2²³ (exact for |q| < 2²²),
          // whose low mantissa bits are then the integer. Fewer x64 instructions than nearest,
          // the saturating conversion (a long sequence in V8) and an integer clamp (−5% on a
          // K = 1536 layer); the same integers as quantizeOne, NaN → 0 included.
          const lo = -xz;
          const hi = 255 - xz;
          const vlo = f32x4.splat(<f32>lo);
          const vhi = f32x4.splat(<f32>hi);
          const magic = f32x4.splat(12582912.0);
          const magicBits = i32x4.splat(0x4b400000);
          let vsum = i32x4.splat(0);
          for (; k + 4 <= K; k += 4) {
            let f = f32x4.div(v128.load(row + ((<usize>k) << 2)), vs);
            f = v128.and(f, f32x4.eq(f, f)); // NaN → 0
            f = f32x4.pmin(f32x4.pmax(f, vlo), vhi);
            const q = i32x4.sub(f32x4.add(f, magic), magicBits);
            vsum = i32x4.add(vsum, q);
            // Lanes (k, k+1) and (k+2, k+3) as two i16 pairs.
            const p = i16x8.narrow_i32x4_s(q, q);
            store<u32>(dj + ((<usize>k) << 3), i32x4.extract_lane(p, 0));
            store<u32>(dj + ((<usize>(k + 2)) << 3), i32x4.extract_lane(p, 1));
          }
          sum = i32x4.extract_lane(vsum, 0) + i32x4.extract_lane(vsum, 1) + i32x4.extract_lane(vsum, 2) + i32x4.extract_lane(vsum, 3);
        }
        for (; k < Kp; k += 2) {
          const a = k < K ? quantizeOne(load<f32>(row + ((<usize>k) << 2)), xs, xz) : 0;
          const b = k + 1 < K ? quantizeOne(load<f32>(row + ((<usize>(k + 1)) << 2)), xs, xz) : 0;
          sum += a + b;
          store<u32>(dj + ((<usize>k) << 3), (<u32>a & 0xffff) | ((<u32>b) << 16));
        }
      }
      store<i32>(sums + ((<usize>(r - r0)) << 2), sum);
    }
  }
}

/** x' = clamp(round-half-even(v / xs) + xz, 0, 255) − xz. */
// @ts-ignore: decorator
@inline function quantizeOne(v: f32, xs: f32, xz: i32): i32 {
  const f = nearest<f32>(v / xs);
  // Out-of-range values (and NaN → 0) saturate like i32x4.trunc_sat_f32x4_s.
  const q = <i32>f + xz;
  return min(max(q, 0), 255) - xz;
}

/**
 * The relaxed path's packing (7-bit weights): rows [r0, r1) quantized as quantizeRows does,
 * stored as xq − 128 (int8), groups of 4 rows with 4 k per 16-byte step (layout above); the
 * row sums are of x' = xq − xz. Rows past N are zeros (any value would do: their sums are dropped).
 */
export function quantizeRowsI8(x: usize, K: i32, N: i32, r0: i32, r1: i32, xs: f32, xz: i32, dst: usize, sums: usize): void {
  const Kp = q8PaddedK(K);
  const lda = (<usize>K) << 2;
  const groupBytes = (<usize>Kp) << 2; // 4 rows × Kp bytes
  for (let g = r0; g < r1; g += 4) {
    const d = dst + (<usize>((g - r0) >> 2)) * groupBytes;
    for (let j = 0; j < 4; j++) {
      const r = g + j;
      let sum = 0;
      // Row j of the group: its bytes k .. k+3 go to d + (k/4)·16 + 4j.
      const dj = d + ((<usize>j) << 2);
      if (r >= N) {
        for (let k = 0; k < Kp; k += 4) store<u32>(dj + ((<usize>k) << 2), 0);
      } else {
        const row = x + (<usize>r) * lda;
        for (let k = 0; k < Kp; k += 4) {
          let word: u32 = 0;
          for (let i = 0; i < 4; i++) {
            // Past K: xq = 128 stores 0 and adds nothing to the row sum (the weights are zero there too).
            const q = k + i < K ? quantizeOne(load<f32>(row + ((<usize>(k + i)) << 2)), xs, xz) + xz : 128;
            if (k + i < K) sum += q - xz;
            word |= (<u32>((q - 128) & 0xff)) << (<u32>(i << 3));
          }
          store<u32>(dj + ((<usize>k) << 2), word);
        }
      }
      store<i32>(sums + ((<usize>(r - r0)) << 2), sum);
    }
  }
}

// ---- microkernel: one 4×8 tile of integer sums into `tile` ([4][8] i32) ----

/** A block group [Kp/2][4][2] i16 at `pa`; a weight panel [Kp/2][8][2] i8 at `pb`; `steps` = Kp/2. */
export function kernelQ8(pa: usize, pb: usize, steps: i32, tile: usize): void {
  if (ASC_FEATURE_SIMD) {
    let c00 = i32x4.splat(0), c01 = i32x4.splat(0), c10 = i32x4.splat(0), c11 = i32x4.splat(0);
    let c20 = i32x4.splat(0), c21 = i32x4.splat(0), c30 = i32x4.splat(0), c31 = i32x4.splat(0);
    const end = pb + ((<usize>steps) << 4);
    while (pb < end) {
      // Two sign-extending 8-byte loads (one instruction each: pmovsxbw from memory).
      const w0 = v128.load8x8_s(pb);
      const w1 = v128.load8x8_s(pb, 8);
      let a = v128.load32_splat(pa);
      c00 = i32x4.add(c00, i32x4.dot_i16x8_s(a, w0));
      c01 = i32x4.add(c01, i32x4.dot_i16x8_s(a, w1));
      a = v128.load32_splat(pa, 4);
      c10 = i32x4.add(c10, i32x4.dot_i16x8_s(a, w0));
      c11 = i32x4.add(c11, i32x4.dot_i16x8_s(a, w1));
      a = v128.load32_splat(pa, 8);
      c20 = i32x4.add(c20, i32x4.dot_i16x8_s(a, w0));
      c21 = i32x4.add(c21, i32x4.dot_i16x8_s(a, w1));
      a = v128.load32_splat(pa, 12);
      c30 = i32x4.add(c30, i32x4.dot_i16x8_s(a, w0));
      c31 = i32x4.add(c31, i32x4.dot_i16x8_s(a, w1));
      pa += 16;
      pb += 16;
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
    scalarBlockQ8(pa, pb, steps, tile);
    scalarBlockQ8(pa, pb + 8, steps, tile + 16);
    scalarBlockQ8(pa + 8, pb, steps, tile + 64);
    scalarBlockQ8(pa + 8, pb + 8, steps, tile + 80);
  }
}

/** The relaxed path: A group [Kp/4][4][4] i8 at `pa`, panel [Kp/4][8][4] u7 at `pb`; `steps` = Kp/4. */
export function kernelQ8Relaxed(pa: usize, pb: usize, steps: i32, tile: usize): void {
  if (ASC_FEATURE_RELAXED_SIMD) {
    let c00 = i32x4.splat(0), c01 = i32x4.splat(0), c10 = i32x4.splat(0), c11 = i32x4.splat(0);
    let c20 = i32x4.splat(0), c21 = i32x4.splat(0), c30 = i32x4.splat(0), c31 = i32x4.splat(0);
    const end = pb + ((<usize>steps) << 5);
    while (pb < end) {
      const w0 = v128.load(pb);
      const w1 = v128.load(pb, 16);
      let a = v128.load32_splat(pa);
      c00 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, w0, c00);
      c01 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, w1, c01);
      a = v128.load32_splat(pa, 4);
      c10 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, w0, c10);
      c11 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, w1, c11);
      a = v128.load32_splat(pa, 8);
      c20 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, w0, c20);
      c21 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, w1, c21);
      a = v128.load32_splat(pa, 12);
      c30 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, w0, c30);
      c31 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, w1, c31);
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
    unreachable(); // the host lays weights out for this path only in the relaxed builds
  }
}

/**
 * Scalar 2×4 block: rows at pa and pa + 4 (of a group, 16 bytes per step), 4 panel rows at pb
 * (their pairs at pb + 2j, 16 bytes per step); writes two tile rows (32 bytes apart).
 */
// @ts-ignore: decorator
@inline function scalarBlockQ8(pa: usize, pb: usize, steps: i32, tile: usize): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  for (let s = 0; s < steps; s++) {
    const a0 = <i32>load<i16>(pa);
    const a1 = <i32>load<i16>(pa, 2);
    const b0 = <i32>load<i16>(pa, 4);
    const b1 = <i32>load<i16>(pa, 6);
    let w0 = <i32>load<i8>(pb);
    let w1 = <i32>load<i8>(pb, 1);
    c00 += a0 * w0 + a1 * w1;
    c10 += b0 * w0 + b1 * w1;
    w0 = <i32>load<i8>(pb, 2);
    w1 = <i32>load<i8>(pb, 3);
    c01 += a0 * w0 + a1 * w1;
    c11 += b0 * w0 + b1 * w1;
    w0 = <i32>load<i8>(pb, 4);
    w1 = <i32>load<i8>(pb, 5);
    c02 += a0 * w0 + a1 * w1;
    c12 += b0 * w0 + b1 * w1;
    w0 = <i32>load<i8>(pb, 6);
    w1 = <i32>load<i8>(pb, 7);
    c03 += a0 * w0 + a1 * w1;
    c13 += b0 * w0 + b1 * w1;
    pa += 16;
    pb += 16;
  }
  store<i32>(tile, c00, 0);
  store<i32>(tile, c01, 4);
  store<i32>(tile, c02, 8);
  store<i32>(tile, c03, 12);
  store<i32>(tile, c10, 32);
  store<i32>(tile, c11, 36);
  store<i32>(tile, c12, 40);
  store<i32>(tile, c13, 44);
}

/**
 * Turns the i32 tile into f32 in place for `rows` rows: (s − zpe[j]·rowsum) as f32, times
 * f32(xs · ws[j]) (the 8 rows of the panel at zpe and ws); the relaxed path adds
 * (128 − xz)·colsum[j]. The bias and the epilogue follow (gemm.ts `epilogue`).
 */
function rescaleTile(tile: usize, sums: usize, zpe: usize, ws: usize, xs: f32, rows: i32, colsum: usize, xz: i32): void {
  if (ASC_FEATURE_SIMD) {
    const z0 = v128.load(zpe);
    const z1 = v128.load(zpe, 16);
    const vxs = f32x4.splat(xs);
    const m0 = f32x4.mul(vxs, v128.load(ws));
    const m1 = f32x4.mul(vxs, v128.load(ws, 16));
    // The relaxed path's (128 − xz)·Σ_k b per column (zero otherwise).
    let k0 = i32x4.splat(0);
    let k1 = i32x4.splat(0);
    if (colsum != 0) {
      const f = i32x4.splat(128 - xz);
      k0 = i32x4.mul(f, v128.load(colsum));
      k1 = i32x4.mul(f, v128.load(colsum, 16));
    }
    for (let r = 0; r < rows; r++) {
      const t = tile + ((<usize>r) << 5);
      const rs = i32x4.splat(load<i32>(sums + ((<usize>r) << 2)));
      const s0 = i32x4.sub(i32x4.add(v128.load(t), k0), i32x4.mul(z0, rs));
      const s1 = i32x4.sub(i32x4.add(v128.load(t, 16), k1), i32x4.mul(z1, rs));
      v128.store(t, f32x4.mul(f32x4.convert_i32x4_s(s0), m0));
      v128.store(t, f32x4.mul(f32x4.convert_i32x4_s(s1), m1), 16);
    }
  } else {
    for (let r = 0; r < rows; r++) {
      const t = tile + ((<usize>r) << 5);
      const rs = load<i32>(sums + ((<usize>r) << 2));
      for (let j = 0; j < 8; j++) {
        const off = (<usize>j) << 2;
        const s = load<i32>(t + off) - load<i32>(zpe + off) * rs;
        const m: f32 = xs * load<f32>(ws + off);
        store<f32>(t + off, (<f32>s) * m);
      }
    }
  }
}

// ---- Q8_GEMM: the parallel job ----

/**
 * One thread's share of a q8 GEMM job. Arguments: the Q8_* slots of
 * ts/backends/wasm/job-args.ts. Tasks are (block of MC rows) × (group of PG panels), as in
 * gemm.ts; a thread quantizes a block once for all the tasks of that block it takes in a row.
 * Scratch of thread `tid`: [tile 128 B][A block MC·Kp·2 B][row sums MC·4 B].
 */
export function gemmQ8Job(ctrl: usize, tid: i32, gen: i32, first: i32): void {
  const x = argPtr(ctrl, Q8_X);
  const w = argPtr(ctrl, Q8_W);
  const zpe = argPtr(ctrl, Q8_ZPE);
  const wscale = argPtr(ctrl, Q8_WSCALE);
  const bias = argPtr(ctrl, Q8_BIAS);
  const out = argPtr(ctrl, Q8_OUT);
  const res = argPtr(ctrl, Q8_RESIDUAL);
  const N = argI32(ctrl, Q8_N);
  const K = argI32(ctrl, Q8_K);
  const M = argI32(ctrl, Q8_M);
  const epi = argI32(ctrl, Q8_EPI);
  const scratch = argPtr(ctrl, Q8_SCRATCH) + (<usize>tid) * argPtr(ctrl, Q8_SCRATCH_PER_THREAD);
  const MC = argI32(ctrl, Q8_MC);
  const PG = argI32(ctrl, Q8_PG);
  const lnOut = argPtr(ctrl, Q8_LN_OUT);
  const gamma = argPtr(ctrl, Q8_LN_GAMMA);
  const beta = argPtr(ctrl, Q8_LN_BETA);
  const eps = argF32(ctrl, Q8_LN_EPS);
  const stats = argPtr(ctrl, Q8_STATS);
  const statsCount = argI32(ctrl, Q8_STATS_COUNT);
  // Set when W has the relaxed path's 7-bit layout (only ever in the relaxed builds).
  const colsum = argPtr(ctrl, Q8_COLSUM);

  // DynamicQuantizeLinear's scale and zero point, from the min/max job's partial results.
  let lo: f32 = 0;
  let hi: f32 = 0;
  for (let i = 0; i < statsCount; i++) {
    lo = min(lo, load<f32>(stats + ((<usize>i) << 3)));
    hi = max(hi, load<f32>(stats + ((<usize>i) << 3), 4));
  }
  const xs: f32 = hi == lo ? 1 : (hi - lo) / 255;
  const xz = <i32>nearest<f32>(max<f32>(0, min<f32>(255, 0 - lo / xs)));

  const Kp = q8PaddedK(K);
  const relaxed = ASC_FEATURE_RELAXED_SIMD && colsum != 0;
  const steps = relaxed ? Kp >> 2 : Kp >> 1;
  const groupBytes = relaxed ? (<usize>Kp) << 2 : (<usize>Kp) << 3;
  const P = (M + 7) >> 3;
  const groups = (P + PG - 1) / PG;
  const tasks = ((N + MC - 1) / MC) * groups;
  const ldo = (<usize>M) << 2;
  const tile = scratch;
  const apack = scratch + TILE_BYTES;
  const sums = apack + (<usize>MC) * (<usize>Kp) * 2;
  const panelBytes = (<usize>Kp) << 3;
  let packedBlock = -1;
  for (let t = first; t >= 0; t = nextTask(ctrl, gen, tasks)) {
    const block = t / groups;
    const group = t - block * groups;
    const r0 = block * MC;
    const r1 = min(N, r0 + MC);
    const p1 = min(P, (group + 1) * PG);
    if (packedBlock != block) {
      if (relaxed) quantizeRowsI8(x, K, N, r0, r1, xs, xz, apack, sums);
      else quantizeRows(x, K, N, r0, r1, xs, xz, apack, sums);
      packedBlock = block;
    }
    for (let p = group * PG; p < p1; p++) {
      const pb = w + (<usize>p) * panelBytes;
      const col = (<usize>p) << 5;
      const cols = min(8, M - (p << 3));
      for (let r = r0; r < r1; r += 4) {
        const rows = min(4, r1 - r);
        const pa = apack + (<usize>((r - r0) >> 2)) * groupBytes;
        if (relaxed) kernelQ8Relaxed(pa, pb, steps, tile);
        else kernelQ8(pa, pb, steps, tile);
        rescaleTile(tile, sums + ((<usize>(r - r0)) << 2), zpe + col, wscale + col, xs, rows, relaxed ? colsum + col : 0, xz);
        const o = (<usize>r) * ldo + col;
        epilogue(tile, bias + col, out + o, ldo, res + o, ldo, epi, rows, cols);
      }
    }
    if (lnOut != 0) {
      for (let r = r0; r < r1; r++) layerNormRow(out + (<usize>r) * ldo, lnOut + (<usize>r) * ldo, gamma, beta, M, eps);
    }
    taskDone(ctrl, tasks);
  }
}
