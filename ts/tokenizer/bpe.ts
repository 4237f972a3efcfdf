/**
 * The BPE model of Hugging Face `tokenizers` (`models/bpe`): a word starts as one symbol per
 * character (with the continuing-subword prefix on all but the first and the end-of-word suffix
 * on the last), unknown characters become byte-fallback tokens or the unk token (fused when
 * `fuse_unk`), then the merge of lowest rank is applied repeatedly, leftmost first.
 */
import { DualbertError } from '../errors.js';
import { IntPairMap, CACHED_WORD_MIN_LENGTH, WORD_CACHE_LIMIT, type TokenizerModel, type WordPieces } from './model.js';

/**
 * Settings of a {@link Bpe} model, as tokenizer.json names them (null/absent → undefined).
 * @example const roberta: BpeOptions = { unkToken: undefined, continuingSubwordPrefix: undefined, endOfWordSuffix: undefined, fuseUnk: false, byteFallback: false, ignoreMerges: false };
 */
export interface BpeOptions {
  unkToken: string | undefined;
  continuingSubwordPrefix: string | undefined;
  endOfWordSuffix: string | undefined;
  fuseUnk: boolean;
  byteFallback: boolean;
  /** Look a whole word up in the vocabulary before merging. */
  ignoreMerges: boolean;
}

const UTF8 = new TextEncoder();

/** A binary min-heap of merge candidates ordered by (rank, position). */
class MergeQueue {
  private keys: number[] = [];
  private newIds: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  clear(): void {
    this.keys.length = 0;
    this.newIds.length = 0;
  }

  push(rank: number, pos: number, newId: number): void {
    // rank and position packed in one float64: rank < 2^28, position < 2^24.
    const key = rank * 0x1000000 + pos;
    const { keys, newIds } = this;
    let i = keys.length;
    keys.push(key);
    newIds.push(newId);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent]! <= key) break;
      keys[i] = keys[parent]!;
      newIds[i] = newIds[parent]!;
      i = parent;
    }
    keys[i] = key;
    newIds[i] = newId;
  }

  /** Removes the smallest entry; returns its packed key, its new id in `popped`. */
  pop(): number {
    const { keys, newIds } = this;
    const top = keys[0]!;
    this.popped = newIds[0]!;
    const lastKey = keys.pop()!;
    const lastId = newIds.pop()!;
    const n = keys.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && keys[r]! < keys[l]! ? r : l;
        if (keys[c]! >= lastKey) break;
        keys[i] = keys[c]!;
        newIds[i] = newIds[c]!;
        i = c;
      }
      keys[i] = lastKey;
      newIds[i] = lastId;
    }
    return top;
  }

  popped = 0;
}

/** Words of at most this many symbols merge by scanning their pairs, not through the queue. */
const SHORT_WORD = 24;
const NO_MERGE = Number.POSITIVE_INFINITY;

/**
 * A BPE model over a vocabulary and ranked merges.
 * @example
 * const bpe = new Bpe(new Map([['a', 0], ['b', 1], ['ab', 2]]), [['a', 'b']], { unkToken: undefined, continuingSubwordPrefix: undefined, endOfWordSuffix: undefined, fuseUnk: false, byteFallback: false, ignoreMerges: false });
 * bpe.tokenizeWord('abab').tokens // ['ab', 'ab']
 */
export class Bpe implements TokenizerModel {
  readonly vocabSize: number;
  readonly unkId: number | undefined;
  private readonly merges: IntPairMap;
  private readonly tokenOf: string[] = [];
  private readonly cache = new Map<string, WordPieces>();
  /** Ids of single-character symbols for the first 512 code points (byte-level alphabets). */
  private readonly charIds = new Int32Array(512).fill(-1);
  private readonly queue = new MergeQueue();
  /** Per-symbol links, reused across words (grown when a longer word comes). */
  private next = new Int32Array(64);
  private prev = new Int32Array(64);
  private removed = new Uint8Array(64);
  /** Rank and result of each pair of a short word (NO_MERGE / -1 when none). */
  private readonly shortRank = new Float64Array(SHORT_WORD);
  private readonly shortMerged = new Int32Array(SHORT_WORD);

