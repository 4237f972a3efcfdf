// The real-shaped family models of the benchmarks (issue #13): the configs of the goldens in
// test/fixtures/families/real/ with their recipe weights, built in JavaScript over dist/ only, so
// bench/gpu.mjs and bench/gpu/families-precision.mjs run the same models on a GPU machine with
// Node carried in. bench/gpu/export_family_onnx.py builds the same models in transformers, with
// the same recipe, and exports them to ONNX for onnxruntime's WebGPU EP: same weights, no stored
// checkpoint.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { familyTensorName, modelFamily, parseBertConfig } from '../../dist/model/config.js';
import { familyRecipeTensor as recipeTensor } from '../../dist/model/synthetic.js';

const ROOT = new URL('../../', import.meta.url);

/**
 * The families benchmarked, by the model whose shape each golden has: name (for --only), golden
 * file (test/fixtures/families/real/FILE.json.gz, and FILE.onnx from export_family_onnx.py),
 * label, rotary (gets the long B1 T2048 row), layers under --quick, and the bound the wasm path
 * meets on the golden (test/families-real.test.ts).
 */
export const FAMILIES = [
  { name: 'e5-small', file: 'xlm-roberta-e5-small', label: 'xlm-roberta (e5-small)', rotary: false, quickLayers: 1, bound: 2e-5 },
  { name: 'mpnet', file: 'mpnet-base', label: 'mpnet (mpnet-base)', rotary: false, quickLayers: 1, bound: 2e-5 },
  { name: 'modernbert', file: 'modernbert-base', label: 'modernbert (modernbert-base)', rotary: true, quickLayers: 2, bound: 1e-2 },
  { name: 'nomic', file: 'nomic-bert-v1.5', label: 'nomicbert (nomic-v1.5)', rotary: true, quickLayers: 1, bound: 5e-4 },
];

// Python's `NaN` tokens (ModernBERT's padded sequence, see the fixtures' PROVENANCE.md) become null.
export const readGzJson = (path) =>
  JSON.parse(
    gunzipSync(readFileSync(new URL(path, ROOT)))
      .toString('utf8')
      .replace(/\bNaN\b/g, 'null'),
  );

/**
 * A family model of a real-shaped golden: its config (with `layers` layers when given), and the
 * recipe checkpoint by dualbert's names (as test/families-real.test.ts builds it: NomicBERT's
 * q/k/v stacked into Wqkv as transformers saves them). Only the tensors of kept layers are made.
 */
export function familyModel(golden, layers) {
  const family = modelFamily(golden.config);
  let config = parseBertConfig(golden.config);
  if (layers !== undefined) config = { ...config, numLayers: layers, ...(config.layerTypes ? { layerTypes: config.layerTypes.slice(0, layers) } : {}) };
  const layerOf = (name) => Number(/layers?\.(\d+)\./.exec(name)?.[1] ?? -1);
  const checkpoint = new Map();
  const qkv = new Map();
  for (const [name, shape] of golden.parameters) {
    if (layerOf(name) >= config.numLayers) continue;
    const m = /^layers\.(\d+)\.self_attn\.([qkv])_proj\.weight$/.exec(name);
    if (family === 'nomic_bert' && m) {
      const parts = qkv.get(Number(m[1])) ?? [];
      parts['qkv'.indexOf(m[2])] = recipeTensor(name, shape);
      qkv.set(Number(m[1]), parts);
      continue;
    }
    const canonical = familyTensorName(family, name);
    if (canonical !== undefined) checkpoint.set(canonical, recipeTensor(name, shape));
  }
  for (const [l, [q, k, v]] of qkv) {
    const data = new Float32Array(q.data.length * 3);
    data.set(q.data, 0);
    data.set(k.data, q.data.length);
    data.set(v.data, 2 * q.data.length);
    checkpoint.set(`encoder.layers.${l}.attn.Wqkv.weight`, { shape: [3 * q.shape[0], q.shape[1]], data });
  }
  return { config, checkpoint };
}

/** The golden of a family (FAMILIES[i].file), parsed. */
export const readFamilyGolden = (file) => readGzJson(`test/fixtures/families/real/${file}.json.gz`);
