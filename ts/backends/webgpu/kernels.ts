/**
 * From graph ops to kernel calls: picks the compiled variant of each op (its pipeline key), packs
 * its uniform parameters, and sizes its dispatch. No GPU work happens here; the backend encodes
 * the calls. Shapes follow the legend of ts/graph/ops.ts.
 */
import { DualbertError } from '../../errors.js';
import type { DenseActivation, GluActivation, PoolingMode } from '../../graph/ops.js';
import { type PipelineKey, pipelineKeyString } from './pipelines.js';
import type { GpuBuffer } from './pool.js';
import { bindingOf as bind, f32Bits, paramsOf } from './abi.js';
import type { Act, KernelCall, Resource } from './calls.js';

/** Choices that hold for every kernel of a backend. */
export interface KernelConfig {
  /** f16 storage of activations and weights (shader-f16), f32 arithmetic. */
  readonly f16: boolean;
  /**
   * Linear weights and embedding tables stored as f16, two per u32 (unpacked with
   * unpack2x16float; any adapter): half the weight memory, activations and math in f32.
   */
  readonly halfWeights: boolean;
  /** Workgroup reductions with subgroup operations. */
  readonly subgroups: boolean;
  /** GEMM K tile: 16 or 32 (twice the workgroup memory, half the barriers). */
  readonly gemmBK: 16 | 32;
  /** GEMM rows per invocation: 4 (64×64 tiles) or 8 (128×64 tiles). */
  readonly gemmTM: 4 | 8;
  /** GEMM columns per invocation: 4 (one vec4), or 8 (two vec4, 64 apart: tiles 128 wide). */
  readonly gemmTN: 4 | 8;
  /** Choose gemmTM/gemmTN per GEMM by its rows (gemmTileFor) instead of the two above. */
  readonly gemmTileByRows: boolean;
  /** Split K over several workgroups when a GEMM has few output tiles and a long K. */
  readonly splitK: boolean;
  /** Preferred attention key tile (halved until K and V tiles fit the workgroup storage limit). */
  readonly attentionKeys: number;
  /** Query rows per attention invocation: 1, 2 or 4 (each key/value read serves that many queries). */
  readonly attentionQueries: 1 | 2 | 4;
  /** Choose the query rows per invocation by sequence length (attentionQueriesFor) instead. */
  readonly attentionQueriesByLength: boolean;
  /** The device's maxComputeWorkgroupStorageSize. */
  readonly workgroupStorage: number;
  /** The device's maxComputeWorkgroupsPerDimension. */
  readonly workgroupsPerDimension: number;
  /** WGSL's dot4I8Packed for the q8 GEMM (else its bytes are unpacked with shifts; kernels-q8.ts). */
  readonly packedDot4?: boolean;
}

/** Invocations per attention workgroup. */
export const ATTENTION_BQ = 64;
/** Largest head size the attention kernel keeps in registers. */
export const MAX_HEAD_SIZE = 128;

export { f32Bits };

const act = (a: Act): Resource => ({ kind: 'activation', act: a });
const weight = (buffer: GpuBuffer): Resource => ({ kind: 'weight', buffer });

function call(
  config: KernelConfig,
  op: KernelCall['op'],
  key: PipelineKey,
  params: number[],
  bindings: [number, Resource][],
  workgroups: [number, number, number],
  flop = 0,
): KernelCall {
  for (const n of workgroups) {
    if (n > config.workgroupsPerDimension) {
      throw new DualbertError(
        'INVALID_ARGUMENT',
        `webgpu: ${op} of this batch needs ${n} workgroups in one dimension, above this GPU's ${config.workgroupsPerDimension}: embed with a smaller batchSize`,
      );
    }
  }
  return { op, key, keyString: pipelineKeyString(key), params: Uint32Array.from(params), bindings, workgroups, flop };
}

/** Workgroup size of the one-row-per-workgroup kernels: about two columns per invocation. */
export function rowWorkgroupSize(cols: number): number {
  return cols >= 512 ? 256 : cols >= 128 ? 128 : 64;
}

/** A grid of `count` workgroups, wrapped into y past the per-dimension limit. */
function rowGrid(config: KernelConfig, count: number): [number, number, number] {
  const x = Math.min(count, config.workgroupsPerDimension);
  return [x, Math.ceil(count / x), 1];
}

