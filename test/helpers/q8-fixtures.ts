/**
 * The q8 fixtures (test/fixtures/q8, see PROVENANCE.md there) and what the tests of every device
 * do with them: the batches (each text alone, then the padded batch of four), onnxruntime-web's
 * sentence vectors on a file, dualbert's on a backend, and the distance between them.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import type { Backend } from '../../ts/backends/types.js';
import { buildBertGraph } from '../../ts/graph/bert.js';
import type { BertConfig } from '../../ts/graph/config.js';
import { runGraph } from '../../ts/graph/execute.js';
import type { BatchInputs } from '../../ts/graph/ops.js';
import { type Checkpoint, bindWeights, quantizedNames } from '../../ts/graph/weights.js';
import { parseBertConfig } from '../../ts/model/config.js';
import { readOnnxCheckpoint } from '../../ts/model/onnx.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/q8/', import.meta.url));
export const MODEL_DIR = `${FIXTURES}tiny-bert`;
export const config: BertConfig = parseBertConfig(readFileSync(`${MODEL_DIR}/config.json`, 'utf8'));
export const C = config.hiddenSize;

export interface Reference {
  texts: string[];
  batch_texts: string[];
  inputs: { singles: { input_ids: number[] }[]; batch: { input_ids: number[][]; attention_mask: number[][] } };
  outputs: Record<string, { singles: number[][]; batch: number[][] }>;
}
export const reference = JSON.parse(readFileSync(`${FIXTURES}reference.json`, 'utf8')) as Reference;

/** The batches every engine runs: each text alone, then the padded batch of four. */
export const batches: BatchInputs[] = [
  ...reference.inputs.singles.map(({ input_ids }) => batchOf([input_ids], [input_ids.map(() => 1)])),
  batchOf(reference.inputs.batch.input_ids, reference.inputs.batch.attention_mask),
];

export function batchOf(ids: number[][], mask: number[][]): BatchInputs {
  const B = ids.length;
  const T = ids[0]!.length;
  return {
    batchSize: B,
    seqLen: T,
    ids: Int32Array.from(ids.flat()),
    typeIds: new Int32Array(B * T),
    attentionMask: Uint8Array.from(mask.flat()),
  };
}

/** Mean pooling over the mask, then L2 normalization, in float64 (as transformers.js does for onnxruntime). */
export function meanNormalize(hidden: Float32Array, batch: BatchInputs): Float64Array {
  const { batchSize: B, seqLen: T, attentionMask } = batch;
  const out = new Float64Array(B * C);
  for (let b = 0; b < B; b++) {
    const v = out.subarray(b * C, (b + 1) * C);
    let n = 0;
    for (let t = 0; t < T; t++) {
      if (!attentionMask[b * T + t]) continue;
      n++;
      for (let c = 0; c < C; c++) v[c]! += hidden[(b * T + t) * C + c]!;
    }
    const norm = Math.hypot(...v.map((x) => x / n));
    for (let c = 0; c < C; c++) v[c] = v[c]! / n / norm;
  }
  return out;
}

/** onnxruntime-web's sentence vectors for every batch, on the file `bytes`. */
export async function onnxruntime(bytes: Uint8Array): Promise<Float64Array[]> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  try {
    const results: Float64Array[] = [];
    for (const batch of batches) {
      const dims = [batch.batchSize, batch.seqLen];
      const i64 = (a: ArrayLike<number>): BigInt64Array => BigInt64Array.from(Array.from(a), (v) => BigInt(v));
      const out = await session.run({
        input_ids: new ort.Tensor('int64', i64(batch.ids), dims),
        attention_mask: new ort.Tensor('int64', i64(batch.attentionMask), dims),
        token_type_ids: new ort.Tensor('int64', i64(batch.typeIds), dims),
      });
      results.push(meanNormalize(out['last_hidden_state']!.data as Float32Array, batch));
    }
    return results;
  } finally {
    await session.release();
  }
}

/** dualbert's sentence vectors for every batch on `backend`. */
export async function dualbert(checkpoint: Checkpoint, make: (weights: ReturnType<typeof bindWeights>) => Promise<Backend> | Backend): Promise<Float64Array[]> {
  const graph = buildBertGraph(config, { pooling: 'mean', normalize: true }, { quantized: quantizedNames(checkpoint) });
  const backend = await make(bindWeights(graph.weights, checkpoint));
  try {
    const results: Float64Array[] = [];
    for (const batch of batches) results.push(Float64Array.from((await runGraph(graph, backend, batch)).output));
    return results;
  } finally {
    backend.dispose();
  }
}

export const maxAbs = (a: Float64Array[], b: Float64Array[]): number => Math.max(...a.map((x, i) => Math.max(...x.map((v, j) => Math.abs(v - b[i]![j]!)))));

export const read = (path: string): Uint8Array => new Uint8Array(readFileSync(`${FIXTURES}${path}`));
export const checkpointOf = (path: string, warnings: string[] = []): Checkpoint =>
  readOnnxCheckpoint(read(path), config, { file: path, warn: (m) => warnings.push(m) });

/** The quantize_dynamic files: uint8 and int8 weights, per tensor and per channel, 7-bit. */
export const Q8_FILES = [
  { what: 'uint8 weights per tensor', path: 'tiny-bert/onnx/model_quantized.onnx', dtype: 'uint8', perChannel: false },
  { what: 'uint8 weights per channel', path: 'tiny-bert/onnx/model_uint8.onnx', dtype: 'uint8', perChannel: true },
  { what: 'int8 weights per tensor', path: 'tiny-bert/onnx/model_int8.onnx', dtype: 'int8', perChannel: false },
  { what: 'int8 weights per channel', path: 'variants/model_int8_per_channel.onnx', dtype: 'int8', perChannel: true },
  { what: 'int8 weights, reduce_range (7 bits)', path: 'variants/model_int8_reduce_range.onnx', dtype: 'int8', perChannel: false },
] as const;
