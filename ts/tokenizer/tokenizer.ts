/**
 * The public tokenizer: the pipeline of a tokenizer.json (WordPiece, BPE, Unigram or WordLevel
 * model with their normalizers, pre-tokenizers and post-processors) that gives the same ids as
 * Hugging Face `tokenizers` for the same files. Browser-safe: callers pass file contents, not paths.
 */
import { DualbertError } from '../errors.js';
import { paddedLength } from './padding.js';
import { postProcess, type TokenSequence } from './post-processors.js';
import { parseTokenizerJson } from './tokenizer-json.js';
import type { TokenizerParts } from './tokenizer-parts.js';
import { truncatePair, type TruncationParams, type WordTokens } from './truncation.js';
import type { BatchEncoding, EncodeBatchOptions, EncodeOptions, Encoding } from './types.js';
import { parseVocabFiles } from './vocab-files.js';

/**
 * Lone surrogates cannot reach the Rust tokenizer: converting to UTF-8 turns each into U+FFFD
 * (which clean_text then deletes). Do the same so both see identical text.
 */
function toWellFormed(text: string): string {
  let out: string | undefined;
  let copiedUpTo = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    out = (out ?? '') + text.slice(copiedUpTo, i) + '\ufffd';
    copiedUpTo = i + 1;
  }
  return out === undefined ? text : out + text.slice(copiedUpTo);
}

function checkOptions(options: unknown, method: string): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new DualbertError('INVALID_ARGUMENT', `${method}: options must be an object`);
  }
  return options as Record<string, unknown>;
}

function checkText(text: unknown, what: string): string {
  if (typeof text !== 'string') {
    throw new DualbertError('INVALID_ARGUMENT', `${what} must be a string (got ${text === null ? 'null' : typeof text})`);
  }
  return text;
}

function checkBoolean(value: unknown, what: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new DualbertError('INVALID_ARGUMENT', `${what} must be a boolean`);
  return value;
}

/**
 * A Hugging Face–compatible tokenizer (BERT WordPiece, RoBERTa/ModernBERT byte-level BPE,
 * XLM-R/SentencePiece Unigram, ...).
 * @example
 * const tokenizer = Tokenizer.fromTokenizerJson(tokenizerJsonText);
 * tokenizer.encode('Hello world!').ids // [101, 7592, 2088, 999, 102]
 */
export class Tokenizer {
  readonly vocabSize: number;
  readonly padId: number;
  readonly padTypeId: number;
  /** The unknown token's id; undefined for models without one (byte-level BPE). */
  readonly unkId: number | undefined;
  readonly clsId: number | undefined;
  readonly sepId: number | undefined;
  /** The max length from the files (tokenizer.json truncation.max_length or tokenizer_config model_max_length when sane), or undefined. */
  readonly modelMaxLength: number | undefined;
  /** Number of special tokens the post-processor adds to a single sequence (2 for BERT). */
  readonly numSpecialTokens: number;

  private readonly parts: TokenizerParts;
  /** Word offsets of the piece being encoded (reused: encode is synchronous). */
  private readonly ranges: number[] = [];

  private constructor(parts: TokenizerParts) {
    this.parts = parts;
    const { model, addedVocabulary, postProcessor, padding } = parts;
    let maxId = Math.max(addedVocabulary.maxId, model.vocabSize - 1);
    for (const id of model.vocab.values()) if (id > maxId) maxId = id;
    // One past the largest id, so that every id indexes an embedding table of this size.
    this.vocabSize = maxId + 1;
    this.padId = padding.padId;
    this.padTypeId = padding.padTypeId;
    this.unkId = model.unkId;
    this.clsId = postProcessor?.clsId;
    this.sepId = postProcessor?.sepId;
    this.modelMaxLength = parts.modelMaxLength;
    this.numSpecialTokens = postProcessor?.addedTokens(false) ?? 0;
  }

