/**
 * q8 linear layers on WebGPU (shaders/q8_minmax, q8_quantize, gemm_q8; ts/backends/webgpu/
 * kernels-q8.ts), on Dawn in Node (SwiftShader on CPU-only machines), against the reference's
 * ONNX dynamic quantization (ts/backends/reference/quantized.ts): the integer sums are exact and
 * every float step is the same float32 operation (the divisions exact, see q8_divide.wgsl), so
 * without an epilogue the results are identical, bit for bit — with dot4I8Packed and with the
 * shift-unpacking fallback. GELU and the residual add are float64 in the reference. Then the
 * files of onnxruntime's quantize_dynamic (test/fixtures/q8) against onnxruntime-web, with the
 * bound of the wasm path (q8-onnx.test.ts), and createEmbedder with dtype 'q8' on device 'webgpu'.
 */
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from 'vitest';
import { createWebGpuBackend, type WebGpuBackend } from '../ts/backends/webgpu/index.js';
import type { GpuContext } from '../ts/backends/webgpu/gpu.js';
import { q8Layout } from '../ts/backends/webgpu/q8-layout.js';
import type { GraphWeights } from '../ts/graph/weights.js';
import { skipOrFail } from './helpers/ci.js';
import { WEBGPU } from './helpers/devices.js';
import { type OpCase, maskedBatch, q8OpCases, randomQuantized, randomTensor, runOpParity } from './helpers/op-parity.js';
import { dynamicQuantize } from '../ts/backends/reference/quantized.js';
import type { Tensor } from '../ts/graph/weights.js';
import { C, MODEL_DIR, Q8_FILES, checkpointOf, dualbert, maxAbs, onnxruntime, read, reference } from './helpers/q8-fixtures.js';
import { createEmbedder } from '../ts/index.js';
import { closeTestGpu, getNodeGpu, noAdapterHint, openTestGpu } from './helpers/webgpu.js';

afterAll(closeTestGpu);

async function gpuOrSkip(ctx: TestContext): Promise<GpuContext> {
  const context = await openTestGpu();
  if (!context) skipOrFail(ctx, noAdapterHint());
  return context;
}

describe('q8 weight layout (q8-layout.ts)', () => {
  it('packs 4 k per u32 in [⌈K/4⌉, Mp], uint8 as w − 128, zero points and column sums per row', () => {
    const values = Uint8Array.of(0, 1, 2, 3, 4, 255, 128, 129, 130, 131, 132, 133);
    const l = q8Layout(2, 6, { dtype: 'uint8', values, scale: Float32Array.of(0.5, 0.25), zeroPoint: Int32Array.of(128, 0) });
    expect([l.kw, l.mp]).toEqual([2, 4]);
    const bytes = (w: number): number[] => [0, 8, 16, 24].map((s) => ((w >>> s) & 0xff) << 24 >> 24);
    expect(bytes(l.words[0]!)).toEqual([-128, -127, -126, -125]); // row 0, k 0..3
    expect(bytes(l.words[4]!)).toEqual([-124, 127, 0, 0]); // row 0, k 4..5, zeros past K
    expect(bytes(l.words[1]!)).toEqual([0, 1, 2, 3]); // row 1, k 0..3
    expect(bytes(l.words[2]!)).toEqual([0, 0, 0, 0]); // padding column
    expect(Array.from(new Int32Array(l.meta.buffer).filter((_, i) => i % 4 !== 1))).toEqual([0, -503, 0, -128, 15, 0, 0, 0, 0, 0, 0, 0]);
    expect(new Float32Array(l.meta.buffer)[5]).toBe(0.25);
  });
});

/**
 * x / scale within a few ulp of a half-integer, with a scale that is not a power of two
 * (min −1.5, max 1.5: xs = f32(3 / 255)): where a 2.5-ulp division could round to the other
 * integer, and where the f32 quotient itself lands on k + 0.5 (then rounded to even).
 */
function nearTiesCase(): OpCase {
  let seed = 12345;
  const random = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const N = 16;
  const K = 64;
  const xs = Math.fround(3 / 255);
  const x = Float32Array.from({ length: N * K }, (_, i) => {
    if (i < 2) return i === 0 ? -1.5 : 1.5;
    const k = Math.floor(random() * 254) - 127;
    return Math.fround((k + 0.5) * xs * (1 + (Math.floor(random() * 7) - 3) * 2 ** -24));
  });
  return {
    name: 'q8 linear x / scale near half-integers',
    node: { op: 'linear', out: 'y', x: 'x', weight: 'W', bias: 'b', epilogue: 'none', precision: 'q8' },
    weights: new Map<string, Tensor>([
      ['W', randomQuantized(24, K, random, 'int8', true)],
      ['b', randomTensor([24], random, 0.1)],
    ]),
    inputs: maskedBatch([N], N, random),
    activations: new Map([['x', { rows: 'tokens' as const, cols: K, values: x }]]),
    out: { rows: 'tokens', cols: 24 },
  };
}

