/**
 * The WordPiece model: greedy longest-match-first splitting of one word into vocabulary pieces,
 * as in Hugging Face `tokenizers` (`models/wordpiece`).
 */
import { DualbertError } from '../errors.js';
import { CACHED_WORD_MIN_LENGTH, WORD_CACHE_LIMIT, type TokenizerModel, type WordPieces } from './model.js';
import { EMPTY_HASH, extendHash, VocabHash } from './vocab-hash.js';

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
  private readonly cache = new Map<string, WordPieces>();
  private readonly table: VocabHash;
  /** The hash of the continuing-subword prefix, where the hashes of non-initial pieces start. */
  private readonly prefixHash: number;
  /** Hashes of the candidate pieces at one position (reused). */
  private hashes = new Int32Array(64);

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
    // Built with the vocabulary (as its Map is), not on the first word: loading a tokenizer
    // pays for it once, encoding never does.
    this.table = new VocabHash(vocab);
    const prefix = options.continuingSubwordPrefix;
    let h = EMPTY_HASH;
    for (let i = 0; i < prefix.length; i++) h = extendHash(h, prefix.charCodeAt(i));
    this.prefixHash = h;
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
    const cacheable = word.length >= CACHED_WORD_MIN_LENGTH;
    const cached = cacheable ? this.cache.get(word) : undefined;
    if (cached !== undefined) return cached;
    const result = this.split(word);
    if (!cacheable) return result;
    if (this.cache.size >= WORD_CACHE_LIMIT) this.cache.clear();
    this.cache.set(word, result);
    return result;
  }

  /**
   * Splits the word `text[start, end)`, appending its pieces to `ids` and `tokens` without
   * building the word's string; returns how many it appended.
   * @example const ids: number[] = []; wp.tokenizeRange('an unaffable', 3, 12, ids, []) // 3
   */
  tokenizeRange(text: string, start: number, end: number, ids: number[], tokens: string[]): number {
    const table = this.table;
    const max = this.options.maxInputCharsPerWord;
    if (end - start > max && codePointCount(text, start, end) > max) return this.pushUnknown(ids, tokens);
    const before = ids.length;
    let prefix = '';
    let startHash = EMPTY_HASH;
    let pos = start;
    while (pos < end) {
      // The longest vocabulary entry `prefix + text[pos, e)` with e on a code point boundary of
      // the word: hash every candidate, then look them up from the longest down, as the
      // reference tries them.
      const limit = Math.min(end, pos + table.longest - prefix.length);
      if (limit - pos > this.hashes.length) this.hashes = new Int32Array(2 * (limit - pos));
      const hashes = this.hashes;
      let h = startHash;
      for (let i = pos; i < limit; i++) {
        h = extendHash(h, text.charCodeAt(i));
        hashes[i - pos] = h;
      }
      let entry = -1;
      let e = limit;
      for (; e > pos; e--) {
        if (e < end && splitsPair(text, e)) continue;
        entry = table.find(hashes[e - pos - 1]!, prefix, text, pos, e);
        if (entry >= 0) break;
      }
      if (entry < 0) {
        ids.length = before;
        tokens.length = before;
        return this.pushUnknown(ids, tokens);
      }
      ids.push(table.id(entry));
      tokens.push(table.token(entry));
      pos = e;
      prefix = this.options.continuingSubwordPrefix;
      startHash = this.prefixHash;
    }
    return ids.length - before;
  }

  private pushUnknown(ids: number[], tokens: string[]): number {
    ids.push(this.unkId);
    tokens.push(this.options.unkToken);
    return 1;
  }

  private split(word: string): WordPieces {
    const ids: number[] = [];
    const tokens: string[] = [];
    this.tokenizeRange(word, 0, word.length, ids, tokens);
    return { ids, tokens };
  }
}

/** Whether offset `i` falls between the two halves of a surrogate pair. */
function splitsPair(text: string, i: number): boolean {
  const low = text.charCodeAt(i);
  if (low < 0xdc00 || low > 0xdfff) return false;
  const high = text.charCodeAt(i - 1);
  return high >= 0xd800 && high <= 0xdbff;
}

/** Code points in `text[start, end)` (a surrogate pair counts once, a lone surrogate once). */
function codePointCount(text: string, start: number, end: number): number {
  let n = end - start;
  for (let i = start + 1; i < end; i++) if (splitsPair(text, i)) n--;
  return n;
}
