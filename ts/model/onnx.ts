/**
 * Reads the weights of a BERT encoder exported to ONNX (the transformers.js / Optimum layout:
 * `onnx/model.onnx`, `model_fp16.onnx`, `model_quantized.onnx`...) and maps them onto the
 * Hugging Face checkpoint names the graph binds.
 *
 * Exporters keep the names of most initializers (`encoder.layer.0.attention.self.query.bias`,
 * sometimes as `p.encoder__layer__0__...`) but fold each Linear weight into an anonymous
 * transposed constant (`onnx::MatMul_228`, [in, out]). So Linear weights are found through the
 * graph: the MatMul (or Gemm, or int8 MatMulInteger) whose output feeds the Add of a named bias
 * owns the weight of that bias, and its layout follows from the op (MatMul right operand: [in, out];
 * Gemm transB=1 or a Transpose node in front: [out, in]). Embeddings and LayerNorm parameters are
 * taken by name. Every weight comes back in PyTorch layout: float32 (fp16 widened exactly), or,
 * for the Linear weights of ONNX dynamic quantization (DynamicQuantizeLinear → MatMulInteger),
 * the int8/uint8 values with their scales and zero points as the file has them (`quantized`), so
 * the graph can compute as onnxruntime does. Other int8 weights (QDQ's DequantizeLinear,
 * GatherQuant tables) are dequantized exactly as the graph does it; a MatMulInteger fed by
 * a fixed (static) quantization is dequantized with a warning. 4-bit MatMulNBits is refused.
 */
import { DualbertError } from '../errors.js';
import type { BertConfig } from '../graph/config.js';
import { type Tensor, quantizedTensor } from '../graph/weights.js';
import { familyLayout, layerLinears } from '../graph/families.js';
import { ProtobufError, type ProtoField, protoString, readFields, repeatedInts, toSigned64 } from './protobuf.js';
import { fromHalfBits } from '../half.js';
import { bertTensorShapes } from './synthetic.js';

/** ONNX TensorProto.DataType values we decode. */
const DT = { FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 } as const;
const DT_NAMES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16',
};

/** A TensorProto, undecoded: its data stays a view into the file. */
export interface OnnxTensorProto {
  readonly name: string;
  readonly dims: number[];
  readonly dataType: number;
  readonly raw: Uint8Array | undefined;
  /** The typed repeated fields (float_data, int32_data, int64_data, double_data), when raw_data is absent. */
  readonly typed: ProtoField[];
  /** External data (data_location = EXTERNAL): file, offset, length. */
  readonly external: { location: string; offset: number; length: number | undefined } | undefined;
}

export interface OnnxAttribute {
  readonly name: string;
  readonly i?: number;
  readonly f?: number;
  readonly ints?: number[];
  readonly t?: OnnxTensorProto;
}

export interface OnnxNode {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: string[];
  readonly outputs: string[];
  readonly attributes: Map<string, OnnxAttribute>;
}

export interface OnnxModel {
  readonly producer: string;
  readonly nodes: OnnxNode[];
  readonly initializers: Map<string, OnnxTensorProto>;
  readonly inputs: string[];
  readonly outputs: string[];
}

function parseTensor(buf: Uint8Array): OnnxTensorProto {
  const dims: ProtoField[] = [];
  const typed: ProtoField[] = [];
  const extEntries: [string, string][] = [];
  let name = '';
  let dataType = 0;
  let raw: Uint8Array | undefined;
  let location = 0;
  for (const f of readFields(buf)) {
    switch (f.field) {
      case 1: dims.push(f); break;
      case 2: dataType = f.value; break;
      case 4: case 5: case 7: case 10: typed.push(f); break;
      case 8: name = protoString(f); break;
      case 9: raw = f.bytes; break;
      case 13: {
        let key = '';
        let value = '';
        for (const e of readFields(f.bytes)) {
          if (e.field === 1) key = protoString(e);
          else if (e.field === 2) value = protoString(e);
        }
        extEntries.push([key, value]);
        break;
      }
      case 14: location = f.value; break;
    }
  }
  let external: OnnxTensorProto['external'];
  if (location === 1) {
    const ext = new Map(extEntries);
    const len = ext.get('length');
    external = { location: ext.get('location') ?? '', offset: Number(ext.get('offset') ?? 0), length: len === undefined ? undefined : Number(len) };
  }
  return { name, dims: repeatedInts(dims).map(toSigned64), dataType, raw, typed, external };
}

