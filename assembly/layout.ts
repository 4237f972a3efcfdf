// The contract between the host (ts/backends/wasm/abi.ts mirrors every number here) and the
// kernels: where the job control block keeps its words, and the op codes of parallel jobs.
//
// A job is one parallel op (a GEMM, attention, LayerNorm). The host writes its arguments into
// the control block, then every thread (the calling thread and the workers) calls
// `runJob(ctrl, tid)`; each takes tasks from one shared counter until none is left. Single-threaded
// builds use the same block and the same code path with a plain counter.
//
// Control block (bytes from `ctrl`, 64-byte aligned by the host):
//   0   GEN    i32  job generation: the host bumps it to start a job (workers wait on it)
//   4   DONE   i32  workers that finished the current job (the host waits on it)
//   8   QUIT   i32  1: workers leave their loop (dispose)
//   12  ERR    i32  set by a worker whose share threw (host-only, the kernels never touch it)
//   64  TASK   i32  next task index (its own cache line: every thread increments it)
//   128 ARGS   32 × 4 bytes of job arguments (pointers are u32 byte offsets)

export const CTRL_GEN: usize = 0;
export const CTRL_DONE: usize = 4;
export const CTRL_QUIT: usize = 8;
export const CTRL_TASK: usize = 64;
export const CTRL_ARGS: usize = 128;
/** Bytes the host reserves for the control block. */
export const CTRL_BYTES: usize = 256;

/** Job op codes (ARGS word 0). */
export const OP_GEMM: i32 = 1;
export const OP_ATTENTION: i32 = 2;
export const OP_LAYERNORM: i32 = 3;

/** GEMM epilogues (the `epi` argument): out = x·Wᵀ + b, then nothing / erf-GELU / + residual. */
export const EPI_BIAS: i32 = 0;
export const EPI_GELU: i32 = 1;
export const EPI_RESIDUAL: i32 = 2;

/** Pooling modes (the `mode` argument of `pool`). */
export const POOL_MEAN: i32 = 0;
export const POOL_CLS: i32 = 1;
export const POOL_MAX: i32 = 2;

/** Reads job argument `i` (a 32-bit word) as a byte offset. */
// @ts-ignore: decorator
@inline export function argPtr(ctrl: usize, i: i32): usize {
  return <usize>load<u32>(ctrl + CTRL_ARGS + ((<usize>i) << 2));
}

/** Reads job argument `i` as an i32. */
// @ts-ignore: decorator
@inline export function argI32(ctrl: usize, i: i32): i32 {
  return load<i32>(ctrl + CTRL_ARGS + ((<usize>i) << 2));
}

/** Reads job argument `i` as an f32 (the host writes its bits). */
// @ts-ignore: decorator
@inline export function argF32(ctrl: usize, i: i32): f32 {
  return load<f32>(ctrl + CTRL_ARGS + ((<usize>i) << 2));
}

/**
 * The next task index of the running job. Threaded builds share one counter between all
 * threads (atomic fetch-add: dynamic scheduling, so a thread slowed by the OS does not hold the
 * others back); the other builds run alone and count with a plain load/store.
 */
// @ts-ignore: decorator
@inline export function nextTask(ctrl: usize): i32 {
  if (ASC_FEATURE_THREADS) {
    return atomic.add<i32>(ctrl + CTRL_TASK, 1);
  } else {
    const t = load<i32>(ctrl + CTRL_TASK);
    store<i32>(ctrl + CTRL_TASK, t + 1);
    return t;
  }
}
