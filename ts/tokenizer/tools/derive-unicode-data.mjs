// Regenerates ../unicode-data.ts by probing every Unicode code point through the reference
// implementation (Hugging Face `tokenizers`, Rust, via its Node binding). The tables record what
// that implementation *does*, which is not what the current Unicode standard says: its category
// tables are frozen at Unicode 8.0 and its NFD tables at Unicode 9.0.
//
// A development tool, not part of the library (it needs Node and the reference binding, which is
// not a dependency; test/tokenizer-reference.test.ts checks the result against it). Usage:
//   npm install --no-save tokenizers@0.23.2
//   node ts/tokenizer/tools/derive-unicode-data.mjs > ts/tokenizer/unicode-data.ts   (a few minutes)
import hf from 'tokenizers';
import referencePackage from 'tokenizers/package.json' with { type: 'json' };

const REFERENCE_VERSION = referencePackage.version;

const nfd = hf.nfdNormalizer();
const bert = (options) =>
  hf.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false, ...options });
const clean = bert({ cleanText: true });
const stripAccents = bert({ stripAccents: true });
const lowercase = bert({ lowercase: true });
const stripCombining = hf.stripAccentsNormalizer();
const bertPre = hf.bertPreTokenizer();
const whitespacePre = hf.whitespacePreTokenizer();

const hex = (n) => n.toString(16);
const isSurrogate = (cp) => cp >= 0xd800 && cp <= 0xdfff;
const isHangulSyllable = (cp) => cp >= 0xac00 && cp <= 0xd7a3;

const sets = { other: [], punctuation: [], nonspacing: [], combining: [], word: [] };
const lowerMap = [];
const decompositions = [];
const nonStarters = [];

for (let cp = 0; cp < 0x110000; cp++) {
  if (isSurrogate(cp)) continue;
  const c = String.fromCodePoint(cp);
  // clean_text drops U+0000, U+FFFD and `is_other` chars except \t \n \r (which it turns into spaces).
  const cleaned = clean.normalizeString('a' + c + 'b');
  if ((cleaned === 'ab' && cp !== 0xfffd) || cp === 0x09 || cp === 0x0a || cp === 0x0d) sets.other.push(cp);
  if (bertPre.preTokenizeString('a' + c + 'b').length === 3) sets.punctuation.push(cp);
  const decomposed = nfd.normalizeString(c);
  if (decomposed !== c) {
    if (!isHangulSyllable(cp)) decompositions.push([cp, [...decomposed].map((x) => x.codePointAt(0))]);
  } else {
    if (stripAccents.normalizeString(c) === '') sets.nonspacing.push(cp);
    if (nfd.normalizeString(c + '\u0334') === '\u0334' + c || nfd.normalizeString('\u0301' + c) === c + '\u0301') {
      nonStarters.push(cp);
    }
  }
  if (stripCombining.normalizeString('a' + c) === 'a') sets.combining.push(cp);
  const lower = lowercase.normalizeString(c);
  if (lower !== c) lowerMap.push([cp, [...lower].map((x) => x.codePointAt(0))]);
  if (whitespacePre.preTokenizeString('a' + c + 'b').length === 1) sets.word.push(cp);
}

// Canonical combining classes: order the non-starters with the reference's own reordering, then
// name each equivalence class by a representative whose class value is known.
const compare = (x, y) => {
  const a = String.fromCodePoint(x);
  const b = String.fromCodePoint(y);
  if (nfd.normalizeString(a + b) === b + a) return 1;
  if (nfd.normalizeString(b + a) === a + b) return -1;
  return 0;
};
nonStarters.sort(compare);
const groups = [];
for (const cp of nonStarters) {
  const last = groups[groups.length - 1];
  if (last && compare(last[0], cp) === 0) last.push(cp);
  else groups.push([cp]);
}
const KNOWN_CLASSES = {
  0x0334: 1, 0x16ff0: 6, 0x093c: 7, 0x3099: 8, 0x094d: 9, 0x05b0: 10, 0x05b1: 11, 0x05b2: 12, 0x05b3: 13,
  0x05b4: 14, 0x05b5: 15, 0x05b6: 16, 0x05b7: 17, 0x05b8: 18, 0x05b9: 19, 0x05bb: 20, 0x05bc: 21, 0x05bd: 22,
  0x05bf: 23, 0x05c1: 24, 0x05c2: 25, 0xfb1e: 26, 0x064b: 27, 0x064c: 28, 0x064d: 29, 0x064e: 30, 0x064f: 31,
  0x0650: 32, 0x0651: 33, 0x0652: 34, 0x0670: 35, 0x0711: 36, 0x0c55: 84, 0x0c56: 91, 0x0e38: 103, 0x0e48: 107,
  0x0eb8: 118, 0x0ec8: 122, 0x0f71: 129, 0x0f72: 130, 0x0f74: 132, 0x0321: 202, 0x1dce: 214, 0x031b: 216,
  0x302a: 218, 0x0316: 220, 0x059a: 222, 0x302e: 224, 0x1d16d: 226, 0x05ae: 228, 0x0300: 230, 0x0315: 232,
  0x035c: 233, 0x035d: 234, 0x0345: 240,
};
const classes = [];
let previousClass = 0;
for (const group of groups) {
  const representative = group.find((cp) => KNOWN_CLASSES[cp] !== undefined);
  if (representative === undefined) throw new Error(`no known class for ${group.map(hex).join(' ')}`);
  const value = KNOWN_CLASSES[representative];
  if (value <= previousClass) throw new Error('combining classes out of order');
  previousClass = value;
  for (const cp of group) classes.push([cp, value]);
}
classes.sort((a, b) => a[0] - b[0]);