  constructor(
    readonly vocab: ReadonlyMap<string, number>,
    merges: ReadonlyArray<readonly [string, string]>,
    readonly options: BpeOptions,
    where = 'tokenizer.json model',
  ) {
    this.vocabSize = vocab.size;
    for (const [token, id] of vocab) this.tokenOf[id] ??= token;
    this.unkId = options.unkToken === undefined ? undefined : vocab.get(options.unkToken);
    const prefix = options.continuingSubwordPrefix ?? '';
    const prefixBytes = UTF8.encode(prefix).length;
    this.merges = new IntPairMap(merges.length);
    merges.forEach(([a, b], rank) => {
      const missing = (token: string): never => {
        throw new DualbertError('INVALID_TOKENIZER', `${where}.merges[${rank}] (${JSON.stringify(`${a} ${b}`)}): ${JSON.stringify(token)} is not in the vocabulary`);
      };
      const aId = vocab.get(a) ?? missing(a);
      const bId = vocab.get(b) ?? missing(b);
      // The reference drops the prefix's byte length from the second token, prefix or not.
      const rest = b.startsWith(prefix) ? b.slice(prefix.length) : new TextDecoder().decode(UTF8.encode(b).subarray(prefixBytes));
      const merged = a + rest;
      const newId = vocab.get(merged) ?? missing(merged);
      this.merges.set(aId, bId, rank, newId);
    });
    if (!prefix && options.endOfWordSuffix === undefined) {
      for (let cp = 0; cp < 512; cp++) this.charIds[cp] = vocab.get(String.fromCharCode(cp)) ?? -1;
    }
  }

  idToToken(id: number): string | undefined {
    return this.tokenOf[id];
  }

  tokenizeWord(word: string): WordPieces {
    const cacheable = word.length >= CACHED_WORD_MIN_LENGTH;
    const cached = cacheable ? this.cache.get(word) : undefined;
    if (cached !== undefined) return cached;
    let result: WordPieces;
    const whole = this.options.ignoreMerges ? this.vocab.get(word) : undefined;
    if (whole !== undefined) result = { ids: [whole], tokens: [word] };
    else result = this.mergeWord(word);
    if (!cacheable) return result;
    if (this.cache.size >= WORD_CACHE_LIMIT) this.cache.clear();
    this.cache.set(word, result);
    return result;
  }

  private unkIdOrThrow(): number {
    if (this.unkId === undefined) {
      throw new DualbertError('INVALID_TOKENIZER', `BPE unk_token ${JSON.stringify(this.options.unkToken)} is not in the vocabulary`);
    }
    return this.unkId;
  }

  /** The initial symbols of a word (ids), then the merges. */
  private mergeWord(word: string): WordPieces {
    const { continuingSubwordPrefix: prefix, endOfWordSuffix: suffix, byteFallback, fuseUnk, unkToken } = this.options;
    const symbols: number[] = [];
    let pendingUnk = false; // an unk symbol waiting to be added (fused runs extend it)
    for (let i = 0; i < word.length; ) {
      const cp = word.codePointAt(i)!;
      const width = cp > 0xffff ? 2 : 1;
      const isFirst = i === 0;
      i += width;
      const isLast = i >= word.length;
      let id = cp < 512 && !(prefix && !isFirst) && !(suffix !== undefined && isLast) ? this.charIds[cp]! : -1;
      let s: string | undefined;
      if (id < 0) {
        s = String.fromCodePoint(cp);
        if (!isFirst && prefix !== undefined) s = prefix + s;
        if (isLast && suffix !== undefined) s += suffix;
        id = this.vocab.get(s) ?? -1;
      }
      if (id >= 0) {
        if (pendingUnk) {
          symbols.push(this.unkIdOrThrow());
          pendingUnk = false;
        }
        symbols.push(id);
        continue;
      }
      if (byteFallback) {
        const bytes = UTF8.encode(s!);
        const ids: number[] = [];
        for (const b of bytes) {
          const byteId = this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
          if (byteId === undefined) break;
          ids.push(byteId);
        }
        // A pending unk stays pending: the reference adds it after these bytes.
        if (ids.length === bytes.length) {
          for (const b of ids) symbols.push(b);
          continue;
        }
      }
      if (unkToken !== undefined) {
        if (pendingUnk && !fuseUnk) symbols.push(this.unkIdOrThrow());
        this.unkIdOrThrow();
        pendingUnk = true;
      }
    }
    if (pendingUnk) symbols.push(this.unkIdOrThrow());
    const ids = this.applyMerges(symbols);
    return { ids, tokens: ids.map((id) => this.tokenOf[id]!) };
  }

