/**
 * Pre-tokenizers: split normalized text into words for the model. Each reproduces the Rust
 * pre-tokenizer of the same name in Hugging Face `tokenizers`; empty pieces are never produced.
 */
import { toByteLevel } from './byte-level.js';
import { findMatches, type CompiledPattern } from './regex.js';
import { isBertPunctuation, isWhitespaceChar, isWordChar } from './unicode.js';
import { isNumericChar, onigClass } from './unicode-sets.js';

/**
 * Splits normalized text into words, appending them to `out`.
 * @example const words: string[] = []; (new BertPreTokenizer() as PreTokenizer).split('a, b', words) // ['a', ',', 'b']
 */
export interface PreTokenizer {
  /**
   * `atStart`: `text` begins at offset 0 of the input (what Metaspace's prepend_scheme "first"
   * asks). Returns whether the first word appended begins where `text` begins.
   */
  split(text: string, out: string[], atStart?: boolean): boolean;
  /**
   * Optional: the same words as {@link split} (without `atStart`), as [start, end) offset pairs
   * into `text` appended to `out`, so that no word string needs to be built.
   */
  splitRanges?(text: string, out: number[]): void;
  /** True when `atStart` matters (Metaspace with prepend_scheme "first", alone or in a Sequence). */
  readonly usesStart?: boolean;
}

/**
 * How a split treats the delimiters it finds (tokenizer.json `behavior`).
 * @example const b: SplitBehavior = 'Isolated';
 */
export type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

/**
 * Splits `text` given segments that cover it (flat [start, end, isMatch(0/1)] triples, in
 * order), with the reference's rules for each behavior (`NormalizedString::split`), pushing the
 * non-empty pieces. Returns whether the first piece pushed starts at 0.
 */
export function splitSegments(text: string, segments: number[], behavior: SplitBehavior, out: string[]): boolean {
  const starts: number[] = [];
  const ends: number[] = [];
  const removed: boolean[] = [];
  const n = segments.length / 3;
  if (behavior === 'MergedWithNext') {
    let previousMatch = false;
    for (let k = n - 1; k >= 0; k--) {
      const start = segments[3 * k]!;
      const end = segments[3 * k + 1]!;
      const isMatch = segments[3 * k + 2] === 1;
      if (isMatch && !previousMatch && starts.length > 0) starts[starts.length - 1] = start;
      else {
        starts.push(start);
        ends.push(end);
        removed.push(false);
      }
      previousMatch = isMatch;
    }
    starts.reverse();
    ends.reverse();
  } else {
    let previousMatch = false;
    for (let k = 0; k < n; k++) {
      const start = segments[3 * k]!;
      const end = segments[3 * k + 1]!;
      const isMatch = segments[3 * k + 2] === 1;
      const extend =
        starts.length > 0 &&
        ((behavior === 'Contiguous' && isMatch === previousMatch) || (behavior === 'MergedWithPrevious' && isMatch && !previousMatch));
      if (extend) ends[ends.length - 1] = end;
      else {
        starts.push(start);
        ends.push(end);
        removed.push(behavior === 'Removed' && isMatch);
      }
      previousMatch = isMatch;
    }
  }
  let firstAtZero: boolean | undefined;
  for (let k = 0; k < starts.length; k++) {
    if (removed[k] || ends[k]! <= starts[k]!) continue;
    firstAtZero ??= starts[k] === 0;
    out.push(text.slice(starts[k], ends[k]));
  }
  return firstAtZero ?? false;
}

/** Segments of a character predicate: each matching code point alone, the runs between. */
function charSegments(text: string, isMatch: (cp: number) => boolean): number[] {
  const segments: number[] = [];
  if (text.length === 0) return [0, 0, 0];
  let runStart = 0;
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if (isMatch(cp)) {
      if (i > runStart) segments.push(runStart, i, 0);
      segments.push(i, i + width, 1);
      runStart = i + width;
    }
    i += width - 1;
  }
  if (text.length > runStart) segments.push(runStart, text.length, 0);
  return segments;
}

