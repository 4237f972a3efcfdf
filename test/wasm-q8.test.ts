/**
 * The q8 linear kernels of the wasm builds (assembly/gemm-q8.ts: SIMD128, scalar, and their
 * threaded twins) against the reference's ONNX dynamic quantization (ts/backends/reference/
 * quantized.ts): the integer sums are exact and every float step is the same float32 operation,
 * so without an epilogue the results are identical, bit for bit; GELU and the residual add are
 * float64 in the reference.
 */
import { describe, expect, it } from 'vitest';
import type { BackendOptions } from '../ts/backends/types.js';
import { createWasmBackend, type WasmBackend } from '../ts/backends/wasm/index.js';
import { dynamicQuantize, roundHalfEven } from '../ts/backends/reference/quantized.js';
import type { GraphWeights } from '../ts/graph/weights.js';
import { q8OpCases, runOpParity } from './helpers/op-parity.js';

describe('reference dynamic quantization', () => {
  it('rounds half to even', () => {
    expect([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4999, 2.5001].map(roundHalfEven)).toEqual([-2, -2, -0, 0, 2, 2, 2, 3]);
  });

  it('quantizes as onnxruntime: range with 0, scale (max − min)/255, zero point, saturation', () => {
    // min −255/128, max 0: scale 1/128 exactly, zero point 255; x / scale = −k/2 rounds to even.
    const q = dynamicQuantize([-255 / 128, -1 / 256, -3 / 256, -5 / 256, 0]);
    expect(q.scale).toBe(1 / 128);
    expect(q.zeroPoint).toBe(255);
    expect(Array.from(q.values)).toEqual([0, 255, 253, 253, 255]); // −0.5 → −0, −1.5 → −2, −2.5 → −2
    const pos = dynamicQuantize([0.5, 1, 2]);
    expect(pos.zeroPoint).toBe(0);
    expect(pos.scale).toBe(Math.fround(2 / 255));
    expect(pos.values[2]).toBe(255);
    expect(dynamicQuantize([0, 0]).scale).toBe(1);
  });
});

const VARIANTS: { name: string; build: string; threads: number; options: BackendOptions }[] = [
  { name: 'simd', build: 'simd', threads: 1, options: { threads: 1 } },
  { name: 'scalar', build: 'scalar', threads: 1, options: { threads: 1, wasm: { simd: false } } },
  { name: 'simd, 2 threads', build: 'simd-threads', threads: 2, options: { threads: 2 } },
  { name: 'scalar, 2 threads', build: 'scalar-threads', threads: 2, options: { threads: 2, wasm: { simd: false } } },
];
const cases = q8OpCases();

describe.each(VARIANTS)('wasm $name: q8 linear against the reference', ({ build, threads, options }) => {
  const make = async (weights: GraphWeights): Promise<WasmBackend> => {
    const backend = (await createWasmBackend(weights, options, { relaxedSimd: false })) as WasmBackend;
    expect(backend.build).toBe(build);
    expect(backend.threads).toBe(threads);
    return backend;
  };

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const r = await runOpParity(make, c);
    expect(r.want.length).toBeGreaterThan(0);
    if (c.node.op === 'linear' && c.node.epilogue === 'none') expect(r.maxAbs, 'identical float32 results').toBe(0);
    else expect(r.maxRel, `max |Δ| ${r.maxAbs.toExponential(2)}`).toBeLessThanOrEqual(1e-6);
  });
});
