/** The wasm device's provider (see ../registry.ts): the CPU path, wherever WebAssembly exists. */
import type { BackendProvider } from '../types.js';

export const wasmProvider: BackendProvider = {
  device: 'wasm',
  slowerNext: 'SLOW_PATH',
  async create(weights, options) {
    const { createWasmBackend } = await import('./index.js');
    const wasmPaths = options.wasm?.wasmPaths;
    return createWasmBackend(weights, options, wasmPaths === undefined ? {} : { wasmPaths });
  },
};
