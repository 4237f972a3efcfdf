/**
 * The webgpu backend on whole models against the golden PyTorch float64 vectors (Dawn in Node;
 * SwiftShader on CPU-only machines): single texts and padded batches, tiny and minilm, plus
 * tiny's hidden states layer by layer. Tolerance 1e-5 max |Δ| on the normalized mean vectors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from 'vitest';
import { WebGpuBackend, createWebGpuBackend } from '../ts/backends/webgpu/index.js';
import { type GpuContext, openGpu } from '../ts/backends/webgpu/gpu.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import { runGraph } from '../ts/graph/execute.js';
import { bindWeights } from '../ts/graph/weights.js';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../ts/model/synthetic.js';
import { skipOrFail } from './helpers/ci.js';
import { batchFromIds, loadGolden, maxAbsDiff } from './helpers/golden.js';
import { getNodeGpu, getNodeGpuAdapter, noAdapterHint, releaseNodeGpu } from './helpers/webgpu.js';

const TOLERANCE = 1e-5;

let context: GpuContext | undefined;
beforeAll(async () => {
  if (await getNodeGpuAdapter()) context = await openGpu({ gpu: getNodeGpu() });
});
afterAll(() => {
  context?.device.destroy();
  releaseNodeGpu();
});

function gpuOrSkip(ctx: TestContext): GpuContext {
  if (!context) skipOrFail(ctx, noAdapterHint());
  return context;
}

describe.each(['tiny', 'minilm'] as const)('webgpu backend vs golden %s', (name) => {
  const golden = loadGolden(name);
  const config = SYNTHETIC_MODELS[name].config;
  const C = config.hiddenSize;
  const meanGraph = buildBertGraph(config, { pooling: 'mean', normalize: true });
  const clsGraph = buildBertGraph(config, { pooling: 'cls', normalize: false });
  const weights = bindWeights(meanGraph.weights, syntheticCheckpoint(config));
  let backend: WebGpuBackend | undefined;
  const get = async (ctx: TestContext): Promise<WebGpuBackend> => {
    const c = gpuOrSkip(ctx);
    backend ??= await createWebGpuBackend(weights, { device: c.device, gpu: getNodeGpu() });
    return backend;
  };
  afterAll(() => backend?.dispose());

  // minilm on SwiftShader (CI) costs ~50 ms per token: a bounded but varied set, ~500 tokens in
  // all: 2 and 13 tokens, the longest golden length (256: eight key tiles, four query blocks),
  // and a padded batch of 2/5/58/35 tokens.
  const singles = name === 'tiny' ? golden.texts.map((_, i) => i) : [0, 3, 37];
  const lastHidden = meanGraph.hiddenStates[meanGraph.hiddenStates.length - 1]!;

  it('mean+normalize and cls, one text at a time', async (ctx) => {
    const b = await get(ctx);
    let worstMean = 0;
    let worstCls = 0;
    for (const i of singles) {
      const text = golden.texts[i]!;
      const batch = batchFromIds([text.input_ids]);
      // tiny runs the cls graph (the cls pooling kernel); minilm takes cls as row 0 of the
      // captured last hidden state, one forward instead of two.
      const { output: mean, captured } = await runGraph(meanGraph, b, batch, name === 'tiny' ? {} : { capture: [lastHidden] });
      const cls = name === 'tiny' ? (await runGraph(clsGraph, b, batch)).output : captured.get(lastHidden)!.subarray(0, C);
      const dm = maxAbsDiff(mean, text.mean);
      const dc = maxAbsDiff(cls, text.cls) / Math.max(1, ...text.cls.map(Math.abs));
      expect(dm, `text ${i} mean`).toBeLessThanOrEqual(TOLERANCE);
      expect(dc, `text ${i} cls`).toBeLessThanOrEqual(TOLERANCE);
      worstMean = Math.max(worstMean, dm);
      worstCls = Math.max(worstCls, dc);
    }
    console.log(`[webgpu ${name}] ${singles.length} texts: max |Δ| mean ${worstMean.toExponential(2)}, cls (relative) ${worstCls.toExponential(2)}`);
  });

  it('padded batches give the golden vectors', async (ctx) => {
    const b = await get(ctx);
    // Mix short and long texts in each batch so most rows carry padding.
    const order = golden.texts.map((_, i) => i).sort((a, c) => ((a * 7919) % 41) - ((c * 7919) % 41));
    const batches = name === 'tiny' ? Array.from({ length: 6 }, (_, k) => order.slice(k * 7, k * 7 + 7)) : [[1, 18, 19, 6]];
    let worst = 0;
    for (const idx of batches) {
      const out = (await runGraph(meanGraph, b, batchFromIds(idx.map((i) => golden.texts[i]!.input_ids)))).output;
      idx.forEach((ti, row) => {
        const d = maxAbsDiff(out.subarray(row * C, (row + 1) * C), golden.texts[ti]!.mean);
        expect(d, `text ${ti} in batch ${idx.join(',')}`).toBeLessThanOrEqual(TOLERANCE);
        worst = Math.max(worst, d);
      });
    }
    console.log(`[webgpu ${name}] ${batches.flat().length} texts in ${batches.length} padded batches: max |Δ| ${worst.toExponential(2)}`);
  });

  if (name === 'tiny') {
    it('hidden states match layer by layer (captures re-read pooled buffers correctly)', async (ctx) => {
      const b = await get(ctx);
      for (const [i, text] of golden.texts.entries()) {
        if (!text.hidden_states) continue;
        const { captured } = await runGraph(meanGraph, b, batchFromIds([text.input_ids]), { capture: meanGraph.hiddenStates });
        meanGraph.hiddenStates.forEach((id, layer) => {
          const want = text.hidden_states![layer]!;
          const scale = Math.max(1, ...want.map(Math.abs));
          expect(maxAbsDiff(captured.get(id)!, want) / scale, `text ${i} hidden state ${layer}`).toBeLessThanOrEqual(TOLERANCE);
        });
      }
    });
  }
});

describe('webgpu backend, dtype fp16 (where the adapter has shader-f16)', () => {
  it('tiny and minilm: cosine ≥ 0.9999 and max |Δ| ≤ 2e-3 vs golden', async (ctx) => {
    const c = gpuOrSkip(ctx);
    const adapter = await getNodeGpuAdapter();
    // SwiftShader (CI) and Dawn on the H200's driver offer no shader-f16: this path is then untested.
    if (!adapter?.features.has('shader-f16')) return ctx.skip('this adapter has no shader-f16: the fp16 path is untested here');
    void c;
    for (const name of ['tiny', 'minilm'] as const) {
      const golden = loadGolden(name);
      const config = SYNTHETIC_MODELS[name].config;
      const graph = buildBertGraph(config, { pooling: 'mean', normalize: true });
      const b = await createWebGpuBackend(bindWeights(graph.weights, syntheticCheckpoint(config)), { dtype: 'fp16', gpu: getNodeGpu() });
      try {
        expect(b.info.f16).toBe(true);
        for (const i of [0, 3, 19]) {
          const want = golden.texts[i]!.mean;
          const got = (await runGraph(graph, b, batchFromIds([golden.texts[i]!.input_ids]))).output;
          let dot = 0;
          let ng = 0;
          let nw = 0;
          want.forEach((w, k) => {
            dot += w * got[k]!;
            ng += got[k]! ** 2;
            nw += w * w;
          });
          expect(dot / Math.sqrt(ng * nw), `${name} text ${i} cosine`).toBeGreaterThanOrEqual(0.9999);
          expect(maxAbsDiff(got, want), `${name} text ${i}`).toBeLessThanOrEqual(2e-3);
        }
      } finally {
        b.dispose();
      }
    }
  });
});