const cases = [...q8OpCases(), nearTiesCase()];

it('the near-ties case reaches exact ties of the f32 quotient and values one ulp either side', () => {
  const x = nearTiesCase().activations.get('x')!.values;
  const { scale } = dynamicQuantize(x);
  expect(scale).toBe(Math.fround(3 / 255));
  const fractions = Array.from(x.subarray(2), (v) => Math.abs(Math.fround(v / scale) % 1));
  expect(fractions.filter((f) => f === 0.5).length).toBeGreaterThan(50);
  expect(fractions.filter((f) => f !== 0.5 && Math.abs(f - 0.5) < 1e-5).length).toBeGreaterThan(50);
});

describe.each([
  { name: 'dot4I8Packed', packedDot4: true, cases },
  // The fallback's integer sums on every shape; the epilogues are the same code in both variants.
  { name: 'bytes unpacked with shifts', packedDot4: false, cases: cases.filter((c) => c.node.op === 'linear' && c.node.epilogue === 'none') },
])('webgpu q8 linear ($name) against the reference', ({ packedDot4, cases }) => {
  it.for(cases.map((c) => [c.name, c] as const))('%s', async ([, c], ctx) => {
    const context = await gpuOrSkip(ctx);
    if (packedDot4 && !context.capabilities.packedDot4) ctx.skip('this WebGPU implementation lacks packed_4x8_integer_dot_product: the fallback below runs');
    const make = async (weights: GraphWeights): Promise<WebGpuBackend> => {
      const backend = await createWebGpuBackend(weights, { device: context.device, gpu: getNodeGpu(), tuning: { packedDot4 } });
      expect(backend.info.packedDot4).toBe(packedDot4);
      return backend;
    };
    const r = await runOpParity(make, c);
    expect(r.want.length).toBeGreaterThan(0);
    if (c.node.op === 'linear' && c.node.epilogue === 'none') {
      const differing = r.want.filter((v, i) => Math.fround(v) !== r.got[i]).length;
      expect(differing, `outputs whose float32 bits differ (max |Δ| ${r.maxAbs.toExponential(2)})`).toBe(0);
    } else {
      expect(r.maxRel, `max |Δ| ${r.maxAbs.toExponential(2)}`).toBeLessThanOrEqual(WEBGPU.opTolerance(c));
    }
  });
});

describe('webgpu: q8 files of onnxruntime quantize_dynamic against onnxruntime-web', () => {
  beforeAll(() => {
    ort.env.wasm.numThreads = 1;
  });

  it.for(Q8_FILES.map((f) => [f.what, f] as const))('%s: within 2e-4 (singles and a padded batch)', async ([, file], ctx) => {
    const context = await gpuOrSkip(ctx);
    const want = await onnxruntime(read(file.path));
    const got = await dualbert(checkpointOf(file.path), (weights) => createWebGpuBackend(weights, { device: context.device, gpu: getNodeGpu() }));
    const d = maxAbs(got, want);
    console.log(`webgpu ${file.path}: max |Δ| vs onnxruntime-web ${d.toExponential(2)}`);
    expect(d).toBeLessThanOrEqual(2e-4);
  });

  it("createEmbedder(dtype 'q8', device 'webgpu') embeds each text and the padded batch as onnxruntime does", async (ctx) => {
    const context = await gpuOrSkip(ctx);
    const want = await onnxruntime(read('tiny-bert/onnx/model_quantized.onnx'));
    const embedder = await createEmbedder(MODEL_DIR, { dtype: 'q8', device: 'webgpu', webgpu: { device: context.device, gpu: getNodeGpu() } });
    try {
      expect(embedder.device).toBe('webgpu');
      const texts = reference.texts;
      const singles = await embedder.embed(texts, { batchSize: 1, pooling: 'mean', normalize: true });
      const got = texts.map((_, i) => Float64Array.from(singles.data.subarray(i * C, (i + 1) * C)));
      expect(maxAbs(got, want.slice(0, texts.length))).toBeLessThanOrEqual(2e-4);
      const batch = await embedder.embed(reference.batch_texts, { batchSize: 4, pooling: 'mean', normalize: true });
      expect(maxAbs([Float64Array.from(batch.data)], [want.at(-1)!])).toBeLessThanOrEqual(2e-4);
    } finally {
      embedder.dispose();
    }
  });
});
