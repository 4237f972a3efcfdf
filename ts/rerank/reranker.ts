/**
 * Rerankers: cross-encoders that read a query and a document together and score how well they
 * match, with sentence-transformers' CrossEncoder semantics (`predict`, `rank`). The model is the
 * encoder graph ending in its `*ForSequenceClassification` head (ts/graph/heads.ts), so it runs
 * on every device the embedder runs on.
 *
 * A pair is tokenized with the tokenizer's pair template ([CLS] q [SEP] d [SEP] for BERT) and cut
 * to the model's max length with Hugging Face's `longest_first`; pairs are sorted by length and
 * batched, the logits come back in input order, and the activation sentence-transformers applies
 * by default (sigmoid for one label, the model's `activation_fn` when it names one) is applied
 * in float64.
 */
import { createBackend } from '../backends/registry.js';
import type { Backend, BackendOptions, BackendWarning, Device } from '../backends/types.js';
import { DualbertError } from '../errors.js';
import { type BertGraph, buildBertGraph } from '../graph/bert.js';
import { assertSupported, prepareGraph } from '../graph/execute.js';
import { classifierHead } from '../graph/heads.js';
import { bindWeights } from '../graph/weights.js';
import { boundThreads } from '../inputs.js';
import type { CrossEncoderSettings, ScoreActivation } from '../model/cross-encoder.js';
import { type LoadedModel, type LoadOptions, loadCrossEncoderModel } from '../model/load.js';
import type { ModelSource } from '../model/sources.js';
import type { Tokenizer } from '../tokenizer/index.js';
import type { EmbedderOptions } from '../types.js';
import { Pacer } from '../yield.js';

export type { CrossEncoderSettings, ScoreActivation } from '../model/cross-encoder.js';

/**
 * Options of {@link createReranker}: the same devices, loading and progress options as
 * `createEmbedder` (in-thread; worker mode is for embedders).
 * @example await createReranker('hf:cross-encoder/ms-marco-MiniLM-L6-v2', { device: 'wasm', threads: 2 });
 */
export type RerankerOptions = EmbedderOptions;

/**
 * A query and a document: `[query, document]` or `{ query, document }`.
 * @example const pairs: RerankPair[] = [['how many people live in Berlin?', 'Berlin has 3.5 million inhabitants.']];
 */
export type RerankPair = readonly [string, string] | { readonly query: string; readonly document: string };

/**
 * Options of {@link Reranker.score} and {@link Reranker.predict}.
 * @example await reranker.score(pairs, { activation: 'identity', batchSize: 16 });   // raw logits
 */
