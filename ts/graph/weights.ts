/**
 * Binds a checkpoint (tensors by name, as loaded from safetensors or made by the synthetic
 * recipe) to the weights a graph reads: checks every shape, and builds the fused tensors the
 * graph asks for (e.g. Q/K/V concatenated) so that backends only ever see graph weights.
 */
import { DualbertError } from '../errors.js';
import type { GraphNode, WeightPrecision, WeightRole, WeightSpec } from './ops.js';
import { relativeBiasByOffset } from './relative-position.js';
import { ropeTable } from './rope.js';

/** A float32 tensor, row-major. */
export interface Tensor {
  readonly shape: readonly number[];
  /** The values (for a quantized matrix: dequantized on first read, see {@link quantizedTensor}). */
  readonly data: Float32Array;
  /** Set when the tensor is a matrix of int8/uint8 weights as ONNX dynamic quantization keeps them. */
  readonly quantized?: QuantizedMatrix;
}

/**
 * A [M, K] weight matrix (PyTorch Linear layout: out × in) of 8-bit integers with a scale and a
 * zero point per output row (or one for all): w[m][k] = (q[m][k] − zeroPoint[m]) · scale[m].
 * This is how `onnxruntime.quantization.quantize_dynamic` stores a MatMul weight (per tensor,
 * or per channel along the output columns), read without rounding anything.
 */
export interface QuantizedMatrix {
  readonly dtype: 'int8' | 'uint8';
  /** [M, K] row-major. */
  readonly values: Int8Array | Uint8Array;
  /** Length M, or 1 for the whole matrix. */
  readonly scale: Float32Array;
  /** Same length as `scale`, in the range of `dtype`. */
  readonly zeroPoint: Int32Array;
}

/**
 * A tensor made from a quantized matrix. Backends that compute in int8 read `quantized`; the
 * float32 values (`data`) are made only if something asks for them, then kept.
 * @example
 * const t = quantizedTensor([2, 3], { dtype: 'int8', values: Int8Array.of(1, 2, 3, -1, -2, -3), scale: Float32Array.of(0.5), zeroPoint: Int32Array.of(0) });
 * t.data;   // Float32Array [0.5, 1, 1.5, -0.5, -1, -1.5]
 */
export function quantizedTensor(shape: readonly number[], quantized: QuantizedMatrix): Tensor {
  let data: Float32Array | undefined;
  // A getter, not a value: spreading this object would make the float copy (use Object.assign onto it).
  return {
    shape,
    quantized,
    get data(): Float32Array {
      data ??= dequantizeMatrix(shape[0]!, shape[1]!, quantized);
      return data;
    },
  };
}

/** (q − zeroPoint) · scale per row, each product rounded once to float32 (as DequantizeLinear). */
function dequantizeMatrix(M: number, K: number, q: QuantizedMatrix): Float32Array {
  const out = new Float32Array(M * K);
  for (let m = 0; m < M; m++) {
    const i = q.scale.length === 1 ? 0 : m;
    const s = q.scale[i]!;
    const z = q.zeroPoint[i]!;
    for (let k = 0; k < K; k++) out[m * K + k] = (q.values[m * K + k]! - z) * s;
  }
  return out;
}

/** The names of the checkpoint tensors that are quantized matrices (for `buildBertGraph`'s `quantized`). */
export function quantizedNames(checkpoint: Checkpoint): Set<string> {
  return new Set([...checkpoint].filter(([, t]) => t.quantized).map(([name]) => name));
}

/** Checkpoint tensors by Hugging Face name (e.g. `encoder.layer.0.attention.self.query.weight`). */
export type Checkpoint = ReadonlyMap<string, Tensor>;

/**
 * A weight bound to a graph: the tensor and what the graph uses it for (see {@link WeightRole}).
 * A linear weight of precision 'q8' carries `quantized` with one scale and zero point per row.
 */
