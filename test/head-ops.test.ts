/**
 * The head ops on the fast devices: every pooling mode beyond mean/cls/max (mean_sqrt_len,
 * weightedmean, lasttoken) and the Dense head (each activation, with and without bias) on the
 * wasm simd and scalar builds (1 and 2 threads) and on WebGPU (Dawn in Node; SwiftShader on
 * CPU-only machines), each against the float64 reference through the op-parity harness
 * (test/helpers/op-parity.ts `headOpCases`), plus saturating inputs for tanh and sigmoid and
 * masks with holes for lasttoken and weightedmean; and a model saved by sentence-transformers 6
 * with a Dense head against its float64 PyTorch embeddings. Prints the worst max |Δ| per device.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from 'vitest';
import type { Backend, BackendOptions } from '../ts/backends/types.js';
import { type WasmBackend, createWasmBackend } from '../ts/backends/wasm/index.js';
import { type GpuContext, openGpu } from '../ts/backends/webgpu/gpu.js';
import { createWebGpuBackend } from '../ts/backends/webgpu/index.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import { runGraph } from '../ts/graph/execute.js';
import type { BatchInputs } from '../ts/graph/ops.js';
import { type GraphWeights, bindWeights } from '../ts/graph/weights.js';
import { loadModel } from '../ts/model/load.js';
import { skipOrFail } from './helpers/ci.js';
import { maxAbsDiff } from './helpers/golden.js';
import { type OpCase, OP_TOLERANCE, headOpCases, maskedBatch, randomTensor, rng, runOpParity } from './helpers/op-parity.js';
import { getNodeGpu, getNodeGpuAdapter, noAdapterHint, releaseNodeGpu } from './helpers/webgpu.js';

/** Cases beyond headOpCases: saturation and masks with holes. */
function extraHeadCases(): OpCase[] {
  const random = rng(11);
  const cases: OpCase[] = [];
  for (const activation of ['tanh', 'sigmoid', 'gelu', 'relu'] as const) {
    // Pre-activations up to ±60: tanh/sigmoid saturate, exp must not overflow into NaN.
    cases.push({
      name: `dense 4x16→24 ${activation} saturating (|pre-activation| up to 60)`,
      node: { op: 'dense', out: 'y', x: 'x', weight: 'W', bias: 'b', activation },
      weights: new Map([
        ['W', randomTensor([24, 16], random, 1)],
        ['b', randomTensor([24], random, 30)],
      ]),
      inputs: maskedBatch([1, 1, 1, 1], 1, random),
      activations: new Map([['x', { rows: 'sequences', cols: 16, values: randomTensor([4, 16], random, 2).data }]]),
      out: { rows: 'sequences', cols: 24 },
    });
  }
  const mask = [
    [1, 0, 1, 1, 0, 0, 1, 0, 0],
    [0, 0, 0, 1, 0, 0, 0, 0, 0],
    [1, 1, 1, 1, 1, 1, 1, 1, 1],
  ];
  const T = mask[0]!.length;
  const inputs: BatchInputs = {
    batchSize: mask.length,
    seqLen: T,
    ids: new Int32Array(mask.length * T),
    typeIds: new Int32Array(mask.length * T),
    attentionMask: Uint8Array.from(mask.flat()),
  };
  for (const mode of ['mean_sqrt_len', 'weightedmean', 'lasttoken'] as const) {
    cases.push({
      name: `pool ${mode} with mask holes`,
      node: { op: 'pool', out: 'y', x: 'x', mode },
      weights: new Map(),
      inputs,
      activations: new Map([['x', { rows: 'tokens', cols: 21, values: randomTensor([mask.length * T, 21], random, 3).data }]]),
      out: { rows: 'sequences', cols: 21 },
    });
  }
  return cases;
}

const cases = [...headOpCases(), ...extraHeadCases()];

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

describe.each(DEVICES)('$name: head ops against the float64 reference', (device) => {
  const worst = new Map<string, number>();
  afterAll(() => {
    if (worst.size) console.log(`[${device.name}] head ops, max |Δ|: ${[...worst].map(([op, d]) => `${op} ${d.toExponential(2)}`).join(', ')}`);
  });

  it.for(cases.map((c) => [c.name, c] as const))('%s', async ([, c], ctx) => {
    const r = await runOpParity((w) => device.create(w, ctx), c);
    expect(r.want.length).toBeGreaterThan(0);
    expect(r.got.length).toBe(r.want.length);
    const label = c.node.op === 'pool' ? `pool ${c.node.mode}` : 'dense';
    worst.set(label, Math.max(worst.get(label) ?? 0, r.maxAbs));
    expect(r.maxRel, `max |Δ| ${r.maxAbs.toExponential(2)}`).toBeLessThanOrEqual(Math.min(OP_TOLERANCE[c.node.op], 1e-5));
  });
});

/** A model directory saved by sentence-transformers 6 with what Python gave for it (test/fixtures/tokenizers/PROVENANCE.md). */
const savedDir = (name: string): string => fileURLToPath(new URL(`./fixtures/tokenizers/models/${name}/`, import.meta.url));
interface SavedReference {
  embedding_texts: string[];
  embeddings: number[][];
}

describe.each(DEVICES)('$name: a model with a Dense head gives the sentence-transformers embeddings', (device) => {
  it('bert-st6-dense (cls pooling, Dense 32→16 tanh) within 1e-5 of float64 PyTorch', async (ctx) => {
    const dir = savedDir('bert-st6-dense');
    const ref = JSON.parse(gunzipSync(readFileSync(join(dir, 'reference.json.gz'))).toString('utf8')) as SavedReference;
    const model = await loadModel(dir);
    expect(model.defaults.dense.length).toBe(1);
    const graph = buildBertGraph(model.config, { pooling: model.defaults.pooling, normalize: model.defaults.normalize, dense: model.defaults.dense });
    const backend = await device.create(bindWeights(graph.weights, model.checkpoint), ctx);
    try {
      const encodings = ref.embedding_texts.map((t) => model.tokenizer.encode(t, { maxLength: model.defaults.maxLength, padding: false }));
      const batch = model.tokenizer.pad(encodings, { direction: 'Right' });
      const { output } = await runGraph(graph, backend, batch);
      const diff = maxAbsDiff(output, ref.embeddings.flat());
      console.log(`[${device.name}] bert-st6-dense, ${ref.embeddings.length} texts in one padded batch: max |Δ| ${diff.toExponential(2)}`);
      expect(output.length).toBe(ref.embeddings.flat().length);
      expect(diff).toBeLessThanOrEqual(1e-5);
    } finally {
      backend.dispose();
    }
  });
});
