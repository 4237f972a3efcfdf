/**
 * The encoder-family ops (RoPE, gated MLPs, sliding-window and relative-bias attention, offset
 * embeddings) on every device against the float64 reference, through the one op-parity harness
 * (test/helpers/op-parity.ts `familyOpCases`): the wasm simd and scalar builds (1 and 2
 * threads) and WebGPU (Dawn in Node; SwiftShader on CPU-only machines). Prints the worst max |Δ|
 * per op and device.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from 'vitest';
import type { Backend, BackendOptions } from '../ts/backends/types.js';
import { type WasmBackend, createWasmBackend } from '../ts/backends/wasm/index.js';
import { type GpuContext, openGpu } from '../ts/backends/webgpu/gpu.js';
import { createWebGpuBackend } from '../ts/backends/webgpu/index.js';
import type { GraphWeights } from '../ts/graph/weights.js';
import { skipOrFail } from './helpers/ci.js';
import { OP_TOLERANCE, familyOpCases, runOpParity } from './helpers/op-parity.js';
import { getNodeGpu, getNodeGpuAdapter, noAdapterHint, releaseNodeGpu } from './helpers/webgpu.js';

interface Device {
  name: string;
  create(weights: GraphWeights, ctx: TestContext): Promise<Backend>;
}

function wasm(name: string, build: string, options: BackendOptions): Device {
  return {
    name,
    async create(weights) {
      const backend = (await createWasmBackend(weights, options, { relaxedSimd: false })) as WasmBackend;
      expect(backend.build).toBe(build);
      return backend;
    },
  };
}

let gpu: GpuContext | undefined;
beforeAll(async () => {
  if (await getNodeGpuAdapter()) gpu = await openGpu({ gpu: getNodeGpu() });
});
afterAll(() => {
  gpu?.device.destroy();
  releaseNodeGpu();
});

const DEVICES: Device[] = [
  wasm('wasm simd', 'simd', { threads: 1 }),
  wasm('wasm scalar', 'scalar', { threads: 1, wasm: { simd: false } }),
  wasm('wasm simd, 2 threads', 'simd-threads', { threads: 2 }),
  {
    name: 'webgpu',
    async create(weights, ctx) {
      if (!gpu) skipOrFail(ctx, noAdapterHint());
      return createWebGpuBackend(weights, { device: gpu.device, gpu: getNodeGpu() });
    },
  },
];

const cases = familyOpCases();

describe.each(DEVICES)('$name: encoder-family ops against the float64 reference', (device) => {
  const worst = new Map<string, number>();
  afterAll(() => {
    if (worst.size) console.log(`[${device.name}] family ops, max |Δ|: ${[...worst].map(([op, d]) => `${op} ${d.toExponential(2)}`).join(', ')}`);
  });

  it.for(cases.map((c) => [c.name, c] as const))('%s', async ([, c], ctx) => {
    const r = await runOpParity((w) => device.create(w, ctx), c);
    expect(r.want.length).toBeGreaterThan(0);
    expect(r.got.length).toBe(r.want.length);
    const label = c.node.op === 'attention' ? `attention${c.node.window !== undefined ? ' window' : ''}${c.node.positionBias ? ' bias' : ''}` : c.node.op;
    worst.set(label, Math.max(worst.get(label) ?? 0, r.maxAbs));
    expect(r.maxRel, `max |Δ| ${r.maxAbs.toExponential(2)}`).toBeLessThanOrEqual(OP_TOLERANCE[c.node.op]);
  });
});
