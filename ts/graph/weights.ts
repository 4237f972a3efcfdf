/**
 * Binds a checkpoint (tensors by name, as loaded from safetensors or made by the synthetic
 * recipe) to the weights a graph reads: checks every shape, and builds the fused tensors the
 * graph asks for (e.g. Q/K/V concatenated) so that backends only ever see graph weights.
 */
import { DualbertError } from '../errors.js';
import type { WeightSpec } from './ops.js';

/** A float32 tensor, row-major. */
export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Checkpoint tensors by Hugging Face name (e.g. `encoder.layer.0.attention.self.query.weight`). */
export type Checkpoint = ReadonlyMap<string, Tensor>;

/** Graph weights by graph name: exactly the tensors of `graph.weights`, shapes checked. */
export type GraphWeights = ReadonlyMap<string, Tensor>;

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

  const bound = new Map<string, Tensor>();
  for (const spec of specs) {
    if (!spec.concatOf) {
      bound.set(spec.name, get(spec.name, spec.shape));
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
    bound.set(spec.name, { shape: spec.shape, data });
  }
  return bound;
}
