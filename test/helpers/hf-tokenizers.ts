/**
 * The reference for tokenizer tests: Hugging Face `tokenizers` (Rust) through its Node binding,
 * a dev dependency (0.23.2), plus a seeded generator of hostile random texts. Where the binding
 * cannot be loaded the tests skip locally with a message and fail under CI=true.
 */
import { readFileSync } from 'node:fs';
import { isCI } from './ci.js';

/** The parts of the binding the tests use. */
export interface ReferenceEncoding {
  getIds(): number[];
  getTypeIds(): number[];
  getTokens(): string[];
  getAttentionMask(): number[];
  getOffsets(): Array<[number, number]>;
}
export interface ReferenceTokenizer {
  encode(text: string, pair: string | null, options: { addSpecialTokens: boolean }): Promise<ReferenceEncoding>;
  encodeBatch(texts: Array<string | [string, string]>, options: { addSpecialTokens: boolean }): Promise<ReferenceEncoding[]>;
}
export interface ReferenceNormalizer {
  normalizeString(text: string): string;
}
export interface ReferencePreTokenizer {
  preTokenizeString(text: string): Array<[string, [number, number]]>;
}
export interface Reference {
  Tokenizer: { fromString(json: string): ReferenceTokenizer };
  bertNormalizer(options: { cleanText: boolean; handleChineseChars: boolean; stripAccents: boolean; lowercase: boolean }): ReferenceNormalizer;
  nfcNormalizer(): ReferenceNormalizer;
  nfdNormalizer(): ReferenceNormalizer;
  nfkcNormalizer(): ReferenceNormalizer;
  nfkdNormalizer(): ReferenceNormalizer;
  precompiled(bytes: number[]): ReferenceNormalizer;
  digitsPreTokenizer(individualDigits?: boolean): ReferencePreTokenizer;
  punctuationPreTokenizer(behavior?: string): ReferencePreTokenizer;
}

const REFERENCE_PACKAGE = 'tokenizers'; // a variable, so that TypeScript does not resolve it

/** The binding, or null (after a warning, or an error under CI=true). */
export async function loadReference(what: string): Promise<Reference | null> {
  const reference = (await import(REFERENCE_PACKAGE).then(
    (m: { default?: Reference } & Reference) => m.default ?? m,
    () => null,
  )) as Reference | null;
  if (reference === null) {
    if (isCI) throw new Error('[CI] the tokenizer reference `tokenizers` (a dev dependency) cannot be loaded');
    console.warn(`[SKIPPED] ${what}: \`tokenizers\` cannot be loaded (npm install)`);
  }
  return reference;
}

/** A fixture file's text. */
export const fixtureText = (path: string): string => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');

/** The 1,016 corpus texts. */
export const corpusTexts = (): string[] =>
  fixtureText('corpus-texts.jsonl')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { text: string }).text);

