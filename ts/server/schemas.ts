/**
 * The JSON schemas of every request body. Fields other clients send that we do not use (OpenAI's
 * `user`, TEI's `truncation_direction: "Right"`) are accepted; fields we know are checked.
 */
import type { Schema } from './schema.js';

const tokenIds: Schema = {
  type: 'array',
  minItems: 1,
  items: { type: 'integer', minimum: 0, description: 'a token id (an integer ≥ 0)' },
  description: 'an array of token ids',
};

/**
 * An embedding request's inputs: a string, an array of strings, an array of token ids (one
 * input), or an array of token-id arrays. Array items are checked one by one so the message names
 * the bad one; mixing kinds is caught when the inputs are read (see `readInputs`).
 */
const inputs: Schema = {
  anyOf: [
    { type: 'string' },
    {
      type: 'array',
      minItems: 1,
      items: { anyOf: [{ type: 'string' }, { type: 'integer', minimum: 0 }, tokenIds], description: 'a string, a token id, or an array of token ids' },
    },
  ],
  description: 'a string, an array of strings, an array of token ids, or an array of token-id arrays',
};

const truncationDirection: Schema = { enum: ['Right', 'right'], description: '"Right" (dualbert truncates at the end of the text only)' };

/** POST /v1/embeddings (OpenAI). */
export const OPENAI_EMBEDDINGS: Schema = {
  type: 'object',
  required: ['input'],
  properties: {
    input: inputs,
    model: { type: 'string' },
    dimensions: { type: 'integer', minimum: 1 },
    encoding_format: { enum: ['float', 'base64'] },
    user: { type: 'string' },
  },
};

/** POST /embed (text-embeddings-inference). */
export const TEI_EMBED: Schema = {
  type: 'object',
  required: ['inputs'],
  properties: {
    inputs,
    normalize: { type: 'boolean' },
    truncate: { type: 'boolean' },
    truncation_direction: truncationDirection,
    prompt_name: { anyOf: [{ type: 'string' }, { type: 'null' }], description: 'a prompt name (string) or null' },
    dimensions: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }], description: 'a positive integer or null' },
  },
};

/** POST /rerank (text-embeddings-inference). */
export const TEI_RERANK: Schema = {
  type: 'object',
  required: ['query', 'texts'],
  properties: {
    query: { type: 'string' },
    texts: { type: 'array', minItems: 1, items: { type: 'string' } },
    raw_scores: { type: 'boolean' },
    return_text: { type: 'boolean' },
    truncate: { type: 'boolean' },
    truncation_direction: truncationDirection,
  },
};
