// exp, erf and GELU in f32, as f32x4 (SIMD build) and scalar twins with the same operation
// order, so both builds round identically lane by lane (WebAssembly has no FMA; f32x4 mul/add/
// div round per lane exactly like the scalar ops). Coefficients and error figures come from
// assembly/fit/math-coefficients.py, which evaluates these exact formulas in float32:
//   exp: max 1.14 ulp on [-88, 88] (normal results);   erf: max |error| 7.5e-8 on [-6, 6].
// Constants are compile-time (`const` globals are inlined): no data segment, which matters for
// the threaded build, whose data segments are re-written at every worker's instantiation.

// ---- exp(x) = 2^n · e^r, n = round(x / ln2), r = x − n·ln2 (Cody–Waite: ln2 in two parts) ----
const EXP_HI: f32 = 88.0; // e^88 < f32 max; larger inputs are clamped (n stays ≤ 127)
const EXP_LO: f32 = -87.33; // keeps n ≥ −126, so 2^n is a normal number built from its bits
const LOG2E: f32 = 1.4426950408889634;
const LN2_HI: f32 = 0.693145751953125; // 16 significant bits: n·LN2_HI is exact for |n| < 256
const LN2_LO: f32 = 1.428606765330187e-6; // ln2 − LN2_HI
// e^r on |r| ≤ ln2/2: Taylor to degree 7 (truncation r^8/8! ≤ 5.2e-9, under f32 rounding).
const E7: f32 = 0.00019841270113829523;
const E6: f32 = 0.0013888889225199819;
const E5: f32 = 0.008333333767950535;
const E4: f32 = 0.0416666679084301;
const E3: f32 = 0.1666666716337204;
const E2: f32 = 0.5;

// ---- erf: two branches split at |z| = ERF_SPLIT ----
// |z| < 1:  erf(z) = z + z·R(z²) (R = erf(z)/z − 1; the exact z is added last)
// |z| ≥ 1:  erfc(z) = e^{−z²} · Q(t), t = 1/(1 + z/2) (erfc(z)·e^{z²} is smooth in t)
const ERF_SPLIT: f32 = 1.0;
const ERF_ONE: f32 = 3.92; // erfc(3.92) = 5.4e-8 < half an ulp of 1: erf = ±1 from here
const R6: f32 = 7.97043030615896e-5;
const R5: f32 = -0.0008043210254982114;
const R4: f32 = 0.0051918174140155315;
const R3: f32 = -0.026855502277612686;
const R2: f32 = 0.11283621937036514;
const R1: f32 = -0.3761262893676758;
const R0: f32 = 0.12837916612625122;
const Q7: f32 = 0.11984595656394958;
const Q6: f32 = -0.4730992317199707;
const Q5: f32 = 0.5663198828697205;
const Q4: f32 = -0.10628597438335419;
const Q3: f32 = 0.3491847813129425;
const Q2: f32 = 0.25926634669303894;
const Q1: f32 = 0.28498274087905884;
const Q0: f32 = -0.0001591191830812022;
const INV_SQRT2: f32 = 0.7071067811865476;

// ------------------------------------------------------------------------------------------
// Scalar versions (used by the scalar build, and for tails of the SIMD build).

/** e^x in f32, ~1 ulp. Inputs are clamped to [−87.33, 88]. */
// @ts-ignore: decorator
@inline export function exp1(x: f32): f32 {
  // Same select semantics as f32x4.pmin / pmax: b < a ? b : a, then a < b ? b : a.
  x = EXP_HI < x ? EXP_HI : x;
  x = x < EXP_LO ? EXP_LO : x;
  const n = nearest<f32>(x * LOG2E);
  let r = x - n * LN2_HI;
  r = r - n * LN2_LO;
  let p = E7;
  p = p * r + E6;
  p = p * r + E5;
  p = p * r + E4;
  p = p * r + E3;
  p = p * r + E2;
  p = p * r + 1.0;
  p = p * r + 1.0;
  return p * reinterpret<f32>((<i32>n + 127) << 23);
}

/** erf(z) in f32, |error| ≤ 1e-7. */
export function erf1(z: f32): f32 {
  const az = abs<f32>(z);
  const z2 = az * az;
  let r: f32;
  if (az < ERF_SPLIT) {
    r = az + az * polyR(z2);
  } else if (az < ERF_ONE) {
    r = 1.0 - erfcTail1(az, z2);
  } else {
    r = 1.0;
  }
  return copysign<f32>(r, z);
}

/** BERT's exact GELU: x·Φ(x), Φ(x) = (1 + erf(x/√2)) / 2. */
// @ts-ignore: decorator
@inline export function gelu1(x: f32): f32 {
  const z = x * INV_SQRT2;
  const az = abs<f32>(z);
  let phi: f32;
  if (az < ERF_SPLIT) {
    const e = az + az * polyR(az * az);
    phi = copysign<f32>(e, z) * 0.5 + 0.5;
  } else {
    // Φ(x) = erfc(|z|)/2 for x < 0, computed directly (no cancellation in 1 − erf).
    const half: f32 = erfcTail1(az, az * az) * 0.5;
    phi = x < 0 ? half : 1.0 - half;
  }
  return x * phi;
}

