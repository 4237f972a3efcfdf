/**
 * Every op case on every fast device against the float64 reference (the harness of
 * test/helpers/op-parity.ts): the standard cases (random, extreme and odd-sized inputs; seq 1 and
 * 512), the edge cases (GEMM tile borders, masks with holes, head size 64, width 768) and the
 * head cases (newer pooling modes, Dense), on the wasm simd and scalar builds at 1 and 2 threads
 * and on WebGPU (Dawn in Node; SwiftShader on CPU-only machines). The relaxed-SIMD builds run the
 * same list in wasm-relaxed.test.ts; WebGPU's tuning variants in webgpu-ops.test.ts.
 */
import { afterAll } from 'vitest';
import { describeOpParity } from './helpers/device-tests.js';
import { KERNEL_DEVICES, releaseTestDevices } from './helpers/devices.js';
import { allOpCases } from './helpers/op-parity.js';

afterAll(releaseTestDevices);

describeOpParity(KERNEL_DEVICES, allOpCases());
