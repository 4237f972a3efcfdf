/**
 * Binds a checkpoint (tensors by name, as loaded from safetensors or made by the synthetic
 * recipe) to the weights a graph reads: checks every shape, and builds the fused tensors the
 * graph asks for (e.g. Q/K/V concatenated) so that backends only ever see graph weights.
 */
import { DualbertError } from '../errors.js';
import type { GraphNode, WeightRole, WeightSpec } from './ops.js';

/** A float32 tensor, row-major. */
export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Checkpoint tensors by Hugging Face name (e.g. `encoder.layer.0.attention.self.query.weight`). */
export type Checkpoint = ReadonlyMap<string, Tensor>;

/** A weight bound to a graph: the tensor and what the graph uses it for (see {@link WeightRole}). */
export interface GraphWeight extends Tensor {
  readonly role: WeightRole;
}

/** Graph weights by graph name: exactly the tensors of `graph.weights`, shapes checked, roles known. */
export type GraphWeights = ReadonlyMap<string, GraphWeight>;

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** The checkpoint tensors a set of graph weights needs (the parts of fused tensors, not the fused). */
export function checkpointNames(specs: readonly WeightSpec[]): string[] {
  return specs.flatMap((s) => (s.concatOf ? [...s.concatOf] : [s.name]));
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

/**
 * The roles the given nodes read their weights in (linear weights of `linear`/`dense`, tables of
 * `embed`, vectors for the rest). For weights made outside a graph builder, e.g. one op's test case.
 */
export function weightRoles(nodes: readonly GraphNode[]): Map<string, WeightRole> {
  const roles = new Map<string, WeightRole>();
  for (const node of nodes) {
    switch (node.op) {
      case 'embed':
        for (const t of [node.word, node.position, node.tokenType]) roles.set(t, 'table');
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
  for (const [name, t] of tensors) out.set(name, { shape: t.shape, data: t.data, role: roles.get(name) ?? (t.shape.length === 1 ? 'vector' : 'table') });
  return out;
}
