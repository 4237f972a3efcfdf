// Loading the AssemblyScript builds (build/dualbert-{simd,scalar}.wasm) in Node for tests.
// Both import their memory as env.memory (see assembly/index.ts); the host creates it.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type WasmFlavor = 'simd' | 'scalar';

export interface DualbertWasmExports {
  simdEnabled(): number;
  heapBase(): number;
  dot(a: number, b: number, n: number): number;
}

export interface DualbertWasm {
  exports: DualbertWasmExports;
  memory: WebAssembly.Memory;
}

export function wasmPath(flavor: WasmFlavor): string {
  return fileURLToPath(new URL(`../../build/dualbert-${flavor}.wasm`, import.meta.url));
}

export function readWasmBytes(flavor: WasmFlavor): Uint8Array<ArrayBuffer> {
  const path = wasmPath(flavor);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run \`npm run build:wasm\` (npm test does it for you)`);
  }
  return new Uint8Array(readFileSync(path));
}

/** Instantiate one build over a fresh host-created memory of `pages` 64 KiB pages. */
export async function instantiateDualbertWasm(
  flavor: WasmFlavor,
  pages = 4,
): Promise<DualbertWasm> {
  const memory = new WebAssembly.Memory({ initial: pages });
  const { instance } = await WebAssembly.instantiate(readWasmBytes(flavor), { env: { memory } });
  return { exports: instance.exports as unknown as DualbertWasmExports, memory };
}
