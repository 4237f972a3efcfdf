/**
 * The weight recipe of the real-shaped family goldens (test/fixtures/families/real/): the same
 * counter-based hash as dualbert's synthetic models (ts/model/synthetic.ts), with a distribution
 * chosen by the tensor's name; `recipe_tensor` in test/fixtures/generate/recipe.py is the
 * Python twin that made the goldens.
 *   value(i) = float32(center + scale · (mix32(fnv1a32(name) + i·0x9e3779b9) / 2³² · 2 − 1))
 */
import type { Tensor } from '../../ts/graph/weights.js';

function fnv1a32(name: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(name)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x = (x ^ (x >>> 13)) >>> 0;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** (center, scale) by name: norm weights 1 ± 0.5, norm biases ± 0.1, the relative bias ± 2, Q/K ± 0.15, the rest ± 0.1. */
export function recipeDistribution(name: string): [number, number] {
  const low = name.toLowerCase();
  if (low.includes('norm')) return name.endsWith('.weight') ? [1, 0.5] : [0, 0.1];
  if (low.includes('relative_attention_bias')) return [0, 2];
  if (['query.weight', 'key.weight', 'wqkv.weight'].some((k) => low.includes(k))) return [0, 0.15];
  return [0, 0.1];
}

/** One tensor of the recipe. */
export function recipeTensor(name: string, shape: readonly number[]): Tensor {
  const [center, scale] = recipeDistribution(name);
  const seed = fnv1a32(name);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = center + scale * ((mix32((seed + Math.imul(i, 0x9e3779b9)) >>> 0) / 4294967296) * 2 - 1);
  return { shape, data };
}
