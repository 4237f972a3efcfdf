/**
 * The devices dualbert knows, and how one is chosen. Each device contributes a provider (a small
 * module next to its backend that loads the backend lazily, so a bundle pays only for the devices
 * it runs); `device: 'auto'` tries them in order. A GPU chosen by 'auto' is wrapped so that a
 * failure mid-session moves the work to the next device (see fallback.ts).
 */
import { DualbertError } from '../errors.js';
import { type GraphNode, describeNode } from '../graph/ops.js';
import type { GraphWeights } from '../graph/weights.js';
import { FallbackBackend } from './fallback.js';
import { referenceProvider } from './reference/provider.js';
import type { Backend, BackendOptions, BackendProvider, BackendWarning, Device, DeviceOption } from './types.js';
import { wasmProvider } from './wasm/provider.js';
import { webgpuProvider } from './webgpu/provider.js';

/** In the order 'auto' tries them: fastest first. */
const providers: BackendProvider[] = [webgpuProvider, wasmProvider, referenceProvider];

/**
 * Adds a device (or replaces the provider of one). `auto` tries providers in registration order
 * after the built-in GPU and before the CPU paths when `before` names one.
 * @example registerBackend(myProvider, { before: 'wasm' });
 */
export function registerBackend(provider: BackendProvider, placement: { before?: Device } = {}): void {
  const at = providers.findIndex((p) => p.device === provider.device);
  if (at >= 0) providers.splice(at, 1);
  const before = placement.before ? providers.findIndex((p) => p.device === placement.before) : -1;
  providers.splice(before >= 0 ? before : providers.length, 0, provider);
}

/** The device options: 'auto' and every registered device. */
export function deviceOptions(): DeviceOption[] {
  return ['auto', ...providers.map((p) => p.device)];
}

/**
 * Creates the backend for a device option, with the model's weights uploaded once. 'auto' takes
 * the first device whose probe accepts this machine, that starts, and that implements every
 * node of `nodes` when given (e.g. int8 linear layers); a device that fails later (a lost GPU)
 * hands the work to the next one, with a warning.
 */
export async function createBackend(
  device: DeviceOption,
  weights: GraphWeights,
  options: BackendOptions = {},
  onWarning: (w: BackendWarning) => void = () => undefined,
  nodes: readonly GraphNode[] = [],
): Promise<Backend> {
  if (device !== 'auto') {
    const provider = providers.find((p) => p.device === device);
    if (!provider) throw new DualbertError('INVALID_ARGUMENT', `unknown device "${String(device)}": choose one of ${deviceOptions().join(', ')}`);
    return provider.create(weights, options);
  }
  return createFrom(0, weights, options, onWarning, nodes);
}

async function createFrom(start: number, weights: GraphWeights, options: BackendOptions, onWarning: (w: BackendWarning) => void, nodes: readonly GraphNode[]): Promise<Backend> {
  for (let i = start; i < providers.length; i++) {
    const provider = providers[i]!;
    const last = i === providers.length - 1;
    if (provider.autoProbe && !last && (await provider.autoProbe(options)) !== undefined) continue;
    let backend: Backend;
    try {
      backend = await provider.create(weights, options);
    } catch (e) {
      if (last || !(e instanceof DualbertError && e.code === 'DEVICE_UNAVAILABLE')) throw e;
      const next = providers[i + 1]!;
      onWarning({ code: provider.slowerNext ?? 'SLOW_PATH', message: `${provider.device} could not start (${e.message}); using ${next.device}` });
      continue;
    }
    const missing = last ? undefined : nodes.find((n) => !backend.supports(n));
    if (missing) {
      backend.dispose();
      onWarning({ code: 'SLOW_PATH', message: `${provider.device} does not implement ${describeNode(missing)}; using ${providers[i + 1]!.device}` });
      continue;
    }
    if (!provider.mayFailLater || last) return backend;
    return new FallbackBackend(backend, () => createFrom(i + 1, weights, withoutGpu(options), onWarning, nodes), onWarning);
  }
  throw new DualbertError('DEVICE_UNAVAILABLE', 'no device could run the model');
}

/** The options a CPU device gets after the GPU failed: the GPU's own handles left out. */
function withoutGpu(options: BackendOptions): BackendOptions {
  const { webgpu: _gpu, ...rest } = options;
  return rest;
}
