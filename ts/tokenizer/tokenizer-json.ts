/**
 * Reads a Hugging Face `tokenizer.json` into {@link TokenizerParts}. Only what can be reproduced
 * exactly is accepted; every other component type is refused with UNSUPPORTED_TOKENIZER.
 */
import { DualbertError } from '../errors.js';
import { AddedVocabulary, type AddedToken } from './added-vocabulary.js';
import {
  booleanField,
  countField,
  expectArray,
  expectCount,
  expectObject,
  invalid,
  isObject,
  stringField,
  type JsonObject,
} from './json-fields.js';
import {
  BertNormalizer,
  LowercaseNormalizer,
  NfdNormalizer,
  SequenceNormalizer,
  StripAccentsNormalizer,
  StripNormalizer,
  type Normalizer,
} from './normalizers.js';
import type { PaddingParams } from './padding.js';
import { BertProcessing, TemplateProcessing, type PostProcessor, type TemplatePiece } from './post-processors.js';
import {
  BertPreTokenizer,
  SequencePreTokenizer,
  WhitespacePreTokenizer,
  WhitespaceSplitPreTokenizer,
  type PreTokenizer,
} from './pre-tokenizers.js';
import type { TokenizerParts } from './tokenizer-parts.js';
import type { Direction, TruncationParams, TruncationStrategy } from './truncation.js';
import { WordPiece } from './wordpiece.js';

const FILE = 'tokenizer.json';

function unsupported(component: string, type: unknown, supported: string): never {
  throw new DualbertError(
    'UNSUPPORTED_TOKENIZER',
    `${FILE}: ${component} type ${JSON.stringify(type)} is not supported (supported: ${supported})`,
  );
}

function typeOf(obj: JsonObject, where: string): string {
  const type = obj.type;
  if (typeof type !== 'string') invalid(`${FILE} ${where}.type`, type === undefined ? 'is missing' : 'must be a string', type);
  return type;
}