function parseAttribute(buf: Uint8Array): OnnxAttribute {
  let name = '';
  let i: number | undefined;
  let fl: number | undefined;
  let t: OnnxTensorProto | undefined;
  const ints: ProtoField[] = [];
  for (const f of readFields(buf)) {
    if (f.field === 1) name = protoString(f);
    else if (f.field === 2) fl = new DataView(f.bytes.buffer, f.bytes.byteOffset, 4).getFloat32(0, true);
    else if (f.field === 3) i = toSigned64(f.value);
    else if (f.field === 5) t = parseTensor(f.bytes);
    else if (f.field === 8) ints.push(f);
  }
  return {
    name,
    ...(i !== undefined ? { i } : {}),
    ...(fl !== undefined ? { f: fl } : {}),
    ...(ints.length ? { ints: repeatedInts(ints).map(toSigned64) } : {}),
    ...(t ? { t } : {}),
  };
}

function parseNode(buf: Uint8Array): OnnxNode {
  const node = { name: '', opType: '', domain: '', inputs: [] as string[], outputs: [] as string[], attributes: new Map<string, OnnxAttribute>() };
  for (const f of readFields(buf)) {
    if (f.field === 1) node.inputs.push(protoString(f));
    else if (f.field === 2) node.outputs.push(protoString(f));
    else if (f.field === 3) node.name = protoString(f);
    else if (f.field === 4) node.opType = protoString(f);
    else if (f.field === 5) {
      const a = parseAttribute(f.bytes);
      node.attributes.set(a.name, a);
    } else if (f.field === 7) node.domain = protoString(f);
  }
  return node;
}

function valueInfoName(buf: Uint8Array): string {
  for (const f of readFields(buf)) if (f.field === 1) return protoString(f);
  return '';
}

/**
 * Parses an ONNX ModelProto (graph, nodes, initializers) without copying tensor data.
 * Throws `INVALID_WEIGHTS` naming `file` when the bytes are not an ONNX model.
 */
