/**
 * Attention over many keys against the float64 op (issue #13): the op case of
 * test/helpers/op-parity.ts `longKeySumsCase`, one head over 2,048 keys whose values share an
 * offset, on every wasm build and on webgpu. Its error comes from the softmax row sum and the P·V
 * totals, which the kernels add up by key tiles (assembly/attention.ts, shaders/attention.wgsl):
 * measured 1.9e-6 on every wasm build and 3.4e-6 on webgpu (SwiftShader), where adding each key
 * straight into the running totals (the kernels before) measured 1.3e-5 and 1.7e-5. At 8,192 keys
 * that gap is what took a long-context model past 1e-5 (test/families-long.test.ts with
 * DUALBERT_LONG=1). Under a second on wasm, a few seconds on SwiftShader.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { WASM_DEVICES, WEBGPU, releaseTestDevices } from './helpers/devices.js';
import { longKeySumsCase, runOpParity } from './helpers/op-parity.js';

const BOUND = 5e-6;
const opCase = longKeySumsCase();

afterAll(releaseTestDevices);

describe.each([...WASM_DEVICES, WEBGPU])('$name', (device) => {
  it(`${opCase.name}: within ${BOUND.toExponential(0)} of the float64 op`, async (ctx) => {
    const r = await runOpParity((weights) => device.create(weights, ctx), opCase);
    console.log(`[${device.name}] ${opCase.name}: max |Δ| ${r.maxAbs.toExponential(2)}`);
    expect(r.maxAbs).toBeLessThanOrEqual(BOUND);
  });
});
