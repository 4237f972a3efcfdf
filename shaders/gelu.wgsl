// BERT's exact GELU, x·Φ(x) = x/2 · (1 + erf(x/√2)), for the GEMM epilogues (gemm.wgsl,
// gemm_reduce.wgsl). WGSL has no erf: Abramowitz & Stegun 7.1.26, |error| ≤ 1.5e-7, so the
// GELU error is ≤ 7.5e-8·|x|.

fn erf4(v: vec4<f32>) -> vec4<f32> {
  let a = abs(v);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  return sign(v) * (1.0 - poly * exp(-a * a));
}

fn gelu4(v: vec4<f32>) -> vec4<f32> {
  return 0.5 * v * (1.0 + erf4(v * 0.7071067811865476));
}

