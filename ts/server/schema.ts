/**
 * A small JSON Schema subset for request bodies: enough to describe every route's body and to
 * say precisely what is wrong with a bad one ("input[3]: expected a string or an array of token
 * ids, got null"). Supported keywords: type, enum, properties, required, additionalProperties
 * (false rejects unknown fields), items, minItems, maxItems, minimum, maximum, minLength, anyOf.
 */

/** A JSON Schema (subset). `description` names the value in messages when anyOf fails. */
export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';
  description?: string;
  enum?: readonly (string | number | boolean | null)[];
  properties?: Readonly<Record<string, Schema>>;
  required?: readonly string[];
  additionalProperties?: boolean;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  anyOf?: readonly Schema[];
}

/** Why a value does not match: the JSON path of the first fault and a readable reason. */
export interface SchemaError {
  path: string;
  message: string;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && !Number.isInteger(value)) return `the number ${value}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  return `${typeof value === 'number' ? 'the number' : 'the boolean'} ${String(value)}`;
}

const TYPE_WORDS: Record<NonNullable<Schema['type']>, string> = {
  object: 'an object',
  array: 'an array',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean',
  null: 'null',
};

function matchesType(value: unknown, type: NonNullable<Schema['type']>): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'null':
      return value === null;
    default:
      return typeof value === type;
  }
}

function expected(schema: Schema): string {
  if (schema.description) return schema.description;
  if (schema.enum) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  if (schema.anyOf) return schema.anyOf.map(expected).join(' or ');
  return schema.type ? TYPE_WORDS[schema.type] : 'a value';
}

const child = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

/**
 * Checks `value` against `schema`; returns the first fault, or undefined when it matches.
 * @example validate({ type: 'object', required: ['input'] }, {}) // { path: '', message: 'missing required field "input"' }
 */
export function validate(schema: Schema, value: unknown, path = ''): SchemaError | undefined {
  const at = (message: string): SchemaError => ({ path, message });
  if (schema.anyOf) {
    // The branch whose type matches reports its inner fault (a clearer message than "expected X or Y").
    const typed = schema.anyOf.filter((s) => !s.type || matchesType(value, s.type));
    let inner: SchemaError | undefined;
    for (const s of typed) {
      const e = validate(s, value, path);
      if (!e) return undefined;
      inner ??= e;
    }
    if (inner && typed.length === 1) return inner;
    return at(`expected ${expected(schema)}, got ${typeName(value)}`);
  }
  if (schema.type && !matchesType(value, schema.type)) return at(`expected ${expected(schema)}, got ${typeName(value)}`);
  if (schema.enum && !schema.enum.includes(value as never)) return at(`expected ${expected(schema)}, got ${JSON.stringify(value)}`);
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return at(`must be at least ${schema.minimum}, got ${value}`);
    if (schema.maximum !== undefined && value > schema.maximum) return at(`must be at most ${schema.maximum}, got ${value}`);
  }
  if (typeof value === 'string' && schema.minLength !== undefined && value.length < schema.minLength) {
    return at(schema.minLength === 1 ? 'must not be empty' : `must have at least ${schema.minLength} characters`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      return at(schema.minItems === 1 ? 'must not be an empty array' : `must have at least ${schema.minItems} items, got ${value.length}`);
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return at(`must have at most ${schema.maxItems} items, got ${value.length}`);
    if (schema.items) {
      for (let i = 0; i < value.length; i++) {
        const e = validate(schema.items, value[i], child(path, i));
        if (e) return e;
      }
    }
  }
  if (schema.type === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      if (!Object.hasOwn(record, key) || record[key] === undefined) return at(`missing required field "${child(path, key)}"`);
    }
    for (const [key, v] of Object.entries(record)) {
      const s = schema.properties && Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
      if (s) {
        const e = validate(s, v, child(path, key));
        if (e) return e;
      } else if (schema.additionalProperties === false) {
        return at(`unknown field "${child(path, key)}"`);
      }
    }
  }
  return undefined;
}

/**
 * "input[3]: expected a string, got null" — a fault as one line for an error response.
 * @example formatSchemaError({ path: 'input', message: 'must not be empty' }) // 'input: must not be empty'
 */
export function formatSchemaError(e: SchemaError): string {
  return e.path ? `${e.path}: ${e.message}` : e.message;
}
