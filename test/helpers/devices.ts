/**
 * The devices the parity tests run on, in one table (candle's `test_device!`): each entry makes a
 * backend for a set of weights, or skips the test (locally) / fails it (CI=true) when this machine
 * lacks the device. The test bodies are written once (test/helpers/device-tests.ts) and run over
 * these lists: model-golden.test.ts (whole models against the PyTorch golden vectors, every
 * device) and wasm-ops.test.ts, webgpu-ops.test.ts, wasm-relaxed.test.ts (every op case against the
 * float64 reference, one file per device family: one process keeps SwiftShader's compiled
 * pipelines for the variant tests).
 */
import type { TestContext } from 'vitest';
import { createBackend } from '../../ts/backends/registry.js';
import type { Backend, BackendOptions, Device } from '../../ts/backends/types.js';
import { type WasmBackend, type WasmBuild, createWasmBackend } from '../../ts/backends/wasm/index.js';
import { createWebGpuBackend } from '../../ts/backends/webgpu/index.js';
import type { GraphWeights } from '../../ts/graph/weights.js';
import { skipOrFail } from './ci.js';
import { OP_TOLERANCE, type OpCase } from './op-parity.js';
import { closeTestGpu, getNodeGpu, noAdapterHint, openTestGpu } from './webgpu.js';

/**
 * How much of the golden minilm set a device runs (tiny: every text, on every device).
 * - `all`: every text alone, 24 texts in padded batches of 6.
 * - `third`: every third text alone (still 1 to 256 tokens), 12 texts in padded batches of 6;
 *   for the paths several times slower than wasm simd (scalar: 4-30x, the float64 oracle).
 * - `few`: three texts alone and one padded batch, ~500 tokens in all; for WebGPU on SwiftShader
 *   (CI), ~50 ms per minilm token.
 */
export type GoldenShare = 'all' | 'third' | 'few';

export interface TestDevice {
  /** In test names and printed figures, e.g. "wasm simd, 2 threads". */
  readonly name: string;
  readonly device: Device;
  /** Max |Δ| against the golden float64 vectors (normalized mean; cls and hidden states relative to their scale). */
  readonly goldenTolerance: number;
  readonly minilm: GoldenShare;
  /** The backend for these weights; skips (or fails under CI=true) when this machine lacks the device. */
  create(weights: GraphWeights, ctx: TestContext): Promise<Backend>;
  /** Max |Δ| / max(1, |want|) of one op case against the float64 reference. */
  opTolerance(c: OpCase): number;
}

const opTolerance = (c: OpCase): number => OP_TOLERANCE[c.node.op];

/** The float64 oracle itself (model-level only: against itself at op level it could not fail). */
export const REFERENCE: TestDevice = {
  name: 'reference',
  device: 'reference',
  goldenTolerance: 1e-6,
  minilm: 'third',
  create: (weights) => createBackend('reference', weights),
  opTolerance: () => 0,
};

/**
 * One wasm build with a thread count; creation checks that this build and thread count really run
 * (a threaded setup that cannot start falls back to 1 thread, and that must not pass unnoticed).
 */
export function wasm(build: WasmBuild, threads: number, minilm: GoldenShare): TestDevice {
  const isa = build.replace('-threads', '');
  const options: BackendOptions = { threads, ...(isa === 'scalar' ? { wasm: { simd: false } } : {}) };
  return {
    name: `wasm ${isa}, ${threads} thread${threads > 1 ? 's' : ''}`,
    device: 'wasm',
    goldenTolerance: 1e-5,
    minilm,
    async create(weights) {
      // relaxedSimd: only the relaxed entries take the relaxed builds where the engine has them.
      const backend = (await createWasmBackend(weights, options, { relaxedSimd: isa === 'relaxed' })) as WasmBackend;
      if (backend.build !== build || backend.threads !== threads) {
        backend.dispose();
        throw new Error(`asked for wasm ${build} with ${threads} threads, got ${backend.build} with ${backend.threads}`);
      }
      return backend;
    },
    opTolerance,
  };
}

export const WASM_DEVICES: readonly TestDevice[] = [
  wasm('simd', 1, 'all'),
  wasm('scalar', 1, 'third'),
  wasm('simd-threads', 2, 'third'),
  wasm('scalar-threads', 2, 'third'),
];

/**
 * The relaxed-SIMD builds (fused multiply-add: not bit-identical to the others). Only where the
 * engine validates relaxed SIMD: wasm-relaxed.test.ts runs them, under a flag on Node 20.
 */
export const RELAXED_DEVICES: readonly TestDevice[] = [wasm('relaxed', 1, 'third'), wasm('relaxed-threads', 2, 'third')];

/** WebGPU through Dawn in Node (SwiftShader on CPU-only machines), all backends on one device. */
export const WEBGPU: TestDevice = {
  name: 'webgpu',
  device: 'webgpu',
  goldenTolerance: 1e-5,
  minilm: 'few',
  async create(weights, ctx) {
    const gpu = await openTestGpu();
    if (!gpu) skipOrFail(ctx, noAdapterHint());
    return createWebGpuBackend(weights, { device: gpu.device, gpu: getNodeGpu() });
  },
  /**
   * OP_TOLERANCE, with one justified exception. Attention with logits in the thousands (the
   * standard "scale×30" case: |q|, |k| ≤ 30, HS = 16, so |q_d·k_d·scale| ≤ 225) cannot meet 1e-5
   * against a float64 oracle in f32 arithmetic, and WGSL has no f64: each product is rounded by
   * ~225·2⁻²⁴ ≈ 1.3e-5, so a score of 16 products carries ~√16·1.3e-5 ≈ 5e-5 of absolute error,
   * and softmax weights are relatively off by the score error (e^δ ≈ 1 + δ), which reaches the
   * output as ~1e-4 of |V| (measured 1.1e-4 on SwiftShader). 2e-4 still catches a kernel that
   * skips the max subtraction (inf/NaN) or mis-weights keys (errors of order 1). Real BERT scores
   * are below ~30 in magnitude, where the f32 error is ~1e-6.
   */
  opTolerance(c) {
    if (c.node.op === 'attention' && c.name.endsWith('scale×30')) return 2e-4;
    return OP_TOLERANCE[c.node.op];
  },
};

/** Every device, for the model-level golden tests. */
export const GOLDEN_DEVICES: readonly TestDevice[] = [REFERENCE, ...WASM_DEVICES, WEBGPU];

/** For afterAll: frees what the device table opened (the shared WebGPU device). */
export async function releaseTestDevices(): Promise<void> {
  await closeTestGpu();
}
