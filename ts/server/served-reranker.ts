/**
 * The library's reranker as the server's `ServedReranker` (engine.ts): one relevance score per
 * (query, text) pair, in order; `raw_scores` asks for the logits before the model's activation.
 * Each pass the batcher hands over is scored as one forward pass (it is already sized and sorted).
 */
import { DualbertError } from '../errors.js';
import type { Reranker } from '../rerank/reranker.js';
import type { ServedReranker } from './engine.js';

/**
 * Wraps a reranker for `startServer(embedder, options, reranker)`. TEI's /rerank gives one score
 * per text, so a model with several labels (an NLI classifier) is refused here.
 * @example const server = await startServer(embedder, options, servedReranker(await createReranker('synthetic:minilm')));
 */
export function servedReranker(reranker: Reranker): ServedReranker {
  if (reranker.numLabels !== 1) {
    throw new DualbertError('INVALID_ARGUMENT', `/rerank gives one score per text; this cross-encoder has ${reranker.numLabels} labels (${reranker.settings.labels.join(', ')})`);
  }
  return {
    tokenizer: reranker.tokenizer,
    maxLength: reranker.maxLength,
    score: (pairs, { raw }) => reranker.score(pairs, { batchSize: Math.max(1, pairs.length), ...(raw ? { activation: 'identity' } : {}) }),
    dispose: () => reranker.dispose(),
  };
}
