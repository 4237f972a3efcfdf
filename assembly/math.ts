// exp, erf and GELU in f32, as f32x4 (SIMD build) and scalar twins with the same operation
// order, so the SIMD and scalar builds round identically lane by lane (WebAssembly has no FMA; f32x4 mul/add/
// div round per lane exactly like the scalar ops). Coefficients and error figures come from
// assembly/fit/math-coefficients.py, which evaluates these exact formulas in float32:
//   exp: max 0.97 ulp on [-88, 88] (normal results);   erf: max |error| 6.9e-8 on [-6, 6];
//   GELU: max |error| / max(1, |x|) 1.07e-7 on [-12, 12] and the tails.
// Scalar constants are compile-time (`const` globals are inlined). The SIMD code reads its
// constants from one read-only table (see below): the threaded builds re-write data segments at
// every worker's instantiation, which is harmless for bytes that never change.

// ---- exp(x) = 2^n · e^r, n = round(x / ln2), r = x − n·ln2 (Cody–Waite: ln2 in two parts) ----
const EXP_HI: f32 = 88.0; // e^88 < f32 max; larger inputs are clamped (n stays ≤ 127)
const EXP_LO: f32 = -87.33; // keeps n ≥ −126, so 2^n is a normal number built from its bits
const LOG2E: f32 = 1.4426950408889634;
const LN2_HI: f32 = 0.693145751953125; // 16 significant bits: n·LN2_HI is exact for |n| < 256
const LN2_LO: f32 = 1.428606765330187e-6; // ln2 − LN2_HI
// e^r on |r| ≤ ln2/2: Taylor to degree 7 (truncation r^8/8! ≤ 5.2e-9, under f32 rounding); E0 = E1 = 1.
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
// GELU: Φ(−|x|) = erfc(|z|)/2 over the whole range, one branch: erfc(z) = e^{−z²}·G(t), t =
// 1/(1 + z/2), G of degree 7 fitted on z ∈ [0, 3.92] (not only z ≥ 1 as Q): max |GELU error| /
// max(1, |x|) 1.07e-7 in float32. No erf polynomial and no lane select between two branches: the
// GEMM's GELU epilogue was ~11% of a MiniLM forward with both branches computed.
const G7: f32 = 0.0848928764462471;
const G6: f32 = -0.3338830769062042;
const G5: f32 = 0.33204972743988037;
const G4: f32 = 0.1094793975353241;
const G3: f32 = 0.2317812144756317;
const G2: f32 = 0.29699429869651794;
const G1: f32 = 0.2783539891242981;
const G0: f32 = 0.00033211015397682786;

// Polynomials are evaluated in Estrin's scheme (pairs, then squares) rather than Horner's: the
// dependency chain is 4 multiply-adds deep instead of 7, so the out-of-order core overlaps more
// of a loop's iterations (exp went from 2.6 to ~1 ns per element in V8). exp is 1 + (r + r²·q):
// the exact 1 is added last, which keeps the error under 1 ulp.

// ------------------------------------------------------------------------------------------
// Scalar versions (used by the scalar build, and for tails of the SIMD build).

