/**
 * What every tokenizer model (WordPiece, BPE, Unigram, WordLevel) offers the pipeline: the
 * pieces of one pre-tokenized word, and its vocabulary.
 */

/**
 * Word pieces of one word: parallel ids and token strings.
 * @example const p: WordPieces = { ids: [19204, 3989], tokens: ['token', '##ization'] };
 */
export interface WordPieces {
  ids: number[];
  tokens: string[];
}

/**
 * A tokenizer model.
 * @example const pieces = model.tokenizeWord('unaffable'); // { ids: [...], tokens: [...] }
 */
export interface TokenizerModel {
  /** Token string → id. */
  readonly vocab: ReadonlyMap<string, number>;
  /** The vocabulary size as the reference counts it (added tokens get ids from here on). */
  readonly vocabSize: number;
  /** The unknown token's id, when the model has one. */
  readonly unkId: number | undefined;
  /** Splits one word; the result may be shared (cached): do not mutate it. */
  tokenizeWord(word: string): WordPieces;
  /**
   * Optional: splits the word `text[start, end)` as {@link tokenizeWord} would, appending to
   * `ids` and `tokens` without building the word's string; returns how many pieces it appended.
   */
  tokenizeRange?(text: string, start: number, end: number, ids: number[], tokens: string[]): number;
  /** The token of an id as the model names it. */
  idToToken(id: number): string | undefined;
}

/** Words are cached because natural text repeats them; the cap bounds memory on huge inputs. */
export const WORD_CACHE_LIMIT = 50_000;

/**
 * Only words at least this long (UTF-16 units) are cached. Splitting a short word costs less
 * than keeping its result: measured on the corpus (bench/tokenizer.mjs), BPE and Unigram ran
 * 1.5× and 2× faster with a fresh tokenizer and no faster with a warm one when short words were
 * not cached (hashing each new word string, and the garbage collector copying the retained
 * results, cost more than the merges or the Viterbi pass they saved).
 */
export const CACHED_WORD_MIN_LENGTH = 32;

/**
 * A map from a pair of non-negative integers to two integers, in typed arrays (open addressing):
 * BPE's merge table without a string or boxed key per lookup.
 * @example const m = new IntPairMap(16); m.set(3, 7, 0, 42); m.get(3, 7) // index of the entry; m.first(i) // 0
 */
export class IntPairMap {
  private keysA: Int32Array;
  private keysB: Int32Array;
  private valuesA: Int32Array;
  private valuesB: Int32Array;
  private mask: number;
  private count = 0;

  constructor(expected: number) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.keysA = new Int32Array(capacity).fill(-1);
    this.keysB = new Int32Array(capacity);
    this.valuesA = new Int32Array(capacity);
    this.valuesB = new Int32Array(capacity);
  }

  private slot(a: number, b: number): number {
    let h = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca6b)) >>> 0;
    h ^= h >>> 15;
    let i = h & this.mask;
    while (this.keysA[i] !== -1 && (this.keysA[i] !== a || this.keysB[i] !== b)) i = (i + 1) & this.mask;
    return i;
  }

  /** Sets (or replaces) the two values of (a, b). */
  set(a: number, b: number, first: number, second: number): void {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    const i = this.slot(a, b);
    if (this.keysA[i] === -1) this.count++;
    this.keysA[i] = a;
    this.keysB[i] = b;
    this.valuesA[i] = first;
    this.valuesB[i] = second;
  }

  /** The entry of (a, b), or -1: read its values with {@link first} and {@link second}. */
  get(a: number, b: number): number {
    const i = this.slot(a, b);
    return this.keysA[i] === -1 ? -1 : i;
  }

  first(entry: number): number {
    return this.valuesA[entry]!;
  }

  second(entry: number): number {
    return this.valuesB[entry]!;
  }

  private grow(): void {
    const { keysA, keysB, valuesA, valuesB } = this;
    const capacity = (this.mask + 1) * 2;
    this.mask = capacity - 1;
    this.keysA = new Int32Array(capacity).fill(-1);
    this.keysB = new Int32Array(capacity);
    this.valuesA = new Int32Array(capacity);
    this.valuesB = new Int32Array(capacity);
    this.count = 0;
    for (let i = 0; i < keysA.length; i++) if (keysA[i] !== -1) this.set(keysA[i]!, keysB[i]!, valuesA[i]!, valuesB[i]!);
  }
}

/**
 * Byte-fallback tokens of a string: `<0xNN>` for each UTF-8 byte, if all are in the vocabulary.
 * @example byteFallbackTokens('é', vocab) // ['<0xC3>', '<0xA9>'] when both exist
 */
export function byteFallbackTokens(text: string, vocab: ReadonlyMap<string, number>): WordPieces | undefined {
  const bytes = new TextEncoder().encode(text);
  const ids: number[] = [];
  const tokens: string[] = [];
  for (const b of bytes) {
    const token = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
    const id = vocab.get(token);
    if (id === undefined) return undefined;
    ids.push(id);
    tokens.push(token);
  }
  return { ids, tokens };
}
