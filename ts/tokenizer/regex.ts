/**
 * The regexes of tokenizer.json (`Split` and `Replace` patterns) are Oniguruma regexes (Ruby
 * syntax) in the reference. This module translates one into a JS `u`-mode RegExp that matches the
 * same strings on every code point, and finds matches as Oniguruma's `find_iter` does:
 * - `\p{L}` `\p{N}` `\p{P}` `\p{S}` `\p{M}` `\s` `\w` `\d` (and their negations, in or out of
 *   brackets) become explicit classes from the reference's own tables; other properties become
 *   the engine's `\p{...}` (e.g. `\p{Lu}`, `\p{Han}`: current Unicode, may differ on new characters);
 * - `.` excludes only `\n`; `^` `$` are line anchors (`^` not after a final newline); `\A` `\z`
 *   `\Z` string anchors; `\b` `\B` use the Unicode `\w`; `\h` is a hex digit;
 * - `(?i:...)` / `(?i)` become explicit case alternatives (JS engines before 2025 lack inline flags);
 * - atomic groups `(?>...)` and possessive `*+ ++ ?+` become `(?=(...))\N`, which is equivalent;
 * - `{,n}` is `{0,n}`; lone `]` `}` and `{` that starts no quantifier are literals;
 * - a quantifier on a quantifier (`a*{2}`, `a?++`) is refused.
 * Anything else Oniguruma has and JS has not (`\G`, `\K`, `\R`, `\X`, subroutines, conditionals,
 * POSIX brackets, class intersections, other flags) is refused with UNSUPPORTED_TOKENIZER.
 */
import { DualbertError } from '../errors.js';
import { CodePointSet, isOnigClassName, onigClass, type OnigClassName } from './unicode-sets.js';

const SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));

/** `\u{...}` form of a code point, safe anywhere in a `u`-mode pattern. */
function lit(cp: number): string {
  if ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || cp === 0x5f) return String.fromCharCode(cp);
  return `\\u{${cp.toString(16)}}`;
}

/** Case variants of a code point under Unicode simple case folding, as `(?i)` matches them. */
function caseVariants(cp: number): number[] {
  const ch = String.fromCodePoint(cp);
  const candidates = new Set<number>([cp]);
  for (const v of [ch.toLowerCase(), ch.toUpperCase()]) if ([...v].length === 1) candidates.add(v.codePointAt(0)!);
  // Simple folds that lower/upper casing does not reach.
  const extra: Record<number, number[]> = { 0x6b: [0x212a], 0x4b: [0x212a], 0x73: [0x17f], 0x53: [0x17f], 0xe5: [0x212b], 0xc5: [0x212b] };
  for (const e of extra[cp] ?? []) candidates.add(e);
  for (const c of [...candidates]) {
    const back = String.fromCodePoint(c).toLowerCase();
    if ([...back].length === 1) candidates.add(back.codePointAt(0)!);
  }
  return [...candidates].filter((c) => new RegExp(`^${lit(cp)}$`, 'iu').test(String.fromCodePoint(c)));
}

/** A JS class body (no brackets) for a property name, or undefined if the engine knows none. */
function engineProperty(name: string, negated: boolean): string | undefined {
  for (const candidate of [name, `Script=${name}`, name === 'Alpha' ? 'Alphabetic' : '']) {
    if (candidate === '') continue;
    try {
      new RegExp(`\\p{${candidate}}`, 'u');
      return `\\${negated ? 'P' : 'p'}{${candidate}}`;
    } catch {
      // not a name this engine knows
    }
  }
  return undefined;
}

const CLASS_ESCAPES: Record<string, OnigClassName> = { s: 's', w: 'w', d: 'd' };
const LONG_NAMES: Record<string, string> = { Letter: 'L', Number: 'N', Punctuation: 'P', Symbol: 'S', Mark: 'M' };

interface ParseState {
  pattern: string;
  i: number;
  ignoreCase: boolean;
  /** Capture groups emitted so far, and the translated number of each original group. */
  captures: number;
  groupMap: number[];
  originalGroups: number;
}

/**
 * Translates an Oniguruma (Ruby syntax) pattern into JS `u`-mode regex source.
 * @example translateOnigRegex("'s|'t| ?\\p{L}+") // "'s|'t|\\u{20}?[...letters...]+"
 */
export function translateOnigRegex(pattern: string, where: string): string {
  const st: ParseState = { pattern, i: 0, ignoreCase: false, captures: 0, groupMap: [], originalGroups: 0 };
  const out = parseAlternation(st, where, false);
  if (st.i < pattern.length) fail(where, pattern, `unbalanced ")" at ${st.i}`);
  return out;
}

