// The first step of a q8 linear layer (ONNX dynamic quantization, see LinearNode.precision in
// ts/graph/ops.ts): the range of x ([N, K] f32, all N·K values as one tensor, as onnxruntime's
// DynamicQuantizeLinear takes it). Workgroup g scans values [g·chunk, (g+1)·chunk) and writes
// (min(0, …), max(0, …)) as f32 bits to stats[2g], stats[2g + 1]; q8_quantize.wgsl reduces the
// `groups` pairs (min and max are exact in any order, so every reduction gives the same range).

struct Params {
  count: u32,  // N·K values of x
  chunk: u32,  // values per workgroup
  groups: u32, // workgroups (at most 256, the pairs q8_quantize reads)
  pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<u32>;

#include q8_range

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let g = wid.x;
  let begin = g * p.chunk;
  let end = min(p.count, begin + p.chunk);
  var lo = 0.0;
  var hi = 0.0;
  for (var i = begin + lid; i < end; i += 256u) {
    let v = x[i];
    lo = min(lo, v);
    hi = max(hi, v);
  }
  let range = workgroupRange(lid, lo, hi);
  if (lid == 0u) {
    stats[2u * g] = bitcast<u32>(range.x);
    stats[2u * g + 1u] = bitcast<u32>(range.y);
  }
}
