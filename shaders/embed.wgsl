// Embeddings gather + add (legend of ts/graph/ops.ts):
//   out[n, :] = word[ids[n]] + position[(n mod T) + posOffset] + tokenType[typeIds[n]]   out: [N, C]
// One workgroup per token row, the columns strided over the workgroup. Token ids were checked
// against the table sizes on the host, so the gathers stay in range.
//
// Injected: S (storage type), WG (workgroup size); POSITION / TYPES (the model has a position /
// token-type table: rotary families have none, MPNet and ModernBERT no types); GATHERED (the
// word table is too large for one storage binding and stays on the host, which gathers the
// batch's rows into `word` [N, C] beforehand: row n is word[ids[n]]); WH (the tables on the GPU
// hold f16 pairs in u32, see gemm.wgsl; gathered rows still arrive as S).

struct Params {
  rows: u32,      // N
  cols: u32,      // C
  t: u32,         // T: positions restart every T rows
  posOffset: u32, // first position row (RoBERTa, MPNet: padding_idx + 1)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> typeIds: array<u32>;
#if GATHERED
@group(0) @binding(3) var<storage, read> word: array<S>;
fn wordAt(j: u32) -> f32 { return f32(word[j]); }
#elif WH
@group(0) @binding(3) var<storage, read> word: array<u32>;
fn wordAt(j: u32) -> f32 { return unpack2x16float(word[j / 2u])[j % 2u]; }
#else
@group(0) @binding(3) var<storage, read> word: array<S>;
fn wordAt(j: u32) -> f32 { return f32(word[j]); }
#endif
#if WH
@group(0) @binding(4) var<storage, read> position: array<u32>;
@group(0) @binding(5) var<storage, read> tokenType: array<u32>;
fn positionAt(j: u32) -> f32 { return unpack2x16float(position[j / 2u])[j % 2u]; }
fn tokenTypeAt(j: u32) -> f32 { return unpack2x16float(tokenType[j / 2u])[j % 2u]; }
#else
@group(0) @binding(4) var<storage, read> position: array<S>;
@group(0) @binding(5) var<storage, read> tokenType: array<S>;
fn positionAt(j: u32) -> f32 { return f32(position[j]); }
fn tokenTypeAt(j: u32) -> f32 { return f32(tokenType[j]); }
#endif
@group(0) @binding(6) var<storage, read_write> out: array<S>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.rows) {
    return;
  }
#if GATHERED
  let w = row * p.cols;
#else
  let w = ids[row] * p.cols;
#endif
  let pos = (row % p.t + p.posOffset) * p.cols;
  let o = row * p.cols;
  for (var c = lid; c < p.cols; c += WG) {
    var v = wordAt(w + c);
#if POSITION
    v += positionAt(pos + c);
#endif
#if TYPES
    v += tokenTypeAt(typeIds[row] * p.cols + c);
#endif
    out[o + c] = S(v);
  }
}