  /**
   * Builds a tokenizer from tokenizer.json (its text, or the parsed object).
   * @example const tokenizer = Tokenizer.fromTokenizerJson(await (await fetch('/model/tokenizer.json')).text());
   */
  static fromTokenizerJson(json: string | object): Tokenizer {
    if (typeof json !== 'string' && (typeof json !== 'object' || json === null)) {
      throw new DualbertError('INVALID_ARGUMENT', 'fromTokenizerJson expects tokenizer.json text or a parsed object');
    }
    return new Tokenizer(parseTokenizerJson(json));
  }

  /**
   * Builds a BERT tokenizer from vocab.txt text, the parsed tokenizer_config.json and, optionally,
   * the parsed special_tokens_map.json. Truncates only when `maxLength` is passed.
   * @example const tokenizer = Tokenizer.fromVocab(vocabText, { do_lower_case: true });
   */
  static fromVocab(vocabTxt: string, tokenizerConfig?: object, specialTokensMap?: object): Tokenizer {
    return new Tokenizer(parseVocabFiles(vocabTxt, tokenizerConfig, specialTokensMap));
  }

  /**
   * Encodes one text, or a pair with `options.pair`, with special tokens unless disabled.
   * @example tokenizer.encode('hello', { pair: 'world' }).typeIds // [0, 0, 0, 1, 1]
   */
  encode(text: string, options?: EncodeOptions): Encoding {
    const opts = checkOptions(options, 'encode');
    checkText(text, 'encode: text');
    const pair = opts.pair === undefined ? undefined : checkText(opts.pair, 'encode: options.pair');
    const encoded = this.encodeUnpadded(text, pair, opts, 'encode');
    const length = encoded.ids.length;
    const attentionMask = new Array<number>(length).fill(1);
    if (!this.parts.padSingleEncodings || !checkBoolean(opts.padding, 'encode: options.padding', true)) {
      return { ids: encoded.ids, typeIds: encoded.typeIds, attentionMask, tokens: encoded.tokens };
    }

    // tokenizer.json asked for padding (Fixed length or a multiple): the Rust encode pads too.
    const { padding } = this.parts;
    const padCount = paddedLength(length, padding) - length;
    const fill = <T>(values: T[], pad: T): T[] => {
      const pads = new Array<T>(padCount).fill(pad);
      return padding.direction === 'Left' ? [...pads, ...values] : [...values, ...pads];
    };
    return {
      ids: fill(encoded.ids, padding.padId),
      typeIds: fill(encoded.typeIds, padding.padTypeId),
      attentionMask: fill(attentionMask, 0),
      tokens: fill(encoded.tokens, padding.padToken),
    };
  }

  /**
   * Encodes texts and pads them into one rectangular batch (BatchLongest).
   * @example const { ids, attentionMask, seqLen } = tokenizer.encodeBatch(['a', 'b c'], { padToMultipleOf: 8 });
   */
  encodeBatch(texts: string[], options?: EncodeBatchOptions): BatchEncoding {
    const opts = checkOptions(options, 'encodeBatch');
    if (!Array.isArray(texts)) throw new DualbertError('INVALID_ARGUMENT', 'encodeBatch: texts must be an array of strings');
    if ('pair' in opts && opts.pair !== undefined) {
      throw new DualbertError('INVALID_ARGUMENT', 'encodeBatch does not take options.pair; encode pairs with encode()');
    }
    const multiple = opts.padToMultipleOf;
    if (multiple !== undefined && (typeof multiple !== 'number' || !Number.isSafeInteger(multiple) || multiple < 1)) {
      throw new DualbertError('INVALID_ARGUMENT', `encodeBatch: padToMultipleOf must be a positive integer (got ${String(multiple)})`);
    }
    const rows = texts.map((text, i) => this.encodeUnpadded(checkText(text, `encodeBatch: texts[${i}]`), undefined, opts, 'encodeBatch'));
    return this.pad(rows, { padToMultipleOf: multiple ?? this.parts.padding.padToMultipleOf });
  }

