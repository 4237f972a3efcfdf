// The f32 dot product every build computes alike: attention's key-norm screen (norm2 in
// attention.ts) uses it, and the test build exports it (testing.ts) to show that the SIMD and
// scalar builds associate f32 sums the same way.

/**
 * Dot product of two f32 vectors of length `n` at byte offsets `a` and `b` (any alignment).
 *
 * Both builds use the same association order, so they give bit-identical results: four
 * partial sums s0..s3 (lane k of the SIMD accumulator == scalar sk) over the first n & ~3
 * elements, reduced as (s0 + s1) + (s2 + s3), then the tail added in order. WebAssembly has no
 * scalar FMA and f32x4.mul/add round per lane exactly like f32 mul/add.
 */
export function dot(a: usize, b: usize, n: i32): f32 {
  const n4 = n & ~3;
  let i = 0;
  let s: f32;
  if (ASC_FEATURE_SIMD) {
    let acc = f32x4.splat(0);
    for (; i < n4; i += 4) {
      const off = (<usize>i) << 2;
      acc = f32x4.add(acc, f32x4.mul(v128.load(a + off), v128.load(b + off)));
    }
    s =
      (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) +
      (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  } else {
    let s0: f32 = 0;
    let s1: f32 = 0;
    let s2: f32 = 0;
    let s3: f32 = 0;
    for (; i < n4; i += 4) {
      const pa = a + ((<usize>i) << 2);
      const pb = b + ((<usize>i) << 2);
      s0 += load<f32>(pa, 0) * load<f32>(pb, 0);
      s1 += load<f32>(pa, 4) * load<f32>(pb, 4);
      s2 += load<f32>(pa, 8) * load<f32>(pb, 8);
      s3 += load<f32>(pa, 12) * load<f32>(pb, 12);
    }
    s = (s0 + s1) + (s2 + s3);
  }
  for (; i < n; i++) {
    const off = (<usize>i) << 2;
    s += load<f32>(a + off) * load<f32>(b + off);
  }
  return s;
}