/** e^x in f32, < 1 ulp. Inputs are clamped to [−87.33, 88]. */
// @ts-ignore: decorator
@inline export function exp1(x: f32): f32 {
  // Same select semantics as f32x4.pmin / pmax: b < a ? b : a, then a < b ? b : a.
  x = EXP_HI < x ? EXP_HI : x;
  x = x < EXP_LO ? EXP_LO : x;
  const n = nearest<f32>(x * LOG2E);
  let r = x - n * LN2_HI;
  r = r - n * LN2_LO;
  const r2 = r * r;
  const r4 = r2 * r2;
  let q = (E3 * r + E2) + r2 * (E5 * r + E4);
  q = q + r4 * (E7 * r + E6);
  const p: f32 = 1.0 + (r + r2 * q);
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

/**
 * BERT's exact GELU: x·Φ(x), Φ(x) = erfc(−x/√2)/2. With z = |x|/√2 (clamped at 3.92, where
 * erfc is below half an ulp of 1): tail = Φ(−|x|) = e^{−z²}·G(t)/2, then Φ = tail for x < 0 and
 * 1 − tail otherwise (0 and 1 past the clamp).
 */
// @ts-ignore: decorator
@inline export function gelu1(x: f32): f32 {
  const az = abs<f32>(x * INV_SQRT2);
  const zc = ERF_ONE < az ? ERF_ONE : az; // f32x4.pmin's select
  const t: f32 = 1.0 / (1.0 + 0.5 * zc);
  const t2 = t * t;
  const t4 = t2 * t2;
  const g = ((G1 * t + G0) + (G3 * t + G2) * t2) + ((G5 * t + G4) + (G7 * t + G6) * t2) * t4;
  let tail: f32 = 0.5 * (exp1(-(zc * zc)) * g);
  if (!(az < ERF_ONE)) tail = 0;
  return x * (x < 0 ? tail : 1.0 - tail);
}

/** R(u), degree 6, Estrin. */
// @ts-ignore: decorator
@inline function polyR(u: f32): f32 {
  const u2 = u * u;
  const u4 = u2 * u2;
  return ((R1 * u + R0) + (R3 * u + R2) * u2) + ((R5 * u + R4) + R6 * u2) * u4;
}

/** erfc(az) for az ≥ 1 (z2 = az²): e^{−z²}·Q(t), Q of degree 7 in Estrin's scheme. */
// @ts-ignore: decorator
@inline function erfcTail1(az: f32, z2: f32): f32 {
  const t: f32 = 1.0 / (1.0 + 0.5 * az);
  const t2 = t * t;
  const t4 = t2 * t2;
  const q = ((Q1 * t + Q0) + (Q3 * t + Q2) * t2) + ((Q5 * t + Q4) + (Q7 * t + Q6) * t2) * t4;
  return exp1(-z2) * q;
}

// ------------------------------------------------------------------------------------------
// f32x4 versions (SIMD build only). Both erf branches are computed and the lanes selected,
// with the scalar versions' operation order.
//
// Constants come from a table in linear memory (v128.load32_splat, one instruction): V8 builds
// every f32x4.splat(constant) in place with three instructions at each use and does not hoist
// them out of loops, which made these functions front-end bound.

const KF: usize = memory.data<f32>([
  EXP_HI, EXP_LO, LOG2E, LN2_HI, LN2_LO, E2, E3, E4, E5, E6, E7, 1.0,
  R0, R1, R2, R3, R4, R5, R6, 0.5,
  Q0, Q1, Q2, Q3, Q4, Q5, Q6, Q7,
  INV_SQRT2, ERF_SPLIT, ERF_ONE, 0.0,
  G0, G1, G2, G3, G4, G5, G6, G7,
  12582912.0,
], 16);
// The sign bit, 127 − bits(1.5·2²³) (exp4's exponent bias less its rounding constant's bits),
// the abs mask: abs and neg as one and / xor with a table constant (V8 builds their masks with
// two more instructions at each use).
const KI: usize = memory.data<i32>([0x80000000, 127 - 0x4b400000, 0x7fffffff], 16);

// @ts-ignore: decorator
@inline function kf(i: usize): v128 {
  return v128.load32_splat(KF + (i << 2));
}
// @ts-ignore: decorator
@inline function ki(i: usize): v128 {
  return v128.load32_splat(KI + (i << 2));
}

// Table indices.
const K_EXP_HI: usize = 0, K_EXP_LO: usize = 1, K_LOG2E: usize = 2, K_LN2_HI: usize = 3, K_LN2_LO: usize = 4;
const K_E2: usize = 5, K_E3: usize = 6, K_E4: usize = 7, K_E5: usize = 8, K_E6: usize = 9, K_E7: usize = 10, K_ONE: usize = 11;
const K_R0: usize = 12, K_R1: usize = 13, K_R2: usize = 14, K_R3: usize = 15, K_R4: usize = 16, K_R5: usize = 17, K_R6: usize = 18, K_HALF: usize = 19;
const K_Q0: usize = 20, K_Q1: usize = 21, K_Q2: usize = 22, K_Q3: usize = 23, K_Q4: usize = 24, K_Q5: usize = 25, K_Q6: usize = 26, K_Q7: usize = 27;
const K_INV_SQRT2: usize = 28, K_ERF_SPLIT: usize = 29, K_ERF_ONE: usize = 30, K_ZERO: usize = 31;
const K_G0: usize = 32, K_G1: usize = 33, K_G2: usize = 34, K_G3: usize = 35, K_G4: usize = 36, K_G5: usize = 37, K_G6: usize = 38, K_G7: usize = 39;
const K_ROUND: usize = 40;
const KI_SIGN: usize = 0, KI_EXP_BIAS: usize = 1, KI_ABS: usize = 2;

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  return f32x4.add(f32x4.mul(a, b), c);
}

