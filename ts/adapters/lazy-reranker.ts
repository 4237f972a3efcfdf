/**
 * Adapters accept either a ready {@link Reranker} or a model spec to load on first use (as
 * lazy-embedder.ts does for embedders), so that creating a framework object stays cheap and
 * synchronous.
 */
import type { ModelSource } from '../model/sources.js';
import { type Reranker, type RerankerOptions, createReranker } from '../rerank/reranker.js';

export type RerankerOrModel = Reranker | Promise<Reranker> | string | ModelSource;

/** Returns a function that resolves to the reranker, loading it once on first call. */
export function lazyReranker(source: RerankerOrModel, options: RerankerOptions = {}): () => Promise<Reranker> {
  let pending: Promise<Reranker> | undefined;
  return () => {
    pending ??= typeof source === 'string' || isModelSource(source) ? createReranker(source, options) : Promise.resolve(source);
    return pending;
  };
}

function isModelSource(x: RerankerOrModel): x is ModelSource {
  return typeof x === 'object' && x !== null && 'read' in x && 'location' in x;
}

/** A name for logs: the model spec, or 'dualbert'. */
export function rerankerName(source: RerankerOrModel): string {
  if (typeof source === 'string') return source;
  if (isModelSource(source)) return source.location;
  return 'dualbert';
}
