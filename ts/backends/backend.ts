/**
 * What the embedder holds: one backend bound to one model's weights. Backends implement the ops
 * of `ts/graph` (see {@link OpBackend}) and nothing else; `runGraph` drives them.
 */
import { DualbertError } from '../errors.js';
import type { OpBackend } from '../graph/execute.js';
import type { GraphWeights } from '../graph/weights.js';

/**
 * The execution paths.
 * @example const device: Device = embedder.device; // 'webgpu' | 'wasm' | 'reference'
 */
export type Device = 'webgpu' | 'wasm' | 'reference';
/**
 * What a user may ask for: a path, or 'auto' to let dualbert choose.
 * @example await createEmbedder('synthetic:minilm', { device: 'auto' });
 */
export type DeviceOption = Device | 'auto';

export const DEVICE_OPTIONS: readonly DeviceOption[] = ['auto', 'webgpu', 'wasm', 'reference'];

/** Options for creating a backend; each backend reads its own. */
export interface BackendOptions {
  /** wasm: worker threads for GEMMs and attention (default: available cores). */
  threads?: number;
  /**
   * wasm: `simd: false` forces the scalar build (for old engines, and tests); `wasmPaths` says
   * where the `dualbert-<build>.wasm` files are when a bundler or CDN moved them (a base URL, or
   * a function of the build name returning a URL, `data:` URLs included).
   */
  wasm?: { simd?: boolean; wasmPaths?: string | URL | ((build: string) => string | URL) };
  /** webgpu: storage/compute precision (default 'fp32'; 'fp16' where the adapter has shader-f16). */
  dtype?: 'fp32' | 'fp16';
  /** webgpu: run on this device / ask this `GPU` for the adapter (default: navigator.gpu or Dawn). */
  webgpu?: { device?: GPUDevice; gpu?: GPU };
  /**
   * auto: also take WebGPU on a fallback (software) adapter such as SwiftShader. Off by default:
   * there the wasm path is far faster (tiny B1 T16: 320 ms on SwiftShader vs a few ms on wasm).
   */
  allowFallbackAdapter?: boolean;
}

/** A non-fatal event, e.g. the GPU was lost and the call finished on the CPU. */
export interface BackendWarning {
  code: 'GPU_FALLBACK' | 'SLOW_PATH';
  message: string;
}

export interface DeviceBackend<T = unknown> extends OpBackend<T> {
  readonly device: Device;
  /** Threads the backend computes with (1 for single-threaded paths). */
  readonly threads?: number;
  /** Frees what the backend holds (GPU buffers, wasm memory, workers). */
  dispose(): void;
}

/** Creates the backend for a device option, with the model's weights uploaded once. */
export async function createBackend(device: DeviceOption, weights: GraphWeights, options: BackendOptions = {}): Promise<DeviceBackend> {
  if (!DEVICE_OPTIONS.includes(device)) {
    throw new DualbertError('INVALID_ARGUMENT', `unknown device "${String(device)}": choose one of ${DEVICE_OPTIONS.join(', ')}`);
  }
  switch (device) {
    case 'webgpu': {
      const { createWebGpuBackend } = await import('./webgpu/index.js');
      return createWebGpuBackend(weights, { ...options, ...options.webgpu });
    }
    case 'wasm': {
      const { createWasmBackend } = await import('./wasm/index.js');
      const wasmPaths = options.wasm?.wasmPaths;
      return createWasmBackend(weights, options, wasmPaths === undefined ? {} : { wasmPaths });
    }
    case 'reference': {
      const { ReferenceBackend } = await import('./reference/reference-backend.js');
      return new ReferenceBackend(weights) as DeviceBackend;
    }
    case 'auto':
      return createAutoBackend(weights, options);
  }
}

/**
 * device 'auto': WebGPU on a hardware adapter (on an H200 a B1 T16 call takes 2.2 ms end to end,
 * below the wasm path at any batch size), else the wasm path (its loader picks SIMD, else the
 * scalar build), else the float64 reference (correct but slow: a warning says so).
 */
export async function createAutoBackend(
  weights: GraphWeights,
  options: BackendOptions = {},
  onWarning?: (w: BackendWarning) => void,
): Promise<DeviceBackend> {
  if (options.webgpu?.device || (await hardwareGpuAvailable(options))) {
    try {
      return await createBackend('webgpu', weights, options);
    } catch (e) {
      if (!(e instanceof DualbertError && e.code === 'DEVICE_UNAVAILABLE')) throw e;
      onWarning?.({ code: 'GPU_FALLBACK', message: `webgpu could not start (${e.message}); using the CPU` });
    }
  }
  try {
    return await createBackend('wasm', weights, options);
  } catch (e) {
    if (!(e instanceof DualbertError && e.code === 'DEVICE_UNAVAILABLE')) throw e;
    onWarning?.({ code: 'SLOW_PATH', message: `WebAssembly is unavailable (${e.message}); using the slow float64 reference backend` });
    return createBackend('reference', weights, options);
  }
}

async function hardwareGpuAvailable(options: BackendOptions): Promise<boolean> {
  try {
    const { getGpu } = await import('./webgpu/gpu.js');
    const gpu = options.webgpu?.gpu ?? (await getGpu());
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return false;
    const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    const fallback = info?.isFallbackAdapter === true || (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
    return !fallback || options.allowFallbackAdapter === true;
  } catch {
    return false;
  }
}
