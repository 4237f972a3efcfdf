#!/usr/bin/env python3
"""Derives the polynomial coefficients of assembly/math.ts (exp, erf) and checks the float32
evaluation against mpmath. Run: python3 assembly/fit/math-coefficients.py (numpy, mpmath).

Why a script: the kernels' accuracy claims (exp ~1 ulp on [-87, 88]; |erf error| <= 1e-7 absolute)
come from these fits, evaluated here with exactly the float32 operation order of math.ts
(numpy float32 rounds every operation like wasm f32 ops; WebAssembly has no FMA). Polynomials
are evaluated in Estrin's scheme, exactly as math.ts does.

erf design:
  |z| <  A: erf(z)  = z + z * R(z^2)                   (R = erf(z)/z - 1: degree 6; adding the
            exact z last keeps the rounding error near half an ulp)
  |z| >= A: erfc(z) = exp(-z^2) * Q(t), t = 1/(1+z/2)  (Q: degree 7; erfc(z)e^{z^2} is smooth
            in t, unlike in z, so a low degree suffices)
  |z| >= ZMAX: erf = +-1 (erfc(3.92) = 5.4e-8 is below half an ulp of 1).
GELU(x) = x * Phi(x) in one branch: tail = Phi(-|x|) = 0.5*erfc(z), z = |x|/sqrt2 clamped at ZMAX,
erfc(z) = exp(-z^2) * G(t) with G of degree 7 fitted on z in [0, ZMAX] (the whole range, not only
z >= A), then Phi = tail for x < 0 (no cancellation) and 1 - tail for x > 0; 0 and 1 past ZMAX.
"""
import numpy as np
import mpmath as mp

mp.mp.dps = 40
f32 = np.float32
A = 1.0
ZMAX = 3.92


def fit(xs, ys, var, degree):
    """Least squares in relative error; returns float32 coefficients, highest degree first."""
    V = np.vander(var, degree + 1)
    c, *_ = np.linalg.lstsq(V / ys[:, None], np.ones_like(ys), rcond=None)
    return [f32(v) for v in c]


def estrin(coeffs, u):
    """Estrin's scheme as math.ts evaluates it; coefficients highest degree first (degree 6 or 7):
    ((c1·u + c0) + (c3·u + c2)·u²) + ((c5·u + c4) + (c7·u + c6 | c6)·u²)·u⁴."""
    c = list(reversed(coeffs))
    u = u.astype(f32)
    u2 = (u * u).astype(f32)
    u4 = (u2 * u2).astype(f32)
    pair = lambda i: ((c[i + 1] * u).astype(f32) + c[i]).astype(f32)
    lo = (pair(0) + (pair(2) * u2).astype(f32)).astype(f32)
    top = pair(6) if len(c) == 8 else np.full_like(u, c[6])
    hi = (pair(4) + (top * u2).astype(f32)).astype(f32)
    return (lo + (hi * u4).astype(f32)).astype(f32)


# exp(r) on |r| <= ln2/2: Taylor degree 7 (truncation error r^8/8! <= 5.2e-9, below f32 rounding).
EXP_C = [f32(1 / mp.factorial(n)) for n in range(7, -1, -1)]
LOG2E = f32(1.4426950408889634)
LN2_HI = f32(0.693145751953125)  # 16 significant bits: n * LN2_HI is exact for |n| < 2^8
LN2_LO = f32(float(mp.log(2) - mp.mpf(0.693145751953125)))


def exp32(x):
    x = np.clip(x.astype(f32), f32(-87.33), f32(88.0))
    n = np.rint((x * LOG2E).astype(f32)).astype(f32)  # nearest, ties to even (wasm f32.nearest)
    r = (x - (n * LN2_HI).astype(f32)).astype(f32)
    r = (r - (n * LN2_LO).astype(f32)).astype(f32)
    # 1 + (r + r²·q), q = E2 + E3·r + ... + E7·r⁵ in Estrin's scheme.
    e = list(reversed(EXP_C))  # e[k] = 1/k!
    r2 = (r * r).astype(f32)
    r4 = (r2 * r2).astype(f32)
    pair = lambda i: ((e[i + 1] * r).astype(f32) + e[i]).astype(f32)
    q = (pair(2) + (r2 * pair(4)).astype(f32)).astype(f32)
    q = (q + (r4 * pair(6)).astype(f32)).astype(f32)
    p = (f32(1) + (r + (r2 * q).astype(f32)).astype(f32)).astype(f32)
    scale = ((n.astype(np.int32) + 127) << 23).view(f32)
    return (p * scale).astype(f32)


