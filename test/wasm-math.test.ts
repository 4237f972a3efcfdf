/**
 * Accuracy of the kernels' f32 special functions (assembly/math.ts) on dense grids, against
 * float64 references: erf (|error| ≤ 1e-7 absolute, as the issue asks; 7.5e-8 by design),
 * exp (≤ 2 ulp; 1.14 by design), and GELU. Every build computes them identically.
 */
import { describe, expect, it } from 'vitest';
import { erf, gelu } from '../ts/backends/reference/math.js';
import { RUNNABLE_FLAVORS, instantiateDualbertWasm } from './helpers/wasm.js';

const F = { exp: 0, erf: 1, gelu: 2 } as const;

/** Applies one function of the module to `xs` (rounded to f32), returns the f32 results. */
async function apply(flavor: (typeof RUNNABLE_FLAVORS)[number], f: number, xs: Float32Array): Promise<Float32Array> {
  const w = await instantiateDualbertWasm(flavor, Math.ceil((xs.length * 4 + 65536) / 65536), true);
  const at = Math.ceil(w.exports.heapBase() / 16) * 16 + 4; // 4 mod 16: unaligned v128 accesses
  new Float32Array(w.memory.buffer, at, xs.length).set(xs);
  w.exports.mathInPlace(at, xs.length, f);
  return new Float32Array(w.memory.buffer, at, xs.length).slice();
}

function grid(lo: number, hi: number, n: number, extra: number[] = []): Float32Array {
  const xs = Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
  // Odd length: the SIMD build's scalar tail runs too.
  return Float32Array.from([...xs, ...extra, 0.123]);
}

describe('wasm special functions', () => {
  it('erf: |error| ≤ 1e-7 on [-6, 6], densely around the branch points 1 and 3.92', async () => {
    const xs = grid(-6, 6, 240001, [...grid(0.99, 1.01, 2001), ...grid(3.91, 3.93, 2001), ...grid(-1.01, -0.99, 2001)]);
    const got = await apply('simd', F.erf, xs);
    let worst = 0;
    let at = 0;
    xs.forEach((x, i) => {
      const d = Math.abs(got[i]! - erf(x));
      if (d > worst) [worst, at] = [d, x];
    });
    console.log(`[wasm erf] max |error| ${worst.toExponential(2)} at ${at}`);
    expect(worst).toBeLessThanOrEqual(1e-7);
    expect(got[xs.indexOf(0)]).toBe(0);
  });

  it('exp: ≤ 2 ulp on [-87, 88]', async () => {
    const xs = grid(-87, 88, 175001);
    const got = await apply('simd', F.exp, xs);
    let worst = 0;
    xs.forEach((x, i) => {
      const want = Math.exp(x);
      const ulp = 2 ** (Math.floor(Math.log2(want)) - 23);
      worst = Math.max(worst, Math.abs(got[i]! - want) / ulp);
    });
    console.log(`[wasm exp] max error ${worst.toFixed(2)} ulp`);
    expect(worst).toBeLessThanOrEqual(2);
  });

  it('GELU: |error| ≤ 1.5e-7 · max(1, |x|) on [-12, 12] and in the tails', async () => {
    // erf's 7.5e-8 scaled by |x|/2, plus the final f32 rounding of x·Φ(x).
    const xs = grid(-12, 12, 120001, [-40, -20, -9.5, 9.5, 20, 40]);
    const got = await apply('simd', F.gelu, xs);
    let worst = 0;
    xs.forEach((x, i) => (worst = Math.max(worst, Math.abs(got[i]! - gelu(x)) / Math.max(1, Math.abs(x)))));
    console.log(`[wasm gelu] max |error| / max(1, |x|) ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1.5e-7);
  });

  it('every build gives bit-identical exp, erf and GELU (relaxed builds too: only their GEMM fuses)', async () => {
    const xs = grid(-30, 30, 60001);
    for (const f of Object.values(F)) {
      const want = await apply('simd', f, xs);
      for (const flavor of RUNNABLE_FLAVORS) expect(await apply(flavor, f, xs), `${flavor} f=${f}`).toEqual(want);
    }
  });
});
