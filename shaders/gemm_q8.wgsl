// The third step of a q8 linear layer: out[N, M] = the integer sums of quantized x and the int8
// weights, rescaled as onnxruntime's MatMulInteger → Cast → Mul → Add does (LinearNode.precision
// in ts/graph/ops.ts), then nothing, erf-GELU, or + residual[N, M].
//
// x comes packed by q8_quantize.wgsl: a = xq − 128 as signed bytes, 4 k per u32 ([N, kw]).
// W is packed once at creation (ts/backends/webgpu/q8-layout.ts) as wq[kw, Mp]: the u32 at
// (kw, m) holds w8[m][4kw .. 4kw+3] (int8 as is; uint8 as w − 128), zero past K and past M
// (Mp = M rounded up to 4, so a row of wq is whole vec4). wmeta[m] = (zpe, ws, colsum, 0):
// the zero point in that int8 form, the scale (f32 bits), Σ_k w8[m][k]. With d = 128 − xz,
//   Σ_k (xq − xz)(w8 − zpe) = Σ a·w8 − zpe·Σ a + d·colsum − K·d·zpe
// in i32 (wrapping arithmetic, exact whenever the sum itself fits: |sum| ≤ 255²·K). dot4I8Packed
// multiplies 4 byte pairs and adds them in one instruction (DOT4, where the WGSL language
// feature packed_4x8_integer_dot_product exists; otherwise the bytes are sign-extended by shifts).
//
// Rescale, each step an f32 rounding as on the CPU: f32(sum) (split in two exact halves, one
// rounded addition: WGSL does not promise how i32 → f32 rounds), times f32(xs · ws[m]), then
// + bias[m]. The product passes through an XOR with p.zero (0 at run time, unknown to the
// compiler) so that no compiler fuses the multiply and the add into one FMA with one rounding.
//
// Tiling: a 16×16 workgroup computes a 64×64 block of out, each invocation 4 rows × 4 columns
// (16 i32 sums). K is walked 16 words (64 k) at a time: each invocation stages one vec4 of 4
// rows' words at one k-word (As) and one vec4 of 4 columns' words (Bs), whole-vec4 stores, the
// next tile's loads in flight during the current tile's dot products. The row sums Σ a come from
// the same loads (dot4 with 0x01010101), reduced once at the end.

struct Params {
  n: u32,    // rows of x and out
  kw: u32,   // u32 words per row of packed x, ⌈K/4⌉
  m: u32,    // output columns
  mp: u32,   // columns of wq, M rounded up to 4
  k: u32,    // K
  zero: u32, // 0 (an opaque value, see above)
  pad0: u32,
  pad1: u32,
}

const HEADER: u32 = 512u; // stats[HEADER]: xs as f32 bits, stats[HEADER + 1]: xz
const BKW: u32 = 16u;     // k-words per K tile

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xq: array<u32>;        // [N, kw]
@group(0) @binding(2) var<storage, read> wq: array<vec4<u32>>;  // [kw, Mp/4]
@group(0) @binding(3) var<storage, read> wmeta: array<vec4<u32>>; // [Mp]: zpe, ws bits, colsum, 0
@group(0) @binding(4) var<storage, read> bias: array<f32>;       // [M]
#if RESIDUAL
@group(0) @binding(5) var<storage, read> res: array<f32>;        // [N, M]
#endif
@group(0) @binding(6) var<storage, read_write> out: array<f32>;  // [N, M]
@group(0) @binding(7) var<storage, read> stats: array<u32>;      // the header of q8_quantize

// As[kw·16 + r4]: the words of rows 4·r4 .. 4·r4+3 at k-word kw of the tile.
var<workgroup> As: array<vec4<u32>, BKW * 16u>;
// Bs[kw·16 + c4]: the words of columns 4·c4 .. 4·c4+3 at k-word kw of the tile.
var<workgroup> Bs: array<vec4<u32>, BKW * 16u>;
// Partial row sums Σ a of each invocation's staged words, reduced at the end.
var<workgroup> rowParts: array<vec4<i32>, 256>;

fn dot4(a: u32, b: u32) -> i32 {
#if DOT4
  return dot4I8Packed(a, b);
#else
  let x = vec4<i32>(i32(a << 24u) >> 24u, i32(a << 16u) >> 24u, i32(a << 8u) >> 24u, i32(a) >> 24u);
  let y = vec4<i32>(i32(b << 24u) >> 24u, i32(b << 16u) >> 24u, i32(b << 8u) >> 24u, i32(b) >> 24u);
  return dot(x, y);
#endif
}

fn dotRow(a: u32, b: vec4<u32>) -> vec4<i32> {
  return vec4<i32>(dot4(a, b.x), dot4(a, b.y), dot4(a, b.z), dot4(a, b.w));
}

