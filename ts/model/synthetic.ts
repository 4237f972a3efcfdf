/**
 * Synthetic BERT models generated in memory from a fixed recipe (test/fixtures/PROVENANCE.md
 * gives it): no download, bit-identical to the tensors the golden outputs were made
 * from. Used by tests, benchmarks and the demo.
 */
import type { BertConfig } from '../graph/config.js';
import type { Checkpoint, Tensor } from '../graph/weights.js';

export type SyntheticName = 'tiny' | 'minilm';

interface SyntheticSpec {
  readonly config: BertConfig;
  /** sentence-transformers `max_seq_length`. */
  readonly maxSeqLength: number;
}

const base = { vocabSize: 30522, maxPositions: 512, typeVocabSize: 2, layerNormEps: 1e-12, hiddenAct: 'gelu' } as const;

export const SYNTHETIC_MODELS: Readonly<Record<SyntheticName, SyntheticSpec>> = {
  tiny: { config: { ...base, hiddenSize: 64, numLayers: 2, numHeads: 4, intermediateSize: 256 }, maxSeqLength: 128 },
  minilm: { config: { ...base, hiddenSize: 384, numLayers: 6, numHeads: 12, intermediateSize: 1536 }, maxSeqLength: 256 },
};

export function isSyntheticName(name: string): name is SyntheticName {
  return Object.hasOwn(SYNTHETIC_MODELS, name);
}

/** FNV-1a, 32-bit, over the UTF-8 bytes of the tensor name. */
function fnv1a32(name: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(name)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/** The murmur3 finalizer. */
function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x = (x ^ (x >>> 13)) >>> 0;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** (center, scale) of a tensor, from its name. */
function distribution(name: string): [number, number] {
  if (name.endsWith('LayerNorm.weight')) return [1.0, 0.5];
  if (name.endsWith('LayerNorm.bias')) return [0.0, 0.1];
  if (name.endsWith('attention.self.query.weight') || name.endsWith('attention.self.key.weight')) return [0.0, 0.15];
  return [0.0, 0.1];
}

/**
 * A tensor of the counter-based recipe with a given distribution:
 * value(i) = float32(center + scale · (mix32(fnv(name) + i·φ) / 2³² · 2 − 1)).
 */
export function hashedTensor(name: string, shape: readonly number[], [center, scale]: readonly [number, number]): Tensor {
  const seed = fnv1a32(name);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const bits = mix32((seed + Math.imul(i, 0x9e3779b9)) >>> 0);
    // Float64 arithmetic, one rounding to float32 on the store.
    data[i] = center + scale * ((bits / 4294967296) * 2 - 1);
  }
  return { shape, data };
}

/** One tensor of the synthetic models' recipe. */
export function syntheticTensor(name: string, shape: readonly number[]): Tensor {
  return hashedTensor(name, shape, distribution(name));
}

/**
 * (center, scale) of a tensor of the real-shaped family models (the goldens of
 * test/fixtures/families/real/ and the family benchmarks), by its transformers name: norm weights
 * 1 ± 0.5, norm biases ± 0.1, MPNet's relative bias ± 2, Q/K ± 0.15, the rest ± 0.1.
 * `recipe_tensor` in test/fixtures/generate/recipe.py is the Python twin that made the goldens.
 */
export function familyRecipeDistribution(name: string): [number, number] {
  const low = name.toLowerCase();
  if (low.includes('norm')) return name.endsWith('.weight') ? [1, 0.5] : [0, 0.1];
  if (low.includes('relative_attention_bias')) return [0, 2];
  if (['query.weight', 'key.weight', 'wqkv.weight'].some((k) => low.includes(k))) return [0, 0.15];
  return [0, 0.1];
}

/** One tensor of the real-shaped family models' recipe, by its transformers name. */
export function familyRecipeTensor(name: string, shape: readonly number[]): Tensor {
  return hashedTensor(name, shape, familyRecipeDistribution(name));
}

/** The Hugging Face `BertModel` tensor names and shapes of a config (pooler included, as in the recipe). */
export function bertTensorShapes(config: BertConfig): Map<string, number[]> {
  const C = config.hiddenSize;
  const I = config.intermediateSize;
  const shapes = new Map<string, number[]>([
    ['embeddings.word_embeddings.weight', [config.vocabSize, C]],
    ['embeddings.position_embeddings.weight', [config.maxPositions, C]],
    ['embeddings.token_type_embeddings.weight', [config.typeVocabSize, C]],
    ['embeddings.LayerNorm.weight', [C]],
    ['embeddings.LayerNorm.bias', [C]],
  ]);
  for (let l = 0; l < config.numLayers; l++) {
    const p = `encoder.layer.${l}`;
    for (const n of ['query', 'key', 'value']) {
      shapes.set(`${p}.attention.self.${n}.weight`, [C, C]);
      shapes.set(`${p}.attention.self.${n}.bias`, [C]);
    }
    shapes.set(`${p}.attention.output.dense.weight`, [C, C]);
    shapes.set(`${p}.attention.output.dense.bias`, [C]);
    shapes.set(`${p}.attention.output.LayerNorm.weight`, [C]);
    shapes.set(`${p}.attention.output.LayerNorm.bias`, [C]);
    shapes.set(`${p}.intermediate.dense.weight`, [I, C]);
    shapes.set(`${p}.intermediate.dense.bias`, [I]);
    shapes.set(`${p}.output.dense.weight`, [C, I]);
    shapes.set(`${p}.output.dense.bias`, [C]);
    shapes.set(`${p}.output.LayerNorm.weight`, [C]);
    shapes.set(`${p}.output.LayerNorm.bias`, [C]);
  }
  shapes.set('pooler.dense.weight', [C, C]);
  shapes.set('pooler.dense.bias', [C]);
  return shapes;
}

/**
 * The checkpoint of a synthetic model. `only` restricts generation to the named tensors
 * (the pooler, for example, is never read by an embedding graph).
 */
export function syntheticCheckpoint(config: BertConfig, only?: ReadonlySet<string>): Checkpoint {
  const out = new Map<string, Tensor>();
  for (const [name, shape] of bertTensorShapes(config)) {
    if (only && !only.has(name)) continue;
    out.set(name, syntheticTensor(name, shape));
  }
  return out;
}
