/**
 * Whole models of every family, end to end: directories saved by sentence-transformers 6
 * (RoBERTa, XLM-RoBERTa, MPNet, ModernBERT from test/fixtures/tokenizers/models, NomicBERT from
 * test/fixtures/families/nomic-bert-st6), their own tokenizers (byte-level BPE, Unigram with a
 * Precompiled charsmap, WordPiece), pooling and Normalize modules, against `encode()` of the
 * same directory with the model cast to float64. createEmbedder on reference and wasm; the
 * webgpu backend on the same graph with every text in one padded batch.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GpuContext, openGpu } from '../ts/backends/webgpu/gpu.js';
import { createWebGpuBackend } from '../ts/backends/webgpu/index.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import { runGraph } from '../ts/graph/execute.js';
import { bindWeights } from '../ts/graph/weights.js';
import { createEmbedder } from '../ts/index.js';
import { loadModel } from '../ts/model/load.js';
import { skipOrFail } from './helpers/ci.js';
import { maxAbsDiff } from './helpers/golden.js';
import { getNodeGpu, getNodeGpuAdapter, noAdapterHint, releaseNodeGpu } from './helpers/webgpu.js';

interface Saved {
  /** The texts and their float64 sentence embeddings. */
  texts: string[];
  embeddings: number[][];
}

const MODELS: [string, string][] = [
  ['roberta-st6', './fixtures/tokenizers/models/roberta-st6/'],
  ['xlmr-st6', './fixtures/tokenizers/models/xlmr-st6/'],
  ['mpnet-st6', './fixtures/tokenizers/models/mpnet-st6/'],
  ['modernbert-st6', './fixtures/tokenizers/models/modernbert-st6/'],
  ['nomic-bert-st6', './fixtures/families/nomic-bert-st6/'],
];

function saved(dir: string): Saved {
  const ref = JSON.parse(gunzipSync(readFileSync(join(dir, 'reference.json.gz'))).toString('utf8')) as {
    texts?: string[];
    embedding_texts?: string[];
    embeddings: number[][];
  };
  return { texts: ref.texts ?? ref.embedding_texts!, embeddings: ref.embeddings };
}

let gpu: GpuContext | undefined;
beforeAll(async () => {
  if (await getNodeGpuAdapter()) gpu = await openGpu({ gpu: getNodeGpu() });
});
afterAll(() => {
  gpu?.device.destroy();
  releaseNodeGpu();
});

describe.each(MODELS)('%s saved by sentence-transformers 6', (name, path) => {
  const dir = fileURLToPath(new URL(path, import.meta.url));
  const ref = saved(dir);

  it.for(['reference', 'wasm'] as const)('createEmbedder on %s gives the float64 embeddings within 1e-5', async (device) => {
    const embedder = await createEmbedder(dir, { device, threads: 1 });
    try {
      const { data, dims } = await embedder.embed(ref.texts);
      expect(dims).toEqual([ref.texts.length, ref.embeddings[0]!.length]);
      const diff = maxAbsDiff(data, ref.embeddings.flat());
      console.log(`[${device}] ${name}: ${ref.texts.length} texts, max |Δ| ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(1e-5);
    } finally {
      embedder.dispose();
    }
  });

  it('webgpu: every text in one padded batch within 1e-5', async (ctx) => {
    if (!gpu) skipOrFail(ctx, noAdapterHint());
    const model = await loadModel(dir);
    const graph = buildBertGraph(model.config, { pooling: model.defaults.pooling, normalize: model.defaults.normalize });
    const backend = await createWebGpuBackend(bindWeights(graph.weights, model.checkpoint), { device: gpu.device, gpu: getNodeGpu() });
    try {
      const encodings = ref.texts.map((t) => model.tokenizer.encode(t, { maxLength: model.defaults.maxLength, padding: false }));
      const { output } = await runGraph(graph, backend, model.tokenizer.pad(encodings, { direction: 'Right' }));
      const diff = maxAbsDiff(output, ref.embeddings.flat());
      console.log(`[webgpu] ${name}: ${ref.texts.length} texts in one batch, max |Δ| ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(1e-5);
    } finally {
      backend.dispose();
    }
  });
});
