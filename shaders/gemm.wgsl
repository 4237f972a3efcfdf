// Linear layer with a fused epilogue (legend of ts/graph/ops.ts):
//   out[N, M] = x[N, K] · W[M, K]ᵀ + bias[M], then nothing, erf-GELU, or + residual[N, M].
// W arrives transposed, as wt[K, M] (transpose.wgsl runs once per weight when it is first used),
// so both tiles are staged k-major with whole-vec4 stores: columns of wt are contiguous, and
// rows of x are transposed in registers, 4×4 at a time. (No store writes a single component of
// a vec4 in workgroup memory: some WGSL backends lower that to a racy read-modify-write.)
//
// Tiling: a 16×16 workgroup computes a BM×BN block of `out`, each invocation a TM×TN register
// block (TM consecutive rows × one vec4 of columns, or with TN = 8 two vec4 64 columns apart),
// TM = 4 or 8, TN = 4 or 8: 64×64, 128×64, 64×128 or 128×128 tiles. K is
// walked in tiles of BK, the next tile's loads in flight during the current tile's FMAs. Per k the inner loop reads TM/4 vec4 of x-tile and one vec4 of W-tile
// and issues TM vec4 FMAs: 4·TM multiply-adds per (TM/4 + 1) workgroup loads. Accumulation is
// f32 whatever the storage type. (Measured on the H200 through Dawn: a 64×64 tile, 4×4 per
// invocation, K tile 16 ran the minilm GEMMs at ~30 TFLOP/s.)
//
// Split-K (SPLITK): when N is small the grid has few workgroups, each walking all of K (FFN down
// projection of a short batch: K = 1536, 6 workgroups). Workgroup z then covers K range
// [z·kc, (z+1)·kc) and stores its raw f32 sums to partial[z, N, M]; gemm_reduce.wgsl adds the
// partials, the bias and the epilogue.
//
// Injected by the preprocessor: S / S4 (storage scalar / vec4: f32 or f16), BK (16 or 32), TM
// (4 or 8), TN (4 or 8; TN8 when 8), and the flags VEC4 (K % 4 == 0 and M % 4 == 0: vec4 loads and stores; otherwise
// bounds-checked scalar access, for odd shapes), GELU, RESIDUAL, SPLITK (only with VEC4; no
// epilogue), WH (f16 weights on any adapter: wt holds two f16 per u32, unpacked with
// unpack2x16float into the f32 tile; half the memory and bandwidth of f32 weights).

struct Params {
  n: u32,  // rows of x and out
  k: u32,  // shared dimension
  m: u32,  // output columns
  kc: u32, // K range of one workgroup z (a multiple of BK; K itself without split-K)
}

const BM: u32 = 16u * TM; // rows of out per workgroup
const BN: u32 = 16u * TN; // columns of out per workgroup
const BN4: u32 = BN / 4u; // vec4s per k-row of the W tile
// vec4s per k-row of the x tile, one more than BM/4 so that the transposed stores of
// neighbouring invocations fall in different banks.
const APAD: u32 = BM / 4u + 1u;

@group(0) @binding(0) var<uniform> p: Params;
#if WH
@group(0) @binding(2) var<storage, read> wt: array<u32>;  // [K, M] f16, two per u32
#elif VEC4
@group(0) @binding(2) var<storage, read> wt: array<S4>;   // [K, M/4]
#else
@group(0) @binding(2) var<storage, read> wt: array<S>;    // [K, M]
#endif
#if SPLITK
@group(0) @binding(1) var<storage, read> x: array<S4>;    // [N, K/4]
@group(0) @binding(5) var<storage, read_write> partial: array<vec4<f32>>; // [splits, N, M/4]
#elif VEC4
@group(0) @binding(1) var<storage, read> x: array<S4>;    // [N, K/4]
@group(0) @binding(3) var<storage, read> bias: array<S4>; // [M/4]
#if RESIDUAL
@group(0) @binding(4) var<storage, read> res: array<S4>;  // [N, M/4]
#endif
@group(0) @binding(5) var<storage, read_write> out: array<S4>; // [N, M/4]
#else
@group(0) @binding(1) var<storage, read> x: array<S>;
@group(0) @binding(3) var<storage, read> bias: array<S>;
#if RESIDUAL
@group(0) @binding(4) var<storage, read> res: array<S>;
#endif
@group(0) @binding(5) var<storage, read_write> out: array<S>;
#endif

// As[k·APAD + r4]: rows 4·r4 .. 4·r4+3 of the x tile at depth k.
var<workgroup> As: array<vec4<f32>, BK * APAD>;
// Bs[k·BN4 + c4]: columns 4·c4 .. 4·c4+3 of the W tile at depth k.
var<workgroup> Bs: array<vec4<f32>, BK * BN4>;