// @ts-ignore: decorator
@inline function polyR(u: f32): f32 {
  let p = R6;
  p = p * u + R5;
  p = p * u + R4;
  p = p * u + R3;
  p = p * u + R2;
  p = p * u + R1;
  p = p * u + R0;
  return p;
}

/** erfc(az) for az ≥ 1 (z2 = az²). */
// @ts-ignore: decorator
@inline function erfcTail1(az: f32, z2: f32): f32 {
  const t: f32 = 1.0 / (1.0 + 0.5 * az);
  let q = Q7;
  q = q * t + Q6;
  q = q * t + Q5;
  q = q * t + Q4;
  q = q * t + Q3;
  q = q * t + Q2;
  q = q * t + Q1;
  q = q * t + Q0;
  return exp1(-z2) * q;
}

// ------------------------------------------------------------------------------------------
// f32x4 versions (SIMD build only). Both erf branches are computed and the lanes selected,
// with the scalar versions' operation order.

/** e^x on four lanes. */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  x = f32x4.pmin(x, f32x4.splat(EXP_HI));
  x = f32x4.pmax(x, f32x4.splat(EXP_LO));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(E7);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(E6));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(E5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(E4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(E3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(E2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
  const bits = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, bits);
}

// @ts-ignore: decorator
@inline function polyR4(u: v128): v128 {
  let p = f32x4.splat(R6);
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(R5));
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(R4));
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(R3));
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(R2));
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(R1));
  p = f32x4.add(f32x4.mul(p, u), f32x4.splat(R0));
  return p;
}

// @ts-ignore: decorator
@inline function erfcTail4(az: v128, z2: v128): v128 {
  const one = f32x4.splat(1.0);
  const t = f32x4.div(one, f32x4.add(one, f32x4.mul(f32x4.splat(0.5), az)));
  let q = f32x4.splat(Q7);
  q = f32x4.add(f32x4.mul(q, t), f32x4.splat(Q6));
  q = f32x4.add(f32x4.mul(q, t), f32x4.splat(Q5));
  q = f32x4.add(f32x4.mul(q, t), f32x4.splat(Q4));
  q = f32x4.add(f32x4.mul(q, t), f32x4.splat(Q3));
  q = f32x4.add(f32x4.mul(q, t), f32x4.splat(Q2));
  q = f32x4.add(f32x4.mul(q, t), f32x4.splat(Q1));
  q = f32x4.add(f32x4.mul(q, t), f32x4.splat(Q0));
  return f32x4.mul(exp4(f32x4.neg(z2)), q);
}

/** copysign on four lanes: magnitude of `m`, sign of `s`. */
// @ts-ignore: decorator
@inline function copysign4(m: v128, s: v128): v128 {
  const signBit = i32x4.splat(0x80000000);
  return v128.or(v128.andnot(m, signBit), v128.and(s, signBit));
}

/** erf on four lanes. */
// @ts-ignore: decorator
@inline export function erf4(z: v128): v128 {
  const az = f32x4.abs(z);
  const z2 = f32x4.mul(az, az);
  const small = f32x4.add(az, f32x4.mul(az, polyR4(z2)));
  let big = f32x4.sub(f32x4.splat(1.0), erfcTail4(az, z2));
  big = v128.bitselect(big, f32x4.splat(1.0), f32x4.lt(az, f32x4.splat(ERF_ONE)));
  const r = v128.bitselect(small, big, f32x4.lt(az, f32x4.splat(ERF_SPLIT)));
  return copysign4(r, z);
}

/** GELU on four lanes (same formulas as gelu1). */
// @ts-ignore: decorator
@inline export function gelu4(x: v128): v128 {
  const z = f32x4.mul(x, f32x4.splat(INV_SQRT2));
  const az = f32x4.abs(z);
  const z2 = f32x4.mul(az, az);
  const half = f32x4.splat(0.5);
  const e = f32x4.add(az, f32x4.mul(az, polyR4(z2)));
  const phiSmall = f32x4.add(half, f32x4.mul(half, copysign4(e, z)));
  const tail = f32x4.mul(half, erfcTail4(az, z2));
  const phiBig = v128.bitselect(tail, f32x4.sub(f32x4.splat(1.0), tail), f32x4.lt(x, f32x4.splat(0)));
  const phi = v128.bitselect(phiSmall, phiBig, f32x4.lt(az, f32x4.splat(ERF_SPLIT)));
  return f32x4.mul(x, phi);
}

// ------------------------------------------------------------------------------------------
// Array forms, exported for the accuracy tests (test/wasm-kernels.test.ts).

/** In place: x[i] = f(x[i]) for i < n, f = 0 exp, 1 erf, 2 gelu. Uses f32x4 in the SIMD build. */
export function mathInPlace(x: usize, n: i32, f: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const p = x + ((<usize>i) << 2);
      const v = v128.load(p);
      v128.store(p, f == 0 ? exp4(v) : f == 1 ? erf4(v) : gelu4(v));
    }
  }
  for (; i < n; i++) {
    const p = x + ((<usize>i) << 2);
    const v = load<f32>(p);
    store<f32>(p, f == 0 ? exp1(v) : f == 1 ? erf1(v) : gelu1(v));
  }
}
