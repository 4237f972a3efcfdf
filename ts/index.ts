/**
 * dualbert: sentence embeddings with BERT encoders in the browser and Node.
 * @example
 * import { createEmbedder } from 'dualbert';
 * const embedder = await createEmbedder('synthetic:minilm');
 * const { data, dims } = await embedder.embed(['first text', 'second text']);
 */
export { createEmbedder, Embedder } from './embedder.js';
export { WorkerEmbedder } from './worker/worker-embedder.js';
export { createReranker, Reranker } from './rerank/reranker.js';
export type {
  CrossEncoderSettings,
  PredictOptions,
  PredictResult,
  RankOptions,
  RankResult,
  RerankerOptions,
  RerankPair,
  ScoreActivation,
  ScoreOptions,
} from './rerank/reranker.js';
export type { WorkerModeOptions } from './worker/worker-embedder.js';
export type {
  AnyEmbeddingResult,
  AnyEmbedOptions,
  EmbedderStats,
  EmbedBatchesOptions,
  EmbedderOptions,
  EmbeddingBatch,
  EmbedOptions,
  EmbeddingResult,
  QuantizedEmbedOptions,
  TokenEmbedOptions,
  TokenEmbeddingsResult,
} from './embedder.js';
export { cos_sim, dot, hamming, similarity, SIMILARITY_FUNCTIONS } from './output/similarity.js';
export type { Embeddings, SimilarityFunction, SimilarityMatrix, Vector } from './output/similarity.js';
export { quantizeEmbeddings, EMBEDDING_PRECISIONS } from './output/quantize.js';
export type { DataOf, EmbeddingMatrix, EmbeddingPrecision, QuantizeOptions } from './output/quantize.js';
export { truncateDimensions, truncateEmbeddings } from './output/dimensions.js';
export type { BackendWarning, Device, DeviceOption, LogLevel } from './backends/types.js';
export { DUALBERT_ERROR_CODES, DualbertError } from './errors.js';
export { capabilities } from './detect.js';
export type { Capabilities, CapabilitiesOptions, WasmReport, WebGpuReport } from './detect.js';
export type { DualbertErrorCode } from './errors.js';
export { Tokenizer } from './tokenizer/index.js';
export type { BatchEncoding, Encoding, EncodeOptions } from './tokenizer/index.js';
export { loadCrossEncoderModel, loadModel } from './model/load.js';
export type { LoadedModel, LoadOptions, ModelDefaults, ProgressCallback, ProgressEvent, WeightsDtype } from './model/load.js';
export { directorySource, hubSource, memorySource, urlSource } from './model/sources.js';
export type { HubOptions, InMemoryFiles, ModelSource, ReadOptions, UrlSourceOptions } from './model/sources.js';
export { browserCache, directoryCache, opfsCache } from './model/cache.js';
export type { BrowserCacheOptions, CacheEntry, CacheMeta, FileCache, PartialDownload } from './model/cache.js';
export type { PoolingMode } from './graph/ops.js';
export type { BertConfig } from './graph/config.js';
