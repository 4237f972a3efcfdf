/**
 * What the server runs: one embedder (and, with --reranker, one cross-encoder for /rerank),
 * the preparation of request inputs into batcher work (token counts, prompts, token-id inputs)
 * and the forward pass that the batcher calls.
 */
import type { Device } from '../backends/types.js';
import type { EmbedOptions, EmbeddingResult } from '../embedder.js';
import { DualbertError } from '../errors.js';
import type { ModelDefaults } from '../model/load.js';
import type { Tokenizer } from '../tokenizer/index.js';
import type { WorkInput } from './batcher.js';
import { HttpError } from './http.js';

/** What the server needs of an embedder: an `Embedder` and a `WorkerEmbedder` both fit. */
export interface ServedEmbedder {
  readonly tokenizer: Tokenizer;
  readonly dimension: number;
  readonly defaults: ModelDefaults;
  readonly device: Device;
  readonly threads: number;
  embed(texts: readonly string[], options?: EmbedOptions): Promise<EmbeddingResult>;
  dispose(): void;
}

/**
 * The cross-encoder the /rerank route needs: the library's reranker through servedReranker()
 * (served-reranker.ts), or any scorer of this shape (the route, batching and metrics are here).
 */
export interface ServedReranker {
  /** The reranker's tokenizer: a pair (query, text) is encoded with its pair template. */
  readonly tokenizer: Tokenizer;
  /** Tokens per pair, special tokens included (longer pairs are truncated). */
  readonly maxLength: number;
  /** One relevance score per pair, in order; `raw` asks for logits before the activation. */
  score(pairs: readonly (readonly [string, string])[], options: { raw: boolean }): Promise<ArrayLike<number>>;
  dispose(): void;
}

/** One input of an embedding request: a text, or token ids of the model's own tokenizer. */
export type EmbedInput = string | readonly number[];

/** What the batcher carries: a text to embed, or a (query, text) pair to score. */
export type Payload = { kind: 'embed'; text: string } | { kind: 'rerank'; query: string; text: string };
/** An embedding row, or a relevance score. */
export type PassResult = Float32Array | number;

/** Model call options of a pass; every input of a pass shares them (they are the batch key). */
type PassOptions = { kind: 'embed'; normalize: boolean; prompt: string } | { kind: 'rerank'; raw: boolean };

/** How long preparation may hold the event loop before it yields (tokenizing a large request). */
const PREPARE_SLICE = 128;
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The embedder (and reranker) of a server, with input preparation and the pass runner. */
export class Engine {
  private readonly passOptions = new Map<string, PassOptions>();

  constructor(
    readonly embedder: ServedEmbedder,
    readonly reranker: ServedReranker | undefined,
  ) {}

  /** Tokens per input, special tokens included. */
  get maxLength(): number {
    return this.embedder.defaults.maxLength;
  }

  /**
   * Turns request inputs into batcher work: resolves the prompt, counts each input's tokens (400
   * for bad token ids, 413 for an input longer than the model takes when `truncate` is false).
   * Yields to the event loop every few inputs so a large request does not hold up others.
   */
  async prepareEmbed(
    inputs: readonly EmbedInput[],
    options: { normalize: boolean; truncate: boolean; promptName?: string | undefined; field: string },
  ): Promise<{ work: WorkInput<Payload>[]; tokens: number[] }> {
    const prompt = this.prompt(options.promptName);
    const textKey = this.key({ kind: 'embed', normalize: options.normalize, prompt });
    // Token ids are what the model sees: no prompt is put before them.
    const idsKey = this.key({ kind: 'embed', normalize: options.normalize, prompt: '' });
    const { tokenizer, defaults } = this.embedder;
    const work: WorkInput<Payload>[] = [];
    const tokens: number[] = [];
    for (let i = 0; i < inputs.length; i++) {
      if (i > 0 && i % PREPARE_SLICE === 0) await yieldToLoop();
      const input = inputs[i]!;
      const where = inputs.length === 1 && typeof input === 'string' ? options.field : `${options.field}[${i}]`;
      let text: string;
      let length: number;
      if (typeof input === 'string') {
        text = input;
        const full = prompt + input;
        length = tokenizer.encode(defaults.lowercaseInput ? full.toLowerCase() : full, { maxLength: null, padding: false }).ids.length;
      } else {
        const decoded = this.textOfTokenIds(input, where);
        text = decoded.text;
        length = decoded.length;
      }
      if (length > this.maxLength && !options.truncate) {
        throw new HttpError(413, 'too_large', `${where} has ${length} tokens; the model takes at most ${this.maxLength} (send "truncate": true to cut it)`, {}, options.field);
      }
      const counted = Math.min(length, this.maxLength);
      tokens.push(counted);
      work.push({ key: typeof input === 'string' ? textKey : idsKey, tokens: counted, payload: { kind: 'embed', text } });
    }
    return { work, tokens };
  }

