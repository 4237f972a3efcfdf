/**
 * Files made by onnxruntime's own quantize_dynamic (test/fixtures/q8, see PROVENANCE.md there),
 * run by dualbert and by onnxruntime-web (wasm) on the same token ids: q8 with uint8 and int8
 * weights, per tensor and per channel, within 2e-4 (max abs, mean pooling + L2 normalization)
 * of onnxruntime's output for single texts and a padded batch; fp32 of the same repository
 * within 1e-5; the q4 file (MatMulNBits) refused with UNSUPPORTED_DTYPE.
 */
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../ts/backends/reference/reference-backend.js';
import { createWasmBackend, type WasmBackend } from '../ts/backends/wasm/index.js';
import { createEmbedder } from '../ts/index.js';
import { registerBackend } from '../ts/backends/registry.js';
// @ts-expect-error plain JS module of the benchmark suite (JSDoc-typed)
import { ProtoWriter } from '../bench/onnx/protobuf.mjs';
import { PreparedGraph } from '../ts/graph/execute.js';
import { quantizedTensor, withRoles } from '../ts/graph/weights.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import { type Checkpoint, bindWeights, quantizedNames } from '../ts/graph/weights.js';
import { loadModelMeta } from '../ts/model/load.js';
import { C, MODEL_DIR, Q8_FILES, checkpointOf, config, dualbert, maxAbs, onnxruntime, read, reference } from './helpers/q8-fixtures.js';

const wasm = (threads: number, simd = true) => (weights: ReturnType<typeof bindWeights>) =>
  createWasmBackend(weights, { threads, wasm: { simd } }, { relaxedSimd: false });

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
});

describe('q8 files of onnxruntime quantize_dynamic', () => {
  it.each(Q8_FILES.map((f) => [f.what, f] as const))('%s: within 2e-4 of onnxruntime-web (singles and a padded batch)', async (_, file) => {
    const warnings: string[] = [];
    const checkpoint = checkpointOf(file.path, warnings);
    expect(warnings).toEqual([]); // nothing dequantized: the file's integers are used as they are
    const up = checkpoint.get('encoder.layer.1.intermediate.dense.weight')!;
    expect(up.quantized?.dtype).toBe(file.dtype);
    expect(up.quantized?.scale.length).toBe(file.perChannel ? config.intermediateSize : 1);
    expect(quantizedNames(checkpoint).size).toBe(6 * config.numLayers);

    const want = await onnxruntime(read(file.path));
    const simd = await dualbert(checkpoint, wasm(1));
    const threaded = await dualbert(checkpoint, wasm(2, false)); // scalar build, 2 threads
    const oracle = await dualbert(checkpoint, (weights) => new ReferenceBackend(weights));
    const figures = { simd: maxAbs(simd, want), scalar2t: maxAbs(threaded, want), reference: maxAbs(oracle, want) };
    console.log(`${file.path}: max |Δ| vs onnxruntime-web ${JSON.stringify(Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, v.toExponential(2)])))}`);
    expect(figures.simd).toBeLessThanOrEqual(2e-4);
    expect(figures.scalar2t).toBeLessThanOrEqual(2e-4);
    expect(figures.reference).toBeLessThanOrEqual(2e-4);
    // The dequantized float model is further away: the activations' quantization matters.
    const float = await dualbert(new Map([...checkpoint].map(([k, t]) => [k, { shape: t.shape, data: t.data }])), wasm(1));
    expect(maxAbs(float, want)).toBeGreaterThan(figures.simd);
  });

  it('keeps the weights in int8: a quarter of the float32 bytes in wasm memory', async () => {
    const q8 = checkpointOf('tiny-bert/onnx/model_quantized.onnx');
    const fp32 = checkpointOf('tiny-bert/onnx/model.onnx');
    const bytes = async (checkpoint: Checkpoint): Promise<{ linear: number; total: number }> => {
      const graph = buildBertGraph(config, { pooling: 'mean', normalize: true }, { quantized: quantizedNames(checkpoint) });
      const weights = bindWeights(graph.weights, checkpoint);
      const backend = (await createWasmBackend(weights, { threads: 1 })) as WasmBackend;
      const total = backend.stats().weightBytes;
      backend.dispose();
      const linear = graph.weights.filter((w) => w.role === 'linear').reduce((s, w) => s + w.shape[0]! * w.shape[1]!, 0);
      return { linear, total };
    };
    const a = await bytes(q8);
    const b = await bytes(fp32);
    // Embedding tables are float in both (GatherQuant tables are dequantized at load).
    const tables = b.total - 4 * b.linear;
    console.log(`weight bytes in wasm memory: q8 ${a.total}, fp32 ${b.total} (linear weights ${a.total - tables} vs ${4 * b.linear})`);
    expect(a.total - tables).toBeLessThan(0.3 * 4 * b.linear);
  });

  it('fp32 export of the same repository: within 1e-5 of onnxruntime-web', async () => {
    const want = await onnxruntime(read('tiny-bert/onnx/model.onnx'));
    const got = await dualbert(checkpointOf('tiny-bert/onnx/model.onnx'), wasm(1));
    const d = maxAbs(got, want);
    console.log(`fp32 model.onnx: max |Δ| vs onnxruntime-web ${d.toExponential(2)}`);
    expect(d).toBeLessThanOrEqual(1e-5);
  });

  it('fp16 export: weights widened exactly, within 2e-3 of the float64 PyTorch model', async () => {
    const got = await dualbert(checkpointOf('tiny-bert/onnx/model_fp16.onnx'), wasm(1));
    const golden = [...reference.outputs['torch_float64']!.singles.map((v) => Float64Array.from(v)), Float64Array.from(reference.outputs['torch_float64']!.batch.flat())];
    const d = maxAbs(got, golden);
    console.log(`fp16 model_fp16.onnx: max |Δ| vs PyTorch float64 ${d.toExponential(2)}`);
    expect(d).toBeLessThanOrEqual(2e-3);
  });

  it('the q4 file (MatMulNBits) is refused with UNSUPPORTED_DTYPE naming the op', () => {
    expect(() => checkpointOf('variants/model_q4.onnx')).toThrowError(
      expect.objectContaining({ code: 'UNSUPPORTED_DTYPE', message: expect.stringMatching(/variants\/model_q4\.onnx: node .* is MatMulNBits \(block-quantized 4-bit weights, a q4 export\)/) }),
    );
  });
});