export interface ScoreOptions {
  /** Pairs per forward pass. Default 32 (sentence-transformers' default). */
  batchSize?: number;
  /** The activation on the logits; default the model's (`activation_fn`: sigmoid for one label). */
  activation?: ScoreActivation;
  /**
   * Cut pairs longer than the model's max length, the longer text first (default true). With
   * false, a pair that does not fit throws `INPUT_TOO_LONG`.
   */
  truncation?: boolean;
  /** Stops between batches: the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Options of {@link Reranker.predict}.
 * @example await reranker.predict(pairs, { apply_softmax: true });   // class probabilities
 */
export interface PredictOptions extends ScoreOptions {
  /** Softmax over the labels of each pair (after the activation), as sentence-transformers' `apply_softmax`. */
  apply_softmax?: boolean;
}

/**
 * Options of {@link Reranker.rank}.
 * @example await reranker.rank(query, documents, { topK: 3, returnDocuments: true });
 */
export interface RankOptions extends ScoreOptions {
  /** Keep the best k documents (default: all). */
  topK?: number;
  /** Include each document's text as `text`. */
  returnDocuments?: boolean;
}

/**
 * One ranked document, as sentence-transformers' `CrossEncoder.rank` returns it: its index in
 * the documents, its score, and its text when asked for.
 * @example const [best] = await reranker.rank(query, documents); console.log(best.corpus_id, best.score);
 */
export interface RankResult {
  corpus_id: number;
  score: number;
  text?: string;
}

/**
 * Every label's score for every pair: `data[i · numLabels + j]` (float64).
 * @example const { data, dims: [pairs, labels] } = await reranker.predict(pairs);
 */
export interface PredictResult {
  data: Float64Array;
  dims: [number, number];
}

const ACTIVATION_FNS: Record<ScoreActivation, (x: number) => number> = {
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  identity: (x) => x,
  tanh: Math.tanh,
  relu: (x) => Math.max(0, x),
};

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

/** The pairs of a call, checked and copied now (the call may run later, behind others). */
function pairsOf(pairs: unknown): [string, string][] {
  if (!Array.isArray(pairs)) throw new DualbertError('INVALID_ARGUMENT', `score(pairs): pairs must be an array of [query, document] or { query, document }, got ${describe(pairs)}`);
  return pairs.map((p: unknown, i) => {
    const [q, d] = Array.isArray(p) ? [p[0], p[1]] : typeof p === 'object' && p !== null ? [(p as { query?: unknown }).query, (p as { document?: unknown }).document] : [undefined, undefined];
    if ((Array.isArray(p) && p.length !== 2) || typeof q !== 'string' || typeof d !== 'string') {
      throw new DualbertError('INVALID_ARGUMENT', `pair ${i} must be [query, document] or { query, document } with two strings, got ${describe(p)}`);
    }
    return [q, d];
  });
}

function checkScoreOptions(options: unknown): ScoreOptions & PredictOptions & RankOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) throw new DualbertError('INVALID_ARGUMENT', `options must be an object, got ${describe(options)}`);
  const o = { ...(options as Record<string, unknown>) };
  const positive = (key: string): void => {
    const v = o[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1)) throw new DualbertError('INVALID_ARGUMENT', `${key} must be a positive integer, got ${String(v)}`);
  };
  positive('batchSize');
  positive('topK');
  if (o['activation'] !== undefined && !Object.hasOwn(ACTIVATION_FNS, o['activation'] as string)) {
    throw new DualbertError('INVALID_ARGUMENT', `activation "${String(o['activation'])}" is not one of ${Object.keys(ACTIVATION_FNS).join(', ')}`);
  }
  for (const key of ['truncation', 'returnDocuments', 'apply_softmax']) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean') throw new DualbertError('INVALID_ARGUMENT', `${key} must be true or false, got ${describe(o[key])}`);
  }
  return o as ScoreOptions & PredictOptions & RankOptions;
}

/**
 * Scores query–document pairs with a cross-encoder on one device. Made by {@link createReranker}.
 * Dispatches `warning` events as the embedder does (a GPU lost mid-session).
 * @example
 * const reranker = await createReranker('synthetic:minilm');
 * const scores = await reranker.score([['what is dualbert?', 'dualbert embeds text in the browser']]);
 * const ranked = await reranker.rank('what is dualbert?', documents, { topK: 3 });
 */
export class Reranker extends EventTarget {
  /** The model's tokenizer. */
  readonly tokenizer: Tokenizer;
  /** The head and scoring settings read from the model's files. */
  readonly settings: CrossEncoderSettings;
  /** Tokens per pair, special tokens included (longer pairs are truncated). */
  readonly maxLength: number;
  private backend: Backend | undefined;
  private readonly graph: BertGraph;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly pacer = new Pacer();

  private constructor(
    private readonly model: LoadedModel & { classifier: CrossEncoderSettings },
    graph: BertGraph,
    backend: Backend,
    onWarning: ((w: BackendWarning) => void) | undefined,
  ) {
    super();
    if (onWarning) this.addEventListener('warning', (e) => onWarning((e as CustomEvent<BackendWarning>).detail));
    this.tokenizer = model.tokenizer;
    this.settings = model.classifier;
    this.maxLength = model.defaults.maxLength;
    this.graph = graph;
    this.backend = backend;
  }

