// LayerNorm over the columns of each row (legend of ts/graph/ops.ts):
//   out[n] = (x[n] − mean) / sqrt(var + eps) · gamma + beta          x, out: [rows, C]
// One workgroup per row; statistics in f32 whatever the storage type (f16 variances of BERT
// activations overflow).
//
// Corrected two-pass statistics: a first mean m₁, then Σd and Σd² with d = x − m₁, so that
// mean = m₁ + Σd/C and var = Σd²/C − (Σd/C)². A plain f32 mean of rows with a large offset
// (x ≈ 1000 ± 1) is off by ~4e-5, which would shift every output by 7e-5; the correction
// brings that back to rounding level, and the output is computed from d directly.
//
// Injected: S (storage type), WG (workgroup size), SUBGROUPS (see reduce.wgsl).

struct Params {
  rows: u32,
  cols: u32,
  eps: f32,
  pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<S>;
@group(0) @binding(2) var<storage, read> gamma: array<S>;
@group(0) @binding(3) var<storage, read> beta: array<S>;
@group(0) @binding(4) var<storage, read_write> out: array<S>;

#include reduce

@compute @workgroup_size(WG)
fn main(ids: ReduceIds, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // Rows beyond 65535 workgroups wrap into the y dimension of the grid.
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.rows) {
    return;
  }
  let base = row * p.cols;
  let count = f32(p.cols);

  var s = 0.0;
  for (var c = ids.lid; c < p.cols; c += WG) {
    s += f32(x[base + c]);
  }
  let m1 = workgroupSum(vec2<f32>(s, 0.0), ids).x / count;

  var dd = vec2<f32>(0.0);
  for (var c = ids.lid; c < p.cols; c += WG) {
    let d = f32(x[base + c]) - m1;
    dd += vec2<f32>(d, d * d);
  }
  let sums = workgroupSum(dd, ids);
  let shift = sums.x / count; // mean − m₁
  let variance = max(sums.y / count - shift * shift, 0.0);
  let inv = 1.0 / sqrt(variance + p.eps);

  for (var c = ids.lid; c < p.cols; c += WG) {
    let d = f32(x[base + c]) - m1 - shift;
    out[base + c] = S(d * inv * f32(gamma[c]) + f32(beta[c]));
  }
}