export interface GraphWeight extends Tensor {
  readonly role: WeightRole;
  readonly precision?: WeightPrecision;
  /** Made at load time, not read from the checkpoint (RoPE tables, relative biases, zeros). */
  readonly derived?: boolean;
}

/** Graph weights by graph name: exactly the tensors of `graph.weights`, shapes checked, roles known. */
export type GraphWeights = ReadonlyMap<string, GraphWeight>;

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** The checkpoint tensors a set of graph weights needs (the parts of fused tensors, not the fused). */
export function checkpointNames(specs: readonly WeightSpec[]): string[] {
  return [...checkpointShapes(specs).keys()];
}

/**
 * The checkpoint tensors a set of graph weights needs, with the shape each must have: fused
 * tensors by their parts, derived ones by their source (none for zeros and RoPE tables).
 */
export function checkpointShapes(specs: readonly WeightSpec[]): Map<string, readonly number[]> {
  const out = new Map<string, readonly number[]>();
  for (const s of specs) {
    if (s.concatOf) {
      const part = [s.shape[0]! / s.concatOf.length, ...s.shape.slice(1)];
      for (const p of s.concatOf) out.set(p, part);
    } else if (s.derive?.kind === 'relativeBias') {
      out.set(s.derive.source, [s.derive.rows, s.shape[0]!]);
    } else if (!s.derive) {
      out.set(s.name, s.shape);
    }
  }
  return out;
}

/**
 * Returns the graph's weights from a checkpoint. Throws `INVALID_WEIGHTS` naming the tensor when
 * one is missing or has the wrong shape, so a bad file can never yield wrong vectors.
 */
export function bindWeights(specs: readonly WeightSpec[], checkpoint: Checkpoint): GraphWeights {
  const get = (name: string, shape: readonly number[]): Tensor => {
    const t = checkpoint.get(name);
    if (!t) throw new DualbertError('INVALID_WEIGHTS', `weights: tensor "${name}" is missing from the checkpoint`);
    if (!sameShape(t.shape, shape)) {
      throw new DualbertError(
        'INVALID_WEIGHTS',
        `weights: tensor "${name}" has shape [${t.shape.join(', ')}], the config needs [${shape.join(', ')}]`,
      );
    }
    if (t.data.length !== numel(shape)) {
      throw new DualbertError('INVALID_WEIGHTS', `weights: tensor "${name}" holds ${t.data.length} values, its shape needs ${numel(shape)}`);
    }
    return t;
  };

  const bound = new Map<string, GraphWeight>();
  for (const spec of specs) {
    if (spec.derive) {
      bound.set(spec.name, { shape: spec.shape, data: derive(spec, get), role: spec.role, derived: true });
      continue;
    }
    if (spec.precision === 'q8') {
      const names = spec.concatOf ?? [spec.name];
      const parts = names.map((part) => get(part, [spec.shape[0]! / names.length, ...spec.shape.slice(1)]));
      bound.set(spec.name, bindQuantized(spec.name, spec.shape, spec.role, parts, names));
      continue;
    }
    if (!spec.concatOf) {
      const t = get(spec.name, spec.shape);
      bound.set(spec.name, { shape: t.shape, data: t.data, role: spec.role });
      continue;
    }
    // Concatenate the parts along dim 0; every part has shape [shape[0] / parts, ...rest].
    const partShape = [spec.shape[0]! / spec.concatOf.length, ...spec.shape.slice(1)];
    const data = new Float32Array(numel(spec.shape));
    let offset = 0;
    for (const part of spec.concatOf) {
      const t = get(part, partShape);
      data.set(t.data, offset);
      offset += t.data.length;
    }
    bound.set(spec.name, { shape: spec.shape, data, role: spec.role });
  }
  return bound;
}

