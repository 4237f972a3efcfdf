/**
 * Every error dualbert throws on purpose is a {@link DualbertError} with a stable `code`,
 * so callers can branch on the kind of failure instead of parsing messages.
 */

/**
 * Stable machine-readable error kinds.
 * @example if (e instanceof DualbertError && e.code === 'MODEL_NOT_FOUND') showModelPicker();
 */
export type DualbertErrorCode =
  | 'INVALID_ARGUMENT' // a caller passed a value the API does not accept
  | 'UNSUPPORTED_TOKENIZER' // tokenizer.json names a model/normalizer/pre-tokenizer we do not implement
  | 'INVALID_TOKENIZER' // tokenizer files are missing fields or malformed
  | 'MODEL_NOT_FOUND' // no such directory, URL, or synthetic model name
  | 'MISSING_FILE' // the model lacks a file it needs (config.json, weights, vocab)
  | 'INVALID_CONFIG' // config.json is malformed or has impossible values
  | 'UNSUPPORTED_ARCHITECTURE' // model_type is not BERT-compatible
  | 'INVALID_WEIGHTS' // safetensors header/offsets/sizes are inconsistent, or a tensor is missing
  | 'UNSUPPORTED_DTYPE' // a weight dtype we cannot convert
  | 'DEVICE_UNAVAILABLE' // the requested device (webgpu, wasm) cannot run here
  | 'UNSUPPORTED_OP' // the device does not implement a node of this model's graph yet (e.g. a pooling mode, a Dense head)
  | 'NETWORK_ERROR' // a download failed: no connection, HTTP error other than 404, access denied
  | 'TRUNCATED_DOWNLOAD' // a download ended short of its size, or failed its sha256 check, after every retry
  | 'NOT_CACHED' // offline: true and the file is not in the cache (or its cached copy is corrupt)
  | 'INPUT_TOO_LONG' // a text exceeds what the model accepts and truncation is off
  | 'WORKER_FAILED' // worker mode: the worker could not start or died
  | 'DISPOSED'; // the embedder was used after dispose()

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
