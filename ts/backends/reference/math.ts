/**
 * Float64 special functions for the reference backend. JavaScript has no Math.erf, and the
 * oracle must be far more accurate than the float32 kernels it judges (|error| ≲ 1e-14).
 */

const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2 / √π

/**
 * erf(x) in float64.
 * |x| < 3: the Maclaurin series Σ (−1)ⁿ x²ⁿ⁺¹ / (n! (2n+1)) · 2/√π. Its largest term at |x| = 3
 *   is ~170, so cancellation costs at most ~2.5 digits: absolute error ≲ 4e-14.
 * |x| ≥ 3: 1 − erfc(x) with erfc from its continued fraction (modified Lentz), which converges
 *   in a few dozen steps there; erfc(3) ≈ 2e-5, so the result is accurate to ~1e-16.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 3) {
    const x2 = x * x;
    let term = x; // (−1)ⁿ x²ⁿ⁺¹ / n!
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const contribution = term / (2 * n + 1);
      sum += contribution;
      if (Math.abs(contribution) < 1e-17 * Math.abs(sum)) break;
    }
    return TWO_OVER_SQRT_PI * sum;
  }
  if (ax > 6) return Math.sign(x); // erfc(6) ≈ 2e-17: below float64 resolution of 1.
  return Math.sign(x) * (1 - erfcContinuedFraction(ax));
}

/**
 * erfc(x) for x ≥ 3: e^{−x²}/√π · 1 / (x + (1/2) / (x + 1 / (x + (3/2) / (x + 2 / (x + …))))),
 * evaluated with the modified Lentz algorithm.
 */
function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = d === 0 ? tiny : d;
    c = x + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** BERT's exact GELU: x · Φ(x) = x/2 · (1 + erf(x/√2)). */
export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/** The tanh approximation of GELU (PyTorch's gelu(approximate='tanh'), transformers' gelu_pytorch_tanh / gelu_new). */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/** SiLU (swish): x · σ(x). */
export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}
