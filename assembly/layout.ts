// The contract between the host (ts/backends/wasm/abi.ts mirrors every number here) and the
// kernels: where the job control block keeps its words, and the op codes of parallel jobs.
//
// A job is one parallel op (a GEMM, attention, LayerNorm). The host writes its arguments into
// the control block, publishes a new generation, then every thread (the calling thread and the
// workers) calls `runJob(ctrl, tid, gen)`; each claims tasks until none is left. The job is over
// when FINISHED counts all its tasks: the host never waits for a worker that was descheduled and
// claimed nothing (on a busy machine that is most of the cost of a barrier). Single-threaded
// builds use the same block and code path with plain loads and stores.
//
// Claims carry the generation (TASK = gen << 16 | next index, claimed by compare-and-swap), and
// the host closes TASK (all ones: tag 0xffff, which no generation uses) when a job ends, before
// it writes the next job's arguments: a worker that wakes up late, holding an old generation and
// maybe arguments of the next job, claims nothing. A thread claims its first task (bounded by
// TASKS, which the host writes) before it reads any argument: once it holds a task the job cannot
// end, so the arguments stay those of its job. Reading them first let a late worker divide by a
// zero that belonged to the next job's arguments (an integer-divide trap under load).
//
// Control block (bytes from `ctrl`, 64-byte aligned by the host):
//   0   GEN      i32  job generation: the host bumps it to start a job (workers wait on it)
//   8   QUIT     i32  1: workers leave their loop (dispose)
//   12  ERR      i32  set by a worker whose share threw (host-only, the kernels never touch it)
//   16  TASKS    i32  task count of the current job (written with the arguments)
//   64  TASK     i32  (gen & 0xffff) << 16 | next task index (its own cache line)
//   72  FINISHED i32  tasks finished in the current job (the host waits on it)
//   128 ARGS     32 × 4 bytes of job arguments (pointers are u32 byte offsets)

export const CTRL_GEN: usize = 0;
export const CTRL_QUIT: usize = 8;
export const CTRL_TASKS: usize = 16;
export const CTRL_TASK: usize = 64;
export const CTRL_FINISHED: usize = 72;
export const CTRL_ARGS: usize = 128;
/** Bytes the host reserves for the control block. */
export const CTRL_BYTES: usize = 256;
/** Tasks a job may have (the TASK word keeps 16 bits for the index). */
export const MAX_TASKS: i32 = 65535;

/** Job op codes (ARGS word 0). */
export const OP_GEMM: i32 = 1;
export const OP_ATTENTION: i32 = 2;
export const OP_LAYERNORM: i32 = 3;
export const OP_Q8_GEMM: i32 = 4;
export const OP_Q8_MINMAX: i32 = 5;

/** GEMM epilogues (the `epi` argument): out = x·Wᵀ + b, then nothing / erf-GELU / + residual. */
export const EPI_BIAS: i32 = 0;
export const EPI_GELU: i32 = 1;
export const EPI_RESIDUAL: i32 = 2;

/** Pooling modes (the `mode` argument of `pool`). */
export const POOL_MEAN: i32 = 0;
export const POOL_CLS: i32 = 1;
export const POOL_MAX: i32 = 2;
export const POOL_MEAN_SQRT_LEN: i32 = 3;
export const POOL_WEIGHTEDMEAN: i32 = 4;
export const POOL_LASTTOKEN: i32 = 5;

/** Activations of `activate` (Dense heads; GELU and identity are GEMM epilogues instead). */
export const ACT_TANH: i32 = 1;
export const ACT_RELU: i32 = 2;
export const ACT_SIGMOID: i32 = 3;

/** Gated activations (the `act` argument of glu, assembly/families.ts); SiLU is GLU_SILU. */
export const GLU_GELU: i32 = 0;
export const GLU_GELU_TANH: i32 = 1;
export const GLU_SILU: i32 = 2;

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
 * Claims the next task of job `gen`, or returns −1 when the job has no task left (or is no
 * longer the current one). Threaded builds share the counter between all threads (dynamic
 * scheduling, so a thread slowed by the OS does not hold the others back); the other builds run
 * alone and count with plain loads and stores.
 */
// @ts-ignore: decorator
@inline export function nextTask(ctrl: usize, gen: i32, tasks: i32): i32 {
  const tag = (<u32>gen & 0xffff) << 16;
  if (ASC_FEATURE_THREADS) {
    let claimed = -1;
    for (;;) {
      const v = atomic.load<u32>(ctrl + CTRL_TASK);
      if ((v & 0xffff0000) != tag || <i32>(v & 0xffff) >= tasks) break;
      if (atomic.cmpxchg<u32>(ctrl + CTRL_TASK, v, v + 1) == v) {
        claimed = <i32>(v & 0xffff);
        break;
      }
    }
    return claimed;
  } else {
    const v = load<u32>(ctrl + CTRL_TASK);
    if ((v & 0xffff0000) != tag || <i32>(v & 0xffff) >= tasks) return -1;
    store<u32>(ctrl + CTRL_TASK, v + 1);
    return <i32>(v & 0xffff);
  }
}

/**
 * Counts a finished task (after its results are written: the atomic add publishes them). The
 * thread that finishes the last task wakes the host if it sleeps.
 */
// @ts-ignore: decorator
@inline export function taskDone(ctrl: usize, tasks: i32): void {
  if (ASC_FEATURE_THREADS) {
    if (atomic.add<i32>(ctrl + CTRL_FINISHED, 1) + 1 == tasks) atomic.notify(ctrl + CTRL_FINISHED);
  } else {
    store<i32>(ctrl + CTRL_FINISHED, load<i32>(ctrl + CTRL_FINISHED) + 1);
  }
}