#if VEC4
// x[row, k .. k+3] (k a multiple of 4), zero outside the matrix.
fn loadX(row: u32, k: u32) -> vec4<f32> {
  if (row >= p.n || k >= p.k) {
    return vec4<f32>(0.0);
  }
  return vec4<f32>(x[(row * p.k + k) / 4u]);
}
// wt[k, col .. col+3] (col a multiple of 4), zero outside.
fn loadW(k: u32, col: u32) -> vec4<f32> {
  if (k >= p.k || col >= p.m) {
    return vec4<f32>(0.0);
  }
#if WH
  let i = (k * p.m + col) / 2u;
  return vec4<f32>(unpack2x16float(wt[i]), unpack2x16float(wt[i + 1u]));
#else
  return vec4<f32>(wt[(k * p.m + col) / 4u]);
#endif
}
#else
fn loadX(row: u32, k: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (row < p.n) {
    for (var i = 0u; i < 4u; i++) {
      if (k + i < p.k) {
        v[i] = f32(x[row * p.k + k + i]);
      }
    }
  }
  return v;
}
// wt[j] (flat index) as f32.
fn wAt(j: u32) -> f32 {
#if WH
  return unpack2x16float(wt[j / 2u])[j % 2u];
#else
  return f32(wt[j]);
#endif
}
fn loadW(k: u32, col: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (k < p.k) {
    for (var i = 0u; i < 4u; i++) {
      if (col + i < p.m) {
        v[i] = wAt(k * p.m + col + i);
      }
    }
  }
  return v;
}
#endif

#include gelu

#if SPLITK
// First row of this workgroup's partial sums: z·N.
var<private> splitRow0: u32;
#endif

// bias + epilogue for out[row, col .. col+3], then the store (rows ≥ N, columns ≥ M dropped).
fn finish(row: u32, col: u32, acc: vec4<f32>) {
  if (row >= p.n) {
    return;
  }
#if SPLITK
  partial[((splitRow0 + row) * p.m + col) / 4u] = acc;
#elif VEC4
  var v = acc + vec4<f32>(bias[col / 4u]);
#if GELU
  v = gelu4(v);
#endif
#if RESIDUAL
  v += vec4<f32>(res[(row * p.m + col) / 4u]);
#endif
  out[(row * p.m + col) / 4u] = S4(v);
#else
  for (var i = 0u; i < 4u; i++) {
    let c = col + i;
    if (c < p.m) {
      var v = acc[i] + f32(bias[c]);
#if GELU
      v = gelu4(vec4<f32>(v)).x;
#endif
#if RESIDUAL
      v += f32(res[row * p.m + c]);
#endif
      out[row * p.m + c] = S(v);
    }
  }
#endif
}

// Tiles stage through registers: while the workgroup computes on tile k0 (in workgroup
// memory), each invocation already holds its loads of tile k0 + BK, so global-memory latency
// hides behind the FMAs instead of adding to every K step (the same kernel without this
// ran ~30 TFLOP/s; short batches, with few workgroups, were pure latency).
const NA: u32 = (BM / 4u) * (BK / 4u); // 4×4 blocks of the x tile (≤ 256: one per invocation)
const NB: u32 = BK * BN4 / 256u;       // vec4 of the W tile per invocation
const_assert NA <= 256u;
var<private> pa0: vec4<f32>;
var<private> pa1: vec4<f32>;
var<private> pa2: vec4<f32>;
var<private> pa3: vec4<f32>;
var<private> pb: array<vec4<f32>, NB>;

// Loads the tiles at depth k0 into this invocation's registers. The x tile is (BM/4)·(BK/4)
// blocks of 4 rows × 4 k; neighbouring invocations take neighbouring k of the same rows
// (coalesced). The W tile is BK rows of BN4 vec4.
fn fetch(tid: u32, row0: u32, col0: u32, k0: u32) {
  if (tid < NA) {
    let r = row0 + 4u * (tid / (BK / 4u));
    let k = k0 + 4u * (tid % (BK / 4u));
    pa0 = loadX(r, k);
    pa1 = loadX(r + 1u, k);
    pa2 = loadX(r + 2u, k);
    pa3 = loadX(r + 3u, k);
  }
  for (var j = 0u; j < NB; j++) {
    let e = tid + j * 256u;
    pb[j] = loadW(k0 + e / BN4, col0 + 4u * (e % BN4));
  }
}