/** Segments of a pattern's matches (`find_matches` of the reference), optionally inverted. */
function patternSegments(text: string, pattern: CompiledPattern, invert: boolean): number[] {
  const hit = invert ? 0 : 1;
  if (text.length === 0) return [0, 0, 1 - hit];
  const matches = findMatches(pattern, text);
  const segments: number[] = [];
  let previous = 0;
  for (let k = 0; k < matches.length; k += 2) {
    if (matches[k]! !== previous) segments.push(previous, matches[k]!, 1 - hit);
    segments.push(matches[k]!, matches[k + 1]!, hit);
    previous = matches[k + 1]!;
  }
  if (previous !== text.length) segments.push(previous, text.length, 1 - hit);
  return segments;
}

/** BertPreTokenizer's view of each ASCII code unit: 1 whitespace, 2 punctuation, 0 neither (built on first use). */
let asciiBertKind: Uint8Array | undefined;

/**
 * `BertPreTokenizer`: splits on whitespace (removed) and isolates every punctuation character
 * (ASCII punctuation or Unicode P*).
 * @example const words: string[] = []; new BertPreTokenizer().split("don't stop", words) // ["don", "'", "t", "stop"]
 */
export class BertPreTokenizer implements PreTokenizer {
  splitRanges(text: string, out: number[]): void {
    asciiBertKind ??= Uint8Array.from({ length: 0x80 }, (_, c) => (isWhitespaceChar(c) ? 1 : isBertPunctuation(c) ? 2 : 0));
    const asciiKind = asciiBertKind;
    let wordStart = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      let isSpace: boolean;
      let isPunctuation: boolean;
      let width = 1;
      if (c < 0x80) {
        const kind = asciiKind[c]!;
        if (kind === 0) continue;
        isSpace = kind === 1;
        isPunctuation = kind === 2;
      } else {
        const cp = text.codePointAt(i)!;
        if (cp > 0xffff) width = 2;
        isSpace = isWhitespaceChar(cp);
        isPunctuation = !isSpace && isBertPunctuation(cp);
      }
      if (isSpace || isPunctuation) {
        if (i > wordStart) out.push(wordStart, i);
        if (isPunctuation) out.push(i, i + width);
        wordStart = i + width;
      }
      i += width - 1;
    }
    if (text.length > wordStart) out.push(wordStart, text.length);
  }

  split(text: string, out: string[]): boolean {
    const before = out.length;
    let wordStart = 0;
    for (let i = 0; i < text.length; i++) {
      const cp = text.codePointAt(i)!;
      const width = cp > 0xffff ? 2 : 1;
      const isSpace = isWhitespaceChar(cp);
      if (isSpace || isBertPunctuation(cp)) {
        if (i > wordStart) out.push(text.slice(wordStart, i));
        if (!isSpace) out.push(text.slice(i, i + width));
        wordStart = i + width;
      }
      i += width - 1;
    }
    if (text.length > wordStart) out.push(text.slice(wordStart));
    return out.length > before && text.startsWith(out[before]!);
  }
}

/**
 * `WhitespaceSplit`: splits on whitespace only.
 * @example const words: string[] = []; new WhitespaceSplitPreTokenizer().split('a, b', words) // ['a,', 'b']
 */
export class WhitespaceSplitPreTokenizer implements PreTokenizer {
  split(text: string, out: string[]): boolean {
    const before = out.length;
    let wordStart = 0;
    for (let i = 0; i < text.length; i++) {
      const cp = text.codePointAt(i)!;
      const width = cp > 0xffff ? 2 : 1;
      if (isWhitespaceChar(cp)) {
        if (i > wordStart) out.push(text.slice(wordStart, i));
        wordStart = i + width;
      }
      i += width - 1;
    }
    if (text.length > wordStart) out.push(text.slice(wordStart));
    return out.length > before && text.startsWith(out[before]!);
  }
}

