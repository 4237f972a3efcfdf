/**
 * Writes a BERT encoder as an ONNX model (opset 17) from a config and a checkpoint, with the same
 * structure as the golden `minilm.onnx` (Gather, Add, LayerNormalization, MatMul, Erf, Softmax
 * with an additive mask of (1 − mask)·float32_min): the onnxruntime baseline for any shape we
 * benchmark (synthetic tiny/minilm, bge-base shapes, loaded models), with no outside files.
 *
 * Inputs: input_ids, attention_mask, token_type_ids (int64 [batch, sequence]).
 * Output: last_hidden_state (float32 [batch, sequence, hidden]). Pooling is left to the caller,
 * as transformers.js does it in JS.
 *
 * With `{ quantize: 'uint8' }` every Linear layer is written as onnxruntime's quantize_dynamic
 * writes it with its defaults (QUInt8 weights, per tensor): DynamicQuantizeLinear (one per
 * input, shared by Q, K and V) → MatMulInteger → Cast → Mul(·, x_scale · w_scale) → Add(bias),
 * the weights quantized as its quantize_data does (range with 0, scale (max − min)/255, zero
 * point and values rounded half to even): the q8 file for benchmarks of minilm's shape, which
 * onnxruntime's own tools cannot make here. (The embedding tables stay float.) `{ quantize:
 * 'int8-7bit' }` writes int8 weights in [−63, 63] (symmetric, per tensor: quantize_dynamic's
 * reduce_range with one level less, so every matrix fits dualbert's relaxed-SIMD 7-bit path).
 *
 *   import { writeBertOnnx } from './bench/onnx/bert-onnx.mjs';
 *   const bytes = writeBertOnnx(config, checkpoint);   // config: BertConfig, checkpoint: Map<name, {shape, data}>
 *   const q8 = writeBertOnnx(config, checkpoint, { quantize: 'uint8' });
 */
import { ProtoWriter } from './protobuf.mjs';

// ONNX enums (onnx.proto3).
const FLOAT = 1;
const UINT8 = 2;
const INT8 = 3;
const INT64 = 7;
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;
const IR_VERSION = 8; // ONNX 1.13, opset 17
const OPSET = 17;
const FLOAT32_MIN = -3.4028234663852886e38;

/** TensorProto with raw little-endian data. */
function tensor(name, dims, dataType, data) {
  const t = new ProtoWriter().packedInts(1, dims).int(2, dataType).bytes(8, name);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return t.bytes(9, bytes);
}

/** ValueInfoProto of a tensor with symbolic/numeric dims. */
function valueInfo(name, elemType, dims) {
  const shape = new ProtoWriter();
  for (const d of dims) shape.bytes(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().bytes(2, d));
  const tensorType = new ProtoWriter().int(1, elemType).bytes(2, shape);
  return new ProtoWriter().bytes(1, name).bytes(2, new ProtoWriter().bytes(1, tensorType));
}

function attribute(name, value) {
  const a = new ProtoWriter().bytes(1, name);
  if (Array.isArray(value)) {
    for (const v of value) a.int(8, v);
    return a.int(20, ATTR_INTS);
  }
  if (Number.isInteger(value)) return a.int(3, value).int(20, ATTR_INT);
  return a.float(2, value).int(20, ATTR_FLOAT);
}

/** Builds the graph node by node; each helper returns the name of its output. */
class GraphBuilder {
  nodes = [];
  initializers = [];
  #count = 0;

  /** `output`: a name, or the names of several outputs (the first is returned). */
  node(opType, inputs, attrs = {}, output = undefined) {
    const name = `${opType}_${this.#count++}`;
    const outputs = Array.isArray(output) ? output : [output ?? `${name}_out`];
    const n = new ProtoWriter();
    for (const i of inputs) n.bytes(1, i);
    for (const o of outputs) n.bytes(2, o);
    n.bytes(3, name).bytes(4, opType);
    for (const [k, v] of Object.entries(attrs)) n.bytes(5, attribute(k, v));
    this.nodes.push(n);
    return outputs[0];
  }

  init(name, dims, dataType, data) {
    this.initializers.push(tensor(name, dims, dataType, data));
    return name;
  }

  floatConst(name, value) {
    return this.init(name, [], FLOAT, Float32Array.of(value));
  }

  int64Const(name, values, dims = [values.length]) {
    return this.init(name, dims, INT64, BigInt64Array.from(values.map(BigInt)));
  }
}

