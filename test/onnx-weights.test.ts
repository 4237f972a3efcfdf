/**
 * ONNX initializers as weights: the golden tiny.onnx (an independent export, committed) and a
 * generated minilm-shaped export give back the recipe's tensors bit for bit and the golden vectors;
 * generated exports in every style real exporters use (anonymous MatMul constants, torch/plain/
 * bert. names, Transpose and Gemm layouts, nameless biases, fp16, int8 dynamic and QDQ
 * quantization) are mapped exactly; broken files fail with the file and the reason.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { BertConfig } from '../ts/graph/config.js';
import type { Tensor } from '../ts/graph/weights.js';
import { createEmbedder, DualbertError, loadModel } from '../ts/index.js';
import { parseOnnx, readOnnxCheckpoint } from '../ts/model/onnx.js';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../ts/model/synthetic.js';
import { loadGolden, maxAbsDiff } from './helpers/golden.js';
import { writeTinyModelDir } from './helpers/model-dir.js';
import { type ExportStyle, exportBertOnnx } from './helpers/onnx-export.js';

const TINY_ONNX = fileURLToPath(new URL('./fixtures/golden/tiny.onnx', import.meta.url));
const tiny = SYNTHETIC_MODELS.tiny.config;
const minilm = SYNTHETIC_MODELS.minilm.config;
const texts = readFileSync(new URL('./fixtures/golden/texts.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => (JSON.parse(l) as { text: string }).text);

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A model directory whose only weights are the given ONNX file (a transformers.js-style repository). */
function onnxModelDir(onnx: Uint8Array | string, file = 'onnx/model.onnx', config: Record<string, unknown> = {}): string {
  const dir = writeTinyModelDir({ noWeights: true, config });
  dirs.push(dir);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  if (typeof onnx === 'string') copyFileSync(onnx, join(dir, file));
  else writeFileSync(join(dir, file), onnx);
  return dir;
}

/** Every needed tensor equal, bit for bit, to `want`. */
function expectSameTensors(got: ReadonlyMap<string, Tensor>, want: ReadonlyMap<string, Tensor>, config: BertConfig): void {
  const needed = [...syntheticCheckpoint(config).keys()].filter((n) => !n.startsWith('pooler.'));
  expect([...got.keys()].sort()).toEqual(needed.sort());
  for (const name of needed) {
    const g = got.get(name)!;
    const w = want.get(name)!;
    expect(g.shape, name).toEqual(w.shape);
    const same = g.data.length === w.data.length && Buffer.from(g.data.buffer, g.data.byteOffset, g.data.byteLength).equals(Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength));
    if (!same) expect.fail(`${name}: values differ (max |Δ| ${maxAbsDiff(g.data, w.data)})`);
  }
}

async function expectCode(promise: Promise<unknown> | (() => unknown), code: string, pattern: RegExp): Promise<void> {
  const e = await (typeof promise === 'function' ? Promise.resolve().then(promise) : promise).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected a rejection').toBeInstanceOf(DualbertError);
  expect((e as DualbertError).code, (e as Error).message).toBe(code);
  expect((e as Error).message).toMatch(pattern);
}

/** Embeds golden texts (by index) with the reference device; returns max |Δ| against the golden mean vectors. */
async function goldenError(model: string, which: 'tiny' | 'minilm', indices: number[], options: Parameters<typeof createEmbedder>[1] = {}): Promise<number> {
  const golden = loadGolden(which);
  const embedder = await createEmbedder(model, { device: 'reference', ...options });
  const C = embedder.dimension;
  const { data } = await embedder.embed(indices.map((i) => texts[i]!), { batchSize: 8 });
  embedder.dispose();
  return Math.max(...indices.map((t, r) => maxAbsDiff(data.subarray(r * C, (r + 1) * C), golden.texts[t]!.mean)));
}

/** A directory whose tokenizer truncates like minilm's golden file (max_seq_length 256). */
function minilmDir(onnx: Uint8Array | string): string {
  const c = minilm;
  const dir = onnxModelDir(onnx, 'onnx/model.onnx', {
    hidden_size: c.hiddenSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    intermediate_size: c.intermediateSize,
  });
  writeFileSync(join(dir, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: 256, do_lower_case: false }));
  writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ word_embedding_dimension: c.hiddenSize, pooling_mode_mean_tokens: true }));
  return dir;
}

