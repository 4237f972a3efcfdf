/**
 * The kernel calls of a q8 linear layer (ONNX dynamic quantization, LinearNode.precision in
 * ts/graph/ops.ts), three per layer:
 * 1. q8_minmax: the range of x, in up to 256 (min, max) pairs;
 * 2. q8_quantize: scale and zero point from those pairs (exact f32 divisions), x packed as
 *    signed bytes xq − 128, four per u32;
 * 3. gemm_q8: the integer sums with dot4I8Packed, rescaled as onnxruntime does, the epilogue.
 * The per-batch buffers between them: `q8x` (the packed rows, [N, ⌈K/4⌉] u32) and `q8stats`
 * (the pairs, then xs and xz at word {@link Q8_HEADER}).
 */
import type { KernelCall, Act, Resource } from './calls.js';
import { bindingOf as bind, paramsOf } from './abi.js';
import type { KernelConfig } from './kernels.js';
import type { PipelineKey } from './pipelines.js';
import { pipelineKeyString } from './pipelines.js';
import type { GpuBuffer } from './pool.js';
import { DualbertError } from '../../errors.js';

/** Where q8_quantize writes xs and xz in the stats buffer (after 256 (min, max) pairs). */
export const Q8_HEADER = 512;
/** Words of the stats buffer. */
export const Q8_STATS_WORDS = Q8_HEADER + 4;
/** (min, max) pairs of q8_minmax at most (one per invocation of q8_quantize's reduction). */
const MAX_GROUPS = 256;
/** Values of x one q8_minmax workgroup scans at least. */
const MIN_CHUNK = 4096;
/** Packed words per q8_quantize workgroup (256 invocations × 4). */
const QUANTIZE_WORDS = 1024;

/** A q8 weight on the GPU (layout of q8-layout.ts). */
export interface Q8Weight {
  readonly words: GpuBuffer;
  readonly meta: GpuBuffer;
  /** Output rows M, and M rounded up to 4. */
  readonly m: number;
  readonly mp: number;
  /** Input columns K, and ⌈K/4⌉. */
  readonly k: number;
  readonly kw: number;
}

const act = (a: Act): Resource => ({ kind: 'activation', act: a });
const weight = (buffer: GpuBuffer): Resource => ({ kind: 'weight', buffer });

function call(config: KernelConfig, key: PipelineKey, params: number[], bindings: [number, Resource][], workgroups: [number, number, number], flop = 0): KernelCall {
  for (const n of workgroups) {
    if (n > config.workgroupsPerDimension) {
      throw new DualbertError(
        'INVALID_ARGUMENT',
        `webgpu: a q8 linear layer of this batch needs ${n} workgroups in one dimension, above this GPU's ${config.workgroupsPerDimension}: embed with a smaller batchSize`,
      );
    }
  }
  return { op: 'linear', key, keyString: pipelineKeyString(key), params: Uint32Array.from(params), bindings, workgroups, flop };
}

/**
 * out[n, M] = q8(x[n, K]) · W8ᵀ rescaled + bias, then the epilogue. `packed` ([n, ⌈K/4⌉] u32)
 * and `stats` ({@link Q8_STATS_WORDS} u32) are scratch buffers of the batch.
 */
export function q8LinearCalls(
  config: KernelConfig,
  n: number,
  x: Act,
  w: Q8Weight,
  bias: GpuBuffer,
  epilogue: 'none' | 'gelu' | 'residual',
  residual: Act | undefined,
  out: Act,
  scratch: { packed: Act; stats: Act },
): KernelCall[] {
  const count = n * w.k;
  const chunk = Math.max(MIN_CHUNK, Math.ceil(count / MAX_GROUPS));
  const groups = Math.max(1, Math.ceil(count / chunk));
  const minmax = call(
    config,
    { shader: 'q8_minmax', defines: {} },
    paramsOf('q8_minmax', { count, chunk, groups }),
    [
      [bind('q8_minmax', 'x'), act(x)],
      [bind('q8_minmax', 'stats'), act(scratch.stats)],
    ],
    [groups, 1, 1],
  );
  const quantizeGroups = Math.ceil((n * w.kw) / QUANTIZE_WORDS);
  const gx = Math.min(quantizeGroups, config.workgroupsPerDimension);
  const quantize = call(
    config,
    { shader: 'q8_quantize', defines: {} },
    paramsOf('q8_quantize', { n, k: w.k, kw: w.kw, groups }),
    [
      [bind('q8_quantize', 'x'), act(x)],
      [bind('q8_quantize', 'stats'), act(scratch.stats)],
      [bind('q8_quantize', 'xq'), act(scratch.packed)],
    ],
    [gx, Math.ceil(quantizeGroups / gx), 1],
  );
  const gemmBindings: [number, Resource][] = [
    [bind('gemm_q8', 'xq'), act(scratch.packed)],
    [bind('gemm_q8', 'wq'), weight(w.words)],
    [bind('gemm_q8', 'wmeta'), weight(w.meta)],
    [bind('gemm_q8', 'bias'), weight(bias)],
    [bind('gemm_q8', 'out'), act(out)],
    [bind('gemm_q8', 'stats'), act(scratch.stats)],
  ];
  if (epilogue === 'residual') gemmBindings.push([bind('gemm_q8', 'res'), act(residual!)]);
  const gemm = call(
    config,
    { shader: 'gemm_q8', defines: { DOT4: config.packedDot4 === true, GELU: epilogue === 'gelu', RESIDUAL: epilogue === 'residual' } },
    paramsOf('gemm_q8', { n, kw: w.kw, m: w.m, mp: w.mp, k: w.k, zero: 0 }),
    gemmBindings,
    [Math.ceil(w.mp / 64), Math.ceil(n / 64), 1],
    2 * n * w.k * w.m,
  );
  return [minmax, quantize, gemm];
}
