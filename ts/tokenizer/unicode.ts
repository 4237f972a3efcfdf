/**
 * Character classes, lowercasing and NFD exactly as Hugging Face `tokenizers` (Rust) applies them.
 *
 * The tables in `unicode-data.ts` are decoded lazily on first use into a flag byte per BMP code
 * point (one array read in the hot loops) plus sorted range lists for the astral planes.
 */
import {
  COMBINING_CLASS_RUNS,
  COMBINING_MARK_RANGES,
  DECOMPOSITIONS,
  LOWERCASE_RUNS,
  NONSPACING_MARK_RANGES,
  OTHER_RANGES,
  PUNCTUATION_RANGES,
  WORD_RANGES,
} from './unicode-data.js';
import { hasCompatDecomposition } from './unicode-sets.js';

const OTHER = 1;
const PUNCTUATION = 2;
const NONSPACING_MARK = 4;
const COMBINING_MARK = 8;
const WORD = 16;
const WHITESPACE = 32;

/**
 * Rust `char::is_whitespace` = the Unicode White_Space property, which has not changed since
 * Unicode 6.3. Unlike JS `\s` it excludes U+FEFF and includes U+0085.
 */
const WHITESPACE_RANGES = '9-d,20,85,a0,1680,2000-200a,2028-2029,202f,205f,3000';

interface CharTables {
  bmp: Uint8Array;
  /** Flattened [start, end, start, end, ...] ranges above U+FFFF, keyed by flag. */
  astral: Map<number, Uint32Array>;
}

let tables: CharTables | undefined;

function parseRanges(spec: string): number[] {
  const out: number[] = [];
  for (const entry of spec.split(',')) {
    const dash = entry.indexOf('-');
    const start = parseInt(dash < 0 ? entry : entry.slice(0, dash), 16);
    const end = dash < 0 ? start : parseInt(entry.slice(dash + 1), 16);
    out.push(start, end);
  }
  return out;
}

function buildTables(): CharTables {
  const bmp = new Uint8Array(0x10000);
  const astral = new Map<number, Uint32Array>();
  const sources: Array<[number, string]> = [
    [OTHER, OTHER_RANGES],
    [PUNCTUATION, PUNCTUATION_RANGES],
    [NONSPACING_MARK, NONSPACING_MARK_RANGES],
    [COMBINING_MARK, COMBINING_MARK_RANGES],
    [WORD, WORD_RANGES],
    [WHITESPACE, WHITESPACE_RANGES],
  ];
  for (const [flag, spec] of sources) {
    const ranges = parseRanges(spec);
    const high: number[] = [];
    for (let i = 0; i < ranges.length; i += 2) {
      const start = ranges[i]!;
      const end = ranges[i + 1]!;
      for (let cp = start; cp <= Math.min(end, 0xffff); cp++) bmp[cp]! |= flag;
      if (end > 0xffff) high.push(Math.max(start, 0x10000), end);
    }
    astral.set(flag, Uint32Array.from(high));
  }
  return { bmp, astral };
}

function inRanges(ranges: Uint32Array, cp: number): boolean {
  let lo = 0;
  let hi = ranges.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < ranges[mid * 2]!) hi = mid - 1;
    else if (cp > ranges[mid * 2 + 1]!) lo = mid + 1;
    else return true;
  }
  return false;
}

function has(cp: number, flag: number): boolean {
  tables ??= buildTables();
  const t = tables;
  if (cp < 0x10000) return (t.bmp[cp]! & flag) !== 0;
  return inRanges(t.astral.get(flag)!, cp);
}

/**
 * `is_other` of the Rust `unicode_categories` crate: Cc, Cf, Co as of Unicode 8.0 (no Cn, no
 * newer Cf such as U+08E2 or U+13430..U+1343F).
 * @example isOtherChar(0x200d) // true: ZERO WIDTH JOINER is Cf
 */
