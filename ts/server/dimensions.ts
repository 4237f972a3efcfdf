/**
 * Matryoshka truncation for the `dimensions` request field: the library's own (keep the first n
 * values, renormalize when the model normalizes), so the server and `embed(texts, { dimensions })`
 * give the same vectors.
 */
export { truncateDimensions } from '../output/dimensions.js';
