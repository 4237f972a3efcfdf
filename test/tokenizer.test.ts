/**
 * Tokenizer tests against the Hugging Face fixtures: tokenizer.jsonl holds the ids that
 * `tokenizers` produced for 1,016 texts (uncased `ids`, and `cased_ids` with lowercase and
 * strip_accents off), with special tokens and no truncation.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DualbertError } from '../ts/errors.js';
import { Tokenizer } from '../ts/tokenizer/index.js';

const fixture = (path: string): string => readFileSync(fileURLToPath(new URL(`./fixtures/${path}`, import.meta.url)), 'utf8');

interface GoldenRow {
  text: string;
  ids: number[];
  cased_ids: number[];
}

const golden: GoldenRow[] = fixture('golden/tokenizer.jsonl')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as GoldenRow);

const tokenizerJsonText = fixture('all-MiniLM-L6-v2/tokenizer.json');
const tokenizerJson = JSON.parse(tokenizerJsonText) as Record<string, unknown>;
const vocabTxt = fixture('all-MiniLM-L6-v2/vocab.txt');
const tokenizerConfig = JSON.parse(fixture('all-MiniLM-L6-v2/tokenizer_config.json')) as Record<string, unknown>;
const specialTokensMap = JSON.parse(fixture('all-MiniLM-L6-v2/special_tokens_map.json')) as Record<string, unknown>;

const uncased = Tokenizer.fromTokenizerJson(tokenizerJsonText);

/** A copy of the MiniLM tokenizer.json with some sections replaced. */
function modifiedJson(changes: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(tokenizerJson);
  for (const [key, value] of Object.entries(changes)) copy[key] = value;
  return copy;
}

const cased = Tokenizer.fromTokenizerJson(
  modifiedJson({ normalizer: { ...(tokenizerJson.normalizer as object), lowercase: false, strip_accents: false } }),
);

/** Every text whose ids differ, with both id lists, for a readable failure message. */
function mismatches(tokenizer: Tokenizer, expected: (row: GoldenRow) => number[]): string[] {
  const out: string[] = [];
  for (const row of golden) {
    const ids = tokenizer.encode(row.text, { maxLength: null }).ids;
    const want = expected(row);
    if (JSON.stringify(ids) !== JSON.stringify(want)) {
      out.push(`${JSON.stringify(row.text)}\n  got      ${JSON.stringify(ids)}\n  expected ${JSON.stringify(want)}`);
    }
  }
  return out;
}

/** Asserts that `fn` throws a DualbertError with this code and a message matching `pattern`. */
function expectError(fn: () => unknown, code: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DualbertError);
  expect((caught as DualbertError).code).toBe(code);
  expect((caught as DualbertError).message).toMatch(pattern);
}

const idsOf = (text: string, tokenizer = uncased): number[] => tokenizer.encode(text, { maxLength: null }).ids;
const id = (token: string): number => {
  const value = uncased.tokenToId(token);
  if (value === undefined) throw new Error(`test setup: ${token} is not in the vocabulary`);
  return value;
};

