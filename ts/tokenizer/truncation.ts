/**
 * Truncation of one sequence or a pair before special tokens are added, with the strategies of
 * Hugging Face `tokenizers` (`utils/truncation.rs`).
 */
import { DualbertError } from '../errors.js';
import type { TokenSequence } from './post-processors.js';

/**
 * Which sequence loses tokens: the longer one first, or only the first / second one.
 * @example const strategy: TruncationStrategy = 'LongestFirst';
 */
export type TruncationStrategy = 'LongestFirst' | 'OnlyFirst' | 'OnlySecond';

/**
 * Which end loses tokens (truncation) or gains pad tokens (padding).
 * @example const side: Direction = 'Right';
 */
export type Direction = 'Left' | 'Right';

/**
 * Truncation settings. `maxLength` counts the special tokens too.
 * @example const t: TruncationParams = { maxLength: 256, strategy: 'LongestFirst', direction: 'Right' };
 */
export interface TruncationParams {
  maxLength: number;
  strategy: TruncationStrategy;
  direction: Direction;
}

/** Keeps `length` tokens from the start (Right) or the end (Left). Word lengths are not updated. */
function cut(seq: TokenSequence, length: number, direction: Direction): void {
  if (seq.ids.length <= length) return;
  const from = direction === 'Right' ? 0 : seq.ids.length - length;
  seq.ids = seq.ids.slice(from, from + length);
  seq.tokens = seq.tokens.slice(from, from + length);
  seq.typeIds = seq.typeIds.slice(from, from + length);
}

/**
 * A sequence before special tokens, with how many tokens each pre-tokenized word became.
 * @example const w: WordTokens = { ids: [2123, 1005, 1056], tokens: ['don', "'", 't'], typeIds: [0, 0, 0], wordLengths: [1, 1, 1], addedToken: [false, false, false] };
 */
export interface WordTokens extends TokenSequence {
  /** Tokens per unit, in order: one entry per word or added token; they sum to ids.length. */
  wordLengths: number[];
  /** Whether each unit is an added token (which never ends the early stop, see below). */
  addedToken: boolean[];
}

/**
 * Hugging Face `tokenizers` (0.23) stops producing a sequence's tokens once it has enough: after
 * each word the model tokenized (not after an added token), it stops if the tokens so far reach
 * `maxLength`. It walks from the end when truncating on the left. Only the pair arithmetic and
 * the strategy errors can see the difference, but they do: a sequence of 5 + 4-token words
 * counts as 9 tokens against maxLength 6, while 9 one-token words count as 6.
 */
function stopEarly(seq: WordTokens, maxLength: number, direction: Direction): void {
  let counted = 0;
  const n = seq.wordLengths.length;
  for (let k = 0; k < n; k++) {
    const w = direction === 'Right' ? k : n - 1 - k;
    counted += seq.wordLengths[w]!;
    if (!seq.addedToken[w] && counted >= maxLength) break;
  }
  cut(seq, counted, direction);
}

/**
 * Truncates in place so that `a` and `b` together hold at most `params.maxLength` tokens
 * including the `specialTokens` the post-processor will add (budget m = maxLength − special),
 * reproducing Hugging Face `tokenizers` 0.23.2 (checked against it for all pairs of lengths up to
 * 22, budgets up to 16, each strategy and direction, and random texts):
 * 1. the early stop ({@link stopEarly}) on both sequences, except the first under OnlySecond;
 * 2. LongestFirst on a pair: if the shorter one fits in m/2 it is kept and the longer one gets
 *    the rest; otherwise the shorter gets ⌊m/2⌋ and the longer ⌈m/2⌉ (equal lengths: A gets
 *    ⌊m/2⌋). Not the token-by-token loop of the Python tokenizers: 4 and 8 tokens with m = 7
 *    become 3 and 4 here, 4 and 3 there;
 * 3. OnlyFirst / OnlySecond remove the whole excess from one sequence, or fail.
 * @example truncatePair(a, b, { maxLength: 10, strategy: 'LongestFirst', direction: 'Right' }, 3)
 */
export function truncatePair(a: WordTokens, b: WordTokens | null, params: TruncationParams, specialTokens: number): void {
  const { strategy, direction } = params;
  const budget = params.maxLength - specialTokens;
  if (strategy !== 'OnlySecond') stopEarly(a, params.maxLength, direction);
  if (b !== null) stopEarly(b, params.maxLength, direction);
  if (budget === 0) {
    cut(a, 0, direction);
    if (b !== null) cut(b, 0, direction);
    return;
  }
  const total = a.ids.length + (b?.ids.length ?? 0);
  if (total <= budget) return;
  const toRemove = total - budget;

  if (strategy === 'LongestFirst') {
    if (b === null) {
      cut(a, budget, direction);
      return;
    }
    const aIsLonger = a.ids.length > b.ids.length;
    const shorter = aIsLonger ? b.ids.length : a.ids.length;
    const half = Math.floor(budget / 2);
    const [keepShorter, keepLonger] = shorter > half ? [half, budget - half] : [shorter, budget - shorter];
    cut(a, aIsLonger ? keepLonger : keepShorter, direction);
    cut(b, aIsLonger ? keepShorter : keepLonger, direction);
    return;
  }

  let target: TokenSequence;
  if (strategy === 'OnlyFirst') target = a;
  else if (b !== null) target = b;
  else throw new DualbertError('INVALID_ARGUMENT', 'truncation strategy OnlySecond needs a pair of sequences');
  if (target.ids.length <= toRemove) {
    throw new DualbertError(
      'INPUT_TOO_LONG',
      `cannot truncate to ${params.maxLength} tokens with strategy ${strategy}: ` +
        `${toRemove} must go but the ${strategy === 'OnlyFirst' ? 'first' : 'second'} sequence has only ${target.ids.length}`,
    );
  }
  cut(target, target.ids.length - toRemove, direction);
}
