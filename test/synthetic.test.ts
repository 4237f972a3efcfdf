import { describe, expect, it } from 'vitest';
import { SYNTHETIC_MODELS, bertTensorShapes, syntheticTensor } from '../ts/model/synthetic.js';
import { loadGolden } from './helpers/golden.js';

describe.each(['tiny', 'minilm'] as const)('synthetic:%s weights follow the recipe', (name) => {
  const golden = loadGolden(name);
  const shapes = bertTensorShapes(SYNTHETIC_MODELS[name].config);

  it('has the golden config', () => {
    const c = SYNTHETIC_MODELS[name].config;
    expect([c.vocabSize, c.hiddenSize, c.numLayers, c.numHeads, c.intermediateSize, c.maxPositions, c.typeVocabSize]).toEqual([
      golden.config['vocab_size'],
      golden.config['hidden_size'],
      golden.config['num_hidden_layers'],
      golden.config['num_attention_heads'],
      golden.config['intermediate_size'],
      golden.config['max_position_embeddings'],
      golden.config['type_vocab_size'],
    ]);
    expect(SYNTHETIC_MODELS[name].maxSeqLength).toBe(golden.config['max_length']);
  });

  it.each(Object.keys(golden.checks))('%s matches the check values', (tensor) => {
    const check = golden.checks[tensor]!;
    const shape = shapes.get(tensor);
    expect(shape, `no shape for ${tensor}`).toBeDefined();
    const { data } = syntheticTensor(tensor, shape!);
    // first4 are float32 values printed with 9 significant digits: they identify the float32 exactly.
    for (let i = 0; i < 4; i++) expect(Math.fround(check.first4[i]!)).toBe(data[i]);
    let sum = 0;
    for (const v of data) sum += v;
    expect(Math.abs(sum - check.sum)).toBeLessThan(1e-9 * Math.max(1, Math.abs(check.sum)));
  });
});
