/**
 * The wasm backend's entry point: picks the build this engine runs best, compiles it (once per
 * process), creates the memory, writes the model's weights once, and starts the worker threads.
 */
import { DualbertError } from '../../errors.js';
import type { GraphWeights } from '../../graph/weights.js';
import { availableCores } from '../../env.js';
import type { Backend, BackendOptions } from '../types.js';
import { CTRL, type KernelExports, type WasmBuild } from './abi.js';
import { WasmBackend, weightBytes } from './backend.js';
import { type WasmLoaderOptions, buildName, loadWasmModule, relaxedSimdSupported, simdSupported, threadsSupported } from './loader.js';
import { ThreadPool } from './threads.js';

export { WasmBackend } from './backend.js';
export type { WasmBuild } from './abi.js';
export type { WasmLoaderOptions } from './loader.js';

const PAGE = 65536;
/** 4 GiB: all a 32-bit memory can address. Shared memories reserve their maximum up front, so smaller ones are tried when it is refused. */
const MAX_PAGES = [65536, 32768, 16384];

/**
 * Creates a wasm backend bound to one model's weights.
 *
 * Build: relaxed SIMD where the engine validates it, else SIMD128, else scalar
 * (`wasm: { simd: false }` forces scalar; `loader.relaxedSimd: false` keeps plain SIMD128).
 * Threads: `options.threads` (default: available cores); more than one needs shared memory and
 * workers (Node; browsers only when `crossOriginIsolated`), otherwise the backend computes on
 * the calling thread alone and `threads` reports 1.
 *
 * @param loader where the `.wasm` files are (default: the package's `build/` directory), and
 *   whether the relaxed-SIMD build may be used.
 * @example
 * const backend = await createWasmBackend(bindWeights(graph.weights, checkpoint), { threads: 2 });
 * const { output } = await runGraph(graph, backend, batch);
 * backend.dispose();
 */
export async function createWasmBackend(weights: GraphWeights, options: BackendOptions = {}, loader: WasmLoaderOptions = {}): Promise<Backend> {
  if (typeof WebAssembly !== 'object') throw new DualbertError('DEVICE_UNAVAILABLE', 'device "wasm": this JavaScript engine has no WebAssembly');
  const { threads: requested } = options;
  if (requested !== undefined && (!Number.isInteger(requested) || requested < 1)) {
    throw new DualbertError('INVALID_ARGUMENT', `threads must be a positive integer, got ${String(requested)}`);
  }
  const simd = options.wasm?.simd !== false && simdSupported();
  const isa = !simd ? 'scalar' : loader.relaxedSimd !== false && relaxedSimdSupported() ? 'relaxed' : 'simd';
  const cores = await availableCores();
  const wanted = loader.oversubscribe && requested !== undefined ? requested : Math.min(requested ?? cores, cores); // more workers than cores only contend (and each holds memory)
  const threaded = wanted > 1 && threadsSupported();
  if (threaded) {
    const backend = await create(buildName(isa, true), weights, wanted, loader);
    if (backend) return backend;
  }
  return (await create(buildName(isa, false), weights, 1, loader))!;
}

/** One attempt with one build; undefined when the threaded setup cannot start here. */
async function create(build: WasmBuild, weights: GraphWeights, threads: number, loader: WasmLoaderOptions): Promise<Backend | undefined> {
  const module = await loadWasmModule(build, loader);
  const shared = threads > 1;
  // The weights, the control block, plus a first arena; the arena grows per batch as needed.
  const initial = Math.ceil((weightBytes(weights) + 16 * 2 ** 20) / PAGE);
  let memory: WebAssembly.Memory | undefined;
  let maxPages = 0;
  for (const maximum of MAX_PAGES) {
    if (initial > maximum) break;
    try {
      memory = new WebAssembly.Memory({ initial, maximum, shared });
      maxPages = maximum;
      break;
    } catch {
      // a smaller reservation may still be granted
    }
  }
  if (!memory) {
    if (shared) return undefined;
    throw new DualbertError('DEVICE_UNAVAILABLE', `device "wasm": cannot create a WebAssembly memory of ${Math.ceil((initial * PAGE) / 2 ** 20)} MiB for this model`);
  }
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const exports = instance.exports as unknown as KernelExports;
  const ctrl = Math.ceil(exports.heapBase() / 64) * 64;
  new Int32Array(memory.buffer, ctrl, CTRL.BYTES / 4).fill(0);
  let pool: ThreadPool | undefined;
  if (shared) {
    pool = await ThreadPool.start(module, memory, ctrl, threads);
    if (!pool) return undefined;
  }
  try {
    return new WasmBackend({ build, exports, memory, maxPages, ctrl, pool }, weights);
  } catch (e) {
    pool?.dispose();
    throw e;
  }
}
