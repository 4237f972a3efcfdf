/**
 * Input checks of a batch, done once for every backend before anything runs: a backend receives
 * only batches whose shapes, ids and mask are valid for the graph, so no kernel reads out of
 * bounds and every device reports a bad input with the same error.
 */
import { DualbertError } from '../errors.js';
import type { BatchInputs } from './ops.js';
import type { Graph } from './plan.js';

/** A batch that passed {@link checkBatch}, with what kernels derive from the mask. */
export interface Batch extends BatchInputs {
  /** N = B·T token rows. */
  readonly tokens: number;
  /**
   * Per sequence, the position after its last real token (its length under right padding).
   * Attention kernels stop reading keys there.
   */
  readonly seqLengths: Uint32Array;
}

/** The bounds the graph's embedding tables put on ids, type ids and the sequence length. */
export interface BatchLimits {
  vocabSize?: number;
  typeVocabSize?: number;
  maxPositions?: number;
  /**
   * Positions are the token's index in its row (offset positions, RoPE, sliding windows, a
   * relative bias), which equals transformers' position ids only when padding is on the right.
   */
  rightPadded?: boolean;
}

/**
 * The limits of a graph: the row counts of the tables its embed node gathers from (positions:
 * past the offset), of its RoPE tables and relative-bias table.
 */
export function batchLimits(graph: Graph): BatchLimits {
  const rows = (name: string | undefined): number | undefined => (name === undefined ? undefined : graph.weights.find((w) => w.name === name)?.shape[0]);
  const limits: BatchLimits = {};
  const cap = (p: number | undefined): void => {
    if (p !== undefined) limits.maxPositions = Math.min(limits.maxPositions ?? p, p);
  };
  for (const node of graph.nodes) {
    if (node.op === 'embed') {
      const v = rows(node.word);
      const t = rows(node.tokenType);
      const p = rows(node.position);
      if (v !== undefined) limits.vocabSize = v;
      if (t !== undefined) limits.typeVocabSize = t;
      if (p !== undefined) cap(p - (node.positionOffset ?? 0));
      if (node.positionOffset) limits.rightPadded = true;
    } else if (node.op === 'rope') {
      cap(rows(node.cos));
      limits.rightPadded = true;
    } else if (node.op === 'attention' && (node.window !== undefined || node.positionBias !== undefined)) {
      const width = graph.weights.find((w) => w.name === node.positionBias)?.shape[1];
      if (width !== undefined) cap((width + 1) / 2);
      limits.rightPadded = true;
    }
  }
  return limits;
}

/**
 * Checks a batch against the graph's limits: B and T positive integers, arrays of B·T values,
 * a 0/1 mask with at least one real token per sequence, ids and type ids inside their tables,
 * T within the model's positions. Throws INVALID_ARGUMENT (INPUT_TOO_LONG for T) naming the value.
 */
export function checkBatch(inputs: BatchInputs, limits: BatchLimits): Batch {
  const { batchSize: B, seqLen: T, ids, typeIds, attentionMask } = inputs;
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) {
    throw new DualbertError('INVALID_ARGUMENT', `batch size and sequence length must be positive integers, got ${B} × ${T}`);
  }
  const N = B * T;
  for (const [name, arr] of [['ids', ids], ['typeIds', typeIds], ['attentionMask', attentionMask]] as const) {
    if (arr?.length !== N) throw new DualbertError('INVALID_ARGUMENT', `inputs.${name} has ${arr?.length} values, a ${B} × ${T} batch needs ${N}`);
  }
  if (limits.maxPositions !== undefined && T > limits.maxPositions) {
    throw new DualbertError('INPUT_TOO_LONG', `a sequence of ${T} tokens exceeds the model's ${limits.maxPositions} positions`);
  }
  const vocab = limits.vocabSize ?? Number.POSITIVE_INFINITY;
  const types = limits.typeVocabSize ?? Number.POSITIVE_INFINITY;
  const seqLengths = new Uint32Array(B);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      const m = attentionMask[i]!;
      if (m !== 0 && m !== 1) throw new DualbertError('INVALID_ARGUMENT', `attentionMask[${i}] is ${m}, not 0 or 1`);
      if (m && limits.rightPadded && seqLengths[b] !== t) {
        throw new DualbertError('INVALID_ARGUMENT', `sequence ${b} of the batch is not right-padded (a real token at ${t} after padding): this model's positions need padding on the right`);
      }
      if (m) seqLengths[b] = t + 1;
      const id = ids[i]!;
      if (!(id >= 0 && id < vocab)) {
        throw new DualbertError('INVALID_ARGUMENT', `token id ${id} (sequence ${b}, position ${t}) is outside the vocabulary of ${vocab}`);
      }
      const type = typeIds[i]!;
      if (!(type >= 0 && type < types)) {
        throw new DualbertError('INVALID_ARGUMENT', `token type id ${type} (sequence ${b}, position ${t}) is outside the ${types} token types`);
      }
    }
    if (seqLengths[b] === 0) throw new DualbertError('INVALID_ARGUMENT', `sequence ${b} of the batch has no real token (attention mask all 0)`);
  }
  return { ...inputs, tokens: N, seqLengths };
}
