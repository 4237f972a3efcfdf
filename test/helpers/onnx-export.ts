/**
 * Writes BERT encoders as ONNX graphs in the styles real exporters produce, to test the ONNX
 * weight reader on any shape without outside files:
 *   - naming: 'torch' (`p.encoder__layer__0__...`, as the golden tiny.onnx), 'plain'
 *     (`encoder.layer.0...`, as Optimum/transformers.js exports), 'bert' (`bert.` prefix);
 *   - linear: 'matmul' (anonymous `onnx::MatMul_N` constants in [in, out] layout, as
 *     torch.onnx.export folds them), 'transpose' (named [out, in] + a Transpose node), 'gemm'
 *     (Gemm with transB = 1);
 *   - dtype: 'fp32', 'fp16' (every float initializer as float16), 'q8' (onnxruntime dynamic
 *     quantization: DynamicQuantizeLinear + MatMulInteger, a uint8 word-embedding table
 *     dequantized after its Gather), 'qdq' (int8 weights with per-channel DequantizeLinear);
 *   - anonymousBiases: bias names hidden too (the reader then maps Linear layers in graph order).
 * The graphs have the exporters' structure around every weight (what the reader relies on);
 * they are not meant to be run.
 *
 * `expected` is the checkpoint the reader must give back: the source tensors after the same
 * rounding (fp16) or quantization (int8) the file went through.
 */
// @ts-expect-error plain JS module of the benchmark suite (JSDoc-typed)
import { ProtoWriter } from '../../bench/onnx/protobuf.mjs';
import { fromHalfBits, toHalfBits } from '../../ts/half.js';
import type { BertConfig } from '../../ts/graph/config.js';
import type { Tensor } from '../../ts/graph/weights.js';

interface Writer {
  int(field: number, value: number | bigint): Writer;
  float(field: number, value: number): Writer;
  bytes(field: number, value: string | Uint8Array | Writer): Writer;
  packedInts(field: number, values: readonly number[]): Writer;
  finish(): Uint8Array;
}
const W = (): Writer => new ProtoWriter() as Writer;

const FLOAT = 1;
const UINT8 = 2;
const INT8 = 3;
const INT64 = 7;
const FLOAT16 = 10;

export interface ExportStyle {
  naming?: 'torch' | 'plain' | 'bert';
  linear?: 'matmul' | 'transpose' | 'gemm';
  dtype?: 'fp32' | 'fp16' | 'q8' | 'qdq';
  anonymousBiases?: boolean;
  /** Add a fused onnxruntime op (as optimized exports have), to test the error hint. */
  fusedAttentionNode?: boolean;
  /** Leave out the initializers of this layer's Linear layers (a broken file). */
  dropLayer?: number;
  /** Keep initializers over 1 KiB in an external data file of this name (as exports over 2 GB do). */
  externalData?: string;
  /**
   * A `*ForSequenceClassification` head after the encoder (first token → pooler Linear →
   * activation → output Linear), output `logits`, as Optimum exports cross-encoders.
   */
  classifier?: { pooler: string; activation: 'Tanh' | 'Relu'; output: string };
}

function transpose(t: Tensor): Tensor {
  const [rows, cols] = t.shape as [number, number];
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c]!;
  return { shape: [cols, rows], data: out };
}

/** uint8 per-tensor quantization as onnxruntime's dynamic quantizer does it (range includes 0). */
function quantizeU8(t: Tensor): { q: Uint8Array; scale: number; zp: number; deq: Float32Array } {
  let min = 0;
  let max = 0;
  for (const v of t.data) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const scale = Math.fround((max - min) / 255);
  const zp = Math.round(-min / scale);
  const q = new Uint8Array(t.data.length);
  const deq = new Float32Array(t.data.length);
  t.data.forEach((v, i) => {
    q[i] = Math.max(0, Math.min(255, Math.round(v / scale) + zp));
    deq[i] = (q[i]! - zp) * scale;
  });
  return { q, scale, zp, deq };
}

