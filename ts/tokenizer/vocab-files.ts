/**
 * Builds the pipeline from a `vocab.txt` plus `tokenizer_config.json` (and optionally
 * `special_tokens_map.json`), the way `transformers` converts a slow BertTokenizer into a fast
 * one: BertNormalizer + BertPreTokenizer + WordPiece + `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]`.
 */
import { DualbertError } from '../errors.js';
import { AddedVocabulary, type AddedToken } from './added-vocabulary.js';
import { booleanField, countField, expectObject, invalid, stringField, type JsonObject } from './json-fields.js';
import { BertNormalizer } from './normalizers.js';
import { TemplateProcessing, type TemplatePiece } from './post-processors.js';
import { BertPreTokenizer } from './pre-tokenizers.js';
import type { TokenizerParts } from './tokenizer-parts.js';
import type { Direction, TruncationStrategy } from './truncation.js';
import { WordPiece } from './wordpiece.js';

const CONFIG = 'tokenizer_config.json';
const SPECIAL_MAP = 'special_tokens_map.json';

/** Tokenizer classes whose fast conversion is exactly the BERT pipeline built here. */
const BERT_STYLE_CLASSES = new Set([
  'BertTokenizer',
  'DistilBertTokenizer',
  'ElectraTokenizer',
  'MobileBertTokenizer',
  'SqueezeBertTokenizer',
  'ConvBertTokenizer',
  'RetriBertTokenizer',
  'LayoutLMTokenizer',
  'LxmertTokenizer',
]);

/** model_max_length above this is the "no limit" placeholder transformers writes (1e30). */
const SANE_MAX_LENGTH = 1_000_000;

/**
 * Parses vocab.txt: one token per line, id = line number. Lines end at \n, \r\n or \r (Python's
 * universal newlines, which transformers reads the file with); a later duplicate line wins.
 * @example parseVocabTxt('[PAD]\n[UNK]\nhello\n') // Map { '[PAD]' => 0, '[UNK]' => 1, 'hello' => 2 }
 */
export function parseVocabTxt(vocabTxt: string): Map<string, number> {
  if (typeof vocabTxt !== 'string') {
    throw new DualbertError('INVALID_ARGUMENT', `vocab.txt contents must be a string (got ${vocabTxt === null ? 'null' : typeof vocabTxt})`);
  }
  const lines = vocabTxt.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) invalid('vocab.txt', 'is empty');
  const vocab = new Map<string, number>();
  for (const [id, token] of lines.entries()) vocab.set(token, id);
  return vocab;
}

/** A special-token entry: a string, or an AddedToken-like object with `content` and flags. */
function readSpecialToken(value: unknown, where: string): AddedToken | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') {
    return { content: value, singleWord: false, lstrip: false, rstrip: false, normalized: false, special: true };
  }
  const obj = expectObject(value, where);
  const content = stringField(obj, 'content', '', where);
  if (content === '') invalid(`${where}.content`, 'must be a non-empty string', obj.content);
  return {
    content,
    singleWord: booleanField(obj, 'single_word', false, where),
    lstrip: booleanField(obj, 'lstrip', false, where),
    rstrip: booleanField(obj, 'rstrip', false, where),
    normalized: booleanField(obj, 'normalized', false, where),
    special: true,
  };
}

function readSide(config: JsonObject, key: string): Direction {
  const value = stringField(config, key, 'right', CONFIG);
  if (value !== 'left' && value !== 'right') invalid(`${CONFIG}.${key}`, 'must be "left" or "right"', value);
  return value === 'left' ? 'Left' : 'Right';
}

function saneLength(config: JsonObject, key: string): number | undefined {
  const value = config[key];
  // Non-numbers here are transformers' placeholders (e.g. 1e30 or null), not errors.
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0 || value > SANE_MAX_LENGTH) return undefined;
  return value;
}

/**
 * Builds the BERT pipeline from vocab.txt text and the parsed config objects.
 * @example const parts = parseVocabFiles(vocabText, JSON.parse(configText));
 */