/** Deterministic pseudo-random numbers in [0, 1), so that a failure can be replayed. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WHITESPACE = [' ', '  ', '   ', '\t', '\n', '\r\n', '\r', '\u000b', '\u000c', '\u0085', '\u00a0', '\u1680', '\u2000', '\u2007', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\u180e', '\u200b', '\ufeff'];
const CONTROLS = ['\u0000', '\u0001', '\u0007', '\u001b', '\u001f', '\u007f', '\u0080', '\u008f', '\u009f', '\u00ad', '\u200c', '\u200d', '\u200e', '\u200f', '\u202a', '\u202e', '\u2066', '\u2069', '\ufffd', '\ufff9', '\u{e0001}', '\u{e0041}'];
const MARKS = ['\u0300', '\u0301', '\u0308', '\u0316', '\u0327', '\u0334', '\u0345', '\u05b0', '\u0651', '\u093c', '\u094d', '\u0e48', '\u1abf', '\u1dce', '\u20dd', '\u3099', '\ufe0f', '\ufe0e', '\u{1d165}', '\u{e0100}'];
const EMOJI = ['😀', '👍🏽', '👨‍👩‍👧', '🇫🇷', '🇺🇸🇯', '❤️', '☺', '©', '#️⃣', '🏳️‍🌈', '🧑🏿‍💻', '\u{1fae0}', '\u{1f9cc}'];
const RTL = ['שלום', 'עִבְרִית', 'مرحبا', 'الْعَرَبِيَّة', '\u0600١٢٣', '\u200f', '\u202b', 'ܫܠܡܐ', 'ދިވެހި', '\u06dd٣'];
const WORDS = ['the', 'The', 'THE', 'hello', 'World', "don't", "I'm", "'s", "'S", "'ll", "'LL", "'re", "'ve", "'m", "'d", "'t", "'ſ", 'café', 'cafe\u0301', 'İstanbul', 'ΟΔΟΣ', 'straße', 'ﬁne', 'Ⅻ', '½', '²', '①', '１２３', 'ｶﾞ', 'ﾊﾟ', '中文', '日本語', 'ひらがな', '한국어', '\u1100\u1161\u11a8', 'ภาษาไทย', 'हिन्दी', 'Ελληνικά', 'Русский', 'e.g.', '1,234.5', '3.14', '007', 'x²', 'http://a.b/c?d=e', '<s>', '</s>', '<pad>', '<unk>', '<mask>', '[CLS]', '[SEP]', '[MASK]', '[UNK]', '[PAD]', '<cls>', '<sep>', '|||IP_ADDRESS|||', '<|endoftext|>', '<|padding|>', '▁', '▁▁', 'Ġ', '##', '...', '!!!', '—', '“quoted”', '(paren)', '$100', '€20', '¥', '@user', '#tag', '_under_', 'a-b', 'ŉ', 'ǅ', 'Ω', 'K', 'Å', 'ﬀ', '㍱', '…', '⁉', '〜', '\u{10400}', '\u{1d400}', '\u{20000}', '\u{2f800}'];

/** A random code point from anywhere in U+0000..U+10FFFF (no surrogates), weighted to all planes. */
function randomCodePoint(next: () => number): number {
  const r = next();
  let cp: number;
  if (r < 0.45) cp = Math.floor(next() * 0x10000);
  else if (r < 0.7) cp = 0x10000 + Math.floor(next() * 0x10000); // SMP: emoji, scripts, math
  else if (r < 0.85) cp = 0x20000 + Math.floor(next() * 0x20000); // SIP, TIP: CJK extensions
  else if (r < 0.92) cp = 0xe0000 + Math.floor(next() * 0x1000); // tags, variation selectors
  else cp = Math.floor(next() * 0x110000); // anything, private use planes included
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
  return cp;
}

/**
 * A random text: pieces of the corpus, words of many scripts, whitespace runs, emoji sequences,
 * combining marks, RTL, control characters, special-token strings and random code points of all
 * planes, glued with or without spaces.
 * @example const next = random(1); randomText(next, corpus)
 */
export function randomText(next: () => number, corpus: readonly string[], maxPieces = 14): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  if (next() < 0.08) {
    const text = pick(corpus);
    const start = Math.floor(next() * text.length);
    return text.slice(start, start + Math.floor(next() * 300));
  }
  let s = '';
  const n = 1 + Math.floor(next() * maxPieces);
  for (let i = 0; i < n; i++) {
    const r = next();
    if (r < 0.3) s += pick(WORDS);
    else if (r < 0.45) s += pick(WHITESPACE);
    else if (r < 0.52) s += pick(MARKS);
    else if (r < 0.58) s += pick(CONTROLS);
    else if (r < 0.64) s += pick(EMOJI);
    else if (r < 0.7) s += pick(RTL);
    else if (r < 0.8) {
      const count = 1 + Math.floor(next() * 3);
      for (let k = 0; k < count; k++) s += String.fromCodePoint(randomCodePoint(next));
    } else if (r < 0.9) {
      const text = pick(corpus);
      const start = Math.floor(next() * text.length);
      s += text.slice(start, start + 1 + Math.floor(next() * 40));
    } else s += String.fromCharCode(0x20 + Math.floor(next() * 0x5f)); // printable ASCII
    if (next() < 0.35) s += ' ';
  }
  return s;
}
