// Smoke tests of the six AssemblyScript builds in Node: imports and exports, feature flags,
// the ABI numbers shared with the host, dot kernel accuracy against a float64 reference,
// bitwise agreement between builds, "the scalar builds have no SIMD", "only the relaxed builds
// use relaxed SIMD" and "only the threaded builds have atomics and shared memory". Checks on the
// bytes use Binaryen, so they cover the relaxed builds even where Node cannot compile them.

import binaryen from 'binaryen';
import { describe, expect, it } from 'vitest';
import { ABI_GLOBALS } from '../ts/backends/wasm/abi.js';
import { FLAVORS, RUNNABLE_FLAVORS, instantiateDualbertWasm, readWasmBytes, type WasmFlavor } from './helpers/wasm.js';

// Lengths around the 4-lane blocking (tails of 0..3), plus longer vectors.
const LENGTHS = [0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 384, 1000, 4099];
const U = 2 ** -24; // unit roundoff of f32
const EXPORTED_FUNCTIONS = [
  'activate',
  'attentionScratchBytes',
  'embed',
  'gemmQ8ScratchBytes',
  'gemmScratchBytes',
  'glu',
  'heapBase',
  'normalize',
  'pool',
  'rope',
  'runJob',
  'simdEnabled',
  'threadsEnabled',
];

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

/** The build read by Binaryen with every feature on (its default set lacks relaxed SIMD). */
function read(flavor: WasmFlavor): binaryen.Module {
  // binaryen.js takes the feature set as readBinary's second argument (its typings omit it).
  const readBinary = binaryen.readBinary as (data: Uint8Array, features?: binaryen.Features) => binaryen.Module;
  return readBinary(readWasmBytes(flavor), binaryen.Features.All);
}

/** The build disassembled by Binaryen (text format). */
function text(flavor: WasmFlavor): string {
  const mod = read(flavor);
  try {
    return mod.emitText();
  } finally {
    mod.dispose();
  }
}

/** Imports and exports read by Binaryen (which knows every feature), as WebAssembly.Module lists them. */
function interfaceOf(flavor: WasmFlavor): { imports: { module: string; name: string; kind: string }[]; exports: { name: string; kind: string }[] } {
  const mod = read(flavor);
  try {
    const kinds: Record<number, string> = { [binaryen.ExternalFunction]: 'function', [binaryen.ExternalGlobal]: 'global', [binaryen.ExternalMemory]: 'memory', [binaryen.ExternalTable]: 'table' };
    const exports = Array.from({ length: mod.getNumExports() }, (_, i) => {
      const info = binaryen.getExportInfo(mod.getExportByIndex(i));
      return { name: info.name, kind: kinds[info.kind]! };
    });
    const memory = mod.getMemoryInfo();
    return { imports: memory.module ? [{ module: memory.module, name: memory.base!, kind: 'memory' }] : [], exports };
  } finally {
    mod.dispose();
  }
}