/** e^x on four lanes. */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  x = f32x4.pmin(x, kf(K_EXP_HI));
  x = f32x4.pmax(x, kf(K_EXP_LO));
  // n = round-half-even(x·log2 e) by adding 1.5·2²³ (|x·log2 e| ≤ 127: exact), as exp1's
  // nearest; t's low mantissa bits are then n, so 2ⁿ comes from t's bits without V8's long
  // x64 sequence for i32x4.trunc_sat_f32x4_s. The same n, so the same bits as exp1.
  const t = f32x4.add(f32x4.mul(x, kf(K_LOG2E)), kf(K_ROUND));
  const n = f32x4.sub(t, kf(K_ROUND));
  let r = f32x4.sub(x, f32x4.mul(n, kf(K_LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, kf(K_LN2_LO)));
  const r2 = f32x4.mul(r, r);
  const r4 = f32x4.mul(r2, r2);
  let q = f32x4.add(madd(kf(K_E3), r, kf(K_E2)), f32x4.mul(r2, madd(kf(K_E5), r, kf(K_E4))));
  q = f32x4.add(q, f32x4.mul(r4, madd(kf(K_E7), r, kf(K_E6))));
  const p = f32x4.add(kf(K_ONE), f32x4.add(r, f32x4.mul(r2, q)));
  const bits = i32x4.shl(i32x4.add(t, ki(KI_EXP_BIAS)), 23);
  return f32x4.mul(p, bits);
}

// @ts-ignore: decorator
@inline function polyR4(u: v128): v128 {
  const u2 = f32x4.mul(u, u);
  const u4 = f32x4.mul(u2, u2);
  const lo = f32x4.add(madd(kf(K_R1), u, kf(K_R0)), f32x4.mul(madd(kf(K_R3), u, kf(K_R2)), u2));
  const hi = f32x4.add(madd(kf(K_R5), u, kf(K_R4)), f32x4.mul(kf(K_R6), u2));
  return f32x4.add(lo, f32x4.mul(hi, u4));
}

// @ts-ignore: decorator
@inline function erfcTail4(az: v128, z2: v128): v128 {
  const one = kf(K_ONE);
  const t = f32x4.div(one, f32x4.add(one, f32x4.mul(kf(K_HALF), az)));
  const t2 = f32x4.mul(t, t);
  const t4 = f32x4.mul(t2, t2);
  const lo = f32x4.add(madd(kf(K_Q1), t, kf(K_Q0)), f32x4.mul(madd(kf(K_Q3), t, kf(K_Q2)), t2));
  const hi = f32x4.add(madd(kf(K_Q5), t, kf(K_Q4)), f32x4.mul(madd(kf(K_Q7), t, kf(K_Q6)), t2));
  return f32x4.mul(exp4(v128.xor(z2, ki(KI_SIGN))), f32x4.add(lo, f32x4.mul(hi, t4)));
}

