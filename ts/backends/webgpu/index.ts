/**
 * The webgpu backend's entry point: creates a backend bound to one model's weights.
 * (Placeholder until the webgpu path lands: it reports that the device is not available.)
 */
import { DualbertError } from '../../errors.js';
import type { GraphWeights } from '../../graph/weights.js';
import type { BackendOptions, DeviceBackend } from '../backend.js';

export async function createWebGpuBackend(_weights: GraphWeights, _options: BackendOptions): Promise<DeviceBackend> {
  throw new DualbertError('DEVICE_UNAVAILABLE', 'device "webgpu" is not available yet in this version of dualbert; use "reference" (or "auto")');
}
