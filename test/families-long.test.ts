/**
 * Long context on the rotary families: a ModernBERT-shaped model (a global layer with θ 160000
 * and a sliding layer with θ 10000 and a 128-token window) and a NomicBERT-shaped one (θ 1000),
 * hidden 128 in 2 heads of 64, 2 layers, 8,192 positions, one sequence of T tokens on wasm and
 * webgpu against the float64 reference, with the memory each device held. T is 1,024 by default
 * (the reference's T×T attention takes seconds; webgpu on a software adapter such as SwiftShader
 * always takes 256, where 2,048 costs it ~100 s) and 8,192 with DUALBERT_LONG=1 (the full
 * context; the reference then takes minutes). Attention memory is linear in T on both fast
 * paths: the wasm arena and the webgpu activations grow 4× from T/4 to T, not 16×.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../ts/backends/reference/reference-backend.js';
import type { Backend } from '../ts/backends/types.js';
import { type WasmBackend, createWasmBackend } from '../ts/backends/wasm/index.js';
import { type GpuContext, openGpu } from '../ts/backends/webgpu/gpu.js';
import { createWebGpuBackend } from '../ts/backends/webgpu/index.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import type { BertConfig } from '../ts/graph/config.js';
import { runGraph } from '../ts/graph/execute.js';
import { type GraphWeights, type Tensor, bindWeights, checkpointShapes } from '../ts/graph/weights.js';
import { skipOrFail } from './helpers/ci.js';
import { randomTensor, rng } from './helpers/op-parity.js';
import { getNodeGpu, getNodeGpuAdapter, noAdapterHint, releaseNodeGpu } from './helpers/webgpu.js';

const LONG = process.env.DUALBERT_LONG === '1';
const T = LONG ? 8192 : 1024;

const base = {
  vocabSize: 500,
  hiddenSize: 128,
  numLayers: 2,
  numHeads: 2,
  intermediateSize: 192,
  maxPositions: 8192,
  typeVocabSize: 0,
  layerNormEps: 1e-5,
} as const;
const MODELS: [string, BertConfig][] = [
  [
    'modernbert-shaped',
    {
      ...base,
      family: 'modernbert',
      hiddenAct: 'gelu',
      rope: { theta: 160000, localTheta: 10000, layout: 'half' },
      layerTypes: ['full', 'sliding'],
      slidingWindow: 64,
      attentionBias: false,
      mlpBias: false,
      normBias: false,
    },
  ],
  [
    'nomic-shaped',
    { ...base, family: 'nomic_bert', typeVocabSize: 2, hiddenAct: 'silu', rope: { theta: 1000, layout: 'half' }, attentionBias: false, mlpBias: false },
  ],
];

/** Weights of a trained model's scale: Linear rows 1/√fan_in (Q/K a little larger, so attention is not uniform), norms near 1. */
function checkpointFor(config: BertConfig): Map<string, Tensor> {
  const random = rng(41);
  const out = new Map<string, Tensor>();
  const graph = buildBertGraph(config, { pooling: 'mean', normalize: false });
  for (const [name, shape] of checkpointShapes(graph.weights)) {
    if (shape.length === 1) out.set(name, randomTensor([...shape], random, 0.1, name.includes('norm') || name.includes('ln') ? 1 : 0));
    else if (/(tok|word|token_type)_?embeddings/.test(name)) out.set(name, randomTensor([...shape], random, 1));
    else out.set(name, randomTensor([...shape], random, (/Wqkv/.test(name) ? 2.5 : 1.7) / Math.sqrt(shape[1]!)));
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

describe.each(MODELS)('%s, B1 × T tokens', (name, config) => {
  // The full context makes the reference take minutes.
  it(`wasm and webgpu within 1e-5 of the float64 reference at T = ${T} (webgpu on a software adapter: 256), memory linear in T`, { timeout: LONG ? 3_600_000 : 300_000 }, async (ctx) => {
    const graph = buildBertGraph(config, { pooling: 'mean', normalize: false });
    const weights: GraphWeights = bindWeights(graph.weights, checkpointFor(config));
    const random = rng(7);
    const ids = Int32Array.from({ length: T }, () => 3 + Math.floor(random() * 490));
    const batchOf = (t: number) => ({ batchSize: 1, seqLen: t, ids: ids.slice(0, t), typeIds: new Int32Array(t), attentionMask: new Uint8Array(t).fill(1) });
    const run = async (backend: Backend, t: number) =>
      (await runGraph(graph, backend, batchOf(t), { capture: [graph.lastHiddenState] })).captured.get(graph.lastHiddenState)!;
    const reference = new Map<number, { out: Float32Array | Float64Array; ms: number }>();
    const want = async (t: number) => {
      if (!reference.has(t)) {
        const started = performance.now();
        reference.set(t, { out: await run(new ReferenceBackend(weights), t), ms: performance.now() - started });
      }
      return reference.get(t)!;
    };

    const devices: { device: 'wasm' | 'webgpu'; t: number; make: () => Promise<Backend> }[] = [
      { device: 'wasm', t: T, make: () => createWasmBackend(weights, { threads: 2 }, { relaxedSimd: false }) },
    ];
    if (gpu) {
      const software = gpu.adapterInfo.architecture === 'swiftshader' || /swiftshader|warp|llvmpipe/i.test(gpu.adapterInfo.description);
      devices.push({ device: 'webgpu', t: software ? 256 : T, make: () => createWebGpuBackend(weights, { device: gpu!.device, gpu: getNodeGpu() }) });
    }
    for (const { device, t, make } of devices) {
      const backend = await make();
      const small = await make();
      try {
        const started = performance.now();
        const got = await run(backend, t);
        const ms = performance.now() - started;
        const { out, ms: referenceMs } = await want(t);
        let worst = 0;
        for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(got[i]! - out[i]!));
        // Memory at t, then at t/4 on a fresh backend: linear in T means about 4× (a T×T score matrix would be 16×).
        const held = (b: Backend): number => (device === 'wasm' ? (b as WasmBackend).arenaBytes : b.stats().activationBytes);
        await run(small, t / 4);
        const bytes = held(backend);
        const smallBytes = held(small);
        console.log(
          `[${device}] ${name} B1×T${t}: max |Δ| ${worst.toExponential(2)}, ${ms.toFixed(0)} ms (reference ${referenceMs.toFixed(0)} ms); ` +
            `${device === 'wasm' ? 'arena (activations + scratch)' : 'activation buffers'} ${(bytes / 2 ** 20).toFixed(1)} MiB at T${t}, ${(smallBytes / 2 ** 20).toFixed(1)} MiB at T${t / 4}` +
            (device === 'wasm' ? `, wasm memory ${(backend.stats().wasmMemoryBytes! / 2 ** 20).toFixed(0)} MiB` : ''),
        );
        expect(worst).toBeLessThanOrEqual(1e-5);
        expect(bytes / smallBytes).toBeLessThan(6);
      } finally {
        backend.dispose();
        small.dispose();
      }
    }
    if (!gpu) skipOrFail(ctx, noAdapterHint());
  });
});
