/**
 * What the embedder holds: one backend bound to one model's weights. Backends implement the ops
 * of `ts/graph` (see {@link OpBackend}) and nothing else; `runGraph` drives them.
 */
import { DualbertError } from '../errors.js';
import type { OpBackend } from '../graph/execute.js';
import type { GraphWeights } from '../graph/weights.js';

/** The execution paths. */
export type Device = 'webgpu' | 'wasm' | 'reference';
/** What a user may ask for: a path, or 'auto' to let dualbert choose. */
export type DeviceOption = Device | 'auto';

export const DEVICE_OPTIONS: readonly DeviceOption[] = ['auto', 'webgpu', 'wasm', 'reference'];

export interface DeviceBackend<T = unknown> extends OpBackend<T> {
  readonly device: Device;
  /** Frees what the backend holds (GPU buffers, wasm memory, workers). */
  dispose(): void;
}

/** Creates the backend for a device option, with the model's weights uploaded once. */
export async function createBackend(device: DeviceOption, weights: GraphWeights): Promise<DeviceBackend> {
  if (!DEVICE_OPTIONS.includes(device)) {
    throw new DualbertError('INVALID_ARGUMENT', `unknown device "${String(device)}": choose one of ${DEVICE_OPTIONS.join(', ')}`);
  }
  switch (device) {
    case 'webgpu':
    case 'wasm':
      throw new DualbertError('DEVICE_UNAVAILABLE', `device "${device}" is not available yet in this version of dualbert; use "reference" (or "auto")`);
    case 'auto':
    case 'reference': {
      const { ReferenceBackend } = await import('./reference/reference-backend.js');
      return new ReferenceBackend(weights) as DeviceBackend;
    }
  }
}
