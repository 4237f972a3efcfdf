/**
 * Pre-tokenizers: split normalized text into words for the model. Each reproduces the Rust
 * pre-tokenizer of the same name in Hugging Face `tokenizers`; empty pieces are never produced.
 */
import { isBertPunctuation, isWhitespaceChar, isWordChar } from './unicode.js';

/**
 * Splits normalized text into words, appending them to `out`.
 * @example const words: string[] = []; (new BertPreTokenizer() as PreTokenizer).split('a, b', words) // ['a', ',', 'b']
 */
export interface PreTokenizer {
  split(text: string, out: string[]): void;
}

/**
 * `BertPreTokenizer`: splits on whitespace (removed) and isolates every punctuation character
 * (ASCII punctuation or Unicode P*).
 * @example const words: string[] = []; new BertPreTokenizer().split("don't stop", words) // ["don", "'", "t", "stop"]
 */
export class BertPreTokenizer implements PreTokenizer {
  split(text: string, out: string[]): void {
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
  }
}

/**
 * `WhitespaceSplit`: splits on whitespace only.
 * @example const words: string[] = []; new WhitespaceSplitPreTokenizer().split('a, b', words) // ['a,', 'b']
 */
export class WhitespaceSplitPreTokenizer implements PreTokenizer {
  split(text: string, out: string[]): void {
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
  }
}

/**
 * `Whitespace`: the matches of the regex `\w+|[^\w\s]+` (runs of word characters, runs of other
 * non-space characters); whitespace is dropped.
 * @example const words: string[] = []; new WhitespacePreTokenizer().split('a,, b', words) // ['a', ',,', 'b']
 */
export class WhitespacePreTokenizer implements PreTokenizer {
  split(text: string, out: string[]): void {
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
  }
}

/**
 * `Sequence` of pre-tokenizers: each one splits the pieces the previous one produced.
 * @example new SequencePreTokenizer([new WhitespaceSplitPreTokenizer(), new BertPreTokenizer()])
 */
export class SequencePreTokenizer implements PreTokenizer {
  constructor(readonly parts: readonly PreTokenizer[]) {}

  split(text: string, out: string[]): void {
    let pieces = [text];
    for (const part of this.parts) {
      const next: string[] = [];
      for (const piece of pieces) part.split(piece, next);
      pieces = next;
    }
    for (const piece of pieces) out.push(piece);
  }
}