  /**
   * Pads encoded rows into one rectangular batch with the pad id and pad type id of the files.
   * `direction` defaults to the files' padding side; the embedder always pads on the right,
   * because BERT's absolute positions must start at the first real token.
   * @example const batch = tokenizer.pad([tokenizer.encode('a'), tokenizer.encode('b c')], { direction: 'Right' });
   */
  pad(
    rows: readonly Pick<Encoding, 'ids' | 'typeIds'>[],
    options: { padToMultipleOf?: number | undefined; direction?: 'Left' | 'Right' } = {},
  ): BatchEncoding {
    const lengths = rows.map((r) => r.ids.length);
    const batchSize = rows.length;
    const longest = lengths.reduce((a, b) => Math.max(a, b), 0);
    const seqLen = batchSize === 0 ? 0 : paddedLength(longest, this.parts.padding, options.padToMultipleOf);
    const { padId, padTypeId } = this.parts.padding;
    const direction = options.direction ?? this.parts.padding.direction;
    const ids = new Int32Array(batchSize * seqLen).fill(padId);
    const typeIds = new Int32Array(batchSize * seqLen).fill(padTypeId);
    const attentionMask = new Uint8Array(batchSize * seqLen);
    rows.forEach((row, r) => {
      const offset = r * seqLen + (direction === 'Left' ? seqLen - row.ids.length : 0);
      ids.set(row.ids, offset);
      typeIds.set(row.typeIds, offset);
      attentionMask.fill(1, offset, offset + row.ids.length);
    });
    return { batchSize, seqLen, ids, typeIds, attentionMask, lengths };
  }

  /**
   * The word pieces of a text, without special tokens and without truncation.
   * @example tokenizer.tokenize('unaffable') // ['una', '##ffa', '##ble']
   */
  tokenize(text: string): string[] {
    return this.encode(text, { addSpecialTokens: false, maxLength: null }).tokens;
  }

  /**
   * The token with this id (added tokens first, like the Rust implementation), if any.
   * @example tokenizer.idToToken(101) // '[CLS]'
   */
  idToToken(id: number): string | undefined {
    const added = this.parts.addedVocabulary.idToToken(id);
    if (added !== undefined) return added;
    return Number.isInteger(id) && id >= 0 ? this.parts.model.idToToken(id) : undefined;
  }

  /**
   * The id of a token string (added tokens first), if any.
   * @example tokenizer.tokenToId('[SEP]') // 102
   */
  tokenToId(token: string): number | undefined {
    return this.parts.addedVocabulary.tokenToId(token) ?? this.parts.model.vocab.get(token);
  }

  private resolveTruncation(maxLength: unknown, method: string): TruncationParams | null {
    if (maxLength === undefined) return this.parts.truncation;
    if (maxLength === null) return null;
    if (typeof maxLength !== 'number' || !Number.isSafeInteger(maxLength) || maxLength < 0) {
      throw new DualbertError('INVALID_ARGUMENT', `${method}: maxLength must be a non-negative integer or null (got ${String(maxLength)})`);
    }
    return { maxLength, ...this.parts.truncationStyle };
  }

  /** Tokenizes, truncates and adds special tokens; no padding. */
  private encodeUnpadded(text: string, pair: string | undefined, opts: Record<string, unknown>, method: string): TokenSequence {
    const addSpecialTokens = checkBoolean(opts.addSpecialTokens, `${method}: options.addSpecialTokens`, true);
    const truncation = this.resolveTruncation(opts.maxLength, method);
    const a = this.encodeSequence(text, 0);
    const b = pair === undefined ? null : this.encodeSequence(pair, 1);
    const { postProcessor } = this.parts;
    if (truncation !== null) {
      const special = addSpecialTokens && postProcessor !== null ? postProcessor.addedTokens(b !== null) : 0;
      if (truncation.maxLength < special) {
        throw new DualbertError(
          'INVALID_ARGUMENT',
          `${method}: maxLength ${truncation.maxLength} leaves no room for the ${special} special tokens`,
        );
      }
      truncatePair(a, b, truncation, special);
    }
    return postProcess(postProcessor, a, b, addSpecialTokens);
  }