function toRanges(codePoints) {
  const ranges = [];
  for (const cp of codePoints) {
    const last = ranges[ranges.length - 1];
    if (last && last[1] === cp - 1) last[1] = cp;
    else ranges.push([cp, cp]);
  }
  return ranges.map(([a, b]) => (a === b ? hex(a) : `${hex(a)}-${hex(b)}`)).join(',');
}

// Lowercase: runs of code points sharing one delta, stepping by 1 or 2 (A-Z, or Ā ā Ă ă ...).
function toLowercaseRuns(map) {
  const runs = [];
  for (const [cp, lower] of map) {
    if (lower.length !== 1) {
      runs.push(`${hex(cp)}=${lower.map(hex).join(' ')}`);
      continue;
    }
    const delta = lower[0] - cp;
    const last = runs[runs.length - 1];
    if (typeof last === 'object' && last.delta === delta) {
      const gap = cp - last.end;
      if ((last.start === last.end && (gap === 1 || gap === 2)) || gap === last.step) {
        last.step = gap;
        last.end = cp;
        continue;
      }
    }
    runs.push({ start: cp, end: cp, step: 1, delta });
  }
  return runs
    .map((r) => {
      if (typeof r === 'string') return r;
      const span = r.start === r.end ? hex(r.start) : `${hex(r.start)}-${hex(r.end)}${r.step === 2 ? '/2' : ''}`;
      return `${span}:${r.delta < 0 ? '-' : ''}${hex(Math.abs(r.delta))}`;
    })
    .join(',');
}

function toClassRuns(list) {
  const runs = [];
  for (const [cp, value] of list) {
    const last = runs[runs.length - 1];
    if (last && last.end === cp - 1 && last.value === value) last.end = cp;
    else runs.push({ start: cp, end: cp, value });
  }
  return runs.map((r) => `${r.start === r.end ? hex(r.start) : `${hex(r.start)}-${hex(r.end)}`}:${r.value}`).join(',');
}

// Splits a long table into source lines after a separator, so no entry is cut in two.
function wrap(text, width = 100) {
  const lines = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + width);
    if (end < text.length) {
      const cut = Math.max(text.lastIndexOf(',', end), text.lastIndexOf(';', end));
      if (cut > start) end = cut + 1;
    }
    lines.push(`  '${text.slice(start, end)}'`);
    start = end;
  }
  return lines.join(' +\n');
}

// ---------------------------------------------------------------------------------------------
// Tables for the normalizers, pre-tokenizers and regexes of the BPE / Unigram families.

// NFKD (and so NFKC): which code points have a compatibility decomposition in the reference. Their
// decompositions are those of every later Unicode version (normalization stability), so the
// library takes them from String.prototype.normalize; this set says which ones the reference knows.
const nfkd = hf.nfkdNormalizer();
const compatDecomposable = [];
for (let cp = 0; cp < 0x110000; cp++) {
  if (isSurrogate(cp)) continue;
  const c = String.fromCodePoint(cp);
  const k = nfkd.normalizeString(c);
  if (k !== nfd.normalizeString(c)) {
    if (c.normalize('NFKD') !== k) throw new Error(`NFKD of U+${hex(cp)} differs from this engine's; store it explicitly`);
    compatDecomposable.push(cp);
  }
}

