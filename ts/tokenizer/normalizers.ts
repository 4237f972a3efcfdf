/**
 * Normalizers: the first stage of the pipeline, applied to each stretch of text between added
 * tokens. Each reproduces the Rust normalizer of the same name in Hugging Face `tokenizers`.
 */
import { fromCharCodes, toByteLevel } from './byte-level.js';
import { findMatches, type CompiledPattern } from './regex.js';
import {
  combiningClass,
  isChineseChar,
  isCombiningMark,
  isNonspacingMark,
  isOtherChar,
  isWhitespaceChar,
  lowercaseText,
  nfd,
  normalizeForm,
} from './unicode.js';

/**
 * Turns raw text into normalized text.
 * @example const n: Normalizer = new LowercaseNormalizer(); n.normalize('Hi') // 'hi'
 */
export interface Normalizer {
  normalize(text: string): string;
}

/**
 * Options of {@link BertNormalizer}; `stripAccents` is already resolved (null → lowercase).
 * @example const uncased: BertNormalizerOptions = { cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: true };
 */
export interface BertNormalizerOptions {
  cleanText: boolean;
  handleChineseChars: boolean;
  stripAccents: boolean;
  lowercase: boolean;
}

/** True when every code unit is printable ASCII, where BertNormalizer can only lowercase. */
function isPrintableAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** Removes the code points `drop` selects, leaving the string untouched when none match. */
function removeCodePoints(text: string, drop: (cp: number) => boolean): string {
  let out = '';
  let copiedUpTo = 0;
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if (drop(cp)) {
      out += text.slice(copiedUpTo, i);
      copiedUpTo = i + width;
    }
    i += width - 1;
  }
  return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
}

/**
 * BertNormalizer, applied in the Rust order: clean text (drop U+0000, U+FFFD and "other"
 * characters, turn whitespace into ' '), pad CJK ideographs with spaces, strip accents (NFD, then
 * drop Mn), lowercase per code point.
 * @example new BertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: true }).normalize('Héllo\u200d中') // 'hello 中 '
 */
export class BertNormalizer implements Normalizer {
  private memo: BertCodePoints | undefined;

  constructor(readonly options: BertNormalizerOptions) {}

  normalize(text: string): string {
    // Printable ASCII has no control, CJK or accented characters, and ASCII lowercasing has no
    // context rules, so the whole-string toLowerCase is exact here.
    if (isPrintableAscii(text)) return this.options.lowercase ? text.toLowerCase() : text;
    const { cleanText, handleChineseChars, stripAccents, lowercase } = this.options;
    const key = (cleanText ? 1 : 0) | (handleChineseChars ? 2 : 0) | (stripAccents ? 4 : 0) | (lowercase ? 8 : 0);
    if (this.memo?.key !== key) this.memo = bertCodePoints[key] ??= new BertCodePoints(key, (t) => this.normalizeSlowly(t), stripAccents);
    return this.memo.normalize(text) ?? this.normalizeSlowly(text);
  }

  /** The reference's steps one after the other, each over the whole text. */
  private normalizeSlowly(text: string): string {
    const { cleanText, handleChineseChars, stripAccents, lowercase } = this.options;
    let s = text;
    if (cleanText || handleChineseChars) s = this.cleanAndPadChinese(s);
    if (stripAccents) s = removeCodePoints(nfd(s), isNonspacingMark);
    if (lowercase) s = lowercaseText(s);
    return s;
  }

  private cleanAndPadChinese(text: string): string {
    const { cleanText, handleChineseChars } = this.options;
    let out = '';
    for (let i = 0; i < text.length; i++) {
      const cp = text.codePointAt(i)!;
      const width = cp > 0xffff ? 2 : 1;
      const ch = text.slice(i, i + width);
      i += width - 1;
      if (cleanText) {
        // \t \n \r are Cc but count as whitespace; the filter runs before the whitespace map, so
        // other Cc whitespace (U+000B, U+000C, U+0085) is deleted rather than turned into ' '.
        const isTabOrNewline = cp === 0x09 || cp === 0x0a || cp === 0x0d;
        if (cp === 0 || cp === 0xfffd || (isOtherChar(cp) && !isTabOrNewline)) continue;
        if (isWhitespaceChar(cp)) {
          out += ' ';
          continue;
        }
      }
      out += handleChineseChars && isChineseChar(cp) ? ' ' + ch + ' ' : ch;
    }
    return out;
  }
}