describe('golden corpus (Hugging Face tokenizers output)', () => {
  it('has the full corpus', () => {
    expect(golden.length).toBe(1016);
  });

  it('matches `ids` on every text with the uncased tokenizer.json', () => {
    const bad = mismatches(uncased, (row) => row.ids);
    expect(bad, `${bad.length} of ${golden.length} texts differ:\n${bad.join('\n')}`).toEqual([]);
  });

  it('matches `cased_ids` on every text with lowercase and strip_accents turned off', () => {
    const bad = mismatches(cased, (row) => row.cased_ids);
    expect(bad, `${bad.length} of ${golden.length} texts differ:\n${bad.join('\n')}`).toEqual([]);
  });

  it('gives the same ids from vocab.txt + tokenizer_config.json (+ special_tokens_map.json)', () => {
    const fromVocab = Tokenizer.fromVocab(vocabTxt, tokenizerConfig);
    const fromVocabWithMap = Tokenizer.fromVocab(vocabTxt, tokenizerConfig, specialTokensMap);
    const bad = mismatches(fromVocab, (row) => row.ids);
    expect(bad, `${bad.length} of ${golden.length} texts differ:\n${bad.join('\n')}`).toEqual([]);
    const badWithMap = mismatches(fromVocabWithMap, (row) => row.ids);
    expect(badWithMap, badWithMap.join('\n')).toEqual([]);
  });

  it('gives the cased ids from vocab.txt with do_lower_case false', () => {
    const fromVocab = Tokenizer.fromVocab(vocabTxt, { ...tokenizerConfig, do_lower_case: false });
    const bad = mismatches(fromVocab, (row) => row.cased_ids);
    expect(bad, `${bad.length} of ${golden.length} texts differ:\n${bad.join('\n')}`).toEqual([]);
  });

  // Speed is measured by bench/tokenizer.mjs (never in a timed unit test); this checks that a
  // batch from a cold word cache gives each text's own ids, padded.
  it('encodes the corpus as a batch exactly as text by text', () => {
    const fresh = Tokenizer.fromTokenizerJson(tokenizerJsonText); // cold word cache
    const texts = golden.slice(0, 200).map((row) => row.text);
    const batch = fresh.encodeBatch(texts, { maxLength: null });
    expect(batch.batchSize).toBe(texts.length);
    const T = batch.seqLen;
    texts.forEach((text, b) => {
      const ids = uncased.encode(text, { maxLength: null }).ids;
      expect(Array.from(batch.ids.subarray(b * T, b * T + ids.length)), `text ${b}`).toEqual(ids);
      expect(Array.from(batch.attentionMask.subarray(b * T, (b + 1) * T)).reduce((a, m) => a + m, 0)).toBe(ids.length);
    });
  });
});

describe('tokenizer properties', () => {
  it('reports the MiniLM settings from tokenizer.json', () => {
    expect(uncased.vocabSize).toBe(30522);
    expect(uncased.unkId).toBe(100);
    expect(uncased.clsId).toBe(101);
    expect(uncased.sepId).toBe(102);
    expect(uncased.padId).toBe(0);
    expect(uncased.padTypeId).toBe(0);
    expect(uncased.modelMaxLength).toBe(256);
    expect(uncased.numSpecialTokens).toBe(2);
  });

  it('reports the same settings from vocab.txt + tokenizer_config.json', () => {
    const fromVocab = Tokenizer.fromVocab(vocabTxt, tokenizerConfig, specialTokensMap);
    expect(fromVocab.vocabSize).toBe(30522);
    expect([fromVocab.unkId, fromVocab.clsId, fromVocab.sepId, fromVocab.padId]).toEqual([100, 101, 102, 0]);
    expect(fromVocab.modelMaxLength).toBe(256);
    expect(fromVocab.numSpecialTokens).toBe(2);
    const noLimit = Tokenizer.fromVocab(vocabTxt, { ...tokenizerConfig, model_max_length: 1e30, max_length: undefined });
    expect(noLimit.modelMaxLength).toBeUndefined();
  });

  it('maps between ids and tokens', () => {
    expect(uncased.idToToken(101)).toBe('[CLS]');
    expect(uncased.idToToken(7592)).toBe('hello');
    expect(uncased.idToToken(30522)).toBeUndefined();
    expect(uncased.tokenToId('hello')).toBe(7592);
    expect(uncased.tokenToId('[MASK]')).toBe(103);
    expect(uncased.tokenToId('not-a-token')).toBeUndefined();
  });

  it('tokenizes into word pieces without special tokens', () => {
    expect(uncased.tokenize('Hello, tokenization!')).toEqual(['hello', ',', 'token', '##ization', '!']);
    expect(uncased.tokenize('')).toEqual([]);
  });
});

