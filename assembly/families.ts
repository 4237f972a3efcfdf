// The row ops of the encoder families beyond BERT (legend in ts/graph/ops.ts), run by the
// calling thread: they touch each value of an [N, 3C] or [N, 2I] activation once, far below the
// cost of the GEMMs around them.
//   rope: rotary position embeddings on the Q and K blocks of the fused projection (ModernBERT,
//         NomicBERT); the cos/sin tables are made on the host as transformers makes them.
//   glu:  the gated MLP's act(first half) · second half (GeGLU erf/tanh, SwiGLU).

import { GLU_GELU, GLU_GELU_TANH } from './layout';
import { exp1, gelu1 } from './math';

/**
 * out[n] = x[n] with Q and K of every head rotated by the angles of position n mod T; V copied.
 * x and out are [N, 3C]; cos and sin are [P, HS/2]. interleaved 0: pairs (i, i + HS/2)
 * (rotate_half); 1: pairs (2i, 2i + 1).
 */
export function rope(out: usize, x: usize, cos: usize, sin: usize, N: i32, T: i32, NH: i32, HS: i32, interleaved: i32): void {
  const C = NH * HS;
  const half = HS >> 1;
  const ld = (<usize>(3 * C)) << 2;
  for (let n = 0; n < N; n++) {
    const src = x + (<usize>n) * ld;
    const dst = out + (<usize>n) * ld;
    const angles = (<usize>((n % T) * half)) << 2;
    memory.copy(dst + ((<usize>(2 * C)) << 2), src + ((<usize>(2 * C)) << 2), (<usize>C) << 2); // V as it is
    for (let head = 0; head < 2 * NH; head++) {
      const base = (<usize>(head * HS)) << 2;
      for (let i = 0; i < half; i++) {
        const a = base + ((<usize>(interleaved != 0 ? 2 * i : i)) << 2);
        const b = base + ((<usize>(interleaved != 0 ? 2 * i + 1 : i + half)) << 2);
        const c = load<f32>(cos + angles + ((<usize>i) << 2));
        const s = load<f32>(sin + angles + ((<usize>i) << 2));
        const xa = load<f32>(src + a);
        const xb = load<f32>(src + b);
        store<f32>(dst + a, xa * c - xb * s);
        store<f32>(dst + b, xb * c + xa * s);
      }
    }
  }
}

/** out[n, i] = act(x[n, i]) · x[n, I + i]; x is [N, 2I], out is [N, I]. */
export function glu(out: usize, x: usize, N: i32, I: i32, act: i32): void {
  for (let n = 0; n < N; n++) {
    const src = x + ((<usize>(2 * n * I)) << 2);
    const dst = out + ((<usize>(n * I)) << 2);
    for (let i = 0; i < I; i++) {
      const v = load<f32>(src + ((<usize>i) << 2));
      const g = load<f32>(src + ((<usize>(I + i)) << 2));
      let a: f32;
      if (act == GLU_GELU) {
        a = gelu1(v);
      } else if (act == GLU_GELU_TANH) {
        // 0.5·v·(1 + tanh(u)) = v·σ(2u): no cancellation where tanh(u) → −1, no overflow.
        const u: f32 = <f32>0.7978845608028654 * (v + <f32>0.044715 * v * v * v);
        const e = exp1(-2 * abs<f32>(u));
        a = v * (u >= 0 ? 1 / (1 + e) : e / (1 + e));
      } else {
        // v·σ(v), σ without overflow on either side.
        const e = exp1(-abs<f32>(v));
        a = v * (v >= 0 ? 1 / (1 + e) : e / (1 + e));
      }
      store<f32>(dst + ((<usize>i) << 2), a * g);
    }
  }
}
