// Multi-head self-attention over the fused QKV projection (legend of ts/graph/ops.ts):
//   qkv: [N, 3C] (Q | K | V, head h at columns h·HS .. of each)   →   out: [N, C]
//   out_bh = softmax(Q_bh · K_bhᵀ · scale, padded keys excluded) · V_bh
//
// One workgroup per (block of BQ·QPT queries, head, sequence); each invocation owns QPT query
// rows (lid, lid + BQ, ...), with their queries and output accumulators in registers: QPT = 2
// reuses every key and value read from workgroup memory for two queries. Keys and values are walked in tiles of BKV
// rows staged in workgroup memory (every invocation reads the same key: a broadcast), with an
// online softmax in f32: per tile, the scores, the new running max, the tile's numerators and
// their sum, then per head column the tile's weighted values summed on their own and added to
// the rescaled accumulator. The [T, T] score matrix never exists.
//
// Sums over many keys: adding every key's term straight into the running row sum and output
// accumulators rounds each addition at 2⁻²⁴ of a total that grows with the keys seen, an error
// that grows like the key count (3e-5 in the outputs at 8,192 keys). The tile's BKV terms are
// summed first, then the tile sum joins the total, so both levels add numbers of like size
// (√-like growth): the same arithmetic as the wasm kernel (assembly/attention.ts). The
// tile sums cost QPT extra vec4 registers, not a second accumulator.
//
// Padding: `keyLen[b]` is one past the last real token of sequence b, so tiles past it are
// never loaded (right-padded batches skip all padding work); inside, `mask` excludes any other
// padded key exactly as the reference does. Padded query rows are computed too (as the
// reference does), they are just never pooled.
//
// Families beyond BERT: WINDOW (ModernBERT's local layers) lets query i see only keys with
// |i − j| ≤ window, and only the key tiles that reach a block's rows are loaded (O(T·window));
// BIAS (MPNet) adds bias[h, j − i + span − 1] to every scaled score. A query row that sees no
// key (a padded row beyond every window) is zero, as in the reference.
//
// Injected: S / S4 (storage type), HS4 (head size / 4), BKV (key tile rows), BQ (workgroup
// size), QPT (query rows per invocation, 1 or 2), WINDOW, BIAS.

struct Params {
  t: u32,      // T
  c: u32,      // C
  scale: f32,  // 1/sqrt(HS)
  window: u32, // WINDOW: keys with |i − j| ≤ window
  span: u32,   // BIAS: the bias table is [NH, 2·span − 1]
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<S4>;    // [N, 3C/4]
@group(0) @binding(2) var<storage, read> mask: array<u32>;  // [N]
@group(0) @binding(3) var<storage, read> keyLen: array<u32>; // [B]
@group(0) @binding(4) var<storage, read_write> out: array<S4>; // [N, C/4]
@group(0) @binding(5) var<storage, read> bias: array<S>; // BIAS: [NH, 2·span − 1]

var<workgroup> Ks: array<vec4<f32>, BKV * HS4>;
var<workgroup> Vs: array<vec4<f32>, BKV * HS4>;
var<workgroup> keyOk: array<f32, BKV>; // 1 for a real key, 0 for padding or past the end

// Stands for −∞ (WGSL has no infinities): exp(NEG − anything finite) is 0.
const NEG: f32 = -1e30;

@compute @workgroup_size(BQ)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let b = wid.z;
  let h = wid.y;
  let c4 = p.c / 4u;
  let stride = 3u * c4; // vec4s per qkv row
  let tok0 = b * p.t;

  // Invocations past the end of the sequence work on its last row and do not store, so that
  // every invocation reaches every barrier.
  var q: array<array<vec4<f32>, HS4>, QPT>;
  var acc: array<array<vec4<f32>, HS4>, QPT>;
  var m: array<f32, QPT>; // running max of the scores
  var l: array<f32, QPT>; // running Σ exp(score − m)
  var qrow: array<u32, QPT>; // each row's position (clamped for invocations past the end)
  for (var u = 0u; u < QPT; u++) {
    let qi = min(wid.x * BQ * QPT + u * BQ + lid, p.t - 1u);
    qrow[u] = qi;
    let qBase = (tok0 + qi) * stride + h * HS4;
    for (var d = 0u; d < HS4; d++) {
      q[u][d] = vec4<f32>(qkv[qBase + d]) * p.scale;
    }
    m[u] = NEG;
  }

