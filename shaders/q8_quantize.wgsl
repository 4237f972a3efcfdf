// The second step of a q8 linear layer: DynamicQuantizeLinear of x ([N, K] f32) as onnxruntime
// computes it, bit for bit (see LinearNode.precision in ts/graph/ops.ts):
//   xs = (max − min) / 255 (1 when max = min), xz = round-half-even(clamp(0 − min / xs, 0, 255)),
//   xq = clamp(round-half-even(x / xs) + xz, 0, 255)
// with every division correctly rounded to f32 as on the CPU. WGSL's `/` is only accurate to
// 2.5 ulp, so the scale and the zero point divide exactly (long division of the significands),
// and each x / xs takes the fast quotient unless it lies near a half-integer, where an error of
// a few ulp could change the rounded integer: there the exact quotient decides.
//
// Every workgroup reduces the (min, max) pairs of q8_minmax.wgsl to the same xs and xz (the
// same f32 operations everywhere); workgroup 0 also writes them to stats[512] (xs bits) and
// stats[513] (xz) for gemm_q8.wgsl. Output: xq packed for dot4I8Packed, as signed bytes
// xq − 128, four consecutive k per u32 (k0 in the low byte), kw = ⌈K/4⌉ words per row; bytes
// past K are 0 (they meet zero weights, and add nothing to the row sums of gemm_q8.wgsl).

struct Params {
  n: u32,      // rows of x
  k: u32,      // columns of x
  kw: u32,     // u32 words per packed row, ⌈K/4⌉
  groups: u32, // (min, max) pairs in stats
}

const HEADER: u32 = 512u;        // stats[HEADER]: xs as f32 bits, stats[HEADER + 1]: xz
const WORDS_PER_THREAD: u32 = 4u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<u32>;
@group(0) @binding(3) var<storage, read_write> xq: array<u32>;

#include q8_range
var<workgroup> scaleAndZero: vec2<f32>;

#include q8_divide

// clamp(round-half-even(v / xs) + xz, 0, 255) − 128, as a byte.
fn quantizeByte(v: f32, xs: f32, xz: i32) -> u32 {
  let q = clamp(roundedQuotient(v, xs) + xz, 0, 255);
  return u32(q - 128) & 0xffu;
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  var lo = 0.0;
  var hi = 0.0;
  if (lid < p.groups) {
    lo = bitcast<f32>(stats[2u * lid]);
    hi = bitcast<f32>(stats[2u * lid + 1u]);
  }
  let range = workgroupRange(lid, lo, hi);
  let group = wid.y * nwg.x + wid.x;
  if (lid == 0u) {
    let mn = range.x;
    let mx = range.y;
    var xs = 1.0;
    if (mx != mn) {
      xs = exactQuotient(mx - mn, 255.0);
    }
    let xz = round(clamp(0.0 - exactQuotient(mn, xs), 0.0, 255.0));
    scaleAndZero = vec2<f32>(xs, xz);
    if (group == 0u) {
      stats[HEADER] = bitcast<u32>(xs);
      stats[HEADER + 1u] = u32(xz);
    }
  }
  workgroupBarrier();
  let xs = scaleAndZero.x;
  let xz = i32(scaleAndZero.y);
  let total = p.n * p.kw;
  let first = group * 256u * WORDS_PER_THREAD + lid;
  for (var j = 0u; j < WORDS_PER_THREAD; j++) {
    let w = first + j * 256u;
    if (w < total) {
      let row = w / p.kw;
      let k0 = (w - row * p.kw) * 4u;
      let base = row * p.k;
      var word = 0u;
      for (var i = 0u; i < 4u; i++) {
        if (k0 + i < p.k) {
          word |= quantizeByte(x[base + k0 + i], xs, xz) << (8u * i);
        }
      }
      xq[w] = word;
    }
  }
}
