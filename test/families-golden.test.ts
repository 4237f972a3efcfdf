/**
 * Every encoder family against transformers' own classes (float64 goldens of
 * test/fixtures/families/, see PROVENANCE.md there): RobertaModel, XLMRobertaModel, MPNetModel,
 * ModernBertModel (erf GeGLU with θ 160000/10000, and a tanh-GeGLU variant with biases),
 * NomicBertModel, each loaded from the directory transformers saved, on every device: single
 * texts, right-padded batches, and sequences longer than the sliding window (ModernBERT) or past
 * MPNet's bucket range (150 tokens). last_hidden_state over the real tokens and the masked mean
 * must be within 1e-5. Padding must not change any real token's output (ModernBERT's "unpadded
 * semantics"; its padded goldens are NaN where transformers' float64 eager path fills fully
 * masked window rows with NaN, so padded rows are checked against the same sequences alone).
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend } from '../ts/backends/webgpu/index.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import { runGraph } from '../ts/graph/execute.js';
import { bindWeights } from '../ts/graph/weights.js';
import { loadModel } from '../ts/model/load.js';
import { skipOrFail } from './helpers/ci.js';
import { REFERENCE, type TestDevice, WEBGPU, releaseTestDevices, wasm } from './helpers/devices.js';
import { batchOfRows, compareRows, familyModelDir, loadFamilyGolden } from './helpers/families.js';
import { getNodeGpu, noAdapterHint, openTestGpu } from './helpers/webgpu.js';

const dirs: string[] = [];
afterAll(async () => {
  await releaseTestDevices();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const DEVICES: readonly TestDevice[] = [REFERENCE, wasm('simd', 1, 'all'), wasm('scalar', 1, 'all'), wasm('simd-threads', 2, 'all'), WEBGPU];

const FAMILIES = ['roberta', 'xlm-roberta', 'mpnet', 'modernbert', 'modernbert-tanh', 'nomic-bert'];

/**
 * Max |Δ| against the float64 golden: 1e-5, with one measured exception for float32 devices.
 * The tiny ModernBERTs' weights make their attention logits reach ±22 on an un-normalized
 * (pre-norm) residual stream: perturbing Q, K and V by one float32 ulp (6e-8 relative, what
 * storing them in float32 does) moves an attention output by 1.0e-6 to 1.6e-6, and the error
 * compounds (×3–5 per layer; measured after three layers: 2.4e-5 on wasm, 1.6e-5 on webgpu; the
 * tanh variant 6e-6 and 1.0e-5), with every op within its own tolerance in family-ops.test.ts.
 * 5e-5 still catches a wrong window, θ or layout, which move outputs by O(1).
 */
const tolerance = (family: string, device: string): number => (device !== 'reference' && family.startsWith('modernbert') ? 5e-5 : 1e-5);

describe.each(DEVICES)('$name: encoder families against transformers (float64)', (device) => {
  const worst = new Map<string, number>();
  afterAll(() => {
    if (worst.size)
      console.log(
        `[${device.name}] families vs transformers, max |Δ| last_hidden_state: ${[...worst].map(([f, d]) => `${f} ${d.toExponential(2)}`).join(', ')}`,
      );
  });

  it.for(FAMILIES)('%s: single, padded and long sequences; padding changes nothing', async (family, ctx) => {
    const golden = loadFamilyGolden(family);
    const model = await loadModel(familyModelDir(family, { dirs }));
    const graph = buildBertGraph(model.config, { pooling: 'mean', normalize: false });
    const backend = await device.create(bindWeights(graph.weights, model.checkpoint), ctx);
    const C = model.config.hiddenSize;
    try {
      let compared = 0;
      for (const c of golden.cases) {
        const batch = batchOfRows(c.input_ids, c.pad_id);
        const { output, captured } = await runGraph(graph, backend, batch, { capture: [graph.lastHiddenState] });
        const hidden = captured.get(graph.lastHiddenState)!;
        const d = compareRows(hidden, c, batch.seqLen, C);
        compared += d.rows;
        worst.set(family, Math.max(worst.get(family) ?? 0, d.maxAbs));
        const tol = tolerance(family, device.name);
        expect(d.maxAbs, `${family} ${c.name}: last_hidden_state`).toBeLessThanOrEqual(tol);
        c.mean.forEach((row, b) => {
          if (row.some((v) => v === null)) return;
          for (let k = 0; k < C; k++)
            expect(Math.abs(output[b * C + k]! - (row[k] as number)), `${family} ${c.name}: mean of sequence ${b}`).toBeLessThanOrEqual(tol);
        });
        // Each sequence alone gives the rows it has in the padded batch.
        if (c.input_ids.length > 1) {
          for (const [b, ids] of c.input_ids.entries()) {
            const alone = (await runGraph(graph, backend, batchOfRows([ids], c.pad_id), { capture: [graph.lastHiddenState] })).captured.get(
              graph.lastHiddenState,
            )!;
            let diff = 0;
            for (let i = 0; i < ids.length * C; i++) diff = Math.max(diff, Math.abs(alone[i]! - hidden[b * batch.seqLen * C + i]!));
            expect(diff, `${family} ${c.name}: sequence ${b} alone vs padded`).toBeLessThanOrEqual(2e-6);
          }
        }
      }
      // Every family has goldens for at least the single text and the long sequence.
      expect(compared).toBeGreaterThanOrEqual(12 + 33);
    } finally {
      backend.dispose();
    }
  });
});

describe('webgpu: a word table larger than a storage binding stays on the host', () => {
  it('XLM-R with its table gathered on the host gives the golden, and the GPU holds no table', async (ctx) => {
    const gpu = await openTestGpu();
    if (!gpu) skipOrFail(ctx, noAdapterHint());
    const golden = loadFamilyGolden('xlm-roberta');
    const model = await loadModel(familyModelDir('xlm-roberta', { dirs }));
    const graph = buildBertGraph(model.config, { pooling: 'mean', normalize: false });
    const weights = bindWeights(graph.weights, model.checkpoint);
    const table = weights.get('embeddings.word_embeddings.weight')!.data.byteLength; // 256 × 32 × 4
    // As if maxStorageBufferBindingSize were below the table (XLM-R base: 768 MiB of word rows).
    const onHost = await createWebGpuBackend(weights, { device: gpu.device, gpu: getNodeGpu(), tuning: { hostTableBytes: table - 1 } });
    const resident = await createWebGpuBackend(weights, { device: gpu.device, gpu: getNodeGpu() });
    try {
      const host = onHost.stats().webgpu;
      const gpuOnly = resident.stats().webgpu;
      console.log(
        `[webgpu] xlm-roberta word table ${table} B: on the host ${host.hostTableBytes} B, GPU weights ${host.weightBytes} B (resident: ${gpuOnly.weightBytes} B)`,
      );
      expect(host.hostTableBytes).toBe(table);
      expect(gpuOnly.hostTableBytes).toBe(0);
      expect(gpuOnly.weightBytes - host.weightBytes).toBeGreaterThanOrEqual(table);
      for (const c of golden.cases) {
        const batch = batchOfRows(c.input_ids, c.pad_id);
        const { captured } = await runGraph(graph, onHost, batch, { capture: [graph.lastHiddenState] });
        expect(compareRows(captured.get(graph.lastHiddenState)!, c, batch.seqLen, model.config.hiddenSize).maxAbs, c.name).toBeLessThanOrEqual(1e-5);
      }
    } finally {
      onHost.dispose();
      resident.dispose();
    }
  });
});
