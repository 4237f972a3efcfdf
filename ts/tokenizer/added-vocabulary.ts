/**
 * Added tokens (special tokens such as [CLS] and user-added tokens): found in the text before the
 * model runs, with the id assignment and matching rules of Hugging Face `tokenizers`
 * (`AddedVocabulary`): leftmost-longest, non-overlapping matches; `normalized: false` tokens are
 * matched in the raw text, `normalized: true` ones in the normalized text between those matches.
 */
import type { Normalizer } from './normalizers.js';
import { isWhitespaceChar, isWordChar } from './unicode.js';

/**
 * One added token as tokenizer.json describes it (without the id, which is assigned here).
 * @example const sep: AddedToken = { content: '[SEP]', singleWord: false, lstrip: false, rstrip: false, normalized: false, special: true };
 */
export interface AddedToken {
  content: string;
  /** Only match when not inside a word (neighbours are not `\w`). */
  singleWord: boolean;
  /** Swallow whitespace to the left of a match. */
  lstrip: boolean;
  /** Swallow whitespace to the right of a match. */
  rstrip: boolean;
  /** Match against normalized text (true) or raw text (false). */
  normalized: boolean;
  special: boolean;
}

/**
 * A piece of text: either an added-token match (with its id) or text for the model.
 * @example const split: TextSplit = { text: '[SEP]', tokenId: 102 };
 */
export interface TextSplit {
  text: string;
  tokenId?: number;
}

interface Pattern {
  pattern: string;
  id: number;
}

/** Identity of a token with all its flags: re-adding an identical token is a no-op. */
function tokenKey(t: AddedToken): string {
  return JSON.stringify([t.content, t.singleWord, t.lstrip, t.rstrip, t.normalized, t.special]);
}

