// The second half of a split-K linear layer (see gemm.wgsl): sums the f32 partials of the K
// splits, then bias and epilogue, as gemm.wgsl's unsplit epilogue does:
//   out[N, M] = Σ_z partial[z, N, M] + bias[M], then nothing, erf-GELU, or + residual[N, M].
// One invocation per vec4 of out.
//
// Injected: S / S4 (storage type), GELU, RESIDUAL.

struct Params {
  n: u32,
  m: u32,
  splits: u32,
  pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partial: array<vec4<f32>>; // [splits, N, M/4]
@group(0) @binding(2) var<storage, read> bias: array<S4>;          // [M/4]
#if RESIDUAL
@group(0) @binding(3) var<storage, read> res: array<S4>;           // [N, M/4]
#endif
@group(0) @binding(4) var<storage, read_write> out: array<S4>;     // [N, M/4]

#include gelu

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let m4 = p.m / 4u;
  let c4 = gid.x;
  let row = gid.y;
  if (c4 >= m4 || row >= p.n) {
    return;
  }
  let i = row * m4 + c4;
  var v = vec4<f32>(bias[c4]);
  for (var z = 0u; z < p.splits; z++) {
    v += partial[z * p.n * m4 + i];
  }
#if GELU
  v = gelu4(v);
#endif
#if RESIDUAL
  v += vec4<f32>(res[i]);
#endif
  out[i] = S4(v);
}