/** The values of a derived weight (see DerivedWeight in ops.ts). */
function derive(spec: WeightSpec, get: (name: string, shape: readonly number[]) => Tensor): Float32Array {
  const d = spec.derive!;
  switch (d.kind) {
    case 'zeros':
      return new Float32Array(numel(spec.shape));
    case 'rope':
      return ropeTable(d.part, d.theta, d.dims, spec.shape[0]!);
    case 'relativeBias': {
      const [heads, width] = spec.shape as [number, number];
      const source = get(d.source, [d.rows, heads]);
      return relativeBiasByOffset(source.data, d.buckets, heads, d.maxDistance, (width + 1) / 2);
    }
  }
}

/**
 * A q8 linear weight from its parts (one, or Q/K/V to concatenate along the rows): the integer
 * values concatenated, scales and zero points expanded to one per row (Q, K and V were quantized
 * separately, each with its own).
 */
function bindQuantized(target: string, shape: readonly number[], role: WeightRole, parts: readonly Tensor[], names: readonly string[]): GraphWeight {
  const first = parts[0]!.quantized;
  parts.forEach((t, i) => {
    if (!t.quantized) throw new DualbertError('INVALID_WEIGHTS', `weights: "${names[i]}" is float, the graph computes "${target}" in int8 (q8)`);
    if (t.quantized.dtype !== first!.dtype) throw new DualbertError('INVALID_WEIGHTS', `weights: "${names[i]}" is ${t.quantized.dtype}, the other parts of "${target}" are ${first!.dtype}`);
  });
  const [M, K] = shape as [number, number];
  const values = first!.dtype === 'int8' ? new Int8Array(M * K) : new Uint8Array(M * K);
  const scale = new Float32Array(M);
  const zeroPoint = new Int32Array(M);
  let row = 0;
  for (const t of parts) {
    const q = t.quantized!;
    const rows = t.shape[0]!;
    values.set(q.values, row * K);
    for (let m = 0; m < rows; m++) {
      scale[row + m] = q.scale[q.scale.length === 1 ? 0 : m]!;
      zeroPoint[row + m] = q.zeroPoint[q.zeroPoint.length === 1 ? 0 : m]!;
    }
    row += rows;
  }
  return Object.assign(quantizedTensor(shape, { dtype: first!.dtype, values, scale, zeroPoint }), { role, precision: 'q8' as const });
}

/**
 * The roles the given nodes read their weights in (linear weights of `linear`/`dense`, tables of
 * `embed`, vectors for the rest). For weights made outside a graph builder, e.g. one op's test case.
 */
export function weightRoles(nodes: readonly GraphNode[]): Map<string, WeightRole> {
  const roles = new Map<string, WeightRole>();
  for (const node of nodes) {
    switch (node.op) {
      case 'embed':
        for (const t of [node.word, node.position, node.tokenType]) if (t) roles.set(t, 'table');
        break;
      case 'rope':
        roles.set(node.cos, 'table');
        roles.set(node.sin, 'table');
        break;
      case 'attention':
        if (node.positionBias) roles.set(node.positionBias, 'table');
        break;
      case 'linear':
      case 'dense':
        roles.set(node.weight, 'linear');
        if (node.bias) roles.set(node.bias, 'vector');
        break;
      case 'layerNorm':
        roles.set(node.gamma, 'vector');
        roles.set(node.beta, 'vector');
        break;
      default:
        break;
    }
  }
  return roles;
}

/** Tensors bound with the roles `nodes` read them in (see {@link weightRoles}). */
export function withRoles(nodes: readonly GraphNode[], tensors: ReadonlyMap<string, Tensor>): GraphWeights {
  const roles = weightRoles(nodes);
  const out = new Map<string, GraphWeight>();
  for (const [name, t] of tensors) {
    const role = roles.get(name) ?? (t.shape.length === 1 ? 'vector' : 'table');
    if (t.quantized) out.set(name, bindQuantized(name, t.shape, role, [t], [name]));
    else out.set(name, { shape: t.shape, data: t.data, role });
  }
  return out;
}
