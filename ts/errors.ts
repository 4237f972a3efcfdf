/**
 * Every error dualbert throws on purpose is a {@link DualbertError} with a stable `code`,
 * so callers can branch on the kind of failure instead of parsing messages.
 */

/**
 * Every error code, with when it is raised (the README's error table lists the same).
 * @example for (const [code, when] of Object.entries(DUALBERT_ERROR_CODES)) console.log(code, when);
 */
export const DUALBERT_ERROR_CODES = {
  INVALID_ARGUMENT: 'a caller passed a value the API does not accept (a hole or a non-string among the texts, an option of the wrong type, an empty model name)',
  MODEL_NOT_FOUND: 'no such directory or URL with a config.json, or no such synthetic model',
  MISSING_FILE: 'the model lacks a file it needs (config.json, weights, vocab, a shard, external ONNX data)',
  INVALID_CONFIG: 'config.json (or another JSON file of the model) is malformed or has impossible values',
  UNSUPPORTED_ARCHITECTURE: 'model_type, position embeddings or activation are not a BERT encoder dualbert runs',
  INVALID_WEIGHTS: 'a weights file is inconsistent: header, offsets or sizes, a missing or duplicated tensor, NaN/Inf values, fewer layers than config.json',
  UNSUPPORTED_DTYPE: 'a weight dtype dualbert cannot convert',
  UNSUPPORTED_TOKENIZER: 'tokenizer.json names a model, normalizer or pre-tokenizer dualbert does not implement',
  INVALID_TOKENIZER: 'tokenizer files are malformed, or a special id (padding, [CLS], [SEP], unknown) lies outside the vocabulary',
  NETWORK_ERROR: 'a download failed: no connection, no answer within the timeout, HTTP error other than 404, access denied',
  TRUNCATED_DOWNLOAD: 'a download ended short of its size, or failed its sha256 check, after every retry',
  NOT_CACHED: 'offline: the file is not in the cache, or its cached copy is corrupt',
  DEVICE_UNAVAILABLE: 'the requested device (webgpu, wasm) cannot run here',
  UNSUPPORTED_OP: 'the device does not implement a node of the model\'s graph (e.g. a pooling mode, a Dense head)',
  INPUT_TOO_LONG: 'a text exceeds the model\'s max length and truncation is off',
  WORKER_FAILED: 'worker mode: the worker could not start or died',
  DISPOSED: 'the embedder was used after dispose()',
} as const;

/**
 * Stable machine-readable error kinds (see {@link DUALBERT_ERROR_CODES}).
 * @example if (e instanceof DualbertError && e.code === 'MODEL_NOT_FOUND') showModelPicker();
 */
export type DualbertErrorCode = keyof typeof DUALBERT_ERROR_CODES;

/**
 * The error dualbert throws on purpose: a `code` to branch on and a message naming the file,
 * tensor or value at fault.
 * @example
 * try {
 *   await createEmbedder('./my-model');
 * } catch (e) {
 *   if (e instanceof DualbertError) console.error(e.code, e.message);
 * }
 */
export class DualbertError extends Error {
  readonly code: DualbertErrorCode;

  constructor(code: DualbertErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DualbertError';
    this.code = code;
  }
}
