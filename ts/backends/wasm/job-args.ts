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

// LayerNorm of N rows of C.
export const LN_X = 1;
export const LN_OUT = 2;
export const LN_GAMMA = 3;
export const LN_BETA = 4;
export const LN_N = 5;
export const LN_C = 6;
/** f32 */
export const LN_EPS = 7;