function fail(where: string, pattern: string, what: string): never {
  throw new DualbertError('UNSUPPORTED_TOKENIZER', `${where}: regex ${JSON.stringify(pattern)}: ${what} is not supported`);
}

function parseAlternation(st: ParseState, where: string, inGroup: boolean): string {
  const saved = st.ignoreCase;
  let out = '';
  while (st.i < st.pattern.length) {
    const c = st.pattern[st.i]!;
    if (c === ')') {
      if (!inGroup) fail(where, st.pattern, 'an unbalanced ")"');
      break;
    }
    if (c === '|') {
      out += '|';
      st.i++;
      continue;
    }
    const atom = parseAtom(st, where);
    if (atom === null) continue; // a flag group like (?i) or a comment
    out += parseQuantifier(st, where, atom);
  }
  st.ignoreCase = saved;
  return out;
}

function parseQuantifier(st: ParseState, where: string, atom: string): string {
  const p = st.pattern;
  let q = '';
  const c = p[st.i];
  if (c === '*' || c === '+' || c === '?') {
    q = c;
    st.i++;
  } else if (c === '{') {
    const m = /^\{(\d*)(,?)(\d*)\}/.exec(p.slice(st.i));
    if (m && (m[1] !== '' || m[3] !== '')) {
      q = m[2] ? `{${m[1] || '0'},${m[3]}}` : `{${m[1]}}`;
      st.i += m[0].length;
      if (p[st.i] === '+') fail(where, p, 'a "+" after an interval');
    }
  }
  if (q === '') return atom;
  let out = `${atom}${q}`;
  if (p[st.i] === '?') {
    st.i++;
    out = `${atom}${q}?`;
  } else if (p[st.i] === '+' && q.length === 1) {
    st.i++;
    out = atomic(st, `${atom}${q}`);
  }
  // Oniguruma repeats a repetition (`a*{2}`, `a?++`) and reduces some pairs to one quantifier;
  // JS has neither, and no tokenizer needs it.
  if (startsQuantifier(p, st.i)) fail(where, p, 'a quantifier on a quantifier');
  return out;
}

function startsQuantifier(p: string, i: number): boolean {
  const c = p[i];
  if (c === '*' || c === '+' || c === '?') return true;
  if (c !== '{') return false;
  const m = /^\{(\d*),?(\d*)\}/.exec(p.slice(i));
  return m !== null && (m[1] !== '' || m[2] !== '');
}

/** `(?>X)` as `(?=(X))\N`: the lookahead finds X's one match, the backreference consumes it. */
function atomic(st: ParseState, inner: string): string {
  const n = ++st.captures;
  return `(?:(?=(${inner}))\\${n})`;
}

function parseAtom(st: ParseState, where: string): string | null {
  const p = st.pattern;
  const c = p[st.i]!;
  if (c === '(') return parseGroup(st, where);
  if (c === '[') return parseClass(st, where);
  if (c === '\\') return parseEscape(st, where);
  st.i++;
  if (c === '.') return '[^\\n]';
  // Oniguruma's `^` matches after a newline except at the very end of the string.
  if (c === '^') return '(?:(?<![\\s\\S])|(?<=\\n)(?=[\\s\\S]))';
  if (c === '$') return '(?![^\\n])';
  const cp = p.codePointAt(st.i - 1)!;
  if (cp > 0xffff) st.i++;
  return literal(st, cp);
}

function literal(st: ParseState, cp: number): string {
  if (st.ignoreCase) {
    const variants = caseVariants(cp);
    if (variants.length > 1) return `[${variants.map(lit).join('')}]`;
  }
  return SYNTAX.has(String.fromCodePoint(cp)) || cp > 0x7e || cp < 0x20 ? lit(cp) : String.fromCodePoint(cp);
}

