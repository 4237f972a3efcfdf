// Smoke kernel for the WebGPU test harness: y[i] = a * x[i] + y[i] (SAXPY), f32.
// Used by test/webgpu-node.test.ts (Dawn in Node) to prove that a WGSL compute pipeline
// compiles, dispatches and reads back on the adapter (SwiftShader on CPU-only machines).

struct Params {
  a: f32,
  n: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i < params.n) {
    y[i] = params.a * x[i] + y[i];
  }
}
