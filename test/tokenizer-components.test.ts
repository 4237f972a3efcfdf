/**
 * Differential tests of each tokenizer component against Hugging Face `tokenizers` 0.23.2 (its
 * Node binding):
 * - every code point (U+0000..U+10FFFF) through the Oniguruma character classes, the GPT-2
 *   scanner, translated regexes (GPT-2, Llama 3, Qwen 2, XLM-R's Replace ...), NFC/NFD/NFKC/NFKD,
 *   the SentencePiece Precompiled charsmap, Digits and Punctuation, each in several contexts;
 * - random texts through tokenizer.json variants that switch on every option of every component
 *   (Metaspace schemes, ByteLevel options, each Split behavior, BPE and Unigram options, added
 *   token flags, post-processors, truncation strategies, padding).
 */
import { describe, expect, it } from 'vitest';
import { DualbertError } from '../ts/errors.js';
import { Tokenizer } from '../ts/tokenizer/index.js';
import { BertNormalizer, UnicodeFormNormalizer } from '../ts/tokenizer/normalizers.js';
import { Precompiled } from '../ts/tokenizer/precompiled.js';
import { DigitsPreTokenizer, PunctuationPreTokenizer, gpt2Split, type SplitBehavior } from '../ts/tokenizer/pre-tokenizers.js';
import { compilePattern, findMatches } from '../ts/tokenizer/regex.js';
import { onigClass, type OnigClassName } from '../ts/tokenizer/unicode-sets.js';
import { corpusTexts, fixtureText, loadReference, random, randomText, type Reference } from './helpers/hf-tokenizers.js';

const reference = await loadReference('tokenizer component differential tests');
const corpus = corpusTexts();

/** Every code point except surrogates, in blocks. */
function* blocks(size = 0x4000): Generator<number[]> {
  for (let base = 0; base < 0x110000; base += size) {
    const cps: number[] = [];
    for (let cp = base; cp < Math.min(base + size, 0x110000); cp++) if (cp < 0xd800 || cp > 0xdfff) cps.push(cp);
    yield cps;
  }
}

/** A tokenizer.json whose pre-tokenizer is `pre` and whose model makes one token per word. */
function probeJson(preTokenizer: object | null, normalizer: object | null = null): string {
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer,
    pre_tokenizer: preTokenizer,
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab: { '[UNK]': 0 }, unk_token: '[UNK]' },
  });
}

/** Converts our UTF-16 piece boundaries to the reference's code point offsets. */
function codePointOffsets(text: string): Int32Array {
  const map = new Int32Array(text.length + 1);
  let cp = 0;
  for (let i = 0; i <= text.length; i++) {
    map[i] = cp;
    if (i < text.length) {
      const c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) map[++i] = cp;
      cp++;
    }
  }
  return map;
}

/** Pieces [start, end) in code points of an Isolated split at `matches` (UTF-16 pairs). */
function isolatedPieces(text: string, matches: number[]): string {
  const at = codePointOffsets(text);
  const pieces: number[][] = [];
  let previous = 0;
  for (let k = 0; k < matches.length; k += 2) {
    if (matches[k]! > previous) pieces.push([at[previous]!, at[matches[k]!]!]);
    if (matches[k + 1]! > matches[k]!) pieces.push([at[matches[k]!]!, at[matches[k + 1]!]!]);
    previous = matches[k + 1]!;
  }
  if (previous < text.length) pieces.push([at[previous]!, at[text.length]!]);
  return JSON.stringify(pieces);
}

const REGEXES = [
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", // GPT-2 / RoBERTa / ModernBERT
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", // Llama 3
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", // Qwen 2
  ' {2,}', // XLM-R's Replace
  '\\w+|[^\\w\\s]+',
  '\\d+|\\W+|\\S',
  '\\p{P}++|\\p{S}+|\\p{M}',
  '^\\s*|\\s*$',
  '(?>\\p{L}+)\\p{N}|.',
  '\\bx\\b|[\\h\\-]+',
];

