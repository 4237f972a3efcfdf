// Smoke tests of the two AssemblyScript builds in Node: SIMD flag, dot kernel accuracy against
// a float64 reference, bitwise agreement between builds, and "the scalar build has no SIMD".

import binaryen from 'binaryen';
import { describe, expect, it } from 'vitest';
import {
  instantiateDualbertWasm,
  readWasmBytes,
  type DualbertWasm,
  type WasmFlavor,
} from './helpers/wasm.js';

const FLAVORS: WasmFlavor[] = ['simd', 'scalar'];
// Lengths around the 4-lane blocking (tails of 0..3), plus longer vectors.
const LENGTHS = [0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 384, 1000, 4099];
const U = 2 ** -24; // unit roundoff of f32

/** Deterministic xorshift32 in [-1, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 31 - 1;
  };
}

/** Copy `values` into wasm memory at byte offset `at`; returns `at`. */
function put(w: DualbertWasm, at: number, values: Float32Array): number {
  new Float32Array(w.memory.buffer, at, values.length).set(values);
  return at;
}

function makeVectors(n: number, seed: number): [Float32Array, Float32Array] {
  const r = rng(seed);
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = r() * 3;
    b[i] = r() * 3;
  }
  return [a, b];
}

describe('AssemblyScript builds (Node)', () => {
  it('exports the expected API and imports only env.memory', () => {
    for (const flavor of FLAVORS) {
      const mod = new WebAssembly.Module(readWasmBytes(flavor));
      expect(WebAssembly.Module.imports(mod)).toEqual([
        { module: 'env', name: 'memory', kind: 'memory' },
      ]);
      expect(
        WebAssembly.Module.exports(mod)
          .map((e) => `${e.kind}:${e.name}`)
          .sort(),
      ).toEqual(['function:dot', 'function:heapBase', 'function:simdEnabled']);
    }
  });

  it('simdEnabled() is 1 in the SIMD build and 0 in the scalar build', async () => {
    expect((await instantiateDualbertWasm('simd')).exports.simdEnabled()).toBe(1);
    expect((await instantiateDualbertWasm('scalar')).exports.simdEnabled()).toBe(0);
  });

  it('dot matches a float64 reference within the f32 summation error bound', async () => {
    // Error bound (Higham, recursive summation): every product a_i*b_i is rounded once, and each
    // term then passes through at most k = ceil(n/4) + 3 f32 additions (its lane's running sum,
    // the 2-level lane reduction, the in-order tail of <= 3 elements), so
    //   |dot_f32 - dot_exact| <= gamma_(k+1) * sum |a_i b_i|,  gamma_m = m*u / (1 - m*u).
    // The float64 reference is exact up to ~n * 2^-53 * sum|a_i b_i|: negligible here (the
    // products of two f32 values are exact in f64), but added to the bound anyway.
    const results: Record<WasmFlavor, number[]> = { simd: [], scalar: [] };
    const refs: number[] = [];
    for (const flavor of FLAVORS) {
      const w = await instantiateDualbertWasm(flavor);
      const base = w.exports.heapBase();
      for (const [t, n] of LENGTHS.entries()) {
        const [a, b] = makeVectors(n, 1234 + t);
        let ref = 0;
        let absSum = 0;
        for (let i = 0; i < n; i++) {
          ref += a[i]! * b[i]!;
          absSum += Math.abs(a[i]! * b[i]!);
        }
        const m = Math.ceil(n / 4) + 4;
        const tol = ((m * U) / (1 - m * U)) * absSum + n * 2 ** -53 * absSum;
        // Offsets that are 4 mod 16 to make the v128 loads unaligned.
        const pa = put(w, base + 4, a);
        const pb = put(w, base + 4 + 4 * n + 8, b);
        const got = w.exports.dot(pa, pb, n);
        expect(Math.abs(got - ref), `${flavor} n=${n}: got ${got}, ref ${ref}`).toBeLessThanOrEqual(
          tol,
        );
        results[flavor].push(got);
        if (flavor === 'simd') refs.push(ref);
      }
    }
    // Same association order in both builds (lane k of the f32x4 accumulator == scalar
    // partial sum k, same reduction tree), and no FMA in wasm: results are bit-identical.
    expect(results.scalar).toEqual(results.simd);
    // The data really exercises f32 rounding (else the tolerance would not be tested).
    expect(results.simd.filter((v, i) => v !== refs[i]).length).toBeGreaterThan(LENGTHS.length / 2);
  });

  it('the scalar build contains no SIMD instruction; the SIMD build does', async () => {
    // Disassemble the actual bytes with Binaryen; every SIMD128 instruction or type mentions
    // v128 or a lane shape (i8x16, i16x8, i32x4, i64x2, f32x4, f64x2) in the text format.
    const simdToken = /\b(?:v128|[if](?:8x16|16x8|32x4|64x2))\b/;
    const text = (flavor: WasmFlavor): string => {
      const mod = binaryen.readBinary(readWasmBytes(flavor));
      try {
        return mod.emitText();
      } finally {
        mod.dispose();
      }
    };
    expect(text('simd')).toMatch(simdToken); // the detector works...
    expect(text('scalar')).not.toMatch(simdToken); // ...and finds nothing in the scalar build

    // And Binaryen's validator accepts the scalar build with SIMD switched off (the feature
    // set asc uses by default, which is what the scalar build targets).
    const F = binaryen.Features;
    const mod = binaryen.readBinary(readWasmBytes('scalar'));
    try {
      mod.setFeatures(F.MutableGlobals | F.SignExt | F.NontrappingFPToInt | F.BulkMemory);
      expect(mod.validate()).toBeTruthy();
    } finally {
      mod.dispose();
    }
  });
});