  /** Turns a rerank request into batcher work (501 when there is no reranker). */
  async prepareRerank(query: string, texts: readonly string[], options: { raw: boolean; truncate: boolean }): Promise<WorkInput<Payload>[]> {
    const reranker = this.reranker;
    if (!reranker) {
      throw new HttpError(
        501,
        'not_implemented',
        '/rerank needs a cross-encoder (reranker) model, and this server has none: start it with --reranker SPEC (a cross-encoder such as hf:cross-encoder/ms-marco-MiniLM-L6-v2, loaded with createReranker), or use /embed and compare vectors.',
      );
    }
    const key = this.key({ kind: 'rerank', raw: options.raw });
    const work: WorkInput<Payload>[] = [];
    for (let i = 0; i < texts.length; i++) {
      if (i > 0 && i % PREPARE_SLICE === 0) await yieldToLoop();
      const length = reranker.tokenizer.encode(query, { pair: texts[i]!, maxLength: null, padding: false }).ids.length;
      if (length > reranker.maxLength && !options.truncate) {
        throw new HttpError(413, 'too_large', `query + texts[${i}] have ${length} tokens; the model takes at most ${reranker.maxLength} (send "truncate": true to cut them)`, {}, 'texts');
      }
      work.push({ key, tokens: Math.min(length, reranker.maxLength), payload: { kind: 'rerank', query, text: texts[i]! } });
    }
    return work;
  }

  /** Runs one pass for the batcher: every payload shares `key`'s options. */
  readonly run = async (key: string, payloads: Payload[]): Promise<PassResult[]> => {
    const options = this.passOptions.get(key);
    if (!options) throw new Error(`unknown pass key ${key}`);
    if (options.kind === 'embed') {
      const texts = payloads.map((p) => p.text);
      // One forward pass: the batcher already sized and length-sorted it.
      const { data, dims } = await this.embedder.embed(texts, { normalize: options.normalize, prompt: options.prompt, batchSize: texts.length });
      const width = dims[1];
      return texts.map((_, i) => data.subarray(i * width, (i + 1) * width));
    }
    const pairs = payloads.map((p) => [(p as Extract<Payload, { kind: 'rerank' }>).query, p.text] as const);
    return Array.from(await this.reranker!.score(pairs, { raw: options.raw }));
  };

  /** Frees the embedder and the reranker. */
  dispose(): void {
    this.embedder.dispose();
    this.reranker?.dispose();
  }

  private key(options: PassOptions): string {
    const key = JSON.stringify(options);
    if (!this.passOptions.has(key)) this.passOptions.set(key, options);
    return key;
  }

  /** The prompt a request names, else the model's default prompt, else ''. */
  private prompt(promptName: string | undefined): string {
    const { prompts, defaultPromptName, includePrompt } = this.embedder.defaults;
    const name = promptName ?? defaultPromptName;
    if (name === undefined) return '';
    if (!Object.hasOwn(prompts, name)) {
      const names = Object.keys(prompts);
      throw new HttpError(400, 'invalid_request', `prompt_name "${name}" is not one of the model's prompts (${names.length ? names.join(', ') : 'it has none'})`, {}, 'prompt_name');
    }
    const prompt = prompts[name]!;
    if (prompt && !includePrompt) {
      throw new HttpError(400, 'invalid_request', `the model pools without its prompt tokens (Pooling include_prompt: false), which dualbert does not implement; prompt "${name}" cannot be used`, {}, 'prompt_name');
    }
    return prompt;
  }

  /**
   * The text whose tokens are exactly `ids` (with or without the [CLS] … [SEP] the tokenizer adds),
   * and its length with special tokens. The library embeds text, so ids are turned back into
   * word pieces ("##" pieces joined to the previous one) and the result is tokenized again: when
   * that does not give the same ids (ids no text produces), the request is refused rather than
   * answered with a different input's embedding.
   */
  private textOfTokenIds(ids: readonly number[], where: string): { text: string; length: number } {
    const { tokenizer, defaults } = this.embedder;
    let core = ids;
    if (tokenizer.clsId !== undefined && core[0] === tokenizer.clsId) core = core.slice(1);
    if (tokenizer.sepId !== undefined && core.at(-1) === tokenizer.sepId) core = core.slice(0, -1);
    let text = '';
    core.forEach((id, i) => {
      const token = tokenizer.idToToken(id);
      if (token === undefined) {
        throw new HttpError(400, 'invalid_request', `${where}: token id ${id} is not in the model's vocabulary (ids 0 to ${tokenizer.vocabSize - 1})`, {}, 'input');
      }
      text += token.startsWith('##') && i > 0 ? token.slice(2) : i > 0 ? ` ${token}` : token;
    });
    const again = tokenizer.encode(defaults.lowercaseInput ? text.toLowerCase() : text, { addSpecialTokens: false, maxLength: null, padding: false }).ids;
    if (again.length !== core.length || again.some((id, i) => id !== core[i])) {
      throw new HttpError(
        400,
        'invalid_request',
        `${where}: these token ids are not a tokenization this model's tokenizer produces for any text, so dualbert cannot embed them exactly; send the text instead`,
        {},
        'input',
      );
    }
    return { text, length: core.length + tokenizer.numSpecialTokens };
  }
}

/** The HTTP answer for an error a pass failed with: the library's own errors keep their message. */
export function passErrorToHttp(e: unknown): HttpError | undefined {
  if (e instanceof HttpError) return e;
  if (e instanceof DualbertError) {
    const status = e.code === 'INVALID_ARGUMENT' || e.code === 'INPUT_TOO_LONG' ? 400 : e.code === 'DISPOSED' ? 503 : 500;
    return new HttpError(status, status === 400 ? 'invalid_request' : status === 503 ? 'unavailable' : 'internal', `${e.code}: ${e.message}`);
  }
  return undefined;
}