export function isOtherChar(cp: number): boolean {
  return has(cp, OTHER);
}

/**
 * Rust `char::is_whitespace` (Unicode White_Space).
 * @example isWhitespaceChar(0xfeff) // false, although JS /\s/ matches it
 */
export function isWhitespaceChar(cp: number): boolean {
  return has(cp, WHITESPACE);
}

/**
 * BertPreTokenizer punctuation: ASCII punctuation (so `$`, `+`, `^` count) or Unicode 8.0 P*.
 * @example isBertPunctuation(0x24) // true: '$'
 */
export function isBertPunctuation(cp: number): boolean {
  return has(cp, PUNCTUATION);
}

/**
 * General category Mn as of Unicode 8.0: what BertNormalizer's strip_accents removes after NFD.
 * @example isNonspacingMark(0x0301) // true
 */
export function isNonspacingMark(cp: number): boolean {
  return has(cp, NONSPACING_MARK);
}

/**
 * What the standalone `StripAccents` normalizer removes (combining marks, Mn/Mc/Me).
 * @example isCombiningMark(0x0903) // true: DEVANAGARI SIGN VISARGA is Mc
 */
export function isCombiningMark(cp: number): boolean {
  return has(cp, COMBINING_MARK);
}

/**
 * `\w` of the Rust `regex` crate (used by the `Whitespace` pre-tokenizer and by added tokens'
 * single_word rule): alphabetic, marks, decimal digits, connector punctuation, joiners.
 * @example isWordChar(0x5f) // true: '_'
 */
export function isWordChar(cp: number): boolean {
  return has(cp, WORD);
}

/**
 * The "Chinese character" blocks BertNormalizer pads with spaces. These are the exact ranges of
 * the Rust implementation, including its gap at U+2B820..U+2B91F (the original BERT code starts
 * the CJK Extension E range at U+2B820, the Rust port at U+2B920).
 * @example isChineseChar(0x4e2d) // true: '中'
 */
export function isChineseChar(cp: number): boolean {
  if (cp < 0x3400) return false;
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

// ---------------------------------------------------------------------------------------------
// Lowercase

let lowercaseMap: Map<number, string> | undefined;

function buildLowercaseMap(): Map<number, string> {
  const map = new Map<number, string>();
  for (const entry of LOWERCASE_RUNS.split(',')) {
    const eq = entry.indexOf('=');
    if (eq >= 0) {
      const target = entry
        .slice(eq + 1)
        .split(' ')
        .map((h) => parseInt(h, 16));
      map.set(parseInt(entry.slice(0, eq), 16), String.fromCodePoint(...target));
      continue;
    }
    const colon = entry.indexOf(':');
    let span = entry.slice(0, colon);
    const delta = entry[colon + 1] === '-' ? -parseInt(entry.slice(colon + 2), 16) : parseInt(entry.slice(colon + 1), 16);
    let step = 1;
    if (span.endsWith('/2')) {
      step = 2;
      span = span.slice(0, -2);
    }
    const dash = span.indexOf('-');
    const start = parseInt(dash < 0 ? span : span.slice(0, dash), 16);
    const end = dash < 0 ? start : parseInt(span.slice(dash + 1), 16);
    for (let cp = start; cp <= end; cp += step) map.set(cp, String.fromCodePoint(cp + delta));
  }
  return map;
}

/**
 * Lowercases one code point like Rust `char::to_lowercase`: the full mapping (U+0130 'İ' becomes
 * "i\u0307") and never the context-dependent final-sigma rule that `String.prototype.toLowerCase`
 * applies to a whole string ('ΟΔΟΣ' → 'οδοσ', not 'οδος'). Returns undefined when unchanged.
 * @example lowercaseCodePoint(0x130) // 'i\u0307'
 */
export function lowercaseCodePoint(cp: number): string | undefined {
  lowercaseMap ??= buildLowercaseMap();
  return lowercaseMap.get(cp);
}

/**
 * Lowercases a string code point by code point (see {@link lowercaseCodePoint}).
 * @example lowercaseText('ΟΔΟΣ') // 'οδοσ'
 */
export function lowercaseText(text: string): string {
  lowercaseMap ??= buildLowercaseMap();
  const map = lowercaseMap;
  let out = '';
  let copiedUpTo = 0;
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp < 0x41) continue;
    const start = i;
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = (cp - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000;
        i++;
      }
    }
    const lower = map.get(cp);
    if (lower !== undefined) {
      out += text.slice(copiedUpTo, start) + lower;
      copiedUpTo = i + 1;
    }
  }
  return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
}

