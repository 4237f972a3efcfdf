/**
 * What only the webgpu backend offers on whole models (the fp32 golden checks of every device are
 * in model-golden.test.ts): f16 activations (`shaderF16`) against the golden PyTorch float64
 * vectors, where the adapter has shader-f16 (Dawn in Node). f16 weights alone (dtype fp16, any
 * adapter) are tested in webgpu-f16.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend } from '../ts/backends/webgpu/index.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import { runGraph } from '../ts/graph/execute.js';
import { bindWeights } from '../ts/graph/weights.js';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../ts/model/synthetic.js';
import { skipOrFail } from './helpers/ci.js';
import { batchFromIds, loadGolden, maxAbsDiff } from './helpers/golden.js';
import { closeTestGpu, getNodeGpu, getNodeGpuAdapter, noAdapterHint } from './helpers/webgpu.js';

afterAll(closeTestGpu);

describe('webgpu backend, shaderF16 (where the adapter has shader-f16)', () => {
  it('tiny and minilm: cosine ≥ 0.9999 and max |Δ| ≤ 2e-3 vs golden', async (ctx) => {
    const adapter = await getNodeGpuAdapter();
    if (!adapter) skipOrFail(ctx, noAdapterHint());
    // A legitimate absence, not a broken setup: SwiftShader (CI) and Dawn on the H200's driver
    // offer no shader-f16 (webgpu-backend.test.ts checks that fp16 is then refused clearly).
    if (!adapter.features.has('shader-f16'))
      ctx.skip(`this adapter (${adapter.info.vendor} ${adapter.info.architecture}) has no shader-f16: the f16-activation path is untested here`);
    for (const name of ['tiny', 'minilm'] as const) {
      const golden = loadGolden(name);
      const config = SYNTHETIC_MODELS[name].config;
      const graph = buildBertGraph(config, { pooling: 'mean', normalize: true });
      const b = await createWebGpuBackend(bindWeights(graph.weights, syntheticCheckpoint(config)), { dtype: 'fp16', shaderF16: true, gpu: getNodeGpu() });
      try {
        expect(b.info.f16).toBe(true);
        let worst = 0;
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
          const d = maxAbsDiff(got, want);
          expect(d, `${name} text ${i}`).toBeLessThanOrEqual(2e-3);
          worst = Math.max(worst, d);
        }
        console.log(`[webgpu shaderF16 · ${name}] 3 texts: max |Δ| ${worst.toExponential(2)}`);
      } finally {
        b.dispose();
      }
    }
  });
});
