/**
 * device 'auto': which path it takes here, and the GPU → CPU fallback when the GPU device is lost
 * mid-session (simulated with device.destroy()). Dawn on SwiftShader in Node.
 */
import { describe, expect, it } from 'vitest';
import { createEmbedder, type BackendWarning } from '../ts/index.js';
import { skipOrFail } from './helpers/ci.js';
import { loadGolden, maxAbsDiff } from './helpers/golden.js';
import { getNodeGpu, getNodeGpuAdapter, noAdapterHint } from './helpers/webgpu.js';

const golden = loadGolden('tiny');
const texts = ['', '\t\n\r', 'HELLO WORLD']; // golden texts 0..2
const C = 64;
const expectGolden = (data: Float32Array, offset = 0): void =>
  texts.forEach((_, i) => expect(maxAbsDiff(data.subarray(i * C, (i + 1) * C), golden.texts[offset + i]!.mean), `text ${i}`).toBeLessThanOrEqual(1e-5));


describe("device 'auto'", () => {
  it('takes the wasm path when the only GPU is a software fallback adapter (SwiftShader)', async (ctx) => {
    const adapter = await getNodeGpuAdapter({ powerPreference: 'high-performance' });
    if (!adapter) skipOrFail(ctx, noAdapterHint());
    expect((adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter).toBe(true);
    const embedder = await createEmbedder('synthetic:tiny', { device: 'auto', webgpu: { gpu: getNodeGpu() } });
    expect(embedder.device).toBe('wasm');
    expectGolden((await embedder.embed(texts)).data);
    embedder.dispose();
  });

  it('takes WebGPU on that adapter when allowFallbackAdapter is set', async (ctx) => {
    if (!(await getNodeGpuAdapter())) skipOrFail(ctx, noAdapterHint());
    const embedder = await createEmbedder('synthetic:tiny', { device: 'auto', allowFallbackAdapter: true, webgpu: { gpu: getNodeGpu() } });
    expect(embedder.device).toBe('webgpu');
    expectGolden((await embedder.embed(texts)).data);
    embedder.dispose();
  });

  it('finishes the call on the CPU when the GPU device is lost, with a warning event', async (ctx) => {
    const adapter = await getNodeGpuAdapter();
    if (!adapter) skipOrFail(ctx, noAdapterHint());
    const limits: Record<string, number> = {};
    for (const k of ['maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxStorageBufferBindingSize', 'maxBufferSize'] as const) limits[k] = adapter.limits[k];
    const device = await adapter.requestDevice({ requiredLimits: limits });
    const warnings: BackendWarning[] = [];
    const embedder = await createEmbedder('synthetic:tiny', { device: 'auto', webgpu: { device }, onWarning: (w) => warnings.push(w) });
    const events: BackendWarning[] = [];
    embedder.addEventListener('warning', (e) => events.push((e as CustomEvent<BackendWarning>).detail));
    expect(embedder.device).toBe('webgpu');
    expectGolden((await embedder.embed(texts)).data);

    device.destroy(); // the GPU goes away mid-session
    const after = await embedder.embed(texts);
    expectGolden(after.data);
    expect(embedder.device).not.toBe('webgpu');
    expect(warnings.map((w) => w.code)).toEqual(['GPU_FALLBACK']);
    expect(events.map((w) => w.code)).toEqual(['GPU_FALLBACK']);
    expect(warnings[0]!.message).toMatch(/continuing on device "(wasm|reference)"/);
    // and it stays on the CPU, still correct
    expectGolden((await embedder.embed(texts)).data);
    embedder.dispose();
  });

  it("an explicit device 'webgpu' does not fall back: the error is the caller's to see", async (ctx) => {
    const adapter = await getNodeGpuAdapter();
    if (!adapter) skipOrFail(ctx, noAdapterHint());
    const device = await adapter.requestDevice();
    const embedder = await createEmbedder('synthetic:tiny', { device: 'webgpu', webgpu: { device } });
    device.destroy();
    await expect(embedder.embed(texts)).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE' });
    embedder.dispose();
  });
});