// ---------------------------------------------------------------------------------------------
// NFD

interface NfdTables {
  decompositions: Map<number, number[]>;
  bmpClass: Uint8Array;
  astralClass: Map<number, number>;
}

let nfdTables: NfdTables | undefined;

function buildNfdTables(): NfdTables {
  const decompositions = new Map<number, number[]>();
  for (const entry of DECOMPOSITIONS.split(';')) {
    const colon = entry.indexOf(':');
    decompositions.set(
      parseInt(entry.slice(0, colon), 16),
      entry
        .slice(colon + 1)
        .split(' ')
        .map((h) => parseInt(h, 16)),
    );
  }
  const bmpClass = new Uint8Array(0x10000);
  const astralClass = new Map<number, number>();
  for (const entry of COMBINING_CLASS_RUNS.split(',')) {
    const colon = entry.indexOf(':');
    const value = parseInt(entry.slice(colon + 1), 10);
    const ranges = parseRanges(entry.slice(0, colon));
    for (let cp = ranges[0]!; cp <= ranges[1]!; cp++) {
      if (cp < 0x10000) bmpClass[cp] = value;
      else astralClass.set(cp, value);
    }
  }
  return { decompositions, bmpClass, astralClass };
}

const HANGUL_S_BASE = 0xac00;
const HANGUL_L_BASE = 0x1100;
const HANGUL_V_BASE = 0x1161;
const HANGUL_T_BASE = 0x11a7;
const HANGUL_T_COUNT = 28;
const HANGUL_N_COUNT = 588; // V count (21) * T count (28)
const HANGUL_S_COUNT = 11172;

/**
 * Canonical combining class of a code point in the reference's Unicode 9.0 tables (0: a starter).
 * @example combiningClass(0x301) // 230
 */
export function combiningClass(cp: number): number {
  nfdTables ??= buildNfdTables();
  const t = nfdTables;
  return cp < 0x10000 ? t.bmpClass[cp]! : (t.astralClass.get(cp) ?? 0);
}

/**
 * Canonical decomposition (NFD) with the Unicode 9.0 tables the Rust implementation uses: no
 * decompositions or combining classes for characters added later, so e.g. U+105C9 stays as is
 * and U+1ABF (Unicode 14) is treated as a starter, where an up-to-date engine would differ.
 * @example nfd('é') // 'e\u0301'
 */
export function nfd(text: string): string {
  // Nothing below U+00C0 decomposes or has a non-zero combining class.
  let i = 0;
  while (i < text.length && text.charCodeAt(i) < 0xc0) i++;
  if (i === text.length) return text;

  nfdTables ??= buildNfdTables();
  const t = nfdTables;
  const cps: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const sIndex = cp - HANGUL_S_BASE;
    if (sIndex >= 0 && sIndex < HANGUL_S_COUNT) {
      cps.push(HANGUL_L_BASE + Math.floor(sIndex / HANGUL_N_COUNT));
      cps.push(HANGUL_V_BASE + Math.floor((sIndex % HANGUL_N_COUNT) / HANGUL_T_COUNT));
      const tIndex = sIndex % HANGUL_T_COUNT;
      if (tIndex !== 0) cps.push(HANGUL_T_BASE + tIndex);
      continue;
    }
    const mapped = t.decompositions.get(cp);
    if (mapped === undefined) cps.push(cp);
    else for (const m of mapped) cps.push(m);
  }

  // Canonical ordering: a stable insertion sort of each run of non-starters by combining class.
  const classOf = (cp: number): number => (cp < 0x10000 ? t.bmpClass[cp]! : (t.astralClass.get(cp) ?? 0));
  for (let k = 1; k < cps.length; k++) {
    const cp = cps[k]!;
    const cls = classOf(cp);
    if (cls === 0) continue;
    let j = k;
    while (j > 0 && classOf(cps[j - 1]!) > cls) {
      cps[j] = cps[j - 1]!;
      j--;
    }
    cps[j] = cp;
  }
  return codePointsToString(cps);
}