/**
 * The register tile of a GEMM with n rows: rows × columns per invocation. By rows, as measured on
 * an H200 through Dawn/Vulkan (bench/results/gpu-h200-2026-12-01.md, GPU time of minilm's GEMMs):
 * 64×64 tiles (4×4) are fastest up to 4,096 rows, where larger tiles leave SMs idle; 128×64 (8×4)
 * at 8,192–16,384 rows; 128×128 (8×8) from 32,768 rows (B256 T128: 23.2 against 26.5 ms a forward).
 */
export function gemmTileFor(config: KernelConfig, n: number): { tm: 4 | 8; tn: 4 | 8 } {
  if (!config.gemmTileByRows) return { tm: config.gemmTM, tn: config.gemmTN };
  if (n >= 24576) return { tm: 8, tn: 8 };
  if (n >= 8192) return { tm: 8, tn: 4 };
  return { tm: 4, tn: 4 };
}

/**
 * Query rows per attention invocation for sequences of t tokens: 2 from 128 tokens (each key and
 * value read serves two queries: 3.5% less GPU time at 1000×T512 on the H200), else 1.
 */
export function attentionQueriesFor(config: KernelConfig, t: number): 1 | 2 | 4 {
  if (!config.attentionQueriesByLength) return config.attentionQueries;
  return t >= 128 ? 2 : 1;
}

/** Fewer output tiles than this leave most of a large GPU idle: split K instead. */
const SPLIT_K_MAX_TILES = 32;
/** Shortest K that is split, and the shortest K range per split. */
const SPLIT_K_MIN_K = 1024;
const SPLIT_K_MIN_RANGE = 256;

/**
 * How a GEMM of [n, k] × [k, m] is split over K: `splits` workgroups along z, each covering `kc`
 * (a multiple of the K tile). One split when the output alone has enough workgroups.
 */
export function splitKFor(config: KernelConfig, n: number, k: number, m: number): { splits: number; kc: number } {
  const { tm, tn } = gemmTileFor(config, n);
  const tiles = Math.ceil(m / (16 * tn)) * Math.ceil(n / (16 * tm));
  if (!config.splitK || k % 4 !== 0 || m % 4 !== 0 || k < SPLIT_K_MIN_K || tiles >= SPLIT_K_MAX_TILES) return { splits: 1, kc: k };
  const wanted = Math.min(8, Math.floor(k / SPLIT_K_MIN_RANGE), Math.ceil((2 * SPLIT_K_MAX_TILES) / tiles));
  const kc = Math.ceil(k / wanted / config.gemmBK) * config.gemmBK;
  return { splits: Math.ceil(k / kc), kc };
}

/**
 * out[N, M] = x[N, K]·Wᵀ + b, then the epilogue; `wt` is W transposed ([K, M], see
 * transposeDispatch). With split-K (see splitKFor) `partials` receives the per-split sums and
 * a second call reduces them; otherwise one call does everything.
 */
