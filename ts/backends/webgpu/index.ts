/**
 * The webgpu backend's entry point: creates a backend bound to one model's weights, on
 * `navigator.gpu` in browsers or Dawn (the optional `webgpu` package) in Node.
 */
import type { GraphWeights } from '../../graph/weights.js';
import type { BackendOptions } from '../types.js';
import { WebGpuBackend, type WebGpuTuning } from './backend.js';
import { openGpu } from './gpu.js';

export { WebGpuBackend } from './backend.js';
export type { WebGpuTimings, WebGpuTuning } from './backend.js';
export type { WebGpuStats } from '../types.js';
export { probeAdapter } from './gpu.js';
export type { AdapterProbe, GpuCapabilities, GpuContext } from './gpu.js';

/** Options of the webgpu backend beyond {@link BackendOptions}. */
export interface WebGpuBackendOptions extends BackendOptions {
  /** Run on this device instead of opening one (it is not destroyed on dispose). */
  device?: GPUDevice;
  /** Ask this `GPU` object for the adapter (default: navigator.gpu, or Dawn in Node). */
  gpu?: GPU;
  /** Node only: Dawn toggles, e.g. `['disable-dawn-features=timestamp_quantization']`. */
  dawnFlags?: readonly string[];
  /** Measure the GPU time of each batch with timestamp queries (see `lastTimings`). */
  timestamps?: boolean;
  /** Time every kernel separately (one compute pass each; for profiling, not for speed). */
  profile?: boolean;
  /** Kernel tuning knobs. */
  tuning?: WebGpuTuning;
  /**
   * Store activations as f16 too and compute on f16 storage (the `shader-f16` feature; the
   * adapter must offer it). Off by default: no adapter the tests run on offers shader-f16, so
   * this path is not exercised there. Without it, `dtype: 'fp16'` keeps only the weights in f16.
   */
  shaderF16?: boolean;
}

/**
 * Creates the webgpu backend: opens a device, uploads the weights once. `dtype: 'fp16'` keeps
 * the linear weights and embedding tables as f16 (two per u32) on any adapter, with f32
 * activations and math: half the weight memory. q8 linear weights (int8/uint8 from a
 * quantize_dynamic file) stay int8, four per u32, and run as onnxruntime runs them
 * (kernels-q8.ts; dot4I8Packed where the WGSL feature exists); not with `shaderF16`.
 * Throws `DEVICE_UNAVAILABLE` (with the reason) when there is no adapter, when Node lacks the
 * `webgpu` package, or when `shaderF16` is asked of an adapter without shader-f16.
 * @example
 * const backend = await createWebGpuBackend(bindWeights(graph.weights, checkpoint), { dtype: 'fp32' });
 * const { output } = await runGraph(graph, backend, batch);
 * backend.dispose();
 */
export async function createWebGpuBackend(weights: GraphWeights, options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  const context = await openGpu({
    ...(options.device ? { device: options.device } : {}),
    ...(options.gpu ? { gpu: options.gpu } : {}),
    ...(options.dawnFlags ? { dawnFlags: options.dawnFlags } : {}),
    f16: options.shaderF16 === true,
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
  });
  try {
    return new WebGpuBackend(context, weights, {
      ...(options.tuning ? { tuning: options.tuning } : {}),
      timestamps: options.timestamps === true,
      profile: options.profile === true,
      halfWeights: options.dtype === 'fp16',
    });
  } catch (e) {
    if (context.owned) context.device.destroy();
    throw e;
  }
}