// `char::is_numeric` as the Digits pre-tokenizer applies it.
const digits = hf.digitsPreTokenizer(true);
const numeric = [];
for (let cp = 0; cp < 0x110000; cp++) {
  if (!isSurrogate(cp) && digits.preTokenizeString('a' + String.fromCodePoint(cp) + 'b').length === 3) numeric.push(cp);
}

// Oniguruma character classes, as the reference's regexes (Split, Replace, ByteLevel) see them:
// every code point run through a Split pre-tokenizer that removes the class's matches.
async function onigClass(pattern) {
  const probe = hf.Tokenizer.fromString(
    JSON.stringify({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [],
      normalizer: null,
      pre_tokenizer: { type: 'Split', pattern: { Regex: pattern }, behavior: 'Removed', invert: false },
      post_processor: null,
      decoder: null,
      model: { type: 'WordLevel', vocab: { '[UNK]': 0 }, unk_token: '[UNK]' },
    }),
  );
  const inClass = [];
  const BLOCK = 0x8000;
  for (let base = 0; base < 0x110000; base += BLOCK) {
    const cps = [];
    for (let cp = base; cp < Math.min(base + BLOCK, 0x110000); cp++) if (!isSurrogate(cp)) cps.push(cp);
    const encoding = await probe.encode(String.fromCodePoint(...cps), null, { addSpecialTokens: false });
    const kept = new Uint8Array(cps.length);
    // Offsets count code points here (every character of the block is one code point).
    for (const [start, end] of encoding.getOffsets()) kept.fill(1, start, end);
    cps.forEach((cp, i) => {
      if (!kept[i]) inClass.push(cp);
    });
  }
  return inClass;
}
const ONIG_CLASSES = { L: '\\p{L}', N: '\\p{N}', P: '\\p{P}', S: '\\p{S}', M: '\\p{M}', s: '\\s', w: '\\w', d: '\\d' };
const onig = {};
for (const [name, pattern] of Object.entries(ONIG_CLASSES)) onig[name] = await onigClass(pattern);

// Grapheme clusters, for the Precompiled normalizer (which treats clusters shorter than 6 UTF-8
// bytes as one unit): which code points join the cluster before them (Extend, ZWJ, SpacingMark),
// which join the one after them (Prepend), which break on both sides (Control). From this
// engine's Intl.Segmenter (ICU); the reference uses the unicode-segmentation crate, and
// test/tokenizer-components.test.ts checks the result against it.
const segmenter = new Intl.Segmenter('und', { granularity: 'grapheme' });
const oneCluster = (s) => segmenter.segment(s).containing(0).segment.length === s.length;
const graphemeExtend = [];
const graphemePrepend = [];
const graphemeControl = [];
for (let cp = 0; cp < 0x110000; cp++) {
  if (isSurrogate(cp) || cp === 0x0d || cp === 0x0a) continue;
  const c = String.fromCodePoint(cp);
  if (oneCluster('a' + c)) graphemeExtend.push(cp);
  else if (oneCluster(c + 'a')) graphemePrepend.push(cp);
  else if (!oneCluster(c + '\u0301')) graphemeControl.push(cp);
}

// Compact ranges: each entry is `gap` or `gap.length` in base 36, where the range starts `gap`
// code points after the previous range's end (plus one) and spans `length` more code points.
function toGapRanges(codePoints) {
  const out = [];
  let previousEnd = -1;
  for (let i = 0; i < codePoints.length; ) {
    let j = i;
    while (j + 1 < codePoints.length && codePoints[j + 1] === codePoints[j] + 1) j++;
    const gap = codePoints[i] - previousEnd - 1;
    const length = codePoints[j] - codePoints[i];
    out.push(gap.toString(36) + (length ? '.' + length.toString(36) : ''));
    previousEnd = codePoints[j];
    i = j + 1;
  }
  return out.join(',');
}