export function linearCalls(
  config: KernelConfig,
  n: number,
  x: Act,
  wt: GpuBuffer,
  b: GpuBuffer,
  epilogue: 'none' | 'gelu' | 'residual',
  residual: Act | undefined,
  out: Act,
  split: { splits: number; kc: number; partials?: Act } = { splits: 1, kc: x.cols },
): KernelCall[] {
  const k = x.cols;
  const m = out.cols;
  const flop = 2 * n * k * m;
  const { tm, tn } = gemmTileFor(config, n);
  const grid = (z: number): [number, number, number] => [Math.ceil(m / (16 * tn)), Math.ceil(n / (16 * tm)), z];
  const gemmDefines = { F16: config.f16, WH: config.halfWeights, BK: config.gemmBK, TM: tm, TM8: tm === 8, TN: tn, TN8: tn === 8 };
  if (split.splits > 1) {
    const partials = split.partials!;
    const partialKey: PipelineKey = { shader: 'gemm', defines: { ...gemmDefines, VEC4: true, SPLITK: true, GELU: false, RESIDUAL: false } };
    const reduceKey: PipelineKey = { shader: 'gemm_reduce', defines: { F16: config.f16, GELU: epilogue === 'gelu', RESIDUAL: epilogue === 'residual' } };
    const reduceBindings: [number, Resource][] = [
      [bind('gemm_reduce', 'partial'), act(partials)],
      [bind('gemm_reduce', 'bias'), weight(b)],
      [bind('gemm_reduce', 'out'), act(out)],
    ];
    if (epilogue === 'residual') reduceBindings.push([bind('gemm_reduce', 'res'), act(residual!)]);
    return [
      call(
        config,
        'linear',
        partialKey,
        paramsOf('gemm', { n, k, m, kc: split.kc }),
        [
          [bind('gemm', 'x'), act(x)],
          [bind('gemm', 'wt'), weight(wt)],
          [bind('gemm', 'partial'), act(partials)],
        ],
        grid(split.splits),
        flop,
      ),
      call(config, 'linear', reduceKey, paramsOf('gemm_reduce', { n, m, splits: split.splits }), reduceBindings, [Math.ceil(m / 4 / 64), n, 1]),
    ];
  }
  const key: PipelineKey = {
    shader: 'gemm',
    defines: { ...gemmDefines, VEC4: k % 4 === 0 && m % 4 === 0, SPLITK: false, GELU: epilogue === 'gelu', RESIDUAL: epilogue === 'residual' },
  };
  const bindings: [number, Resource][] = [
    [bind('gemm', 'x'), act(x)],
    [bind('gemm', 'wt'), weight(wt)],
    [bind('gemm', 'bias'), weight(b)],
    [bind('gemm', 'out'), act(out)],
  ];
  if (epilogue === 'residual') bindings.push([bind('gemm', 'res'), act(residual!)]);
  return [call(config, 'linear', key, paramsOf('gemm', { n, k, m, kc: k }), bindings, grid(1), flop)];
}

/**
 * The transpose of a [rows, cols] linear weight into [cols, rows], the layout the GEMM streams;
 * not a graph op: every linear weight is transposed once, at load (WebGpuBackend.upload).
 */
export function transposeDispatch(config: KernelConfig, rows: number, cols: number): { key: PipelineKey; params: Uint32Array; workgroups: [number, number, number] } {
  return {
    key: { shader: 'transpose', defines: { F16: config.f16 } },
    params: Uint32Array.from(paramsOf('transpose', { rows, cols })),
    workgroups: [Math.ceil(cols / 16), Math.ceil(rows / 16), 1],
  };
}

/** LayerNorm of each of `rows` rows. */
export function layerNormCall(config: KernelConfig, rows: number, x: Act, gamma: GpuBuffer, beta: GpuBuffer, eps: number, out: Act): KernelCall {
  const key: PipelineKey = { shader: 'layernorm', defines: { F16: config.f16, SUBGROUPS: config.subgroups, WG: rowWorkgroupSize(x.cols) } };
  return call(
    config,
    'layerNorm',
    key,
    paramsOf('layernorm', { rows, cols: x.cols, eps: f32Bits(eps) }),
    [
      [bind('layernorm', 'x'), act(x)],
      [bind('layernorm', 'gamma'), weight(gamma)],
      [bind('layernorm', 'beta'), weight(beta)],
      [bind('layernorm', 'out'), act(out)],
    ],
    rowGrid(config, rows),
  );
}

/** L2 normalization of each of `rows` rows. */
export function normalizeCall(config: KernelConfig, rows: number, x: Act, eps: number, out: Act): KernelCall {
  const key: PipelineKey = { shader: 'normalize', defines: { F16: config.f16, SUBGROUPS: config.subgroups, WG: rowWorkgroupSize(x.cols) } };
  return call(
    config,
    'normalize',
    key,
    paramsOf('normalize', { rows, cols: x.cols, eps: f32Bits(eps) }),
    [
      [bind('normalize', 'x'), act(x)],
      [bind('normalize', 'out'), act(out)],
    ],
    rowGrid(config, rows),
  );
}

/**
 * Embedding gather + add for N = rows token rows of sequences of length t. `word` is the table,
 * or with `gathered` the batch's rows gathered on the host ([N, C], an input buffer). Absent
 * position / token-type tables leave their term out.
 */
