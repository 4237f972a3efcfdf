/**
 * WebGPU with f16 weights on any adapter (`dtype: 'fp16'`): linear weights and embedding tables
 * stored as f16 pairs in u32 and unpacked with unpack2x16float, activations and math in f32
 * (SwiftShader has no shader-f16, so this is the fp16 path CI runs). Op level: the kernels read
 * exactly the f16 values (the reference gets the same f16-rounded weights, so only f32 rounding
 * is left; a long-K case takes the split-K path); model level: tiny within 2e-3 of the float64
 * golden vectors, the fp16 export of a transformers model against PyTorch, and half the weight
 * bytes. (SwiftShader compiles each pipeline in seconds: the cases are few and small.)
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { TestContext } from 'vitest';
import { createWebGpuBackend } from '../ts/backends/webgpu/index.js';
import type { GpuContext } from '../ts/backends/webgpu/gpu.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import { runGraph } from '../ts/graph/execute.js';
import { type Checkpoint, type GraphWeights, type Tensor, bindWeights } from '../ts/graph/weights.js';
import { fromHalfBits, toHalfBits } from '../ts/half.js';
import { parseBertConfig } from '../ts/model/config.js';
import { readOnnxCheckpoint } from '../ts/model/onnx.js';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../ts/model/synthetic.js';
import { skipOrFail } from './helpers/ci.js';
import { batchFromIds, loadGolden, maxAbsDiff } from './helpers/golden.js';
import { type OpCase, maskedBatch, randomTensor, rng, runOpParity } from './helpers/op-parity.js';
import { closeTestGpu, getNodeGpu, noAdapterHint, openTestGpu } from './helpers/webgpu.js';

afterAll(closeTestGpu);

async function gpuOrSkip(ctx: TestContext): Promise<GpuContext> {
  const context = await openTestGpu();
  if (!context) skipOrFail(ctx, noAdapterHint());
  return context;
}

const half = (t: Tensor): Tensor => ({ shape: t.shape, data: Float32Array.from(t.data, (v) => fromHalfBits(toHalfBits(v))) });

/** Linear (VEC4, odd shapes, GELU, residual), embed and Dense cases with f16-exact weights. */
function halfWeightCases(): OpCase[] {
  const random = rng(14);
  const cases: OpCase[] = [];
  for (const [N, K, M, epilogue] of [
    [5, 64, 96, 'none'],
    [13, 37, 29, 'gelu'],
    [3, 7, 5, 'residual'],
    [4, 1024, 64, 'gelu'], // few output tiles, long K: split-K, the epilogue in gemm_reduce
  ] as [number, number, number, 'none' | 'gelu' | 'residual'][]) {
    const activations = new Map([['x', { rows: 'tokens' as const, cols: K, values: randomTensor([N, K], random, 2).data }]]);
    if (epilogue === 'residual') activations.set('res', { rows: 'tokens', cols: M, values: randomTensor([N, M], random, 2).data });
    cases.push({
      name: `linear ${N}x${K}→${M} ${epilogue}`,
      node: { op: 'linear', out: 'y', x: 'x', weight: 'W', bias: 'b', epilogue, ...(epilogue === 'residual' ? { residual: 'res' } : {}) },
      weights: new Map([
        ['W', half(randomTensor([M, K], random, 0.1))],
        ['b', randomTensor([M], random, 0.1)],
      ]),
      inputs: maskedBatch([N], N, random),
      activations,
      out: { rows: 'tokens', cols: M },
    });
  }
  cases.push({
    name: 'embed C=37 (odd: the last f16 of a row shares its u32 with the next row)',
    node: { op: 'embed', out: 'y', word: 'w', position: 'p', tokenType: 't' },
    weights: new Map([
      ['w', half(randomTensor([50, 37], random))],
      ['p', half(randomTensor([12, 37], random))],
      ['t', half(randomTensor([2, 37], random))],
    ]),
    inputs: maskedBatch([9, 4], 9, random, 50),
    activations: new Map(),
    out: { rows: 'tokens', cols: 37 },
  });
  cases.push({
    name: 'dense 3x37→29 tanh',
    node: { op: 'dense', out: 'y', x: 'x', weight: 'W', bias: 'b', activation: 'tanh' },
    weights: new Map([
      ['W', half(randomTensor([29, 37], random, 0.1))],
      ['b', randomTensor([29], random, 0.5)],
    ]),
    inputs: maskedBatch([1, 1, 1], 1, random),
    activations: new Map([['x', { rows: 'sequences', cols: 37, values: randomTensor([3, 37], random, 2).data }]]),
    out: { rows: 'sequences', cols: 29 },
  });
  return cases;
}

