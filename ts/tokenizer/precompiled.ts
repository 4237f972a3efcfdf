/**
 * The `Precompiled` normalizer: SentencePiece's normalization rules as shipped in a
 * tokenizer.json (`precompiled_charsmap`, base64), applied exactly as Hugging Face `tokenizers`
 * applies them (the `spm_precompiled` crate).
 *
 * The charsmap is `[u32 LE: trie size in bytes][trie: darts-clone double array of u32 units]
 * [replacement strings: UTF-8, each ended by a NUL byte]`. The trie maps UTF-8 byte strings to the
 * offset of their replacement. The text is walked by grapheme cluster: a cluster shorter than 6
 * UTF-8 bytes is replaced whole by the replacement of the *shortest* rule matching a prefix of it
 * (the rest of the cluster is dropped: "yes, this seems broken" says the reference, and it is
 * what XLM-R, mBART and Marian were trained with); otherwise, and when no rule matches, each code
 * point is looked up alone. Clusters follow the rules of `continuesCluster` (unicode-sets.ts).
 */
import { DualbertError } from '../errors.js';
import type { Normalizer } from './normalizers.js';
import { continuesCluster } from './unicode-sets.js';

/** UTF-8 bytes of one code point into `out` at `at`; returns the new end. */
function putUtf8(cp: number, out: Uint8Array, at: number): number {
  if (cp < 0x80) {
    out[at] = cp;
    return at + 1;
  }
  if (cp < 0x800) {
    out[at] = 0xc0 | (cp >> 6);
    out[at + 1] = 0x80 | (cp & 0x3f);
    return at + 2;
  }
  if (cp < 0x10000) {
    out[at] = 0xe0 | (cp >> 12);
    out[at + 1] = 0x80 | ((cp >> 6) & 0x3f);
    out[at + 2] = 0x80 | (cp & 0x3f);
    return at + 3;
  }
  out[at] = 0xf0 | (cp >> 18);
  out[at + 1] = 0x80 | ((cp >> 12) & 0x3f);
  out[at + 2] = 0x80 | ((cp >> 6) & 0x3f);
  out[at + 3] = 0x80 | (cp & 0x3f);
  return at + 4;
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The `Precompiled` normalizer of a tokenizer.json.
 * @example const n = Precompiled.fromBase64(json.normalizer.precompiled_charsmap); n.normalize('ﬁ') // 'fi' with nmt_nfkc rules
 */
export class Precompiled implements Normalizer {
  private readonly units: Uint32Array;
  private readonly pool: Uint8Array;
  private readonly replacements = new Map<number, string>();
  /** Replacement per single code point: a string, or null for "no rule". */
  private readonly single = new Map<number, string | null>();
  private readonly buffer = new Uint8Array(32);

  constructor(charsmap: Uint8Array, where = 'tokenizer.json normalizer.precompiled_charsmap') {
    const bad = (why: string): never => {
      throw new DualbertError('INVALID_TOKENIZER', `${where} ${why}`);
    };
    if (charsmap.length < 4) bad('is too short to hold a charsmap');
    const view = new DataView(charsmap.buffer, charsmap.byteOffset, charsmap.byteLength);
    const trieBytes = view.getUint32(0, true);
    if (trieBytes % 4 !== 0 || 4 + trieBytes > charsmap.length || trieBytes === 0) bad(`declares a trie of ${trieBytes} bytes in ${charsmap.length}`);
    this.units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 + 4 * i, true);
    this.pool = charsmap.subarray(4 + trieBytes);
  }

  /** Builds the normalizer from the base64 text of `precompiled_charsmap`. */
  static fromBase64(text: string, where?: string): Precompiled {
    let bytes: Uint8Array;
    try {
      bytes = decodeBase64(text);
    } catch {
      throw new DualbertError('INVALID_TOKENIZER', `${where ?? 'tokenizer.json normalizer.precompiled_charsmap'} is not valid base64`);
    }
    return new Precompiled(bytes, where);
  }

  /**
   * The value of the shortest trie key that is a prefix of bytes[0..length), or -1. Darts-clone
   * unit layout: label = unit & 0x800000ff, has_leaf = bit 8, offset = (unit >> 10) << ((unit & 512) >> 6).
   */
  private firstPrefixValue(bytes: Uint8Array, length: number): number {
    const units = this.units;
    let pos = 0;
    let unit = units[0]!;
    pos ^= (unit >>> 10) << ((unit & 512) >>> 6);
    for (let i = 0; i < length; i++) {
      const c = bytes[i]!;
      if (c === 0) return -1;
      pos ^= c;
      if (pos >= units.length) return -1;
      unit = units[pos]!;
      if ((unit & 0x800000ff) >>> 0 !== c) return -1;
      pos ^= (unit >>> 10) << ((unit & 512) >>> 6);
      if ((unit >>> 8) & 1) return pos < units.length ? units[pos]! & 0x7fffffff : -1;
    }
    return -1;
  }

  private replacementAt(offset: number): string {
    let s = this.replacements.get(offset);
    if (s === undefined) {
      let end = offset;
      while (end < this.pool.length && this.pool[end] !== 0) end++;
      s = new TextDecoder().decode(this.pool.subarray(Math.min(offset, this.pool.length), end));
      this.replacements.set(offset, s);
    }
    return s;
  }

  /** The replacement of one code point alone, or null when no rule matches. */
  private ofCodePoint(cp: number): string | null {
    let r = this.single.get(cp);
    if (r === undefined) {
      const value = this.firstPrefixValue(this.buffer, putUtf8(cp, this.buffer, 0));
      r = value < 0 ? null : this.replacementAt(value);
      if (this.single.size >= 65_536) this.single.clear(); // bounded: texts repeat few characters
      this.single.set(cp, r);
    }
    return r;
  }

  normalize(text: string): string {
    let out = '';
    let copiedUpTo = 0;
    for (let i = 0; i < text.length; ) {
      const first = text.codePointAt(i)!;
      let end = i + (first > 0xffff ? 2 : 1);
      for (let previous = first; end < text.length; ) {
        const next = text.codePointAt(end)!;
        if (!continuesCluster(previous, next)) break;
        end += next > 0xffff ? 2 : 1;
        previous = next;
      }
      const replaced = this.clusterReplacement(text, i, end, first);
      if (replaced !== null) {
        out += text.slice(copiedUpTo, i) + replaced;
        copiedUpTo = end;
      }
      i = end;
    }
    return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
  }

  /** The normalized text of one grapheme cluster, or null when it is unchanged. */
  private clusterReplacement(text: string, start: number, end: number, first: number): string | null {
    const firstWidth = first > 0xffff ? 2 : 1;
    if (start + firstWidth === end) return this.ofCodePoint(first);
    // Whole cluster first, when shorter than 6 UTF-8 bytes.
    let length = 0;
    for (let i = start; i < end && length < 6; i++) {
      const cp = text.codePointAt(i)!;
      length = putUtf8(cp, this.buffer, length);
      if (cp > 0xffff) i++;
    }
    if (length < 6) {
      const value = this.firstPrefixValue(this.buffer, length);
      if (value >= 0) return this.replacementAt(value);
    }
    let out = '';
    let changed = false;
    for (let i = start; i < end; i++) {
      const cp = text.codePointAt(i)!;
      const width = cp > 0xffff ? 2 : 1;
      const r = this.ofCodePoint(cp);
      if (r === null) out += text.slice(i, i + width);
      else {
        out += r;
        changed = true;
      }
      i += width - 1;
    }
    return changed ? out : null;
  }
}
