/**
 * config.json of the encoder families: the layouts transformers 4 wrote (ModernBERT's
 * global_attn_every_n_layers / global_rope_theta / local_rope_theta) and Nomic's own Hub configs
 * (n_embd, n_layer, activation_function "swiglu") give the same model as transformers 5's
 * (checked on the goldens), CamemBERT is RoBERTa; what dualbert does not implement is refused
 * by name; batches the positions cannot describe (left padding, past the offset table) are refused.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../ts/backends/reference/reference-backend.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import { maxSequenceLength } from '../ts/graph/config.js';
import { describeEncoder } from '../ts/graph/families.js';
import { runGraph } from '../ts/graph/execute.js';
import { bindWeights } from '../ts/graph/weights.js';
import { DualbertError } from '../ts/index.js';
import { modelFamily, parseBertConfig } from '../ts/model/config.js';
import { loadModel } from '../ts/model/load.js';
import { batchOfRows, compareRows, familyDir, familyModelDir, loadFamilyGolden } from './helpers/families.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const configOf = (family: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(familyDir(family), 'config.json'), 'utf8')) as Record<string, unknown>;

function expectRefused(json: Record<string, unknown>, code: string, pattern: RegExp): void {
  let error: unknown;
  try {
    parseBertConfig(json);
  } catch (e) {
    error = e;
  }
  expect(error, JSON.stringify(json).slice(0, 80)).toBeInstanceOf(DualbertError);
  expect((error as DualbertError).code).toBe(code);
  expect((error as Error).message).toMatch(pattern);
}

/** The golden's single and long cases on the reference device, for a model directory. */
async function expectGolden(family: string, dir: string): Promise<void> {
  const model = await loadModel(dir);
  const graph = buildBertGraph(model.config, { pooling: 'mean', normalize: false });
  const backend = new ReferenceBackend(bindWeights(graph.weights, model.checkpoint));
  for (const c of loadFamilyGolden(family).cases) {
    const batch = batchOfRows(c.input_ids, c.pad_id);
    const { captured } = await runGraph(graph, backend, batch, { capture: [graph.lastHiddenState] });
    expect(compareRows(captured.get(graph.lastHiddenState)!, c, batch.seqLen, model.config.hiddenSize).maxAbs, c.name).toBeLessThanOrEqual(1e-5);
  }
}