export function parseVocabFiles(vocabTxt: string, tokenizerConfig?: object, specialTokensMap?: object): TokenizerParts {
  const vocab = parseVocabTxt(vocabTxt);
  const config: JsonObject = tokenizerConfig === undefined ? {} : expectObject(tokenizerConfig, CONFIG);
  const specialMap: JsonObject = specialTokensMap === undefined ? {} : expectObject(specialTokensMap, SPECIAL_MAP);

  const tokenizerClass = stringField(config, 'tokenizer_class', 'BertTokenizer', CONFIG);
  if (!BERT_STYLE_CLASSES.has(tokenizerClass.replace(/Fast$/, ''))) {
    throw new DualbertError(
      'UNSUPPORTED_TOKENIZER',
      `${CONFIG}: tokenizer_class ${JSON.stringify(tokenizerClass)} is not a BERT-style WordPiece tokenizer; ` +
        'provide its tokenizer.json instead',
    );
  }

  // transformers' BertConverter: without a basic tokenizer, no lowercasing, accents or CJK padding.
  const basic = booleanField(config, 'do_basic_tokenize', true, CONFIG);
  const lowercase = basic && booleanField(config, 'do_lower_case', true, CONFIG);
  const normalizer = new BertNormalizer({
    cleanText: true,
    handleChineseChars: basic && booleanField(config, 'tokenize_chinese_chars', true, CONFIG),
    stripAccents: basic && booleanField(config, 'strip_accents', lowercase, CONFIG),
    lowercase,
  });

  // special_tokens_map.json overrides tokenizer_config.json, as in transformers.
  const special = (key: string, fallback: string): AddedToken => {
    const fromMap = readSpecialToken(specialMap[key], `${SPECIAL_MAP} ${key}`);
    const fromConfig = readSpecialToken(config[key], `${CONFIG} ${key}`);
    return fromMap ?? fromConfig ?? readSpecialToken(fallback, key)!;
  };
  const unk = special('unk_token', '[UNK]');
  const sep = special('sep_token', '[SEP]');
  const pad = special('pad_token', '[PAD]');
  const cls = special('cls_token', '[CLS]');
  const mask = special('mask_token', '[MASK]');

  const model = new WordPiece(vocab, { unkToken: unk.content, continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 });

  // Tokens listed with ids in added_tokens_decoder come first, in id order, then the special tokens.
  const added: AddedToken[] = [];
  if (config.added_tokens_decoder !== undefined && config.added_tokens_decoder !== null) {
    const decoder = expectObject(config.added_tokens_decoder, `${CONFIG} added_tokens_decoder`);
    const entries = Object.entries(decoder).sort(([a], [b]) => Number(a) - Number(b));
    for (const [id, raw] of entries) {
      const where = `${CONFIG} added_tokens_decoder[${JSON.stringify(id)}]`;
      const token = readSpecialToken(raw, where)!;
      const obj = expectObject(raw, where);
      added.push({ ...token, normalized: booleanField(obj, 'normalized', false, where), special: booleanField(obj, 'special', true, where) });
    }
  }
  added.push(unk, sep, pad, cls, mask);
  const additional = specialMap.additional_special_tokens ?? config.additional_special_tokens;
  if (Array.isArray(additional)) {
    additional.forEach((t, i) => {
      const token = readSpecialToken(t, `additional_special_tokens[${i}]`);
      if (token) added.push(token);
    });
  } else if (additional !== undefined && additional !== null) {
    invalid(`${CONFIG} additional_special_tokens`, 'must be an array', additional);
  }
  const addedVocabulary = new AddedVocabulary(added, vocab, normalizer);

  const idOf = (token: AddedToken, role: string): number => {
    const id = addedVocabulary.tokenToId(token.content) ?? vocab.get(token.content);
    if (id === undefined) invalid(`${role} ${JSON.stringify(token.content)}`, 'is not in vocab.txt');
    return id;
  };
  const clsPiece: TemplatePiece = { kind: 'special', ids: [idOf(cls, 'cls_token')], tokens: [cls.content], typeId: 0 };
  const sepPiece: TemplatePiece = { kind: 'special', ids: [idOf(sep, 'sep_token')], tokens: [sep.content], typeId: 0 };
  const postProcessor = new TemplateProcessing(
    [clsPiece, { kind: 'sequence', sequence: 'A', typeId: 0 }, sepPiece],
    [
      clsPiece,
      { kind: 'sequence', sequence: 'A', typeId: 0 },
      sepPiece,
      { kind: 'sequence', sequence: 'B', typeId: 1 },
      { ...sepPiece, typeId: 1 },
    ],
  );

  const strategyName = stringField(config, 'truncation_strategy', 'longest_first', CONFIG);
  const strategy: TruncationStrategy =
    strategyName === 'only_first' ? 'OnlyFirst' : strategyName === 'only_second' ? 'OnlySecond' : 'LongestFirst';

  return {
    addedVocabulary,
    normalizer,
    preTokenizer: new BertPreTokenizer(),
    model,
    postProcessor,
    truncation: null,
    truncationStyle: { strategy, direction: readSide(config, 'truncation_side') },
    padding: {
      fixedLength: undefined,
      direction: readSide(config, 'padding_side'),
      padToMultipleOf: undefined,
      padId: addedVocabulary.tokenToId(pad.content) ?? vocab.get(pad.content) ?? 0,
      padTypeId: countField(config, 'pad_token_type_id', 0, CONFIG),
      padToken: pad.content,
    },
    padSingleEncodings: false,
    modelMaxLength: saneLength(config, 'model_max_length') ?? saneLength(config, 'max_length'),
  };
}

