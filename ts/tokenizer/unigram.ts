/**
 * The Unigram model of Hugging Face `tokenizers` (`models/unigram`, SentencePiece's algorithm):
 * the best segmentation of a word is the path of highest total score through the lattice of
 * vocabulary pieces (Viterbi); a character no single piece covers is an unknown piece scoring
 * min_score − 10; consecutive unknown pieces are fused into one; an unknown piece becomes
 * byte-fallback tokens (`<0xNN>`) when enabled and all exist, else the unk id.
 */
import { DualbertError } from '../errors.js';
import { IntPairMap, CACHED_WORD_MIN_LENGTH, WORD_CACHE_LIMIT, byteFallbackTokens, type TokenizerModel, type WordPieces } from './model.js';

const UNK_PENALTY = 10;

/**
 * The score the reference reads for a JSON number: serde_json (without `float_roundtrip`) turns
 * the digits into a u64, rounds that to f64, then multiplies or divides by a power of ten: two
 * roundings, so a 17-digit score can land one ulp away from the correctly rounded value that
 * JSON.parse gives. Viterbi ties are decided by such ulps, so the scores must be the same.
 * (Scores in files are shortest round-trip decimals, which JS's `String(x)` reproduces.)
 * @example serdeJsonF64(-2.8917176792289006) // -2.891717679228901
 */
export function serdeJsonF64(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  let digits = String(Math.abs(x));
  let exponent = 0;
  const e = digits.indexOf('e');
  if (e >= 0) {
    exponent = Number(digits.slice(e + 1));
    digits = digits.slice(0, e);
  }
  const dot = digits.indexOf('.');
  if (dot >= 0) {
    exponent -= digits.length - dot - 1;
    digits = digits.slice(0, dot) + digits.slice(dot + 1);
  }
  digits = digits.replace(/^0+/, '');
  if (digits.length <= 15) return x; // exact as f64: one rounding only
  const significand = Number(BigInt(digits)); // round to nearest, ties to even, like `u64 as f64`
  let f = significand;
  while (exponent < -308) {
    f /= 1e308;
    exponent += 308;
  }
  // serde_json's table holds the correctly rounded powers, as the literals 1eN parse to.
  const power = Number(`1e${Math.abs(exponent)}`);
  f = exponent >= 0 ? f * power : f / power;
  return x < 0 ? -f : f;
}

/**
 * A Unigram model over `[piece, score]` pairs (the id of a piece is its index).
 * @example
 * const u = new Unigram([['<unk>', 0], ['a', -1], ['b', -1], ['ab', -1.5]], 0, false);
 * u.tokenizeWord('abab').tokens // ['ab', 'ab']
 */
export class Unigram implements TokenizerModel {
  readonly vocab: Map<string, number>;
  readonly vocabSize: number;
  readonly unkId: number | undefined;
  private readonly pieces: string[];
  private readonly scores: Float64Array;
  private readonly minScore: number;
  /** Trie over UTF-16 units: (node, unit) → child node; node 0 is the root. */
  private readonly edges: IntPairMap;
  /** Token id ending at each trie node, or -1. */
  private nodeToken: Int32Array;
  private readonly cache = new Map<string, WordPieces>();
  /** Viterbi tables, reused across words (grown when a longer word comes). */
  private bestScore = new Float64Array(64);
  private bestStart = new Int32Array(64);
  private bestId = new Int32Array(64);
  /** The best path as (start, end, id or -1 for a fused unknown run) triples, last piece first (reused). */
  private readonly trace: number[] = [];

  constructor(
    pieces: ReadonlyArray<readonly [string, number]>,
    unkId: number | undefined,
    readonly byteFallback: boolean,
    where = 'tokenizer.json model',
  ) {
    if (unkId !== undefined) {
      if (pieces.length === 0) throw new DualbertError('INVALID_TOKENIZER', `${where}.vocab is empty but unk_id is set`);
      if (unkId >= pieces.length) throw new DualbertError('INVALID_TOKENIZER', `${where}.unk_id ${unkId} is not an index of the ${pieces.length}-piece vocabulary`);
    }
    this.unkId = unkId;
    this.vocabSize = pieces.length;
    this.pieces = pieces.map((p) => p[0]);
    this.scores = Float64Array.from(pieces, (p) => serdeJsonF64(p[1]));
    this.vocab = new Map();
    let minScore = Infinity;
    let units = 0;
    pieces.forEach(([piece], id) => {
      this.vocab.set(piece, id); // a repeated piece keeps its last id, as in the reference
      const score = this.scores[id]!;
      if (score < minScore) minScore = score;
      units += piece.length;
    });
    this.minScore = minScore;
    this.edges = new IntPairMap(units);
    this.nodeToken = new Int32Array(Math.max(16, units + 1)).fill(-1);
    let nodes = 1;
    for (const [piece, id] of this.vocab) {
      if (piece === '') continue;
      let node = 0;
      for (let i = 0; i < piece.length; i++) {
        const unit = piece.charCodeAt(i);
        const e = this.edges.get(node, unit);
        if (e >= 0) node = this.edges.first(e);
        else {
          this.edges.set(node, unit, nodes, 0);
          node = nodes++;
        }
      }
      this.nodeToken[node] = id;
    }
  }