function codePointBefore(text: string, index: number): number {
  const low = text.charCodeAt(index - 1);
  if (low >= 0xdc00 && low <= 0xdfff && index >= 2) {
    const high = text.charCodeAt(index - 2);
    if (high >= 0xd800 && high <= 0xdbff) return (high - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000;
  }
  return low;
}

/** Leftmost-longest, non-overlapping matching of a fixed set of strings. */
class PatternMatcher {
  /** Patterns grouped by first UTF-16 unit, longest first. */
  private readonly byFirstUnit = new Map<number, Pattern[]>();
  /** One bit per UTF-16 unit that starts a pattern: most characters are skipped without a Map lookup. */
  private readonly firstUnits = new Uint32Array(2048);

  constructor(patterns: readonly Pattern[]) {
    for (const p of patterns) {
      if (p.pattern.length === 0) continue;
      const key = p.pattern.charCodeAt(0);
      this.firstUnits[key >>> 5]! |= 1 << (key & 31);
      const group = this.byFirstUnit.get(key) ?? [];
      group.push(p);
      this.byFirstUnit.set(key, group);
    }
    // Stable sort: among equal lengths the first-added pattern wins, like the Rust automaton.
    for (const group of this.byFirstUnit.values()) group.sort((a, b) => b.pattern.length - a.pattern.length);
  }

  get isEmpty(): boolean {
    return this.byFirstUnit.size === 0;
  }

  /** The leftmost match starting at or after `from` (longest among those at that position). */
  find(text: string, from: number): { start: number; end: number; id: number } | undefined {
    const firstUnits = this.firstUnits;
    for (let i = from; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      if ((firstUnits[unit >>> 5]! & (1 << (unit & 31))) === 0) continue;
      const group = this.byFirstUnit.get(unit);
      if (group === undefined) continue;
      for (const p of group) {
        if (text.startsWith(p.pattern, i)) return { start: i, end: i + p.pattern.length, id: p.id };
      }
    }
    return undefined;
  }
}

/**
 * The added vocabulary of a tokenizer.
 * @example
 * const added = new AddedVocabulary([{ content: '[SEP]', singleWord: false, lstrip: false, rstrip: false, normalized: false, special: true }], vocab, null);
 * added.splitRaw('a [SEP] b') // [{ text: 'a ' }, { text: '[SEP]', tokenId: 102 }, { text: ' b' }]
 */
export class AddedVocabulary {
  private readonly idByContent = new Map<string, number>();
  private readonly tokenById = new Map<number, AddedToken>();
  private readonly rawMatcher: PatternMatcher;
  private readonly normalizedMatcher: PatternMatcher;

  /**
   * Adds the tokens one by one, in order, as the Rust deserializer does. A token keeps the id its
   * content already has (an earlier added token or the model vocabulary); a new content gets the
   * next id after the model vocabulary, whatever id the file lists for it.
   */
  constructor(
    tokens: readonly AddedToken[],
    modelVocab: ReadonlyMap<string, number>,
    normalizer: Normalizer | null,
    /** The model's vocabulary size as the reference counts it (Unigram: pieces, repeats included). */
    modelVocabSize = modelVocab.size,
  ) {
    const specialTokens: AddedToken[] = [];
    const specialContents = new Set<string>();
    const plainTokens: AddedToken[] = [];
    const keyById = new Map<number, string>();
    const currentKeys = new Map<string, number>(); // key → how many ids hold that exact token
    let maxId = -1;
    for (const token of tokens) {
      if (token.special && token.content !== '' && !specialContents.has(token.content)) {
        specialTokens.push(token);
        specialContents.add(token.content);
      }
      const key = tokenKey(token);
      if (token.content === '' || (currentKeys.get(key) ?? 0) > 0) continue;
      let id = this.idByContent.get(token.content) ?? modelVocab.get(token.content);
      if (id === undefined) {
        // The Rust rule: right after the model vocabulary, or after the largest added id past it.
        const vocabSize = modelVocabSize;
        id = maxId < 0 ? vocabSize : maxId >= vocabSize || vocabSize === 0 ? maxId + 1 : vocabSize;
      }
      this.idByContent.set(token.content, id);
      const replaced = keyById.get(id);
      if (replaced !== undefined) currentKeys.set(replaced, currentKeys.get(replaced)! - 1);
      keyById.set(id, key);
      currentKeys.set(key, (currentKeys.get(key) ?? 0) + 1);
      this.tokenById.set(id, token);
      maxId = Math.max(maxId, id);
      if (!specialContents.has(token.content)) plainTokens.push(token);
    }

    const raw: Pattern[] = [];
    const normalized: Pattern[] = [];
    for (const token of [...specialTokens, ...plainTokens]) {
      const id = this.idByContent.get(token.content) ?? modelVocab.get(token.content)!;
      if (token.normalized) {
        normalized.push({ pattern: normalizer ? normalizer.normalize(token.content) : token.content, id });
      } else {
        raw.push({ pattern: token.content, id });
      }
    }
    this.rawMatcher = new PatternMatcher(raw);
    this.normalizedMatcher = new PatternMatcher(normalized);
  }

  /** Id of an added token's content, if it is one. */
  tokenToId(content: string): number | undefined {
    return this.idByContent.get(content);
  }

  /** Content of the added token with this id, if any. */
  idToToken(id: number): string | undefined {
    return this.tokenById.get(id)?.content;
  }

  /** Largest id in use, or -1 when there are no added tokens. */
  get maxId(): number {
    let max = -1;
    for (const id of this.tokenById.keys()) if (id > max) max = id;
    return max;
  }

  /** Splits raw text around the `normalized: false` tokens. */
  splitRaw(text: string): TextSplit[] {
    return this.split(text, this.rawMatcher);
  }

  /** Splits already-normalized text around the `normalized: true` tokens. */
  splitNormalized(text: string): TextSplit[] {
    return this.split(text, this.normalizedMatcher);
  }

  private split(text: string, matcher: PatternMatcher): TextSplit[] {
    if (matcher.isEmpty || text.length === 0) return [{ text }];
    const splits: TextSplit[] = [];
    let offset = 0; // end of the previous split
    let searchFrom = 0; // the automaton resumes after the raw match, not after stripped spaces
    for (;;) {
      const match = matcher.find(text, searchFrom);
      if (match === undefined) break;
      searchFrom = match.end;
      let { start, end } = match;
      const token = this.tokenById.get(match.id)!;
      if (token.singleWord) {
        const wordBefore = start > 0 && isWordChar(codePointBefore(text, start));
        const wordAfter = end < text.length && isWordChar(text.codePointAt(end)!);
        if (wordBefore || wordAfter) continue;
      }
      if (token.lstrip) {
        let newStart = start;
        while (newStart > 0) {
          const cp = codePointBefore(text, newStart);
          if (!isWhitespaceChar(cp)) break;
          newStart -= cp > 0xffff ? 2 : 1;
        }
        // Spaces an earlier match already swallowed stay with it.
        start = Math.max(newStart, offset);
      }
      if (token.rstrip) {
        while (end < text.length) {
          const cp = text.codePointAt(end)!;
          if (!isWhitespaceChar(cp)) break;
          end += cp > 0xffff ? 2 : 1;
        }
      }
      if (offset < start) splits.push({ text: text.slice(offset, start) });
      splits.push({ text: text.slice(start, end), tokenId: match.id });
      offset = end;
    }
    if (offset !== text.length) splits.push({ text: text.slice(offset) });
    return splits;
  }
}
