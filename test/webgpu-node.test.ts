// WebGPU in Node through Dawn: adapter, device, WGSL compile, dispatch, read-back.
// On CPU-only machines the adapter is SwiftShader (see test/helpers/gpu-env.mjs).

import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { skipOrFail } from './helpers/ci.js';
import { getNodeGpuAdapter, noAdapterHint, releaseNodeGpu } from './helpers/webgpu.js';

const SHADER_URL = new URL('./fixtures/smoke.wgsl', import.meta.url);
const usesSwiftShader = /swiftshader/i.test(
  `${process.env.VK_ICD_FILENAMES ?? ''}${process.env.VK_DRIVER_FILES ?? ''}`,
);

describe('WebGPU in Node (Dawn)', () => {
  let device: GPUDevice | null = null;

  afterAll(() => {
    device?.destroy();
    device = null;
    releaseNodeGpu();
  });

  it('runs test/fixtures/smoke.wgsl (saxpy) and reads back the exact result', async (ctx) => {
    const adapter = await getNodeGpuAdapter();
    if (!adapter) skipOrFail(ctx, noAdapterHint());

    if (usesSwiftShader) {
      expect(adapter.info.architecture).toBe('swiftshader');
      expect(adapter.info.vendor).toBe('google');
    }

    device = await adapter.requestDevice();
    const errors: string[] = [];
    device.addEventListener('uncapturederror', (ev) => {
      errors.push((ev as GPUUncapturedErrorEvent).error.message);
    });

    const module = device.createShaderModule({ code: readFileSync(SHADER_URL, 'utf8') });
    const info = await module.getCompilationInfo();
    const compileErrors = info.messages.filter((m) => m.type === 'error');
    expect(compileErrors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`)).toEqual([]);

    // n not a multiple of the workgroup size (64), so the bounds check in the shader matters;
    // the read-back buffer is larger than n to catch out-of-bounds writes.
    const n = 1000;
    const a = 2.5;
    const x = new Float32Array(n);
    const y = new Float32Array(n + 24);
    for (let i = 0; i < n; i++) {
      x[i] = (i % 17) - 8.25;
      y[i] = i * 0.5 - 100;
    }
    y.fill(-7, n);
    // Each element is one f32 multiply then one f32 add (WGSL has no implicit FMA contraction
    // guarantee, but every product here is exact in f32, so mul+add and fma agree bitwise).
    const expected = new Float32Array(y.length);
    for (let i = 0; i < y.length; i++) {
      expected[i] = i < n ? Math.fround(Math.fround(a * x[i]!) + y[i]!) : y[i]!;
    }

    const params = new ArrayBuffer(16);
    new Float32Array(params, 0, 1)[0] = a;
    new Uint32Array(params, 4, 1)[0] = n;

    const paramsBuf = device.createBuffer({
      size: params.byteLength,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    const xBuf = device.createBuffer({
      size: x.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    const yBuf = device.createBuffer({
      size: y.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    });
    const readBuf = device.createBuffer({
      size: y.byteLength,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(paramsBuf, 0, params);
    device.queue.writeBuffer(xBuf, 0, x);
    device.queue.writeBuffer(yBuf, 0, y);

    const pipeline = await device.createComputePipelineAsync({
      layout: 'auto',
      compute: { module, entryPoint: 'main' },
    });
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: paramsBuf } },
        { binding: 1, resource: { buffer: xBuf } },
        { binding: 2, resource: { buffer: yBuf } },
      ],
    });

    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(n / 64));
    pass.end();
    encoder.copyBufferToBuffer(yBuf, 0, readBuf, 0, y.byteLength);
    device.queue.submit([encoder.finish()]);

    await readBuf.mapAsync(GPUMapMode.READ);
    const got = new Float32Array(readBuf.getMappedRange().slice(0));
    readBuf.unmap();

    expect(errors).toEqual([]);
    expect(Array.from(got)).toEqual(Array.from(expected));
  });
});