fn loadX(row: u32, kw: u32) -> u32 {
  if (row >= p.n || kw >= p.kw) {
    return 0u;
  }
  return xq[row * p.kw + kw];
}

// Words kw of rows r .. r+3 of packed x (zero outside).
fn loadA(r: u32, kw: u32) -> vec4<u32> {
  return vec4<u32>(loadX(r, kw), loadX(r + 1u, kw), loadX(r + 2u, kw), loadX(r + 3u, kw));
}

// The vec4 of wq that invocation tid stages for the tile at k-word k0: k-word k0 + tid / 16,
// columns col0 + 4·(tid % 16) .. +3 (zero outside).
fn loadB(tid: u32, col0: u32, k0: u32) -> vec4<u32> {
  let bk = k0 + tid / 16u;
  let bc = col0 / 4u + tid % 16u;
  if (bk >= p.kw || bc >= p.mp / 4u) {
    return vec4<u32>(0u);
  }
  return wq[bk * (p.mp / 4u) + bc];
}

#include gelu

// The rescale and epilogue of one row of 4 sums, then the stores (columns ≥ M dropped).
fn finish(row: u32, col: u32, sums: vec4<i32>, rowSum: i32, xs: f32, d: i32) {
  if (row >= p.n) {
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    let c = col + j;
    if (c < p.m) {
      let mt = wmeta[c];
      let zpe = bitcast<i32>(mt.x);
      let s = sums[j] - zpe * rowSum + d * bitcast<i32>(mt.z) - i32(p.k) * d * zpe;
      let fs = f32(s >> 12u) * 4096.0 + f32(s & 4095);
      let product = bitcast<f32>(bitcast<u32>(fs * (xs * bitcast<f32>(mt.y))) ^ p.zero);
      var v = product + bias[c];
#if GELU
      v = gelu4(vec4<f32>(v)).x;
#endif
#if RESIDUAL
      v += res[row * p.m + c];
#endif
      out[row * p.m + c] = v;
    }
  }
}

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tid = lid.y * 16u + lid.x;
  let row0 = wid.y * 64u;
  let col0 = wid.x * 64u;
  var acc0 = vec4<i32>(0);
  var acc1 = vec4<i32>(0);
  var acc2 = vec4<i32>(0);
  var acc3 = vec4<i32>(0);
  // This invocation stages rows 4·(tid / 16) .. +3 at k-word tid % 16 of every tile, and
  // columns 4·(tid % 16) .. +3 at k-word tid / 16.
  let sr = row0 + 4u * (tid / BKW);
  let skw = tid % BKW;
  var part = vec4<i32>(0);
  let ones = 0x01010101u;
  // The next tile's words load while the current tile computes (as gemm.wgsl does): global
  // latency hides behind the dot products instead of adding to every K step.
  var a = loadA(sr, skw);
  var b = loadB(tid, col0, 0u);
  for (var k0 = 0u; k0 < p.kw; k0 += BKW) {
    part += vec4<i32>(dot4(a.x, ones), dot4(a.y, ones), dot4(a.z, ones), dot4(a.w, ones));
    As[skw * 16u + tid / BKW] = a;
    Bs[tid] = b;
    workgroupBarrier();
    if (k0 + BKW < p.kw) {
      a = loadA(sr, k0 + BKW + skw);
      b = loadB(tid, col0, k0 + BKW);
    }
    for (var kw = 0u; kw < BKW; kw++) {
      let av = As[kw * 16u + lid.y];
      let bv = Bs[kw * 16u + lid.x];
      acc0 += dotRow(av.x, bv);
      acc1 += dotRow(av.y, bv);
      acc2 += dotRow(av.z, bv);
      acc3 += dotRow(av.w, bv);
    }
    workgroupBarrier();
  }
  rowParts[tid] = part;
  workgroupBarrier();
  // Rows 4·lid.y .. +3 were staged by invocations 16·lid.y .. 16·lid.y + 15.
  var rowSums = vec4<i32>(0);
  for (var i = 0u; i < BKW; i++) {
    rowSums += rowParts[lid.y * BKW + i];
  }
  let col = col0 + lid.x * 4u;
  if (col >= p.m) {
    return;
  }
  let xs = bitcast<f32>(stats[HEADER]);
  let d = 128 - i32(stats[HEADER + 1u]);
  let row = row0 + 4u * lid.y;
  finish(row, col, acc0, rowSums.x, xs, d);
  finish(row + 1u, col, acc1, rowSums.y, xs, d);
  finish(row + 2u, col, acc2, rowSums.z, xs, d);
  finish(row + 3u, col, acc3, rowSums.w, xs, d);
}