describe('truncation', () => {
  const long = Array.from({ length: 300 }, (_, i) => `word${i % 10}`).join(' ');

  it('truncates to the tokenizer.json default (256) when maxLength is undefined', () => {
    const full = uncased.encode(long, { maxLength: null });
    expect(full.ids.length).toBeGreaterThan(256);
    const truncated = uncased.encode(long);
    expect(truncated.ids.length).toBe(256);
    // Right side: keeps the beginning and still ends with [SEP].
    expect(truncated.ids.slice(0, 255)).toEqual(full.ids.slice(0, 255));
    expect(truncated.ids[255]).toBe(102);
  });

  it('does not truncate vocab.txt tokenizers unless asked', () => {
    const fromVocab = Tokenizer.fromVocab(vocabTxt, tokenizerConfig);
    expect(fromVocab.encode(long).ids.length).toBe(uncased.encode(long, { maxLength: null }).ids.length);
    expect(fromVocab.encode(long, { maxLength: 16 }).ids.length).toBe(16);
  });

  it('counts special tokens in maxLength for a single sequence', () => {
    const e = uncased.encode('one two three four five six', { maxLength: 5 });
    expect(e.ids).toEqual([101, id('one'), id('two'), id('three'), 102]);
    expect(e.tokens).toEqual(['[CLS]', 'one', 'two', 'three', '[SEP]']);
    expect(e.attentionMask).toEqual([1, 1, 1, 1, 1]);
  });

  it('truncates pairs longest-first with the Rust arithmetic', () => {
    const a = 'a b c d'; // 4 tokens
    const b = 'e f g h i j k l'; // 8 tokens
    // 7 + 3 special = 10: the Rust rule gives (3, 4), not the (4, 3) of a one-by-one loop.
    const e = uncased.encode(a, { pair: b, maxLength: 10 });
    expect(e.tokens).toEqual(['[CLS]', 'a', 'b', 'c', '[SEP]', 'e', 'f', 'g', 'h', '[SEP]']);
    expect(e.typeIds).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    // Only the longer one is cut when the shorter fits: 4 + 5.
    const f = uncased.encode(a, { pair: b, maxLength: 12 });
    expect(f.tokens).toEqual(['[CLS]', 'a', 'b', 'c', 'd', '[SEP]', 'e', 'f', 'g', 'h', 'i', '[SEP]']);
    // The first sequence longer: 8 + 2 with max 7 → (5, 2).
    const g = uncased.encode(b, { pair: 'x y', maxLength: 10 });
    expect(g.tokens).toEqual(['[CLS]', 'e', 'f', 'g', 'h', 'i', '[SEP]', 'x', 'y', '[SEP]']);
  });

  it('balances a pair on the lengths Hugging Face sees after its early stop', () => {
    // Expected tokens from Hugging Face tokenizers 0.23.2 with truncation max_length 6 (budget 3).
    // It stops producing a sequence once whole words reach max_length: 'a a a a a eg' counts as
    // 7 (longer than the 6 counted of the b's, so it gets 2), 'a a a a a a a' as 6 (ties: 1).
    const six = Tokenizer.fromTokenizerJson(
      modifiedJson({ truncation: { max_length: 6, strategy: 'LongestFirst', direction: 'Right', stride: 0 } }),
    );
    const b8 = 'b b b b b b b b';
    expect(six.encode('a a a a a eg', { pair: b8 }).tokens).toEqual(['[CLS]', 'a', 'a', '[SEP]', 'b', '[SEP]']);
    expect(six.encode('a a a a a a a', { pair: b8 }).tokens).toEqual(['[CLS]', 'a', '[SEP]', 'b', 'b', '[SEP]']);
    // An added token does not end the count: the word after it is counted too (7 for the b's).
    expect(six.encode('a a a a a eg', { pair: 'b b b b b [UNK] b b' }).tokens).toEqual(['[CLS]', 'a', '[SEP]', 'b', 'b', '[SEP]']);
    // Truncating on the left counts words from the end.
    const sixLeft = Tokenizer.fromTokenizerJson(
      modifiedJson({ truncation: { max_length: 6, strategy: 'LongestFirst', direction: 'Left', stride: 0 } }),
    );
    expect(sixLeft.encode('eg a a a a a', { pair: b8 }).tokens).toEqual(['[CLS]', 'a', 'a', '[SEP]', 'b', '[SEP]']);
  });

  it('lets the early stop decide OnlyFirst / OnlySecond failures like Hugging Face', () => {
    const strategy = (name: string) =>
      Tokenizer.fromTokenizerJson(modifiedJson({ truncation: { max_length: 3, strategy: name, direction: 'Right', stride: 0 } }));
    // The second sequence is cut at 3 by the early stop, so nothing is left to truncate.
    const onlyFirst = strategy('OnlyFirst').encode('', { pair: 'a b c d e', addSpecialTokens: false });
    expect(onlyFirst.tokens).toEqual(['a', 'b', 'c']);
    expect(onlyFirst.typeIds).toEqual([1, 1, 1]);
    // The first sequence is not cut under OnlySecond, and the empty second cannot give 2 tokens.
    expectError(
      () => strategy('OnlySecond').encode('a b c d e', { pair: '', addSpecialTokens: false }),
      'INPUT_TOO_LONG',
      /OnlySecond/,
    );
  });

  it('encodes pairs with type ids 0 / 1 and no truncation when it fits', () => {
    const e = uncased.encode('hello world', { pair: 'second part' });
    expect(e.ids).toEqual([101, 7592, 2088, 102, 2117, 2112, 102]);
    expect(e.typeIds).toEqual([0, 0, 0, 0, 1, 1, 1]);
    const bare = uncased.encode('hello world', { pair: 'second part', addSpecialTokens: false });
    expect(bare.ids).toEqual([7592, 2088, 2117, 2112]);
    expect(bare.typeIds).toEqual([0, 0, 1, 1]);
  });

  it('truncates without special tokens when they are off', () => {
    const e = uncased.encode('one two three four', { addSpecialTokens: false, maxLength: 2 });
    expect(e.tokens).toEqual(['one', 'two']);
  });

  it('rejects a maxLength too small for the special tokens, or malformed', () => {
    expectError(() => uncased.encode('hi', { maxLength: 1 }), 'INVALID_ARGUMENT', /special tokens/);
    expectError(() => uncased.encode('hi', { pair: 'there', maxLength: 2 }), 'INVALID_ARGUMENT', /special tokens/);
    expectError(() => uncased.encode('hi', { maxLength: -1 }), 'INVALID_ARGUMENT', /maxLength/);
    expectError(() => uncased.encode('hi', { maxLength: 2.5 }), 'INVALID_ARGUMENT', /maxLength/);
    expect(uncased.encode('hi', { maxLength: 2 }).ids).toEqual([101, 102]);
  });

  it('honours OnlyFirst and Left from tokenizer.json, with INPUT_TOO_LONG when impossible', () => {
    const onlyFirst = Tokenizer.fromTokenizerJson(
      modifiedJson({ truncation: { max_length: 6, strategy: 'OnlyFirst', direction: 'Left', stride: 0 } }),
    );
    expect(onlyFirst.encode('a b c d', { pair: 'e' }).tokens).toEqual(['[CLS]', 'c', 'd', '[SEP]', 'e', '[SEP]']);
    expectError(() => onlyFirst.encode('a', { pair: 'e f g h' }), 'INPUT_TOO_LONG', /OnlyFirst/);
  });
});