  /**
   * Added tokens, then normalizer → added tokens on normalized text → pre-tokenizer → model.
   * Empty pieces are skipped, as the reference drops empty splits.
   */
  private encodeSequence(text: string, typeId: number): WordTokens {
    const { addedVocabulary, normalizer, preTokenizer, model } = this.parts;
    const ids: number[] = [];
    const tokens: string[] = [];
    const wordLengths: number[] = [];
    const addedToken: boolean[] = [];
    const words: string[] = [];
    const ranges = preTokenizer?.splitRanges !== undefined && model.tokenizeRange !== undefined ? this.ranges : undefined;
    let rawOffset = 0;
    for (const raw of addedVocabulary.splitRaw(toWellFormed(text))) {
      const rawAtStart = rawOffset === 0;
      rawOffset += raw.text.length;
      if (raw.tokenId !== undefined) {
        ids.push(raw.tokenId);
        tokens.push(raw.text);
        wordLengths.push(1);
        addedToken.push(true);
        continue;
      }
      if (raw.text.length === 0) continue;
      const normalized = normalizer === null ? raw.text : normalizer.normalize(raw.text);
      // Whether normalized offset 0 still maps to the input's offset 0 (Metaspace "first").
      let atStart = rawAtStart && (normalizer === null || preTokenizer?.usesStart !== true || keepsFirstCharacter(normalizer, raw.text));
      for (const piece of addedVocabulary.splitNormalized(normalized)) {
        const pieceAtStart = atStart;
        atStart = false;
        if (piece.tokenId !== undefined) {
          ids.push(piece.tokenId);
          tokens.push(piece.text);
          wordLengths.push(1);
          addedToken.push(true);
          continue;
        }
        if (piece.text.length === 0) continue;
        if (ranges !== undefined) {
          // Word offsets instead of word strings: the model reads the text in place.
          ranges.length = 0;
          preTokenizer!.splitRanges!(piece.text, ranges);
          for (let k = 0; k < ranges.length; k += 2) {
            wordLengths.push(model.tokenizeRange!(piece.text, ranges[k]!, ranges[k + 1]!, ids, tokens));
            addedToken.push(false);
          }
          continue;
        }
        words.length = 0;
        if (preTokenizer === null) words.push(piece.text);
        else preTokenizer.split(piece.text, words, pieceAtStart);
        for (const word of words) {
          const pieces = model.tokenizeWord(word);
          for (let i = 0; i < pieces.ids.length; i++) {
            ids.push(pieces.ids[i]!);
            tokens.push(pieces.tokens[i]!);
          }
          wordLengths.push(pieces.ids.length);
          addedToken.push(false);
        }
      }
    }
    return { ids, tokens, typeIds: new Array<number>(ids.length).fill(typeId), wordLengths, addedToken };
  }
}

/**
 * Whether the reference's alignment of normalized offset 0 is still the input's offset 0: not
 * when the normalizer removed the first character (Strip, deleted control characters). Judged
 * on the first few characters: removed exactly when normalizing with or without the first
 * character gives the same text.
 */
function keepsFirstCharacter(normalizer: { normalize(text: string): string }, text: string): boolean {
  let end = Math.min(text.length, 32);
  if (end < text.length && text.charCodeAt(end) >= 0xdc00 && text.charCodeAt(end) <= 0xdfff) end--;
  const head = text.slice(0, end);
  const width = head.codePointAt(0)! > 0xffff ? 2 : 1;
  return normalizer.normalize(head) !== normalizer.normalize(head.slice(width));
}