  var len = keyLen[b];
  var start = 0u;
#if WINDOW
  // The key tiles that reach this workgroup's rows [first, last].
  let first = wid.x * BQ * QPT;
  let last = min(first + BQ * QPT - 1u, p.t - 1u);
  start = (max(first, p.window) - p.window) / BKV * BKV;
  len = min(len, last + p.window + 1u);
#endif
  for (var j0 = start; j0 < len; j0 += BKV) {
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

    var s: array<array<f32, BKV>, QPT>;
    var tileMax: array<f32, QPT>;
    for (var u = 0u; u < QPT; u++) {
      tileMax[u] = NEG;
    }
    for (var jj = 0u; jj < BKV; jj++) {
      let ok = keyOk[jj] != 0.0;
      // Explicitly zeroed: a declaration in a loop body is not re-initialized on every pass by
      // every compiler (SwiftShader's kept the previous key's sums).
      var dot: array<vec4<f32>, QPT>;
      for (var u = 0u; u < QPT; u++) {
        dot[u] = vec4<f32>(0.0);
      }
      for (var d = 0u; d < HS4; d++) {
        let k = Ks[jj * HS4 + d];
        for (var u = 0u; u < QPT; u++) {
          dot[u] = fma(q[u][d], k, dot[u]);
        }
      }
      for (var u = 0u; u < QPT; u++) {
        var sc = dot[u].x + dot[u].y + dot[u].z + dot[u].w;
        var seen = ok;
        let j = j0 + jj;
#if WINDOW
        seen = seen && max(j, qrow[u]) - min(j, qrow[u]) <= p.window;
#endif
#if BIAS
        // Column j − i + span − 1 of this head's row (j, i < span, so it stays in the row).
        sc += f32(bias[h * (2u * p.span - 1u) + j + p.span - 1u - qrow[u]]);
#endif
        sc = select(NEG, sc, seen);
        s[u][jj] = sc;
        tileMax[u] = max(tileMax[u], sc);
      }
    }
    // The new running max, the tile's numerators in place of its scores, and their sum.
    var correction: array<f32, QPT>;
    for (var u = 0u; u < QPT; u++) {
      let mNew = max(m[u], tileMax[u]);
      correction[u] = exp(m[u] - mNew);
      m[u] = mNew;
      var tileSum = 0.0;
      for (var jj = 0u; jj < BKV; jj++) {
        // A key that does not count has the score NEG (≤ −1e30; real scores are far above).
        let pr = select(0.0, exp(s[u][jj] - mNew), s[u][jj] > NEG * 0.5);
        s[u][jj] = pr;
        tileSum += pr;
      }
      l[u] = fma(l[u], correction[u], tileSum);
    }
    // Per head column: the tile's P·V on its own, then into the rescaled accumulator.
    for (var d = 0u; d < HS4; d++) {
      var tileAcc: array<vec4<f32>, QPT>;
      for (var u = 0u; u < QPT; u++) {
        tileAcc[u] = vec4<f32>(0.0); // explicitly zeroed (see dot above)
      }
      for (var jj = 0u; jj < BKV; jj++) {
        let v = Vs[jj * HS4 + d];
        for (var u = 0u; u < QPT; u++) {
          tileAcc[u] = fma(vec4<f32>(s[u][jj]), v, tileAcc[u]);
        }
      }
      for (var u = 0u; u < QPT; u++) {
        acc[u][d] = fma(acc[u][d], vec4<f32>(correction[u]), tileAcc[u]);
      }
    }
    workgroupBarrier();
  }

  for (var u = 0u; u < QPT; u++) {
    let i = wid.x * BQ * QPT + u * BQ + lid;
    if (i < p.t) {
      // Every sequence has a real key (checked on the host), so l > 0, except for a padded row
      // beyond every window.
      let inv = select(0.0, 1.0 / l[u], l[u] > 0.0);
      let oBase = (tok0 + i) * c4 + h * HS4;
      for (var d = 0u; d < HS4; d++) {
        out[oBase + d] = S4(acc[u][d] * inv);
      }
    }
  }
}
