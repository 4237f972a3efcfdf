/**
 * The weight recipe of the real-shaped family goldens (test/fixtures/families/real/):
 * `familyRecipeTensor` of ts/model/synthetic.ts (the synthetic models' counter-based hash with a
 * distribution chosen by the tensor's name), which the family benchmarks use too;
 * `recipe_tensor` in test/fixtures/generate/recipe.py is the Python twin that made the goldens.
 *   value(i) = float32(center + scale · (mix32(fnv1a32(name) + i·0x9e3779b9) / 2³² · 2 − 1))
 */
export { familyRecipeTensor as recipeTensor } from '../../ts/model/synthetic.js';
