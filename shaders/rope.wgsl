// Rotary position embeddings on the Q and K blocks of the fused projection (legend of
// ts/graph/ops.ts):  x: [N, 3C] → out: [N, 3C], V copied. Row n has position t = n mod T; head
// value d of Q or K pairs with d ± HS/2 (rotate_half) or d ^ 1 (INTERLEAVED) at frequency i:
//   first of the pair:  x[d]·cos[t, i] − x[partner]·sin[t, i]
//   second of the pair: x[d]·cos[t, i] + x[partner]·sin[t, i]
// The cos/sin tables [P, HS/2] are made on the host as transformers makes them (float32 angles):
// no trigonometry runs here, whose accuracy on a GPU for angles in the thousands is poor.
// One workgroup per token row, its 3C values strided over the workgroup.
//
// Injected: S (storage type), WG (workgroup size), INTERLEAVED.

struct Params {
  rows: u32, // N
  t: u32,    // T
  c: u32,    // C
  hs: u32,   // head size
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<S>;
@group(0) @binding(2) var<storage, read> cosTable: array<S>;
@group(0) @binding(3) var<storage, read> sinTable: array<S>;
@group(0) @binding(4) var<storage, read_write> out: array<S>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.rows) {
    return;
  }
  let half = p.hs / 2u;
  let base = row * 3u * p.c;
  let angles = (row % p.t) * half;
  for (var col = lid; col < 3u * p.c; col += WG) {
    if (col >= 2u * p.c) {
      out[base + col] = x[base + col];
      continue;
    }
    let d = col % p.hs;
    let head0 = col - d;
#if INTERLEAVED
    let i = d / 2u;
    let first = (d & 1u) == 0u;
    let partner = d ^ 1u;
#else
    let i = d % half;
    let first = d < half;
    let partner = select(d - half, d + half, first);
#endif
    let v = f32(x[base + head0 + d]);
    let w = f32(x[base + head0 + partner]);
    let c = f32(cosTable[angles + i]);
    let s = f32(sinTable[angles + i]);
    out[base + col] = S(select(v * c + w * s, v * c - w * s, first));
  }
}
