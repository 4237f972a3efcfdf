/**
 * The WordPiece model: greedy longest-match-first splitting of one word into vocabulary pieces,
 * as in Hugging Face `tokenizers` (`models/wordpiece`).
 */
import { DualbertError } from '../errors.js';
import { WORD_CACHE_LIMIT, type TokenizerModel, type WordPieces } from './model.js';

/**
 * Settings of a {@link WordPiece} model.
 * @example const bert: WordPieceOptions = { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 };
 */
export interface WordPieceOptions {
  unkToken: string;
  /** Prefix of pieces that continue a word, usually '##'. */
  continuingSubwordPrefix: string;
  /** Words longer than this many code points become a single unk token. */
  maxInputCharsPerWord: number;
}

export type { WordPieces } from './model.js';

/**
 * WordPiece model over a token → id vocabulary.
 * @example
 * const wp = new WordPiece(new Map([['un', 0], ['##aff', 1], ['##able', 2], ['[UNK]', 3]]),
 *   { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 });
 * wp.tokenizeWord('unaffable').tokens // ['un', '##aff', '##able']
 */
export class WordPiece implements TokenizerModel {
  readonly unkId: number;
  readonly vocabSize: number;
  private tokenOf: string[] | undefined;
  /** The longest vocabulary entry in code points: no longer substring can match. */
  private readonly longestEntry: number;
  private readonly cache = new Map<string, WordPieces>();

  constructor(
    readonly vocab: ReadonlyMap<string, number>,
    readonly options: WordPieceOptions,
  ) {
    const unkId = vocab.get(options.unkToken);
    if (unkId === undefined) {
      throw new DualbertError(
        'INVALID_TOKENIZER',
        `WordPiece unk_token ${JSON.stringify(options.unkToken)} is not in the vocabulary`,
      );
    }
    this.unkId = unkId;
    this.vocabSize = vocab.size;
    let longest = 0;
    for (const token of vocab.keys()) {
      // Code points, not UTF-16 units: the search below steps by code point.
      let n = 0;
      for (let i = 0; i < token.length; i++) {
        const c = token.charCodeAt(i);
        if (c < 0xdc00 || c > 0xdfff) n++;
      }
      if (n > longest) longest = n;
    }
    this.longestEntry = longest;
  }

  idToToken(id: number): string | undefined {
    if (this.tokenOf === undefined) {
      this.tokenOf = [];
      for (const [token, tokenId] of this.vocab) this.tokenOf[tokenId] ??= token;
    }
    return this.tokenOf[id];
  }

  /**
   * Splits one pre-tokenized word. Returns the cached (shared, do not mutate) result.
   * @example wp.tokenizeWord('xyz').ids // [unkId] when no split covers the word
   */
  tokenizeWord(word: string): WordPieces {
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached;
    const result = this.split(word);
    if (this.cache.size >= WORD_CACHE_LIMIT) this.cache.clear();
    this.cache.set(word, result);
    return result;
  }

  private unknown(): WordPieces {
    return { ids: [this.unkId], tokens: [this.options.unkToken] };
  }

  private split(word: string): WordPieces {
    // Code point boundaries as UTF-16 offsets.
    const bounds: number[] = [0];
    for (let i = 0; i < word.length; i++) {
      const c = word.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < word.length) {
        const next = word.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) i++;
      }
      bounds.push(i + 1);
    }
    const length = bounds.length - 1;
    if (length > this.options.maxInputCharsPerWord) return this.unknown();

    const { continuingSubwordPrefix: prefix } = this.options;
    const ids: number[] = [];
    const tokens: string[] = [];
    let start = 0;
    while (start < length) {
      let end = Math.min(length, start + this.longestEntry);
      let found = false;
      while (end > start) {
        const piece = word.slice(bounds[start], bounds[end]);
        const token = start > 0 ? prefix + piece : piece;
        const id = this.vocab.get(token);
        if (id !== undefined) {
          ids.push(id);
          tokens.push(token);
          found = true;
          break;
        }
        end--;
      }
      if (!found) return this.unknown();
      start = end;
    }
    return { ids, tokens };
  }
}