/**
 * BertNormalizer one code point at a time, from what it makes of each code point alone (found
 * once by the step-by-step path and memoized). Every step is a map of single code points except
 * NFD's canonical reordering; that only moves non-starters, which strip_accents then deletes
 * when they are nonspacing marks (Mn). A code point whose decomposition holds any other
 * non-starter, or a lone surrogate, sends the whole text back to the step-by-step path.
 */
class BertCodePoints {
  /**
   * Per BMP code unit: 0 not yet known, 1 unchanged, 2 one other code unit, 3 a string, 4 not per
   * code point (or a lone low surrogate), 5 a high surrogate.
   */
  private readonly kinds = new Uint8Array(0x10000);
  private readonly units = new Uint16Array(0x10000);
  private readonly strings = new Map<number, string>();
  /** Astral code points: their kind (1, 3 or 4). */
  private readonly astralKinds = new Map<number, number>();

  constructor(
    readonly key: number,
    private readonly normalizeSlowly: (text: string) => string,
    private readonly stripAccents: boolean,
  ) {}

  /** The normalized text, or undefined when it cannot be done per code point. */
  normalize(text: string): string | undefined {
    const { kinds, units: bmpUnits } = this;
    let out = bertScratch.length < text.length + 16 ? growBertScratch(2 * text.length + 16) : bertScratch;
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      if (n + 2 > out.length) out = growBertScratch(n + 2);
      const c = text.charCodeAt(i);
      let kind = kinds[c]!;
      if (kind === 0) kind = this.learnBmp(c);
      if (kind === 1) out[n++] = c;
      else if (kind === 2) out[n++] = bmpUnits[c]!;
      else if (kind === 4) return undefined;
      else {
        let cp = c;
        if (kind === 5) {
          // A high surrogate: with a low one, an astral code point; alone, not handled here.
          const low = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
          if (low < 0xdc00 || low > 0xdfff) return undefined;
          cp = (c - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000;
          kind = this.astralKinds.get(cp) ?? this.learnAstral(cp);
          if (kind === 4) return undefined;
          i++;
          if (kind === 1) {
            out[n++] = c;
            out[n++] = low;
            continue;
          }
        }
        const s = this.strings.get(cp)!;
        if (n + s.length > out.length) out = growBertScratch(n + s.length);
        for (let k = 0; k < s.length; k++) out[n++] = s.charCodeAt(k);
      }
    }
    return fromCharCodes(out, n);
  }

  private learnBmp(c: number): number {
    let kind: number;
    if (c >= 0xd800 && c <= 0xdbff) kind = 5;
    else if (c >= 0xdc00 && c <= 0xdfff) kind = 4;
    else {
      kind = this.learn(c);
      if (kind === 3) {
        const s = this.strings.get(c)!;
        if (s.length === 1) {
          kind = 2;
          this.units[c] = s.charCodeAt(0);
        }
      }
    }
    this.kinds[c] = kind;
    return kind;
  }

  private learnAstral(cp: number): number {
    const kind = this.learn(cp);
    this.astralKinds.set(cp, kind);
    return kind;
  }

  /** 1 unchanged, 3 replaced (filed in `strings`), 4 not per code point. */
  private learn(cp: number): number {
    const ch = String.fromCodePoint(cp);
    if (this.stripAccents) {
      for (const d of nfd(ch)) {
        const x = d.codePointAt(0)!;
        if (combiningClass(x) !== 0 && !isNonspacingMark(x)) return 4;
      }
    }
    const s = this.normalizeSlowly(ch);
    if (s === ch) return 1;
    this.strings.set(cp, s);
    return 3;
  }
}

/** One memo per BertNormalizer option set (key: the four options as bits). */
const bertCodePoints: (BertCodePoints | undefined)[] = [];
let bertScratch: Uint16Array = new Uint16Array(1024);

function growBertScratch(size: number): Uint16Array {
  const grown = new Uint16Array(Math.max(size, 2 * bertScratch.length));
  grown.set(bertScratch);
  bertScratch = grown;
  return grown;
}

/**
 * `NFD` normalizer: canonical decomposition with the reference's Unicode 9.0 tables.
 * @example new NfdNormalizer().normalize('é') // 'e\u0301'
 */
export class NfdNormalizer implements Normalizer {
  normalize(text: string): string {
    return nfd(text);
  }
}

/**
 * `Lowercase` normalizer: per code point, without the final-sigma rule.
 * @example new LowercaseNormalizer().normalize('ΣΑΣ') // 'σασ'
 */
export class LowercaseNormalizer implements Normalizer {
  normalize(text: string): string {
    return lowercaseText(text);
  }
}