function parseGroup(st: ParseState, where: string): string | null {
  const p = st.pattern;
  st.i++; // (
  let open = '(';
  let isAtomic = false;
  const savedCase = st.ignoreCase;
  if (p[st.i] === '?') {
    const rest = p.slice(st.i + 1);
    const flags = /^([imx]*)(?:-([imx]*))?([:)])/.exec(rest);
    if (rest.startsWith('#')) {
      const end = p.indexOf(')', st.i);
      if (end < 0) fail(where, p, 'an unterminated comment');
      st.i = end + 1;
      return null;
    } else if (rest.startsWith(':')) {
      open = '(?:';
      st.i += 2;
    } else if (rest.startsWith('=') || rest.startsWith('!')) {
      open = `(?${rest[0]}`;
      st.i += 2;
    } else if (rest.startsWith('<=') || rest.startsWith('<!')) {
      open = `(?${rest.slice(0, 2)}`;
      st.i += 3;
    } else if (rest.startsWith('>')) {
      open = '(?:';
      isAtomic = true;
      st.i += 2;
    } else if (/^<[A-Za-z_]\w*>/.test(rest) || /^'[A-Za-z_]\w*'/.test(rest)) {
      const name = /^.([A-Za-z_]\w*)/.exec(rest)![1]!;
      open = `(?<${name}>`;
      st.i += name.length + 3;
      st.captures++;
      st.groupMap[++st.originalGroups] = st.captures;
    } else if (flags && flags[0].length > 1) {
      const on = flags[1]!;
      const off = flags[2] ?? '';
      if (/[mx]/.test(on + off)) fail(where, p, `the flag group "(?${flags[0]}"`);
      st.i += 1 + flags[0].length;
      if (on.includes('i')) st.ignoreCase = true;
      if (off.includes('i')) st.ignoreCase = false;
      if (flags[3] === ')') return null; // applies to the rest of the enclosing group
      open = '(?:';
    } else {
      fail(where, p, `the group "(?${rest.slice(0, 2)}"`);
    }
  } else {
    st.captures++;
    st.groupMap[++st.originalGroups] = st.captures;
  }
  const body = parseAlternation(st, where, true);
  if (p[st.i] !== ')') fail(where, p, 'an unclosed "("');
  st.i++;
  st.ignoreCase = savedCase;
  return isAtomic ? atomic(st, body) : `${open}${body})`;
}

/** Parses `\p{...}`, `\P{...}`, `\p{^...}` after the backslash-letter; returns [name, negated]. */
function parseProperty(st: ParseState, where: string, negated: boolean): [string, boolean] {
  const p = st.pattern;
  if (p[st.i] !== '{') fail(where, p, `"\\${negated ? 'P' : 'p'}" without braces`);
  const end = p.indexOf('}', st.i);
  if (end < 0) fail(where, p, 'an unterminated property');
  let name = p.slice(st.i + 1, end);
  st.i = end + 1;
  if (name.startsWith('^')) {
    negated = !negated;
    name = name.slice(1);
  }
  return [name, negated];
}

/** A class item as either a code point set (for tables) or a JS class-body fragment. */
type ClassPart = { set: CodePointSet } | { body: string } | { cp: number };

function tableSet(name: OnigClassName, negated: boolean): CodePointSet {
  return negated ? onigClass(name).complement() : onigClass(name);
}

let wordInBracketsSet: CodePointSet | undefined;

function wordInBrackets(): CodePointSet {
  if (wordInBracketsSet === undefined) {
    const excluded = new Set([0xb2, 0xb3, 0xb9, 0xbc, 0xbd, 0xbe]);
    const ranges: number[] = [];
    const w = onigClass('w').ranges;
    for (let i = 0; i < w.length; i += 2) {
      let start = w[i]!;
      for (let cp = start; cp <= w[i + 1]!; cp++) {
        if (!excluded.has(cp)) continue;
        if (cp > start) ranges.push(start, cp - 1);
        start = cp + 1;
      }
      if (start <= w[i + 1]!) ranges.push(start, w[i + 1]!);
    }
    wordInBracketsSet = new CodePointSet(Uint32Array.from(ranges));
  }
  return wordInBracketsSet;
}

const HEX = new CodePointSet(Uint32Array.from([0x30, 0x39, 0x41, 0x46, 0x61, 0x66]));

/** An escape inside or outside brackets that denotes a set of characters, or undefined. */
function classEscape(st: ParseState, where: string, letter: string, inBracket: boolean): ClassPart | undefined {
  const lower = letter.toLowerCase();
  const negated = letter !== lower;
  if (lower in CLASS_ESCAPES) {
    // Oniguruma quirk (measured): inside brackets `\w` leaves out ² ³ ¹ ¼ ½ ¾, which `\w` alone
    // matches; `\W` is the complement of the outside `\w` in both places.
    if (inBracket && letter === 'w') return { set: wordInBrackets() };
    return { set: tableSet(CLASS_ESCAPES[lower]!, negated) };
  }
  if (lower === 'h') return { set: negated ? HEX.complement() : HEX };
  if (lower === 'p') {
    const [name, neg] = parseProperty(st, where, negated);
    const short = LONG_NAMES[name] ?? name;
    if (/^[LNPSM]$/.test(short) && isOnigClassName(short)) return { set: tableSet(short, neg) };
    const body = engineProperty(name, neg);
    if (body === undefined) fail(where, st.pattern, `the property "${name}"`);
    return { body };
  }
  return undefined;
}

