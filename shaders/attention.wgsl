// Multi-head self-attention over the fused QKV projection (legend of ts/graph/ops.ts):
//   qkv: [N, 3C] (Q | K | V, head h at columns h·HS .. of each)   →   out: [N, C]
//   out_bh = softmax(Q_bh · K_bhᵀ · scale, padded keys excluded) · V_bh
//
// One workgroup per (block of BQ queries, head, sequence); one invocation per query row, with
// the query and its output accumulator in registers. Keys and values are walked in tiles of BKV
// rows staged in workgroup memory (every invocation reads the same key: a broadcast), with an
// online softmax in f32: per tile, the scores, the new running max, one rescale of the
// accumulator, then the weighted values. The [T, T] score matrix never exists.
//
// Padding: `keyLen[b]` is one past the last real token of sequence b, so tiles past it are
// never loaded (right-padded batches skip all padding work); inside, `mask` excludes any other
// padded key exactly as the reference does. Padded query rows are computed too (as the
// reference does), they are just never pooled.
//
// Injected: S / S4 (storage type), HS4 (head size / 4), BKV (key tile rows), BQ (queries per
// workgroup = workgroup size).

struct Params {
  t: u32,     // T
  c: u32,     // C
  scale: f32, // 1/sqrt(HS)
  pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<S4>;    // [N, 3C/4]
@group(0) @binding(2) var<storage, read> mask: array<u32>;  // [N]
@group(0) @binding(3) var<storage, read> keyLen: array<u32>; // [B]
@group(0) @binding(4) var<storage, read_write> out: array<S4>; // [N, C/4]

var<workgroup> Ks: array<vec4<f32>, BKV * HS4>;
var<workgroup> Vs: array<vec4<f32>, BKV * HS4>;
var<workgroup> keyOk: array<f32, BKV>; // 1 for a real key, 0 for padding or past the end

// Stands for −∞ (WGSL has no infinities): exp(NEG − anything finite) is 0.
const NEG: f32 = -1e30;

@compute @workgroup_size(BQ)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let b = wid.z;
  let h = wid.y;
  let i = wid.x * BQ + lid;
  let c4 = p.c / 4u;
  let stride = 3u * c4; // vec4s per qkv row
  let tok0 = b * p.t;

  // Invocations past the end of the sequence work on its last row and do not store, so that
  // every invocation reaches every barrier.
  let qi = min(i, p.t - 1u);
  let qBase = (tok0 + qi) * stride + h * HS4;
  var q: array<vec4<f32>, HS4>;
  for (var d = 0u; d < HS4; d++) {
    q[d] = vec4<f32>(qkv[qBase + d]) * p.scale;
  }

  var acc: array<vec4<f32>, HS4>;
  var m = NEG; // running max of the scores
  var l = 0.0; // running Σ exp(score − m)
  let len = keyLen[b];
  for (var j0 = 0u; j0 < len; j0 += BKV) {
    for (var e = lid; e < BKV * HS4; e += BQ) {
      let j = j0 + e / HS4;
      var kv = vec4<f32>(0.0);
      var vv = vec4<f32>(0.0);
      if (j < len) {
        let base = (tok0 + j) * stride + h * HS4 + e % HS4;
        kv = vec4<f32>(qkv[base + c4]);
        vv = vec4<f32>(qkv[base + 2u * c4]);
      }
      Ks[e] = kv;
      Vs[e] = vv;
    }
    for (var jj = lid; jj < BKV; jj += BQ) {
      let j = j0 + jj;
      keyOk[jj] = select(0.0, 1.0, j < len && mask[tok0 + min(j, p.t - 1u)] != 0u);
    }
    workgroupBarrier();

    var s: array<f32, BKV>;
    var tileMax = NEG;
    for (var jj = 0u; jj < BKV; jj++) {
      var dot = vec4<f32>(0.0);
      for (var d = 0u; d < HS4; d++) {
        dot = fma(q[d], Ks[jj * HS4 + d], dot);
      }
      let sc = select(NEG, dot.x + dot.y + dot.z + dot.w, keyOk[jj] != 0.0);
      s[jj] = sc;
      tileMax = max(tileMax, sc);
    }
    let mNew = max(m, tileMax);
    let correction = exp(m - mNew);
    l *= correction;
    for (var d = 0u; d < HS4; d++) {
      acc[d] *= correction;
    }
    for (var jj = 0u; jj < BKV; jj++) {
      let pj = select(0.0, exp(s[jj] - mNew), keyOk[jj] != 0.0);
      l += pj;
      for (var d = 0u; d < HS4; d++) {
        acc[d] = fma(vec4<f32>(pj), Vs[jj * HS4 + d], acc[d]);
      }
    }
    m = mNew;
    workgroupBarrier();
  }

  if (i < p.t) {
    // Every sequence has a real key (checked on the host), so l > 0.
    let inv = 1.0 / l;
    let oBase = (tok0 + i) * c4 + h * HS4;
    for (var d = 0u; d < HS4; d++) {
      out[oBase + d] = S4(acc[d] * inv);
    }
  }
}