/** The n shortest golden texts and one of median length, to keep the float64 reference quick. */
function someTexts(which: 'tiny' | 'minilm', n: number): number[] {
  const golden = loadGolden(which);
  const order = golden.texts.map((t, i) => [t.input_ids.length, i] as const).sort((a, b) => a[0] - b[0]);
  return [...order.slice(0, n).map(([, i]) => i), order[order.length >> 1]![1]];
}

describe('the golden ONNX exports', () => {
  it('tiny.onnx: every tensor is the recipe, bit for bit (anonymous onnx::MatMul constants mapped through the graph)', () => {
    const checkpoint = readOnnxCheckpoint(new Uint8Array(readFileSync(TINY_ONNX)), tiny, { file: 'tiny.onnx' });
    expectSameTensors(checkpoint, syntheticCheckpoint(tiny), tiny);
  });

  it('a transformers.js-style directory (config, tokenizer, onnx/model.onnx only) gives the golden vectors within 1e-5, every text', async () => {
    const dir = onnxModelDir(TINY_ONNX);
    const model = await loadModel(dir);
    expect(model.weightFiles).toEqual(['onnx/model.onnx']);
    expect(await goldenError(dir, 'tiny', texts.map((_, i) => i))).toBeLessThanOrEqual(1e-5);
  });

  it('a generated minilm-shaped export in the exporter style: recipe bit for bit, golden within 1e-5', async () => {
    const { bytes } = exportBertOnnx(minilm, syntheticCheckpoint(minilm), { naming: 'torch', linear: 'matmul' });
    const model = parseOnnx(bytes, 'generated-minilm.onnx');
    expect([...model.initializers.keys()].filter((n) => n.startsWith('onnx::MatMul_')).length).toBe(6 * minilm.numLayers);
    expectSameTensors(readOnnxCheckpoint(model, minilm), syntheticCheckpoint(minilm), minilm);
    expect(await goldenError(minilmDir(bytes), 'minilm', someTexts('minilm', 2))).toBeLessThanOrEqual(1e-5);
  });
});

describe('export styles', () => {
  const source = syntheticCheckpoint(tiny);
  const styles: [string, ExportStyle][] = [
    ['torch names, MatMul [in, out]', { naming: 'torch', linear: 'matmul' }],
    ['plain names, MatMul [in, out]', { naming: 'plain', linear: 'matmul' }],
    ['bert. names, Transpose node in front of [out, in]', { naming: 'bert', linear: 'transpose' }],
    ['plain names, Gemm transB=1', { naming: 'plain', linear: 'gemm' }],
    ['nameless biases (mapped in graph order, with a warning)', { naming: 'plain', anonymousBiases: true }],
    ['fp16', { naming: 'plain', dtype: 'fp16' }],
    ['int8 dynamic quantization (MatMulInteger, GatherQuant)', { naming: 'plain', dtype: 'q8' }],
    ['int8 QDQ per channel (DequantizeLinear)', { naming: 'torch', dtype: 'qdq' }],
  ];
  it.each(styles)('%s: every tensor is what the file holds, in PyTorch layout', (_, style) => {
    const { bytes, expected } = exportBertOnnx(tiny, source, style);
    const warnings: string[] = [];
    const got = readOnnxCheckpoint(bytes, tiny, { file: 'x.onnx', warn: (m) => warnings.push(m) });
    expectSameTensors(got, expected, tiny);
    // int8 weights are kept (dynamic quantization) or dequantized as the graph itself does (QDQ,
    // GatherQuant): nothing to warn about.
    if (style.anonymousBiases) expect(warnings.join('\n')).toMatch(/mapped in graph order/);
    else expect(warnings).toEqual([]);
    if (style.dtype === 'q8') expect(got.get('encoder.layer.0.intermediate.dense.weight')?.quantized?.dtype).toBe('uint8');
  });

  it('dtype picks the variant (model_fp16.onnx, model_quantized.onnx); fp16 and int8 stay close to the float model', async () => {
    const dir = onnxModelDir(TINY_ONNX);
    writeFileSync(join(dir, 'onnx', 'model_fp16.onnx'), exportBertOnnx(tiny, source, { dtype: 'fp16' }).bytes);
    writeFileSync(join(dir, 'onnx', 'model_quantized.onnx'), exportBertOnnx(tiny, source, { dtype: 'q8' }).bytes);
    expect((await loadModel(dir, { dtype: 'fp16' })).weightFiles).toEqual(['onnx/model_fp16.onnx']);
    const idx = someTexts('tiny', 3);
    expect(await goldenError(dir, 'tiny', idx, { dtype: 'fp16' })).toBeLessThanOrEqual(2e-3);
    const q8 = await goldenError(dir, 'tiny', idx, { dtype: 'q8' });
    expect(q8).toBeLessThanOrEqual(0.05);
    expect(q8).toBeGreaterThan(1e-5); // it really is the quantized file
    await expectCode(loadModel(dir, { dtype: 'uint8' }), 'MISSING_FILE', /no weights: no onnx\/model_uint8\.onnx, no model_uint8\.onnx, no model\.safetensors\.index\.json and no model\.safetensors/);
    await expectCode(loadModel(dir, { dtype: 'q4' as never }), 'INVALID_ARGUMENT', /dtype "q4" is not one of fp32, fp16, q8, int8, uint8/);
  });

  it('external data (onnx/model.onnx_data beside the graph) is read through the source', async () => {
    const { bytes, external, expected } = exportBertOnnx(tiny, source, { naming: 'plain', externalData: 'model.onnx_data' });
    expect(bytes.byteLength).toBeLessThan(100_000);
    const dir = onnxModelDir(bytes);
    writeFileSync(join(dir, 'onnx', 'model.onnx_data'), external!);
    const model = await loadModel(dir);
    expect(model.weightFiles).toEqual(['onnx/model.onnx', 'onnx/model.onnx_data']);
    expectSameTensors(model.checkpoint, expected, tiny);
    writeFileSync(join(dir, 'onnx', 'model.onnx_data'), external!.subarray(0, 1000));
    await expectCode(loadModel(dir), 'INVALID_WEIGHTS', /onnx\/model\.onnx: initializer ".*" points at bytes \[\d+, \d+\) outside model\.onnx_data \(1000 bytes\)/);
    rmSync(join(dir, 'onnx', 'model.onnx_data'));
    await expectCode(loadModel(dir), 'MISSING_FILE', /onnx\/model\.onnx keeps weights in model\.onnx_data, but .*onnx\/model\.onnx_data is missing/);
  });

  it('safetensors wins over ONNX when both are there', async () => {
    const dir = writeTinyModelDir();
    dirs.push(dir);
    mkdirSync(join(dir, 'onnx'));
    writeFileSync(join(dir, 'onnx', 'model.onnx'), 'not read');
    expect((await loadModel(dir)).weightFiles).toEqual(['model.safetensors']);
  });
});

