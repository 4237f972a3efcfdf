/**
 * Real shapes of the families (multilingual-e5-small, all-mpnet-base-v2, gte-modernbert-base,
 * nomic-embed-text-v1.5, each with a 1,024-token vocabulary) on weights from a recipe
 * (test/helpers/recipe.ts), against transformers' classes in float64 (test/fixtures/families/real/,
 * PROVENANCE.md there): the masked mean and the first and last rows of last_hidden_state of a
 * right-padded batch — ModernBERT over 200 tokens (past its 128-token window), MPNet over 140
 * (past its 128 bucket distance). The wasm device runs every model; the float64 reference and
 * webgpu (SwiftShader in CI is slow) the e5-small shape.
 *
 * Tolerances are what float32 can reach on these weights, measured (see TOLERANCE): the recipe's
 * uniform ±0.1 weights on 768 columns are far larger than trained ones, so every layer amplifies
 * rounding. The float64 reference matches the e5-small golden to 3e-14 (recipe, loader and graph
 * exact), NomicBERT's to 2.2e-6 (transformers' float32 RoPE tables) and ModernBERT's only to
 * 3.0e-4: transformers' own ModernBERT takes its softmax in float32 (`dtype=torch.float32`), and
 * over 22 layers this model turns that 6e-8 relative rounding into 3e-4 at the output. A float32
 * device rounds every GEMM too (~1e-6 relative at K = 768, compounding: NomicBERT's hidden states
 * drift 1.2e-6 → 3.5e-6 relative over its first 3 layers on wasm against the float64 reference).
 * A wrong window, θ, layout or position offset moves these outputs by O(1), far above every bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from 'vitest';
import { ReferenceBackend } from '../ts/backends/reference/reference-backend.js';
import type { Backend } from '../ts/backends/types.js';
import { createWasmBackend } from '../ts/backends/wasm/index.js';
import { type GpuContext, openGpu } from '../ts/backends/webgpu/gpu.js';
import { createWebGpuBackend } from '../ts/backends/webgpu/index.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import { runGraph } from '../ts/graph/execute.js';
import { type GraphWeights, type Tensor, bindWeights } from '../ts/graph/weights.js';
import { familyTensorName, modelFamily, parseBertConfig } from '../ts/model/config.js';
import { skipOrFail } from './helpers/ci.js';
import { FAMILY_FIXTURES, batchOfRows, readGzJson } from './helpers/families.js';
import { recipeTensor } from './helpers/recipe.js';
import { getNodeGpu, getNodeGpuAdapter, noAdapterHint, releaseNodeGpu } from './helpers/webgpu.js';

interface RealGolden {
  config: Record<string, unknown>;
  parameters: [string, number[]][];
  input_ids: number[][];
  pad_id: number;
  mean: (number | null)[][];
  last_hidden_state_rows: { rows: number[]; values: (number | null)[][] }[];
}

/**
 * The checkpoint as transformers would save it: the recipe tensors by their in-memory names,
 * renamed to the saved names; NomicBERT's q/k/v are stacked into Wqkv as transformers saves them.
 */
function recipeCheckpoint(golden: RealGolden): Map<string, Tensor> {
  const family = modelFamily(golden.config);
  const out = new Map<string, Tensor>();
  const qkv = new Map<number, Tensor[]>();
  for (const [name, shape] of golden.parameters) {
    const t = recipeTensor(name, shape);
    const m = /^layers\.(\d+)\.self_attn\.([qkv])_proj\.weight$/.exec(name);
    if (family === 'nomic_bert' && m) {
      const parts = qkv.get(Number(m[1])) ?? [];
      parts['qkv'.indexOf(m[2]!)] = t;
      qkv.set(Number(m[1]), parts);
      continue;
    }
    const canonical = familyTensorName(family, name);
    if (canonical !== undefined) out.set(canonical, t);
  }
  for (const [l, [q, k, v]] of qkv) {
    const data = new Float32Array(q!.data.length * 3);
    data.set(q!.data, 0);
    data.set(k!.data, q!.data.length);
    data.set(v!.data, 2 * q!.data.length);
    out.set(`encoder.layers.${l}.attn.Wqkv.weight`, { shape: [3 * q!.shape[0]!, q!.shape[1]!], data });
  }
  return out;
}

let gpu: GpuContext | undefined;
beforeAll(async () => {
  if (await getNodeGpuAdapter()) gpu = await openGpu({ gpu: getNodeGpu() });
});
afterAll(() => {
  gpu?.device.destroy();
  releaseNodeGpu();
});

type DeviceName = 'reference' | 'wasm' | 'webgpu';
async function backendFor(device: DeviceName, weights: GraphWeights, ctx: TestContext): Promise<Backend> {
  if (device === 'reference') return new ReferenceBackend(weights);
  if (device === 'wasm') return createWasmBackend(weights, { threads: 2 }, { relaxedSimd: false });
  if (!gpu) skipOrFail(ctx, noAdapterHint());
  return createWebGpuBackend(weights, { device: gpu.device, gpu: getNodeGpu() });
}

/** [model, devices, max |Δ| on float32 devices (measured: see the top of the file)]. */
const CASES: [string, DeviceName[], number][] = [
  ['xlm-roberta-e5-small', ['reference', 'wasm', 'webgpu'], 2e-5], // wasm 1.2e-5, webgpu 8.2e-6
  ['mpnet-base', ['wasm'], 2e-5], // wasm 1.1e-5
  ['nomic-bert-v1.5', ['wasm'], 5e-4], // wasm 1.9e-4 (reference 2.2e-6)
  ['modernbert-base', ['wasm'], 1e-2], // wasm 3.3e-3 (reference 3.0e-4: the golden's float32 softmax)
];

describe.each(CASES)('%s (real shape, recipe weights) against transformers', (name, devices, fast) => {
  it.for(devices)('%s: masked mean and rows of last_hidden_state', async (device, ctx) => {
    const golden = readGzJson<RealGolden>(new URL(`real/${name}.json.gz`, FAMILY_FIXTURES));
    const config = parseBertConfig(golden.config);
    const graph = buildBertGraph(config, { pooling: 'mean', normalize: false });
    const backend = await backendFor(device, bindWeights(graph.weights, recipeCheckpoint(golden)), ctx);
    try {
      const batch = batchOfRows(golden.input_ids, golden.pad_id);
      const { output, captured } = await runGraph(graph, backend, batch, { capture: [graph.lastHiddenState] });
      const hidden = captured.get(graph.lastHiddenState)!;
      const C = config.hiddenSize;
      let worst = 0;
      let compared = 0;
      golden.mean.forEach((row, b) => {
        if (row.some((v) => v === null)) return; // transformers' NaN (PROVENANCE.md)
        compared++;
        row.forEach((v, k) => {
          worst = Math.max(worst, Math.abs(output[b * C + k]! - (v as number)));
        });
        const kept = golden.last_hidden_state_rows[b]!;
        kept.rows.forEach((t, r) => {
          kept.values[r]!.forEach((v, k) => {
            worst = Math.max(worst, Math.abs(hidden[(b * batch.seqLen + t) * C + k]! - (v as number)));
          });
        });
      });
      console.log(
        `[${device}] ${name}: ${compared} sequence(s) of ${golden.input_ids.map((r) => r.length).join('/')} tokens, max |Δ| ${worst.toExponential(2)}`,
      );
      expect(compared).toBeGreaterThanOrEqual(1);
      expect(worst).toBeLessThanOrEqual(device === 'reference' ? 1e-5 : fast);
    } finally {
      backend.dispose();
    }
  });
});
