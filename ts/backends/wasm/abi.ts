/**
 * The host side of the contract with the AssemblyScript kernels (assembly/layout.ts): the
 * exports of every build and the numbers of the job control block. The modules export the same
 * numbers as globals; a test checks that both sides agree.
 */

/**
 * The builds of assembly/ (asconfig.json targets): SIMD128, scalar (engines without SIMD) and
 * relaxed SIMD (fused multiply-add in the GEMM), each single-threaded or with shared memory.
 */
export type WasmBuild = 'simd' | 'scalar' | 'relaxed' | 'simd-threads' | 'scalar-threads' | 'relaxed-threads';

/** Functions every build exports. Pointers are byte offsets into the module's memory. */
export interface KernelExports {
  simdEnabled(): number;
  threadsEnabled(): number;
  heapBase(): number;
  /** Runs thread `tid`'s share of job generation `gen`, described at `ctrl`. */
  runJob(ctrl: number, tid: number, gen: number): void;
  /** position / tokenType 0: the model has no such table. */
  embed(out: number, ids: number, typeIds: number, word: number, position: number, tokenType: number, N: number, T: number, C: number, posOffset: number): void;
  /** Rotary embeddings on Q and K of an [N, 3C] projection (interleaved: 1 for GPT-J pairs). */
  rope(out: number, x: number, cos: number, sin: number, N: number, T: number, NH: number, HS: number, interleaved: number): void;
  /** act(first half) · second half of an [N, 2I] activation (act: GLU). */
  glu(out: number, x: number, N: number, I: number, act: number): void;
  pool(out: number, x: number, mask: number, B: number, T: number, C: number, mode: number): void;
  normalize(out: number, x: number, B: number, C: number, eps: number): void;
  /** Applies a Dense activation (ACT) in place to n floats. */
  activate(x: number, n: number, act: number): void;
  attentionScratchBytes(T: number, HS: number): number;
  gemmScratchBytes(MC: number, K: number): number;
  /** Per-thread scratch of a q8 GEMM job (assembly/gemm-q8.ts). */
  gemmQ8ScratchBytes(MC: number, K: number): number;
}

/**
 * Control block byte offsets (assembly/layout.ts). ERR is host-only: a worker whose share of a
 * job threw sets it, so the calling thread can report the failure instead of waiting forever.
 */
export const CTRL = { GEN: 0, QUIT: 8, ERR: 12, TASKS: 16, TASK: 64, FINISHED: 72, ARGS: 128, BYTES: 256 } as const;

/** Tasks a job may have (the TASK word keeps 16 bits for the index). */
export const MAX_TASKS = 65535;

/** Job op codes (ARGS word 0). */
export const OP = { GEMM: 1, ATTENTION: 2, LAYERNORM: 3, Q8_GEMM: 4, Q8_MINMAX: 5 } as const;

/** GEMM epilogues (the graph's 'none' is `bias`: the bias is always added). */
export const EPI = { bias: 0, gelu: 1, residual: 2 } as const;

/** Pooling modes of `pool`: every mode of the graph (ts/graph/ops.ts PoolingMode). */
export const POOL = { mean: 0, cls: 1, max: 2, mean_sqrt_len: 3, weightedmean: 4, lasttoken: 5 } as const;

/** Dense activations of `activate` (identity and GELU are GEMM epilogues instead). */
export const ACT = { tanh: 1, relu: 2, sigmoid: 3 } as const;

/** Gated-MLP activations of `glu` (ts/graph/ops.ts GluActivation). */
export const GLU = { gelu: 0, gelu_tanh: 1, silu: 2 } as const;

/** The global names the modules export for the numbers above, with the value the host uses. */
export const ABI_GLOBALS: Readonly<Record<string, number>> = {
  CTRL_GEN: CTRL.GEN,
  CTRL_QUIT: CTRL.QUIT,
  CTRL_TASKS: CTRL.TASKS,
  CTRL_TASK: CTRL.TASK,
  CTRL_FINISHED: CTRL.FINISHED,
  CTRL_ARGS: CTRL.ARGS,
  CTRL_BYTES: CTRL.BYTES,
  MAX_TASKS,
  OP_GEMM: OP.GEMM,
  OP_ATTENTION: OP.ATTENTION,
  OP_LAYERNORM: OP.LAYERNORM,
  OP_Q8_GEMM: OP.Q8_GEMM,
  OP_Q8_MINMAX: OP.Q8_MINMAX,
  EPI_BIAS: EPI.bias,
  EPI_GELU: EPI.gelu,
  EPI_RESIDUAL: EPI.residual,
  POOL_MEAN: POOL.mean,
  POOL_CLS: POOL.cls,
  POOL_MAX: POOL.max,
  POOL_MEAN_SQRT_LEN: POOL.mean_sqrt_len,
  POOL_WEIGHTEDMEAN: POOL.weightedmean,
  POOL_LASTTOKEN: POOL.lasttoken,
  ACT_TANH: ACT.tanh,
  ACT_RELU: ACT.relu,
  ACT_SIGMOID: ACT.sigmoid,
  GLU_GELU: GLU.gelu,
  GLU_GELU_TANH: GLU.gelu_tanh,
  GLU_SILU: GLU.silu,
};

/** A job argument: [ARGS word, value] (an i32 or a u32 byte offset), or [word, value, 'f32']. */
export type JobArgs = readonly (readonly [number, number] | readonly [number, number, 'f32'])[];
