/**
 * The encoder-family ops (RoPE, gated MLPs, sliding-window and relative-bias attention, offset
 * embeddings) on every device against the float64 reference, through the one op-parity harness
 * (test/helpers/op-parity.ts `familyOpCases`): the wasm simd and scalar builds (1 and 2
 * threads) and WebGPU (Dawn in Node; SwiftShader on CPU-only machines). Prints the worst max |Δ|
 * per op and device.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type TestDevice, WEBGPU, releaseTestDevices, wasm } from './helpers/devices.js';
import { OP_TOLERANCE, familyOpCases, runOpParity } from './helpers/op-parity.js';

afterAll(releaseTestDevices);

const DEVICES: readonly TestDevice[] = [wasm('simd', 1, 'all'), wasm('scalar', 1, 'all'), wasm('simd-threads', 2, 'all'), WEBGPU];

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