describe('batch padding', () => {
  it('pads to the longest row with pad id, pad type id and a mask', () => {
    const batch = uncased.encodeBatch(['hello world', 'hi', '']);
    expect(batch.batchSize).toBe(3);
    expect(batch.seqLen).toBe(4);
    expect(batch.lengths).toEqual([4, 3, 2]);
    expect(Array.from(batch.ids)).toEqual([101, 7592, 2088, 102, 101, 7632, 102, 0, 101, 102, 0, 0]);
    expect(Array.from(batch.typeIds)).toEqual(new Array(12).fill(0));
    expect(Array.from(batch.attentionMask)).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0]);
    expect(batch.ids).toBeInstanceOf(Int32Array);
    expect(batch.attentionMask).toBeInstanceOf(Uint8Array);
  });

  it('rounds the length up to padToMultipleOf', () => {
    const batch = uncased.encodeBatch(['hello world', 'hi'], { padToMultipleOf: 8 });
    expect(batch.seqLen).toBe(8);
    expect(Array.from(batch.attentionMask.subarray(0, 8))).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    expect(uncased.encodeBatch(['a b c d e f'], { padToMultipleOf: 8 }).seqLen).toBe(8);
    expect(uncased.encodeBatch(['a b c d e f g'], { padToMultipleOf: 8 }).seqLen).toBe(16);
  });

  it('uses the pad id, pad type id and side from tokenizer.json', () => {
    const custom = Tokenizer.fromTokenizerJson(
      modifiedJson({
        padding: { strategy: 'BatchLongest', direction: 'Left', pad_to_multiple_of: null, pad_id: 103, pad_type_id: 3, pad_token: '[MASK]' },
      }),
    );
    expect(custom.padId).toBe(103);
    expect(custom.padTypeId).toBe(3);
    const batch = custom.encodeBatch(['hello world', 'hi']);
    expect(Array.from(batch.ids)).toEqual([101, 7592, 2088, 102, 103, 101, 7632, 102]);
    expect(Array.from(batch.typeIds)).toEqual([0, 0, 0, 0, 3, 0, 0, 0]);
    expect(Array.from(batch.attentionMask)).toEqual([1, 1, 1, 1, 0, 1, 1, 1]);
  });

  it('truncates rows in a batch and handles an empty batch', () => {
    const batch = uncased.encodeBatch(['one two three four five', 'one'], { maxLength: 4 });
    expect(batch.seqLen).toBe(4);
    expect(batch.lengths).toEqual([4, 3]);
    const empty = uncased.encodeBatch([]);
    expect([empty.batchSize, empty.seqLen, empty.ids.length]).toEqual([0, 0, 0]);
  });

  it('matches encode row by row on the corpus', () => {
    const texts = golden.slice(0, 200).map((row) => row.text);
    const batch = uncased.encodeBatch(texts, { maxLength: null });
    texts.forEach((_text, r) => {
      const row = Array.from(batch.ids.subarray(r * batch.seqLen, r * batch.seqLen + batch.lengths[r]!));
      expect(row).toEqual(golden[r]!.ids);
    });
  });
});