export function embedCall(
  config: KernelConfig,
  rows: number,
  t: number,
  word: GpuBuffer | 'gathered',
  position: GpuBuffer | undefined,
  tokenType: GpuBuffer | undefined,
  posOffset: number,
  out: Act,
): KernelCall {
  const gathered = word === 'gathered';
  const key: PipelineKey = {
    shader: 'embed',
    defines: { F16: config.f16, WH: config.halfWeights, WG: rowWorkgroupSize(out.cols), POSITION: position !== undefined, TYPES: tokenType !== undefined, GATHERED: gathered },
  };
  // 'auto' layouts leave out the bindings a variant does not read.
  const bindings: [number, Resource][] = [[bind('embed', 'word'), gathered ? { kind: 'input', name: 'words' } : weight(word)]];
  if (!gathered) bindings.push([bind('embed', 'ids'), { kind: 'input', name: 'ids' }]);
  if (position) bindings.push([bind('embed', 'position'), weight(position)]);
  if (tokenType) {
    bindings.push([bind('embed', 'typeIds'), { kind: 'input', name: 'typeIds' }]);
    bindings.push([bind('embed', 'tokenType'), weight(tokenType)]);
  }
  bindings.push([bind('embed', 'out'), act(out)]);
  return call(config, 'embed', key, paramsOf('embed', { rows, cols: out.cols, t, posOffset }), bindings, rowGrid(config, rows));
}

/** Rotary embeddings on Q and K of `rows` rows of the fused [N, 3C] projection (V copied). */
export function ropeCall(config: KernelConfig, rows: number, t: number, c: number, headSize: number, interleaved: boolean, x: Act, cos: GpuBuffer, sin: GpuBuffer, out: Act): KernelCall {
  const key: PipelineKey = { shader: 'rope', defines: { F16: config.f16, WG: rowWorkgroupSize(3 * c), INTERLEAVED: interleaved } };
  return call(
    config,
    'rope',
    key,
    paramsOf('rope', { rows, t, c, hs: headSize }),
    [
      [bind('rope', 'x'), act(x)],
      [bind('rope', 'cosTable'), weight(cos)],
      [bind('rope', 'sinTable'), weight(sin)],
      [bind('rope', 'out'), act(out)],
    ],
    rowGrid(config, rows),
  );
}

/** act(first half) · second half of `rows` rows of [2I] (a gated MLP). */
export function gluCall(config: KernelConfig, rows: number, activation: GluActivation, x: Act, out: Act): KernelCall {
  const key: PipelineKey = {
    shader: 'glu',
    defines: { F16: config.f16, WG: rowWorkgroupSize(out.cols), GELU: activation === 'gelu', GELU_TANH: activation === 'gelu_tanh', SILU: activation === 'silu' },
  };
  return call(
    config,
    'glu',
    key,
    paramsOf('glu', { rows, i: out.cols }),
    [
      [bind('glu', 'x'), act(x)],
      [bind('glu', 'out'), act(out)],
    ],
    rowGrid(config, rows),
  );
}

/** Pooling of b sequences of t rows each. */
export function poolCall(config: KernelConfig, b: number, t: number, mode: PoolingMode, x: Act, out: Act): KernelCall {
  const wg = 64;
  const key: PipelineKey = {
    shader: 'pool',
    defines: {
      F16: config.f16,
      WG: wg,
      MEAN: mode === 'mean',
      CLS: mode === 'cls',
      MAX: mode === 'max',
      MEAN_SQRT_LEN: mode === 'mean_sqrt_len',
      WEIGHTEDMEAN: mode === 'weightedmean',
      LASTTOKEN: mode === 'lasttoken',
    },
  };
  // y·65535 + z: sequences past the per-dimension limit go to z (pool.wgsl assumes 65535 per y).
  const y = Math.min(b, 65535);
  return call(
    config,
    'pool',
    key,
    paramsOf('pool', { b, t, cols: x.cols }),
    // cls reads no mask, and 'auto' layouts leave out bindings a variant does not use.
    mode === 'cls'
      ? [
          [bind('pool', 'x'), act(x)],
          [bind('pool', 'out'), act(out)],
        ]
      : [
          [bind('pool', 'mask'), { kind: 'input', name: 'mask' }],
          [bind('pool', 'x'), act(x)],
          [bind('pool', 'out'), act(out)],
        ],
    [Math.ceil(x.cols / wg), y, Math.ceil(b / y)],
  );
}