describe('family configs', () => {
  it('RoBERTa / XLM-R / CamemBERT: positions from padding_idx + 1, the longest sequence is max_position_embeddings − 2', () => {
    for (const type of ['roberta', 'xlm-roberta', 'camembert']) {
      const c = parseBertConfig({ ...configOf('roberta'), model_type: type });
      expect(c.family).toBe('roberta');
      expect(c.positionOffset).toBe(2);
      expect(maxSequenceLength(c)).toBe(64);
      expect(modelFamily({ model_type: type })).toBe('roberta');
    }
    expect(parseBertConfig({ ...configOf('roberta'), pad_token_id: 0 }).positionOffset).toBe(1);
  });

  it('MPNet: padding_idx 1 whatever pad_token_id says, 32 buckets up to 128 apart, no token types', () => {
    const c = parseBertConfig({ ...configOf('mpnet'), pad_token_id: 0 });
    expect(c).toMatchObject({ family: 'mpnet', positionOffset: 2, typeVocabSize: 0, relativeAttention: { rows: 32, buckets: 32, maxDistance: 128 } });
  });

  it('ModernBERT as transformers 4 wrote it (global_attn_every_n_layers, global/local_rope_theta) is the same model', async () => {
    const v5 = configOf('modernbert');
    const v4: Record<string, unknown> = { ...v5, global_attn_every_n_layers: 3, global_rope_theta: 160000, local_rope_theta: 10000 };
    delete v4['layer_types'];
    delete v4['rope_parameters'];
    const a = parseBertConfig(v5);
    expect(parseBertConfig(v4)).toEqual(a);
    expect(a).toMatchObject({
      family: 'modernbert',
      layerTypes: ['full', 'sliding', 'sliding'],
      slidingWindow: 4,
      rope: { theta: 160000, localTheta: 10000, layout: 'half' },
    });
    await expectGolden(
      'modernbert',
      familyModelDir('modernbert', { dirs, edit: (c) => Object.assign(c, v4, { layer_types: undefined, rope_parameters: undefined }) }),
    );
  });

  it("NomicBERT's own Hub config (n_embd, n_layer, swiglu) is transformers 5's model", async () => {
    const v5 = configOf('nomic-bert');
    const hub = {
      model_type: 'nomic_bert',
      vocab_size: 256,
      n_embd: 64,
      n_layer: 2,
      n_head: 4,
      n_inner: 96,
      n_positions: 128,
      rotary_emb_base: 1000,
      rotary_emb_fraction: 1.0,
      rotary_emb_interleaved: false,
      activation_function: 'swiglu',
      layer_norm_epsilon: 1e-12,
      type_vocab_size: 2,
      qkv_proj_bias: false,
      mlp_fc1_bias: false,
      mlp_fc2_bias: false,
      prenorm: false,
      pad_token_id: 0,
    };
    expect(parseBertConfig(hub)).toEqual(parseBertConfig(v5));
    await expectGolden(
      'nomic-bert',
      familyModelDir('nomic-bert', {
        dirs,
        edit: (c) => {
          for (const k of Object.keys(c)) delete c[k];
          Object.assign(c, hub);
        },
      }),
    );
  });

  it('dualbert info names the family and the ops its graph runs', () => {
    const ops = (family: string) => describeEncoder(buildBertGraph(parseBertConfig(configOf(family)), { pooling: 'mean', normalize: true }));
    expect(ops('xlm-roberta')).toEqual({
      family: 'roberta',
      ops: ['embed: word + position from 2 + token type', 'layerNorm', 'linear', 'attention', 'linear + gelu', 'pool (mean)', 'normalize'],
    });
    expect(ops('mpnet').ops).toEqual([
      'embed: word + position from 2',
      'layerNorm',
      'linear',
      'attention + relative position bias',
      'linear + gelu',
      'pool (mean)',
      'normalize',
    ]);
    expect(ops('modernbert')).toEqual({
      family: 'modernbert',
      ops: [
        'embed: word',
        'layerNorm',
        'linear',
        'rope (half, θ 160000)',
        'attention',
        'glu (gelu)',
        'rope (half, θ 10000)',
        'attention (sliding window ±4)',
        'pool (mean)',
        'normalize',
      ],
    });
    expect(ops('nomic-bert')).toEqual({
      family: 'nomic_bert',
      ops: ['embed: word + token type', 'layerNorm', 'linear', 'rope (half, θ 1000)', 'attention', 'glu (silu)', 'pool (mean)', 'normalize'],
    });
  });

  it('what is not implemented is refused by name', () => {
    const mb = configOf('modernbert');
    expectRefused(
      { ...mb, rope_parameters: { full_attention: { rope_type: 'yarn', rope_theta: 1e4 }, sliding_attention: { rope_theta: 1e4 } } },
      'UNSUPPORTED_ARCHITECTURE',
      /rope_parameters\.full_attention\.rope_type "yarn"/,
    );
    expectRefused({ ...mb, layer_types: ['full_attention'] }, 'INVALID_CONFIG', /"layer_types" must list .* each of the 3 layers/);
    expectRefused({ ...mb, hidden_activation: 'relu' }, 'UNSUPPORTED_ARCHITECTURE', /hidden_activation "relu"/);
    const nomic = configOf('nomic-bert');
    expectRefused({ ...nomic, rotary_emb_fraction: 0.5 }, 'UNSUPPORTED_ARCHITECTURE', /rotary_emb_fraction 0\.5/);
    expectRefused({ ...nomic, head_dim: 32 }, 'UNSUPPORTED_ARCHITECTURE', /head_dim 32/);
    expectRefused({ model_type: 'nomic_bert', n_embd: 64, n_layer: 2, n_head: 4, prenorm: true }, 'UNSUPPORTED_ARCHITECTURE', /pre-norm NomicBERT/);
    expectRefused(
      { model_type: 'nomic_bert', n_embd: 64, n_layer: 2, n_head: 4, rotary_scaling_factor: 2 },
      'UNSUPPORTED_ARCHITECTURE',
      /"rotary_scaling_factor" 2: only unscaled RoPE/,
    );
    expectRefused({ ...configOf('roberta'), hidden_act: 'relu' }, 'UNSUPPORTED_ARCHITECTURE', /hidden_act "relu"/);
    expectRefused({ ...configOf('roberta'), max_position_embeddings: 2 }, 'INVALID_CONFIG', /leaves no position after the offset 2/);
  });

  it('batches: RoBERTa takes max_position_embeddings − 2 tokens; rotary and offset families need right padding', async () => {
    const model = await loadModel(familyModelDir('roberta', { dirs }));
    const graph = buildBertGraph(model.config, { pooling: 'mean', normalize: false });
    const backend = new ReferenceBackend(bindWeights(graph.weights, model.checkpoint));
    await expect(runGraph(graph, backend, batchOfRows([Array(64).fill(5)], 1))).resolves.toBeDefined();
    await expect(runGraph(graph, backend, batchOfRows([Array(65).fill(5)], 1))).rejects.toMatchObject({ code: 'INPUT_TOO_LONG' });
    const left = batchOfRows([[5, 6, 7], [8]], 1);
    left.attentionMask.set([0, 0, 1], 3); // the second row padded on the left
    left.ids.set([1, 1, 8], 3);
    await expect(runGraph(graph, backend, left)).rejects.toThrow(/sequence 1 of the batch is not right-padded/);
  });
});
