// Multi-head self-attention over the fused projection, one (sequence, head) per task.
// qkv is [N, 3C] (Q | K | V column blocks, head h at columns h·HS of each), out is [N, C];
// legend in ts/graph/ops.ts. For sequence b and head h, with L = the keys whose mask is 1,
// query rows are taken in blocks of QB; for each block, with [k0, k1) the keys it may see:
//   S = Q·Kᵀ·scale (+ bias)   [QB, k1 − k0] (4×8 GEMM microkernel: Q rows in place, Kᵀ packed as panels)
//   P = exp(S − rowmax)       (f32 exp, ~1 ulp; masked keys are simply not packed)
//   out = (P·V) / rowsum      [QB, HS] (same microkernel: P rows in place, V packed as panels)
// Long rows are summed in tiles of KEY_TILE keys: the row sum and each P·V entry first add up one
// tile's terms, then the tile sums go into the running totals (see "Sums over many keys" below).
// Only one block's scores exist at any time, in the thread's scratch ([QB][L] floats): memory is
// linear in T (8192 tokens: 2 MiB of scores per thread, not 256 MiB). With a sliding window
// (|i − j| ≤ W) a block only sees keys within W of its rows, so local layers cost O(T·W).
// A relative position bias (MPNet) adds bias[h, j − i + S − 1] to each scaled score.
// Every query row is computed, padded ones included, as the reference does; a row that sees no
// key (a padded row beyond every window) is zero, as in the reference.
//
// Large logits: an f32 score carries a rounding error of about 2⁻²⁴ · Σ_d |q_d·k_d| · scale,
// which softmax turns into the same relative error of the weights. Real BERT rows stay far
// below R = ‖q‖ · max‖k‖ · scale = 32 (≥ Σ|q_d·k_d|·scale by Cauchy–Schwarz), where that is
// ≲ 4e-6. A row above it (logits in the hundreds or thousands) is recomputed in f64 — products
// of f32 values are exact in f64 — and stored shifted by its max, so the f32 values that
// softmax sees are accurate where it matters (near 0). Both builds run the same scalar f64 code.
//
// Sums over many keys: added one key after another in f32, the row sum and P·V over L keys carry
// an error that grows with the running total (each addition rounds at 2⁻²⁴ of it): at L = 8,192
// it was 3e-5 in the outputs of a trained-scale model, 6× the error at L = 1,024. Summing each
// tile of KEY_TILE keys on its own and adding the tile sums to the totals keeps both the terms of
// a tile and the tile sums near the size of what they are added to (√L-like growth at both
// levels instead of L-like): 1e-5 → 4e-6 at L = 1,024, at the cost of one 4×8 tile of adds per
// KEY_TILE keys. The webgpu shader (shaders/attention.wgsl) sums its key tiles the same way.

import { argF32, argI32, argPtr, nextTask, taskDone } from './layout';
import { ATTN_QKV, ATTN_OUT, ATTN_MASK, ATTN_B, ATTN_T, ATTN_NH, ATTN_HS, ATTN_SCALE, ATTN_SCRATCH, ATTN_SCRATCH_PER_THREAD, ATTN_WINDOW, ATTN_BIAS, ATTN_BIAS_SPAN } from '../ts/backends/wasm/job-args';
import { TILE_BYTES, kernelStrided } from './gemm';
import { dot } from './dot';
import { exp1, exp4 } from './math';

// @ts-ignore: decorator
@inline function align16(n: usize): usize {
  return (n + 15) & ~(<usize>15);
}

/** Above this bound on |logits| (see the top of the file) a score row is recomputed in f64. */
const F64_LOGITS: f32 = 32;

/** Query rows per block (a multiple of 4, the microkernel's rows). */
const QB: i32 = 64;

/** Keys summed on their own before their sum joins the running totals (a multiple of 4). */
const KEY_TILE: i32 = 64;

// Scratch layout of one thread for (T, HS): [tile][sum tile][keys i32 T][inv f32 QB][S f32 QB·T8]
// [Kt f32 T8·HS][V f32 ⌈HS/8⌉·8·T][row f64 T8]. T8: T rounded up to 8.