describe('createEmbedder with dtype q8, int8, uint8 (the tokenizer, loader and wasm device together)', () => {
  const texts = reference.texts;
  let want: Float64Array[];
  beforeAll(async () => {
    want = await onnxruntime(read('tiny-bert/onnx/model_quantized.onnx'));
  });
  afterAll(() => undefined);

  it("dualbert's tokenizer gives the reference's token ids", async () => {
    const { tokenizer } = await loadModelMeta(MODEL_DIR);
    texts.forEach((t, i) => expect(Array.from(tokenizer.encode(t, { maxLength: 64 }).ids)).toEqual(reference.inputs.singles[i]!.input_ids));
  });

  it("dtype 'q8' (model_quantized.onnx) embeds each text as onnxruntime does, and the padded batch", async () => {
    const embedder = await createEmbedder(MODEL_DIR, { dtype: 'q8', device: 'wasm', threads: 1 });
    try {
      const singles = await embedder.embed(texts, { batchSize: 1, pooling: 'mean', normalize: true });
      const got = texts.map((_, i) => Float64Array.from(singles.data.subarray(i * C, (i + 1) * C)));
      expect(maxAbs(got, want.slice(0, texts.length))).toBeLessThanOrEqual(2e-4);
      // The four texts of the padded batch, in one batch (embed() sorts them; the quantization
      // scale covers the whole padded batch, so each vector depends on its batch, as in onnxruntime).
      const batch = await embedder.embed(reference.batch_texts, { batchSize: 4, pooling: 'mean', normalize: true });
      expect(maxAbs([Float64Array.from(batch.data)], [want.at(-1)!])).toBeLessThanOrEqual(2e-4);
    } finally {
      embedder.dispose();
    }
  });

  it("dtypes 'int8' and 'uint8' pick model_int8.onnx and model_uint8.onnx", async () => {
    for (const [dtype, path] of [
      ['int8', 'tiny-bert/onnx/model_int8.onnx'],
      ['uint8', 'tiny-bert/onnx/model_uint8.onnx'],
    ] as const) {
      const expected = await onnxruntime(read(path));
      const embedder = await createEmbedder(MODEL_DIR, { dtype, device: 'wasm', threads: 1 });
      try {
        const { data } = await embedder.embed(texts.slice(0, 2), { batchSize: 1, pooling: 'mean', normalize: true });
        const got = [0, 1].map((i) => Float64Array.from(data.subarray(i * C, (i + 1) * C)));
        expect(maxAbs(got, expected.slice(0, 2)), dtype).toBeLessThanOrEqual(2e-4);
      } finally {
        embedder.dispose();
      }
    }
  });
});

