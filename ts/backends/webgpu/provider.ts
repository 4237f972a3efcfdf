/**
 * The webgpu device's provider (see ../registry.ts). 'auto' takes it on a hardware adapter only:
 * on a software one (SwiftShader, `isFallbackAdapter`) the wasm path is far faster, unless
 * `allowFallbackAdapter` says otherwise. A GPU may be lost mid-session, so 'auto' wraps it.
 */
import type { BackendProvider } from '../types.js';
import { probeAdapter } from './gpu.js';

export const webgpuProvider: BackendProvider = {
  device: 'webgpu',
  mayFailLater: true,
  slowerNext: 'GPU_FALLBACK',
  async autoProbe(options) {
    if (options.webgpu?.device) return undefined;
    const probe = await probeAdapter(options.webgpu?.gpu);
    if (!probe.available) return probe.reason;
    if (probe.fallback && options.allowFallbackAdapter !== true) return `the adapter (${probe.adapter.architecture || probe.adapter.vendor}) is a software fallback`;
    return undefined;
  },
  async create(weights, options) {
    const { createWebGpuBackend } = await import('./index.js');
    return createWebGpuBackend(weights, { ...options, ...options.webgpu });
  },
};
