// out[c, r] = in[r, c]: a [rows, cols] matrix to [cols, rows]. Runs once per linear weight, when
// the backend first sees it (W [M, K] → wt [K, M], the layout gemm.wgsl streams), so it is
// kept simple rather than fast.
//
// Injected: S (storage type).

struct Params {
  rows: u32,
  cols: u32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<S>;
@group(0) @binding(2) var<storage, read_write> dst: array<S>;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let r = gid.y;
  if (r < p.rows && c < p.cols) {
    dst[c * p.rows + r] = src[r * p.cols + c];
  }
}
