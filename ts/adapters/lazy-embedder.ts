/**
 * Adapters accept either a ready {@link Embedder} or a model spec to load on first use, so that
 * creating a framework model object is cheap and synchronous, as the frameworks expect.
 */
import { createEmbedder, type Embedder, type EmbedderOptions } from '../embedder.js';
import type { ModelSource } from '../model/sources.js';

export type EmbedderOrModel = Embedder | Promise<Embedder> | string | ModelSource;

/** Returns a function that resolves to the embedder, loading it once on first call. */
export function lazyEmbedder(source: EmbedderOrModel, options: EmbedderOptions = {}): () => Promise<Embedder> {
  let pending: Promise<Embedder> | undefined;
  return () => {
    pending ??= typeof source === 'string' || isModelSource(source) ? createEmbedder(source, options) : Promise.resolve(source);
    return pending;
  };
}

function isModelSource(x: EmbedderOrModel): x is ModelSource {
  return typeof x === 'object' && x !== null && 'read' in x && 'location' in x;
}

/** A name for logs: the model spec, or the embedder's model name. */
export function modelName(source: EmbedderOrModel): string {
  if (typeof source === 'string') return source;
  if (isModelSource(source)) return source.location;
  return 'dualbert';
}
