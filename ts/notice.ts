/**
 * One-line notices on stderr (console.warn), each at most once per process: for things a user
 * should know but that are not errors, such as running on wasm because the optional `webgpu`
 * package is missing. `logLevel: 'silent'` turns them off.
 */
import type { LogLevel } from './backends/types.js';

const shown = new Set<string>();

/**
 * Prints `dualbert: <message>` once per process (per key), unless `logLevel` is 'silent'.
 * @example notifyOnce('webgpu-missing', 'WebGPU needs the package "webgpu"', options.logLevel);
 */
export function notifyOnce(key: string, message: string, logLevel: LogLevel | undefined): void {
  if (logLevel === 'silent' || shown.has(key)) return;
  shown.add(key);
  console.warn(`dualbert: ${message}`);
}