/** Bytes of scratch one thread needs for attention with sequence length T and head size HS. */
export function attentionScratchBytes(T: i32, HS: i32): usize {
  const T8 = <usize>((T + 7) & ~7);
  const HS8 = <usize>((HS + 7) & ~7);
  return 2 * TILE_BYTES + align16(<usize>T << 2) + (<usize>QB << 2) + ((<usize>QB * T8) << 2) + ((T8 * <usize>HS) << 2) + ((HS8 * <usize>T) << 2) + (T8 << 3);
}

/**
 * One thread's share of an attention job. Arguments: the ATTN_* slots of
 * ts/backends/wasm/job-args.ts (mask is i32 [B·T]; scratch is per thread; window −1 for none;
 * bias 0 for none, else [NH, 2·span − 1]).
 */
export function attentionJob(ctrl: usize, tid: i32, gen: i32, first: i32): void {
  const qkv = argPtr(ctrl, ATTN_QKV);
  const out = argPtr(ctrl, ATTN_OUT);
  const mask = argPtr(ctrl, ATTN_MASK);
  const B = argI32(ctrl, ATTN_B);
  const T = argI32(ctrl, ATTN_T);
  const NH = argI32(ctrl, ATTN_NH);
  const HS = argI32(ctrl, ATTN_HS);
  const scale = argF32(ctrl, ATTN_SCALE);
  const window = argI32(ctrl, ATTN_WINDOW);
  const bias = argPtr(ctrl, ATTN_BIAS);
  const span = argI32(ctrl, ATTN_BIAS_SPAN);
  const scratch = argPtr(ctrl, ATTN_SCRATCH) + (<usize>tid) * argPtr(ctrl, ATTN_SCRATCH_PER_THREAD);

  const T8 = <usize>((T + 7) & ~7);
  const tile = scratch;
  const sum = tile + TILE_BYTES;
  const keys = sum + TILE_BYTES;
  const inv = keys + align16(<usize>T << 2);
  const S = inv + (<usize>QB << 2);
  const Kt = S + ((<usize>QB * T8) << 2);
  const Vp = Kt + ((T8 * <usize>HS) << 2);
  const row64 = Vp + (((<usize>((HS + 7) & ~7)) * <usize>T) << 2);
  const tasks = B * NH;
  for (let t = first; t >= 0; t = nextTask(ctrl, gen, tasks)) {
    const b = t / NH;
    const h = t - b * NH;
    const biasRow = bias == 0 ? <usize>0 : bias + ((<usize>(h * (2 * span - 1) + span - 1)) << 2);
    head(qkv, out, mask, b, h, T, NH, HS, scale, window, biasRow, tile, sum, keys, inv, S, Kt, Vp, row64);
    taskDone(ctrl, tasks);
  }
}

