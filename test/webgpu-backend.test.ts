/**
 * What the webgpu backend promises beyond parity: one submit per batch, nothing compiled or
 * allocated again for a batch of a bucket it has seen, bounded memory under changing shapes,
 * and a clear DualbertError for every bad input and for a lost device.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from 'vitest';
import { WebGpuBackend, createWebGpuBackend } from '../ts/backends/webgpu/index.js';
import { type GpuContext, openGpu } from '../ts/backends/webgpu/gpu.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import { runGraph } from '../ts/graph/execute.js';
import type { BatchInputs } from '../ts/graph/ops.js';
import { bindWeights } from '../ts/graph/weights.js';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../ts/model/synthetic.js';
import { DualbertError } from '../ts/errors.js';
import { skipOrFail } from './helpers/ci.js';
import { getNodeGpu, getNodeGpuAdapter, noAdapterHint, releaseNodeGpu } from './helpers/webgpu.js';

const config = SYNTHETIC_MODELS.tiny.config;
const graph = buildBertGraph(config, { pooling: 'mean', normalize: true });
const weights = bindWeights(graph.weights, syntheticCheckpoint(config));

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

function batch(B: number, T: number, seed = 1): BatchInputs {
  const ids = new Int32Array(B * T).map((_, i) => (i % T === 0 ? 101 : 1000 + ((i * 7919 + seed) % 20000)));
  return { batchSize: B, seqLen: T, ids, typeIds: new Int32Array(B * T), attentionMask: new Uint8Array(B * T).fill(1) };
}

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<DualbertError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(DualbertError);
    return e as DualbertError;
  }
  throw new Error('expected a DualbertError');
}

describe('webgpu backend', () => {
  let backend: WebGpuBackend | undefined;
  afterAll(() => backend?.dispose());

  it('one submit per batch; a seen bucket compiles, allocates and binds nothing new', async (ctx) => {
    const c = gpuOrSkip(ctx);
    backend = await createWebGpuBackend(weights, { device: c.device, gpu: getNodeGpu() });
    await runGraph(graph, backend, batch(4, 9));
    const first = backend.stats().webgpu;
    // The batch, and once at creation the transposes of every linear weight into the GEMM's layout.
    expect(first.submits).toBe(2);
    // Other shapes in the same bucket (≤ 64 token rows, ≤ 4 sequences: the [B, C] buffers are
    // sized to B rounded up to a power of two), including other B and T.
    for (const [B, T] of [
      [2, 9],
      [1, 30],
      [4, 16],
      [3, 5],
    ]) {
      await runGraph(graph, backend, batch(B!, T!));
    }
    const after = backend.stats().webgpu;
    expect(after.submits).toBe(first.submits + 4);
    expect(after.pipelines).toBe(first.pipelines);
    expect(after.buffersCreated).toBe(first.buffersCreated);
    expect(after.bindGroups).toBe(first.bindGroups);
    expect(after.buckets).toEqual([64]);
  });

  it('the plan shares buffers: a 2-layer forward holds 5 activation buffers, not one per activation', async (ctx) => {
    gpuOrSkip(ctx);
    const s = backend!.stats().webgpu;
    // Transposed linear weights (4 per layer), then the slots: tokens:64 ×3, tokens:192,
    // tokens:256, sequences:64 ×2; inputs ×4; params; readback.
    expect(s.buffersCreated - weights.size - 4 * config.numLayers).toBe(3 + 1 + 1 + 2 + 4 + 2);
  });

  it('memory stays bounded as shapes grow: at most two buckets', async (ctx) => {
    gpuOrSkip(ctx);
    let peak = 0;
    // Token rows 100, 256, 576, 7, 1536: buckets 128, 256, 1024 (evicts 128), reuse of 256,
    // 2048 (evicts 1024).
    for (const [B, T] of [
      [1, 100],
      [4, 64],
      [9, 64],
      [1, 7],
      [24, 64],
    ]) {
      await runGraph(graph, backend!, batch(B!, T!));
      const s = backend!.stats().webgpu;
      expect(s.buckets.length).toBeLessThanOrEqual(2);
      peak = Math.max(peak, s.activationBytes);
    }
    expect(backend!.stats().webgpu.buckets.sort((a, b) => a - b)).toEqual([256, 2048]);
    // Two buckets of at most 2048 rows: 3 C-wide + 3C + I = 8·C floats per row each, plus inputs.
    expect(peak).toBeLessThan(2 * 2048 * 8 * 64 * 4 * 1.25);
  });

  it('bad inputs are DualbertErrors', async (ctx) => {
    gpuOrSkip(ctx);
    const b = backend!;
    const bad = batch(1, 4);
    const outOfVocab = { ...bad, ids: Int32Array.from([101, 30522, 5, 6]) };
    expect((await rejection(runGraph(graph, b, outOfVocab))).message).toMatch(/token id 30522 \(sequence 0, position 1\) is outside the vocabulary of 30522/);
    const badType = { ...bad, typeIds: Int32Array.from([0, 2, 0, 0]) };
    expect((await rejection(runGraph(graph, b, badType))).message).toMatch(/token type id 2 \(sequence 0, position 1\) is outside the 2 token types/);
    const empty = { ...bad, attentionMask: new Uint8Array(4) };
    expect((await rejection(runGraph(graph, b, empty))).message).toMatch(/sequence 0 of the batch has no real token/);
    const tooLong = batch(1, 513);
    expect((await rejection(runGraph(graph, b, tooLong))).code).toBe('INPUT_TOO_LONG');
    const short = { ...bad, ids: new Int32Array(3) };
    expect((await rejection(runGraph(graph, b, short))).message).toMatch(/inputs\.ids has 3 values, a 1 × 4 batch needs 4/);
    // The backend is still usable afterwards.
    expect((await runGraph(graph, b, batch(1, 4))).output.length).toBe(64);
  });

  it('shaderF16 (f16 activations) on an adapter without shader-f16 says so', async (ctx) => {
    gpuOrSkip(ctx);
    const adapter = await getNodeGpuAdapter();
    if (adapter!.features.has('shader-f16')) ctx.skip('this adapter has shader-f16: the shaderF16 parity test covers it');
    const e = await rejection(createWebGpuBackend(weights, { dtype: 'fp16', shaderF16: true, gpu: getNodeGpu() }));
    expect(e.code).toBe('DEVICE_UNAVAILABLE');
    expect(e.message).toMatch(/shader-f16/);
  });

  it('no adapter is DEVICE_UNAVAILABLE', async () => {
    const noGpu = { requestAdapter: async () => null, wgslLanguageFeatures: new Set<string>() } as unknown as GPU;
    const e = await rejection(createWebGpuBackend(weights, { gpu: noGpu }));
    expect(e.code).toBe('DEVICE_UNAVAILABLE');
    expect(e.message).toMatch(/no GPU adapter|found no adapter/);
  });

  it('a lost device is DEVICE_UNAVAILABLE on the next batch; use after dispose is DISPOSED', async (ctx) => {
    gpuOrSkip(ctx);
    const own = await openGpu({ gpu: getNodeGpu() });
    const b = await createWebGpuBackend(weights, { device: own.device });
    await runGraph(graph, b, batch(1, 4));
    own.device.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const e = await rejection(runGraph(graph, b, batch(1, 4)));
    expect(e.code).toBe('DEVICE_UNAVAILABLE');
    expect(e.message).toMatch(/lost/);
    b.dispose();
    expect((await rejection(runGraph(graph, b, batch(1, 4)))).code).toBe('DISPOSED');
  });

  it('timestamps report the GPU time of a batch; profile mode times every kernel', async (ctx) => {
    const c = gpuOrSkip(ctx);
    if (!c.capabilities.timestamps) skipOrFail(ctx, 'the adapter offers no timestamp-query');
    const timed = await createWebGpuBackend(weights, { device: c.device, gpu: getNodeGpu(), profile: true });
    try {
      await runGraph(graph, timed, batch(2, 8));
      const t = timed.lastTimings!;
      // embed, LN, 2 × (QKV, attention, out, LN, up, down, LN), pool, normalize
      expect(t.kernels!.map((k) => k.op)).toEqual(graph.nodes.map((n) => n.op));
      expect(t.gpuMs).toBeGreaterThan(0);
    } finally {
      timed.dispose();
    }
  });
});
