/**
 * Vercel AI SDK adapter: an embedding model for `embed` / `embedMany` from the `ai` package.
 * It implements the provider specification version 3 (`@ai-sdk/provider` 3, used by `ai` 6 and
 * still accepted by later versions) structurally, so dualbert needs no runtime dependency on it.
 *
 * @example
 * import { embed, embedMany } from 'ai';
 * import { dualbertEmbeddingModel } from 'dualbert/ai-sdk';
 * const model = dualbertEmbeddingModel('synthetic:minilm', { device: 'auto' });
 * const { embedding } = await embed({ model, value: 'sunny day at the beach' });
 * const { embeddings } = await embedMany({ model, values: ['a', 'b', 'c'] });
 */
import type { EmbedderOptions, EmbedOptions } from '../embedder.js';
import { type EmbedderOrModel, lazyEmbedder, modelName } from './lazy-embedder.js';

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
