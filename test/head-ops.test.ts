/**
 * A model with a Dense head on every device: the bert-st6-dense directory saved by
 * sentence-transformers 6 (cls pooling, Dense 32→16 tanh, no Normalize) against its float64
 * PyTorch embeddings. The head ops themselves (every pooling mode, the Dense head with each
 * activation, saturating inputs, masks with holes) are op cases of the one list every device runs
 * against the float64 reference (`headOpCases` in test/helpers/op-parity.ts: wasm-ops.test.ts,
 * webgpu-ops.test.ts, wasm-relaxed.test.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBertGraph } from '../ts/graph/bert.js';
import { runGraph } from '../ts/graph/execute.js';
import { bindWeights } from '../ts/graph/weights.js';
import { loadModel } from '../ts/model/load.js';
import { GOLDEN_DEVICES, releaseTestDevices } from './helpers/devices.js';
import { maxAbsDiff } from './helpers/golden.js';

afterAll(releaseTestDevices);

/** A model directory saved by sentence-transformers 6 with what Python gave for it (test/fixtures/tokenizers/PROVENANCE.md). */
const savedDir = (name: string): string => fileURLToPath(new URL(`./fixtures/tokenizers/models/${name}/`, import.meta.url));
interface SavedReference {
  embedding_texts: string[];
  embeddings: number[][];
}

describe.each(GOLDEN_DEVICES)('$name: a model with a Dense head gives the sentence-transformers embeddings', (device) => {
  it('bert-st6-dense (cls pooling, Dense 32→16 tanh) within 1e-5 of float64 PyTorch', async (ctx) => {
    const dir = savedDir('bert-st6-dense');
    const ref = JSON.parse(gunzipSync(readFileSync(join(dir, 'reference.json.gz'))).toString('utf8')) as SavedReference;
    const model = await loadModel(dir);
    expect(model.defaults.dense.length).toBe(1);
    const graph = buildBertGraph(model.config, { pooling: model.defaults.pooling, normalize: model.defaults.normalize, dense: model.defaults.dense });
    const backend = await device.create(bindWeights(graph.weights, model.checkpoint), ctx);
    try {
      const encodings = ref.embedding_texts.map((t) => model.tokenizer.encode(t, { maxLength: model.defaults.maxLength, padding: false }));
      const batch = model.tokenizer.pad(encodings, { direction: 'Right' });
      const { output } = await runGraph(graph, backend, batch);
      const diff = maxAbsDiff(output, ref.embeddings.flat());
      console.log(`[${device.name}] bert-st6-dense, ${ref.embeddings.length} texts in one padded batch: max |Δ| ${diff.toExponential(2)}`);
      expect(output.length).toBe(ref.embeddings.flat().length);
      expect(diff).toBeLessThanOrEqual(1e-5);
    } finally {
      backend.dispose();
    }
  });
});