export function parseOnnx(bytes: Uint8Array, file = 'model.onnx'): OnnxModel {
  try {
    let graph: Uint8Array | undefined;
    let producer = '';
    for (const f of readFields(bytes)) {
      if (f.field === 7 && f.wire === 2) graph = f.bytes;
      else if (f.field === 2 && f.wire === 2) producer = protoString(f);
    }
    if (!graph) throw new ProtobufError('no graph (field 7): not an ONNX model');
    const model: OnnxModel = { producer, nodes: [], initializers: new Map(), inputs: [], outputs: [] };
    for (const f of readFields(graph)) {
      if (f.wire !== 2) continue;
      if (f.field === 1) model.nodes.push(parseNode(f.bytes));
      else if (f.field === 5) {
        const t = parseTensor(f.bytes);
        // Two initializers of one name: which one the graph reads is ambiguous.
        if (model.initializers.has(t.name)) throw new ProtobufError(`initializer "${t.name}" appears twice`);
        model.initializers.set(t.name, t);
      } else if (f.field === 11) model.inputs.push(valueInfoName(f.bytes));
      else if (f.field === 12) model.outputs.push(valueInfoName(f.bytes));
    }
    if (model.nodes.length === 0) throw new ProtobufError('the graph has no nodes: not an ONNX model');
    return model;
  } catch (e) {
    if (e instanceof ProtobufError) throw new DualbertError('INVALID_WEIGHTS', `${file}: cannot parse as ONNX: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Reads the bytes of external data files (`model.onnx_data`), by their location relative to the .onnx file. */
export type ExternalDataReader = (location: string) => Uint8Array;

/** Decodes a TensorProto to float32 (integers too: zero points and int8 weights are exact in float32). */
export function decodeOnnxTensor(t: OnnxTensorProto, file: string, external?: ExternalDataReader): Tensor {
  const fail = (why: string): never => {
    throw new DualbertError('INVALID_WEIGHTS', `${file}: initializer "${t.name}" ${why}`);
  };
  // Dims come from the file: checked before anything is allocated from them.
  if (!t.dims.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`has an invalid shape [${t.dims.join(', ')}]`);
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count)) fail(`has an impossible shape [${t.dims.join(', ')}]`);
  let raw = t.raw;
  if (t.external) {
    if (!external) fail(`keeps its data in an external file "${t.external.location}" that was not provided`);
    const { offset } = t.external;
    if (!Number.isSafeInteger(offset) || offset < 0 || (t.external.length !== undefined && !(Number.isSafeInteger(t.external.length) && t.external.length >= 0))) {
      fail(`has an invalid external data offset or length (${t.external.offset}, ${String(t.external.length)})`);
    }
    const data = external!(t.external.location);
    const length = t.external.length ?? data.byteLength - t.external.offset;
    if (length < 0 || t.external.offset + length > data.byteLength) {
      fail(`points at bytes [${t.external.offset}, ${t.external.offset + length}) outside ${t.external.location} (${data.byteLength} bytes)`);
    }
    raw = data.subarray(t.external.offset, t.external.offset + length);
  }
  const size: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 10: 2, 11: 8, 16: 2 };
  const bytesPer = size[t.dataType];
  if (bytesPer === undefined) {
    throw new DualbertError('UNSUPPORTED_DTYPE', `${file}: initializer "${t.name}" has dtype ${DT_NAMES[t.dataType] ?? t.dataType}; dualbert reads float32, float16, bfloat16 and int8/uint8 weights`);
  }
  if (raw) {
    if (raw.byteLength !== count * bytesPer) {
      fail(`has ${raw.byteLength} bytes, but shape [${t.dims.join(', ')}] × ${DT_NAMES[t.dataType]} needs ${count * bytesPer}`);
    }
    const out = new Float32Array(count);
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    switch (t.dataType) {
      case DT.FLOAT:
        if (raw.byteOffset % 4 === 0) out.set(new Float32Array(raw.buffer, raw.byteOffset, count));
        else for (let i = 0; i < count; i++) out[i] = v.getFloat32(i * 4, true);
        break;
      case DT.FLOAT16: for (let i = 0; i < count; i++) out[i] = fromHalfBits(v.getUint16(i * 2, true)); break;
      case DT.BFLOAT16: {
        const u32 = new Uint32Array(out.buffer);
        for (let i = 0; i < count; i++) u32[i] = v.getUint16(i * 2, true) << 16;
        break;
      }
      case DT.UINT8: for (let i = 0; i < count; i++) out[i] = v.getUint8(i); break;
      case DT.INT8: for (let i = 0; i < count; i++) out[i] = v.getInt8(i); break;
      case DT.UINT16: for (let i = 0; i < count; i++) out[i] = v.getUint16(i * 2, true); break;
      case DT.INT16: for (let i = 0; i < count; i++) out[i] = v.getInt16(i * 2, true); break;
      case DT.INT32: for (let i = 0; i < count; i++) out[i] = v.getInt32(i * 4, true); break;
      case DT.INT64: for (let i = 0; i < count; i++) out[i] = Number(v.getBigInt64(i * 8, true)); break;
      case DT.DOUBLE: for (let i = 0; i < count; i++) out[i] = v.getFloat64(i * 8, true); break;
    }
    return { shape: t.dims, data: out };
  }
  // Typed fields: float_data (4, packed fixed32), int32_data (5: also carries int8/uint8/fp16 bits),
  // int64_data (7), double_data (10). Every value takes at least one byte of the file.
  const available = t.typed.reduce((a, f) => a + Math.max(1, f.bytes.byteLength), 0);
  if (count > available) fail(`holds at most ${available} values, its shape [${t.dims.join(', ')}] needs ${count}`);
  const out = new Float32Array(count);
  let n = 0;
  const push = (x: number): void => {
    if (n < count) out[n] = x;
    n++;
  };
  for (const f of t.typed) {
    if (f.field === 4) {
      const v = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
      for (let i = 0; i + 4 <= f.bytes.byteLength; i += 4) push(v.getFloat32(i, true));
    } else if (f.field === 10) {
      const v = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
      for (let i = 0; i + 8 <= f.bytes.byteLength; i += 8) push(v.getFloat64(i, true));
    } else {
      for (const x of repeatedInts([f])) {
        const s = f.field === 7 ? toSigned64(x) : x >= 2 ** 31 ? toSigned64(x) : x;
        if (t.dataType === DT.FLOAT16) push(fromHalfBits(s & 0xffff));
        else if (t.dataType === DT.BFLOAT16) push(new Float32Array(new Uint32Array([(s & 0xffff) << 16]).buffer)[0]!);
        else push(s);
      }
    }
  }
  if (n !== count) fail(`holds ${n} values, its shape [${t.dims.join(', ')}] needs ${count}`);
  return { shape: t.dims, data: out };
}

/** Options and results of {@link readOnnxCheckpoint}. */
export interface OnnxCheckpointOptions {
  /** For messages, e.g. "Xenova/all-MiniLM-L6-v2/onnx/model.onnx". */
  file?: string;
  /** Only these checkpoint names are decoded (default: every BERT tensor of the config, pooler excluded). */
  needed?: ReadonlySet<string>;
  /** External data files. */
  external?: ExternalDataReader;
  /** Called once per kind of lossy conversion (e.g. int8 dequantization). */
  warn?: (message: string) => void;
  /** Maps a canonical name onto BERT's (e.g. DistilBERT's `transformer.layer.0.attention.q_lin.bias`); undefined: not an encoder tensor. */
  mapName?: (name: string) => string | undefined;
  /** The shape of every tensor that may be read (default: BERT's tensors of the config). */
  shapes?: ReadonlyMap<string, readonly number[]>;
}

/** Maps an exporter's initializer name to the Hugging Face `BertModel` name (`p.encoder__layer__0__x` → `encoder.layer.0.x`). */
export function canonicalOnnxName(name: string): string {
  let n = name.replace(/__/g, '.');
  n = n.replace(/^p[._]/, '');
  n = n.replace(/(_quantized|_fp16)$/, '');
  for (const prefix of ['bert.', 'model.', '_orig_mod.']) if (n.startsWith(prefix)) n = n.slice(prefix.length);
  return n;
}

interface Resolved {
  tensor: Tensor;
  /** The initializer the value comes from (for naming). */
  source: string;
  /** True when int8/uint8 data was dequantized on the way. */
  dequantized: boolean;
}

function transpose2d(t: Tensor): Tensor {
  const [rows, cols] = t.shape as [number, number];
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c]!;
  return { shape: [cols, rows], data: out };
}

/** (q − zp) · scale, per tensor or along `axis` (scale and zero point of length shape[axis]). */
function dequantize(q: Tensor, scale: Tensor, zp: Tensor | undefined, axis: number, what: string, file: string): Tensor {
  const out = new Float32Array(q.data.length);
  const rank = q.shape.length;
  const ax = axis < 0 ? axis + rank : axis;
  if (scale.data.length === 1) {
    const s = scale.data[0]!;
    const z = zp ? zp.data[0]! : 0;
    for (let i = 0; i < out.length; i++) out[i] = (q.data[i]! - z) * s;
    return { shape: q.shape, data: out };
  }
  const dim = q.shape[ax];
  if (dim === undefined || scale.data.length !== dim || (zp && zp.data.length !== dim)) {
    throw new DualbertError('INVALID_WEIGHTS', `${file}: the quantization scale of ${what} does not match its shape [${q.shape.join(', ')}] on axis ${axis}`);
  }
  const inner = q.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < out.length; i++) {
    const k = Math.floor(i / inner) % dim;
    out[i] = (q.data[i]! - (zp ? zp.data[k]! : 0)) * scale.data[k]!;
  }
  return { shape: q.shape, data: out };
}

/**
 * Reads the BERT checkpoint tensors of an ONNX export. Throws `INVALID_WEIGHTS` naming the tensor
 * when one cannot be found or has an unexpected shape (so a foreign graph never yields wrong vectors).
 */
export function readOnnxCheckpoint(
  bytes: Uint8Array | OnnxModel,
  config: BertConfig,
  options: OnnxCheckpointOptions = {},
): Map<string, Tensor> {
  const file = options.file ?? 'model.onnx';
  const model = bytes instanceof Uint8Array ? parseOnnx(bytes, file) : bytes;
  const shapes: ReadonlyMap<string, readonly number[]> = options.shapes ?? bertTensorShapes(config);
  const needed = options.needed ?? new Set([...shapes.keys()].filter((n) => !n.startsWith('pooler.')));
  const layout = familyLayout(config);
  const warnings = new Set<string>();
  const warn = (m: string): void => {
    if (!warnings.has(m)) {
      warnings.add(m);
      options.warn?.(m);
    }
  };

  const blockQuantized = model.nodes.find((n) => n.opType === 'MatMulNBits' || n.opType === 'GatherBlockQuantized');
  if (blockQuantized) {
    throw new DualbertError(
      'UNSUPPORTED_DTYPE',
      `${file}: node "${blockQuantized.name}" is ${blockQuantized.opType} (block-quantized 4-bit weights, a q4 export), which dualbert does not run; load the q8, fp16 or fp32 export instead (dtype 'q8': onnx/model_quantized.onnx)`,
    );
  }

  const producers = new Map<string, OnnxNode>();
  const consumers = new Map<string, OnnxNode[]>();
  for (const node of model.nodes) {
    for (const o of node.outputs) producers.set(o, node);
    for (const i of node.inputs) {
      if (!i) continue;
      const list = consumers.get(i);
      if (list) list.push(node);
      else consumers.set(i, [node]);
    }
  }

  // Constant folding of the few ops that sit between an initializer and its use.
  const memo = new Map<string, Resolved | null>();
  const resolve = (value: string): Resolved | undefined => {
    if (!value) return undefined;
    const hit = memo.get(value);
    if (hit !== undefined) return hit ?? undefined;
    memo.set(value, null); // cycle guard
    let r: Resolved | undefined;
    const init = model.initializers.get(value);
    if (init) {
      r = { tensor: decodeOnnxTensor(init, file, options.external), source: value, dequantized: false };
    } else {
      const node = producers.get(value);
      if (node) r = resolveNode(node);
    }
    memo.set(value, r ?? null);
    return r;
  };
  const resolveNode = (node: OnnxNode): Resolved | undefined => {
    switch (node.opType) {
      case 'Constant': {
        const t = node.attributes.get('value')?.t;
        return t ? { tensor: decodeOnnxTensor(t, file, options.external), source: node.outputs[0]!, dequantized: false } : undefined;
      }
      case 'Identity':
      case 'Cast':
        return resolve(node.inputs[0]!);
      case 'Transpose': {
        const x = resolve(node.inputs[0]!);
        const perm = node.attributes.get('perm')?.ints;
        if (!x || x.tensor.shape.length !== 2 || (perm && !(perm[0] === 1 && perm[1] === 0))) return undefined;
        return { ...x, tensor: transpose2d(x.tensor) };
      }
      case 'DequantizeLinear': {
        const q = resolve(node.inputs[0]!);
        const scale = resolve(node.inputs[1]!);
        const zp = node.inputs[2] ? resolve(node.inputs[2]) : undefined;
        if (!q || !scale) return undefined;
        const axis = node.attributes.get('axis')?.i ?? 1;
        return { tensor: dequantize(q.tensor, scale.tensor, zp?.tensor, axis, q.source, file), source: q.source, dequantized: true };
      }
      default:
        return undefined;
    }
  };

  const out = new Map<string, Tensor>();
  const put = (name: string, t: Tensor, from: string): void => {
    const want = shapes.get(name);
    if (!want) return;
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new DualbertError(
        'INVALID_WEIGHTS',
        `${file}: "${from}" (${name}) has shape [${t.shape.join(', ')}], the config needs [${want.join(', ')}]`,
      );
    }
    out.set(name, t);
  };

  /**
   * The weight of a MatMulInteger as ONNX dynamic quantization leaves it — x quantized at run
   * time by a DynamicQuantizeLinear whose scale enters the rescale Mul — kept as int8/uint8 in
   * [out, in] layout with its scale and zero point (one, or one per output column); undefined
   * when the activation quantization is not dynamic or the weight is not 8-bit.
   */
  const dynamicQuantization = (node: OnnxNode, wq: Resolved, wScale: Tensor, wZero: Tensor | undefined, scaleNode: OnnxNode | undefined): Tensor | undefined => {
    const dql = producers.get(node.inputs[0]!);
    if (dql?.opType !== 'DynamicQuantizeLinear' || node.inputs[2] !== dql.outputs[2]) return undefined;
    if (!(scaleNode?.opType === 'Mul' && scaleNode.inputs.includes(dql.outputs[1]!))) return undefined;
    const dataType = model.initializers.get(wq.source)?.dataType;
    if (dataType !== DT.INT8 && dataType !== DT.UINT8) return undefined;
    const [K, N] = wq.tensor.shape as [number, number];
    const perColumn = (t: Tensor | undefined, what: string): Float32Array => {
      if (!t) return new Float32Array(1);
      if (t.data.length !== 1 && t.data.length !== N) {
        throw new DualbertError('INVALID_WEIGHTS', `${file}: the ${what} of "${wq.source}" has ${t.data.length} values; its [${K}, ${N}] weight needs 1 or ${N}`);
      }
      return t.data;
    };
    const scale = perColumn(wScale, 'quantization scale');
    const zeros = perColumn(wZero, 'zero point');
    const [lo, hi] = dataType === DT.INT8 ? [-128, 127] : [0, 255];
    if (zeros.some((z) => !(z >= lo && z <= hi))) throw new DualbertError('INVALID_WEIGHTS', `${file}: a zero point of "${wq.source}" lies outside ${DT_NAMES[dataType]}`);
    if (scale.some((v) => !(v > 0) || !Number.isFinite(v))) throw new DualbertError('INVALID_WEIGHTS', `${file}: a quantization scale of "${wq.source}" is not a positive finite number`);
    // One scale and zero point per row of the [N, K] weight (or one for all).
    const rows = scale.length === zeros.length ? scale.length : N;
    const values = dataType === DT.INT8 ? new Int8Array(N * K) : new Uint8Array(N * K);
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) values[n * K + k] = wq.tensor.data[k * N + n]!;
    const at = (a: Float32Array, i: number): number => a[a.length === 1 ? 0 : i]!;
    return quantizedTensor([N, K], {
      dtype: dataType === DT.INT8 ? 'int8' : 'uint8',
      values,
      scale: Float32Array.from({ length: rows }, (_, i) => at(scale, i)),
      zeroPoint: Int32Array.from({ length: rows }, (_, i) => at(zeros, i)),
    });
  };

  // 1. Linear layers, found through the graph.
  interface Site {
    weight: Tensor; // [out, in]
    bias: Resolved | undefined;
    node: OnnxNode;
  }
  const sites: Site[] = [];
  const biasAfter = (value: string, outFeatures: number): Resolved | undefined => {
    for (const c of consumers.get(value) ?? []) {
      if (c.opType !== 'Add') continue;
      const other = c.inputs[0] === value ? c.inputs[1]! : c.inputs[0]!;
      const b = resolve(other);
      if (b && b.tensor.data.length === outFeatures && b.tensor.shape.length === 1) return b;
    }
    return undefined;
  };
  for (const node of model.nodes) {
    if (node.opType === 'MatMul' || node.opType === 'Gemm') {
      const w = resolve(node.inputs[1]!);
      if (!w || w.tensor.shape.length !== 2 || resolve(node.inputs[0]!)) continue;
      let weight: Tensor;
      let bias: Resolved | undefined;
      if (node.opType === 'Gemm') {
        if ((node.attributes.get('transA')?.i ?? 0) !== 0) continue;
        const transB = (node.attributes.get('transB')?.i ?? 0) === 1;
        weight = transB ? w.tensor : transpose2d(w.tensor);
        bias = node.inputs[2] ? resolve(node.inputs[2]) : biasAfter(node.outputs[0]!, weight.shape[0]!);
      } else {
        weight = transpose2d(w.tensor); // MatMul(x, W): W is [in, out]
        bias = biasAfter(node.outputs[0]!, weight.shape[0]!);
      }
      sites.push({ weight, bias, node });
    } else if (node.opType === 'MatMulInteger') {
      // DynamicQuantizeLinear(x) → MatMulInteger(xq, Wq, x_zp, W_zp) → Cast → Mul(·, x_scale · W_scale) → Add(bias)
      const wq = resolve(node.inputs[1]!);
      if (!wq || wq.tensor.shape.length !== 2) continue;
      const wzp = node.inputs[3] ? resolve(node.inputs[3]) : undefined;
      const cast = (consumers.get(node.outputs[0]!) ?? []).find((c) => c.opType === 'Cast');
      const mul = cast && (consumers.get(cast.outputs[0]!) ?? []).find((c) => c.opType === 'Mul');
      if (!mul) continue;
      const scaleValue = mul.inputs[0] === cast.outputs[0] ? mul.inputs[1]! : mul.inputs[0]!;
      // The combined scale is Mul(x_scale, W_scale): W_scale is the operand that folds to a constant.
      let wScale = resolve(scaleValue);
      const scaleNode = producers.get(scaleValue);
      if (!wScale && scaleNode?.opType === 'Mul') wScale = resolve(scaleNode.inputs[0]!) ?? resolve(scaleNode.inputs[1]!);
      if (!wScale) continue;
      const quantized = dynamicQuantization(node, wq, wScale.tensor, wzp?.tensor, scaleNode);
      let weight: Tensor;
      if (quantized) {
        weight = quantized;
      } else {
        weight = transpose2d(dequantize(wq.tensor, wScale.tensor, wzp?.tensor, 1, wq.source, file));
        warn(`${file}: int8 weights with a fixed activation quantization were dequantized to float32 (results differ from onnxruntime's by the quantization of activations)`);
      }
      sites.push({ weight, bias: biasAfter(mul.outputs[0]!, weight.shape[0]!), node });
    }
  }

  const canonical = (name: string): string | undefined => {
    const n = canonicalOnnxName(name);
    return options.mapName ? options.mapName(n) : n;
  };
  const linearOf = (biasName: string): string | undefined => {
    const n = canonical(biasName);
    if (!n?.endsWith('.bias')) return undefined;
    const prefix = n.slice(0, -'.bias'.length);
    return shapes.has(`${prefix}.weight`) && !prefix.startsWith('embeddings') && !prefix.endsWith('LayerNorm') ? prefix : undefined;
  };
  const linearPrefixes = new Set(Array.from({ length: config.numLayers }, (_, l) => layerLinears(layout, l)).flat());
  const isLinearWeight = (name: string): boolean => name.endsWith('.weight') && linearPrefixes.has(name.slice(0, -'.weight'.length));
  const named = sites.filter((s) => s.bias && linearOf(s.bias.source));
  if (named.length > 0) {
    for (const s of named) {
      const prefix = linearOf(s.bias!.source)!;
      if (needed.has(`${prefix}.weight`)) put(`${prefix}.weight`, s.weight, s.node.name || s.node.inputs[1]!);
      if (needed.has(`${prefix}.bias`)) put(`${prefix}.bias`, s.bias!.tensor, s.bias!.source);
    }
  } else if (sites.length > 0) {
    // No bias carries a name (or the family has no Linear biases: ModernBERT, NomicBERT): map the
    // encoder's MatMuls in forward order, as the family lists its Linears per layer.
    // The Linears as the exported module computes them (NomicBERT: q, k, v, o, gate, up, down),
    // in the checkpoint's names; `name#i/n` is row block i of n of a fused tensor (Wqkv).
    const order = (l: number): string[] => layout.exportedLinears?.(l) ?? layerLinears(layout, l);
    const perLayer = order(0).length;
    const withBias = layout.biases(config).attention;
    const encoderSites = withBias ? sites.filter((s) => s.bias) : sites;
    if (encoderSites.length < perLayer * config.numLayers) {
      throw new DualbertError('INVALID_WEIGHTS', `${file}: found ${encoderSites.length} Linear layers${withBias ? ' with a bias' : ''}; a ${config.numLayers}-layer ${layout.family} encoder has ${perLayer * config.numLayers}`);
    }
    warn(`${file}: the Linear weights carry no names; they were mapped in graph order (${order(0).map((n) => n.slice(n.lastIndexOf('.') + 1)).join(', ')} per layer)`);
    const blocks = new Map<string, { parts: (Site | undefined)[] }>();
    for (let l = 0; l < config.numLayers; l++) {
      order(l).forEach((entry, j) => {
        const s = encoderSites[l * perLayer + j]!;
        const m = /^(.*)#(\d+)\/(\d+)$/.exec(entry);
        if (!m) {
          if (needed.has(`${entry}.weight`)) put(`${entry}.weight`, s.weight, s.node.name);
          if (s.bias && needed.has(`${entry}.bias`)) put(`${entry}.bias`, s.bias.tensor, s.bias.source);
          return;
        }
        const [, prefix, i, n] = m as unknown as [string, string, string, string];
        const block = blocks.get(prefix) ?? { parts: new Array<Site | undefined>(Number(n)) };
        block.parts[Number(i)] = s;
        blocks.set(prefix, block);
      });
    }
    // Fused tensors: their row blocks stacked (all parts present and of one width, or put() refuses the shape).
    for (const [prefix, { parts }] of blocks) {
      const sites = parts.filter((p): p is Site => p !== undefined);
      const rows = sites.reduce((a, p) => a + p.weight.shape[0]!, 0);
      const cols = sites[0]!.weight.shape[1]!;
      const data = new Float32Array(rows * cols);
      let at = 0;
      for (const p of sites) {
        if (p.weight.shape[1] !== cols) throw new DualbertError('INVALID_WEIGHTS', `${file}: the parts of ${prefix}.weight have different widths`);
        data.set(p.weight.data, at);
        at += p.weight.data.length;
      }
      if (needed.has(`${prefix}.weight`)) put(`${prefix}.weight`, { shape: [rows, cols], data }, sites.map((p) => p.node.name).join(' + '));
    }
  }

  // 2. Everything else by name: embeddings and LayerNorm parameters (possibly fp16 or quantized).
  for (const [initName, init] of model.initializers) {
    const name = canonical(initName);
    if (name === undefined || !needed.has(name) || out.has(name)) continue;
    if (isLinearWeight(name)) continue; // layout unknown without its MatMul
    // Follow Cast/Identity/DequantizeLinear consumers to the value the graph computes with.
    let value = initName;
    for (;;) {
      const next = (consumers.get(value) ?? []).find((c) => ['Cast', 'Identity', 'DequantizeLinear'].includes(c.opType) && c.inputs[0] === value);
      if (!next) break;
      value = next.outputs[0]!;
    }
    let r = resolve(value);
    if (r && init.dataType !== DT.FLOAT && init.dataType !== DT.FLOAT16 && init.dataType !== DT.BFLOAT16 && !r.dequantized) r = undefined;
    if (!r) {
      // A quantized embedding table that is gathered first and dequantized after (onnxruntime's GatherQuant).
      const gather = (consumers.get(initName) ?? []).find((c) => c.opType === 'Gather' && c.inputs[0] === initName);
      const dq = gather && (consumers.get(gather.outputs[0]!) ?? []).find((c) => c.opType === 'DequantizeLinear');
      const scale = dq && resolve(dq.inputs[1]!);
      if (dq && scale && scale.tensor.data.length === 1) {
        const zp = dq.inputs[2] ? resolve(dq.inputs[2]) : undefined;
        r = { tensor: dequantize(decodeOnnxTensor(init, file, options.external), scale.tensor, zp?.tensor, 0, initName, file), source: initName, dequantized: true };
      } else if (init.dataType === DT.FLOAT || init.dataType === DT.FLOAT16 || init.dataType === DT.BFLOAT16) {
        r = { tensor: decodeOnnxTensor(init, file, options.external), source: initName, dequantized: false };
      } else {
        throw new DualbertError('INVALID_WEIGHTS', `${file}: initializer "${initName}" is ${DT_NAMES[init.dataType] ?? init.dataType} and no DequantizeLinear gives its float values`);
      }
    }
    put(name, r.tensor, initName);
  }

  const missing = [...needed].filter((n) => !out.has(n));
  if (missing.length > 0) {
    const fused = model.nodes.find((n) => ['Attention', 'MultiHeadAttention', 'EmbedLayerNormalization', 'SkipLayerNormalization', 'FastGelu'].includes(n.opType));
    throw new DualbertError(
      'INVALID_WEIGHTS',
      `${file}: cannot find ${missing.length} BERT tensor(s) in the ONNX graph, e.g. "${missing[0]}"` +
        (fused ? ` (the graph uses the fused onnxruntime op ${fused.opType}: load the plain export, e.g. onnx/model.onnx, instead of an optimized one)` : ''),
    );
  }
  return out;
}