/** One code point of each kind the regexes tell apart, and the characters their literals name. */
function classSamples(): number[] {
  const samples = new Set<number>([0x27, 0x20, 0x0a, 0x0d, 0x09, 0x2d, 0x2f, 0x5f, 0x73, 0x74, 0x72, 0x65, 0x76, 0x6d, 0x6c, 0x64, 0x53, 0x54, 0x4c, 0x17f, 0x212a, 0x78, 0x31, 0x61]);
  const next = random(5);
  for (const name of ['L', 'N', 'P', 'S', 'M', 's', 'w', 'd'] as OnigClassName[]) {
    const r = onigClass(name).ranges;
    for (let k = 0; k < 40; k++) {
      const i = 2 * Math.floor((next() * r.length) / 2);
      samples.add(r[i]! + Math.floor(next() * (r[i + 1]! - r[i]! + 1)));
    }
  }
  for (let k = 0; k < 200; k++) {
    const cp = Math.floor(next() * 0x110000);
    if (cp < 0xd800 || cp > 0xdfff) samples.add(cp);
  }
  return [...samples];
}

describe.skipIf(reference === null)('every code point, against Hugging Face tokenizers', () => {
  const ref = reference!;

  it('Oniguruma classes \\p{L} \\p{N} \\p{P} \\p{S} \\p{M} \\s \\w \\d, their negations, alone and inside brackets', async () => {
    const mismatches: string[] = [];
    // Plain classes: the tables (what every translated pattern and the GPT-2 scanner use) against
    // Oniguruma; bracket forms (unions, negations, the in-bracket \\w): the translated regex.
    const sources: Array<[string, OnigClassName | undefined]> = [
      ['\\p{L}', 'L'],
      ['\\p{N}', 'N'],
      ['\\p{P}', 'P'],
      ['\\p{S}', 'S'],
      ['\\p{M}', 'M'],
      ['\\s', 's'],
      ['\\w', 'w'],
      ['\\d', 'd'],
      ['[\\w]', undefined],
      ['[^\\s\\p{L}\\p{N}]', undefined],
      ['[\\S\\P{L}]', undefined],
    ];
    for (const [source, table] of sources) {
      const probe = ref.Tokenizer.fromString(probeJson({ type: 'Split', pattern: { Regex: source }, behavior: 'Removed', invert: false }));
      const ours = compilePattern({ Regex: source }, 'test');
      for (const cps of blocks(0x8000)) {
        const text = String.fromCodePoint(...cps);
        const kept = new Uint8Array(cps.length);
        for (const [start, end] of (await probe.encode(text, null, { addSpecialTokens: false })).getOffsets()) kept.fill(1, start, end);
        const matched = new Uint8Array(cps.length);
        if (table !== undefined) {
          const set = onigClass(table);
          cps.forEach((cp, i) => (matched[i] = set.has(cp) ? 1 : 0));
        } else {
          const at = codePointOffsets(text);
          const m = findMatches(ours, text);
          for (let k = 0; k < m.length; k += 2) matched.fill(1, at[m[k]!]!, at[m[k + 1]!]!);
        }
        cps.forEach((cp, i) => {
          if (kept[i] === matched[i]) mismatches.push(`${source} U+${cp.toString(16)}`);
        });
      }
    }
    expect(mismatches.slice(0, 20), `${mismatches.length} mismatches`).toEqual([]);
  });

  it('translated regexes and the GPT-2 scanner split like Oniguruma (texts of code points of every class)', async () => {
    // With the classes equal on every code point (above), what is left to check is the patterns'
    // structure: texts mixing a sample of every class with the characters the literals name.
    const samples = classSamples().map((cp) => String.fromCodePoint(cp));
    const next = random(11);
    const texts = Array.from({ length: 2000 }, () => {
      let t = '';
      const n = 1 + Math.floor(next() * 16);
      for (let i = 0; i < n; i++) t += next() < 0.3 ? ["'s", "'LL", "'ſ", '  ', ' \n', '\r\n', "'"][Math.floor(next() * 7)] : samples[Math.floor(next() * samples.length)];
      return t;
    });
    const mismatches: string[] = [];
    for (const [index, source] of REGEXES.entries()) {
      const probe = ref.Tokenizer.fromString(probeJson({ type: 'Split', pattern: { Regex: source }, behavior: 'Isolated', invert: false }));
      const ours = compilePattern({ Regex: source }, 'test');
      const expected = await probe.encodeBatch(texts, { addSpecialTokens: false });
      texts.forEach((text, i) => {
        const want = JSON.stringify(expected[i]!.getOffsets());
        if (isolatedPieces(text, findMatches(ours, text)) !== want) mismatches.push(`${JSON.stringify(source)} ${JSON.stringify(text)}`);
        if (index === 0) {
          const bounds = gpt2Split(text);
          if (isolatedPieces(text, bounds.slice(0, -1).flatMap((b, k) => [b, bounds[k + 1]!])) !== want) mismatches.push(`GPT-2 scanner ${JSON.stringify(text)}`);
        }
      });
    }
    expect(mismatches.slice(0, 20), `${mismatches.length} mismatches`).toEqual([]);
  });

  it('random Oniguruma patterns: refused with UNSUPPORTED_TOKENIZER, or split like Oniguruma', async () => {
    const atoms = ['\\', '\\p{L}', '\\P{N}', '\\p{^S}', '[', ']', '[^', '(', ')', '(?:', '(?i:', '(?>', '(?=', '(?!', '(?<=', '|', '*', '+', '?', '*?', '++', '{1,2}', '{,3}', '{2}', '.', '^', '$', '\\x41', '\\x{1F600}', '\\b', '\\B', 'a', 'Z', '-', '\\s', '\\S', '\\w', '\\W', '\\d', '\\h', '\\A', '\\z', '\\Z', "'", ' ', '😀', '\\-', '\\.', '\\n', '1', 'é'];
    const next = random(2024);
    const texts = ['ab 12 😀 \n x', "It's ÉTÉ 2024!\r\n\tok", '  a--Z__1\u00a0é😀😀 \n\n'];
    const mismatches: string[] = [];
    let compared = 0;
    for (let i = 0; i < 1500; i++) {
      let pattern = '';
      const n = 1 + Math.floor(next() * 7);
      for (let k = 0; k < n; k++) pattern += atoms[Math.floor(next() * atoms.length)];
      let ours: ReturnType<typeof compilePattern> | undefined;
      try {
        ours = compilePattern({ Regex: pattern }, 'test');
      } catch (error) {
        if (!(error instanceof DualbertError)) mismatches.push(`${JSON.stringify(pattern)} threw ${(error as Error).name}`);
        continue;
      }
      let probe: ReturnType<typeof ref.Tokenizer.fromString>;
      try {
        probe = ref.Tokenizer.fromString(probeJson({ type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false }));
      } catch {
        continue; // Oniguruma refuses what JS accepts: nothing to compare
      }
      for (const text of texts) {
        const want = JSON.stringify((await probe.encode(text, null, { addSpecialTokens: false })).getOffsets());
        if (isolatedPieces(text, findMatches(ours, text)) !== want) mismatches.push(`${JSON.stringify(pattern)} on ${JSON.stringify(text)}`);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(1000);
    expect(mismatches.slice(0, 20), `${mismatches.length} mismatches`).toEqual([]);
  });

  it('BertNormalizer: every code point between marks (uncased BERT), random texts and marks it cannot map alone (all 16 option sets)', () => {
    const mismatches: string[] = [];
    const all = { cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: true };
    // After a starter, around marks of lower and higher class: canonical reordering meets the
    // per-code-point map of the fast path here.
    const context = (c: string): string => `a${c}\u0316${c}\u0301 ${c}`;
    const ours = new BertNormalizer(all);
    const theirs = ref.bertNormalizer(all);
    for (const cps of blocks(0x1000)) {
      const text = cps.map((cp) => context(String.fromCodePoint(cp))).join('');
      if (ours.normalize(text) !== theirs.normalizeString(text)) mismatches.push(`block U+${cps[0]!.toString(16)}`);
    }
    // Non-starters that are not Mn survive strip_accents in reordered positions (U+302E Mc 224,
    // U+1D165 Mc 216, U+0F39 Mn 216 next to them).
    const next = random(1808);
    const texts = Array.from({ length: 300 }, () => randomText(next, corpus, 20));
    texts.push('A\u302e\u0301\u0316x', 'É\u{1d165}\u0f39\u0301Ω', 'ﬁ\u0301\u302e\u0316 中\u0301\u302e', '\u302e\u302eA', 'Ạ\u0302\u{1d16d}\u{1d165}');
    for (let bits = 0; bits < 16; bits++) {
      const options = { cleanText: (bits & 1) !== 0, handleChineseChars: (bits & 2) !== 0, stripAccents: (bits & 4) !== 0, lowercase: (bits & 8) !== 0 };
      const oursWith = new BertNormalizer(options);
      const theirsWith = ref.bertNormalizer(options);
      for (const text of texts) if (oursWith.normalize(text) !== theirsWith.normalizeString(text)) mismatches.push(`${bits} ${JSON.stringify(text)}`);
    }
    expect(mismatches.slice(0, 20), `${mismatches.length} mismatches`).toEqual([]);
  });

  it('NFC, NFKC and NFKD with the reference Unicode 9.0 data, every code point in context', () => {
    const mismatches: string[] = [];
    const forms = [
      ['NFC', ref.nfcNormalizer()],
      ['NFKC', ref.nfkcNormalizer()],
      ['NFKD', ref.nfkdNormalizer()],
    ] as const;
    // After a starter, before marks of lower and higher class (Hangul composition is in the random texts).
    const context = (c: string): string => `a${c}\u0316${c}\u0301`;
    for (const [form, theirs] of forms) {
      const ours = new UnicodeFormNormalizer(form);
      for (const cps of blocks(0x1000)) {
        const text = cps.map((cp) => context(String.fromCodePoint(cp))).join('');
        if (ours.normalize(text) === theirs.normalizeString(text)) continue;
        for (const cp of cps) {
          const t = context(String.fromCodePoint(cp));
          if (ours.normalize(t) !== theirs.normalizeString(t)) mismatches.push(`${form} U+${cp.toString(16)}`);
        }
      }
    }
    expect(mismatches.slice(0, 20), `${mismatches.length} mismatches`).toEqual([]);
  });

  it('the Precompiled charsmap of the XLM-R fixture (nmt_nfkc): every code point, grapheme clusters', () => {
    const json = JSON.parse(fixtureText('tokenizers/models/xlmr-st6/tokenizer.json')) as { normalizer: { normalizers: Array<{ precompiled_charsmap?: string }> } };
    const charsmap = json.normalizer.normalizers[0]!.precompiled_charsmap!;
    const theirs = ref.precompiled([...Buffer.from(charsmap, 'base64')]);
    const ours = Precompiled.fromBase64(charsmap);
    const mismatches: string[] = [];
    // Alone, after a letter (a cluster when it is a mark: replaced whole if < 6 bytes), before a
    // mark, after U+00A0 (which has a rule: its cluster is replaced whole).
    const context = (c: string): string => `${c}a${c}\u0301\u00a0${c} `;
    for (const cps of blocks(0x1000)) {
      const text = cps.map((cp) => context(String.fromCodePoint(cp))).join('');
      if (ours.normalize(text) !== theirs.normalizeString(text)) mismatches.push(`block U+${cps[0]!.toString(16)}`);
    }
    const next = random(99);
    for (let i = 0; i < 1000; i++) {
      const text = randomText(next, corpus, 20);
      if (ours.normalize(text) !== theirs.normalizeString(text)) mismatches.push(JSON.stringify(text));
    }
    expect(mismatches.slice(0, 20), `${mismatches.length} mismatches`).toEqual([]);
  });

  it('Digits (char::is_numeric) and Punctuation: every code point, and every behavior on random texts', () => {
    const mismatches: string[] = [];
    const cases: Array<[string, { preTokenizeString(t: string): Array<[string, unknown]> }, { split(t: string, out: string[]): unknown }]> = [
      ['Digits', ref.digitsPreTokenizer(false), new DigitsPreTokenizer(false)],
      ['Digits individual', ref.digitsPreTokenizer(true), new DigitsPreTokenizer(true)],
    ];
    for (const b of ['Isolated', 'Removed', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'] as SplitBehavior[]) {
      cases.push([`Punctuation ${b}`, ref.punctuationPreTokenizer(b[0]!.toLowerCase() + b.slice(1)), new PunctuationPreTokenizer(b)]);
    }
    const same = (name: string, theirs: (typeof cases)[number][1], ours: (typeof cases)[number][2], text: string): void => {
      const words: string[] = [];
      ours.split(text, words);
      if (JSON.stringify(theirs.preTokenizeString(text).map((w) => w[0])) !== JSON.stringify(words)) mismatches.push(`${name} ${JSON.stringify(text).slice(0, 80)}`);
    };
    // Every code point between 'x's (alone when it is a delimiter, merged with them when not):
    // individual digits and isolated punctuation decide the two character sets.
    for (const [name, theirs, ours] of [cases[1]!, cases[2]!]) {
      for (const cps of blocks(0x8000)) same(name, theirs, ours, cps.map((cp) => `x${String.fromCodePoint(cp)}`).join(''));
    }
    const next = random(3);
    for (let i = 0; i < 300; i++) {
      const text = randomText(next, corpus) + ' 12,3 ½.5 ٣٣!?';
      for (const [name, theirs, ours] of cases) same(name, theirs, ours, text);
    }
    expect(mismatches.slice(0, 20), `${mismatches.length} mismatches`).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// tokenizer.json variants

type Json = Record<string, unknown>;
const base = (path: string): Json => JSON.parse(fixtureText(path)) as Json;
const roberta = base('tokenizers/models/roberta-st6/tokenizer.json');
const unigram = base('tokenizers/unigram-metaspace.json');
const xlmr = base('tokenizers/models/xlmr-st6/tokenizer.json');
const bert = base('tokenizers/models/bert-st6/tokenizer.json');
const template = (cls: string, sep: string, ids: [number, number]): Json => ({
  type: 'TemplateProcessing',
  single: [{ SpecialToken: { id: cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } }],
  pair: [{ SpecialToken: { id: cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: sep, type_id: 1 } }],
  special_tokens: { [cls]: { id: cls, ids: [ids[0]], tokens: [cls] }, [sep]: { id: sep, ids: [ids[1]], tokens: [sep] } },
});
const robertaTemplate = template('<s>', '</s>', [0, 2]);
const split = (regex: string | { String: string }, behavior: SplitBehavior, invert = false): Json => ({
  type: 'Split',
  pattern: typeof regex === 'string' ? { Regex: regex } : regex,
  behavior,
  invert,
});
const byteLevel = (o: Json = {}): Json => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true, ...o });
const metaspace = (o: Json = {}): Json => ({ type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true, ...o });

/** Unigram vocabulary with the 256 byte pieces added (for byte_fallback). */
function withBytePieces(json: Json): Json {
  const model = json.model as { vocab: Array<[string, number]> };
  const bytes = Array.from({ length: 256 }, (_, b): [string, number] => [`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, -20]);
  return { ...json, model: { ...model, vocab: [...model.vocab, ...bytes], byte_fallback: true } };
}

/** BPE vocabulary with the 256 byte tokens added (for byte_fallback). */
function bpeWithBytes(json: Json, options: Json): Json {
  const model = json.model as { vocab: Record<string, number> };
  const vocab = { ...model.vocab };
  let next = Object.keys(vocab).length + 10;
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = next++;
  return { ...json, model: { ...model, vocab, ...options } };
}

/**
 * A small BPE with a continuing-subword prefix and an end-of-word suffix, built so that every
 * merge is valid: letters, their "##" and "</w>" forms, and merges of random neighbours.
 */
function prefixSuffixBpe(): Json {
  const next = random(4242);
  const vocab: Record<string, number> = { '[UNK]': 0 };
  const add = (t: string): void => {
    vocab[t] ??= Object.keys(vocab).length;
  };
  const letters = 'abcdefghijklmnopqrstuvwxyzéß'.split('');
  for (const c of letters) for (const t of [c, `##${c}`, `${c}</w>`, `##${c}</w>`]) add(t);
  const merges: string[] = [];
  const tokens = () => Object.keys(vocab).filter((t) => t !== '[UNK]');
  for (let i = 0; i < 300; i++) {
    const all = tokens();
    const a = all[Math.floor(next() * all.length)]!;
    const b = all[Math.floor(next() * all.length)]!;
    if (a.endsWith('</w>') || !b.startsWith('##')) continue;
    merges.push(`${a} ${b}`);
    add(a + b.slice(2));
  }
  return {
    ...bert,
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Whitespace' },
    model: { type: 'BPE', dropout: null, unk_token: '[UNK]', continuing_subword_prefix: '##', end_of_word_suffix: '</w>', fuse_unk: true, byte_fallback: false, ignore_merges: false, vocab, merges },
    added_tokens: [],
    post_processor: null,
  };
}

const addedTokens = (json: Json, tokens: Json[]): Json => ({
  ...json,
  added_tokens: [...(json.added_tokens as Json[]), ...tokens.map((t, i) => ({ id: 100_000 + i, single_word: false, lstrip: false, rstrip: false, normalized: true, special: false, ...t }))],
});

const VARIANTS: Record<string, Json> = {
  // Metaspace
  'Metaspace always, no split': { ...unigram, pre_tokenizer: metaspace({ split: false }) },
  'Metaspace never': { ...unigram, pre_tokenizer: metaspace({ prepend_scheme: 'never' }) },
  'Metaspace first after WhitespaceSplit': { ...unigram, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, metaspace({ prepend_scheme: 'first' })] } },
  'Metaspace first, Strip both sides': { ...unigram, normalizer: { type: 'Strip', strip_left: true, strip_right: true } },
  'Metaspace first, no normalizer, added tokens': addedTokens({ ...unigram, normalizer: null }, [{ content: '<mask>', lstrip: true, normalized: false, special: true }, { content: 'the', single_word: true }]),
  'XLM-R old style: WhitespaceSplit + Metaspace': { ...xlmr, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, metaspace()] } },
  // Unigram options
  'Unigram byte_fallback': withBytePieces(unigram),
  'Unigram XLM-R byte_fallback, Nmt + NFKC': { ...withBytePieces(xlmr), normalizer: { type: 'Sequence', normalizers: [{ type: 'Nmt' }, { type: 'NFKC' }] } },
  // ByteLevel and BPE options
  'ByteLevel add_prefix_space': { ...roberta, pre_tokenizer: byteLevel({ add_prefix_space: true }) },
  'Llama 3 Split + ByteLevel without regex': { ...roberta, pre_tokenizer: { type: 'Sequence', pretokenizers: [split(REGEXES[1]!, 'Isolated'), byteLevel({ use_regex: false })] } },
  'Qwen 2 Split + ByteLevel, NFC, Sequence post-processor': {
    ...roberta,
    normalizer: { type: 'NFC' },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [split(REGEXES[2]!, 'Isolated'), byteLevel({ use_regex: false })] },
    post_processor: { type: 'Sequence', processors: [{ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true }, robertaTemplate] },
  },
  'ByteLevel normalizer + Metaspace-free BPE': { ...roberta, normalizer: { type: 'ByteLevel' }, pre_tokenizer: { type: 'Whitespace' } },
  'BPE ignore_merges': { ...roberta, model: { ...(roberta.model as Json), ignore_merges: true } },
  'BPE unk, fuse_unk, no byte level': { ...roberta, pre_tokenizer: { type: 'WhitespaceSplit' }, model: { ...(roberta.model as Json), unk_token: '<unk>', fuse_unk: true } },
  'BPE unk, no fuse': { ...roberta, pre_tokenizer: { type: 'Whitespace' }, model: { ...(roberta.model as Json), unk_token: '<unk>', fuse_unk: false } },
  'BPE byte_fallback and unk': bpeWithBytes({ ...roberta, pre_tokenizer: { type: 'WhitespaceSplit' } }, { unk_token: '<unk>', byte_fallback: true }),
  'BPE continuing_subword_prefix + end_of_word_suffix': prefixSuffixBpe(),
  'BPE merges as pairs': { ...roberta, model: { ...(roberta.model as Json), merges: ((roberta.model as Json).merges as string[]).map((m) => (typeof m === 'string' ? m.split(' ') : m)) } },
  // Split behaviors, literal and regex, inverted or not; other pre-tokenizers
  ...Object.fromEntries(
    (['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'] as SplitBehavior[]).flatMap((b) => [
      [`Split regex ${b}`, { ...unigram, pre_tokenizer: { type: 'Sequence', pretokenizers: [split('\\s+|\\p{P}', b), metaspace()] } }],
      [`Split regex ${b} inverted`, { ...unigram, pre_tokenizer: { type: 'Sequence', pretokenizers: [split('\\p{L}+', b, true), metaspace()] } }],
      [`Split literal ${b}`, { ...roberta, pre_tokenizer: { type: 'Sequence', pretokenizers: [split({ String: 'e' }, b), byteLevel({ use_regex: false })] } }],
      [`Punctuation ${b}`, { ...xlmr, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Punctuation', behavior: b }, metaspace()] } }],
    ]),
  ),
  'Digits + Whitespace': { ...unigram, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: false }, { type: 'Whitespace' }, metaspace()] } },
  'Digits individual + CharDelimiterSplit': { ...unigram, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, { type: 'CharDelimiterSplit', delimiter: 'a' }, metaspace()] } },
  'FixedLength + BertPreTokenizer': { ...bert, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'BertPreTokenizer' }, { type: 'FixedLength', length: 3 }] } },
  // Normalizers
  'NFD + StripAccents + Lowercase': { ...unigram, normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }, { type: 'Lowercase' }] } },
  'NFKD + Strip left': { ...unigram, normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKD' }, { type: 'Strip', strip_left: true, strip_right: false }] } },
  'Replace literal + Prepend (Llama 2 style)': { ...unigram, normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '\u2581' }, { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }] }, pre_tokenizer: null },
  'Replace regex (ALBERT style)': { ...xlmr, normalizer: { type: 'Sequence', normalizers: [{ type: 'Replace', pattern: { String: '``' }, content: '"' }, { type: 'Replace', pattern: { Regex: "''|\\s+" }, content: ' ' }, (xlmr.normalizer as { normalizers: Json[] }).normalizers[0]!] } },
  'Precompiled alone, BertNormalizer after': { ...bert, normalizer: { type: 'Sequence', normalizers: [(xlmr.normalizer as { normalizers: Json[] }).normalizers[0]!, { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true }] } },
  // Added tokens
  'added tokens on BPE: lstrip, rstrip, single_word, normalized': addedTokens(roberta, [
    { content: '<mask>', lstrip: true, normalized: false, special: true },
    { content: 'hello', single_word: true },
    { content: ' world', normalized: true, rstrip: true },
    { content: 'ab', lstrip: true, rstrip: true, single_word: true, normalized: false },
    { content: '中文', normalized: true },
  ]),
  'added tokens on Unigram with a Precompiled normalizer': addedTokens(xlmr, [
    { content: 'ﬁ', normalized: true },
    { content: '<sep>', rstrip: true, normalized: false, special: true },
    { content: 'cafe\u0301', normalized: true, single_word: true },
  ]),
  // Post-processors
  'Template on BPE': { ...roberta, post_processor: robertaTemplate },
  'BertProcessing on Unigram': { ...xlmr, post_processor: { type: 'BertProcessing', sep: ['</s>', 2], cls: ['<s>', 0] } },
  'ByteLevel post-processor only': { ...roberta, post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true } },
  'no post-processor': { ...xlmr, post_processor: null },
  // Truncation and padding
  ...Object.fromEntries(
    (['LongestFirst', 'OnlyFirst', 'OnlySecond'] as const).flatMap((strategy) =>
      (['Right', 'Left'] as const).map((direction) => [`truncation ${strategy} ${direction}`, { ...(direction === 'Left' ? xlmr : roberta), truncation: { max_length: 13, strategy, direction, stride: 0 } }]),
    ),
  ),
  'padding to a multiple of 8': { ...roberta, padding: { strategy: 'BatchLongest', direction: 'Left', pad_to_multiple_of: 8, pad_id: 1, pad_type_id: 0, pad_token: '<pad>' } },
};

