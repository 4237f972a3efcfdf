/**
 * Op-level parity of the wasm backend: every kernel of the simd and scalar builds and their
 * threaded twins (2 threads; the relaxed-SIMD builds in wasm-relaxed.test.ts) against the float64 reference, on the standard op cases
 * (random, extreme and odd-sized inputs; seq 1 and 512) with the harness's tolerances.
 */
import { describe, expect, it } from 'vitest';
import type { BackendOptions } from '../ts/backends/types.js';
import { createWasmBackend, type WasmBackend } from '../ts/backends/wasm/index.js';
import type { GraphWeights } from '../ts/graph/weights.js';
import { OP_TOLERANCE, runOpParity, standardOpCases } from './helpers/op-parity.js';

const cases = standardOpCases();

const VARIANTS: { name: string; build: string; threads: number; options: BackendOptions }[] = [
  { name: 'simd', build: 'simd', threads: 1, options: { threads: 1 } },
  { name: 'scalar', build: 'scalar', threads: 1, options: { threads: 1, wasm: { simd: false } } },
  { name: 'simd, 2 threads', build: 'simd-threads', threads: 2, options: { threads: 2 } },
  { name: 'scalar, 2 threads', build: 'scalar-threads', threads: 2, options: { threads: 2, wasm: { simd: false } } },
];

describe.each(VARIANTS)('wasm $name: op parity with the reference', ({ build, threads, options }) => {
  const make = async (weights: GraphWeights): Promise<WasmBackend> => {
    // relaxedSimd: false keeps the plain SIMD build where the engine has relaxed SIMD (Node ≥ 22);
    // the relaxed builds have their own test (wasm-relaxed.test.ts).
    const backend = (await createWasmBackend(weights, options, { relaxedSimd: false })) as WasmBackend;
    expect(backend.build).toBe(build);
    expect(backend.threads).toBe(threads);
    return backend;
  };

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const r = await runOpParity(make, c);
    expect(r.want.length).toBeGreaterThan(0);
    expect(r.maxRel, `max |Δ| ${r.maxAbs.toExponential(2)}`).toBeLessThanOrEqual(OP_TOLERANCE[c.node.op]);
  });
});