  /** Loads a cross-encoder and prepares a backend. Prefer the `createReranker` function. */
  static async create(model: string | ModelSource, options: RerankerOptions = {}): Promise<Reranker> {
    if ((options as { worker?: unknown }).worker) {
      // Not silently ignored: the caller expects the model off this thread.
      throw new DualbertError('INVALID_ARGUMENT', 'createReranker: worker mode is for embedders; a reranker runs in the calling thread (its passes give the event loop turns, see README)');
    }
    const { device = 'auto', progress_callback, dtype, cache, cache_dir, offline, revision, remote_host, maxAttempts, fetch, warn, signal, timeout, onWarning, ...backendOptions } = options;
    const loadOptions: LoadOptions = { progress_callback, dtype, cache, cache_dir, offline, revision, remote_host, maxAttempts, fetch, warn, signal, timeout };
    for (const k of Object.keys(loadOptions) as (keyof LoadOptions)[]) if (loadOptions[k] === undefined) delete loadOptions[k];
    const loaded = await loadCrossEncoderModel(model, loadOptions);
    const graph = buildBertGraph(loaded.config, classifierHead(loaded.config.hiddenSize, loaded.classifier.head));
    const weights = bindWeights(graph.weights, loaded.checkpoint);
    const opts: BackendOptions = { ...backendOptions, ...(dtype === 'fp16' || dtype === 'fp32' ? { dtype } : {}) };
    const threads = await boundThreads(opts.threads, (message) => onWarning?.({ code: 'SLOW_PATH', message }));
    if (threads !== undefined) opts.threads = threads;
    let sink: ((w: BackendWarning) => void) | undefined = onWarning;
    const backend = await createBackend(device, weights, opts, (w) => sink?.(w));
    try {
      assertSupported(backend, graph.nodes);
    } catch (e) {
      backend.dispose();
      throw e;
    }
    const reranker = new Reranker(loaded, graph, backend, onWarning);
    sink = (w) => reranker.dispatchEvent(new CustomEvent('warning', { detail: w }));
    return reranker;
  }

  /** The path that runs the model. */
  get device(): Device {
    return this.live().device;
  }

  /** Threads the backend computes with. */
  get threads(): number {
    return this.live().threads;
  }

  /** Logits per pair (1 for a relevance score). */
  get numLabels(): number {
    return this.settings.head.numLabels;
  }

  /**
   * One score per pair (models with one label): the relevance of the document to the query,
   * after the model's activation (sigmoid unless it says otherwise), in input order — as
   * sentence-transformers' `CrossEncoder.predict(pairs)`.
   * @example const [a, b] = await reranker.score([[query, doc1], { query, document: doc2 }]);
   */
  async score(pairs: readonly RerankPair[], options: ScoreOptions = {}): Promise<number[]> {
    if (this.numLabels !== 1) {
      throw new DualbertError('INVALID_ARGUMENT', `score() gives one number per pair; this model has ${this.numLabels} labels (${this.settings.labels.join(', ')}): use predict()`);
    }
    return Array.from((await this.predict(pairs, options)).data);
  }

  /**
   * Every label's score for every pair (any number of labels), after the activation and, with
   * `apply_softmax`, a softmax over the labels.
   * @example const { data, dims } = await nli.predict([[premise, hypothesis]], { apply_softmax: true });
   */
  async predict(pairs: readonly RerankPair[], options: PredictOptions = {}): Promise<PredictResult> {
    const list = pairsOf(pairs);
    const o = checkScoreOptions(options);
    const run = this.queue.then(() => this.logits(list, o));
    this.queue = run.catch(() => undefined);
    const logits = await run;
    const L = this.numLabels;
    const act = ACTIVATION_FNS[o.activation ?? this.settings.activation];
    const data = logits.map(act);
    if (o.apply_softmax && L > 1) {
      for (let i = 0; i < list.length; i++) {
        const row = data.subarray(i * L, (i + 1) * L);
        const max = Math.max(...row);
        let sum = 0;
        for (let j = 0; j < L; j++) sum += row[j] = Math.exp(row[j]! - max);
        for (let j = 0; j < L; j++) row[j]! /= sum;
      }
    }
    return { data, dims: [list.length, L] };
  }