describe("webgpu dtype 'fp16': f16 weights, f32 math, on any adapter", () => {
  it('kernels read the f16 weights exactly (linear, embed, Dense)', async (ctx) => {
    const c = await gpuOrSkip(ctx);
    const make = async (w: GraphWeights) => {
      const b = await createWebGpuBackend(w, { device: c.device, gpu: getNodeGpu(), dtype: 'fp16' });
      expect(b.info.halfWeights).toBe(true);
      expect(b.info.f16).toBe(false);
      return b;
    };
    for (const opCase of halfWeightCases()) {
      const r = await runOpParity(make, opCase);
      expect(r.maxRel, `${opCase.name}: max |Δ| ${r.maxAbs.toExponential(2)}`).toBeLessThanOrEqual(2e-5);
    }
  });

  it('tiny: 3 texts and a padded batch within 2e-3 of golden; half the weight bytes of f32', async (ctx) => {
    const c = await gpuOrSkip(ctx);
    const texts = [0, 3, 19];
    const golden = loadGolden('tiny');
    const config = SYNTHETIC_MODELS.tiny.config;
    const graph = buildBertGraph(config, { pooling: 'mean', normalize: true });
    const weights = bindWeights(graph.weights, syntheticCheckpoint(config));
    const b = await createWebGpuBackend(weights, { device: c.device, gpu: getNodeGpu(), dtype: 'fp16' });
    try {
      const f32Bytes = [...weights.values()].reduce((s, t) => s + 4 * t.data.length, 0);
      const bytes = b.stats().weightBytes;
      expect(bytes).toBeLessThan(0.52 * f32Bytes);
      let worst = 0;
      for (const i of texts) {
        const got = (await runGraph(graph, b, batchFromIds([golden.texts[i]!.input_ids]))).output;
        worst = Math.max(worst, maxAbsDiff(got, golden.texts[i]!.mean));
      }
      const { output } = await runGraph(graph, b, batchFromIds(texts.map((i) => golden.texts[i]!.input_ids)));
      texts.forEach((i, r) => (worst = Math.max(worst, maxAbsDiff(output.subarray(r * 64, (r + 1) * 64), golden.texts[i]!.mean))));
      console.log(`[webgpu f16 weights · tiny] max |Δ| vs golden ${worst.toExponential(2)}; weight bytes ${bytes} (f32: ${f32Bytes})`);
      expect(worst).toBeLessThanOrEqual(2e-3);
    } finally {
      b.dispose();
    }
  });

  it('the fp16 export of a transformers model (test/fixtures/q8) within 2e-3 of PyTorch float64', async (ctx) => {
    const c = await gpuOrSkip(ctx);
    const dir = fileURLToPath(new URL('./fixtures/q8/', import.meta.url));
    const config = parseBertConfig(readFileSync(`${dir}tiny-bert/config.json`, 'utf8'));
    const reference = JSON.parse(readFileSync(`${dir}reference.json`, 'utf8')) as {
      inputs: { singles: { input_ids: number[] }[] };
      outputs: Record<string, { singles: number[][] }>;
    };
    const checkpoint: Checkpoint = readOnnxCheckpoint(new Uint8Array(readFileSync(`${dir}tiny-bert/onnx/model_fp16.onnx`)), config);
    const graph = buildBertGraph(config, { pooling: 'mean', normalize: true });
    const b = await createWebGpuBackend(bindWeights(graph.weights, checkpoint), { device: c.device, gpu: getNodeGpu(), dtype: 'fp16' });
    try {
      let worst = 0;
      for (const [i, { input_ids }] of reference.inputs.singles.slice(0, 3).entries()) {
        const got = (await runGraph(graph, b, batchFromIds([input_ids]))).output;
        worst = Math.max(worst, maxAbsDiff(got, reference.outputs['torch_float64']!.singles[i]!));
      }
      console.log(`[webgpu f16 weights · model_fp16.onnx] max |Δ| vs PyTorch float64 ${worst.toExponential(2)}`);
      expect(worst).toBeLessThanOrEqual(2e-3);
    } finally {
      b.dispose();
    }
  });
});