/**
 * String.fromCodePoint in chunks, since spreading a huge array would overflow the call stack.
 * @example codePointsToString([0x68, 0x1f600]) // 'h😀'
 */
export function codePointsToString(cps: number[]): string {
  const CHUNK = 8192;
  if (cps.length <= CHUNK) return String.fromCodePoint(...cps);
  let out = '';
  for (let i = 0; i < cps.length; i += CHUNK) out += String.fromCodePoint(...cps.slice(i, i + CHUNK));
  return out;
}

// ---------------------------------------------------------------------------------------------
// NFC, NFKC, NFKD

/**
 * Per code point: 0 not yet known, 1 normalizes as in the reference, 2 must be kept apart (a
 * character newer than the reference's Unicode 9.0 that this engine decomposes or reorders).
 */
const engineVerdict = new Map<number, number>();

/** True when the reference sees `cp` as a plain starter: no decomposition, combining class 0. */
function referenceTrivial(cp: number): boolean {
  nfdTables ??= buildNfdTables();
  const t = nfdTables;
  if (cp >= HANGUL_S_BASE && cp < HANGUL_S_BASE + HANGUL_S_COUNT) return false;
  if (t.decompositions.has(cp) || hasCompatDecomposition(cp)) return false;
  return (cp < 0x10000 ? t.bmpClass[cp]! : (t.astralClass.get(cp) ?? 0)) === 0;
}

/** Whether this engine decomposes `cp` or gives it a non-zero combining class. */
function engineNontrivial(ch: string): boolean {
  if (ch.normalize('NFKD') !== ch) return true;
  // A non-zero class shows as reordering against U+0301 (230) or U+0316 (220).
  return ('\u0301' + ch).normalize('NFD') !== '\u0301' + ch || (ch + '\u0316').normalize('NFD') !== ch + '\u0316';
}

/**
 * NFC, NFKC or NFKD as the reference computes them (Unicode 9.0 data), on any engine: the
 * engine's `String.prototype.normalize` is exact for characters of Unicode ≤ 9.0 (normalization
 * stability), so only newer characters that this engine treats as non-trivial are kept apart,
 * as the reference sees them: starters that decompose to themselves and block reordering and
 * composition. (NFD has its own table-driven implementation, {@link nfd}.)
 * @example normalizeForm('NFKC', 'ﬁ') // 'fi'
 */
export function normalizeForm(form: 'NFC' | 'NFKC' | 'NFKD', text: string): string {
  // ASCII is stable under every form.
  let i = 0;
  while (i < text.length && text.charCodeAt(i) < 0x80) i++;
  if (i === text.length) return text;

  let out = '';
  let segmentStart = 0;
  for (; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    let verdict = engineVerdict.get(cp);
    if (verdict === undefined) {
      verdict = !referenceTrivial(cp) || !engineNontrivial(String.fromCodePoint(cp)) ? 1 : 2;
      engineVerdict.set(cp, verdict);
    }
    if (verdict === 2) {
      out += text.slice(segmentStart, i).normalize(form) + text.slice(i, i + width);
      segmentStart = i + width;
    }
    i += width - 1;
  }
  return out + text.slice(segmentStart).normalize(form);
}
