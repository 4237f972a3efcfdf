// Workgroup-wide sum, included (`#include reduce`) by kernels that reduce one row per workgroup
// (layernorm, normalize). Every invocation gets the total of `v` over the workgroup.
//
// Needs from the including shader: `const WG: u32` (1-D workgroup size, a power of two) and the
// entry point taking `ids: ReduceIds`. Two variants:
//   SUBGROUPS: subgroupAdd inside each subgroup, one partial per subgroup through workgroup
//     memory, then every invocation adds the partials itself (no second barrier round). Needs the
//     `subgroups` feature and the `subgroup_id` WGSL language feature (for subgroup_id and
//     num_subgroups, so nothing assumes how invocations map to subgroups).
//   otherwise: a tree over workgroup memory, log2(WG) barriers.
// vec2 so that a kernel can reduce two statistics (e.g. Σd and Σd²) in one round.

struct ReduceIds {
  @builtin(local_invocation_index) lid: u32,
#if SUBGROUPS
  @builtin(subgroup_invocation_id) lane: u32,
  @builtin(subgroup_id) sg: u32,
  @builtin(num_subgroups) nsg: u32,
#endif
}

// One slot per invocation: enough partials for any subgroup size, and the tree's storage.
var<workgroup> reducePartial: array<vec2<f32>, WG>;

#if SUBGROUPS
fn workgroupSum(v: vec2<f32>, ids: ReduceIds) -> vec2<f32> {
  let s = subgroupAdd(v);
  if (ids.lane == 0u) {
    reducePartial[ids.sg] = s;
  }
  workgroupBarrier();
  var total = vec2<f32>(0.0);
  for (var i = 0u; i < ids.nsg; i++) {
    total += reducePartial[i];
  }
  // The partials may be overwritten by the next call only after everyone has read them.
  workgroupBarrier();
  return total;
}
#else
fn workgroupSum(v: vec2<f32>, ids: ReduceIds) -> vec2<f32> {
  reducePartial[ids.lid] = v;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (ids.lid < stride) {
      reducePartial[ids.lid] += reducePartial[ids.lid + stride];
    }
    workgroupBarrier();
  }
  let total = reducePartial[0];
  workgroupBarrier();
  return total;
}
#endif
