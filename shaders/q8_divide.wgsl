// Correctly rounded f32 division for the q8 kernels (included by q8_quantize.wgsl). WGSL only
// promises 2.5 ulp for `/`, but DynamicQuantizeLinear's scale, zero point and x / scale are
// IEEE quotients on the CPU (onnxruntime's MLAS, dualbert's wasm and reference): one ulp off can
// move a value to the next integer, so these divisions must be exact where it matters.

// a / b rounded to nearest even, for normal a and b with a normal quotient (otherwise the
// hardware's a / b): the 24-bit significands divided bit by bit, a round bit and a sticky bit.
fn exactQuotient(a: f32, b: f32) -> f32 {
  let ua = bitcast<u32>(a);
  let ub = bitcast<u32>(b);
  let ea = (ua >> 23u) & 0xffu;
  let eb = (ub >> 23u) & 0xffu;
  if (ea == 0u || eb == 0u || ea == 255u || eb == 255u) {
    return a / b;
  }
  let mb = (ub & 0x7fffffu) | 0x800000u;
  var r = (ua & 0x7fffffu) | 0x800000u;
  var e = i32(ea) - i32(eb) + 127;
  if (r < mb) {
    r <<= 1u;
    e -= 1;
  }
  // r in [mb, 2·mb): 25 quotient bits (24 of significand, 1 to round), then the remainder.
  var q = 0u;
  for (var i = 0u; i < 25u; i++) {
    q <<= 1u;
    if (r >= mb) {
      r -= mb;
      q |= 1u;
    }
    r <<= 1u;
  }
  var m = q >> 1u;
  if ((q & 1u) != 0u && (r != 0u || (m & 1u) != 0u)) {
    m += 1u;
  }
  if (m == 0x1000000u) {
    m >>= 1u;
    e += 1;
  }
  if (e <= 0 || e >= 255) {
    return a / b;
  }
  return bitcast<f32>(((ua ^ ub) & 0x80000000u) | (u32(e) << 23u) | (m & 0x7fffffu));
}

// round-half-even(a / b rounded to f32), as an integer. The hardware quotient is within a few
// ulp of a / b; unless it lies within 2⁻¹⁶ (relative, ~500 ulp) of a half-integer, the exact
// quotient rounds to the same integer. Near one, the exact quotient is computed.
fn roundedQuotient(a: f32, b: f32) -> i32 {
  let q = a / b;
  let aq = abs(q);
  let f = aq - floor(aq);
  if (abs(f - 0.5) > aq * 1.52587890625e-5) {
    return i32(round(q));
  }
  return i32(round(exactQuotient(a, b)));
}
