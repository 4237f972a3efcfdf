// L2 normalization of each row, as torch.nn.functional.normalize:
//   out[b] = x[b] / max(‖x[b]‖₂, eps)                                  x, out: [B, C]
// One workgroup per row; the sum of squares in f32.
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
@group(0) @binding(2) var<storage, read_write> out: array<S>;

#include reduce

@compute @workgroup_size(WG)
fn main(ids: ReduceIds, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.rows) {
    return;
  }
  let base = row * p.cols;
  var sq = 0.0;
  for (var c = ids.lid; c < p.cols; c += WG) {
    let v = f32(x[base + c]);
    sq += v * v;
  }
  let norm = sqrt(workgroupSum(vec2<f32>(sq, 0.0), ids).x);
  let inv = 1.0 / max(norm, p.eps);
  for (var c = ids.lid; c < p.cols; c += WG) {
    out[base + c] = S(f32(x[base + c]) * inv);
  }
}