describe('AssemblyScript builds (Node)', () => {
  it('each imports only env.memory (shared in the threaded builds) and exports the kernel API and the ABI numbers', () => {
    for (const flavor of FLAVORS) {
      const { imports, exports } = interfaceOf(flavor);
      if (RUNNABLE_FLAVORS.includes(flavor)) {
        // Binaryen's reading agrees with the engine's where the engine can compile the build.
        const mod = new WebAssembly.Module(readWasmBytes(flavor));
        expect(WebAssembly.Module.imports(mod), flavor).toEqual(imports);
        expect(WebAssembly.Module.exports(mod).map((e) => `${e.kind}:${e.name}`).sort(), flavor).toEqual(exports.map((e) => `${e.kind}:${e.name}`).sort());
      }
      expect(imports, flavor).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
      expect(exports.filter((e) => e.kind === 'function').map((e) => e.name).sort(), flavor).toEqual(EXPORTED_FUNCTIONS);
      expect(exports.filter((e) => e.kind === 'global').map((e) => e.name).sort(), flavor).toEqual(Object.keys(ABI_GLOBALS).sort());
      expect(/\(import "env" "memory" \(memory \S+ \d+ \d+ shared\)\)/.test(text(flavor)), flavor).toBe(flavor.endsWith('-threads'));
    }
  });

  it('the ABI numbers of assembly/layout.ts are the ones ts/backends/wasm/abi.ts uses', async () => {
    for (const flavor of RUNNABLE_FLAVORS) expect((await instantiateDualbertWasm(flavor)).globals, flavor).toEqual(ABI_GLOBALS);
  });

  it('simdEnabled() and threadsEnabled() report each build', async () => {
    for (const flavor of RUNNABLE_FLAVORS) {
      const { exports } = await instantiateDualbertWasm(flavor);
      expect(exports.simdEnabled(), flavor).toBe(flavor.startsWith('scalar') ? 0 : 1);
      expect(exports.threadsEnabled(), flavor).toBe(flavor.endsWith('-threads') ? 1 : 0);
    }
  });

  it('dot matches a float64 reference within the f32 summation error bound', async () => {
    // Error bound (Higham, recursive summation): every product a_i*b_i is rounded once, and each
    // term then passes through at most k = ceil(n/4) + 3 f32 additions (its lane's running sum,
    // the 2-level lane reduction, the in-order tail of <= 3 elements), so
    //   |dot_f32 - dot_exact| <= gamma_(k+1) * sum |a_i b_i|,  gamma_m = m*u / (1 - m*u).
    // The float64 reference is exact up to ~n * 2^-53 * sum|a_i b_i|: negligible here (the
    // products of two f32 values are exact in f64), but added to the bound anyway.
    const results = new Map<WasmFlavor, number[]>();
    const refs: number[] = [];
    for (const flavor of RUNNABLE_FLAVORS) {
      const w = await instantiateDualbertWasm(flavor, 4, true);
      const base = w.exports.heapBase();
      const got: number[] = [];
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
        const pa = base + 4;
        const pb = base + 4 + 4 * n + 8;
        new Float32Array(w.memory.buffer, pa, n).set(a);
        new Float32Array(w.memory.buffer, pb, n).set(b);
        const d = w.exports.dot(pa, pb, n);
        expect(Math.abs(d - ref), `${flavor} n=${n}: got ${d}, ref ${ref}`).toBeLessThanOrEqual(tol);
        got.push(d);
        if (flavor === 'simd') refs.push(ref);
      }
      results.set(flavor, got);
    }
    // Same association order in every build (lane k of the f32x4 accumulator == scalar
    // partial sum k, same reduction tree), and no FMA in wasm: results are bit-identical.
    for (const flavor of RUNNABLE_FLAVORS) expect(results.get(flavor), flavor).toEqual(results.get('simd'));
    // The data really exercises f32 rounding (else the tolerance would not be tested).
    expect(results.get('simd')!.filter((v, i) => v !== refs[i]).length).toBeGreaterThan(LENGTHS.length / 2);
  });

  it('the scalar builds contain no SIMD instruction, the others do; only the relaxed builds use relaxed SIMD, only the threaded builds atomics', () => {
    // Every SIMD128 instruction or type mentions v128 or a lane shape (i8x16, i16x8, i32x4,
    // i64x2, f32x4, f64x2) in the text format; every atomic instruction contains "atomic";
    // relaxed-SIMD instructions start with "relaxed".
    const simdToken = /\b(?:v128|[if](?:8x16|16x8|32x4|64x2))\b/;
    for (const flavor of FLAVORS) {
      const t = text(flavor);
      expect(simdToken.test(t), `${flavor} SIMD`).toBe(!flavor.startsWith('scalar'));
      expect(/\.relaxed_/.test(t), `${flavor} relaxed SIMD`).toBe(flavor.startsWith('relaxed'));
      expect(/\.atomic\./.test(t), `${flavor} atomics`).toBe(flavor.endsWith('-threads'));
    }
    // And Binaryen's validator accepts the scalar builds with SIMD switched off (the feature
    // set asc uses by default, which is what the scalar builds target; plus atomics for threads).
    // Binaryen splits bulk memory in two flags and asserts that both are set together.
    const F = binaryen.Features;
    const base = F.MutableGlobals | F.SignExt | F.NontrappingFPToInt | F.BulkMemory | F.BulkMemoryOpt;
    for (const [flavor, features] of [['scalar', base], ['scalar-threads', base | F.Atomics]] as const) {
      const mod = binaryen.readBinary(readWasmBytes(flavor));
      try {
        mod.setFeatures(features);
        expect(mod.validate(), flavor).toBeTruthy();
      } finally {
        mod.dispose();
      }
    }
  });
});