/** int8 symmetric per-column quantization of a [K, N] matrix (axis 1). */
function quantizeI8PerColumn(t: Tensor): { q: Int8Array; scales: Float32Array; deq: Float32Array } {
  const [K, N] = t.shape as [number, number];
  const scales = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let m = 0;
    for (let k = 0; k < K; k++) m = Math.max(m, Math.abs(t.data[k * N + n]!));
    scales[n] = Math.fround(m / 127 || 1);
  }
  const q = new Int8Array(K * N);
  const deq = new Float32Array(K * N);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      const i = k * N + n;
      q[i] = Math.max(-127, Math.min(127, Math.round(t.data[i]! / scales[n]!)));
      deq[i] = q[i]! * scales[n]!;
    }
  }
  return { q, scales, deq };
}

/**
 * Serializes the encoder of `checkpoint` (Hugging Face names, PyTorch layout).
 * Returns the .onnx bytes and the checkpoint a correct reader gives back (pooler excluded).
 */
export function exportBertOnnx(
  config: BertConfig,
  checkpoint: ReadonlyMap<string, Tensor>,
  style: ExportStyle = {},
): { bytes: Uint8Array; expected: Map<string, Tensor>; external: Uint8Array | undefined } {
  const naming = style.naming ?? 'torch';
  const linearStyle = style.linear ?? 'matmul';
  const dtype = style.dtype ?? 'fp32';
  const C = config.hiddenSize;
  const I = config.intermediateSize;
  const nodes: Writer[] = [];
  const inits: Writer[] = [];
  const expected = new Map<string, Tensor>();
  let counter = 100;

  const exportName = (hf: string): string =>
    naming === 'torch' ? `p.${hf.replace(/\./g, '__')}` : naming === 'bert' ? `bert.${hf}` : hf;
  const get = (name: string): Tensor => {
    const t = checkpoint.get(name);
    if (!t) throw new Error(`exportBertOnnx: no tensor ${name}`);
    return t;
  };

  const externalChunks: Uint8Array[] = [];
  let externalSize = 0;
  const init = (name: string, dims: readonly number[], type: number, data: ArrayBufferView): string => {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (style.externalData && bytes.byteLength > 1024) {
      const entry = (k: string, v: string): Writer => W().bytes(1, k).bytes(2, v);
      inits.push(
        W()
          .packedInts(1, [...dims])
          .int(2, type)
          .bytes(8, name)
          .bytes(13, entry('location', style.externalData))
          .bytes(13, entry('offset', String(externalSize)))
          .bytes(13, entry('length', String(bytes.byteLength)))
          .int(14, 1),
      );
      externalChunks.push(bytes.slice());
      externalSize += bytes.byteLength;
      return name;
    }
    inits.push(W().packedInts(1, [...dims]).int(2, type).bytes(8, name).bytes(9, bytes));
    return name;
  };
  /** A float initializer in the file's float type; records what a reader gets back under `hf`. */
  const floatInit = (name: string, t: Tensor, hf?: string): string => {
    if (dtype === 'fp16') {
      const bits = Uint16Array.from(t.data, toHalfBits);
      if (hf) expected.set(hf, { shape: t.shape, data: Float32Array.from(bits, fromHalfBits) });
      return init(name, t.shape, FLOAT16, bits);
    }
    if (hf) expected.set(hf, t);
    return init(name, t.shape, FLOAT, t.data);
  };
  const node = (op: string, inputs: string[], attrs: Record<string, number | number[]> = {}, outputs = 1): string[] => {
    const name = `/${op}_${counter++}`;
    const outs = Array.from({ length: outputs }, (_, i) => `${name}_output_${i}`);
    const n = W();
    for (const i of inputs) n.bytes(1, i);
    for (const o of outs) n.bytes(2, o);
    n.bytes(3, name).bytes(4, op);
    if (op === 'Attention') n.bytes(7, 'com.microsoft');
    for (const [k, v] of Object.entries(attrs)) {
      const a = W().bytes(1, k);
      if (Array.isArray(v)) {
        for (const x of v) a.int(8, x);
        a.int(20, 7);
      } else a.int(3, v).int(20, 2);
      n.bytes(5, a);
    }
    nodes.push(n);
    return outs;
  };

  const embedTable = (hf: string, rows: number, ids: string): string => {
    const t = get(hf);
    if (dtype === 'q8' && hf === 'embeddings.word_embeddings.weight') {
      // onnxruntime's GatherQuant: gather uint8 rows, dequantize after.
      const { q, scale, zp, deq } = quantizeU8(t);
      expected.set(hf, { shape: t.shape, data: deq });
      const table = init(`${exportName(hf)}_quantized`, [rows, C], UINT8, q);
      const s = init(`${exportName(hf)}_scale`, [], FLOAT, Float32Array.of(scale));
      const z = init(`${exportName(hf)}_zero_point`, [], UINT8, Uint8Array.of(zp));
      return node('DequantizeLinear', [node('Gather', [table, ids], { axis: 0 })[0]!, s, z])[0]!;
    }
    return node('Gather', [floatInit(exportName(hf), t, hf), ids], { axis: 0 })[0]!;
  };
  const layerNorm = (x: string, prefix: string): string =>
    node('LayerNormalization', [x, floatInit(exportName(`${prefix}.weight`), get(`${prefix}.weight`), `${prefix}.weight`), floatInit(exportName(`${prefix}.bias`), get(`${prefix}.bias`), `${prefix}.bias`)], { axis: -1 })[0]!;

  const linear = (x: string, prefix: string, outF: number, inF: number, drop: boolean): string => {
    const w = get(`${prefix}.weight`); // [out, in]
    const b = get(`${prefix}.bias`);
    const biasName = style.anonymousBiases ? `onnx::Add_${counter++}` : exportName(`${prefix}.bias`);
    if (drop) return node('Identity', [x])[0]!;
    if (dtype === 'q8') {
      const wT = transpose(w); // [in, out]
      const { q, scale, zp, deq } = quantizeU8(wT);
      expected.set(`${prefix}.weight`, transpose({ shape: [inF, outF], data: deq }));
      const wq = init(`onnx::MatMul_${counter++}_quantized`, [inF, outF], UINT8, q);
      const ws = init(`onnx::MatMul_${counter++}_scale`, [], FLOAT, Float32Array.of(scale));
      const wz = init(`onnx::MatMul_${counter++}_zero_point`, [], UINT8, Uint8Array.of(zp));
      const [xq, xs, xz] = node('DynamicQuantizeLinear', [x], {}, 3) as [string, string, string];
      const mm = node('MatMulInteger', [xq, wq, xz, wz])[0]!;
      const cast = node('Cast', [mm], { to: FLOAT })[0]!;
      const scales = node('Mul', [xs, ws])[0]!;
      const y = node('Mul', [cast, scales])[0]!;
      return node('Add', [y, floatInit(biasName, b, `${prefix}.bias`)])[0]!;
    }
    if (dtype === 'qdq') {
      const wT = transpose(w);
      const { q, scales, deq } = quantizeI8PerColumn(wT);
      expected.set(`${prefix}.weight`, transpose({ shape: [inF, outF], data: deq }));
      const wq = init(`onnx::MatMul_${counter++}_quantized`, [inF, outF], INT8, q);
      const ws = init(`onnx::MatMul_${counter++}_scale`, [outF], FLOAT, scales);
      const wz = init(`onnx::MatMul_${counter++}_zero_point`, [outF], INT8, new Int8Array(outF));
      const wf = node('DequantizeLinear', [wq, ws, wz], { axis: 1 })[0]!;
      return node('Add', [node('MatMul', [x, wf])[0]!, floatInit(biasName, b, `${prefix}.bias`)])[0]!;
    }
    if (linearStyle === 'gemm') {
      const wi = floatInit(exportName(`${prefix}.weight`), w, `${prefix}.weight`);
      return node('Gemm', [x, wi, floatInit(biasName, b, `${prefix}.bias`)], { transB: 1 })[0]!;
    }
    let wv: string;
    if (linearStyle === 'transpose') {
      wv = node('Transpose', [floatInit(exportName(`${prefix}.weight`), w, `${prefix}.weight`)], { perm: [1, 0] })[0]!;
    } else {
      const wT = transpose(w);
      const name = `onnx::MatMul_${counter++}`;
      floatInit(name, wT);
      // What the reader gives back is the [out, in] tensor after the file's rounding.
      const stored = dtype === 'fp16' ? Float32Array.from(Uint16Array.from(wT.data, toHalfBits), fromHalfBits) : wT.data;
      expected.set(`${prefix}.weight`, transpose({ shape: [inF, outF], data: stored }));
      wv = name;
    }
    const mm = node('MatMul', [x, wv])[0]!;
    return node('Add', [mm, floatInit(biasName, b, `${prefix}.bias`)])[0]!;
  };

  // Embeddings.
  const positions = node('Range', [init('zero', [], INT64, BigInt64Array.of(0n)), node('Gather', [node('Shape', ['input_ids'])[0]!, init('one', [], INT64, BigInt64Array.of(1n))], { axis: 0 })[0]!, 'one'])[0]!;
  const words = embedTable('embeddings.word_embeddings.weight', config.vocabSize, 'input_ids');
  const pos = embedTable('embeddings.position_embeddings.weight', config.maxPositions, positions);
  const types = embedTable('embeddings.token_type_embeddings.weight', config.typeVocabSize, 'token_type_ids');
  let hidden = layerNorm(node('Add', [node('Add', [words, pos])[0]!, types])[0]!, 'embeddings.LayerNorm');
  const mask = node('Cast', ['attention_mask'], { to: FLOAT })[0]!;

  for (let l = 0; l < config.numLayers; l++) {
    const p = `encoder.layer.${l}`;
    const drop = style.dropLayer === l;
    const q = linear(hidden, `${p}.attention.self.query`, C, C, drop);
    const k = linear(hidden, `${p}.attention.self.key`, C, C, drop);
    const v = linear(hidden, `${p}.attention.self.value`, C, C, drop);
    let context: string;
    if (style.fusedAttentionNode) {
      context = node('Attention', [q, k, v, mask])[0]!;
    } else {
      const scores = node('Add', [node('MatMul', [q, node('Transpose', [k], { perm: [0, 2, 1] })[0]!])[0]!, mask])[0]!;
      context = node('MatMul', [node('Softmax', [scores], { axis: -1 })[0]!, v])[0]!;
    }
    const attnOut = layerNorm(node('Add', [linear(context, `${p}.attention.output.dense`, C, C, drop), hidden])[0]!, `${p}.attention.output.LayerNorm`);
    const inner = linear(attnOut, `${p}.intermediate.dense`, I, C, drop);
    const gelu = node('Mul', [inner, node('Erf', [inner])[0]!])[0]!;
    hidden = layerNorm(node('Add', [linear(gelu, `${p}.output.dense`, C, I, drop), attnOut])[0]!, `${p}.output.LayerNorm`);
  }
  let output = 'last_hidden_state';
  if (style.classifier) {
    const { pooler, activation, output: out } = style.classifier;
    const first = node('Gather', [hidden, init('first_token', [], INT64, BigInt64Array.of(0n))], { axis: 1 })[0]!;
    const pooled = node(activation, [linear(first, pooler, C, C, false)])[0]!;
    hidden = linear(pooled, out, get(`${out}.weight`).shape[0]!, C, false);
    output = 'logits';
  }
  nodes.push(W().bytes(1, hidden).bytes(2, output).bytes(3, '/Identity_out').bytes(4, 'Identity'));

  const graph = W();
  for (const n of nodes) graph.bytes(1, n);
  graph.bytes(2, 'main_graph');
  for (const t of inits) graph.bytes(5, t);
  for (const name of ['input_ids', 'attention_mask', 'token_type_ids']) graph.bytes(11, W().bytes(1, name));
  graph.bytes(12, W().bytes(1, output));
  const model = W().int(1, 8).bytes(2, 'pytorch').bytes(3, '2.11.0').bytes(7, graph).bytes(8, W().bytes(1, '').int(2, 17));
  let external: Uint8Array | undefined;
  if (style.externalData) {
    external = new Uint8Array(externalSize);
    let o = 0;
    for (const c of externalChunks) {
      external.set(c, o);
      o += c.byteLength;
    }
  }
  return { bytes: model.finish(), expected, external };
}