  /**
   * Scores every document against the query and returns them best first (ties keep input order),
   * as sentence-transformers' `CrossEncoder.rank`: `{ corpus_id, score, text? }` each.
   * @example
   * const top = await reranker.rank('capital of France', ['Paris is…', 'Berlin is…'], { topK: 1, returnDocuments: true });
   */
  async rank(query: string, documents: readonly string[], options: RankOptions = {}): Promise<RankResult[]> {
    if (typeof query !== 'string') throw new DualbertError('INVALID_ARGUMENT', `rank(query, documents): query must be a string, got ${describe(query)}`);
    if (!Array.isArray(documents)) throw new DualbertError('INVALID_ARGUMENT', `rank(query, documents): documents must be an array of strings, got ${describe(documents)}`);
    const o = checkScoreOptions(options);
    const docs = documents.map((d, i) => {
      if (typeof d !== 'string') throw new DualbertError('INVALID_ARGUMENT', `rank: document ${i} is ${describe(d)}, not a string`);
      return d;
    });
    const scores = await this.score(
      docs.map((d) => [query, d] as const),
      o,
    );
    const results: RankResult[] = scores.map((score, i) => (o.returnDocuments ? { corpus_id: i, score, text: docs[i]! } : { corpus_id: i, score }));
    results.sort((a, b) => b.score - a.score || a.corpus_id - b.corpus_id);
    return o.topK === undefined ? results : results.slice(0, o.topK);
  }

  /** Frees the backend. The reranker cannot be used afterwards. */
  dispose(): void {
    this.backend?.dispose();
    this.backend = undefined;
  }

  /** The raw logits of every pair, [pairs, labels], float64, in input order. */
  private async logits(pairs: readonly [string, string][], options: ScoreOptions): Promise<Float64Array> {
    this.live();
    const { signal } = options;
    const batchSize = options.batchSize ?? 32;
    const truncation = options.truncation ?? true;
    const { maxLength, lowercaseInput } = this.model.defaults;
    const tokenTypes = this.settings.tokenTypes;
    const encodings = await this.pacer.map(
      pairs,
      ([q, d], i) => {
        const lower = (t: string): string => (lowercaseInput ? t.toLowerCase() : t);
        const e = this.tokenizer.encode(lower(q), { pair: lower(d), maxLength: truncation ? maxLength : null, padding: false });
        if (e.ids.length > maxLength) {
          throw new DualbertError('INPUT_TOO_LONG', `pair ${i} has ${e.ids.length} tokens; the model accepts ${maxLength} (pass truncation: true to cut it)`);
        }
        // transformers passes no token_type_ids for tokenizers that do not list them: all 0.
        return tokenTypes ? e : { ...e, typeIds: e.typeIds.map(() => 0) };
      },
      signal,
    );
    const L = this.numLabels;
    const out = new Float64Array(pairs.length * L);
    const order = pairs.map((_, i) => i).sort((a, b) => encodings[b]!.ids.length - encodings[a]!.ids.length || a - b);
    for (let start = 0; start < order.length; start += batchSize) {
      signal?.throwIfAborted();
      const rows = order.slice(start, start + batchSize);
      const batch = this.tokenizer.pad(
        rows.map((i) => encodings[i]!),
        { direction: 'Right' },
      );
      const inThread = this.live().device !== 'webgpu';
      const { output } = await this.pacer.run(batch, inThread, signal, (b) => prepareGraph(this.graph, this.live()).run(b));
      for (const [r, pair] of rows.entries()) out.set(output.subarray(r * L, (r + 1) * L), pair * L);
    }
    return out;
  }

  private live(): Backend {
    if (!this.backend) throw new DualbertError('DISPOSED', 'this reranker was disposed');
    return this.backend;
  }
}

/**
 * Loads a cross-encoder (a sentence-transformers CrossEncoder directory, a Hugging Face
 * `*ForSequenceClassification` model such as cross-encoder/ms-marco-MiniLM-L6-v2, or
 * `synthetic:minilm` for tests) and returns a {@link Reranker}. Takes the same models, devices
 * and loading options as `createEmbedder`.
 * @example
 * import { createReranker } from 'dualbert';
 * const reranker = await createReranker('hf:cross-encoder/ms-marco-MiniLM-L6-v2', { device: 'auto' });
 * const ranked = await reranker.rank('How many people live in Berlin?', documents, { topK: 3 });
 */
export function createReranker(model: string | ModelSource, options: RerankerOptions = {}): Promise<Reranker> {
  return Reranker.create(model, options);
}
