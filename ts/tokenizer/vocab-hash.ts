/**
 * Vocabulary lookup of substrings in place: each entry is filed under a 32-bit hash of its UTF-16
 * code units that can be computed one unit at a time, so WordPiece's longest-match search hashes
 * each candidate piece by extending the previous one's hash instead of slicing a new string per
 * candidate and hashing it in a Map (a string allocation per candidate, O(n²) hashing per word).
 * One table entry per vocabulary entry keeps building it cheap (a trie needs one per code unit).
 */

/** FNV-1a offset basis: the hash of the empty string. */
export const EMPTY_HASH = 0x811c9dc5 | 0;

/**
 * The hash of a string extended by one code unit (FNV-1a over code units).
 * @example const h = extendHash(extendHash(EMPTY_HASH, 0x75), 0x6e); // hash of 'un'
 */
export function extendHash(hash: number, unit: number): number {
  return Math.imul(hash ^ unit, 0x01000193);
}

/**
 * Vocabulary entries by incremental hash.
 * @example
 * const table = new VocabHash(new Map([['un', 0], ['##able', 1]]));
 * const h = extendHash(extendHash(EMPTY_HASH, 0x75), 0x6e);
 * table.find(h, '', 'un', 0, 2) // the entry 'un': table.id(entry) === 0
 */
export class VocabHash {
  /** Open addressing: the entry index of each slot (-1 empty) and its full hash. */
  private readonly slotEntry: Int32Array;
  private readonly slotHash: Int32Array;
  private readonly mask: number;
  private readonly entryIds: Int32Array;
  /** The entry strings (the Map's own keys: no new string per match). */
  private readonly entryTokens: string[] = [];
  /** The longest entry, in code units. */
  readonly longest: number;

  constructor(vocab: ReadonlyMap<string, number>) {
    let capacity = 16;
    while (capacity < vocab.size * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.slotEntry = new Int32Array(capacity).fill(-1);
    this.slotHash = new Int32Array(capacity);
    this.entryIds = new Int32Array(vocab.size);
    let longest = 0;
    for (const [token, id] of vocab) {
      let h = EMPTY_HASH;
      for (let i = 0; i < token.length; i++) h = extendHash(h, token.charCodeAt(i));
      let slot = this.slotOf(h);
      while (this.slotEntry[slot] !== -1) slot = (slot + 1) & this.mask;
      const entry = this.entryTokens.length;
      this.slotEntry[slot] = entry;
      this.slotHash[slot] = h;
      this.entryIds[entry] = id;
      this.entryTokens.push(token);
      if (token.length > longest) longest = token.length;
    }
    this.longest = longest;
  }

  private slotOf(hash: number): number {
    return (hash ^ (hash >>> 15)) & this.mask;
  }

  /**
   * The entry equal to `prefix + text[start, end)`, whose hash is `hash`, or -1.
   */
  find(hash: number, prefix: string, text: string, start: number, end: number): number {
    const length = prefix.length + end - start;
    let slot = this.slotOf(hash);
    for (;;) {
      const entry = this.slotEntry[slot]!;
      if (entry === -1) return -1;
      if (this.slotHash[slot] === hash) {
        const token = this.entryTokens[entry]!;
        if (token.length === length && token.startsWith(prefix) && sameUnits(token, prefix.length, text, start, end)) return entry;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** The id of an entry. */
  id(entry: number): number {
    return this.entryIds[entry]!;
  }

  /** The string of an entry. */
  token(entry: number): string {
    return this.entryTokens[entry]!;
  }
}

function sameUnits(token: string, from: number, text: string, start: number, end: number): boolean {
  for (let i = start, j = from; i < end; i++, j++) if (token.charCodeAt(j) !== text.charCodeAt(i)) return false;
  return true;
}
