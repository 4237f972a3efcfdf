/**
 * BERT WordPiece tokenization, bit-exact with Hugging Face `tokenizers`.
 * @example
 * import { Tokenizer } from './tokenizer/index.js';
 * const tokenizer = Tokenizer.fromTokenizerJson(tokenizerJsonText);
 * const batch = tokenizer.encodeBatch(['first text', 'second one']);
 */
export { Tokenizer } from './tokenizer.js';
export type { BatchEncoding, EncodeBatchOptions, EncodeOptions, Encoding } from './types.js';
