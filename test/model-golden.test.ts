/**
 * Whole models on every device against the golden PyTorch float64 outputs of the synthetic tiny
 * and minilm models (test/fixtures/PROVENANCE.md): every golden text alone (mean+normalize, cls),
 * padded batches, and tiny's hidden states layer by layer. One body (test/helpers/device-tests.ts),
 * one device table (test/helpers/devices.ts): the float64 reference (1e-6), the wasm builds at 1
 * and 2 threads and WebGPU on Dawn (1e-5). Device-specific checks live in wasm-model.test.ts,
 * wasm-relaxed.test.ts and webgpu-model.test.ts.
 */
import { afterAll } from 'vitest';
import { describeGoldenModels } from './helpers/device-tests.js';
import { GOLDEN_DEVICES, releaseTestDevices } from './helpers/devices.js';

afterAll(releaseTestDevices);

describeGoldenModels(GOLDEN_DEVICES);
