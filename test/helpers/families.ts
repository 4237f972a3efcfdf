/**
 * The encoder-family fixtures (test/fixtures/families/, see PROVENANCE.md there): float64 outputs
 * of transformers' own classes for tiny models of each family, and real-shaped goldens whose
 * weights come from the recipe of test/helpers/recipe.ts.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { BatchInputs } from '../../ts/graph/ops.js';

/** One golden case: id rows (right-padded with pad_id into one batch) and what transformers computed. */
export interface FamilyCase {
  name: string;
  input_ids: number[][];
  pad_id: number;
  /** Per sequence, its real token rows [len][C]; null where transformers produced NaN (see PROVENANCE.md). */
  last_hidden_state: (number | null)[][][];
  /** Masked mean of last_hidden_state, [B][C]. */
  mean: (number | null)[][];
  /** First case only: embeddings output, then each layer's output, rows of sequence 0. */
  hidden_states?: number[][][];
}

export interface FamilyGolden {
  class: string;
  attn_implementation: string;
  config: Record<string, unknown>;
  parameters: [string, number[]][];
  attention_max_weight_per_layer: number[] | string;
  cases: FamilyCase[];
  /** MPNet: transformers' bucket of every offset from offsets_from. */
  buckets?: { offsets_from: number; num_buckets: number; max_distance: number; values: number[] };
}

export const FAMILY_FIXTURES = new URL('../fixtures/families/', import.meta.url);

/** Reads a gzipped JSON fixture; Python's `NaN` tokens become null. */
export function readGzJson<T>(path: URL): T {
  const text = gunzipSync(readFileSync(path)).toString('utf8');
  return JSON.parse(text.replace(/\bNaN\b/g, 'null')) as T;
}

/** The golden of a tiny family model (`roberta`, `mpnet`, `modernbert`...). */
export function loadFamilyGolden(name: string): FamilyGolden {
  return readGzJson<FamilyGolden>(new URL(`${name}/golden.json.gz`, FAMILY_FIXTURES));
}

/** The directory of a tiny family model. */
export function familyDir(name: string): string {
  return new URL(`${name}/`, FAMILY_FIXTURES).pathname;
}

/** Right-pads id rows with `padId` into one batch (token types 0), as the embedder does. */
export function batchOfRows(rows: number[][], padId: number): BatchInputs {
  const seqLen = Math.max(...rows.map((r) => r.length));
  const ids = new Int32Array(rows.length * seqLen).fill(padId);
  const attentionMask = new Uint8Array(rows.length * seqLen);
  rows.forEach((r, b) => {
    ids.set(r, b * seqLen);
    attentionMask.fill(1, b * seqLen, b * seqLen + r.length);
  });
  return { batchSize: rows.length, seqLen, ids, typeIds: new Int32Array(rows.length * seqLen), attentionMask };
}

/**
 * Max |got − want| over the real token rows of every sequence whose golden is finite; `got` is
 * [B·T, C]. Returns the difference and how many rows were compared.
 */
export function compareRows(got: ArrayLike<number>, c: FamilyCase, seqLen: number, C: number): { maxAbs: number; rows: number } {
  let maxAbs = 0;
  let rows = 0;
  c.last_hidden_state.forEach((seq, b) => {
    if (seq.some((row) => row.some((v) => v === null))) return;
    seq.forEach((row, t) => {
      rows++;
      for (let k = 0; k < C; k++) maxAbs = Math.max(maxAbs, Math.abs(got[(b * seqLen + t) * C + k]! - (row[k] as number)));
    });
  });
  return { maxAbs, rows };
}

/**
 * A word-level tokenizer.json over a tiny model's vocabulary (the fixtures have none: their
 * goldens are over ids): token `w<i>` is id i, the pad token sits at the model's pad id, texts
 * split on whitespace. It lets loadModel and createEmbedder open the fixture directories.
 */
export function wordLevelTokenizer(vocabSize: number, padId: number): string {
  const vocab: Record<string, number> = {};
  for (let i = 0; i < vocabSize; i++) vocab[i === padId ? '<pad>' : `w${i}`] = i;
  const unk = padId === 3 ? 'w4' : 'w3';
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: { strategy: 'BatchLongest', direction: 'Right', pad_to_multiple_of: null, pad_id: padId, pad_type_id: 0, pad_token: '<pad>' },
    added_tokens: [{ id: padId, content: '<pad>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab, unk_token: unk },
  });
}

/**
 * A loadable copy of a tiny family model in a temporary directory: its config.json, its weights
 * (`weights`: the safetensors file, the ONNX export, or both) and a word-level tokenizer.
 * `edit` may rewrite config.json. Returns the directory.
 */
export function familyModelDir(
  name: string,
  options: { weights?: 'safetensors' | 'onnx'; edit?: (config: Record<string, unknown>) => void; dirs?: string[] } = {},
): string {
  const from = familyDir(name);
  const dir = mkdtempSync(join(tmpdir(), `dualbert-${name}-`));
  options.dirs?.push(dir);
  const config = JSON.parse(readFileSync(join(from, 'config.json'), 'utf8')) as Record<string, unknown>;
  options.edit?.(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  if ((options.weights ?? 'safetensors') === 'safetensors') copyFileSync(join(from, 'model.safetensors'), join(dir, 'model.safetensors'));
  else {
    mkdirSync(join(dir, 'onnx'));
    copyFileSync(join(from, 'onnx', 'model.onnx'), join(dir, 'onnx', 'model.onnx'));
  }
  writeFileSync(join(dir, 'tokenizer.json'), wordLevelTokenizer(config['vocab_size'] as number, (config['pad_token_id'] as number | undefined) ?? 0));
  return dir;
}