describe('broken ONNX files', () => {
  const source = syntheticCheckpoint(tiny);
  it('truncated, not ONNX at all, a missing layer, an optimized export with fused ops, a shape that does not fit the config', async () => {
    const bytes = new Uint8Array(readFileSync(TINY_ONNX));
    await expectCode(loadModel(onnxModelDir(bytes.subarray(0, 100_000))), 'INVALID_WEIGHTS', /onnx\/model\.onnx: cannot parse as ONNX: field \d+ claims \d+ bytes, only \d+ remain \(truncated file\?\)/);
    await expectCode(loadModel(onnxModelDir(new TextEncoder().encode('{"this": "is json"}'))), 'INVALID_WEIGHTS', /onnx\/model\.onnx: cannot parse as ONNX/);
    const noLayer = exportBertOnnx(tiny, source, { dropLayer: 1 }).bytes;
    await expectCode(() => readOnnxCheckpoint(noLayer, tiny, { file: 'm.onnx' }), 'INVALID_WEIGHTS', /m\.onnx: cannot find 12 BERT tensor\(s\) in the ONNX graph, e\.g\. "encoder\.layer\.1\.attention\.self\.query\.weight"/);
    const fused = exportBertOnnx(tiny, source, { dropLayer: 0, fusedAttentionNode: true }).bytes;
    await expectCode(() => readOnnxCheckpoint(fused, tiny, { file: 'm.onnx' }), 'INVALID_WEIGHTS', /fused onnxruntime op Attention: load the plain export/);
    // config says 3 layers and wider FFN: the file does not belong to it.
    await expectCode(loadModel(onnxModelDir(TINY_ONNX, 'onnx/model.onnx', { intermediate_size: 128 })), 'INVALID_WEIGHTS', /onnx\/model\.onnx: ".*" \(encoder\.layer\.0\.intermediate\.dense\.weight\) has shape \[256, 64\], the config needs \[128, 64\]/);
    await expectCode(loadModel(onnxModelDir(TINY_ONNX, 'onnx/model.onnx', { num_hidden_layers: 3 })), 'INVALID_WEIGHTS', /onnx\/model\.onnx holds 2 encoder layer\(s\) but config\.json's "num_hidden_layers" is 3 \(tensors of encoder\.layer\.2 are missing\)/);
  });
});
