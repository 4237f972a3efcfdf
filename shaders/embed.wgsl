// Embeddings gather + add (legend of ts/graph/ops.ts):
//   out[n, :] = word[ids[n]] + position[n mod T] + tokenType[typeIds[n]]        out: [N, C]
// One workgroup per token row, the columns strided over the workgroup. Token ids were checked
// against the table sizes on the host, so the gathers stay in range.
//
// Injected: S (storage type), WG (workgroup size).

struct Params {
  rows: u32, // N
  cols: u32, // C
  t: u32,    // T: positions restart every T rows
  pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> typeIds: array<u32>;
@group(0) @binding(3) var<storage, read> word: array<S>;
@group(0) @binding(4) var<storage, read> position: array<S>;
@group(0) @binding(5) var<storage, read> tokenType: array<S>;
@group(0) @binding(6) var<storage, read_write> out: array<S>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.rows) {
    return;
  }
  let w = ids[row] * p.cols;
  let pos = (row % p.t) * p.cols;
  let tt = typeIds[row] * p.cols;
  let o = row * p.cols;
  for (var c = lid; c < p.cols; c += WG) {
    out[o + c] = S(f32(word[w + c]) + f32(position[pos + c]) + f32(tokenType[tt + c]));
  }
}
