/** Public data types of the tokenizer API. */

/**
 * One encoded text (or pair): parallel arrays, special tokens included.
 * @example tokenizer.encode('hello') // { ids: [101, 7592, 102], typeIds: [0, 0, 0], attentionMask: [1, 1, 1], tokens: ['[CLS]', 'hello', '[SEP]'] }
 */
export interface Encoding {
  ids: number[];
  typeIds: number[];
  attentionMask: number[];
  tokens: string[];
}

/**
 * Options of {@link Tokenizer.encode}.
 * @example tokenizer.encode('question', { pair: 'passage', maxLength: 128 })
 */
export interface EncodeOptions {
  /** Add the post-processor's special tokens ([CLS], [SEP]). Default true. */
  addSpecialTokens?: boolean;
  /**
   * Truncate to this many tokens incl. special tokens. undefined → the tokenizer's own truncation
   * setting (tokenizer.json `truncation.max_length`, or for vocab.txt: none); null → no truncation.
   */
  maxLength?: number | null;
  /** Second sequence (type id 1), LongestFirst truncation across both. */
  pair?: string;
  /**
   * Pad a single encoding as tokenizer.json's `padding` asks (a Fixed length or a multiple), as
   * the Rust `encode` does. Default true; false gives only the real tokens (for batching later).
   */
  padding?: boolean;
}

/**
 * Options of {@link Tokenizer.encodeBatch}.
 * @example tokenizer.encodeBatch(texts, { maxLength: 256, padToMultipleOf: 8 })
 */
export type EncodeBatchOptions = Omit<EncodeOptions, 'pair'> & {
  /** Round the padded length up to a multiple of this (overrides tokenizer.json's setting). */
  padToMultipleOf?: number;
};

/**
 * A padded batch in row-major typed arrays, ready to feed a model.
 * @example const { ids, attentionMask, batchSize, seqLen } = tokenizer.encodeBatch(['a', 'b c'])
 */
export interface BatchEncoding {
  batchSize: number;
  /** Longest row (BatchLongest), or padToMultipleOf rounding. */
  seqLen: number;
  /** [batchSize * seqLen], row-major, padded with padId. */
  ids: Int32Array;
  /** [batchSize * seqLen], padded with padTypeId. */
  typeIds: Int32Array;
  /** [batchSize * seqLen], 1 for real tokens. */
  attentionMask: Uint8Array;
  /** Real length of each row. */
  lengths: number[];
}