describe('special tokens in the text', () => {
  it('matches [SEP] in the raw text but not its lowercase form', () => {
    expect(idsOf('hello [SEP] world')).toEqual([101, 7592, 102, 2088, 102]);
    expect(idsOf('hello [sep] world')).toEqual([101, 7592, 1031, id('sep'), 1033, 2088, 102]);
    expect(idsOf('[CLS][MASK]x[PAD]')).toEqual([101, 101, 103, id('x'), 0, 102]);
    expect(uncased.tokenize('a[UNK]b')).toEqual(['a', '[UNK]', 'b']);
  });

  it('honours lstrip, rstrip, single_word and normalized on added tokens', () => {
    const json = modifiedJson({
      added_tokens: [
        ...(tokenizerJson.added_tokens as object[]),
        { id: 1996, content: 'the', single_word: true, lstrip: true, rstrip: true, normalized: true, special: false },
        { id: 30522, content: 'World', single_word: false, lstrip: true, rstrip: false, normalized: false, special: false },
      ],
    });
    const t = Tokenizer.fromTokenizerJson(json);
    // Expected values produced by Hugging Face tokenizers 0.23.2 with the same file.
    const bare = (text: string) => t.encode(text, { addSpecialTokens: false });
    expect(bare('hello  the  dog').ids).toEqual([7592, 1996, 3899]);
    expect(bare('hello  the  dog').tokens).toEqual(['hello', '  the  ', 'dog']);
    expect(bare('xthe the\u0301 the_ the').ids).toEqual([1060, 10760, 1996, 1996, 1035, 1996]);
    expect(bare('hello   World   x').ids).toEqual([7592, 30522, 1060]);
    expect(bare('hello   World   x').tokens).toEqual(['hello', '   World', 'x']);
    expect(bare('The theWorld').ids).toEqual([1996, 1996, 30522]);
    expect(t.vocabSize).toBe(30523);
    expect(t.idToToken(30522)).toBe('World');
  });
});