/**
 * `StripAccents` normalizer: drops combining marks. It does not decompose first; tokenizer.json
 * files put an `NFD` before it in a `Sequence`.
 * @example new StripAccentsNormalizer().normalize('e\u0301') // 'e'
 */
export class StripAccentsNormalizer implements Normalizer {
  normalize(text: string): string {
    return removeCodePoints(text, isCombiningMark);
  }
}

/**
 * `Sequence` normalizer: applies its parts in order.
 * @example new SequenceNormalizer([new NfdNormalizer(), new StripAccentsNormalizer()]).normalize('é') // 'e'
 */
export class SequenceNormalizer implements Normalizer {
  constructor(readonly parts: readonly Normalizer[]) {}

  normalize(text: string): string {
    let s = text;
    for (const part of this.parts) s = part.normalize(s);
    return s;
  }
}

/**
 * `Strip` normalizer: trims whitespace (Rust `char::is_whitespace`) on the chosen sides.
 * @example new StripNormalizer(true, true).normalize('\u3000 hi \u0085') // 'hi'
 */
export class StripNormalizer implements Normalizer {
  constructor(
    readonly left: boolean,
    readonly right: boolean,
  ) {}

  normalize(text: string): string {
    let start = 0;
    let end = text.length;
    if (this.left) {
      while (start < end) {
        const cp = text.codePointAt(start)!;
        if (!isWhitespaceChar(cp)) break;
        start += cp > 0xffff ? 2 : 1;
      }
    }
    if (this.right) {
      // Every whitespace character is in the BMP, so one code unit at a time is enough.
      while (end > start && isWhitespaceChar(text.charCodeAt(end - 1))) end--;
    }
    return text.slice(start, end);
  }
}

/**
 * `NFC`, `NFKC` and `NFKD` normalizers, with the reference's Unicode 9.0 data (see
 * {@link normalizeForm}).
 * @example new UnicodeFormNormalizer('NFKC').normalize('ﬁ') // 'fi'
 */
export class UnicodeFormNormalizer implements Normalizer {
  constructor(readonly form: 'NFC' | 'NFKC' | 'NFKD') {}

  normalize(text: string): string {
    return normalizeForm(this.form, text);
  }
}

/**
 * `Replace`: every match of a pattern (a literal or an Oniguruma regex) becomes `content`.
 * @example new ReplaceNormalizer(/ {2,}/gu, '▁').normalize('a   b') // 'a▁b'
 */
export class ReplaceNormalizer implements Normalizer {
  constructor(
    readonly pattern: CompiledPattern,
    readonly content: string,
  ) {}

  normalize(text: string): string {
    const matches = findMatches(this.pattern, text);
    if (matches.length === 0) return text;
    let out = '';
    let previous = 0;
    for (let k = 0; k < matches.length; k += 2) {
      out += text.slice(previous, matches[k]) + this.content;
      previous = matches[k + 1]!;
    }
    return out + text.slice(previous);
  }
}

/**
 * `Prepend`: puts a string in front of non-empty text.
 * @example new PrependNormalizer('▁').normalize('hi') // '▁hi'
 */
export class PrependNormalizer implements Normalizer {
  constructor(readonly prepend: string) {}

  normalize(text: string): string {
    return text.length === 0 ? text : this.prepend + text;
  }
}

/**
 * `Nmt`: drops ASCII control characters and maps other whitespace-like ones to a space, as
 * SentencePiece's NMT rules do.
 * @example new NmtNormalizer().normalize('a\u200bb\u0007') // 'a b'
 */
export class NmtNormalizer implements Normalizer {
  normalize(text: string): string {
    let out = '';
    let copiedUpTo = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const drop = (c >= 0x01 && c <= 0x08) || c === 0x0b || (c >= 0x0e && c <= 0x1f) || c === 0x7f || c === 0x8f || c === 0x9f;
      const space =
        c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x1680 || (c >= 0x200b && c <= 0x200f) || c === 0x2028 || c === 0x2029 || c === 0x2581 || c === 0xfeff || c === 0xfffd;
      if (!drop && !space) continue;
      out += text.slice(copiedUpTo, i) + (space ? ' ' : '');
      copiedUpTo = i + 1;
    }
    return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
  }
}

/**
 * `ByteLevel` normalizer: the byte-level form of the text (see `byte-level.ts`).
 * @example new ByteLevelNormalizer().normalize(' é') // 'ĠÃ©'
 */
export class ByteLevelNormalizer implements Normalizer {
  normalize(text: string): string {
    return toByteLevel(text);
  }
}