def main():
    zs = np.linspace(1e-6, A, 4000)
    ys = np.array([float(mp.erf(z) / z) for z in zs])
    V = np.vander(zs * zs, 7)
    c, *_ = np.linalg.lstsq(V / ys[:, None], (ys - 1) / ys, rcond=None)  # relative to erf(z)/z
    R = [f32(v) for v in c]
    zb = np.linspace(A, ZMAX, 4000)
    Q = fit(zb, np.array([float(mp.erfc(z) * mp.exp(z * z)) for z in zb]), 1 / (1 + 0.5 * zb), 7)

    def erf32(z):
        z = z.astype(f32)
        az = np.abs(z)
        small = (az + (az * estrin(R, (az * az).astype(f32))).astype(f32)).astype(f32)
        t = (f32(1) / (f32(1) + (f32(0.5) * az).astype(f32))).astype(f32)
        e = exp32(-(az * az).astype(f32))
        erfc = (e * estrin(Q, t)).astype(f32)
        big = np.copysign((f32(1) - erfc).astype(f32), z)
        big = np.where(az >= ZMAX, np.copysign(f32(1), z), big)
        return np.where(az < A, np.copysign(small, z), big).astype(f32)

    grid = np.concatenate([np.linspace(-6, 6, 200001), np.linspace(A - 1e-3, A + 1e-3, 2001)]).astype(f32)
    want = np.array([float(mp.erf(float(z))) for z in grid])
    err_erf = np.max(np.abs(erf32(grid).astype(np.float64) - want))

    xs = np.linspace(-88, 88, 200001).astype(f32)
    want_exp = np.array([float(mp.exp(float(x))) for x in xs])
    got = exp32(xs).astype(np.float64)
    ok = want_exp > 1.2e-38  # normal results
    ulp = np.spacing(want_exp[ok].astype(f32)).astype(np.float64)
    err_exp = np.max(np.abs(got[ok] - want_exp[ok]) / ulp)

    # GELU, one branch (math.ts gelu1/gelu4): G over the whole range of z.
    zg = np.linspace(0, ZMAX, 6000)
    G = fit(zg, np.array([float(mp.erfc(z) * mp.exp(z * z)) for z in zg]), 1 / (1 + 0.5 * zg), 7)

    def gelu32(x):
        x = x.astype(f32)
        az = np.abs((x * f32(0.7071067811865476)).astype(f32))
        zc = np.minimum(az, f32(ZMAX))
        t = (f32(1) / (f32(1) + (f32(0.5) * zc).astype(f32))).astype(f32)
        tail = (f32(0.5) * (exp32(-(zc * zc).astype(f32)) * estrin(G, t)).astype(f32)).astype(f32)
        tail = np.where(az < f32(ZMAX), tail, f32(0))
        return (x * np.where(x < 0, tail, (f32(1) - tail).astype(f32))).astype(f32)

    xg = np.concatenate([np.linspace(-12, 12, 240001), [-40, -20, -9.5, 9.5, 20, 40]]).astype(f32)
    want_gelu = np.array([float(mp.mpf(float(x)) * mp.erfc(-mp.mpf(float(x)) / mp.sqrt(2)) / 2) for x in xg])
    err_gelu = np.max(np.abs(gelu32(xg).astype(np.float64) - want_gelu) / np.maximum(1, np.abs(xg.astype(np.float64))))

    fmt = lambda cs: ', '.join(repr(float(c)) for c in cs)
    print(f'// GELU erfc G (t = 1/(1+z/2), z in [0, {ZMAX}], highest first): {fmt(G)}')
    print(f'max |gelu32 - gelu| / max(1, |x|) on [-12, 12] and tails: {err_gelu:.3e}')
    print(f'// erf small branch R (z^2, highest degree first): {fmt(R)}')
    print(f'// erfc branch Q (t = 1/(1+z/2), highest first): {fmt(Q)}')
    print(f'// exp Taylor (highest first): {fmt(EXP_C)}; LN2_LO = {float(LN2_LO)!r}')
    print(f'max |erf32 - erf| on [-6, 6]: {err_erf:.3e}')
    print(f'max exp32 error on [-88, 88] (normal results): {err_exp:.2f} ulp')


if __name__ == '__main__':
    main()
