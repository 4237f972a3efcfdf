// dualbert WASM kernels (AssemblyScript), one source for six builds (plus test-only builds of
// assembly/testing.ts, never shipped):
//
//   build/dualbert-simd.wasm            asc --target simd            (`--enable simd`)
//   build/dualbert-scalar.wasm          asc --target scalar          (no SIMD: validates on
//                                                                     engines without SIMD128)
//   build/dualbert-relaxed.wasm         asc --target relaxed         (+ relaxed SIMD: FMA in GEMM)
//   build/dualbert-*-threads.wasm       asc --target <above>-threads (+ threads, shared memory)
//
// Kernels live in one file per op: gemm.ts (linear layers), attention.ts, layernorm.ts,
// gemm-q8.ts (linear layers in int8, ONNX dynamic quantization), rows.ts (embedding, pooling,
// normalization, Dense activations), math.ts (exp, erf, GELU); layout.ts holds the
// job control block shared with the host, jobs.ts the dispatch of parallel jobs.
//
// Optimization: asc -O3 (optimizeLevel 3, shrinkLevel 0, converge, noAssert), then Binaryen's
// wasm-opt -O3 from the `binaryen` package over each output with an explicit feature set
// (assembly/build.mjs, `npm run build:wasm`). Running wasm-opt on the scalar build WITHOUT
// --enable-simd also makes the build fail if any SIMD instruction slipped into it.
//
// Target selection: `ASC_FEATURE_SIMD` is a compile-time constant that asc sets from the enabled
// feature set, so `if (ASC_FEATURE_SIMD) { ... } else { ... }` is resolved while compiling and
// the untaken branch is never emitted: the scalar build contains no v128 code at all (the test
// in test/wasm-smoke.test.ts checks the bytes). No per-target constant file is needed.
//
// Memory: every build IMPORTS its linear memory as `env.memory` and do not export it
// (asconfig.json: importMemory, noExportMemory). The host creates the memory
// (`new WebAssembly.Memory({ initial })`) and owns its layout; kernels only take byte offsets
// (`usize`) into it. Why imported rather than exported: for multi-threading, every worker must
// instantiate the module over the *same* memory, which is only possible when the memory comes
// in as an import (an exported memory is created per instance). A later threaded target only
// adds `--enable threads --sharedMemory --maximumMemory N` and the host passes a
// `WebAssembly.Memory({ initial, maximum, shared: true })` (which needs crossOriginIsolated in
// browsers); the kernel code and the import name stay the same. The single-threaded builds
// declare a non-shared memory, which is what a page that is not cross-origin isolated can
// provide. `ASC_FEATURE_THREADS` picks atomic task counters (layout.ts nextTask).
//
// Runtime `stub` (bump allocator that never frees) and no managed objects: kernels never
// allocate. `heapBase()` tells the host the first byte not reserved by the module (asc's
// memoryBase, 1024 today), so the host places its tensors at or above it. `abort` is aliased
// away (`--use abort=`) and asserts are compiled out (`noAssert`), so the module has no imports
// besides the memory.

/** 1 in the SIMD and relaxed-SIMD builds, 0 in the scalar builds (resolved at compile time). */
export function simdEnabled(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}

/** 1 in the threaded builds (shared memory, atomics), 0 otherwise. */
export function threadsEnabled(): i32 {
  return ASC_FEATURE_THREADS ? 1 : 0;
}

/** First free byte of linear memory after static data; the host allocates from here. */
export function heapBase(): usize {
  return __heap_base;
}

export { runJob } from './jobs';
export { embed, pool, normalize, activate } from './rows';
export { attentionScratchBytes } from './attention';
export { rope, glu } from './families';
export {
  CTRL_GEN, CTRL_QUIT, CTRL_TASKS, CTRL_TASK, CTRL_FINISHED, CTRL_ARGS, CTRL_BYTES, MAX_TASKS,
  OP_GEMM, OP_ATTENTION, OP_LAYERNORM, OP_Q8_GEMM, OP_Q8_MINMAX, EPI_BIAS, EPI_GELU, EPI_RESIDUAL, POOL_MEAN, POOL_CLS, POOL_MAX,
  POOL_MEAN_SQRT_LEN, POOL_WEIGHTEDMEAN, POOL_LASTTOKEN, ACT_TANH, ACT_RELU, ACT_SIGMOID,
  GLU_GELU, GLU_GELU_TANH, GLU_SILU,
} from './layout';

import { TILE_BYTES } from './gemm';
export { gemmQ8ScratchBytes } from './gemm-q8';

/** Bytes of scratch one thread needs for a GEMM job with MC-row blocks of K columns (packed A). */
export function gemmScratchBytes(MC: i32, K: i32): usize {
  return TILE_BYTES + ((<usize>MC * <usize>K) << 2);
}
