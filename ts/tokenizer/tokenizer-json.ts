/**
 * Reads a Hugging Face `tokenizer.json` into {@link TokenizerParts}. Only what can be reproduced
 * exactly is accepted; every other component type or setting is refused with
 * UNSUPPORTED_TOKENIZER naming it.
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
import { Bpe } from './bpe.js';
import type { TokenizerModel } from './model.js';
import {
  BertNormalizer,
  ByteLevelNormalizer,
  LowercaseNormalizer,
  NfdNormalizer,
  NmtNormalizer,
  PrependNormalizer,
  ReplaceNormalizer,
  SequenceNormalizer,
  StripAccentsNormalizer,
  StripNormalizer,
  UnicodeFormNormalizer,
  type Normalizer,
} from './normalizers.js';
import type { PaddingParams } from './padding.js';
import { Precompiled } from './precompiled.js';
import {
  BertProcessing,
  ByteLevelProcessing,
  RobertaProcessing,
  SequenceProcessing,
  TemplateProcessing,
  type PostProcessor,
  type TemplatePiece,
} from './post-processors.js';
import {
  BertPreTokenizer,
  ByteLevelPreTokenizer,
  CharDelimiterSplitPreTokenizer,
  DigitsPreTokenizer,
  FixedLengthPreTokenizer,
  MetaspacePreTokenizer,
  PunctuationPreTokenizer,
  SequencePreTokenizer,
  SplitPreTokenizer,
  WhitespacePreTokenizer,
  WhitespaceSplitPreTokenizer,
  type PreTokenizer,
  type SplitBehavior,
} from './pre-tokenizers.js';
import { compilePattern } from './regex.js';
import type { TokenizerParts } from './tokenizer-parts.js';
import type { Direction, TruncationParams, TruncationStrategy } from './truncation.js';
import { Unigram } from './unigram.js';
import { WordLevel } from './wordlevel.js';
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

/** A string field that may be null or absent (→ undefined); "" counts as absent where noted. */
function optionalString(obj: JsonObject, key: string, where: string): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') invalid(`${where}.${key}`, 'must be a string or null', value);
  return value;
}

function parseVocabObject(value: unknown, where: string): Map<string, number> {
  const vocabObject = expectObject(value, where);
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(vocabObject)) vocab.set(token, expectCount(id, `${where}[${JSON.stringify(token)}]`));
  return vocab;
}

function parseMerges(value: unknown, where: string): Array<[string, string]> {
  const merges: Array<[string, string]> = [];
  for (const [i, raw] of expectArray(value, where).entries()) {
    if (typeof raw === 'string') {
      // The legacy "a b" form: exactly one space; "#version" lines are skipped.
      if (raw.startsWith('#version')) continue;
      const parts = raw.split(' ');
      if (parts.length !== 2) invalid(`${where}[${i}]`, 'must be two tokens separated by one space', raw);
      merges.push([parts[0]!, parts[1]!]);
    } else if (Array.isArray(raw) && raw.length === 2 && typeof raw[0] === 'string' && typeof raw[1] === 'string') {
      merges.push([raw[0], raw[1]]);
    } else {
      invalid(`${where}[${i}]`, 'must be "a b" or ["a", "b"]', raw);
    }
  }
  return merges;
}

function parseModel(value: unknown): TokenizerModel {
  const at = `${FILE} model`;
  const model = expectObject(value, at);
  // Files written by old versions may omit the type; the fields tell which model it is.
  let type = model.type;
  if (type === undefined) {
    if ('merges' in model) type = 'BPE';
    else if ('continuing_subword_prefix' in model && 'max_input_chars_per_word' in model) type = 'WordPiece';
    else if (Array.isArray(model.vocab)) type = 'Unigram';
    else if ('unk_token' in model) type = 'WordLevel';
  }
  switch (type) {
    case 'WordPiece': {
      const vocab = parseVocabObject(model.vocab, `${at}.vocab`);
      if (vocab.size === 0) invalid(`${at}.vocab`, 'is empty');
      return new WordPiece(vocab, {
        unkToken: stringField(model, 'unk_token', '[UNK]', at),
        continuingSubwordPrefix: stringField(model, 'continuing_subword_prefix', '##', at),
        maxInputCharsPerWord: countField(model, 'max_input_chars_per_word', 100, at),
      });
    }
    case 'BPE': {
      const dropout = model.dropout;
      if (dropout !== undefined && dropout !== null && dropout !== 0) {
        throw new DualbertError('UNSUPPORTED_TOKENIZER', `${at}.dropout ${JSON.stringify(dropout)}: BPE dropout makes tokenization random; only null or 0 is supported`);
      }
      return new Bpe(
        parseVocabObject(model.vocab, `${at}.vocab`),
        parseMerges(model.merges, `${at}.merges`),
        {
          unkToken: optionalString(model, 'unk_token', at),
          // An empty prefix or suffix changes nothing; treated as absent.
          continuingSubwordPrefix: optionalString(model, 'continuing_subword_prefix', at) || undefined,
          endOfWordSuffix: optionalString(model, 'end_of_word_suffix', at) || undefined,
          fuseUnk: booleanField(model, 'fuse_unk', false, at),
          byteFallback: booleanField(model, 'byte_fallback', false, at),
          ignoreMerges: booleanField(model, 'ignore_merges', false, at),
        },
        at,
      );
    }
    case 'Unigram': {
      const pieces = expectArray(model.vocab, `${at}.vocab`).map((entry, i): [string, number] => {
        if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') {
          invalid(`${at}.vocab[${i}]`, 'must be [piece, score]', entry);
        }
        return [entry[0] as string, entry[1] as number];
      });
      const unkId = model.unk_id === undefined || model.unk_id === null ? undefined : expectCount(model.unk_id, `${at}.unk_id`);
      return new Unigram(pieces, unkId, booleanField(model, 'byte_fallback', false, at), at);
    }
    case 'WordLevel':
      return new WordLevel(parseVocabObject(model.vocab, `${at}.vocab`), stringField(model, 'unk_token', '<unk>', at));
    default:
      return unsupported('model', type, 'WordPiece, BPE, Unigram, WordLevel');
  }
}