/**
 * A Dense head on b rows: out[b, M] = act(x[b, K]·Wᵀ + bias); `wt` is W transposed ([K, M]),
 * `bias` may be absent.
 */
export function denseCall(config: KernelConfig, b: number, x: Act, wt: GpuBuffer, bias: GpuBuffer | undefined, activation: DenseActivation, out: Act): KernelCall {
  const wg = 64;
  const key: PipelineKey = {
    shader: 'dense',
    defines: {
      F16: config.f16,
      WH: config.halfWeights,
      WG: wg,
      BIAS: bias !== undefined,
      TANH: activation === 'tanh',
      RELU: activation === 'relu',
      GELU: activation === 'gelu',
      SIGMOID: activation === 'sigmoid',
    },
  };
  const bindings: [number, Resource][] = [
    [bind('dense', 'x'), act(x)],
    [bind('dense', 'wt'), weight(wt)],
    [bind('dense', 'out'), act(out)],
  ];
  // 'auto' layouts leave out bindings a variant does not use.
  if (bias) bindings.splice(2, 0, [bind('dense', 'bias'), weight(bias)]);
  const y = Math.min(b, 65535);
  return call(config, 'dense', key, paramsOf('dense', { b, k: x.cols, m: out.cols }), bindings, [Math.ceil(out.cols / wg), y, Math.ceil(b / y)], 2 * b * x.cols * out.cols);
}

/** Key rows per attention tile: the preferred size, halved until K, V and the key flags fit. */
export function attentionKeyTile(config: KernelConfig, headSize: number): number {
  let bkv = config.attentionKeys;
  while (bkv > 4 && 2 * bkv * headSize * 4 + bkv * 4 > config.workgroupStorage) bkv /= 2;
  return bkv;
}

/**
 * Attention of b sequences of t tokens, numHeads heads of headSize; with `window`, query i sees
 * keys with |i − j| ≤ window; with `bias` ([numHeads, 2·span − 1]) its column j − i + span − 1
 * is added to the scaled scores.
 */
export function attentionCall(
  config: KernelConfig,
  b: number,
  t: number,
  numHeads: number,
  headSize: number,
  scale: number,
  qkv: Act,
  out: Act,
  extra: { window?: number; bias?: { buffer: GpuBuffer; span: number } } = {},
): KernelCall {
  if (headSize % 4 !== 0 || headSize > MAX_HEAD_SIZE) {
    throw new DualbertError(
      'UNSUPPORTED_ARCHITECTURE',
      `webgpu: attention needs a head size that is a multiple of 4 and at most ${MAX_HEAD_SIZE} (this model has ${headSize}); use device "wasm" or "reference"`,
    );
  }
  const qpt = attentionQueriesFor(config, t);
  const key: PipelineKey = {
    shader: 'attention',
    defines: {
      F16: config.f16,
      HS4: headSize / 4,
      BKV: attentionKeyTile(config, headSize),
      BQ: ATTENTION_BQ,
      QPT: qpt,
      WINDOW: extra.window !== undefined,
      BIAS: extra.bias !== undefined,
    },
  };
  const bindings: [number, Resource][] = [
    [bind('attention', 'qkv'), act(qkv)],
    [bind('attention', 'mask'), { kind: 'input', name: 'mask' }],
    [bind('attention', 'keyLen'), { kind: 'input', name: 'keyLen' }],
    [bind('attention', 'out'), act(out)],
  ];
  if (extra.bias) bindings.push([bind('attention', 'bias'), weight(extra.bias.buffer)]);
  // Keys each query sees: all of a full sequence, or at most 2·window + 1.
  const keys = extra.window !== undefined ? Math.min(t, 2 * extra.window + 1) : t;
  return call(
    config,
    'attention',
    key,
    paramsOf('attention', { t, c: numHeads * headSize, scale: f32Bits(scale), window: extra.window ?? 0, span: extra.bias?.span ?? 0 }),
    bindings,
    [Math.ceil(t / (ATTENTION_BQ * qpt)), numHeads, b],
    // Q·Kᵀ and P·V over full (unpadded) sequences: 2 · 2·T·keys·HS per head and sequence.
    4 * b * numHeads * t * keys * headSize,
  );
}