function head(
  qkv: usize, out: usize, mask: usize, b: i32, h: i32, T: i32, NH: i32, HS: i32, scale: f32, window: i32, biasRow: usize,
  tile: usize, sum: usize, keys: usize, inv: usize, S: usize, Kt: usize, Vp: usize, row64: usize,
): void {
  const C = NH * HS;
  const ld3 = (<usize>(3 * C)) << 2; // qkv row stride, bytes
  const ldo = (<usize>C) << 2;
  const row0 = <usize>(b * T); // first token row of this sequence
  const qOff = (<usize>(h * HS)) << 2;
  const kOff = (<usize>(C + h * HS)) << 2;
  const vOff = (<usize>(2 * C + h * HS)) << 2;
  const outBase = out + row0 * ldo + qOff;

  // The keys that take part (mask 1), in order.
  let L = 0;
  for (let j = 0; j < T; j++) {
    if (load<i32>(mask + ((row0 + <usize>j) << 2)) != 0) {
      store<i32>(keys + ((<usize>L) << 2), j);
      L++;
    }
  }
  if (L == 0) {
    // No key at all (the graph never asks for this): nothing to attend to, as the reference.
    for (let i = 0; i < T; i++) memory.fill(outBase + (<usize>i) * ldo, 0, (<usize>HS) << 2);
    return;
  }
  const L8 = (L + 7) & ~7;

  // Kᵀ as ⌈L/8⌉ panels of [HS][8]: panel q, row d holds K[key 8q..8q+7][d]; zeros past L.
  // Four keys at a time: 4×4 blocks (keys × d) transposed in registers, one 16-byte store per d.
  let kNorm2: f32 = 0; // max ‖k‖²
  const HS4 = HS & ~3;
  for (let idx = 0; idx < L8; idx += 4) {
    const dst = Kt + ((<usize>(idx >> 3) * <usize>HS) << 5) + ((<usize>(idx & 7)) << 2);
    // Rows of the four keys (a key past L reads as zeros: `live` is false for it).
    const s0 = keyRow(qkv, row0, ld3, kOff, keys, idx, L);
    const s1 = keyRow(qkv, row0, ld3, kOff, keys, idx + 1, L);
    const s2 = keyRow(qkv, row0, ld3, kOff, keys, idx + 2, L);
    const s3 = keyRow(qkv, row0, ld3, kOff, keys, idx + 3, L);
    kNorm2 = max(kNorm2, max(max(norm2(s0, HS), norm2(s1, HS)), max(norm2(s2, HS), norm2(s3, HS))));
    let d = 0;
    if (ASC_FEATURE_SIMD) {
      for (; d < HS4; d += 4) {
        const off = (<usize>d) << 2;
        const r0v = s0 == 0 ? f32x4.splat(0) : v128.load(s0 + off);
        const r1v = s1 == 0 ? f32x4.splat(0) : v128.load(s1 + off);
        const r2v = s2 == 0 ? f32x4.splat(0) : v128.load(s2 + off);
        const r3v = s3 == 0 ? f32x4.splat(0) : v128.load(s3 + off);
        const t0 = v128.shuffle<f32>(r0v, r1v, 0, 4, 1, 5);
        const t1 = v128.shuffle<f32>(r0v, r1v, 2, 6, 3, 7);
        const t2 = v128.shuffle<f32>(r2v, r3v, 0, 4, 1, 5);
        const t3 = v128.shuffle<f32>(r2v, r3v, 2, 6, 3, 7);
        const o = dst + ((<usize>d) << 5);
        v128.store(o, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5), 0);
        v128.store(o, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 32);
        v128.store(o, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 64);
        v128.store(o, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 96);
      }
    }
    for (; d < HS; d++) {
      const off = (<usize>d) << 2;
      const o = dst + ((<usize>d) << 5);
      store<f32>(o, s0 == 0 ? 0 : load<f32>(s0 + off), 0);
      store<f32>(o, s1 == 0 ? 0 : load<f32>(s1 + off), 4);
      store<f32>(o, s2 == 0 ? 0 : load<f32>(s2 + off), 8);
      store<f32>(o, s3 == 0 ? 0 : load<f32>(s3 + off), 12);
    }
  }
  // V as ⌈HS/8⌉ panels of [L][8]: panel p, row idx holds V[key idx][8p..8p+7]; zeros past HS.
  const panelsV = (HS + 7) >> 3;
  for (let p = 0; p < panelsV; p++) {
    const cols = min(8, HS - (p << 3));
    for (let idx = 0; idx < L; idx++) {
      const src = qkv + (row0 + <usize>load<i32>(keys + ((<usize>idx) << 2))) * ld3 + vOff + ((<usize>p) << 5);
      const dst = Vp + ((<usize>(p * L + idx)) << 5);
      if (ASC_FEATURE_SIMD) {
        if (cols == 8) {
          v128.store(dst, v128.load(src));
          v128.store(dst, v128.load(src, 16), 16);
          continue;
        }
      }
      for (let c = 0; c < 8; c++) store<f32>(dst + ((<usize>c) << 2), c < cols ? load<f32>(src + ((<usize>c) << 2)) : 0);
    }
  }
  const limit2 = F64_LOGITS * F64_LOGITS / (scale * scale);

  let k0 = 0;
  for (let i0 = 0; i0 < T; i0 += QB) {
    const rows = min(QB, T - i0);
    // The keys this block may see: all, or those within the window of one of its rows.
    let k1 = L;
    if (window >= 0) {
      while (k0 < L && load<i32>(keys + ((<usize>k0) << 2)) < i0 - window) k0++;
      k1 = k0;
      while (k1 < L && load<i32>(keys + ((<usize>k1) << 2)) <= i0 + rows - 1 + window) k1++;
    }
    if (k1 <= k0) {
      for (let r = 0; r < rows; r++) memory.fill(outBase + (<usize>(i0 + r)) * ldo, 0, (<usize>HS) << 2);
      continue;
    }
    // S holds the scores of keys kBase .. kBase + n (whole Kᵀ panels from the one holding k0).
    const kBase = k0 & ~7;
    const n = k1 - kBase;
    const n8 = (n + 7) & ~7;
    const ldS = (<usize>n8) << 2;
    const panel0 = kBase >> 3;

    // S = Q·Kᵀ·scale, 4 query rows × 8 keys at a time; rows past the block repeat its last row.
    const last = i0 + rows - 1;
    for (let r = 0; r < rows; r += 4) {
      const i = i0 + r;
      const q0 = qkv + (row0 + <usize>i) * ld3 + qOff;
      const q1 = qkv + (row0 + <usize>min(i + 1, last)) * ld3 + qOff;
      const q2 = qkv + (row0 + <usize>min(i + 2, last)) * ld3 + qOff;
      const q3 = qkv + (row0 + <usize>min(i + 3, last)) * ld3 + qOff;
      for (let p = 0; p < (n8 >> 3); p++) {
        kernelStrided(q0, q1, q2, q3, Kt + ((<usize>((panel0 + p) * HS)) << 5), HS, tile);
        const dst = S + (<usize>r) * ldS + ((<usize>p) << 5);
        const rr = min(4, rows - r);
        if (ASC_FEATURE_SIMD) {
          const s = f32x4.splat(scale);
          for (let u = 0; u < rr; u++) {
            const tr = tile + ((<usize>u) << 5);
            const d = dst + (<usize>u) * ldS;
            v128.store(d, f32x4.mul(v128.load(tr), s));
            v128.store(d, f32x4.mul(v128.load(tr, 16), s), 16);
          }
        } else {
          for (let u = 0; u < rr; u++) {
            for (let c = 0; c < 8; c++) {
              const o = ((<usize>c) << 2);
              store<f32>(dst + (<usize>u) * ldS + o, load<f32>(tile + ((<usize>u) << 5) + o) * scale);
            }
          }
        }
      }
    }

    for (let r = 0; r < rows; r++) {
      const i = i0 + r;
      const srow = S + (<usize>r) * ldS;
      // Rows whose logits may be large: exact scores (see the top of the file).
      const q = qkv + (row0 + <usize>i) * ld3 + qOff;
      if (norm2(q, HS) * kNorm2 > limit2) exactScores(qkv, row0, ld3, q, kOff, keys + ((<usize>kBase) << 2), n, HS, scale, srow, row64);
      // Keys outside the block's range or the row's window take no weight; the bias of each offset.
      // Without a window or a bias (BERT), every key of the block counts as it is.
      let seen = n;
      if (window >= 0 || biasRow != 0) {
        seen = 0;
        for (let idx = 0; idx < n; idx++) {
          const key = kBase + idx;
          const j = load<i32>(keys + ((<usize>key) << 2));
          const p = srow + ((<usize>idx) << 2);
          if (key < k0 || (window >= 0 && (j < i - window || j > i + window))) {
            store<f32>(p, -Infinity);
            continue;
          }
          seen++;
          if (biasRow != 0) store<f32>(p, load<f32>(p) + load<f32>(biasRow + ((<usize>(j - i)) << 2)));
        }
      }
      // Softmax numerators in place, row sums inverted into inv[r] (0 for a row that sees nothing).
      if (seen == 0) {
        memory.fill(srow, 0, (<usize>n) << 2);
        store<f32>(inv + ((<usize>r) << 2), 0);
      } else {
        store<f32>(inv + ((<usize>r) << 2), 1.0 / softmaxRow(srow, n));
      }
    }

    // out = (P·V) · inv, 4 rows × 8 head columns at a time; only rows of the block and columns < HS stored.
    for (let r = 0; r < rows; r += 4) {
      const s0 = S + (<usize>r) * ldS;
      const s1 = S + (<usize>min(r + 1, rows - 1)) * ldS;
      const s2 = S + (<usize>min(r + 2, rows - 1)) * ldS;
      const s3 = S + (<usize>min(r + 3, rows - 1)) * ldS;
      const rr = min(4, rows - r);
      for (let p = 0; p < panelsV; p++) {
        tiledKernel(s0, s1, s2, s3, Vp + ((<usize>(p * L + kBase)) << 5), n, tile, sum);
        const cols = min(8, HS - (p << 3));
        for (let u = 0; u < rr; u++) {
          const f = load<f32>(inv + ((<usize>(r + u)) << 2));
          const tr = sum + ((<usize>u) << 5);
          const o = outBase + (<usize>(i0 + r + u)) * ldo + ((<usize>p) << 5);
          if (ASC_FEATURE_SIMD) {
            if (cols == 8) {
              const fv = f32x4.splat(f);
              v128.store(o, f32x4.mul(v128.load(tr), fv));
              v128.store(o, f32x4.mul(v128.load(tr, 16), fv), 16);
              continue;
            }
          }
          for (let c = 0; c < cols; c++) {
            const off = (<usize>c) << 2;
            store<f32>(o + off, load<f32>(tr + off) * f);
          }
        }
      }
    }
  }
}

