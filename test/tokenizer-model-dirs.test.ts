/**
 * `dualbert tokenize` on a model directory of each family (saved by sentence-transformers 6 with
 * transformers 5: test/fixtures/tokenizers/PROVENANCE.md), whether or not dualbert runs the
 * model's weights: with truncation it prints the ids sentence-transformers feeds the model
 * (recorded in Python), with --no-truncation those of transformers' tokenizer (a sha256 recorded
 * in Python) and of the `tokenizers` binding live.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModelTokenizer } from '../ts/model/load.js';
import { ROOT, ensureDistBuilt } from './helpers/build.js';
import { corpusTexts, loadReference } from './helpers/hf-tokenizers.js';

const reference = await loadReference('dualbert tokenize on model directories');
const corpus = corpusTexts();
const BIN = join(ROOT, 'bin', 'dualbert.js');
const dirOf = (name: string): string => join(ROOT, 'test/fixtures/tokenizers/models', name);

interface SavedReference {
  max_seq_length: number;
  truncated_ids: number[][];
  full_ids_sha256: string;
}

function tokenize(dir: string, extra: string[]): number[][] {
  const input = corpus.map((text) => JSON.stringify({ text })).join('\n');
  const r = spawnSync(process.execPath, [BIN, 'tokenize', '--model', dir, ...extra], { input, encoding: 'utf8', cwd: ROOT, timeout: 120_000, maxBuffer: 64 << 20 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { ids: number[] }).ids);
}

/** The digest the Python script recorded: ids comma-separated, one text per line. */
const digest = (rows: number[][]): string => createHash('sha256').update(rows.map((ids) => `${ids.join(',')}\n`).join('')).digest('hex');

beforeAll(() => ensureDistBuilt());

describe.each(['roberta-st6', 'modernbert-st6', 'xlmr-st6', 'mpnet-st6', 'bert-st6', 'bert-st5'])('dualbert tokenize --model %s', (name) => {
  const dir = dirOf(name);
  const ref = JSON.parse(gunzipSync(readFileSync(join(dir, 'reference.json.gz'))).toString('utf8')) as SavedReference;

  it('knows the max length sentence-transformers uses', async () => {
    expect((await loadModelTokenizer(dir)).maxLength).toBe(ref.max_seq_length);
  });

  it('prints the truncated ids sentence-transformers gives the model, for every corpus text', () => {
    const rows = tokenize(dir, []);
    expect(rows.length).toBe(corpus.length);
    const bad = rows.map((ids, i) => (JSON.stringify(ids) === JSON.stringify(ref.truncated_ids[i]) ? -1 : i)).filter((i) => i >= 0);
    expect(bad.slice(0, 5), `${bad.length} texts differ`).toEqual([]);
  });

  it('with --no-truncation prints the full ids of transformers (digest) and of tokenizers (live)', async (ctx) => {
    const rows = tokenize(dir, ['--no-truncation']);
    expect(digest(rows)).toBe(ref.full_ids_sha256);
    if (reference === null) return ctx.skip('`tokenizers` cannot be loaded');
    const theirs = reference.Tokenizer.fromString(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    const expected = await theirs.encodeBatch(corpus, { addSpecialTokens: true });
    const bad = rows.map((ids, i) => (JSON.stringify(ids) === JSON.stringify(expected[i]!.getIds()) ? -1 : i)).filter((i) => i >= 0);
    expect(bad.slice(0, 5), `${bad.length} texts differ`).toEqual([]);
    expect(Math.max(...rows.map((ids) => ids.length))).toBeGreaterThan(ref.max_seq_length);
  });
});