/** A single-character escape (\n, \x41, \u0041, \x{1F600}, \.), as a code point. */
function charEscape(st: ParseState, where: string, letter: string): number {
  const p = st.pattern;
  const simple: Record<string, number> = { n: 0x0a, t: 0x09, r: 0x0d, f: 0x0c, v: 0x0b, a: 0x07, e: 0x1b, '0': 0 };
  if (letter in simple && !(letter === '0' && /[0-7]/.test(p[st.i] ?? ''))) return simple[letter]!;
  if (letter === 'x') {
    const m = /^\{([0-9a-fA-F]{1,8})\}|^([0-9a-fA-F]{1,2})/.exec(p.slice(st.i));
    if (!m) fail(where, p, 'a malformed "\\x" escape');
    st.i += m[0].length;
    return parseInt(m[1] ?? m[2]!, 16);
  }
  if (letter === 'u') {
    const m = /^[0-9a-fA-F]{4}/.exec(p.slice(st.i));
    if (!m) fail(where, p, 'a malformed "\\u" escape');
    st.i += 4;
    return parseInt(m[0], 16);
  }
  if (/[A-Za-z0-9]/.test(letter)) fail(where, p, `the escape "\\${letter}"`);
  return letter.codePointAt(0)!;
}

/** The character after a backslash (consumed), or a refusal when the pattern ends there. */
function escapeLetter(st: ParseState, where: string): string {
  const cp = st.pattern.codePointAt(st.i);
  if (cp === undefined) fail(where, st.pattern, 'a trailing backslash');
  return String.fromCodePoint(cp);
}

function parseEscape(st: ParseState, where: string): string {
  const p = st.pattern;
  st.i++; // backslash
  const letter = escapeLetter(st, where);
  st.i += letter.length;
  const cls = classEscape(st, where, letter, false);
  if (cls !== undefined) return emitClass([cls], false);
  const word = `[${onigClass('w').classBody()}]`;
  switch (letter) {
    case 'A':
      return '^';
    case 'z':
      return '$';
    case 'Z':
      return '(?=\\n?$)';
    case 'b':
      return `(?:(?<=${word})(?!${word})|(?<!${word})(?=${word}))`;
    case 'B':
      return `(?:(?<=${word})(?=${word})|(?<!${word})(?!${word}))`;
    case 'k': {
      const m = /^<([A-Za-z_]\w*)>/.exec(p.slice(st.i));
      if (!m) fail(where, p, 'a "\\k" reference other than \\k<name>');
      st.i += m[0].length;
      return `\\k<${m[1]}>`;
    }
  }
  if (/[1-9]/.test(letter)) {
    const target = st.groupMap[Number(letter)];
    if (target === undefined) fail(where, p, `the backreference "\\${letter}" before its group`);
    return `(?:\\${target})`;
  }
  return literal(st, charEscape(st, where, letter));
}

function parseClass(st: ParseState, where: string): string {
  const p = st.pattern;
  st.i++; // [
  let negated = false;
  if (p[st.i] === '^') {
    negated = true;
    st.i++;
  }
  const parts: ClassPart[] = [];
  let first = true;
  while (st.i < p.length && (p[st.i] !== ']' || first)) {
    first = false;
    if (p[st.i] === '[') fail(where, p, 'a nested class or POSIX bracket');
    if (p.startsWith('&&', st.i)) fail(where, p, 'a class intersection "&&"');
    const start = classChar(st, where, parts);
    if (start === undefined) continue;
    if (p[st.i] === '-' && p[st.i + 1] !== ']' && st.i + 1 < p.length) {
      st.i++;
      const end = classChar(st, where, parts);
      if (end === undefined) fail(where, p, 'a range ending in a class escape');
      if (end < start) fail(where, p, 'a reversed range');
      addRange(st, where, parts, start, end);
    } else {
      addRange(st, where, parts, start, start);
    }
  }
  if (p[st.i] !== ']') fail(where, p, 'an unterminated "["');
  st.i++;
  return emitClass(parts, negated);
}

