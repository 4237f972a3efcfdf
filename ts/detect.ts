/**
 * What this machine offers dualbert: WebGPU (adapter, features, limits), WebAssembly SIMD128,
 * relaxed SIMD, threads, and cores. A plain, serializable report: shown by `dualbert info`, the
 * dashboard, and used to choose a device.
 *
 * @example
 * import { capabilities } from 'dualbert';
 * const caps = await capabilities();
 * if (caps.webgpu.available) console.log(caps.webgpu.adapter);
 */
import { probeAdapter } from './backends/webgpu/gpu.js';
import type { LogLevel } from './backends/types.js';
import { availableCores, environmentKind, isNode } from './env.js';

/**
 * The WebGPU part of {@link Capabilities}.
 * @example const { webgpu } = await capabilities(); if (webgpu.available) console.log(webgpu.adapter?.vendor);
 */
export interface WebGpuReport {
  available: boolean;
  /** Why WebGPU is unavailable, when it is. */
  reason?: string;
  /** A software adapter (SwiftShader, WARP): `device: 'auto'` does not take it (see `allowFallbackAdapter`). */
  fallbackAdapter?: boolean;
  adapter?: { vendor: string; architecture: string; device: string; description: string };
  features?: string[];
  limits?: Record<string, number>;
}

/**
 * The WebAssembly part of {@link Capabilities}.
 * @example const { wasm } = await capabilities(); const build = wasm.simd ? 'simd' : 'scalar';
 */
export interface WasmReport {
  /** WebAssembly exists at all. */
  available: boolean;
  /** SIMD128 validates (the fast CPU build). */
  simd: boolean;
  /** Relaxed SIMD validates (f32x4.relaxed_madd). */
  relaxedSimd: boolean;
  /** Shared memory and workers can be used (Node, or a crossOriginIsolated page). */
  threads: boolean;
}

/**
 * The capability report of {@link capabilities}.
 * @example console.log(JSON.stringify(await capabilities(), null, 2));
 */
export interface Capabilities {
  environment: 'node' | 'browser' | 'worker' | 'other';
  /** Logical cores (navigator.hardwareConcurrency or os.availableParallelism()). */
  cores: number;
  /** Browsers: whether the page is cross-origin isolated (needed for wasm threads). */
  crossOriginIsolated?: boolean;
  webgpu: WebGpuReport;
  wasm: WasmReport;
}

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const V128_CONST_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];

/** A module with one function `() -> v128` whose body is `body` (+ end). */
function v128Module(body: number[]): Uint8Array<ArrayBuffer> {
  const code = [0x00, ...body, 0x0b]; // no locals, body, end
  return new Uint8Array([
    ...HEADER,
    ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b], // type section: [] -> [v128]
    ...[0x03, 0x02, 0x01, 0x00], // function section: one function of type 0
    ...[0x0a, code.length + 2, 0x01, code.length, ...code], // code section
  ]);
}

/** `v128.const 0` — validates where SIMD128 exists. */
export const SIMD_PROBE = v128Module(V128_CONST_ZERO);
/** `f32x4.relaxed_madd(0, 0, 0)` (opcode 0xfd 0x105) — validates where relaxed SIMD exists. */
export const RELAXED_SIMD_PROBE = v128Module([...V128_CONST_ZERO, ...V128_CONST_ZERO, ...V128_CONST_ZERO, 0xfd, 0x85, 0x02]);

/**
 * A module exporting `f() -> i32`: lane 0 of i32x4.relaxed_dot_i8x16_i7x16_add_s(splat(−3),
 * splat(5), splat(7)) (opcode 0xfd 0x113), which is 4·(−3·5) + 7 = −53 wherever the
 * instruction keeps its contract (the second operand is in [0, 127]). V8 11.x's baseline
 * compiler (Node 20 with --experimental-wasm-relaxed-simd) returns −120 on the first calls.
 */
export const RELAXED_DOT_PROBE = new Uint8Array([
  ...HEADER,
  ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f], // type section: [] -> [i32]
  ...[0x03, 0x02, 0x01, 0x00], // function section
  ...[0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00], // export "f"
  ...[0x0a, 0x40, 0x01, 0x3e, 0x00], // code section, one body of 62 bytes, no locals
  ...[0xfd, 0x0c, ...new Array<number>(16).fill(0xfd)], // v128.const i8x16 −3 …
  ...[0xfd, 0x0c, ...new Array<number>(16).fill(0x05)], // v128.const i8x16 5 …
  ...[0xfd, 0x0c, ...[0, 1, 2, 3].flatMap(() => [0x07, 0x00, 0x00, 0x00])], // v128.const i32x4 7 …
  ...[0xfd, 0x93, 0x02], // i32x4.relaxed_dot_i8x16_i7x16_add_s
  ...[0xfd, 0x1b, 0x00], // i32x4.extract_lane 0
  0x0b,
]);

function validates(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/** Shared wasm memory is creatable and (in browsers) the page is cross-origin isolated. */
function threadsAvailable(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  if (!isNode && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== true) return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** The adapter a high-performance request gets, without creating a device. Never throws. */
export async function detectWebGpu(options: CapabilitiesOptions = {}): Promise<WebGpuReport> {
  const probe = await probeAdapter(undefined, options);
  if (!probe.available) return { available: false, reason: probe.reason };
  return { available: true, fallbackAdapter: probe.fallback, adapter: probe.adapter, features: probe.features, limits: probe.limits };
}

/**
 * Options of {@link capabilities}.
 * @example await capabilities({ logLevel: 'verbose' });   // probe Dawn in this process, warnings and all
 */
export interface CapabilitiesOptions {
  /** 'verbose': in Node, Dawn is asked in this process and may print native warnings (default: a quiet child process). */
  logLevel?: LogLevel;
}

/**
 * The capability report of this machine and environment.
 * @example
 * const caps = await capabilities();
 * const device = caps.webgpu.available ? 'webgpu' : 'wasm';
 */
export async function capabilities(options: CapabilitiesOptions = {}): Promise<Capabilities> {
  const wasmAvailable = typeof WebAssembly === 'object' && typeof WebAssembly.validate === 'function';
  const report: Capabilities = {
    environment: environmentKind(),
    cores: await availableCores(),
    webgpu: await detectWebGpu(options),
    wasm: {
      available: wasmAvailable,
      simd: wasmAvailable && validates(SIMD_PROBE),
      relaxedSimd: wasmAvailable && validates(RELAXED_SIMD_PROBE),
      threads: wasmAvailable && threadsAvailable(),
    },
  };
  const coi = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  if (!isNode && typeof coi === 'boolean') report.crossOriginIsolated = coi;
  return report;
}