/**
 * The 4×8 block of P·V that kernelStrided computes over K keys, into `sum`, but summed by tiles
 * of KEY_TILE keys (each tile's block in `tile`, then added to `sum`): see "Sums over many keys".
 * Element-wise f32 adds, so the SIMD and scalar builds agree bit for bit as kernelStrided does.
 */
function tiledKernel(a0: usize, a1: usize, a2: usize, a3: usize, pb: usize, K: i32, tile: usize, sum: usize): void {
  kernelStrided(a0, a1, a2, a3, pb, min(K, KEY_TILE), sum);
  for (let k = KEY_TILE; k < K; k += KEY_TILE) {
    const ka = (<usize>k) << 2;
    kernelStrided(a0 + ka, a1 + ka, a2 + ka, a3 + ka, pb + ((<usize>k) << 5), min(KEY_TILE, K - k), tile);
    if (ASC_FEATURE_SIMD) {
      for (let o: usize = 0; o < TILE_BYTES; o += 16) v128.store(sum + o, f32x4.add(v128.load(sum + o), v128.load(tile + o)));
    } else {
      for (let o: usize = 0; o < TILE_BYTES; o += 4) store<f32>(sum + o, load<f32>(sum + o) + load<f32>(tile + o));
    }
  }
}

/**
 * One score row in f64: s_j = (q · k_j) · scale over the L keys, written to `dst` as f32 values
 * of s_j − max_j s_j (softmax is shift-invariant; the shift keeps the large part out of f32).
 */