const SUPPORTED_NORMALIZERS =
  'BertNormalizer, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Strip, Replace, Prepend, Precompiled, Nmt, ByteLevel, and Sequence of these';

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
    case 'NFC':
    case 'NFKC':
    case 'NFKD':
      return new UnicodeFormNormalizer(type);
    case 'Lowercase':
      return new LowercaseNormalizer();
    case 'StripAccents':
      return new StripAccentsNormalizer();
    case 'Strip':
      return new StripNormalizer(booleanField(obj, 'strip_left', true, at), booleanField(obj, 'strip_right', true, at));
    case 'Replace':
      return new ReplaceNormalizer(compilePattern(obj.pattern, `${at}.pattern`), stringField(obj, 'content', '', at));
    case 'Prepend':
      return new PrependNormalizer(stringField(obj, 'prepend', '', at));
    case 'Nmt':
      return new NmtNormalizer();
    case 'ByteLevel':
      return new ByteLevelNormalizer();
    case 'Precompiled': {
      const charsmap = optionalString(obj, 'precompiled_charsmap', at);
      return charsmap ? Precompiled.fromBase64(charsmap, `${at}.precompiled_charsmap`) : null;
    }
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

const BEHAVIORS = new Set(['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous']);

function parseBehavior(obj: JsonObject, where: string, fallback?: SplitBehavior): SplitBehavior {
  const value = obj.behavior ?? fallback;
  if (typeof value !== 'string' || !BEHAVIORS.has(value)) invalid(`${where}.behavior`, `must be one of ${[...BEHAVIORS].join(', ')}`, value);
  return value as SplitBehavior;
}

const SUPPORTED_PRE_TOKENIZERS =
  'BertPreTokenizer, Whitespace, WhitespaceSplit, Metaspace, ByteLevel, Split, Punctuation, Digits, CharDelimiterSplit, FixedLength, and Sequence of these';