/**
 * `Whitespace`: the matches of the regex `\w+|[^\w\s]+` (runs of word characters, runs of other
 * non-space characters); whitespace is dropped.
 * @example const words: string[] = []; new WhitespacePreTokenizer().split('a,, b', words) // ['a', ',,', 'b']
 */
export class WhitespacePreTokenizer implements PreTokenizer {
  split(text: string, out: string[]): boolean {
    const before = out.length;
    const NONE = 0;
    const WORD = 1;
    const OTHER = 2;
    let runStart = 0;
    let runKind = NONE;
    for (let i = 0; i < text.length; i++) {
      const cp = text.codePointAt(i)!;
      const width = cp > 0xffff ? 2 : 1;
      const kind = isWordChar(cp) ? WORD : isWhitespaceChar(cp) ? NONE : OTHER;
      if (kind !== runKind) {
        if (runKind !== NONE) out.push(text.slice(runStart, i));
        runStart = i;
        runKind = kind;
      }
      i += width - 1;
    }
    if (runKind !== NONE) out.push(text.slice(runStart));
    return out.length > before && text.startsWith(out[before]!);
  }
}

/**
 * `Sequence` of pre-tokenizers: each one splits the pieces the previous one produced.
 * @example new SequencePreTokenizer([new WhitespaceSplitPreTokenizer(), new BertPreTokenizer()])
 */
export class SequencePreTokenizer implements PreTokenizer {
  readonly usesStart: boolean;

  constructor(readonly parts: readonly PreTokenizer[]) {
    this.usesStart = parts.some((p) => p.usesStart === true);
  }

  split(text: string, out: string[], atStart = true): boolean {
    let pieces = [text];
    let firstAtStart = atStart; // whether pieces[0] begins at the input's offset 0
    let firstAtZero = true; // whether pieces[0] begins where `text` begins
    for (const part of this.parts) {
      const next: string[] = [];
      pieces.forEach((piece, k) => {
        const before = next.length;
        const atZero = part.split(piece, next, k === 0 && firstAtStart);
        if (k === 0) {
          const produced = next.length > before;
          firstAtStart = firstAtStart && produced && atZero;
          firstAtZero = firstAtZero && produced && atZero;
        }
      });
      pieces = next;
    }
    for (const piece of pieces) out.push(piece);
    return pieces.length > 0 && firstAtZero;
  }
}

/**
 * `Split`: splits on the matches of a pattern (a literal, or an Oniguruma regex translated by
 * `regex.ts`), with one of the five behaviors; `invert` splits on what does not match.
 * @example const words: string[] = []; new SplitPreTokenizer(' ', 'Removed', false).split('a b', words) // ['a', 'b']
 */
export class SplitPreTokenizer implements PreTokenizer {
  constructor(
    readonly pattern: CompiledPattern,
    readonly behavior: SplitBehavior,
    readonly invert: boolean,
  ) {}

  split(text: string, out: string[]): boolean {
    return splitSegments(text, patternSegments(text, this.pattern, this.invert), this.behavior, out);
  }
}

/**
 * `Punctuation`: splits on each punctuation character (ASCII or Unicode P*), Isolated by default.
 * @example const words: string[] = []; new PunctuationPreTokenizer('Isolated').split('a,b', words) // ['a', ',', 'b']
 */
export class PunctuationPreTokenizer implements PreTokenizer {
  constructor(readonly behavior: SplitBehavior) {}

  split(text: string, out: string[]): boolean {
    return splitSegments(text, charSegments(text, isBertPunctuation), this.behavior, out);
  }
}

/**
 * `Digits`: numbers apart from the rest (`char::is_numeric`), each digit alone when
 * `individual_digits`.
 * @example const words: string[] = []; new DigitsPreTokenizer(false).split('a12b', words) // ['a', '12', 'b']
 */
