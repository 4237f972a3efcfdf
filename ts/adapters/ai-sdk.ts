/**
 * Vercel AI SDK adapter: an embedding model for `embed` / `embedMany` and a reranking model for
 * `rerank` from the `ai` package. It implements the provider specification version 3
 * (`@ai-sdk/provider` 3, used by `ai` 6 and still accepted by later versions) structurally, so
 * dualbert needs no runtime dependency on it.
 *
 * @example
 * import { embed, embedMany, rerank } from 'ai';
 * import { dualbertEmbeddingModel, dualbertRerankingModel } from 'dualbert/ai-sdk';
 * const model = dualbertEmbeddingModel('synthetic:minilm', { device: 'auto' });
 * const { embedding } = await embed({ model, value: 'sunny day at the beach' });
 * const { embeddings } = await embedMany({ model, values: ['a', 'b', 'c'] });
 * const { ranking } = await rerank({ model: dualbertRerankingModel('synthetic:minilm'), query: 'beach', documents: ['a', 'b'] });
 */
import type { EmbedderOptions, EmbedOptions } from '../embedder.js';
import type { RerankerOptions, ScoreOptions } from '../rerank/reranker.js';
import { type EmbedderOrModel, lazyEmbedder, modelName } from './lazy-embedder.js';
import { type RerankerOrModel, lazyReranker, rerankerName } from './lazy-reranker.js';

/**
 * The call options the AI SDK passes to `doEmbed`.
 * @example await model.doEmbed({ values: ['a', 'b'], abortSignal: AbortSignal.timeout(5000) });
 */
export interface EmbeddingModelCallOptions {
  values: string[];
  abortSignal?: AbortSignal;
  providerOptions?: Record<string, Record<string, unknown>>;
  headers?: Record<string, string | undefined>;
}

/**
 * What `doEmbed` returns.
 * @example const { embeddings, usage } = await model.doEmbed({ values: ['a'] }); // usage.tokens = 3
 */
export interface EmbeddingModelResult {
  embeddings: number[][];
  usage?: { tokens: number };
  /** dualbert has no call warnings (an empty tuple keeps the type assignable to the SDK's). */
  warnings: [];
}

/**
 * An AI SDK embedding model (specification v3).
 * @example const model: DualbertEmbeddingModel = dualbertEmbeddingModel('synthetic:minilm');
 */
export interface DualbertEmbeddingModel {
  readonly specificationVersion: 'v3';
  readonly provider: 'dualbert';
  readonly modelId: string;
  readonly maxEmbeddingsPerCall: number;
  readonly supportsParallelCalls: boolean;
  /** Embeds `values` in order; stops between batches when `abortSignal` aborts. */
  doEmbed(options: EmbeddingModelCallOptions): Promise<EmbeddingModelResult>;
}

/**
 * Settings of {@link dualbertEmbeddingModel}: how to load the model, and per-call options.
 * @example dualbertEmbeddingModel('synthetic:minilm', { device: 'wasm', embed: { batchSize: 64 }, maxEmbeddingsPerCall: 512 });
 */
export interface DualbertEmbeddingModelSettings extends EmbedderOptions {
  /** Per-call embedding options (pooling, normalize, batchSize, truncation). */
  embed?: EmbedOptions;
  /** Values per doEmbed call; embedMany splits larger inputs. Default Infinity (dualbert batches inside). */
  maxEmbeddingsPerCall?: number;
}

/**
 * Creates an AI SDK embedding model. `source` is a model spec (loaded on first use) or an
 * existing embedder (which the model does not dispose).
 * @example
 * import { embedMany } from 'ai';
 * const { embeddings } = await embedMany({ model: dualbertEmbeddingModel('synthetic:minilm'), values: ['a', 'b'] });
 */
