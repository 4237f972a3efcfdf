// The argument slots of the wasm kernels' jobs: which word of the control block's ARGS area
// (32 × 4 bytes, word 0 is the op code) holds which argument. Declared once, here: the host
// (ts/backends/wasm/backend.ts) writes them and the AssemblyScript kernels (assembly/gemm.ts,
// attention.ts, layernorm.ts) read them by these names. This file is compiled by both tsc and
// asc, so it holds integer constants only. Pointers are u32 byte offsets; f32 words are marked.

// GEMM: out = x·Wᵀ + b, then the epilogue; with LN_OUT ≠ 0 each task also LayerNorms its rows.
export const GEMM_X = 1;
export const GEMM_W = 2;
export const GEMM_BIAS = 3;
export const GEMM_OUT = 4;
export const GEMM_RESIDUAL = 5;
export const GEMM_N = 6;
export const GEMM_K = 7;
export const GEMM_M = 8;
export const GEMM_EPI = 9;
export const GEMM_SCRATCH = 10;
export const GEMM_SCRATCH_PER_THREAD = 11;
export const GEMM_MC = 12;
export const GEMM_PG = 13;
export const GEMM_PACK_A = 14;
export const GEMM_LN_OUT = 15;
export const GEMM_LN_GAMMA = 16;
export const GEMM_LN_BETA = 17;
/** f32 */
export const GEMM_LN_EPS = 18;

// Attention over the fused [N, 3C] projection.
export const ATTN_QKV = 1;
export const ATTN_OUT = 2;
export const ATTN_MASK = 3;
export const ATTN_B = 4;
export const ATTN_T = 5;
export const ATTN_NH = 6;
export const ATTN_HS = 7;
/** f32 */
export const ATTN_SCALE = 8;
export const ATTN_SCRATCH = 9;
export const ATTN_SCRATCH_PER_THREAD = 10;
/** Sliding window: keys with |i − j| ≤ this; −1 for none. */
export const ATTN_WINDOW = 11;
/** Relative position bias [NH, 2·span − 1] (0 for none) and its span. */
export const ATTN_BIAS = 12;
export const ATTN_BIAS_SPAN = 13;

// LayerNorm of N rows of C.
export const LN_X = 1;
export const LN_OUT = 2;
export const LN_GAMMA = 3;
export const LN_BETA = 4;
export const LN_N = 5;
export const LN_C = 6;
/** f32 */
export const LN_EPS = 7;

// q8 GEMM (assembly/gemm-q8.ts): out = f32(Σ x'·w) · (xs · ws) + b, then the epilogue; x is
// quantized per task from the STATS written by the min/max job. LN_* as for the GEMM.
export const Q8_X = 1;
export const Q8_W = 2;
export const Q8_ZPE = 3;
export const Q8_WSCALE = 4;
export const Q8_BIAS = 5;
export const Q8_OUT = 6;
export const Q8_RESIDUAL = 7;
export const Q8_N = 8;
export const Q8_K = 9;
export const Q8_M = 10;
export const Q8_EPI = 11;
export const Q8_SCRATCH = 12;
export const Q8_SCRATCH_PER_THREAD = 13;
export const Q8_MC = 14;
export const Q8_PG = 15;
export const Q8_LN_OUT = 16;
export const Q8_LN_GAMMA = 17;
export const Q8_LN_BETA = 18;
/** f32 */
export const Q8_LN_EPS = 19;
export const Q8_STATS = 20;
export const Q8_STATS_COUNT = 21;
/** 0, or the column sums of W's 7-bit layout (relaxed builds, see assembly/gemm-q8.ts). */
export const Q8_COLSUM = 22;

// Min and max of COUNT f32 values, CHUNK values per task: (min, max) pairs at STATS.
export const Q8MM_X = 1;
export const Q8MM_COUNT = 2;
export const Q8MM_STATS = 3;
export const Q8MM_CHUNK = 4;
