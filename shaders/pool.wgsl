// Sentence pooling over the token rows of each sequence, honouring the attention mask
// (legend of ts/graph/ops.ts; t is the position in the sequence, from 0):  x: [N, C] → out: [B, C]
//   MEAN:          Σ masked rows / max(count, 1e-9)   (sentence-transformers' clamp)
//   CLS:           row 0 of the sequence
//   MAX:           column-wise max over masked rows
//   MEAN_SQRT_LEN: Σ masked rows / sqrt(count)
//   WEIGHTEDMEAN:  Σ (t+1)·row / max(Σ (t+1), 1e-9) over masked rows
//   LASTTOKEN:     the row of the last masked token
// One invocation per (sequence, column): consecutive invocations read consecutive columns of a
// row, so every pass over the T rows is coalesced.
//
// Injected: S (storage type), WG (workgroup size), and one of MEAN, CLS, MAX, MEAN_SQRT_LEN,
// WEIGHTEDMEAN, LASTTOKEN.

struct Params {
  b: u32,    // sequences
  t: u32,    // T
  cols: u32, // C
  pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> mask: array<u32>; // [N]: 1 real token, 0 padding
@group(0) @binding(2) var<storage, read> x: array<S>;
@group(0) @binding(3) var<storage, read_write> out: array<S>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let b = gid.y + gid.z * 65535u;
  if (c >= p.cols || b >= p.b) {
    return;
  }
  let row0 = b * p.t;
#if CLS
  out[b * p.cols + c] = x[row0 * p.cols + c];
#elif LASTTOKEN
  var last = 0u;
  for (var t = 0u; t < p.t; t++) {
    if (mask[row0 + t] != 0u) {
      last = t;
    }
  }
  out[b * p.cols + c] = x[(row0 + last) * p.cols + c];
#else
#if MAX
  // The largest finite f32; every sequence has at least one real token, so it is replaced.
  var acc = -3.4028234663852886e38;
#else
  var acc = 0.0;
#endif
  var count = 0.0;
  for (var t = 0u; t < p.t; t++) {
    if (mask[row0 + t] != 0u) {
      let v = f32(x[(row0 + t) * p.cols + c]);
#if MAX
      acc = max(acc, v);
      count += 1.0;
#elif WEIGHTEDMEAN
      let w = f32(t + 1u);
      acc += w * v;
      count += w;
#else
      acc += v;
      count += 1.0;
#endif
    }
  }
#if MEAN_SQRT_LEN
  acc /= sqrt(count);
#elif !MAX
  acc /= max(count, 1e-9);
#endif
  out[b * p.cols + c] = S(acc);
#endif
}