export function dualbertEmbeddingModel(source: EmbedderOrModel, settings: DualbertEmbeddingModelSettings = {}): DualbertEmbeddingModel {
  const { embed: embedOptions = {}, maxEmbeddingsPerCall = Infinity, ...embedderOptions } = settings;
  const getEmbedder = lazyEmbedder(source, embedderOptions);
  return {
    specificationVersion: 'v3',
    provider: 'dualbert',
    modelId: modelName(source),
    maxEmbeddingsPerCall,
    // Calls are queued inside the embedder, so parallel calls are safe (they run in turn).
    supportsParallelCalls: true,
    async doEmbed({ values, abortSignal }) {
      abortSignal?.throwIfAborted();
      const embedder = await getEmbedder();
      const embeddings: number[][] = new Array(values.length);
      for await (const { data, dims, offset } of embedder.embedBatches(values, { ...embedOptions, ...(abortSignal ? { signal: abortSignal } : {}) })) {
        for (let i = 0; i < dims[0]; i++) embeddings[offset + i] = Array.from(data.subarray(i * dims[1], (i + 1) * dims[1]));
      }
      const { maxLength } = embedder.defaults;
      const tokens = values.reduce((sum, v) => sum + embedder.tokenizer.encode(v, { maxLength, padding: false }).ids.length, 0);
      return { embeddings, usage: { tokens }, warnings: [] };
    },
  };
}

/**
 * The call options the AI SDK passes to `doRerank`: texts, or JSON objects (scored as their JSON
 * text, as hosted rerankers read them).
 * @example await model.doRerank({ query: 'beach', documents: { type: 'text', values: ['a', 'b'] }, topN: 1 });
 */
export interface RerankingModelCallOptions {
  documents: { type: 'text'; values: string[] } | { type: 'object'; values: Record<string, unknown>[] };
  query: string;
  topN?: number;
  abortSignal?: AbortSignal;
  providerOptions?: Record<string, Record<string, unknown>>;
  headers?: Record<string, string | undefined>;
}

/**
 * What `doRerank` returns: document indices best first, with their relevance scores.
 * @example const { ranking } = await model.doRerank({ query, documents: { type: 'text', values } }); // ranking[0].index
 */
export interface RerankingModelResult {
  ranking: { index: number; relevanceScore: number }[];
  warnings: [];
}

/**
 * An AI SDK reranking model (specification v3).
 * @example const model: DualbertRerankingModel = dualbertRerankingModel('hf:cross-encoder/ms-marco-MiniLM-L6-v2');
 */
export interface DualbertRerankingModel {
  readonly specificationVersion: 'v3';
  readonly provider: 'dualbert';
  readonly modelId: string;
  /** Scores every document against the query with the cross-encoder; best first, `topN` of them. */
  doRerank(options: RerankingModelCallOptions): Promise<RerankingModelResult>;
}

/**
 * Settings of {@link dualbertRerankingModel}: how to load the cross-encoder, and scoring options.
 * @example dualbertRerankingModel('synthetic:minilm', { device: 'wasm', score: { batchSize: 16 } });
 */
export interface DualbertRerankingModelSettings extends RerankerOptions {
  /** Scoring options (batchSize, activation, truncation). */
  score?: Omit<ScoreOptions, 'signal'>;
}

/**
 * Creates an AI SDK reranking model for `rerank()`. `source` is a cross-encoder spec (loaded on
 * first use) or an existing reranker (which the model does not dispose).
 * @example
 * import { rerank } from 'ai';
 * const { rerankedDocuments } = await rerank({ model: dualbertRerankingModel('synthetic:minilm'), query: 'q', documents: ['a', 'b'], topN: 1 });
 */
export function dualbertRerankingModel(source: RerankerOrModel, settings: DualbertRerankingModelSettings = {}): DualbertRerankingModel {
  const { score: scoreOptions = {}, ...rerankerOptions } = settings;
  const getReranker = lazyReranker(source, rerankerOptions);
  return {
    specificationVersion: 'v3',
    provider: 'dualbert',
    modelId: rerankerName(source),
    async doRerank({ documents, query, topN, abortSignal }) {
      abortSignal?.throwIfAborted();
      const reranker = await getReranker();
      const texts = documents.type === 'text' ? documents.values : documents.values.map((v) => JSON.stringify(v));
      const ranked = await reranker.rank(query, texts, { ...scoreOptions, ...(topN !== undefined ? { topK: topN } : {}), ...(abortSignal ? { signal: abortSignal } : {}) });
      return { ranking: ranked.map((r) => ({ index: r.corpus_id, relevanceScore: r.score })), warnings: [] };
    },
  };
}