describe("device 'auto' with a q8 model", () => {
  it('passes over a device that lacks int8 linear layers, with a warning', async () => {
    let disposed = 0;
    // A GPU-like device first in line that runs only float linear layers (as webgpu today).
    registerBackend(
      {
        device: 'webgpu',
        create: async () => ({
          device: 'webgpu',
          threads: 1,
          supports: (node) => !(node.op === 'linear' && node.precision === 'q8'),
          execute: async () => {
            throw new Error('not used');
          },
          stats: () => ({ device: 'webgpu', threads: 1, weightBytes: 0, activationBytes: 0 }),
          dispose: () => void disposed++,
        }),
      },
      { before: 'wasm' },
    );
    const warnings: string[] = [];
    const embedder = await createEmbedder(MODEL_DIR, { dtype: 'q8', threads: 1, onWarning: (w) => warnings.push(`${w.code}: ${w.message}`) });
    try {
      expect(embedder.device).toBe('wasm');
      expect(disposed).toBe(1);
      expect(warnings).toEqual(['SLOW_PATH: webgpu does not implement int8 (q8) linear layers; using wasm']);
    } finally {
      embedder.dispose();
    }
  });
});

interface Writer {
  int(field: number, value: number): Writer;
  bytes(field: number, value: string | Uint8Array | Writer): Writer;
  packedInts(field: number, values: readonly number[]): Writer;
  finish(): Uint8Array;
}
const W = (): Writer => new ProtoWriter() as Writer;

/**
 * One Linear layer as quantize_dynamic writes it (DynamicQuantizeLinear → MatMulInteger → Cast →
 * Mul(·, x_scale · w_scale) → Add(bias)); w is [K, M] (ONNX layout), scale and zero point of
 * length 1 or M.
 */
