// Loading the AssemblyScript builds (build/dualbert-<flavor>.wasm) in Node for tests.
// All import their memory as env.memory (see assembly/index.ts); the host creates it, shared
// for the threaded builds.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { KernelExports, WasmBuild } from '../../ts/backends/wasm/abi.js';
import { relaxedSimdSupported } from '../../ts/backends/wasm/loader.js';

export type WasmFlavor = WasmBuild;
/** Every build. */
export const FLAVORS: readonly WasmFlavor[] = ['simd', 'scalar', 'relaxed', 'simd-threads', 'scalar-threads', 'relaxed-threads'];
/** The builds this engine runs: the relaxed-SIMD ones need Node ≥ 22 or --experimental-wasm-relaxed-simd. */
export const RUNNABLE_FLAVORS: readonly WasmFlavor[] = FLAVORS.filter((f) => !f.startsWith('relaxed') || relaxedSimdSupported());

/** The product exports, plus the test hooks of the test-only builds (assembly/testing.ts). */
export type DualbertWasmExports = KernelExports & {
  /** x[i] = exp / erf / gelu (f = 0 / 1 / 2) of x[i], in place. */
  mathInPlace(x: number, n: number, f: number): void;
  /** Σ a[i]·b[i] in the association order every build shares. */
  dot(a: number, b: number, n: number): number;
};

export interface DualbertWasm {
  exports: DualbertWasmExports;
  /** The module's exported globals (the ABI numbers of assembly/layout.ts). */
  globals: Record<string, number>;
  memory: WebAssembly.Memory;
}

/** The product build, or with `testing` the same build with the test hooks. */
export function wasmPath(flavor: WasmFlavor, testing = false): string {
  return fileURLToPath(new URL(testing ? `../../build/testing/dualbert-testing-${flavor}.wasm` : `../../build/dualbert-${flavor}.wasm`, import.meta.url));
}

export function readWasmBytes(flavor: WasmFlavor, testing = false): Uint8Array<ArrayBuffer> {
  const path = wasmPath(flavor, testing);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run \`npm run build:wasm\` (npm test does it for you)`);
  }
  return new Uint8Array(readFileSync(path));
}

/** Instantiate one build over a fresh host-created memory of `pages` 64 KiB pages. */
export async function instantiateDualbertWasm(flavor: WasmFlavor, pages = 4, testing = false): Promise<DualbertWasm> {
  const shared = flavor.endsWith('-threads');
  const memory = new WebAssembly.Memory(shared ? { initial: pages, maximum: 65536, shared } : { initial: pages });
  const { instance } = await WebAssembly.instantiate(readWasmBytes(flavor, testing), { env: { memory } });
  const globals: Record<string, number> = {};
  for (const [k, v] of Object.entries(instance.exports)) if (v instanceof WebAssembly.Global) globals[k] = v.value as number;
  return { exports: instance.exports as unknown as DualbertWasmExports, globals, memory };
}