/** Parses tokenizer.json text or an already-parsed object. */
function toRoot(json: string | object): JsonObject {
  let root: unknown = json;
  if (typeof json === 'string') {
    try {
      root = JSON.parse(json);
    } catch (error) {
      throw new DualbertError('INVALID_TOKENIZER', `${FILE} is not valid JSON: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  if (!isObject(root)) invalid(FILE, 'must contain a JSON object', root);
  return root;
}

function parseModel(value: unknown): WordPiece {
  const model = expectObject(value, `${FILE} model`);
  // Files written by old versions may omit the type; WordPiece is the one with these fields.
  let type = model.type;
  if (type === undefined && 'continuing_subword_prefix' in model && 'max_input_chars_per_word' in model) type = 'WordPiece';
  if (type !== 'WordPiece') {
    unsupported('model', type, 'WordPiece; BPE, Unigram and WordLevel tokenizers are for other model families');
  }
  const vocabObject = expectObject(model.vocab, `${FILE} model.vocab`);
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(vocabObject)) vocab.set(token, expectCount(id, `${FILE} model.vocab[${JSON.stringify(token)}]`));
  if (vocab.size === 0) invalid(`${FILE} model.vocab`, 'is empty');
  return new WordPiece(vocab, {
    unkToken: stringField(model, 'unk_token', '[UNK]', `${FILE} model`),
    continuingSubwordPrefix: stringField(model, 'continuing_subword_prefix', '##', `${FILE} model`),
    maxInputCharsPerWord: countField(model, 'max_input_chars_per_word', 100, `${FILE} model`),
  });
}

const SUPPORTED_NORMALIZERS = 'BertNormalizer, NFD, Lowercase, StripAccents, Strip, and Sequence of these';

function parseNormalizer(value: unknown, where: string): Normalizer | null {
  if (value === null || value === undefined) return null;
  const obj = expectObject(value, `${FILE} ${where}`);
  const type = typeOf(obj, where);
  const at = `${FILE} ${where}`;
  switch (type) {
    case 'BertNormalizer': {
      const lowercase = booleanField(obj, 'lowercase', true, at);
      return new BertNormalizer({
        cleanText: booleanField(obj, 'clean_text', true, at),
        handleChineseChars: booleanField(obj, 'handle_chinese_chars', true, at),
        // null means "strip accents exactly when lowercasing" (the original BERT behaviour).
        stripAccents: booleanField(obj, 'strip_accents', lowercase, at),
        lowercase,
      });
    }
    case 'NFD':
      return new NfdNormalizer();
    case 'Lowercase':
      return new LowercaseNormalizer();
    case 'StripAccents':
      return new StripAccentsNormalizer();
    case 'Strip':
      return new StripNormalizer(booleanField(obj, 'strip_left', true, at), booleanField(obj, 'strip_right', true, at));
    case 'Sequence': {
      const parts = expectArray(obj.normalizers, `${at}.normalizers`).map((n, i) =>
        parseNormalizer(n, `${where}.normalizers[${i}]`),
      );
      return new SequenceNormalizer(parts.filter((n): n is Normalizer => n !== null));
    }
    default:
      return unsupported('normalizer', type, SUPPORTED_NORMALIZERS);
  }
}

function parsePreTokenizer(value: unknown, where: string): PreTokenizer | null {
  if (value === null || value === undefined) return null;
  const obj = expectObject(value, `${FILE} ${where}`);
  const type = typeOf(obj, where);
  switch (type) {
    case 'BertPreTokenizer':
      return new BertPreTokenizer();
    case 'Whitespace':
      return new WhitespacePreTokenizer();
    case 'WhitespaceSplit':
      return new WhitespaceSplitPreTokenizer();
    case 'Sequence': {
      const parts = expectArray(obj.pretokenizers, `${FILE} ${where}.pretokenizers`).map((p, i) =>
        parsePreTokenizer(p, `${where}.pretokenizers[${i}]`),
      );
      return new SequencePreTokenizer(parts.filter((p): p is PreTokenizer => p !== null));
    }
    default:
      return unsupported('pre_tokenizer', type, 'BertPreTokenizer, Whitespace, WhitespaceSplit, and Sequence of these');
  }
}

function parseTemplate(value: unknown, where: string, specials: Map<string, { ids: number[]; tokens: string[] }>): TemplatePiece[] {
  return expectArray(value, where).map((raw, i) => {
    const at = `${where}[${i}]`;
    const piece = expectObject(raw, at);
    if (isObject(piece.Sequence)) {
      const id = piece.Sequence.id;
      if (id !== 'A' && id !== 'B') invalid(`${at}.Sequence.id`, 'must be "A" or "B"', id);
      return { kind: 'sequence', sequence: id, typeId: expectCount(piece.Sequence.type_id, `${at}.Sequence.type_id`) };
    }
    if (isObject(piece.SpecialToken)) {
      const key = piece.SpecialToken.id;
      const special = typeof key === 'string' ? specials.get(key) : undefined;
      if (special === undefined) invalid(`${at}.SpecialToken.id`, 'names no entry of special_tokens', key);
      const typeId = expectCount(piece.SpecialToken.type_id, `${at}.SpecialToken.type_id`);
      return { kind: 'special', ids: special.ids, tokens: special.tokens, typeId };
    }
    return invalid(at, 'must be {"Sequence": ...} or {"SpecialToken": ...}', raw);
  });
}

function parsePostProcessor(value: unknown): PostProcessor | null {
  if (value === null || value === undefined) return null;
  const where = `${FILE} post_processor`;
  const obj = expectObject(value, where);
  const type = typeOf(obj, 'post_processor');
  if (type === 'TemplateProcessing') {
    const specials = new Map<string, { ids: number[]; tokens: string[] }>();
    const specialsObject = obj.special_tokens === undefined ? {} : expectObject(obj.special_tokens, `${where}.special_tokens`);
    for (const [key, raw] of Object.entries(specialsObject)) {
      const at = `${where}.special_tokens[${JSON.stringify(key)}]`;
      const entry = expectObject(raw, at);
      const ids = expectArray(entry.ids, `${at}.ids`).map((id, i) => expectCount(id, `${at}.ids[${i}]`));
      const tokens = expectArray(entry.tokens, `${at}.tokens`).map((t, i) =>
        typeof t === 'string' ? t : invalid(`${at}.tokens[${i}]`, 'must be a string', t),
      );
      if (ids.length !== tokens.length) invalid(at, 'must have as many ids as tokens');
      specials.set(key, { ids, tokens });
    }
    const single = parseTemplate(obj.single, `${where}.single`, specials);
    const pair = parseTemplate(obj.pair, `${where}.pair`, specials);
    return new TemplateProcessing(single, pair);
  }
  if (type === 'BertProcessing') {
    const entry = (key: 'cls' | 'sep'): [string, number] => {
      const v = obj[key];
      if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string') invalid(`${where}.${key}`, 'must be [token, id]', v);
      return [v[0] as string, expectCount(v[1], `${where}.${key}[1]`)];
    };
    return new BertProcessing(entry('cls'), entry('sep'));
  }
  return unsupported('post_processor', type, 'TemplateProcessing, BertProcessing');
}

function parseDirection(value: unknown, where: string): Direction {
  if (value === undefined || value === null) return 'Right';
  if (value !== 'Left' && value !== 'Right') invalid(where, 'must be "Left" or "Right"', value);
  return value;
}

function parseTruncation(value: unknown): TruncationParams | null {
  if (value === null || value === undefined) return null;
  const where = `${FILE} truncation`;
  const obj = expectObject(value, where);
  const strategy = obj.strategy ?? 'LongestFirst';
  if (strategy !== 'LongestFirst' && strategy !== 'OnlyFirst' && strategy !== 'OnlySecond') {
    invalid(`${where}.strategy`, 'must be LongestFirst, OnlyFirst or OnlySecond', strategy);
  }
  return {
    maxLength: expectCount(obj.max_length, `${where}.max_length`),
    strategy: strategy as TruncationStrategy,
    direction: parseDirection(obj.direction, `${where}.direction`),
  };
}

function parsePadding(value: unknown, fallbackPadId: number): PaddingParams {
  if (value === null || value === undefined) {
    return { fixedLength: undefined, direction: 'Right', padToMultipleOf: undefined, padId: fallbackPadId, padTypeId: 0, padToken: '[PAD]' };
  }
  const where = `${FILE} padding`;
  const obj = expectObject(value, where);
  let fixedLength: number | undefined;
  const strategy = obj.strategy ?? 'BatchLongest';
  if (isObject(strategy) && 'Fixed' in strategy) fixedLength = expectCount(strategy.Fixed, `${where}.strategy.Fixed`);
  else if (strategy !== 'BatchLongest') invalid(`${where}.strategy`, 'must be "BatchLongest" or {"Fixed": n}', strategy);
  const multiple = countField(obj, 'pad_to_multiple_of', undefined, where);
  return {
    fixedLength,
    direction: parseDirection(obj.direction, `${where}.direction`),
    padToMultipleOf: multiple === 0 ? undefined : multiple,
    padId: countField(obj, 'pad_id', 0, where),
    padTypeId: countField(obj, 'pad_type_id', 0, where),
    padToken: stringField(obj, 'pad_token', '[PAD]', where),
  };
}

function parseAddedTokens(value: unknown): AddedToken[] {
  if (value === null || value === undefined) return [];
  return expectArray(value, `${FILE} added_tokens`).map((raw, i) => {
    const at = `${FILE} added_tokens[${i}]`;
    const obj = expectObject(raw, at);
    if (typeof obj.content !== 'string') invalid(`${at}.content`, 'must be a string', obj.content);
    const special = booleanField(obj, 'special', false, at);
    return {
      content: obj.content,
      singleWord: booleanField(obj, 'single_word', false, at),
      lstrip: booleanField(obj, 'lstrip', false, at),
      rstrip: booleanField(obj, 'rstrip', false, at),
      normalized: booleanField(obj, 'normalized', !special, at),
      special,
    };
  });
}

/**
 * Builds the pipeline described by a tokenizer.json (text or parsed object).
 * @example const parts = parseTokenizerJson(await (await fetch(url)).text());
 */
export function parseTokenizerJson(json: string | object): TokenizerParts {
  const root = toRoot(json);
  if (root.version !== undefined && root.version !== '1.0') {
    throw new DualbertError('UNSUPPORTED_TOKENIZER', `${FILE}: format version ${JSON.stringify(root.version)} is not supported (expected "1.0")`);
  }
  if (root.model === undefined) invalid(`${FILE} model`, 'is missing');
  const model = parseModel(root.model);
  const normalizer = parseNormalizer(root.normalizer, 'normalizer');
  const preTokenizer = parsePreTokenizer(root.pre_tokenizer, 'pre_tokenizer');
  const postProcessor = parsePostProcessor(root.post_processor);
  const addedVocabulary = new AddedVocabulary(parseAddedTokens(root.added_tokens), model.vocab, normalizer);
  const truncation = parseTruncation(root.truncation);
  const fallbackPadId = addedVocabulary.tokenToId('[PAD]') ?? model.vocab.get('[PAD]') ?? 0;
  const padding = parsePadding(root.padding, fallbackPadId);
  return {
    addedVocabulary,
    normalizer,
    preTokenizer,
    model,
    postProcessor,
    truncation,
    truncationStyle: { strategy: truncation?.strategy ?? 'LongestFirst', direction: truncation?.direction ?? 'Right' },
    padding,
    padSingleEncodings: root.padding !== null && root.padding !== undefined && (padding.fixedLength !== undefined || padding.padToMultipleOf !== undefined),
    modelMaxLength: truncation?.maxLength,
  };
}
