/**
 * Differential tests of the tokenizer families against Hugging Face `tokenizers` itself (its Node
 * binding, 0.23.2), on tokenizers trained on our corpus by that library and saved by transformers
 * 5 (test/fixtures/tokenizers/PROVENANCE.md): byte-level BPE (RoBERTa, ModernBERT), Unigram
 * (Metaspace; XLM-R with a SentencePiece Precompiled charsmap), WordPiece (MPNet, BERT).
 *
 * For each: the 1,016 corpus texts (alone and as pairs, without truncation and truncated on the
 * right and on the left) must give the same ids, tokens and type ids; 15,000 random texts per
 * tokenizer, 30,000 per model type (all planes, whitespace runs, emoji, combining marks, RTL,
 * control characters, special-token strings), without and with truncation, the same ids.
 */
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../ts/tokenizer/index.js';
import { corpusTexts, fixtureText, loadReference, random, randomText, type ReferenceTokenizer } from './helpers/hf-tokenizers.js';

const reference = await loadReference('tokenizer family differential tests');
const corpus = corpusTexts();

const FAMILIES: Array<[name: string, path: string]> = [
  ['BPE byte-level, RobertaProcessing (RoBERTa)', 'tokenizers/models/roberta-st6/tokenizer.json'],
  ['BPE byte-level, NFC, template (ModernBERT)', 'tokenizers/models/modernbert-st6/tokenizer.json'],
  ['Unigram, NFKC + Replace + Strip, Metaspace first', 'tokenizers/unigram-metaspace.json'],
  ['Unigram, Precompiled charsmap, Metaspace (XLM-R)', 'tokenizers/models/xlmr-st6/tokenizer.json'],
  ['WordPiece, RobertaProcessing (MPNet)', 'tokenizers/models/mpnet-st6/tokenizer.json'],
  ['WordPiece, template (BERT)', 'tokenizers/models/bert-st6/tokenizer.json'],
];

/** Per tokenizer: two tokenizers of each type make 30,000 random texts per type. */
const RANDOM_TEXTS = 15_000;
const BATCH = 500;

/** The same tokenizer.json with a truncation section (or none). */
function withTruncation(json: string, truncation: object | null): string {
  return JSON.stringify({ ...(JSON.parse(json) as object), truncation });
}

/** Compares our encodings of `texts` (and optional pairs) with the reference's; returns the mismatches. */
async function compare(
  theirs: ReferenceTokenizer,
  ours: Tokenizer,
  texts: readonly string[],
  pairs: ReadonlyArray<string | null> | null,
  label: string,
  compareTokens: boolean,
): Promise<string[]> {
  const mismatches: string[] = [];
  for (let start = 0; start < texts.length; start += BATCH) {
    const chunk = texts.slice(start, start + BATCH);
    const expected = pairs === null ? await theirs.encodeBatch(chunk, { addSpecialTokens: true }) : await Promise.all(chunk.map((t, i) => theirs.encode(t, pairs[start + i] ?? null, { addSpecialTokens: true })));
    chunk.forEach((text, i) => {
      const e = expected[i]!;
      const pair = pairs?.[start + i] ?? undefined;
      const o = ours.encode(text, pair === undefined ? undefined : { pair });
      const want = e.getIds();
      if (want.length === o.ids.length && want.every((id, k) => id === o.ids[k])) {
        if (!compareTokens || JSON.stringify([e.getTokens(), e.getTypeIds()]) === JSON.stringify([o.tokens, o.typeIds])) return;
      }
      mismatches.push(`${label} ${JSON.stringify(text).slice(0, 160)}${pair === undefined ? '' : ` / ${JSON.stringify(pair).slice(0, 80)}`}: want ${JSON.stringify(want).slice(0, 200)} got ${JSON.stringify(o.ids).slice(0, 200)}`);
    });
  }
  return mismatches;
}

describe.skipIf(reference === null).each(FAMILIES)('%s: against Hugging Face tokenizers', (_name, path) => {
  const ref = reference!;
  const json = fixtureText(path);
  const variants: Array<[label: string, truncation: object | null]> = [
    ['no truncation', null],
    ['truncation 20 right', { max_length: 20, strategy: 'LongestFirst', direction: 'Right', stride: 0 }],
    ['truncation 11 left', { max_length: 11, strategy: 'LongestFirst', direction: 'Left', stride: 0 }],
  ];

  it('encodes the corpus identically, alone and in pairs, with and without truncation', async () => {
    const next = random(7);
    const pairs = corpus.map(() => (next() < 0.5 ? corpus[Math.floor(next() * corpus.length)]! : null));
    const mismatches: string[] = [];
    for (const [label, truncation] of variants) {
      const text = withTruncation(json, truncation);
      const theirs = ref.Tokenizer.fromString(text);
      const ours = Tokenizer.fromTokenizerJson(text);
      mismatches.push(...(await compare(theirs, ours, corpus, null, label, true)));
      mismatches.push(...(await compare(theirs, ours, corpus, pairs, `${label} (pairs)`, true)));
    }
    expect(mismatches.slice(0, 10), `${mismatches.length} mismatches`).toEqual([]);
  });

  it(`encodes ${RANDOM_TEXTS.toLocaleString('en')} random texts identically, with and without truncation`, async () => {
    const next = random(path.length * 7919);
    const texts = Array.from({ length: RANDOM_TEXTS }, () => randomText(next, corpus));
    const mismatches: string[] = [];
    for (const [label, truncation] of variants.slice(0, 2)) {
      const text = withTruncation(json, truncation);
      // Ids only here (tokens and type ids are compared on the corpus): keeps the test fast.
      mismatches.push(...(await compare(ref.Tokenizer.fromString(text), Tokenizer.fromTokenizerJson(text), texts, null, label, false)));
    }
    expect(mismatches.slice(0, 10), `${mismatches.length} mismatches`).toEqual([]);
  });
});
