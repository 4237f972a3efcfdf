/**
 * Op-level parity of the wasm backend: every op case (test/helpers/op-parity.ts: standard, edge and
 * head cases, the one list every device runs) on the simd and scalar builds at 1 and 2 threads,
 * against the float64 reference, through the body every device shares (test/helpers/device-tests.ts).
 * The relaxed-SIMD builds run the same list in wasm-relaxed.test.ts, WebGPU in webgpu-ops.test.ts.
 */
import { describeOpParity } from './helpers/device-tests.js';
import { WASM_DEVICES } from './helpers/devices.js';
import { allOpCases } from './helpers/op-parity.js';

describeOpParity(WASM_DEVICES, allOpCases());
