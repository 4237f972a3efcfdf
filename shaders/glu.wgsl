// A gated MLP's activation (legend of ts/graph/ops.ts):  x: [N, 2I] → out: [N, I],
//   out[n, i] = act(x[n, i]) · x[n, I + i]
// act: GELU (erf, via gelu.wgsl), GELU_TANH (0.5·v·(1 + tanh(u)) computed as v·σ(2u): no
// cancellation where tanh → −1, no overflow) or SiLU (v·σ(v)). One workgroup per row.
//
// Injected: S (storage type), WG (workgroup size), one of GELU, GELU_TANH, SILU.

#include gelu

struct Params {
  rows: u32, // N
  i: u32,    // I
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<S>;
@group(0) @binding(2) var<storage, read_write> out: array<S>;

/** σ(z) without overflow on either side. */
fn sigmoid(z: f32) -> f32 {
  let e = exp(-abs(z));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.rows) {
    return;
  }
  let src = row * 2u * p.i;
  for (var c = lid; c < p.i; c += WG) {
    let v = f32(x[src + c]);
    let g = f32(x[src + p.i + c]);
#if GELU
    let a = gelu4(vec4<f32>(v)).x;
#elif GELU_TANH
    let a = v * sigmoid(1.5957691216057308 * (v + 0.044715 * v * v * v));
#else
    let a = v * sigmoid(v);
#endif
    out[row * p.i + c] = S(a * g);
  }
}