  /**
   * The same merges for a short word without the queue: the queue always holds every pair still
   * in the word, so what it pops is the lowest-ranked pair, leftmost among equals; here a scan
   * over the pairs' ranks finds it, and only the two pairs next to a merge are looked up again.
   */
  private applyMergesShort(c: number[]): number[] {
    const merges = this.merges;
    const rank = this.shortRank;
    const merged = this.shortMerged;
    let n = c.length;
    for (let i = 0; i + 1 < n; i++) {
      const e = merges.get(c[i]!, c[i + 1]!);
      rank[i] = e < 0 ? NO_MERGE : merges.first(e);
      merged[i] = e < 0 ? -1 : merges.second(e);
    }
    for (;;) {
      let best = -1;
      let bestRank = NO_MERGE;
      for (let i = 0; i + 1 < n; i++) {
        if (rank[i]! < bestRank) {
          bestRank = rank[i]!;
          best = i;
        }
      }
      if (best < 0) break;
      c[best] = merged[best]!;
      // Drop symbol best + 1 and the pair that started there.
      for (let i = best + 1; i + 1 < n; i++) {
        c[i] = c[i + 1]!;
        rank[i] = rank[i + 1]!;
        merged[i] = merged[i + 1]!;
      }
      n--;
      c.length = n;
      for (let i = Math.max(0, best - 1); i <= best && i + 1 < n; i++) {
        const e = merges.get(c[i]!, c[i + 1]!);
        rank[i] = e < 0 ? NO_MERGE : merges.first(e);
        merged[i] = e < 0 ? -1 : merges.second(e);
      }
    }
    return c;
  }

  /** Merges by rank, leftmost first, exactly as the reference's queue does. */
  private applyMerges(c: number[]): number[] {
    const n = c.length;
    if (n < 2) return c;
    if (n <= SHORT_WORD) return this.applyMergesShort(c);
    if (n > this.next.length) {
      const size = Math.max(n, this.next.length * 2);
      this.next = new Int32Array(size);
      this.prev = new Int32Array(size);
      this.removed = new Uint8Array(size);
    }
    const { next, prev, removed } = this;
    removed.fill(0, 0, n);
    const queue = this.queue;
    queue.clear();
    for (let i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
      if (i + 1 < n) {
        const e = this.merges.get(c[i]!, c[i + 1]!);
        if (e >= 0) queue.push(this.merges.first(e), i, this.merges.second(e));
      }
    }
    while (queue.size > 0) {
      const key = queue.pop();
      const newId = queue.popped;
      const pos = key % 0x1000000;
      if (removed[pos] || next[pos] === -1) continue;
      const right = next[pos]!;
      const e = this.merges.get(c[pos]!, c[right]!);
      if (e < 0 || this.merges.second(e) !== newId) continue; // an outdated entry
      c[pos] = newId;
      removed[right] = 1;
      next[pos] = next[right]!;
      if (next[right]! >= 0) prev[next[right]!] = pos;
      const before = prev[pos]!;
      if (before >= 0) {
        const eb = this.merges.get(c[before]!, newId);
        if (eb >= 0) queue.push(this.merges.first(eb), before, this.merges.second(eb));
      }
      const after = next[pos]!;
      if (after >= 0) {
        const ea = this.merges.get(newId, c[after]!);
        if (ea >= 0) queue.push(this.merges.first(ea), pos, this.merges.second(ea));
      }
    }
    const out: number[] = [];
    for (let i = 0; i < n; i++) if (!removed[i]) out.push(c[i]!);
    return out;
  }
}