const out = [];
out.push(`// GENERATED by ts/tokenizer/tools/derive-unicode-data.mjs from Hugging Face tokenizers ${REFERENCE_VERSION}.`);
out.push('// Do not edit by hand: regenerate instead (see that script for how).');
out.push('//');
out.push('// Why tables and not JS `\\p{...}` / String.prototype.normalize: the reference implementation');
out.push('// uses Unicode 8.0 category tables (the `unicode_categories` crate) and Unicode 9.0 normalization');
out.push('// tables, while JS engines ship the Unicode version of their ICU (Node 20: 17.0). Characters');
out.push('// assigned or re-categorised since then would tokenize differently, and differently per engine.');
out.push('//');
out.push('// Encoding: hex code points; `a-b` is an inclusive range; entries are comma separated.');
out.push('');
out.push('/** `is_other` (Cc, Cf, Co as of Unicode 8.0): BertNormalizer(clean_text) deletes these, except \\t \\n \\r (spaces). */');
out.push(`export const OTHER_RANGES =\n${wrap(toRanges(sets.other))};`);
out.push('');
out.push('/** BertPreTokenizer punctuation: ASCII punctuation plus general categories P* (Unicode 8.0). */');
out.push(`export const PUNCTUATION_RANGES =\n${wrap(toRanges(sets.punctuation))};`);
out.push('');
out.push('/** Nonspacing marks (Mn, Unicode 8.0) that BertNormalizer(strip_accents) drops after NFD. */');
out.push(`export const NONSPACING_MARK_RANGES =\n${wrap(toRanges(sets.nonspacing))};`);
out.push('');
out.push('/** Combining marks (M*, as the StripAccents normalizer sees them) that StripAccents drops. */');
out.push(`export const COMBINING_MARK_RANGES =\n${wrap(toRanges(sets.combining))};`);
out.push('');
out.push('/** Characters the `Whitespace` pre-tokenizer regex treats as `\\w`. */');
out.push(`export const WORD_RANGES =\n${wrap(toRanges(sets.word))};`);
out.push('');
out.push('/**');
out.push(' * Per-code-point lowercase (Rust `char::to_lowercase`). `a-b:d` adds `d` to every code point in');
out.push(' * a..b, `a-b/2:d` to every other one, `-d` subtracts; `a=x y` maps `a` to several code points.');
out.push(' */');
out.push(`export const LOWERCASE_RUNS =\n${wrap(toLowercaseRuns(lowerMap))};`);
out.push('');
out.push('/** Full canonical decompositions (NFD, Unicode 9.0) except Hangul syllables: `cp:x y z`, `;` separated. */');
out.push(`export const DECOMPOSITIONS =\n${wrap(decompositions.map(([cp, d]) => `${hex(cp)}:${d.map(hex).join(' ')}`).join(';'))};`);
out.push('');
out.push('/** Canonical combining classes (Unicode 9.0) of non-starters: `a-b:class` with decimal class. */');
out.push(`export const COMBINING_CLASS_RUNS =\n${wrap(toClassRuns(classes))};`);
out.push('');
out.push('// Gap-encoded tables below: each entry is `gap` or `gap.length` in base 36; a range starts `gap`');
out.push('// code points after the end of the previous one (plus one) and spans `length` more.');
out.push('');
out.push('/** Code points with a compatibility decomposition (NFKD, Unicode 9.0); the mappings themselves are stable. */');
out.push(`export const COMPAT_DECOMPOSABLE =\n${wrap(toGapRanges(compatDecomposable))};`);
out.push('');
out.push('/** `char::is_numeric` (the `Digits` pre-tokenizer). */');
out.push(`export const NUMERIC =\n${wrap(toGapRanges(numeric))};`);
out.push('');
out.push('/** Grapheme_Cluster_Break Extend, ZWJ and SpacingMark (this engine\'s ICU): join the cluster before them. */');
out.push(`export const GRAPHEME_EXTEND =\n${wrap(toGapRanges(graphemeExtend))};`);
out.push('');
out.push('/** Grapheme_Cluster_Break Prepend: joins the cluster after it. */');
out.push(`export const GRAPHEME_PREPEND =\n${wrap(toGapRanges(graphemePrepend))};`);
out.push('');
out.push('/** Grapheme_Cluster_Break Control (CR and LF apart): a cluster of its own. */');
out.push(`export const GRAPHEME_CONTROL =\n${wrap(toGapRanges(graphemeControl))};`);
out.push('');
out.push('/** Oniguruma classes of the reference regexes: `\\p{L}` `\\p{N}` `\\p{P}` `\\p{S}` `\\p{M}` `\\s` `\\w` `\\d`. */');
out.push('export const ONIG_CLASSES = {');
for (const [name, cps] of Object.entries(onig)) out.push(`  ${name}:\n  ${wrap(toGapRanges(cps)).replace(/\n/g, '\n  ')},`);
out.push('};');
out.push('');
process.stdout.write(out.join('\n'));