function exactScores(qkv: usize, row0: usize, ld3: usize, q: usize, kOff: usize, keys: usize, L: i32, HS: i32, scale: f32, dst: usize, row64: usize): void {
  let mx = -Infinity;
  for (let j = 0; j < L; j++) {
    const k = qkv + (row0 + <usize>load<i32>(keys + ((<usize>j) << 2))) * ld3 + kOff;
    let s: f64 = 0;
    for (let d = 0; d < HS; d++) {
      const off = (<usize>d) << 2;
      s += <f64>load<f32>(q + off) * <f64>load<f32>(k + off);
    }
    s *= <f64>scale;
    store<f64>(row64 + ((<usize>j) << 3), s);
    mx = max(mx, s);
  }
  for (let j = 0; j < L; j++) store<f32>(dst + ((<usize>j) << 2), <f32>(load<f64>(row64 + ((<usize>j) << 3)) - mx));
}

/**
 * Replaces s[0..L) by exp(s[j] − max) and returns their sum. Four-lane partial sums over the
 * first L & ~3 values, each lane summed by tiles of KEY_TILE / 4 values added to its total (see
 * "Sums over many keys"), reduced as (l0 + l1) + (l2 + l3), then the tail in order: the scalar
 * build keeps four partial sums the same way, so the SIMD and scalar builds agree bit for bit.
 */
