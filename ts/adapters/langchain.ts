/**
 * LangChain.js adapter: an `Embeddings` implementation for vector stores and retrievers, and a
 * document compressor that reranks retrieved documents with a cross-encoder (for
 * `ContextualCompressionRetriever`). Needs the optional peer dependency `@langchain/core`.
 *
 * @example
 * import { DualbertEmbeddings, DualbertReranker } from 'dualbert/langchain';
 * const embeddings = new DualbertEmbeddings({ model: 'synthetic:minilm' });
 * const vectors = await embeddings.embedDocuments(['first doc', 'second doc']);
 * const query = await embeddings.embedQuery('what is in the first doc?');
 * const best = await new DualbertReranker({ model: 'synthetic:minilm', topN: 2 }).compressDocuments(docs, 'question');
 */
import type { DocumentInterface } from '@langchain/core/documents';
import { Embeddings, type EmbeddingsParams } from '@langchain/core/embeddings';
import { BaseDocumentCompressor } from '@langchain/core/retrievers/document_compressors';
import type { Embedder, EmbedderOptions, EmbedOptions } from '../embedder.js';
import type { Reranker, RerankerOptions, ScoreOptions } from '../rerank/reranker.js';
import { type EmbedderOrModel, lazyEmbedder } from './lazy-embedder.js';
import { type RerankerOrModel, lazyReranker } from './lazy-reranker.js';

/**
 * Constructor parameters of {@link DualbertEmbeddings} (plus LangChain's own, e.g. `maxConcurrency`).
 * @example new DualbertEmbeddings({ model: 'synthetic:minilm', embedderOptions: { device: 'wasm' }, embedOptions: { batchSize: 64 } });
 */
export interface DualbertEmbeddingsParams extends EmbeddingsParams {
  /** A model spec ("synthetic:minilm", a directory, a URL) loaded on first use, or an embedder. */
  model: EmbedderOrModel;
  /** Options for loading the model when `model` is a spec. */
  embedderOptions?: EmbedderOptions;
  /** Per-call embedding options (pooling, normalize, batchSize, truncation). */
  embedOptions?: EmbedOptions;
}

/**
 * LangChain `Embeddings` backed by a dualbert embedder.
 * @example
 * const embeddings = new DualbertEmbeddings({ model: 'synthetic:minilm' });
 * const [vector] = await embeddings.embedDocuments(['hello']);
 */
export class DualbertEmbeddings extends Embeddings {
  private readonly getEmbedder: () => Promise<Embedder>;
  private readonly embedOptions: EmbedOptions;

  constructor(params: DualbertEmbeddingsParams) {
    super(params);
    this.getEmbedder = lazyEmbedder(params.model, params.embedderOptions);
    this.embedOptions = params.embedOptions ?? {};
  }

  /** Embeds documents; one vector per text, in order. */
  async embedDocuments(documents: string[]): Promise<number[][]> {
    return this.caller.call(async () => {
      const embedder = await this.getEmbedder();
      const { data, dims } = await embedder.embed(documents, this.embedOptions);
      return Array.from({ length: dims[0] }, (_, i) => Array.from(data.subarray(i * dims[1], (i + 1) * dims[1])));
    });
  }

  /** Embeds a search query. */
  async embedQuery(query: string): Promise<number[]> {
    const [vector] = await this.embedDocuments([query]);
    return vector!;
  }
}

/**
 * Constructor parameters of {@link DualbertReranker}.
 * @example new DualbertReranker({ model: 'hf:cross-encoder/ms-marco-MiniLM-L6-v2', topN: 5, rerankerOptions: { device: 'wasm' } });
 */
export interface DualbertRerankerParams {
  /** A cross-encoder spec loaded on first use, or a reranker. */
  model: RerankerOrModel;
  /** Options for loading the model when `model` is a spec. */
  rerankerOptions?: RerankerOptions;
  /** Documents kept by compressDocuments (default 3, as LangChain's hosted rerankers). */
  topN?: number;
  /** Scoring options (batchSize, activation, truncation). */
  scoreOptions?: Omit<ScoreOptions, 'signal'>;
}

/**
 * A LangChain document compressor that reranks documents with a dualbert cross-encoder: the
 * `topN` most relevant to the query, best first, each with `metadata.relevanceScore`.
 * @example
 * import { ContextualCompressionRetriever } from 'langchain/retrievers/contextual_compression';
 * const retriever = new ContextualCompressionRetriever({ baseCompressor: new DualbertReranker({ model: 'synthetic:minilm' }), baseRetriever });
 */
export class DualbertReranker extends BaseDocumentCompressor {
  private readonly getReranker: () => Promise<Reranker>;
  private readonly topN: number;
  private readonly scoreOptions: Omit<ScoreOptions, 'signal'>;

  constructor(params: DualbertRerankerParams) {
    super();
    this.getReranker = lazyReranker(params.model, params.rerankerOptions);
    this.topN = params.topN ?? 3;
    this.scoreOptions = params.scoreOptions ?? {};
  }

  /**
   * Indices of the documents best first with their scores (as LangChain's CohereRerank.rerank).
   * @example const [{ index, relevanceScore }] = await reranker.rerank(['a', 'b'], 'query', { topN: 1 });
   */
  async rerank(documents: (DocumentInterface | string)[], query: string, options: { topN?: number } = {}): Promise<{ index: number; relevanceScore: number }[]> {
    const reranker = await this.getReranker();
    const texts = documents.map((d) => (typeof d === 'string' ? d : d.pageContent));
    const ranked = await reranker.rank(query, texts, { ...this.scoreOptions, ...(options.topN !== undefined ? { topK: options.topN } : {}) });
    return ranked.map((r) => ({ index: r.corpus_id, relevanceScore: r.score }));
  }

  /** The `topN` documents most relevant to the query, best first, with `metadata.relevanceScore`. */
  async compressDocuments(documents: DocumentInterface[], query: string): Promise<DocumentInterface[]> {
    const ranking = await this.rerank(documents, query, { topN: this.topN });
    return ranking.map(({ index, relevanceScore }) => {
      const d = documents[index]!;
      return { ...d, metadata: { ...d.metadata, relevanceScore } };
    });
  }
}
