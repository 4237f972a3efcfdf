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
  /** wasm: which build to use; `simd: false` forces the scalar build (for old engines, and tests). */
  wasm?: { simd?: boolean };
  /** webgpu: storage/compute precision (default 'fp32'; 'fp16' where the adapter has shader-f16). */
  dtype?: 'fp32' | 'fp16';
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
      return createWebGpuBackend(weights, options);
    }
    case 'wasm': {
      const { createWasmBackend } = await import('./wasm/index.js');
      return createWasmBackend(weights, options);
    }
    case 'auto':
    case 'reference': {
      const { ReferenceBackend } = await import('./reference/reference-backend.js');
      return new ReferenceBackend(weights) as DeviceBackend;
    }
  }
}