  idToToken(id: number): string | undefined {
    return this.pieces[id];
  }

  tokenizeWord(word: string): WordPieces {
    const cacheable = word.length >= CACHED_WORD_MIN_LENGTH;
    const cached = cacheable ? this.cache.get(word) : undefined;
    if (cached !== undefined) return cached;
    const result = this.encode(word);
    if (!cacheable) return result;
    if (this.cache.size >= WORD_CACHE_LIMIT) this.cache.clear();
    this.cache.set(word, result);
    return result;
  }

  /** Viterbi over UTF-16 positions (equivalent to the reference's byte positions). */
  private encode(word: string): WordPieces {
    const n = word.length;
    const ids: number[] = [];
    const tokens: string[] = [];
    if (n === 0) return { ids, tokens };
    if (this.bestScore.length < n + 1) {
      const size = Math.max(n + 1, this.bestScore.length * 2);
      this.bestScore = new Float64Array(size);
      this.bestStart = new Int32Array(size);
      this.bestId = new Int32Array(size);
    }
    const { bestScore, bestStart, bestId } = this;
    bestScore[0] = 0;
    bestStart.fill(-1, 0, n + 1);
    const unkScore = this.minScore - UNK_PENALTY;
    const { edges, nodeToken, scores } = this;
    for (let start = 0; start < n; ) {
      const c = word.charCodeAt(start);
      const width = c >= 0xd800 && c <= 0xdbff && start + 1 < n ? 2 : 1;
      const base = bestScore[start]!;
      let hasSingle = false;
      let node = 0;
      for (let end = start; end < n; end++) {
        const e = edges.get(node, word.charCodeAt(end));
        if (e < 0) break;
        node = edges.first(e);
        const id = nodeToken[node]!;
        if (id < 0) continue;
        const target = end + 1;
        const candidate = scores[id]! + base;
        if (bestStart[target] === -1 || candidate > bestScore[target]!) {
          bestScore[target] = candidate;
          bestStart[target] = start;
          bestId[target] = id;
        }
        if (target - start === width) hasSingle = true;
      }
      if (!hasSingle) {
        const target = start + width;
        const candidate = unkScore + base;
        if (bestStart[target] === -1 || candidate > bestScore[target]!) {
          if (this.unkId === undefined) {
            throw new DualbertError('INVALID_TOKENIZER', `Unigram model: ${JSON.stringify(word.slice(start, target))} is not in the vocabulary and the model has no unk_id`);
          }
          bestScore[target] = candidate;
          bestStart[target] = start;
          bestId[target] = this.unkId;
        }
      }
      start += width;
    }
    // Back from the end; consecutive unknown pieces are fused into one string. A known piece's
    // id and string are the trie's (the vocabulary Map's id, whose piece is that string): no
    // slice or Map lookup for it.
    const trace = this.trace;
    trace.length = 0;
    let unknownRunEnd = -1;
    for (let end = n; end > 0; ) {
      const start = bestStart[end]!;
      if (bestId[end] === this.unkId) {
        if (unknownRunEnd < 0) unknownRunEnd = end;
      } else {
        if (unknownRunEnd >= 0) {
          trace.push(end, unknownRunEnd, -1);
          unknownRunEnd = -1;
        }
        trace.push(start, end, bestId[end]!);
      }
      end = start;
    }
    if (unknownRunEnd >= 0) trace.push(0, unknownRunEnd, -1);
    for (let k = trace.length - 3; k >= 0; k -= 3) {
      const known = trace[k + 2]!;
      if (known >= 0) {
        ids.push(known);
        tokens.push(this.pieces[known]!);
        continue;
      }
      const piece = word.slice(trace[k], trace[k + 1]);
      const id = this.vocab.get(piece);
      if (id !== undefined) {
        ids.push(id);
        tokens.push(piece);
        continue;
      }
      const bytes = this.byteFallback ? byteFallbackTokens(piece, this.vocab) : undefined;
      if (bytes !== undefined) {
        for (let b = 0; b < bytes.ids.length; b++) {
          ids.push(bytes.ids[b]!);
          tokens.push(bytes.tokens[b]!);
        }
        continue;
      }
      if (this.unkId === undefined) throw new DualbertError('INVALID_TOKENIZER', 'Unigram model: an unknown piece and no unk_id');
      ids.push(this.unkId);
      tokens.push(piece);
    }
    return { ids, tokens };
  }
}