function addRange(st: ParseState, where: string, parts: ClassPart[], start: number, end: number): void {
  if (!st.ignoreCase) {
    parts.push({ set: new CodePointSet(Uint32Array.from([start, end])) });
    return;
  }
  if (end - start > 512) fail(where, st.pattern, 'a case-insensitive range over 512 characters');
  for (let cp = start; cp <= end; cp++) for (const v of caseVariants(cp)) parts.push({ cp: v });
}

/** Reads one class member; pushes class escapes to `parts` and returns undefined for them. */
function classChar(st: ParseState, where: string, parts: ClassPart[]): number | undefined {
  const p = st.pattern;
  const cp = p.codePointAt(st.i)!;
  st.i += cp > 0xffff ? 2 : 1;
  if (cp !== 0x5c) return cp;
  const letter = escapeLetter(st, where);
  st.i += letter.length;
  const cls = classEscape(st, where, letter, true);
  if (cls !== undefined) {
    parts.push(cls);
    return undefined;
  }
  if (letter === 'b') return 0x08;
  return charEscape(st, where, letter);
}

function emitClass(parts: ClassPart[], negated: boolean): string {
  let body = '';
  for (const part of parts) {
    if ('set' in part) body += part.set.classBody();
    else if ('body' in part) body += part.body;
    else body += lit(part.cp);
  }
  if (body === '') return negated ? '[^]' : '[]';
  return `[${negated ? '^' : ''}${body}]`;
}

const isLead = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isTrail = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/**
 * A compiled pattern: a JS RegExp (global, `u`) for a regex, or a literal string.
 * @example compilePattern({ Regex: '\\s+' }, 'tokenizer.json pre_tokenizer.pattern')
 */
export type CompiledPattern = RegExp | string;

/**
 * Compiles a tokenizer.json pattern: `{"String": "..."}` (a literal) or `{"Regex": "..."}`.
 * @example compilePattern({ String: '▁' }, 'tokenizer.json normalizer.pattern') // '▁'
 */
export function compilePattern(pattern: unknown, where: string): CompiledPattern {
  if (typeof pattern === 'object' && pattern !== null && !Array.isArray(pattern)) {
    const p = pattern as Record<string, unknown>;
    // The reference compiles an escaped String too; an empty one matches between every character.
    if (typeof p.String === 'string') return p.String === '' ? new RegExp('(?:)', 'gu') : p.String;
    if (typeof p.Regex === 'string') {
      const source = translateOnigRegex(p.Regex, where);
      try {
        return new RegExp(source, 'gu');
      } catch (error) {
        throw new DualbertError('UNSUPPORTED_TOKENIZER', `${where}: regex ${JSON.stringify(p.Regex)} has no JS equivalent (${(error as Error).message})`);
      }
    }
  }
  throw new DualbertError('INVALID_TOKENIZER', `${where} must be {"String": "..."} or {"Regex": "..."} (got ${JSON.stringify(pattern)})`);
}

/**
 * Match ranges, flattened [start, end, start, end, ...] in UTF-16 offsets, as Oniguruma's
 * `find_iter` yields them: leftmost matches left to right, and an empty match right where the
 * previous match ended is skipped. A literal string matches non-overlapping occurrences; the
 * empty literal matches nothing.
 * @example findMatches(/a+/gu, 'baaca') // [1, 3, 4, 5]
 */
export function findMatches(pattern: CompiledPattern, text: string): number[] {
  const out: number[] = [];
  if (typeof pattern === 'string') {
    if (pattern === '') return out;
    for (let at = text.indexOf(pattern); at >= 0; at = text.indexOf(pattern, at + pattern.length)) out.push(at, at + pattern.length);
    return out;
  }
  let searchFrom = 0;
  let lastMatchEnd = -1;
  while (searchFrom <= text.length) {
    pattern.lastIndex = searchFrom;
    const m = pattern.exec(text);
    if (m === null) break;
    const start = m.index;
    const end = start + m[0].length;
    if (start > 0 && isTrail(text.charCodeAt(start)) && isLead(text.charCodeAt(start - 1))) {
      // V8 tries empty-matchable patterns inside a surrogate pair; Oniguruma never starts inside a character.
      searchFrom = start + 1;
      continue;
    }
    if (start === end && end === lastMatchEnd) {
      // Step one code point past the empty match and search again.
      const cp = text.codePointAt(searchFrom);
      searchFrom += cp !== undefined && cp > 0xffff ? 2 : 1;
      continue;
    }
    out.push(start, end);
    searchFrom = end;
    lastMatchEnd = end;
  }
  return out;
}