/** copysign on four lanes: magnitude of `m`, sign of `s`. */
// @ts-ignore: decorator
@inline function copysign4(m: v128, s: v128): v128 {
  const signBit = ki(KI_SIGN);
  return v128.or(v128.andnot(m, signBit), v128.and(s, signBit));
}

/** erf on four lanes. */
// @ts-ignore: decorator
@inline export function erf4(z: v128): v128 {
  const az = v128.and(z, ki(KI_ABS));
  const z2 = f32x4.mul(az, az);
  const small = f32x4.add(az, f32x4.mul(az, polyR4(z2)));
  let big = f32x4.sub(kf(K_ONE), erfcTail4(az, z2));
  big = v128.bitselect(big, kf(K_ONE), f32x4.lt(az, kf(K_ERF_ONE)));
  const r = v128.bitselect(small, big, f32x4.lt(az, kf(K_ERF_SPLIT)));
  return copysign4(r, z);
}

/** GELU on four lanes (same formulas and operation order as gelu1). */
// @ts-ignore: decorator
@inline export function gelu4(x: v128): v128 {
  const az = v128.and(f32x4.mul(x, kf(K_INV_SQRT2)), ki(KI_ABS));
  const zc = f32x4.pmin(az, kf(K_ERF_ONE));
  const one = kf(K_ONE);
  const half = kf(K_HALF);
  const t = f32x4.div(one, f32x4.add(one, f32x4.mul(half, zc)));
  const t2 = f32x4.mul(t, t);
  const t4 = f32x4.mul(t2, t2);
  const lo = f32x4.add(madd(kf(K_G1), t, kf(K_G0)), f32x4.mul(madd(kf(K_G3), t, kf(K_G2)), t2));
  const hi = f32x4.add(madd(kf(K_G5), t, kf(K_G4)), f32x4.mul(madd(kf(K_G7), t, kf(K_G6)), t2));
  const g = f32x4.add(lo, f32x4.mul(hi, t4));
  // Lanes at or past the clamp (and NaN) get tail 0.
  const tail = v128.and(f32x4.mul(half, f32x4.mul(exp4(v128.xor(f32x4.mul(zc, zc), ki(KI_SIGN))), g)), f32x4.lt(az, kf(K_ERF_ONE)));
  const phi = v128.bitselect(tail, f32x4.sub(one, tail), f32x4.lt(x, kf(K_ZERO)));
  return f32x4.mul(x, phi);
}

// ------------------------------------------------------------------------------------------
// Array forms, exported for the accuracy tests (test/wasm-kernels.test.ts).

/** In place: x[i] = f(x[i]) for i < n, f = 0 exp, 1 erf, 2 gelu. Uses f32x4 in the SIMD build. */
export function mathInPlace(x: usize, n: i32, f: i32): void {
  // One loop per function: a select inside the loop would evaluate all three.
  if (f == 0) {
    let i = 0;
    if (ASC_FEATURE_SIMD) for (; i + 4 <= n; i += 4) v128.store(x + ((<usize>i) << 2), exp4(v128.load(x + ((<usize>i) << 2))));
    for (; i < n; i++) store<f32>(x + ((<usize>i) << 2), exp1(load<f32>(x + ((<usize>i) << 2))));
  } else if (f == 1) {
    let i = 0;
    if (ASC_FEATURE_SIMD) for (; i + 4 <= n; i += 4) v128.store(x + ((<usize>i) << 2), erf4(v128.load(x + ((<usize>i) << 2))));
    for (; i < n; i++) store<f32>(x + ((<usize>i) << 2), erf1(load<f32>(x + ((<usize>i) << 2))));
  } else {
    let i = 0;
    if (ASC_FEATURE_SIMD) for (; i + 4 <= n; i += 4) v128.store(x + ((<usize>i) << 2), gelu4(v128.load(x + ((<usize>i) << 2))));
    for (; i < n; i++) store<f32>(x + ((<usize>i) << 2), gelu1(load<f32>(x + ((<usize>i) << 2))));
  }
}