export class DigitsPreTokenizer implements PreTokenizer {
  constructor(readonly individualDigits: boolean) {}

  split(text: string, out: string[]): boolean {
    return splitSegments(text, charSegments(text, isNumericChar), this.individualDigits ? 'Isolated' : 'Contiguous', out);
  }
}

/**
 * `CharDelimiterSplit`: splits on one character, which is removed.
 * @example const words: string[] = []; new CharDelimiterSplitPreTokenizer('_').split('a_b', words) // ['a', 'b']
 */
export class CharDelimiterSplitPreTokenizer implements PreTokenizer {
  private readonly cp: number;

  constructor(readonly delimiter: string) {
    this.cp = delimiter.codePointAt(0)!;
  }

  split(text: string, out: string[]): boolean {
    return splitSegments(text, charSegments(text, (cp) => cp === this.cp), 'Removed', out);
  }
}

/**
 * `FixedLength`: pieces of `length` characters (code points).
 * @example const words: string[] = []; new FixedLengthPreTokenizer(2).split('abcde', words) // ['ab', 'cd', 'e']
 */
export class FixedLengthPreTokenizer implements PreTokenizer {
  constructor(readonly length: number) {}

  split(text: string, out: string[]): boolean {
    if (text.length === 0) return false;
    let start = 0;
    let count = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0xdc00 && c <= 0xdfff && i > 0) continue; // second half of a pair
      if (count === this.length) {
        out.push(text.slice(start, i));
        start = i;
        count = 0;
      }
      count++;
    }
    out.push(text.slice(start));
    return true;
  }
}

/**
 * `Metaspace`: spaces become the replacement character (▁); the text gets one in front
 * (`prepend_scheme` always, or first: only at the very start of the input, or never) unless it
 * starts with one; with `split`, each ▁ starts a new word.
 * @example const words: string[] = []; new MetaspacePreTokenizer('▁', 'always', true).split('hey you', words) // ['▁hey', '▁you']
 */
export class MetaspacePreTokenizer implements PreTokenizer {
  readonly usesStart: boolean;

  constructor(
    readonly replacement: string,
    readonly prependScheme: 'always' | 'first' | 'never',
    readonly splitWords: boolean,
  ) {
    this.usesStart = prependScheme === 'first';
  }

  split(text: string, out: string[], atStart = true): boolean {
    const r = this.replacement;
    let s = text.includes(' ') ? text.replaceAll(' ', r) : text;
    if ((this.prependScheme === 'always' || (this.prependScheme === 'first' && atStart)) && !s.startsWith(r)) s = r + s;
    if (!this.splitWords) {
      if (s.length > 0) out.push(s);
      return s.length > 0;
    }
    // MergedWithNext on the replacement character: each ▁ opens a word; a ▁ right after
    // another ▁ stays alone (the reference's merge rule).
    let wordStart = 0;
    let index = s.indexOf(r, 1);
    while (index >= 0) {
      if (index > wordStart) {
        out.push(s.slice(wordStart, index));
        wordStart = index;
      }
      index = s.indexOf(r, index + r.length);
    }
    if (s.length > wordStart) out.push(s.slice(wordStart));
    return s.length > 0;
  }
}

/**
 * `ByteLevel`: an optional space in front (`add_prefix_space`, unless the text starts with one),
 * the GPT-2 split (`use_regex`), then every UTF-8 byte mapped to its printable stand-in
 * (`byte-level.ts`).
 * @example const words: string[] = []; new ByteLevelPreTokenizer(false, true).split('Hi there', words) // ['Hi', 'Ġthere']
 */
export class ByteLevelPreTokenizer implements PreTokenizer {
  constructor(
    readonly addPrefixSpace: boolean,
    readonly useRegex: boolean,
  ) {}