function parsePreTokenizer(value: unknown, where: string): PreTokenizer | null {
  if (value === null || value === undefined) return null;
  const obj = expectObject(value, `${FILE} ${where}`);
  const type = typeOf(obj, where);
  const at = `${FILE} ${where}`;
  switch (type) {
    case 'BertPreTokenizer':
      return new BertPreTokenizer();
    case 'Whitespace':
      return new WhitespacePreTokenizer();
    case 'WhitespaceSplit':
      return new WhitespaceSplitPreTokenizer();
    case 'Metaspace': {
      const replacement = stringField(obj, 'replacement', '\u2581', at);
      if ([...replacement].length !== 1) invalid(`${at}.replacement`, 'must be a single character', replacement);
      const rawScheme = obj.prepend_scheme ?? 'always';
      if (rawScheme !== 'always' && rawScheme !== 'first' && rawScheme !== 'never') invalid(`${at}.prepend_scheme`, 'must be "always", "first" or "never"', rawScheme);
      let scheme: 'always' | 'first' | 'never' = rawScheme;
      // Old files: add_prefix_space false means "never" (and contradicts any other scheme).
      if (obj.add_prefix_space === false) {
        if (obj.prepend_scheme !== undefined && scheme !== 'never') invalid(`${at}.add_prefix_space`, `false contradicts prepend_scheme ${JSON.stringify(scheme)}`);
        scheme = 'never';
      }
      return new MetaspacePreTokenizer(replacement, scheme, booleanField(obj, 'split', true, at));
    }
    case 'ByteLevel':
      return new ByteLevelPreTokenizer(booleanField(obj, 'add_prefix_space', true, at), booleanField(obj, 'use_regex', true, at));
    case 'Split':
      return new SplitPreTokenizer(compilePattern(obj.pattern, `${at}.pattern`), parseBehavior(obj, at), booleanField(obj, 'invert', false, at));
    case 'Punctuation':
      return new PunctuationPreTokenizer(parseBehavior(obj, at, 'Isolated'));
    case 'Digits':
      return new DigitsPreTokenizer(booleanField(obj, 'individual_digits', false, at));
    case 'CharDelimiterSplit': {
      const delimiter = stringField(obj, 'delimiter', '', at);
      if ([...delimiter].length !== 1) invalid(`${at}.delimiter`, 'must be a single character', delimiter);
      return new CharDelimiterSplitPreTokenizer(delimiter);
    }
    case 'FixedLength':
      return new FixedLengthPreTokenizer(countField(obj, 'length', 5, at) || 5);
    case 'Sequence': {
      const parts = expectArray(obj.pretokenizers, `${at}.pretokenizers`).map((p, i) =>
        parsePreTokenizer(p, `${where}.pretokenizers[${i}]`),
      );
      return new SequencePreTokenizer(parts.filter((p): p is PreTokenizer => p !== null));
    }
    default:
      return unsupported('pre_tokenizer', type, SUPPORTED_PRE_TOKENIZERS);
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

function tokenAndId(obj: JsonObject, key: string, where: string): [string, number] {
  const v = obj[key];
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string') invalid(`${where}.${key}`, 'must be [token, id]', v);
  return [v[0] as string, expectCount(v[1], `${where}.${key}[1]`)];
}

function parsePostProcessor(value: unknown, where = 'post_processor'): PostProcessor | null {
  if (value === null || value === undefined) return null;
  const at = `${FILE} ${where}`;
  const obj = expectObject(value, at);
  const type = typeOf(obj, where);
  switch (type) {
    case 'TemplateProcessing': {
      const specials = new Map<string, { ids: number[]; tokens: string[] }>();
      const specialsObject = obj.special_tokens === undefined ? {} : expectObject(obj.special_tokens, `${at}.special_tokens`);
      for (const [key, raw] of Object.entries(specialsObject)) {
        const entryAt = `${at}.special_tokens[${JSON.stringify(key)}]`;
        const entry = expectObject(raw, entryAt);
        const ids = expectArray(entry.ids, `${entryAt}.ids`).map((id, i) => expectCount(id, `${entryAt}.ids[${i}]`));
        const tokens = expectArray(entry.tokens, `${entryAt}.tokens`).map((t, i) =>
          typeof t === 'string' ? t : invalid(`${entryAt}.tokens[${i}]`, 'must be a string', t),
        );
        if (ids.length !== tokens.length) invalid(entryAt, 'must have as many ids as tokens');
        specials.set(key, { ids, tokens });
      }
      return new TemplateProcessing(parseTemplate(obj.single, `${at}.single`, specials), parseTemplate(obj.pair, `${at}.pair`, specials));
    }
    case 'BertProcessing':
      return new BertProcessing(tokenAndId(obj, 'cls', at), tokenAndId(obj, 'sep', at));
    case 'RobertaProcessing':
      return new RobertaProcessing(tokenAndId(obj, 'cls', at), tokenAndId(obj, 'sep', at));
    case 'ByteLevel':
      return new ByteLevelProcessing();
    case 'Sequence': {
      const parts = expectArray(obj.processors, `${at}.processors`).map((p, i) => parsePostProcessor(p, `${where}.processors[${i}]`));
      return new SequenceProcessing(parts.filter((p): p is PostProcessor => p !== null));
    }
    default:
      return unsupported('post_processor', type, 'TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, and Sequence of these');
  }
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

function parsePadding(value: unknown, fallback: [string, number]): PaddingParams {
  if (value === null || value === undefined) {
    return { fixedLength: undefined, direction: 'Right', padToMultipleOf: undefined, padId: fallback[1], padTypeId: 0, padToken: fallback[0] };
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
  const addedVocabulary = new AddedVocabulary(parseAddedTokens(root.added_tokens), model.vocab, normalizer, model.vocabSize);
  const truncation = parseTruncation(root.truncation);
  // Without a padding section, the pad token is the family's usual one (BERT, RoBERTa/XLM-R, ModernBERT).
  let fallbackPad: [string, number] = ['[PAD]', 0];
  for (const token of ['[PAD]', '<pad>', '<|padding|>']) {
    const id = addedVocabulary.tokenToId(token) ?? model.vocab.get(token);
    if (id !== undefined) {
      fallbackPad = [token, id];
      break;
    }
  }
  const padding = parsePadding(root.padding, fallbackPad);
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