function quantizedLinearOnnx(K: number, M: number, dtype: 'int8' | 'uint8', w: Int8Array | Uint8Array, scale: Float32Array, zero: Int32Array, bias: Float32Array): Uint8Array {
  const type = dtype === 'int8' ? 3 : 2;
  const tensor = (name: string, dims: number[], t: number, data: ArrayBufferView): Writer =>
    W().packedInts(1, dims).int(2, t).bytes(8, name).bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  const info = (name: string, t: number, dims: (number | string)[]): Writer => {
    const shape = W();
    for (const d of dims) shape.bytes(1, typeof d === 'number' ? W().int(1, d) : W().bytes(2, d));
    return W().bytes(1, name).bytes(2, W().bytes(1, W().int(1, t).bytes(2, shape)));
  };
  const node = (op: string, ins: string[], outs: string[], attr?: Writer): Writer => {
    const n = W();
    for (const i of ins) n.bytes(1, i);
    for (const o of outs) n.bytes(2, o);
    n.bytes(3, `${op}_${outs[0]}`).bytes(4, op);
    if (attr) n.bytes(5, attr);
    return n;
  };
  const dims = scale.length === 1 ? [] : [M];
  const zeros = dtype === 'int8' ? Int8Array.from(zero) : Uint8Array.from(zero);
  const graph = W()
    .bytes(1, node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xz']))
    .bytes(1, node('MatMulInteger', ['xq', 'w', 'xz', 'wz'], ['mm']))
    .bytes(1, node('Cast', ['mm'], ['mmf'], W().bytes(1, 'to').int(3, 1).int(20, 2)))
    .bytes(1, node('Mul', ['xs', 'ws'], ['scale']))
    .bytes(1, node('Mul', ['mmf', 'scale'], ['y0']))
    .bytes(1, node('Add', ['y0', 'b'], ['y']))
    .bytes(2, 'linear')
    .bytes(5, tensor('w', [K, M], type, w))
    .bytes(5, tensor('wz', dims, type, zeros))
    .bytes(5, tensor('ws', dims, 1, scale))
    .bytes(5, tensor('b', [M], 1, bias))
    .bytes(11, info('x', 1, ['n', K]))
    .bytes(12, info('y', 1, ['n', M]));
  return W().int(1, 8).bytes(7, graph).bytes(8, W().bytes(1, '').int(2, 17)).finish();
}

describe('one q8 Linear: dualbert and onnxruntime-web give the same float32 bits', () => {
  const cases = [
    { N: 16, K: 384, M: 64, dtype: 'uint8', perChannel: false },
    { N: 7, K: 37, M: 29, dtype: 'int8', perChannel: true },
    { N: 33, K: 256, M: 40, dtype: 'uint8', perChannel: true },
    { N: 9, K: 64, M: 24, dtype: 'int8', perChannel: false, ties: true },
  ] as const;
  it.each(cases.map((c) => [`${c.N}×${c.K}→${c.M} ${c.dtype} ${c.perChannel ? 'per channel' : 'per tensor'}${'ties' in c ? ', x / scale on exact ties' : ''}`, c] as const))(
    '%s',
    async (_, c) => {
      let seed = c.N * 7919 + c.K;
      const random = (): number => {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        return seed / 2 ** 32;
      };
      const { N, K, M, dtype } = c;
      const [lo, hi] = dtype === 'int8' ? [-128, 127] : [0, 255];
      const ints = (length: number, f: (i: number) => number): Int8Array | Uint8Array =>
        dtype === 'int8' ? Int8Array.from({ length }, (_, i) => f(i)) : Uint8Array.from({ length }, (_, i) => f(i));
      const wOnnx = ints(K * M, () => lo + Math.floor(random() * (hi - lo + 1)));
      const n = c.perChannel ? M : 1;
      const scale = Float32Array.from({ length: n }, () => 0.002 + 0.02 * random());
      const zero = Int32Array.from({ length: n }, () => (dtype === 'int8' ? Math.floor(random() * 9) - 4 : 100 + Math.floor(random() * 50)));
      const bias = Float32Array.from({ length: M }, () => random() - 0.5);
      // Ties: min −255/128 gives scale 1/128 and x / scale = −k/2 exactly.
      const x = Float32Array.from({ length: N * K }, (_, i) => ('ties' in c ? (i === 0 ? -255 / 128 : -(i % 511) / 256) : (random() * 2 - 1) * 3 + 0.7));

      const session = await ort.InferenceSession.create(quantizedLinearOnnx(K, M, dtype, wOnnx, scale, zero, bias), { executionProviders: ['wasm'] });
      const want = (await session.run({ x: new ort.Tensor('float32', x, [N, K]) }))['y']!.data as Float32Array;
      await session.release();

      // dualbert: the same weights in PyTorch layout [M, K], through the wasm q8 kernel.
      const values = ints(M * K, (i) => wOnnx[(i % K) * M + Math.floor(i / K)]!);
      const node = { op: 'linear', out: 'y', x: 'x', weight: 'W', bias: 'b', epilogue: 'none', precision: 'q8' } as const;
      const weights = withRoles([node], new Map([
        ['W', quantizedTensor([M, K], { dtype, values, scale, zeroPoint: zero })],
        ['b', { shape: [M], data: bias }],
      ]));
      const graph = {
        nodes: [node],
        activations: new Map([
          ['x', { id: 'x', rows: 'tokens' as const, cols: K }],
          ['y', { id: 'y', rows: 'tokens' as const, cols: M }],
        ]),
        weights: [
          { name: 'W', shape: [M, K], role: 'linear' as const, precision: 'q8' as const },
          { name: 'b', shape: [M], role: 'vector' as const },
        ],
      };
      const backend = await createWasmBackend(weights, { threads: 1 }, { relaxedSimd: false });
      try {
        const inputs = { batchSize: 1, seqLen: N, ids: new Int32Array(N), typeIds: new Int32Array(N), attentionMask: new Uint8Array(N).fill(1) };
        const got = (await new PreparedGraph(graph, backend).run(inputs, { capture: ['y'], values: new Map([['x', x]]) })).captured.get('y')!;
        const differing = Array.from(want).filter((v, i) => v !== got[i]).length;
        expect(differing, 'outputs whose float32 bits differ').toBe(0);
      } finally {
        backend.dispose();
      }
    },
  );
});
