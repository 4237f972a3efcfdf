/**
 * LangChain.js adapter: an `Embeddings` implementation for vector stores and retrievers.
 * Needs the optional peer dependency `@langchain/core`.
 *
 * @example
 * import { DualbertEmbeddings } from 'dualbert/langchain';
 * const embeddings = new DualbertEmbeddings({ model: 'synthetic:minilm' });
 * const vectors = await embeddings.embedDocuments(['first doc', 'second doc']);
 * const query = await embeddings.embedQuery('what is in the first doc?');
 */
import { Embeddings, type EmbeddingsParams } from '@langchain/core/embeddings';
import type { Embedder, EmbedderOptions, EmbedOptions } from '../embedder.js';
import { type EmbedderOrModel, lazyEmbedder } from './lazy-embedder.js';

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
