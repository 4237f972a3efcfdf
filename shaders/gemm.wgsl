// Linear layer with a fused epilogue (legend of ts/graph/ops.ts):
//   out[N, M] = x[N, K] · W[M, K]ᵀ + bias[M], then nothing, erf-GELU, or + residual[N, M].
// Both operands are K-contiguous (PyTorch Linear layout), so this is an "NT" GEMM.
//
// Tiling: a 16×16 workgroup computes a 64×64 block of `out` (64 token rows × 64 output
// columns); each invocation a 4×4 register block (4 consecutive rows × one vec4 of columns).
// K is walked in tiles of BK. Each step stages a 64×BK tile of x and of W in workgroup memory
// k-major (transposed on the store), so the inner loop reads one vec4 of 4 rows and one vec4 of
// 4 columns per k and issues 4 vec4 FMAs: 16 multiply-adds per 8 floats read. Accumulation is
// f32 whatever the storage type. (Measured on the H200 through Dawn: this tile shape ran the
// minilm GEMMs at ~30 TFLOP/s; 128×128 tiles were slower. See /work/shared/NOTES-gpu.md.)
//
// Injected by the preprocessor: S / S4 (storage scalar / vec4: f32 or f16), BK (16 or 32), and
// the flags VEC4 (K % 4 == 0 and M % 4 == 0: vec4 loads and stores; otherwise bounds-checked
// scalar access, for odd shapes), GELU, RESIDUAL.

struct Params {
  n: u32, // rows of x and out
  k: u32, // shared dimension
  m: u32, // output columns (rows of W)
  pad: u32,
}

const BM: u32 = 64u; // rows of out per workgroup
const BN: u32 = 64u; // columns of out per workgroup

@group(0) @binding(0) var<uniform> p: Params;
#if VEC4
@group(0) @binding(1) var<storage, read> x: array<S4>;    // [N, K/4]
@group(0) @binding(2) var<storage, read> w: array<S4>;    // [M, K/4]
@group(0) @binding(3) var<storage, read> bias: array<S4>; // [M/4]
#if RESIDUAL
@group(0) @binding(4) var<storage, read> res: array<S4>;  // [N, M/4]
#endif
@group(0) @binding(5) var<storage, read_write> out: array<S4>; // [N, M/4]
#else
@group(0) @binding(1) var<storage, read> x: array<S>;
@group(0) @binding(2) var<storage, read> w: array<S>;
@group(0) @binding(3) var<storage, read> bias: array<S>;
#if RESIDUAL
@group(0) @binding(4) var<storage, read> res: array<S>;
#endif
@group(0) @binding(5) var<storage, read_write> out: array<S>;
#endif

// As[k·16 + r4] holds rows 4·r4 .. 4·r4+3 of the x tile at depth k; Bs likewise for W rows.
var<workgroup> As: array<vec4<f32>, BK * 16u>;
var<workgroup> Bs: array<vec4<f32>, BK * 16u>;

#if VEC4
// x[row, k .. k+3] (k a multiple of 4), zero outside the matrix.
fn loadX(row: u32, k: u32) -> vec4<f32> {
  if (row >= p.n || k >= p.k) {
    return vec4<f32>(0.0);
  }
  return vec4<f32>(x[(row * p.k + k) / 4u]);
}
fn loadW(row: u32, k: u32) -> vec4<f32> {
  if (row >= p.m || k >= p.k) {
    return vec4<f32>(0.0);
  }
  return vec4<f32>(w[(row * p.k + k) / 4u]);
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
fn loadW(row: u32, k: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (row < p.m) {
    for (var i = 0u; i < 4u; i++) {
      if (k + i < p.k) {
        v[i] = f32(w[row * p.k + k + i]);
      }
    }
  }
  return v;
}
#endif

// erf with |error| ≤ 1.5e-7 (Abramowitz & Stegun 7.1.26): the exact GELU of BERT needs erf,
// which WGSL lacks. 0.5·x·(1 + erf) turns this into a GELU error ≤ 7.5e-8·|x|.
fn erf4(x: vec4<f32>) -> vec4<f32> {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  return sign(x) * (1.0 - poly * exp(-a * a));
}

fn gelu4(v: vec4<f32>) -> vec4<f32> {
  return 0.5 * v * (1.0 + erf4(v * 0.7071067811865476));
}

// bias + epilogue for out[row, col .. col+3], then the store (columns ≥ M are dropped).
fn finish(row: u32, col: u32, acc: vec4<f32>) {
#if VEC4
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

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tid = lid.y * 16u + lid.x;
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  // acc[i] = out[row0 + 4·lid.y + i, col0 + 4·lid.x .. +3]
  var acc: array<vec4<f32>, 4>;

  for (var k0 = 0u; k0 < p.k; k0 += BK) {
    // Stage the tiles: 64 rows × BK/4 vec4 each, 256 invocations, BK/16 vec4 per invocation.
    for (var i = 0u; i < BK / 16u; i++) {
      let li = tid + i * 256u;
      let r = li / (BK / 4u);
      let kk = (li % (BK / 4u)) * 4u;
      let a = loadX(row0 + r, k0 + kk);
      let b = loadW(col0 + r, k0 + kk);
      for (var j = 0u; j < 4u; j++) {
        As[(kk + j) * 16u + r / 4u][r % 4u] = a[j];
        Bs[(kk + j) * 16u + r / 4u][r % 4u] = b[j];
      }
    }
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      let a = As[k * 16u + lid.y];
      let b = Bs[k * 16u + lid.x];
      acc[0] = fma(vec4<f32>(a.x), b, acc[0]);
      acc[1] = fma(vec4<f32>(a.y), b, acc[1]);
      acc[2] = fma(vec4<f32>(a.z), b, acc[2]);
      acc[3] = fma(vec4<f32>(a.w), b, acc[3]);
    }
    workgroupBarrier();
  }

  let col = col0 + lid.x * 4u;
  if (col >= p.m) {
    return;
  }
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + lid.y * 4u + i;
    if (row < p.n) {
      finish(row, col, acc[i]);
    }
  }
}