function softmaxRow(s: usize, L: i32): f32 {
  const L4 = L & ~3;
  // The row max (exact in any order). pmax, not max: f32x4.max's NaN rules cost ~5 x86
  // instructions per vector; scores are finite.
  let mx = load<f32>(s);
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    if (L4 > 0) {
      let m4 = v128.load(s);
      for (j = 4; j < L4; j += 4) m4 = f32x4.pmax(m4, v128.load(s + ((<usize>j) << 2)));
      mx = max(max(f32x4.extract_lane(m4, 0), f32x4.extract_lane(m4, 1)), max(f32x4.extract_lane(m4, 2), f32x4.extract_lane(m4, 3)));
    }
  }
  for (; j < L; j++) mx = max(mx, load<f32>(s + ((<usize>j) << 2)));
  let sum: f32;
  j = 0;
  if (ASC_FEATURE_SIMD) {
    const m = f32x4.splat(mx);
    let total = f32x4.splat(0);
    for (; j < L4; ) {
      const end = min(L4, j + KEY_TILE);
      let acc = f32x4.splat(0);
      for (; j < end; j += 4) {
        const p = s + ((<usize>j) << 2);
        const e = exp4(f32x4.sub(v128.load(p), m));
        v128.store(p, e);
        acc = f32x4.add(acc, e);
      }
      total = f32x4.add(total, acc);
    }
    sum = (f32x4.extract_lane(total, 0) + f32x4.extract_lane(total, 1)) + (f32x4.extract_lane(total, 2) + f32x4.extract_lane(total, 3));
  } else {
    let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
    for (; j < L4; ) {
      const end = min(L4, j + KEY_TILE);
      let a0: f32 = 0, a1: f32 = 0, a2: f32 = 0, a3: f32 = 0;
      for (; j < end; j += 4) {
        const p = s + ((<usize>j) << 2);
        const e0 = exp1(load<f32>(p) - mx);
        const e1 = exp1(load<f32>(p, 4) - mx);
        const e2 = exp1(load<f32>(p, 8) - mx);
        const e3 = exp1(load<f32>(p, 12) - mx);
        store<f32>(p, e0);
        store<f32>(p, e1, 4);
        store<f32>(p, e2, 8);
        store<f32>(p, e3, 12);
        a0 += e0;
        a1 += e1;
        a2 += e2;
        a3 += e3;
      }
      t0 += a0;
      t1 += a1;
      t2 += a2;
      t3 += a3;
    }
    sum = (t0 + t1) + (t2 + t3);
  }
  for (; j < L; j++) {
    const p = s + ((<usize>j) << 2);
    const e = exp1(load<f32>(p) - mx);
    store<f32>(p, e);
    sum += e;
  }
  return sum;
}

/**
 * The row of key `idx` (its K columns) when idx < L, else 0 (a padding column of Kᵀ: zeros).
 */
// @ts-ignore: decorator
@inline function keyRow(qkv: usize, row0: usize, ld3: usize, kOff: usize, keys: usize, idx: i32, L: i32): usize {
  return idx < L ? qkv + (row0 + <usize>load<i32>(keys + ((<usize>idx) << 2))) * ld3 + kOff : 0;
}

/** Σ v² over the n floats at p (0 for p = 0), in dot's order (bit-identical in every build). */
function norm2(p: usize, n: i32): f32 {
  return p == 0 ? 0 : dot(p, p, n);
}
