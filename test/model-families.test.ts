/**
 * BERT-compatible families: DistilBERT checkpoints (BERT's encoder under other names, no token
 * types) load onto the BERT graph exactly; other families are refused by name.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../ts/backends/reference/reference-backend.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import { runGraph } from '../ts/graph/execute.js';
import { bindWeights } from '../ts/graph/weights.js';
import type { Tensor } from '../ts/graph/weights.js';
import { createEmbedder, DualbertError, loadModel } from '../ts/index.js';
import { familyTensorName } from '../ts/model/config.js';
import { writeSafetensors } from '../ts/model/safetensors.js';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../ts/model/synthetic.js';
import { maxAbsDiff } from './helpers/golden.js';

const tiny = SYNTHETIC_MODELS.tiny.config;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** BERT name → DistilBERT name (the inverse of the loader's mapping, written out independently). */
function toDistil(name: string): string | undefined {
  const layer = /^encoder\.layer\.(\d+)\.(.*)$/.exec(name);
  if (!layer) return name.startsWith('embeddings.') && !name.includes('token_type') ? `distilbert.${name}` : undefined;
  const [, i, rest] = layer as unknown as [string, string, string];
  const parts: Record<string, string> = {
    'attention.self.query': 'attention.q_lin',
    'attention.self.key': 'attention.k_lin',
    'attention.self.value': 'attention.v_lin',
    'attention.output.dense': 'attention.out_lin',
    'attention.output.LayerNorm': 'sa_layer_norm',
    'intermediate.dense': 'ffn.lin1',
    'output.dense': 'ffn.lin2',
    'output.LayerNorm': 'output_layer_norm',
  };
  const module = rest.slice(0, rest.lastIndexOf('.'));
  const param = rest.slice(rest.lastIndexOf('.') + 1);
  return `distilbert.transformer.layer.${i}.${parts[module]}.${param}`;
}

describe('DistilBERT', () => {
  it('a DistilBertModel checkpoint runs as the BERT graph with a zero token-type row, exactly', async () => {
    const bert = syntheticCheckpoint(tiny);
    const tensors = new Map<string, Tensor>();
    for (const [n, t] of bert) {
      const d = toDistil(n);
      if (d) tensors.set(d, t);
    }
    tensors.set('vocab_projector.bias', { shape: [3], data: new Float32Array(3) }); // a head nobody reads
    const dir = mkdtempSync(join(tmpdir(), 'dualbert-distil-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(tensors));
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ model_type: 'distilbert', vocab_size: 30522, dim: 64, n_layers: 2, n_heads: 4, hidden_dim: 256, max_position_embeddings: 512, activation: 'gelu', sinusoidal_pos_embds: false }),
    );
    copyFileSync(new URL('./fixtures/all-MiniLM-L6-v2/tokenizer.json', import.meta.url), join(dir, 'tokenizer.json'));

    const model = await loadModel(dir);
    expect(model.config.typeVocabSize).toBe(1);
    const embedder = await createEmbedder(dir, { device: 'reference' });
    const text = 'DistilBERT is BERT with fewer layers and other names.';
    const { data } = await embedder.embed([text]);

    // Expected: the BERT graph on the BERT-named tensors, token types all zero.
    const config = { ...tiny, typeVocabSize: 1 };
    const graph = buildBertGraph(config, { pooling: 'mean', normalize: false });
    const cp = new Map(bert);
    cp.set('embeddings.token_type_embeddings.weight', { shape: [1, 64], data: new Float32Array(64) });
    const batch = embedder.tokenizer.encodeBatch([text], { maxLength: embedder.defaults.maxLength });
    const { output } = await runGraph(graph, new ReferenceBackend(bindWeights(graph.weights, cp)), batch);
    expect(maxAbsDiff(data, output)).toBeLessThanOrEqual(1e-7);
    embedder.dispose();
  });

  it('names map one to one; classification heads keep their own names (cross-encoders read them)', () => {
    expect(familyTensorName('distilbert', 'distilbert.transformer.layer.3.ffn.lin2.weight')).toBe('encoder.layer.3.output.dense.weight');
    expect(familyTensorName('distilbert', 'transformer.layer.0.sa_layer_norm.bias')).toBe('encoder.layer.0.attention.output.LayerNorm.bias');
    expect(familyTensorName('distilbert', 'pre_classifier.weight')).toBe('pre_classifier.weight');
    expect(familyTensorName('distilbert', 'vocab_projector.weight')).toBeUndefined();
    expect(familyTensorName('bert', 'bert.pooler.dense.weight')).toBe('pooler.dense.weight');
  });

  it('other families are refused by name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dualbert-family-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'x'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'deberta-v2' }));
    const e = await loadModel(dir).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(DualbertError);
    expect((e as DualbertError).code).toBe('UNSUPPORTED_ARCHITECTURE');
    expect((e as Error).message).toMatch(/config\.json: unsupported architecture "deberta-v2": dualbert runs the encoder families "bert", "distilbert", "roberta", "xlm-roberta", "camembert", "mpnet", "modernbert", "nomic_bert" \(model_type\)/);
  });
});
