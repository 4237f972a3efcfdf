// WebGPU in Node through Dawn (`webgpu` npm package, dawn.node). On CPU-only machines the
// adapter is Google's SwiftShader Vulkan driver shipped with Debian's chromium package; the
// environment for that (VK_ICD_FILENAMES, LD_LIBRARY_PATH) is set before the test process
// starts, see gpu-env.mjs (used by vitest.config.ts and scripts/test.mjs).

import { create, globals } from 'webgpu';
import { type GpuContext, openGpu } from '../../ts/backends/webgpu/gpu.js';

let globalsInstalled = false;
let gpu: GPU | null = null;

/** Assign Dawn's WebGPU globals (GPUBufferUsage, GPUMapMode, ...) to globalThis once. */
export function installWebGpuGlobals(): void {
  if (globalsInstalled) return;
  for (const [name, value] of Object.entries(globals as Record<string, unknown>)) {
    if (!(name in globalThis)) {
      Object.defineProperty(globalThis, name, { value, writable: true, configurable: true });
    }
  }
  globalsInstalled = true;
}

/** The Dawn `GPU` object of this process (created on first use). */
export function getNodeGpu(): GPU {
  installWebGpuGlobals();
  gpu ??= create([]);
  return gpu;
}

/**
 * Request an adapter from Dawn; null when there is none (no Vulkan loader or driver found,
 * e.g. when run outside `npm test` on a machine without libvulkan1).
 */
export async function getNodeGpuAdapter(options?: GPURequestAdapterOptions): Promise<GPUAdapter | null> {
  try {
    return await getNodeGpu().requestAdapter(options);
  } catch (err) {
    console.warn(`[webgpu] requestAdapter threw: ${String(err)}`);
    return null;
  }
}

/**
 * Drop this process's reference to the Dawn GPU object. dawn.node keeps its instance alive
 * (and may keep the process alive) for as long as the object returned by create() is
 * referenced; call this in afterAll after destroying devices.
 */
export function releaseNodeGpu(): void {
  gpu = null;
}

/** Hint printed when no adapter is found. */
export function noAdapterHint(): string {
  return (
    'Dawn (webgpu npm package) found no WebGPU adapter. On Linux without a GPU it needs ' +
    "SwiftShader from Debian's chromium package: run through `npm test`, which sets " +
    'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json and, when no system ' +
    'libvulkan.so.1 exists, LD_LIBRARY_PATH=/usr/lib/chromium ' +
    `(now: VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? '<unset>'}, ` +
    `LD_LIBRARY_PATH=${process.env.LD_LIBRARY_PATH ?? '<unset>'})`
  );
}

let testGpu: Promise<GpuContext | undefined> | undefined;

/**
 * One WebGPU device for all the backends of a test file (each backend opening its own would cost
 * SwiftShader a device and a pipeline cache per test); undefined when Dawn finds no adapter.
 * Close it with {@link closeTestGpu} in afterAll.
 */
export function openTestGpu(): Promise<GpuContext | undefined> {
  testGpu ??= getNodeGpuAdapter().then((adapter) => (adapter ? openGpu({ gpu: getNodeGpu() }) : undefined));
  return testGpu;
}

/** Destroys the device of {@link openTestGpu} (if one was opened) and drops the Dawn GPU object. */
export async function closeTestGpu(): Promise<void> {
  const context = await testGpu?.catch(() => undefined);
  testGpu = undefined;
  context?.device.destroy();
  releaseNodeGpu();
}