function get(checkpoint, name, shape) {
  const t = checkpoint.get(name);
  if (!t) throw new Error(`writeBertOnnx: tensor "${name}" is missing`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`writeBertOnnx: tensor "${name}" has shape [${t.shape}], expected [${shape}]`);
  }
  return t.data;
}

/** [out, in] row-major (PyTorch Linear) → [in, out] (ONNX MatMul right operand). */
function transpose(data, rows, cols) {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

const roundHalfEven = (v) => {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** uint8 per-tensor quantization of a weight, as onnxruntime's quantize_data (asymmetric, range with 0). */
function quantizeUint8(data) {
  let min = 0;
  let max = 0;
  for (const v of data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const scale = Math.fround((max - min) / 255) || 1;
  const zeroPoint = Math.max(0, Math.min(255, roundHalfEven(0 - min / scale)));
  const q = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) q[i] = Math.max(0, Math.min(255, roundHalfEven(Math.fround(data[i] / scale)) + zeroPoint));
  return { q, scale, zeroPoint };
}

/** int8 symmetric per-tensor quantization to [−63, 63] (7 bits: reduce_range, one level less). */
function quantizeInt7(data) {
  let max = 0;
  for (const v of data) max = Math.max(max, Math.abs(v));
  const scale = Math.fround(max / 63) || 1;
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) q[i] = Math.max(-63, Math.min(63, roundHalfEven(Math.fround(data[i] / scale))));
  return { q, scale, zeroPoint: 0 };
}

/**
 * Serializes the encoder.
 * @param {import('../../ts/graph/config.js').BertConfig} config
 * @param {ReadonlyMap<string, {shape: readonly number[], data: Float32Array}>} checkpoint Hugging Face names
 * @param {{ quantize?: 'uint8' | 'int8-7bit' }} [options] quantize: the Linear layers as onnxruntime's quantize_dynamic does
 * @returns {Uint8Array} the .onnx file
 */
export function writeBertOnnx(config, checkpoint, options = {}) {
  const C = config.hiddenSize;
  const I = config.intermediateSize;
  const NH = config.numHeads;
  const HS = C / NH;
  const g = new GraphBuilder();
  const weight = (name, shape) => g.init(name, shape, FLOAT, get(checkpoint, name, shape));
  const linearWeight = (name, out, inp) => g.init(`${name}.T`, [inp, out], FLOAT, transpose(get(checkpoint, name, [out, inp]), out, inp));
  const layerNorm = (x, prefix) =>
    g.node('LayerNormalization', [x, weight(`${prefix}.weight`, [C]), weight(`${prefix}.bias`, [C])], {
      axis: -1,
      epsilon: config.layerNormEps,
    });
  const floatLinear = (x, prefix, out, inp) => g.node('Add', [g.node('MatMul', [x, linearWeight(`${prefix}.weight`, out, inp)]), weight(`${prefix}.bias`, [out])]);
  const dynamicQuantized = new Map(); // input → [xq, x_scale, x_zero_point]
  const quantizedLinear = (x, prefix, out, inp) => {
    if (!dynamicQuantized.has(x)) {
      const name = `${x}_dql`;
      g.node('DynamicQuantizeLinear', [x], {}, [`${name}_q`, `${name}_scale`, `${name}_zero_point`]);
      dynamicQuantized.set(x, [`${name}_q`, `${name}_scale`, `${name}_zero_point`]);
    }
    const [xq, xs, xz] = dynamicQuantized.get(x);
    const name = `${prefix}.weight`;
    const int7 = options.quantize === 'int8-7bit';
    const { q, scale, zeroPoint } = (int7 ? quantizeInt7 : quantizeUint8)(transpose(get(checkpoint, name, [out, inp]), out, inp));
    const wq = g.init(`${name}_quantized`, [inp, out], int7 ? INT8 : UINT8, q);
    const ws = g.init(`${name}_scale`, [], FLOAT, Float32Array.of(scale));
    const wz = g.init(`${name}_zero_point`, [], int7 ? INT8 : UINT8, int7 ? Int8Array.of(0) : Uint8Array.of(zeroPoint));
    const product = g.node('Mul', [g.node('Cast', [g.node('MatMulInteger', [xq, wq, xz, wz])], { to: FLOAT }), g.node('Mul', [xs, ws])]);
    return g.node('Add', [product, weight(`${prefix}.bias`, [out])]);
  };
  const linear = options.quantize ? quantizedLinear : floatLinear;

  // Constants.
  const one = g.floatConst('one', 1);
  const half = g.floatConst('half', 0.5);
  const sqrt2 = g.floatConst('sqrt2', Math.SQRT2);
  const floatMin = g.floatConst('float32_min', FLOAT32_MIN);
  const scale = g.floatConst('attention_scale', 1 / Math.sqrt(HS));
  const splitHeads = g.int64Const('split_heads_shape', [0, 0, NH, HS]); // 0 copies batch and sequence
  const mergeHeads = g.int64Const('merge_heads_shape', [0, 0, C]);
  const zero = g.int64Const('zero', [0], []);
  const unit = g.int64Const('unit', [1], []);

  // Embeddings: word[ids] + position[0..T) + type[type_ids], LayerNorm.      [B, T, C]
  const seqLen = g.node('Gather', [g.node('Shape', ['input_ids']), unit], { axis: 0 }); // scalar T
  const positions = g.node('Range', [zero, seqLen, unit]); // [T]
  const words = g.node('Gather', [weight('embeddings.word_embeddings.weight', [config.vocabSize, C]), 'input_ids'], { axis: 0 });
  const pos = g.node('Gather', [weight('embeddings.position_embeddings.weight', [config.maxPositions, C]), positions], { axis: 0 });
  const types = g.node('Gather', [weight('embeddings.token_type_embeddings.weight', [config.typeVocabSize, C]), 'token_type_ids'], { axis: 0 });
  let hidden = layerNorm(g.node('Add', [g.node('Add', [words, pos]), types]), 'embeddings.LayerNorm');

  // Additive mask (1 − mask)·float32_min, broadcast over heads and queries.   [B, 1, 1, T]
  const maskF = g.node('Cast', ['attention_mask'], { to: FLOAT });
  const additive = g.node('Mul', [g.node('Sub', [one, maskF]), floatMin]);
  const mask = g.node('Unsqueeze', [additive, g.int64Const('mask_axes', [1, 2])]);

  for (let l = 0; l < config.numLayers; l++) {
    const p = `encoder.layer.${l}`;
    const heads = (name, perm) =>
      g.node('Transpose', [g.node('Reshape', [linear(hidden, `${p}.attention.self.${name}`, C, C), splitHeads])], { perm });
    const q = heads('query', [0, 2, 1, 3]); // [B, NH, T, HS]
    const kT = heads('key', [0, 2, 3, 1]); // [B, NH, HS, T]
    const v = heads('value', [0, 2, 1, 3]); // [B, NH, T, HS]
    const scores = g.node('Add', [g.node('Mul', [g.node('MatMul', [q, kT]), scale]), mask]); // [B, NH, T, T]
    const probs = g.node('Softmax', [scores], { axis: -1 });
    const context = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), mergeHeads]); // [B, T, C]
    const attnOut = layerNorm(g.node('Add', [linear(context, `${p}.attention.output.dense`, C, C), hidden]), `${p}.attention.output.LayerNorm`);
    // FFN with exact GELU: x · ½ · (1 + erf(x/√2)).
    const inner = linear(attnOut, `${p}.intermediate.dense`, I, C);
    const gelu = g.node('Mul', [g.node('Mul', [inner, g.node('Add', [g.node('Erf', [g.node('Div', [inner, sqrt2])]), one])]), half]);
    hidden = layerNorm(g.node('Add', [linear(gelu, `${p}.output.dense`, C, I), attnOut]), `${p}.output.LayerNorm`);
  }
  g.node('Identity', [hidden], {}, 'last_hidden_state');

  const graph = new ProtoWriter();
  for (const n of g.nodes) graph.bytes(1, n);
  graph.bytes(2, 'bert');
  for (const t of g.initializers) graph.bytes(5, t);
  for (const name of ['input_ids', 'attention_mask', 'token_type_ids']) graph.bytes(11, valueInfo(name, INT64, ['batch', 'sequence']));
  graph.bytes(12, valueInfo('last_hidden_state', FLOAT, ['batch', 'sequence', C]));
  const model = new ProtoWriter()
    .int(1, IR_VERSION)
    .bytes(2, 'dualbert')
    .bytes(3, '0.1.0')
    .bytes(7, graph)
    .bytes(8, new ProtoWriter().bytes(1, '').int(2, OPSET));
  return model.finish();
}