  split(text: string, out: string[]): boolean {
    const s = this.addPrefixSpace && !text.startsWith(' ') ? ' ' + text : text;
    if (s.length === 0) return false;
    if (!this.useRegex) {
      out.push(toByteLevel(s));
      return true;
    }
    const bounds = gpt2Split(s);
    for (let k = 0; k + 1 < bounds.length; k++) out.push(toByteLevel(s.slice(bounds[k], bounds[k + 1])));
    return true;
  }
}

const enum CharKind {
  Letter = 1,
  Number = 2,
  Space = 3,
  Other = 4,
}

/** The class of a code point under the GPT-2 regex (Oniguruma's \p{L}, \p{N}, \s). */
function gpt2Kind(cp: number): CharKind {
  if (cp < 0x80) {
    if ((cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a)) return CharKind.Letter;
    if (cp >= 0x30 && cp <= 0x39) return CharKind.Number;
    if (cp === 0x20 || (cp >= 0x09 && cp <= 0x0d)) return CharKind.Space;
    return CharKind.Other;
  }
  if (onigClass('L').has(cp)) return CharKind.Letter;
  if (onigClass('N').has(cp)) return CharKind.Number;
  if (onigClass('s').has(cp)) return CharKind.Space;
  return CharKind.Other;
}

let kindBuffer = new Uint8Array(256);

/**
 * The matches of the GPT-2 regex `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
 * as piece boundaries [0, b1, b2, ..., length]. The regex matches every character, so the
 * pieces cover the text. Written out by hand: a scanner is several times faster than the
 * translated regex, and `regex.ts` tests them against each other and the reference.
 * @example gpt2Split("I'm here") // [0, 1, 3, 8]: "I", "'m", " here"
 */
export function gpt2Split(text: string): number[] {
  const n = text.length;
  const bounds = [0];
  // Kinds and widths per UTF-16 position, computed once (a buffer reused across calls).
  if (kindBuffer.length < n + 1) kindBuffer = new Uint8Array(Math.max(n + 1, kindBuffer.length * 2));
  const kinds = kindBuffer;
  kinds[n] = 0;
  for (let i = 0; i < n; i++) {
    const cp = text.codePointAt(i)!;
    kinds[i] = gpt2Kind(cp);
    if (cp > 0xffff) kinds[++i] = 0;
  }
  const width = (i: number): number => (i + 1 < n && kinds[i + 1] === 0 ? 2 : 1);
  const runEnd = (i: number, kind: CharKind): number => {
    while (i < n && kinds[i] === kind) i += width(i);
    return i;
  };
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    let end: number;
    if (c === 0x27 /* ' */ && i + 1 < n) {
      const c1 = text.charCodeAt(i + 1);
      const c2 = i + 2 < n ? text.charCodeAt(i + 2) : 0;
      if (c1 === 0x73 || c1 === 0x74 || c1 === 0x6d || c1 === 0x64) end = i + 2; // 's 't 'm 'd
      else if ((c1 === 0x72 && c2 === 0x65) || (c1 === 0x76 && c2 === 0x65) || (c1 === 0x6c && c2 === 0x6c)) end = i + 3; // 're 've 'll
      else end = -1;
      if (end > 0) {
        bounds.push(end);
        i = end;
        continue;
      }
    }
    const kind = kinds[i] as CharKind;
    if (c === 0x20 && i + 1 < n && kinds[i + 1] !== CharKind.Space) {
      end = runEnd(i + 1, kinds[i + 1] as CharKind); // " ?\p{L}+" and friends, with the space
    } else if (kind !== CharKind.Space) {
      end = runEnd(i, kind);
    } else {
      const spaceEnd = runEnd(i, CharKind.Space);
      // \s+(?!\S): all but the last space when a non-space follows; \s+ for a lone space.
      // (Every \s character is in the BMP, so one code unit back is one character back.)
      end = spaceEnd === n || spaceEnd - i === 1 ? spaceEnd : spaceEnd - 1;
    }
    bounds.push(end);
    i = end;
  }
  return bounds;
}
