/** Loads the golden files (float64 PyTorch outputs for the synthetic models) and builds batches from their ids. */
import { readFileSync } from 'node:fs';
import type { BatchInputs } from '../../ts/graph/ops.js';

export interface GoldenText {
  input_ids: number[];
  mean: number[];
  cls: number[];
  /** tiny only, first two texts: embeddings output then each layer, row-major [T, C]. */
  hidden_states?: number[][];
}

export interface Golden {
  model: 'tiny' | 'minilm';
  config: Record<string, number | string>;
  checks: Record<string, { first4: number[]; sum: number }>;
  texts: GoldenText[];
}

export function loadGolden(name: 'tiny' | 'minilm'): Golden {
  return JSON.parse(readFileSync(new URL(`../fixtures/golden/${name}.json`, import.meta.url), 'utf8')) as Golden;
}

/** Right-pads id rows into one batch (pad id 0, token type 0), as the tokenizer's BatchLongest does. */
export function batchFromIds(rows: number[][]): BatchInputs {
  const seqLen = Math.max(...rows.map((r) => r.length));
  const ids = new Int32Array(rows.length * seqLen);
  const attentionMask = new Uint8Array(rows.length * seqLen);
  rows.forEach((r, b) => {
    ids.set(r, b * seqLen);
    attentionMask.fill(1, b * seqLen, b * seqLen + r.length);
  });
  return { batchSize: rows.length, seqLen, ids, typeIds: new Int32Array(rows.length * seqLen), attentionMask };
}

/** Max |a[i] − b[i]|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
