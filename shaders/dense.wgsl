// A Dense head on pooled rows (sentence-transformers Dense, a classifier's pooler and output
// layer):                       out[b, m] = act(Σ_k x[b, k] · wt[k, m] + bias[m])
// x: [B, K], wt: W transposed ([K, M], as every linear weight on the GPU), out: [B, M].
// One invocation per output value, the sum in f32 in k order; consecutive invocations read
// consecutive columns of wt, so the weight stream is coalesced. B is small (a batch of
// sentences), so this simple kernel costs little next to the encoder's GEMMs.
//
// Injected: S (storage type), WG (workgroup size), BIAS, WH (wt as f16 pairs in u32, see
// gemm.wgsl), and one of TANH, RELU, GELU, SIGMOID (none of them: identity).

struct Params {
  b: u32, // rows
  k: u32, // K
  m: u32, // M
  pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<S>;
#if WH
@group(0) @binding(2) var<storage, read> wt: array<u32>;
#else
@group(0) @binding(2) var<storage, read> wt: array<S>;
#endif
@group(0) @binding(3) var<storage, read> bias: array<S>;
@group(0) @binding(4) var<storage, read_write> out: array<S>;

#if GELU
#include gelu
#endif

fn wAt(j: u32) -> f32 {
#if WH
  return unpack2x16float(wt[j / 2u])[j % 2u];
#else
  return f32(wt[j]);
#endif
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let m = gid.x;
  let b = gid.y + gid.z * 65535u;
  if (m >= p.m || b >= p.b) {
    return;
  }
  var acc = 0.0;
  let row = b * p.k;
  for (var k = 0u; k < p.k; k++) {
    acc += f32(x[row + k]) * wAt(k * p.m + m);
  }
#if BIAS
  acc += f32(bias[m]);
#endif
#if TANH
  // tanh without overflow: e^{−2|v|} ≤ 1.
  let e = exp(-2.0 * abs(acc));
  acc = sign(acc) * (1.0 - e) / (1.0 + e);
#elif RELU
  acc = max(acc, 0.0);
#elif GELU
  acc = gelu4(vec4<f32>(acc)).x;
#elif SIGMOID
  // 1 / (1 + e^{−v}) from the side where the exponential cannot overflow.
  let e = exp(-abs(acc));
  acc = select(e / (1.0 + e), 1.0 / (1.0 + e), acc >= 0.0);
#endif
  out[b * p.m + m] = S(acc);
}
