/**
 * Character-level checks of the tokenizer's Unicode handling. Every expected value below was
 * produced by Hugging Face `tokenizers` 0.23.2 (its BertNormalizer, NFD, Lowercase, StripAccents,
 * BertPreTokenizer and Whitespace pre-tokenizer, one code point at a time). The code points are
 * the ones where a naive JS implementation goes wrong: JS `\s` vs Rust whitespace, characters
 * whose category changed after Unicode 8.0 (the Rust tables' version) or that were added after
 * Unicode 9.0 (its NFD tables' version), context-free lowercasing, and the Rust CJK ranges.
 */
import { describe, expect, it } from 'vitest';
import { BertNormalizer, LowercaseNormalizer, NfdNormalizer, StripAccentsNormalizer } from '../ts/tokenizer/normalizers.js';
import { BertPreTokenizer, WhitespacePreTokenizer } from '../ts/tokenizer/pre-tokenizers.js';

type Row = [
  codePoint: number,
  cleanText: 'delete' | 'space' | 'keep',
  bertPunctuation: boolean,
  regexWordChar: boolean,
  nfd: string,
  stripAccents: string,
  lowercase: string,
  stripCombiningMarks: string,
  chineseChar: boolean,
];

// prettier-ignore
const ROWS: Row[] = [
  [0x0, 'delete', false, false, '0000', '0000', '0000', '0000', false],
  [0x9, 'space', false, false, '0009', '0009', '0009', '0009', false],
  [0xb, 'delete', false, false, '000b', '000b', '000b', '000b', false],
  [0xc, 'delete', false, false, '000c', '000c', '000c', '000c', false],
  [0x7f, 'delete', false, false, '007f', '007f', '007f', '007f', false],
  [0x85, 'delete', false, false, '0085', '0085', '0085', '0085', false],
  [0xa0, 'space', false, false, '00a0', '00a0', '00a0', '00a0', false],
  [0xad, 'delete', false, false, '00ad', '00ad', '00ad', '00ad', false],
  [0x61c, 'delete', false, false, '061c', '061c', '061c', '061c', false],
  [0x8e2, 'keep', false, false, '08e2', '08e2', '08e2', '08e2', false],
  [0x110cd, 'keep', false, false, '110cd', '110cd', '110cd', '110cd', false],
  [0x13430, 'keep', false, false, '13430', '13430', '13430', '13430', false],
  [0x1680, 'space', false, false, '1680', '1680', '1680', '1680', false],
  [0x180e, 'delete', false, false, '180e', '180e', '180e', '180e', false],
  [0x200b, 'delete', false, false, '200b', '200b', '200b', '200b', false],
  [0x200d, 'delete', false, true, '200d', '200d', '200d', '200d', false],
  [0x2028, 'space', false, false, '2028', '2028', '2028', '2028', false],
  [0x202f, 'space', false, false, '202f', '202f', '202f', '202f', false],
  [0x3000, 'space', false, false, '3000', '3000', '3000', '3000', false],
  [0xe000, 'delete', false, false, 'e000', 'e000', 'e000', 'e000', false],
  [0xe001, 'delete', false, false, 'e001', 'e001', 'e001', 'e001', false],
  [0xf0000, 'delete', false, false, 'f0000', 'f0000', 'f0000', 'f0000', false],
  [0xfeff, 'delete', false, false, 'feff', 'feff', 'feff', 'feff', false],
  [0xfffd, 'delete', false, false, 'fffd', 'fffd', 'fffd', 'fffd', false],
  [0x24, 'keep', true, false, '0024', '0024', '0024', '0024', false],
  [0x5e, 'keep', true, false, '005e', '005e', '005e', '005e', false],
  [0x60, 'keep', true, false, '0060', '0060', '0060', '0060', false],
  [0xa7, 'keep', true, false, '00a7', '00a7', '00a7', '00a7', false],
  [0xb6, 'keep', true, false, '00b6', '00b6', '00b6', '00b6', false],
  [0x61d, 'keep', false, false, '061d', '061d', '061d', '061d', false],
  [0x166d, 'keep', true, false, '166d', '166d', '166d', '166d', false],
  [0x111c9, 'keep', true, true, '111c9', '111c9', '111c9', '111c9', false],
  [0x2010, 'keep', true, false, '2010', '2010', '2010', '2010', false],
  [0x2e52, 'keep', false, false, '2e52', '2e52', '2e52', '2e52', false],
  [0x30fb, 'keep', true, false, '30fb', '30fb', '30fb', '30fb', false],
  [0x1e95e, 'keep', false, false, '1e95e', '1e95e', '1e95e', '1e95e', false],
  [0x301, 'keep', false, true, '0301', '', '0301', '', false],
  [0x345, 'keep', false, true, '0345', '', '0345', '', false],
  [0x903, 'keep', false, true, '0903', '0903', '0903', '', false],
  [0x8d4, 'keep', false, true, '08d4', '08d4', '08d4', '', false],
  [0x897, 'keep', false, true, '0897', '0897', '0897', '0897', false],
  [0x1abf, 'keep', false, true, '1abf', '1abf', '1abf', '1abf', false],
  [0x1e944, 'keep', false, true, '1e944', '1e944', '1e944', '', false],
  [0x130, 'keep', false, true, '0049 0307', '0049', '0069 0307', '0130', false],
  [0x3a3, 'keep', false, true, '03a3', '03a3', '03c3', '03a3', false],
  [0x1e9e, 'keep', false, true, '1e9e', '1e9e', '00df', '1e9e', false],
  [0x1c5, 'keep', false, true, '01c5', '01c5', '01c6', '01c5', false],
  [0x2126, 'keep', false, true, '03a9', '03a9', '03c9', '2126', false],
  [0x212a, 'keep', false, true, '004b', '004b', '006b', '212a', false],
  [0x10d50, 'keep', false, true, '10d50', '10d50', '10d70', '10d50', false],
  [0xa7cb, 'keep', false, true, 'a7cb', 'a7cb', '0264', 'a7cb', false],
  [0x1c89, 'keep', false, true, '1c89', '1c89', '1c8a', '1c89', false],
  [0xe9, 'keep', false, true, '0065 0301', '0065', '00e9', '00e9', false],
  [0x344, 'keep', false, true, '0308 0301', '', '0344', '', false],
  [0xf73, 'keep', false, true, '0f71 0f72', '', '0f73', '', false],
  [0x1e69, 'keep', false, true, '0073 0323 0307', '0073', '1e69', '1e69', false],
  [0xac00, 'keep', false, true, '1100 1161', '1100 1161', 'ac00', 'ac00', false],
  [0xd7a3, 'keep', false, true, '1112 1175 11c2', '1112 1175 11c2', 'd7a3', 'd7a3', false],
  [0x105c9, 'keep', false, true, '105c9', '105c9', '105c9', '105c9', false],
  [0x11938, 'keep', false, true, '11938', '11938', '11938', '11938', false],
  [0x2a700, 'keep', false, true, '2a700', '2a700', '2a700', '2a700', true],
  [0x2b81f, 'keep', false, false, '2b81f', '2b81f', '2b81f', '2b81f', true],
  [0x2b820, 'keep', false, true, '2b820', '2b820', '2b820', '2b820', false],
  [0x2b920, 'keep', false, true, '2b920', '2b920', '2b920', '2b920', true],
  [0x4e2d, 'keep', false, true, '4e2d', '4e2d', '4e2d', '4e2d', true],
  [0x3042, 'keep', false, true, '3042', '3042', '3042', '3042', false],
];

