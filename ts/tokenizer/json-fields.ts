/**
 * Checked access to fields of parsed configuration JSON. Every malformed value becomes a
 * DualbertError('INVALID_TOKENIZER') that names the file and the field path.
 */
import { DualbertError } from '../errors.js';

/**
 * A JSON object as parsed.
 * @example const root: JsonObject = JSON.parse(text);
 */
export type JsonObject = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/**
 * Throws INVALID_TOKENIZER with `where` (file and field path) in the message.
 * @example invalid('tokenizer.json model.vocab', 'must be an object', 3)
 */
export function invalid(where: string, problem: string, value?: unknown): never {
  const got = arguments.length >= 3 ? ` (got ${describe(value)})` : '';
  throw new DualbertError('INVALID_TOKENIZER', `${where} ${problem}${got}`);
}

/**
 * True for a plain (non-null, non-array) object.
 * @example isObject({ Fixed: 8 }) // true; isObject([1]) // false
 */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The value as an object, or INVALID_TOKENIZER.
 * @example const model = expectObject(root.model, 'tokenizer.json model')
 */
export function expectObject(value: unknown, where: string): JsonObject {
  if (!isObject(value)) invalid(where, value === undefined ? 'is missing' : 'must be an object', value);
  return value;
}

/**
 * The value as an array, or INVALID_TOKENIZER.
 * @example expectArray(root.added_tokens, 'tokenizer.json added_tokens')
 */
export function expectArray(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) invalid(where, value === undefined ? 'is missing' : 'must be an array', value);
  return value;
}

/**
 * A boolean field, `fallback` when absent or null.
 * @example booleanField(normalizer, 'lowercase', true, 'tokenizer.json normalizer')
 */
export function booleanField(obj: JsonObject, key: string, fallback: boolean, where: string): boolean {
  const value = obj[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') invalid(`${where}.${key}`, 'must be a boolean', value);
  return value;
}

/**
 * A string field, `fallback` when absent or null.
 * @example stringField(model, 'unk_token', '[UNK]', 'tokenizer.json model')
 */
export function stringField(obj: JsonObject, key: string, fallback: string, where: string): string {
  const value = obj[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') invalid(`${where}.${key}`, 'must be a string', value);
  return value;
}

/**
 * The value as a non-negative safe integer, or INVALID_TOKENIZER.
 * @example expectCount(entry.id, 'tokenizer.json added_tokens[0].id')
 */
export function expectCount(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    invalid(where, value === undefined ? 'is missing' : 'must be a non-negative integer', value);
  }
  return value;
}

/**
 * A non-negative integer field, `fallback` when absent or null.
 * @example countField(model, 'max_input_chars_per_word', 100, 'tokenizer.json model')
 */
export function countField<T extends number | undefined>(obj: JsonObject, key: string, fallback: T, where: string): number | T {
  const value = obj[key];
  if (value === undefined || value === null) return fallback;
  return expectCount(value, `${where}.${key}`);
}