describe('normalization and Unicode details', () => {
  it('sends words longer than max_input_chars_per_word (code points) to [UNK]', () => {
    expect(idsOf('a'.repeat(100))).not.toEqual([101, 100, 102]);
    expect(idsOf('a'.repeat(101))).toEqual([101, 100, 102]);
    // 100 astral characters are 200 UTF-16 units but 100 code points: not too long.
    const t = Tokenizer.fromTokenizerJson(
      modifiedJson({ model: { ...(tokenizerJson.model as object), max_input_chars_per_word: 3 } }),
    );
    expect(idsOf('cats', t)).toEqual([101, 100, 102]);
    expect(idsOf('cat', t)).toEqual([101, id('cat'), 102]);
    expect(idsOf('\u{1D400}\u{1D400}\u{1D400}', t)).toEqual([101, 100, 102]);
  });

  it('encodes empty and whitespace-only text as just the special tokens', () => {
    expect(uncased.encode('').ids).toEqual([101, 102]);
    expect(uncased.encode(' \t\n\r\u3000').ids).toEqual([101, 102]);
    expect(uncased.encode('', { addSpecialTokens: false }).ids).toEqual([]);
  });

  it('lowercases per code point: no final sigma, full İ mapping', () => {
    // Expected tokens from Hugging Face tokenizers 0.23.2. A whole-string toLowerCase would turn
    // the final Σ into ς ('οδος' → ο ##δ ##ος); Rust lowercases per char, giving σ.
    expect(uncased.tokenize('ΟΔΟΣ')).toEqual(['ο', '##δ', '##ο', '##σ']);
    expect(uncased.tokenize('οδος')).toEqual(['ο', '##δ', '##ος']);
    // İ → I + U+0307 by NFD, the mark is stripped, then 'i'. Without strip_accents the lowercase
    // 'i\u0307' keeps its dot, and the word is unknown.
    expect(uncased.tokenize('İstanbul')).toEqual(['istanbul']);
    const lowerNoStrip = Tokenizer.fromTokenizerJson(
      modifiedJson({ normalizer: { ...(tokenizerJson.normalizer as object), strip_accents: false } }),
    );
    expect(lowerNoStrip.tokenize('İstanbul')).toEqual(['[UNK]']);
    expect(lowerNoStrip.tokenize('i\u0307stanbul')).toEqual(['[UNK]']);
    expect(lowerNoStrip.tokenize('ΟΔΟΣ')).toEqual(['ο', '##δ', '##ο', '##σ']);
  });

  it('deletes U+FEFF, U+200D and U+0085 under clean_text (they are Cf/Cc, not whitespace)', () => {
    expect(idsOf('hel\ufefflo')).toEqual(idsOf('hello'));
    expect(idsOf('hel\u200dlo')).toEqual(idsOf('hello'));
    expect(idsOf('hel\u0085lo')).toEqual(idsOf('hello'));
    expect(idsOf('hel\u00adlo')).toEqual(idsOf('hello'));
    // U+00A0 and U+2028 are whitespace: they split words.
    expect(idsOf('hel\u00a0lo')).toEqual(idsOf('hel lo'));
    expect(idsOf('hel\u2028lo')).toEqual(idsOf('hel lo'));
  });

  it('keeps U+0085 as a word boundary and U+FEFF inside a word without clean_text', () => {
    const raw = Tokenizer.fromTokenizerJson(
      modifiedJson({ normalizer: { type: 'BertNormalizer', clean_text: false, handle_chinese_chars: true, strip_accents: null, lowercase: true } }),
    );
    expect(raw.tokenize('hel\u0085lo')).toEqual(raw.tokenize('hel lo'));
    expect(raw.tokenize('hello\ufeff')).toEqual(['[UNK]']);
  });

  it('strips combining marks after NFD only when lowercasing', () => {
    expect(uncased.tokenize('cafe\u0301')).toEqual(['cafe']);
    expect(uncased.tokenize('café')).toEqual(['cafe']);
    expect(uncased.tokenize('x\u0301\u0316')).toEqual(['x']);
    expect(cased.tokenize('café')).toEqual(['[UNK]']);
    expect(cased.tokenize('x\u0301\u0316')).toEqual(['[UNK]']);
  });

  it('splits CJK ideographs into single characters but not kana', () => {
    expect(uncased.tokenize('中国人')).toEqual(['中', '国', '人']);
    expect(uncased.tokenize('中文字')).toEqual(['中', '文', '[UNK]']);
    expect(uncased.tokenize('日本語のテキスト')).toEqual(['日', '本', '語', 'の', '##テ', '##キ', '##ス', '##ト']);
    // U+2B820 is in the gap of the Rust ranges: not padded, so it stays with its neighbour.
    expect(uncased.tokenize('a\u{2B820}')).toEqual(['[UNK]']);
    expect(uncased.tokenize('a\u{2A700}')).toEqual(['a', '[UNK]']);
  });

  it('treats emoji as one unknown word and splits punctuation around it', () => {
    expect(uncased.tokenize('I ❤️ NY!')).toEqual(['i', '[UNK]', 'ny', '!']);
    expect(uncased.tokenize('😀👍')).toEqual(['[UNK]']);
  });

  it('turns lone surrogates into U+FFFD, which clean_text deletes', () => {
    expect(idsOf('a\ud800b')).toEqual(idsOf('ab'));
    expect(idsOf('x\udc00')).toEqual(idsOf('x'));
  });

  it('uses Unicode 8.0 categories like the Rust tables: U+08E2 is kept, U+166D is punctuation', () => {
    // U+08E2 became Cf in Unicode 9: JS \p{Cf} deletes it, Hugging Face keeps it (→ [UNK]).
    expect(uncased.tokenize('a\u08e2')).toEqual(['[UNK]']);
    // U+166D was Po until Unicode 12: still punctuation for the Rust pre-tokenizer.
    expect(uncased.tokenize('a\u166db')).toEqual(['a', '[UNK]', 'b']);
  });
});