/** Hex code points separated by spaces, as in the table. */
const hex = (s: string): string => [...s].map((c) => c.codePointAt(0)!.toString(16).padStart(4, '0')).join(' ');

const only = (options: Partial<ConstructorParameters<typeof BertNormalizer>[0]>) =>
  new BertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false, ...options });
const clean = only({ cleanText: true });
const stripAccents = only({ stripAccents: true });
const lowercase = only({ lowercase: true });
const chinese = only({ handleChineseChars: true });
const bertPre = new BertPreTokenizer();
const whitespacePre = new WhitespacePreTokenizer();

function split(pre: { split(text: string, out: string[]): void }, text: string): string[] {
  const out: string[] = [];
  pre.split(text, out);
  return out;
}

describe('per code point, as Hugging Face tokenizers 0.23.2', () => {
  it.each(ROWS.map((row) => [row[0].toString(16).padStart(4, '0'), row] as const))('U+%s', (_name, row) => {
    const [cp, cleaned, punctuation, word, nfd, strip, lower, stripMarks, cjk] = row;
    const c = String.fromCodePoint(cp);
    const expectedClean = cleaned === 'delete' ? 'ab' : cleaned === 'space' ? 'a b' : `a${c}b`;
    expect(clean.normalize(`a${c}b`)).toBe(expectedClean);
    expect(split(bertPre, `a${c}b`).length === 3).toBe(punctuation);
    expect(split(whitespacePre, `a${c}b`).length === 1).toBe(word);
    expect(hex(new NfdNormalizer().normalize(c))).toBe(nfd);
    expect(hex(stripAccents.normalize(c))).toBe(strip);
    expect(hex(lowercase.normalize(c))).toBe(lower);
    expect(hex(new LowercaseNormalizer().normalize(c))).toBe(lower);
    expect(hex(new StripAccentsNormalizer().normalize(c))).toBe(stripMarks);
    expect(chinese.normalize(c) !== c).toBe(cjk);
  });
});

describe('NFD canonical ordering with the Unicode 9.0 combining classes', () => {
  it.each([
    ['a\u0301\u0316', '0061 0316 0301'],
    ['a\u0316\u0301', '0061 0316 0301'],
    // U+1ABF arrived in Unicode 14: class 0 for the reference, so nothing moves around it.
    ['a\u1abf\u0301', '0061 1abf 0301'],
    ['a\u0301\u1abf', '0061 0301 1abf'],
    ['\u0229\u0301', '0065 0327 0301'],
    ['\u1e0b\u0323', '0064 0323 0307'],
    ['q\u0307\u0323', '0071 0323 0307'],
    ['\u0f73\u0f72', '0f71 0f72 0f72'],
    ['a\u05b0\u05b1\u0591', '0061 05b0 05b1 0591'],
  ])('%j', (text, expected) => {
    expect(hex(new NfdNormalizer().normalize(text))).toBe(expected);
  });
});

describe('whole-string behaviour', () => {
  it('lowercases without the final-sigma rule and keeps the dot of İ when accents stay', () => {
    expect(lowercase.normalize('ΟΔΟΣ')).toBe('οδοσ');
    expect('ΟΔΟΣ'.toLowerCase()).toBe('οδος'); // what a whole-string JS lowercase would give
    expect(lowercase.normalize('İstanbul')).toBe('i\u0307stanbul');
    expect(only({ stripAccents: true, lowercase: true }).normalize('İstanbul')).toBe('istanbul');
  });

  it('pads only the Rust CJK ranges and leaves kana alone', () => {
    expect(chinese.normalize('中文かな')).toBe(' 中  文 かな');
  });

  it('cleans, pads, strips and lowercases in the Rust order', () => {
    const bert = only({ cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: true });
    expect(bert.normalize('Ünïcödé\u200d\t中\u0085!')).toBe('unicode  中 !');
  });
});
