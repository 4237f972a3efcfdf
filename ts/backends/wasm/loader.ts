/**
 * Finding, choosing and compiling the WebAssembly builds. Browser-safe: Node modules are only
 * imported dynamically, when the build lives on the local file system.
 */
import { isNode } from '../../env.js';
import { RELAXED_DOT_PROBE, RELAXED_SIMD_PROBE, SIMD_PROBE } from '../../detect.js';
import { DualbertError } from '../../errors.js';
import type { WasmBuild } from './abi.js';

/**
 * Which builds may be used and where their `.wasm` files are loaded from. The default location
 * is the package's `build/` directory, resolved from this module's URL (the same relative path
 * from `ts/backends/wasm/` under vitest and from `dist/backends/wasm/` after `tsc`).
 */
export interface WasmLoaderOptions {
  /**
   * Use the relaxed-SIMD build where the engine validates it (default true): its GEMM uses
   * fused multiply-adds, which round once where the SIMD build rounds twice, so results differ
   * from the other builds in the last bits.
   */
  relaxedSimd?: boolean;
  /**
   * A base URL (a directory ending in `/`) holding `dualbert-<build>.wasm`, or a function that
   * returns the URL of one build. For bundlers and CDNs that move the files.
   */
  wasmPaths?: string | URL | ((build: WasmBuild) => string | URL);
  /**
   * Start `threads` workers even when the machine has fewer cores (default false: capped at the
   * cores). Only for stress tests, which want workers descheduled in the middle of jobs.
   */
  oversubscribe?: boolean;
}


/** The URL of one build's file. */
export function wasmUrl(build: WasmBuild, options: WasmLoaderOptions = {}): URL {
  const file = `dualbert-${build}.wasm`;
  const { wasmPaths } = options;
  if (typeof wasmPaths === 'function') return new URL(String(wasmPaths(build)), baseUrl());
  if (wasmPaths !== undefined) return new URL(file, new URL(String(wasmPaths), baseUrl()));
  return new URL(`../../../build/${file}`, import.meta.url);
}

/** Relative `wasmPaths` resolve against the page in browsers and the working directory in Node. */
function baseUrl(): string {
  const location = (globalThis as { location?: { href?: string } }).location;
  if (location?.href) return location.href;
  if (isNode) return `file://${process.cwd().replace(/\\/g, '/')}/`;
  return import.meta.url;
}

/** SIMD128 validates in this engine. */
export function simdSupported(): boolean {
  try {
    return WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/** Relaxed SIMD validates in this engine (Chrome ≥ 114, Firefox ≥ 146, Node ≥ 22). */
export function relaxedSimdSupported(): boolean {
  try {
    return WebAssembly.validate(RELAXED_SIMD_PROBE);
  } catch {
    return false;
  }
}

let relaxedDot: boolean | undefined;

/**
 * Whether this engine computes i32x4.relaxed_dot_i8x16_i7x16_add_s correctly from its first call
 * (see RELAXED_DOT_PROBE): the relaxed builds use it for 7-bit q8 weights only then. Node 20's V8
 * does not (its baseline compiler returns a wrong sum until the function is optimized).
 */
export function relaxedDotExact(): boolean {
  if (relaxedDot === undefined) {
    try {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(RELAXED_DOT_PROBE));
      relaxedDot = (instance.exports['f'] as () => number)() === -53;
    } catch {
      relaxedDot = false;
    }
  }
  return relaxedDot;
}

/**
 * Threads can be used here: shared wasm memory exists and, in browsers, the page is
 * cross-origin isolated and has Web Workers. Node needs nothing.
 */
export function threadsSupported(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return false;
  if (!isNode) {
    const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
    if (g.crossOriginIsolated !== true || typeof g.Worker !== 'function') return false;
  }
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** The build for a feature choice. */
export function buildName(isa: 'simd' | 'scalar' | 'relaxed', threads: boolean): WasmBuild {
  return `${isa}${threads ? '-threads' : ''}` as WasmBuild;
}

const compiled = new Map<string, Promise<WebAssembly.Module>>();

/** Compiles one build (once per URL per process; later calls share the module). */
export function loadWasmModule(build: WasmBuild, options: WasmLoaderOptions = {}): Promise<WebAssembly.Module> {
  const url = wasmUrl(build, options);
  let module = compiled.get(url.href);
  if (!module) {
    module = compile(url, build);
    compiled.set(url.href, module);
    module.catch(() => compiled.delete(url.href)); // a failed load may be retried
  }
  return module;
}

async function compile(url: URL, build: WasmBuild): Promise<WebAssembly.Module> {
  let bytes: ArrayBuffer | Uint8Array<ArrayBuffer>;
  try {
    if (url.protocol === 'file:' && isNode) {
      const [{ readFile }, { fileURLToPath }] = await Promise.all([import('node:fs/promises'), import('node:url')]);
      bytes = new Uint8Array(await readFile(fileURLToPath(url)));
    } else {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
      bytes = await response.arrayBuffer();
    }
  } catch (e) {
    throw new DualbertError(
      'DEVICE_UNAVAILABLE',
      `device "wasm": cannot read the ${build} build at ${url.href} (${e instanceof Error ? e.message : String(e)}); ` +
        'in a source checkout run `npm run build:wasm`',
      { cause: e },
    );
  }
  try {
    return await WebAssembly.compile(bytes);
  } catch (e) {
    throw new DualbertError('DEVICE_UNAVAILABLE', `device "wasm": this engine cannot compile the ${build} build (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
}