describe.skipIf(reference === null)('tokenizer.json variants of every component option, on random texts', () => {
  const ref = reference as Reference;

  it.each(Object.entries(VARIANTS))('%s', async (name, json) => {
    const text = JSON.stringify(json);
    const theirs = ref.Tokenizer.fromString(text);
    const ours = Tokenizer.fromTokenizerJson(text);
    const next = random(name.length * 131 + name.charCodeAt(0));
    const mismatches: string[] = [];
    for (const addSpecialTokens of [true, false]) {
      const inputs = Array.from({ length: 150 }, (): [string, string | null] => [randomText(next, corpus), next() < 0.3 ? randomText(next, corpus) : null]);
      let expected: Array<string> | undefined;
      try {
        const encodings = await theirs.encodeBatch(inputs.map(([a, b]): string | [string, string] => (b === null ? a : [a, b])), { addSpecialTokens });
        expected = encodings.map((e) => JSON.stringify([e.getIds(), e.getTokens(), e.getTypeIds(), e.getAttentionMask()]));
      } catch {
        expected = undefined; // one input failed (e.g. an impossible truncation): compare one by one
      }
      for (const [i, [a, b]] of inputs.entries()) {
        let want = expected?.[i];
        if (want === undefined) {
          try {
            const e = await theirs.encode(a, b, { addSpecialTokens });
            want = JSON.stringify([e.getIds(), e.getTokens(), e.getTypeIds(), e.getAttentionMask()]);
          } catch {
            want = 'error';
          }
        }
        let got: string;
        try {
          const o = ours.encode(a, b === null ? { addSpecialTokens } : { pair: b, addSpecialTokens });
          got = JSON.stringify([o.ids, o.tokens, o.typeIds, o.attentionMask]);
        } catch {
          got = 'error';
        }
        if (want !== got) mismatches.push(`${JSON.stringify(a).slice(0, 120)} / ${JSON.stringify(b)?.slice(0, 60)}: ${want.slice(0, 160)} vs ${got.slice(0, 160)}`);
      }
    }
    expect(mismatches.slice(0, 8), `${mismatches.length} mismatches`).toEqual([]);
  });
});
