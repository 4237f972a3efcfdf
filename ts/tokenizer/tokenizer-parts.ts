/**
 * The assembled pipeline a {@link Tokenizer} runs, whichever files it was built from.
 */
import type { AddedVocabulary } from './added-vocabulary.js';
import type { Normalizer } from './normalizers.js';
import type { PaddingParams } from './padding.js';
import type { PostProcessor } from './post-processors.js';
import type { PreTokenizer } from './pre-tokenizers.js';
import type { Direction, TruncationParams, TruncationStrategy } from './truncation.js';
import type { TokenizerModel } from './model.js';

/**
 * Pipeline stages and settings, in the order they run: added tokens are split off, the rest is
 * normalized, pre-tokenized and split into pieces by the model; then truncation, special tokens, padding.
 * @example const parts = parseTokenizerJson(json); // then new Tokenizer(parts) internally
 */
export interface TokenizerParts {
  addedVocabulary: AddedVocabulary;
  normalizer: Normalizer | null;
  preTokenizer: PreTokenizer | null;
  model: TokenizerModel;
  postProcessor: PostProcessor | null;
  /** Truncation applied when the caller does not choose (`maxLength` undefined). */
  truncation: TruncationParams | null;
  /** Strategy and direction used when the caller does choose a `maxLength`. */
  truncationStyle: { strategy: TruncationStrategy; direction: Direction };
  padding: PaddingParams;
  /** Whether a single `encode` pads too (tokenizer.json with Fixed or pad_to_multiple_of padding). */
  padSingleEncodings: boolean;
  modelMaxLength: number | undefined;
}
