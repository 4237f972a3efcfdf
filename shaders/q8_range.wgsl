// The range of a workgroup's values for the q8 kernels (`#include q8_range` in q8_minmax.wgsl
// and q8_quantize.wgsl): min and max over the 256 invocations, a tree over workgroup memory.
// min and max are exact in any order, so every workgroup that reduces the same values gets the
// same range.

var<workgroup> lows: array<f32, 256>;
var<workgroup> highs: array<f32, 256>;

// (min of lo, max of hi) over the workgroup; called by all 256 invocations, in uniform control flow.
fn workgroupRange(lid: u32, lo: f32, hi: f32) -> vec2<f32> {
  lows[lid] = lo;
  highs[lid] = hi;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid < s) {
      lows[lid] = min(lows[lid], lows[lid + s]);
      highs[lid] = max(highs[lid], highs[lid + s]);
    }
    workgroupBarrier();
  }
  return vec2<f32>(lows[0], highs[0]);
}
