/**
 * Sets of code points decoded from the gap-encoded tables of `unicode-data.ts`: the Oniguruma
 * character classes the reference's regexes use (`\p{L}`, `\s`, ...), `char::is_numeric`, and the
 * code points with a compatibility decomposition. Each set is decoded on first use.
 */
import { COMPAT_DECOMPOSABLE, GRAPHEME_CONTROL, GRAPHEME_EXTEND, GRAPHEME_PREPEND, NUMERIC, ONIG_CLASSES } from './unicode-data.js';

/**
 * A set of code points: a bitmap for the BMP (one lookup in hot loops), sorted ranges above it.
 * @example CodePointSet.fromGapRanges('1c.9').has(0x35) // true: the range starts 0x30 (base 36 '1c') code points in and spans 9 more
 */
export class CodePointSet {
  private readonly bmp = new Uint32Array(0x10000 / 32);
  /** Flattened inclusive [start, end] pairs of the whole set, ascending. */
  readonly ranges: Uint32Array;
  private readonly astralFrom: number;

  constructor(ranges: Uint32Array) {
    this.ranges = ranges;
    let astralFrom = ranges.length;
    for (let i = 0; i < ranges.length; i += 2) {
      const start = ranges[i]!;
      const end = ranges[i + 1]!;
      for (let cp = start; cp <= Math.min(end, 0xffff); cp++) this.bmp[cp >>> 5]! |= 1 << (cp & 31);
      if (end > 0xffff && astralFrom === ranges.length) astralFrom = i;
    }
    this.astralFrom = astralFrom;
  }

  /** Decodes `gap` / `gap.length` base-36 entries (see unicode-data.ts). */
  static fromGapRanges(spec: string): CodePointSet {
    const entries = spec.split(',');
    const ranges = new Uint32Array(entries.length * 2);
    let previousEnd = -1;
    entries.forEach((entry, i) => {
      const dot = entry.indexOf('.');
      const start = previousEnd + 1 + parseInt(dot < 0 ? entry : entry.slice(0, dot), 36);
      const end = start + (dot < 0 ? 0 : parseInt(entry.slice(dot + 1), 36));
      ranges[2 * i] = start;
      ranges[2 * i + 1] = end;
      previousEnd = end;
    });
    return new CodePointSet(ranges);
  }

  has(cp: number): boolean {
    if (cp < 0x10000) return (this.bmp[cp >>> 5]! & (1 << (cp & 31))) !== 0;
    let lo = this.astralFrom / 2;
    let hi = this.ranges.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (cp < this.ranges[mid * 2]!) hi = mid - 1;
      else if (cp > this.ranges[mid * 2 + 1]!) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** The ranges of the complement (within U+0000..U+10FFFF), as a new set. */
  complement(): CodePointSet {
    const out: number[] = [];
    let next = 0;
    for (let i = 0; i < this.ranges.length; i += 2) {
      if (this.ranges[i]! > next) out.push(next, this.ranges[i]! - 1);
      next = this.ranges[i + 1]! + 1;
    }
    if (next <= 0x10ffff) out.push(next, 0x10ffff);
    return new CodePointSet(Uint32Array.from(out));
  }

  /** The body of a JS `u`-mode character class matching exactly this set, e.g. `\u{41}-\u{5a}`. */
  classBody(): string {
    let body = '';
    for (let i = 0; i < this.ranges.length; i += 2) {
      const start = this.ranges[i]!;
      const end = this.ranges[i + 1]!;
      body += start === end ? `\\u{${start.toString(16)}}` : `\\u{${start.toString(16)}}-\\u{${end.toString(16)}}`;
    }
    return body;
  }
}

/** Names of the Oniguruma classes the tables cover. */
export type OnigClassName = keyof typeof ONIG_CLASSES;

const onigSets = new Map<OnigClassName, CodePointSet>();

/**
 * An Oniguruma class exactly as the reference's regex engine has it (its own Unicode version):
 * `L` `N` `P` `S` `M` are `\p{...}`, `s` `w` `d` are `\s` `\w` `\d` (Unicode-aware, unlike JS).
 * @example onigClass('s').has(0x85) // true; JS /\s/ says false
 */
export function onigClass(name: OnigClassName): CodePointSet {
  let set = onigSets.get(name);
  if (set === undefined) {
    set = CodePointSet.fromGapRanges(ONIG_CLASSES[name]);
    onigSets.set(name, set);
  }
  return set;
}

/** Whether `name` is one of the classes {@link onigClass} knows. */
export function isOnigClassName(name: string): name is OnigClassName {
  return Object.prototype.hasOwnProperty.call(ONIG_CLASSES, name);
}

let numericSet: CodePointSet | undefined;

/**
 * Rust `char::is_numeric` (Nd, Nl, No), what the `Digits` pre-tokenizer splits on.
 * @example isNumericChar(0xbd) // true: '½'
 */
export function isNumericChar(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x30 && cp <= 0x39;
  numericSet ??= CodePointSet.fromGapRanges(NUMERIC);
  return numericSet.has(cp);
}

let compatSet: CodePointSet | undefined;

/**
 * Whether the code point has a compatibility decomposition in the reference (Unicode 9.0).
 * @example hasCompatDecomposition(0xfb01) // true: 'ﬁ' → 'fi'
 */
export function hasCompatDecomposition(cp: number): boolean {
  compatSet ??= CodePointSet.fromGapRanges(COMPAT_DECOMPOSABLE);
  return compatSet.has(cp);
}

let graphemeSets: { extend: CodePointSet; prepend: CodePointSet; control: CodePointSet } | undefined;

/**
 * Whether an extended grapheme cluster continues from `previous` into `next`, by the rules
 * that decide clusters shorter than 6 UTF-8 bytes (all the Precompiled normalizer needs): CR ×
 * LF; Control, CR and LF stand alone; × Extend, ZWJ, SpacingMark; Prepend ×. Hangul syllable
 * sequences, emoji ZWJ sequences, regional indicator pairs and Indic conjuncts only form
 * clusters of 6 bytes or more, which are treated character by character anyway.
 * @example continuesCluster(0x65, 0x301) // true: 'e' + combining acute
 */
export function continuesCluster(previous: number, next: number): boolean {
  if (previous === 0x0d) return next === 0x0a;
  if (next < 0x300 && previous < 0x300) return false; // the common case: no rule applies
  if (graphemeSets === undefined) {
    graphemeSets = {
      extend: CodePointSet.fromGapRanges(GRAPHEME_EXTEND),
      prepend: CodePointSet.fromGapRanges(GRAPHEME_PREPEND),
      control: CodePointSet.fromGapRanges(GRAPHEME_CONTROL),
    };
  }
  const sets = graphemeSets;
  if (previous === 0x0a || sets.control.has(previous)) return false;
  if (next === 0x0d || next === 0x0a || sets.control.has(next)) return false;
  return sets.extend.has(next) || sets.prepend.has(previous);
}