describe('errors', () => {
  it('names every feature it still refuses', () => {
    const refused = (json: object, pattern: RegExp): void => expectError(() => Tokenizer.fromTokenizerJson(json), 'UNSUPPORTED_TOKENIZER', pattern);
    refused(modifiedJson({ model: { type: 'Tiktoken', vocab: { a: 0 } } }), /model type "Tiktoken"/);
    refused(modifiedJson({ model: { type: 'BPE', vocab: { a: 0 }, merges: [], dropout: 0.1 } }), /model\.dropout 0\.1: BPE dropout/);
    refused(modifiedJson({ normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'Unidecode' }] } }), /normalizer type "Unidecode"/);
    refused(modifiedJson({ pre_tokenizer: { type: 'UnicodeScripts' } }), /pre_tokenizer type "UnicodeScripts"/);
    refused(modifiedJson({ post_processor: { type: 'Sequence', processors: [{ type: 'Ctc' }] } }), /post_processor\.processors\[0\] type "Ctc"|type "Ctc"/);
    // Oniguruma features without a JS equivalent, each named.
    const split = (regex: string): object => modifiedJson({ pre_tokenizer: { type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false } });
    refused(split('\\Ga'), /the escape "\\G"/);
    refused(split('(?x) a'), /the flag group "\(\?x\)"/);
    refused(split('[[:alpha:]]'), /a nested class or POSIX bracket/);
    refused(split('[a-z&&[^aeiou]]'), /class intersection/);
    refused(split('\\p{NoSuchProperty}'), /the property "NoSuchProperty"/);
    refused(split('(?(1)a|b)'), /the group "\(\?\(1"/);
    const replace = modifiedJson({ normalizer: { type: 'Replace', pattern: { Regex: '\\Kx' }, content: '' } });
    expectError(() => Tokenizer.fromTokenizerJson(replace), 'UNSUPPORTED_TOKENIZER', /normalizer\.pattern: regex "\\\\Kx": the escape "\\K"/);
  });

  it('rejects a missing or malformed vocabulary', () => {
    const noVocab = modifiedJson({ model: { type: 'WordPiece', unk_token: '[UNK]' } });
    expectError(() => Tokenizer.fromTokenizerJson(noVocab), 'INVALID_TOKENIZER', /model\.vocab is missing/);
    expectError(() => Tokenizer.fromTokenizerJson(modifiedJson({ model: undefined })), 'INVALID_TOKENIZER', /model is missing/);
    const noUnk = modifiedJson({ model: { type: 'WordPiece', vocab: { a: 0 }, unk_token: '[UNK]' } });
    expectError(() => Tokenizer.fromTokenizerJson(noUnk), 'INVALID_TOKENIZER', /unk_token "\[UNK\]" is not in the vocabulary/);
    const badId = modifiedJson({ model: { type: 'WordPiece', vocab: { '[UNK]': -1 } } });
    expectError(() => Tokenizer.fromTokenizerJson(badId), 'INVALID_TOKENIZER', /non-negative integer/);
    expectError(() => Tokenizer.fromVocab(''), 'INVALID_TOKENIZER', /vocab\.txt is empty/);
    expectError(() => Tokenizer.fromVocab('hello\nworld\n'), 'INVALID_TOKENIZER', /\[UNK\]/);
  });

  it('rejects malformed JSON and malformed fields', () => {
    expectError(() => Tokenizer.fromTokenizerJson('{"model": '), 'INVALID_TOKENIZER', /not valid JSON/);
    expectError(() => Tokenizer.fromTokenizerJson('[1, 2]'), 'INVALID_TOKENIZER', /JSON object/);
    expectError(
      () => Tokenizer.fromTokenizerJson(modifiedJson({ normalizer: { ...(tokenizerJson.normalizer as object), lowercase: 'yes' } })),
      'INVALID_TOKENIZER',
      /normalizer\.lowercase must be a boolean/,
    );
    expectError(
      () => Tokenizer.fromTokenizerJson(modifiedJson({ truncation: { max_length: 'long' } })),
      'INVALID_TOKENIZER',
      /truncation\.max_length/,
    );
    expectError(
      () => Tokenizer.fromTokenizerJson(modifiedJson({ version: '2.0' })),
      'UNSUPPORTED_TOKENIZER',
      /version "2\.0"/,
    );
  });

  it('refuses tokenizer_config classes that are not BERT-style', () => {
    expectError(
      () => Tokenizer.fromVocab(vocabTxt, { ...tokenizerConfig, tokenizer_class: 'MPNetTokenizer' }),
      'UNSUPPORTED_TOKENIZER',
      /MPNetTokenizer/,
    );
  });

  it('rejects bad arguments', () => {
    expectError(() => uncased.encode(42 as unknown as string), 'INVALID_ARGUMENT', /text must be a string/);
    expectError(() => uncased.encode('a', { pair: 7 as unknown as string }), 'INVALID_ARGUMENT', /pair/);
    expectError(() => uncased.encodeBatch('a' as unknown as string[]), 'INVALID_ARGUMENT', /array/);
    expectError(() => uncased.encodeBatch(['a', null as unknown as string]), 'INVALID_ARGUMENT', /texts\[1\]/);
    expectError(() => uncased.encodeBatch(['a'], { padToMultipleOf: 0 }), 'INVALID_ARGUMENT', /padToMultipleOf/);
    expectError(
      () => uncased.encodeBatch(['a'], { pair: 'b' } as unknown as { maxLength: null }),
      'INVALID_ARGUMENT',
      /pair/,
    );
    expectError(() => Tokenizer.fromTokenizerJson(null as unknown as object), 'INVALID_ARGUMENT', /tokenizer\.json/);
  });
});