// Stores the fetched tiles: the x block transposed into 4 whole vec4 (k-major), W as is.
fn stash(tid: u32) {
  if (tid < NA) {
    let base = 4u * (tid % (BK / 4u)) * APAD + tid / (BK / 4u);
    As[base] = vec4<f32>(pa0.x, pa1.x, pa2.x, pa3.x);
    As[base + APAD] = vec4<f32>(pa0.y, pa1.y, pa2.y, pa3.y);
    As[base + 2u * APAD] = vec4<f32>(pa0.z, pa1.z, pa2.z, pa3.z);
    As[base + 3u * APAD] = vec4<f32>(pa0.w, pa1.w, pa2.w, pa3.w);
  }
  for (var j = 0u; j < NB; j++) {
    Bs[tid + j * 256u] = pb[j];
  }
}

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tid = lid.y * 16u + lid.x;
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  // accI = out[row0 + TM·lid.y + I, col0 + 4·lid.x .. +3]
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
#if TM8
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
#endif
#if TN8
  // The second vec4 of columns, 64 to the right: bccI = out[row0 + TM·lid.y + I, col0 + 64 + 4·lid.x ..]
  var bcc0 = vec4<f32>(0.0);
  var bcc1 = vec4<f32>(0.0);
  var bcc2 = vec4<f32>(0.0);
  var bcc3 = vec4<f32>(0.0);
#if TM8
  var bcc4 = vec4<f32>(0.0);
  var bcc5 = vec4<f32>(0.0);
  var bcc6 = vec4<f32>(0.0);
  var bcc7 = vec4<f32>(0.0);
#endif
#endif

#if SPLITK
  splitRow0 = wid.z * p.n;
#endif
  // This workgroup's K range: all of K, or one split (kc is a multiple of BK, so no K tile
  // straddles two splits).
  let kBegin = wid.z * p.kc;
  let kEnd = min(kBegin + p.kc, p.k);
  fetch(tid, row0, col0, kBegin);
  for (var k0 = kBegin; k0 < kEnd; k0 += BK) {
    stash(tid);
    workgroupBarrier();
    if (k0 + BK < kEnd) {
      fetch(tid, row0, col0, k0 + BK);
    }
    for (var k = 0u; k < BK; k++) {
      let b = Bs[k * BN4 + lid.x];
#if TN8
      // 16 vec4 apart: the 16 lanes of a row read 16 consecutive vec4 in each of the two loads.
      let b2 = Bs[k * BN4 + 16u + lid.x];
#endif
#if TM8
      let a = As[k * APAD + 2u * lid.y];
      let c = As[k * APAD + 2u * lid.y + 1u];
      acc4 = fma(vec4<f32>(c.x), b, acc4);
      acc5 = fma(vec4<f32>(c.y), b, acc5);
      acc6 = fma(vec4<f32>(c.z), b, acc6);
      acc7 = fma(vec4<f32>(c.w), b, acc7);
#if TN8
      bcc4 = fma(vec4<f32>(c.x), b2, bcc4);
      bcc5 = fma(vec4<f32>(c.y), b2, bcc5);
      bcc6 = fma(vec4<f32>(c.z), b2, bcc6);
      bcc7 = fma(vec4<f32>(c.w), b2, bcc7);
#endif
#else
      let a = As[k * APAD + lid.y];
#endif
      acc0 = fma(vec4<f32>(a.x), b, acc0);
      acc1 = fma(vec4<f32>(a.y), b, acc1);
      acc2 = fma(vec4<f32>(a.z), b, acc2);
      acc3 = fma(vec4<f32>(a.w), b, acc3);
#if TN8
      bcc0 = fma(vec4<f32>(a.x), b2, bcc0);
      bcc1 = fma(vec4<f32>(a.y), b2, bcc1);
      bcc2 = fma(vec4<f32>(a.z), b2, bcc2);
      bcc3 = fma(vec4<f32>(a.w), b2, bcc3);
#endif
    }
    workgroupBarrier();
  }

  let col = col0 + lid.x * 4u;
  let row = row0 + TM * lid.y;
#if TN8
  let col2 = col + 64u;
  if (col2 < p.m) {
    finish(row, col2, bcc0);
    finish(row + 1u, col2, bcc1);
    finish(row + 2u, col2, bcc2);
    finish(row + 3u, col2, bcc3);
#if TM8
    finish(row + 4u, col2, bcc4);
    finish(row + 5u, col2, bcc5);
    finish(row + 6u, col2, bcc6);
    finish(row + 7u, col2, bcc7);
#endif
  }
#endif
  if (col >= p.m) {
    return;
  }
  finish(row, col, acc0);
  finish(row + 1u, col, acc1);
  finish(row + 2u, col, acc2);
  finish(row + 3u, col, acc3);
#if TM8
  finish(row + 4u, col, acc4);
  finish(row + 5u, col, acc5);
  finish(row + 6u, col, acc6);
  finish(row + 7u, col, acc7);
#endif
}
