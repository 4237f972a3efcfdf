/**
 * The webgpu device's provider (see ../registry.ts). 'auto' takes it on a hardware adapter only:
 * on a software one (SwiftShader, `isFallbackAdapter`) the wasm path is far faster, unless
 * `allowFallbackAdapter` says otherwise. A GPU may be lost mid-session, so 'auto' wraps it. In
 * Node the adapter is asked for in a child process first (dawn-package.ts), so a machine without
 * a GPU never hears from Dawn.
 */
import { notifyOnce } from '../../notice.js';
import type { BackendProvider } from '../types.js';
import { INSTALL_WEBGPU_HINT } from './dawn-package.js';
import { probeAdapter } from './gpu.js';

export const webgpuProvider: BackendProvider = {
  device: 'webgpu',
  mayFailLater: true,
  slowerNext: 'GPU_FALLBACK',
  async autoProbe(options) {
    if (options.webgpu?.device) return undefined;
    const probe = await probeAdapter(options.webgpu?.gpu, { logLevel: options.logLevel });
    if (!probe.available) {
      // Installed by default (an optional dependency): say once how to get it back, then run on wasm.
      if (probe.reason.includes(INSTALL_WEBGPU_HINT)) notifyOnce('webgpu-missing', `${INSTALL_WEBGPU_HINT} (running on the CPU meanwhile)`, options.logLevel);
      return probe.reason;
    }
    if (probe.fallback && options.allowFallbackAdapter !== true) return `the adapter (${probe.adapter.architecture || probe.adapter.vendor}) is a software fallback`;
    return undefined;
  },
  async create(weights, options) {
    const { createWebGpuBackend } = await import('./index.js');
    return createWebGpuBackend(weights, { ...options, ...options.webgpu });
  },
};
