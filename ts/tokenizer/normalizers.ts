/**
 * Normalizers: the first stage of the pipeline, applied to each stretch of text between added
 * tokens. Each reproduces the Rust normalizer of the same name in Hugging Face `tokenizers`.
 */
import { toByteLevel } from './byte-level.js';
import { findMatches, type CompiledPattern } from './regex.js';
import {
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
  constructor(readonly options: BertNormalizerOptions) {}

  normalize(text: string): string {
    const { cleanText, handleChineseChars, stripAccents, lowercase } = this.options;
    // Printable ASCII has no control, CJK or accented characters, and ASCII lowercasing has no
    // context rules, so the whole-string toLowerCase is exact here.
    if (isPrintableAscii(text)) return lowercase ? text.toLowerCase() : text;
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
