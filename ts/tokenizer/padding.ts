/**
 * Padding of a batch to one rectangular length, as the `padding` section of tokenizer.json
 * describes it (Hugging Face `tokenizers`, `utils/padding.rs`).
 */
import type { Direction } from './truncation.js';

/**
 * Padding settings; `fixedLength` undefined means BatchLongest.
 * @example const p: PaddingParams = { fixedLength: undefined, direction: 'Right', padToMultipleOf: 8, padId: 0, padTypeId: 0, padToken: '[PAD]' };
 */
export interface PaddingParams {
  /** `{"Fixed": n}` strategy: pad every row to at least n. Undefined for BatchLongest. */
  fixedLength: number | undefined;
  direction: Direction;
  padToMultipleOf: number | undefined;
  padId: number;
  padTypeId: number;
  padToken: string;
}

/**
 * The padded length of a batch whose longest row has `longest` tokens. A Fixed length shorter
 * than a row cannot shorten it (the Rust code leaves such rows unpadded), so the batch then
 * takes the row's length to stay rectangular.
 * @example paddedLength(13, { fixedLength: undefined, padToMultipleOf: 8 } as PaddingParams) // 16
 */
export function paddedLength(longest: number, params: PaddingParams, padToMultipleOf = params.padToMultipleOf): number {
  let length = params.fixedLength === undefined ? longest : Math.max(params.fixedLength, longest);
  if (padToMultipleOf !== undefined && padToMultipleOf > 0 && length % padToMultipleOf !== 0) {
    length += padToMultipleOf - (length % padToMultipleOf);
  }
  return length;
}
