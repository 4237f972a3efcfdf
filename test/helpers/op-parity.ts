/**
 * The op-level parity harness: runs one op of the graph on a backend under test and on the
 * float64 reference backend, with the same weights and inputs, and reports the difference.
 * Every kernel of every backend (wasm simd/scalar/threaded, WebGPU) is judged by this one harness.
 *
 *   const r = await runOpParity(makeBackend, opCase);   // r.maxAbs, r.maxRel, r.got, r.want
 */
import { ReferenceBackend } from '../../ts/backends/reference/reference-backend.js';
import type { Backend } from '../../ts/backends/types.js';
import { PreparedGraph } from '../../ts/graph/execute.js';
import type { ActivationSpec, BatchInputs, GraphNode, RowKind } from '../../ts/graph/ops.js';
import type { Graph } from '../../ts/graph/plan.js';
import { ropeTable } from '../../ts/graph/rope.js';
import { type GraphWeights, type QuantizedMatrix, type Tensor, quantizedTensor, weightRoles, withRoles } from '../../ts/graph/weights.js';

/** A deterministic PRNG (mulberry32), so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Float32 values uniform in [center − scale, center + scale). */
export function randomTensor(shape: number[], random: () => number, scale = 1, center = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = center + scale * (random() * 2 - 1);
  return { shape, data };
}

/** One op with its inputs: the node, its weights, the batch, and the values of its input activations. */
export interface OpCase {
  name: string;
  node: GraphNode;
  weights: Map<string, Tensor>;
  inputs: BatchInputs;
  /** Input activations by id: [rows kind, cols, values]. */
  activations: Map<string, { rows: RowKind; cols: number; values: Float32Array }>;
  /** Shape of the op's output. */
  out: { rows: RowKind; cols: number };
}

export interface OpParityResult {
  maxAbs: number;
  /** max |got − want| / max(1, |want|). */
  maxRel: number;
  got: Float32Array | Float64Array;
  want: Float64Array;
}

/** The graph of one op: its node, its input activations (written by the harness) and its output. */
export function opGraph(c: OpCase): Graph {
  const activations = new Map<string, ActivationSpec>();
  for (const [id, a] of c.activations) activations.set(id, { id, rows: a.rows, cols: a.cols });
  activations.set(c.node.out, { id: c.node.out, rows: c.out.rows, cols: c.out.cols });
  const roles = weightRoles([c.node]);
  const weights = [...c.weights].map(([name, t]) => ({
    name,
    shape: t.shape,
    role: roles.get(name) ?? ('vector' as const),
    ...(t.quantized ? { precision: 'q8' as const } : {}),
  }));
  return { nodes: [c.node], activations, weights };
}

async function runOne(backend: Backend, c: OpCase): Promise<Float32Array | Float64Array> {
  const prepared = new PreparedGraph(opGraph(c), backend);
  const values = new Map([...c.activations].map(([id, a]) => [id, a.values] as const));
  const { captured } = await prepared.run(c.inputs, { capture: [c.node.out], values });
  return captured.get(c.node.out)!;
}

/** The reference's result of each case, computed once however many devices run it. */
const references = new WeakMap<OpCase, Promise<Float64Array>>();

/** Runs an op case on the backend made by `make` and on the reference; compares. */
export async function runOpParity(make: (weights: GraphWeights) => Promise<Backend>, c: OpCase): Promise<OpParityResult> {
  const weights = withRoles([c.node], c.weights);
  let reference = references.get(c);
  if (!reference) {
    reference = runOne(new ReferenceBackend(weights), c) as Promise<Float64Array>;
    references.set(c, reference);
  }
  const want = await reference;
  const backend = await make(weights);
  try {
    const got = await runOne(backend, c);
    let maxAbs = 0;
    let maxRel = 0;
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(got[i]! - want[i]!);
      if (!(d <= maxAbs)) maxAbs = Number.isNaN(d) ? Infinity : d; // NaN counts as a failure
      maxRel = Math.max(maxRel, maxAbs === Infinity ? Infinity : d / Math.max(1, Math.abs(want[i]!)));
    }
    return { maxAbs, maxRel, got, want };
  } finally {
    backend.dispose();
  }
}

/**
 * Attention whose error is made by the sums over keys: one sequence of T tokens, one head of 64,
 * Q and K uniform in ±1 (scores within a few units: the weights are spread over every key) and V
 * uniform in 4 ± 1 (a common offset, so the row's running P·V totals grow with every key added,
 * which is where float32 sums lose the most). Adding every key's term straight into the running
 * totals leaves 1.3e-5 of error at T 2,048; summing key tiles first, 2–3.5e-6 (issue #13; see
 * test/attention-long-sums.test.ts).
 */
export function longKeySumsCase(T = 2048, seed = 13): OpCase {
  const random = rng(seed);
  const HS = 64;
  const qkv = new Float32Array(T * 3 * HS);
  for (let i = 0; i < qkv.length; i++) qkv[i] = (i % (3 * HS) >= 2 * HS ? 4 : 0) + (random() * 2 - 1);
  return {
    name: `attention B=1 T=${T} NH=1 HS=${HS}, V = 4 ± 1 (sums over many keys)`,
    node: { op: 'attention', out: 'y', qkv: 'qkv', numHeads: 1, headSize: HS, scale: 1 / 8 },
    weights: new Map(),
    inputs: maskedBatch([T], T, random),
    activations: new Map([['qkv', { rows: 'tokens', cols: 3 * HS, values: qkv }]]),
    out: { rows: 'tokens', cols: HS },
  };
}

/** A batch of B sequences of length T where sequence b has lengths[b] real tokens. */
export function maskedBatch(lengths: number[], T: number, random: () => number, vocab = 30522): BatchInputs {
  const B = lengths.length;
  const ids = new Int32Array(B * T);
  const typeIds = new Int32Array(B * T);
  const attentionMask = new Uint8Array(B * T);
  lengths.forEach((len, b) => {
    for (let t = 0; t < T; t++) {
      if (t < len) {
        ids[b * T + t] = Math.floor(random() * vocab);
        typeIds[b * T + t] = random() < 0.5 ? 0 : 1;
        attentionMask[b * T + t] = 1;
      }
    }
  });
  return { batchSize: B, seqLen: T, ids, typeIds, attentionMask };
}

/**
 * The standard op cases: random and extreme inputs, odd sizes (not multiples of 4/8/16), seq 1
 * and 512. Backends run all of these; tolerances are per op (see OP_TOLERANCE).
 */
export function standardOpCases(seed = 1): OpCase[] {
  const random = rng(seed);
  const cases: OpCase[] = [];
  const act = (rows: RowKind, cols: number, values: Float32Array) => ({ rows, cols, values });

  // Linear: shapes (rows, K, M) incl. odd ones; the three epilogues.
  const linearShapes: [number[], number, number, number][] = [
    [[3], 7, 5, 1],
    [[1, 16], 64, 64, 1],
    [[2, 13], 37, 29, 1],
    [[1, 128], 384, 1152, 1],
    [[2, 33], 384, 1536, 1],
    [[3, 17], 1536, 384, 1],
  ];
  for (const [lengths, K, M] of linearShapes) {
    const T = lengths.length === 1 ? lengths[0]! : lengths[1]!;
    const B = lengths.length === 1 ? 1 : lengths[0]!;
    const inputs = maskedBatch(Array(B).fill(T), T, random);
    const N = B * T;
    for (const epilogue of ['none', 'gelu', 'residual'] as const) {
      const weights = new Map([
        ['W', randomTensor([M, K], random, 0.1)],
        ['b', randomTensor([M], random, 0.1)],
      ]);
      const activations = new Map([['x', act('tokens', K, randomTensor([N, K], random, 2).data)]]);
      if (epilogue === 'residual') activations.set('res', act('tokens', M, randomTensor([N, M], random, 2).data));
      cases.push({
        name: `linear ${N}x${K}→${M} ${epilogue}`,
        node: { op: 'linear', out: 'y', x: 'x', weight: 'W', bias: 'b', epilogue, ...(epilogue === 'residual' ? { residual: 'res' } : {}) },
        weights,
        inputs,
        activations,
        out: { rows: 'tokens', cols: M },
      });
    }
  }
  // GELU tails: large positive and negative pre-activations.
  {
    const K = 8;
    const M = 24;
    const inputs = maskedBatch([5], 5, random);
    cases.push({
      name: 'linear gelu tails (|x| up to 40)',
      node: { op: 'linear', out: 'y', x: 'x', weight: 'W', bias: 'b', epilogue: 'gelu' },
      weights: new Map([
        ['W', randomTensor([M, K], random, 1)],
        ['b', randomTensor([M], random, 20)],
      ]),
      inputs,
      activations: new Map([['x', act('tokens', K, randomTensor([5, K], random, 2).data)]]),
      out: { rows: 'tokens', cols: M },
    });
  }

  // LayerNorm: normal, large offset (catastrophic cancellation in one-pass variance), odd widths.
  for (const [C, center, scale] of [
    [64, 0, 1],
    [384, 0, 3],
    [37, 0, 1],
    [384, 1000, 1],
    [384, 0, 1e4],
  ] as const) {
    const inputs = maskedBatch([7, 3], 7, random);
    cases.push({
      name: `layerNorm C=${C} x≈${center}±${scale}`,
      node: { op: 'layerNorm', out: 'y', x: 'x', gamma: 'g', beta: 'b', eps: 1e-12 },
      weights: new Map([
        ['g', randomTensor([C], random, 0.5, 1)],
        ['b', randomTensor([C], random, 0.1)],
      ]),
      inputs,
      activations: new Map([['x', act('tokens', C, randomTensor([14, C], random, scale, center).data)]]),
      out: { rows: 'tokens', cols: C },
    });
  }

  // Attention: padded batches, seq 1, seq 512, odd lengths, large logits.
  const attentionShapes: [number[], number, number, number, number][] = [
    // lengths, T, heads, head size, q/k scale
    [[1], 1, 4, 16, 1],
    [[5, 3, 1], 5, 2, 8, 1],
    [[17, 9], 17, 12, 32, 1],
    [[128, 77], 128, 12, 32, 1],
    [[512], 512, 2, 32, 0.5],
    [[13, 13], 13, 4, 16, 30], // logits in the thousands: softmax must subtract the max
  ];
  for (const [lengths, T, NH, HS, s] of attentionShapes) {
    const inputs = maskedBatch(lengths, T, random);
    const C = NH * HS;
    const N = lengths.length * T;
    cases.push({
      name: `attention B=${lengths.length} T=${T} NH=${NH} HS=${HS} lengths=${lengths.join('/')} scale×${s}`,
      node: { op: 'attention', out: 'y', qkv: 'qkv', numHeads: NH, headSize: HS, scale: 1 / Math.sqrt(HS) },
      weights: new Map(),
      inputs,
      activations: new Map([['qkv', act('tokens', 3 * C, randomTensor([N, 3 * C], random, s).data)]]),
      out: { rows: 'tokens', cols: C },
    });
  }

  // Embedding gather + add.
  for (const [lengths, T, C] of [
    [[4, 2], 4, 64],
    [[9], 9, 37],
  ] as [number[], number, number][]) {
    const inputs = maskedBatch(lengths, T, random, 50);
    cases.push({
      name: `embed T=${T} C=${C}`,
      node: { op: 'embed', out: 'y', word: 'w', position: 'p', tokenType: 't' },
      weights: new Map([
        ['w', randomTensor([50, C], random)],
        ['p', randomTensor([T + 3, C], random)],
        ['t', randomTensor([2, C], random)],
      ]),
      inputs,
      activations: new Map(),
      out: { rows: 'tokens', cols: C },
    });
  }

  // Pooling and normalization.
  for (const mode of ['mean', 'cls', 'max'] as const) {
    const inputs = maskedBatch([6, 1, 4], 6, random);
    cases.push({
      name: `pool ${mode}`,
      node: { op: 'pool', out: 'y', x: 'x', mode },
      weights: new Map(),
      inputs,
      activations: new Map([['x', act('tokens', 37, randomTensor([18, 37], random, 3).data)]]),
      out: { rows: 'sequences', cols: 37 },
    });
  }
  {
    const inputs = maskedBatch([2, 2, 2], 2, random);
    const values = randomTensor([3, 45], random, 5).data;
    values.fill(0, 45, 90); // an all-zero row: the eps clamp keeps it zero, not NaN
    values.fill(1e-20, 90, 91);
    cases.push({
      name: 'normalize (incl. zero and tiny rows)',
      node: { op: 'normalize', out: 'y', x: 'x', eps: 1e-12 },
      weights: new Map(),
      inputs,
      activations: new Map([['x', act('sequences', 45, values)]]),
      out: { rows: 'sequences', cols: 45 },
    });
  }
  return cases;
}

/** A batch with an explicit mask (holes anywhere, not only right padding). */
function batchWithMask(rows: number[][], random: () => number): BatchInputs {
  const T = rows[0]!.length;
  const ids = new Int32Array(rows.length * T).map(() => Math.floor(random() * 50));
  return { batchSize: rows.length, seqLen: T, ids, typeIds: new Int32Array(rows.length * T), attentionMask: Uint8Array.from(rows.flat()) };
}

/**
 * Edge cases beyond the standard set, first written for the GPU's own paths and run on every
 * device: GEMM tile borders and split-K ranges, masks with holes (not only right padding), head
 * size 64, and bge-base width (768) for the reductions.
 */
export function edgeOpCases(seed = 7): OpCase[] {
  const random = rng(seed);
  const cases: OpCase[] = [];
  const act = (rows: 'tokens' | 'sequences', cols: number, values: Float32Array) => ({ rows, cols, values });
  // GEMM tile borders: rows and columns just past a 64 tile, K not a multiple of the K tile.
  for (const [N, K, M, epilogue] of [
    [130, 68, 68, 'residual'],
    [65, 20, 132, 'gelu'],
    [1, 384, 384, 'none'],
    [70, 6, 8, 'residual'], // K % 4 != 0: the scalar path with M % 4 == 0
    [5, 1040, 12, 'gelu'], // split-K: K not a multiple of the splits' range
    [20, 1536, 68, 'residual'], // split-K with a residual, M past one column tile
  ] as const) {
    const activations = new Map([['x', act('tokens', K, randomTensor([N, K], random, 2).data)]]);
    if (epilogue === 'residual') activations.set('res', act('tokens', M, randomTensor([N, M], random, 2).data));
    cases.push({
      name: `linear ${N}x${K}→${M} ${epilogue} (tile borders)`,
      node: { op: 'linear', out: 'y', x: 'x', weight: 'W', bias: 'b', epilogue, ...(epilogue === 'residual' ? { residual: 'res' } : {}) },
      weights: new Map([
        ['W', randomTensor([M, K], random, 0.1)],
        ['b', randomTensor([M], random, 0.1)],
      ]),
      inputs: maskedBatch([N], N, random),
      activations,
      out: { rows: 'tokens', cols: M },
    });
  }
  // Attention: head size 64 (bge-base), a length past one query block, keys past one key tile.
  {
    const inputs = maskedBatch([70, 41], 70, random);
    cases.push({
      name: 'attention B=2 T=70 NH=3 HS=64 lengths=70/41',
      node: { op: 'attention', out: 'y', qkv: 'qkv', numHeads: 3, headSize: 64, scale: 1 / 8 },
      weights: new Map(),
      inputs,
      activations: new Map([['qkv', act('tokens', 3 * 192, randomTensor([140, 3 * 192], random, 1).data)]]),
      out: { rows: 'tokens', cols: 192 },
    });
  }
  // Masks with holes (not right padding): attention and pooling must skip exactly those keys.
  {
    const mask = [
      [1, 0, 1, 1, 0, 0, 1, 0, 0],
      [0, 0, 0, 1, 0, 0, 0, 0, 0],
    ];
    const inputs = batchWithMask(mask, random);
    cases.push({
      name: 'attention with mask holes',
      node: { op: 'attention', out: 'y', qkv: 'qkv', numHeads: 2, headSize: 8, scale: 1 / Math.sqrt(8) },
      weights: new Map(),
      inputs,
      activations: new Map([['qkv', act('tokens', 48, randomTensor([18, 48], random, 1).data)]]),
      out: { rows: 'tokens', cols: 16 },
    });
    for (const mode of ['mean', 'max'] as const) {
      cases.push({
        name: `pool ${mode} with mask holes`,
        node: { op: 'pool', out: 'y', x: 'x', mode },
        weights: new Map(),
        inputs,
        activations: new Map([['x', act('tokens', 20, randomTensor([18, 20], random, 3).data)]]),
        out: { rows: 'sequences', cols: 20 },
      });
    }
  }
  // LayerNorm and normalize at bge-base width (three columns per invocation of 256).
  {
    const inputs = maskedBatch([3], 3, random);
    cases.push({
      name: 'layerNorm C=768 x≈5±2',
      node: { op: 'layerNorm', out: 'y', x: 'x', gamma: 'g', beta: 'b', eps: 1e-12 },
      weights: new Map([
        ['g', randomTensor([768], random, 0.5, 1)],
        ['b', randomTensor([768], random, 0.1)],
      ]),
      inputs,
      activations: new Map([['x', act('tokens', 768, randomTensor([3, 768], random, 2, 5).data)]]),
      out: { rows: 'tokens', cols: 768 },
    });
    cases.push({
      name: 'normalize C=768',
      node: { op: 'normalize', out: 'y', x: 'x', eps: 1e-12 },
      weights: new Map(),
      inputs: maskedBatch([1, 1, 1], 1, random),
      activations: new Map([['x', act('sequences', 768, randomTensor([3, 768], random, 1).data)]]),
      out: { rows: 'sequences', cols: 768 },
    });
  }
  return cases;
}

/**
 * Max |Δ| allowed per op for float32 kernels against the float64 reference, relative to
 * max(1, |want|). Linear sums K products in f32 (K ≤ 1536: ~√K·2⁻²⁴ typical, K·2⁻²⁴ worst).
 */
export const OP_TOLERANCE: Record<GraphNode['op'], number> = {
  embed: 1e-6,
  linear: 2e-5,
  layerNorm: 2e-5,
  attention: 1e-5,
  pool: 1e-5,
  normalize: 1e-6,
  dense: 1e-5, // K ≤ 384 in the cases; measured 1.7e-6 on wasm and webgpu
  rope: 1e-6,
  // The gated activations use the GELU of the linear epilogue: an erf approximation with up to
  // 1.5e-7 absolute error (WGSL), multiplied by |x|/2 and by the gate (|gate| up to 40 in the
  // cases): the linear tolerance.
  glu: 2e-5,
};

/**
 * Op cases for the nodes added after the first vocabulary: the pooling modes mean_sqrt_len,
 * weightedmean and lasttoken (also with mask holes), and the Dense head (each activation, with and
 * without bias, and saturating pre-activations up to ±60). Part of {@link allOpCases}.
 */
export function headOpCases(seed = 2): OpCase[] {
  const random = rng(seed);
  const cases: OpCase[] = [];
  for (const mode of ['mean_sqrt_len', 'weightedmean', 'lasttoken'] as const) {
    for (const [lengths, T, C] of [
      [[6, 1, 4], 6, 37],
      [[1], 1, 16],
      [[128, 77, 3], 128, 384],
    ] as [number[], number, number][]) {
      cases.push({
        name: `pool ${mode} B=${lengths.length} T=${T} C=${C}`,
        node: { op: 'pool', out: 'y', x: 'x', mode },
        weights: new Map(),
        inputs: maskedBatch(lengths, T, random),
        activations: new Map([['x', { rows: 'tokens', cols: C, values: randomTensor([lengths.length * T, C], random, 3).data }]]),
        out: { rows: 'sequences', cols: C },
      });
    }
  }
  for (const activation of ['identity', 'tanh', 'relu', 'gelu', 'sigmoid'] as const) {
    for (const [B, K, M, bias] of [
      [3, 37, 29, true],
      [2, 384, 768, activation === 'tanh'],
      [1, 64, 5, false],
    ] as [number, number, number, boolean][]) {
      const weights = new Map([['W', randomTensor([M, K], random, 0.1)]]);
      if (bias) weights.set('b', randomTensor([M], random, 0.5));
      cases.push({
        name: `dense ${B}x${K}→${M} ${activation}${bias ? '' : ' no bias'}`,
        node: { op: 'dense', out: 'y', x: 'x', weight: 'W', ...(bias ? { bias: 'b' } : {}), activation },
        weights,
        inputs: maskedBatch(Array(B).fill(1), 1, random),
        activations: new Map([['x', { rows: 'sequences', cols: K, values: randomTensor([B, K], random, 2).data }]]),
        out: { rows: 'sequences', cols: M },
      });
    }
  }
  // Saturating activations and masks with holes (their own seed: the cases above stay as they were).
  {
    const random = rng(11);
    for (const activation of ['tanh', 'sigmoid', 'gelu', 'relu'] as const) {
      // Pre-activations up to ±60: tanh/sigmoid saturate, exp must not overflow into NaN.
      cases.push({
        name: `dense 4x16→24 ${activation} saturating (|pre-activation| up to 60)`,
        node: { op: 'dense', out: 'y', x: 'x', weight: 'W', bias: 'b', activation },
        weights: new Map([
          ['W', randomTensor([24, 16], random, 1)],
          ['b', randomTensor([24], random, 30)],
        ]),
        inputs: maskedBatch([1, 1, 1, 1], 1, random),
        activations: new Map([['x', { rows: 'sequences', cols: 16, values: randomTensor([4, 16], random, 2).data }]]),
        out: { rows: 'sequences', cols: 24 },
      });
    }
    const mask = [
      [1, 0, 1, 1, 0, 0, 1, 0, 0],
      [0, 0, 0, 1, 0, 0, 0, 0, 0],
      [1, 1, 1, 1, 1, 1, 1, 1, 1],
    ];
    const T = mask[0]!.length;
    const inputs: BatchInputs = {
      batchSize: mask.length,
      seqLen: T,
      ids: new Int32Array(mask.length * T),
      typeIds: new Int32Array(mask.length * T),
      attentionMask: Uint8Array.from(mask.flat()),
    };
    for (const mode of ['mean_sqrt_len', 'weightedmean', 'lasttoken'] as const) {
      cases.push({
        name: `pool ${mode} with mask holes`,
        node: { op: 'pool', out: 'y', x: 'x', mode },
        weights: new Map(),
        inputs,
        activations: new Map([['x', { rows: 'tokens', cols: 21, values: randomTensor([mask.length * T, 21], random, 3).data }]]),
        out: { rows: 'sequences', cols: 21 },
      });
    }
  }

  return cases;
}

/**
 * The one op case list every device runs: standard, edge and head cases. A device that does not
 * implement a node yet (its `supports()` says no) must refuse it with UNSUPPORTED_OP.
 */
export function allOpCases(): OpCase[] {
  return [...standardOpCases(), ...edgeOpCases(), ...headOpCases()];
}

/**
 * A random [M, K] int8 or uint8 matrix with per-row (or one) scales and zero points; `sevenBit`:
 * values spanning 128 levels only (as quantize_dynamic's reduce_range gives).
 */
export function randomQuantized(M: number, K: number, random: () => number, dtype: 'int8' | 'uint8', perRow: boolean, zeroPoints?: number[], sevenBit = false): Tensor {
  const values = dtype === 'int8' ? new Int8Array(M * K) : new Uint8Array(M * K);
  const [lo, hi] = sevenBit ? (dtype === 'int8' ? [-64, 63] : [70, 197]) : dtype === 'int8' ? [-128, 127] : [0, 255];
  for (let i = 0; i < values.length; i++) values[i] = lo + Math.floor(random() * (hi - lo + 1));
  const n = perRow ? M : 1;
  const scale = Float32Array.from({ length: n }, () => 0.001 + 0.01 * random());
  const zeroPoint = Int32Array.from({ length: n }, (_, i) => zeroPoints?.[i % zeroPoints.length] ?? (dtype === 'int8' ? 0 : 128));
  const q: QuantizedMatrix = { dtype, values, scale, zeroPoint };
  return quantizedTensor([M, K], q);
}

/**
 * Op cases of the q8 linear (ONNX dynamic quantization): int8 and uint8 weights, per-row and
 * per-tensor scales, zero points at their extremes, odd sizes, the three epilogues; inputs that
 * are all positive, all negative, all zero (scale 1), and exact ties of x / scale (round half
 * to even). The q8 kernels must give the reference's float32 results: the integer sums are
 * exact, and every float step is the same float32 operation.
 */
export function q8OpCases(seed = 3): OpCase[] {
  const random = rng(seed);
  const cases: OpCase[] = [];
  const act = (rows: RowKind, cols: number, values: Float32Array) => ({ rows, cols, values });
  const shapes: [number, number, number, 'int8' | 'uint8', boolean, number[] | undefined, boolean][] = [
    // rows, K, M, weights, per-row scales, zero points, 7-bit values (the relaxed builds' fast path)
    [5, 7, 5, 'uint8', false, [0], false],
    [16, 64, 64, 'int8', true, undefined, false],
    [26, 37, 29, 'uint8', true, [0, 255, 3, 128], false],
    [3, 64, 192, 'int8', false, [-128, 127, 5], false],
    [66, 384, 96, 'uint8', false, undefined, false],
    [51, 1536, 40, 'int8', true, undefined, false],
    [18, 45, 27, 'int8', false, [0, -64, 63], true],
    [33, 384, 64, 'uint8', true, [128, 0, 255], true],
  ];
  for (const [N, K, M, dtype, perRow, zeros, sevenBit] of shapes) {
    for (const epilogue of ['none', 'gelu', 'residual'] as const) {
      const inputs = maskedBatch([N], N, random);
      const weights = new Map<string, Tensor>([
        ['W', randomQuantized(M, K, random, dtype, perRow, zeros, sevenBit)],
        ['b', randomTensor([M], random, 0.1)],
      ]);
      const activations = new Map([['x', act('tokens', K, randomTensor([N, K], random, 2, epilogue === 'gelu' ? 0.5 : 0).data)]]);
      if (epilogue === 'residual') activations.set('res', act('tokens', M, randomTensor([N, M], random, 2).data));
      cases.push({
        name: `q8 linear ${N}x${K}→${M} ${dtype}${sevenBit ? ' 7-bit' : ''} ${perRow ? 'per row' : 'per tensor'} ${epilogue}`,
        node: { op: 'linear', out: 'y', x: 'x', weight: 'W', bias: 'b', epilogue, precision: 'q8', ...(epilogue === 'residual' ? { residual: 'res' } : {}) },
        weights,
        inputs,
        activations,
        out: { rows: 'tokens', cols: M },
      });
    }
  }
  // Special inputs: all ≥ 0 (zero point 0), all ≤ 0 (zero point 255), all zero (scale 1), and
  // values k/256 with min −255/128: scale 1/128 exactly, x / scale = −k/2 (ties at odd k).
  const N = 9;
  const K = 57;
  const special: [string, (i: number) => number][] = [
    ['x ≥ 0', () => random() * 3],
    ['x ≤ 0', () => -random() * 3],
    ['x = 0', () => 0],
    ['ties of x / scale', (i) => (i === 0 ? -255 / 128 : -(i % 511) / 256)],
  ];
  for (const [what, value] of special) {
    const x = Float32Array.from({ length: N * K }, (_, i) => value(i));
    cases.push({
      name: `q8 linear ${what}`,
      node: { op: 'linear', out: 'y', x: 'x', weight: 'W', bias: 'b', epilogue: 'none', precision: 'q8' },
      weights: new Map<string, Tensor>([
        ['W', randomQuantized(24, K, random, 'uint8', true)],
        ['b', randomTensor([24], random, 0.1)],
      ]),
      inputs: maskedBatch([N], N, random),
      activations: new Map([['x', act('tokens', K, x)]]),
      out: { rows: 'tokens', cols: 24 },
    });
  }
  return cases;
}

/**
 * Op cases for the encoder-family nodes (ts/graph/families.ts): RoPE in both layouts (positions
 * up to 600, head sizes 8/16/64), gated activations (erf/tanh GELU, SiLU) with tails, attention
 * with a sliding window (0, 1, 3, 64; padded rows that see no key; several query blocks), with
 * a relative position bias, with both, and embeddings with offset positions or without
 * position/type tables. A backend runs these once its `supports()` accepts the nodes.
 */
export function familyOpCases(seed = 3): OpCase[] {
  const random = rng(seed);
  const cases: OpCase[] = [];
  const act = (rows: RowKind, cols: number, values: Float32Array) => ({ rows, cols, values });

  // RoPE: angles from a real table (θ 10000 and 160000), Q/K/V of several heads.
  for (const [lengths, T, NH, HS, layout, theta] of [
    [[5, 3], 5, 2, 8, 'half', 10000],
    [[13], 13, 3, 16, 'interleaved', 500],
    [[600, 17], 600, 2, 64, 'half', 160000],
    [[7, 7, 2], 7, 4, 64, 'interleaved', 10000],
  ] as [number[], number, number, number, 'half' | 'interleaved', number][]) {
    const C = NH * HS;
    const N = lengths.length * T;
    const P = T + 5;
    const table = (part: 'cos' | 'sin'): Tensor => ({ shape: [P, HS / 2], data: ropeTable(part, theta, HS, P) });
    cases.push({
      name: `rope ${layout} B=${lengths.length} T=${T} NH=${NH} HS=${HS} θ=${theta}`,
      node: { op: 'rope', out: 'y', x: 'x', numHeads: NH, headSize: HS, cos: 'cos', sin: 'sin', layout },
      weights: new Map([
        ['cos', table('cos')],
        ['sin', table('sin')],
      ]),
      inputs: maskedBatch(lengths, T, random),
      activations: new Map([['x', act('tokens', 3 * C, randomTensor([N, 3 * C], random, 3).data)]]),
      out: { rows: 'tokens', cols: 3 * C },
    });
  }

  // Gated MLP activations, including tails (|x| up to 40) and odd widths.
  for (const activation of ['gelu', 'gelu_tanh', 'silu'] as const) {
    for (const [N, I, scale] of [
      [7, 37, 3],
      [3, 96, 40],
    ] as const) {
      cases.push({
        name: `glu ${activation} ${N}x${2 * I}→${I} |x|≤${scale}`,
        node: { op: 'glu', out: 'y', x: 'x', activation },
        weights: new Map(),
        inputs: maskedBatch([N], N, random),
        activations: new Map([['x', act('tokens', 2 * I, randomTensor([N, 2 * I], random, scale).data)]]),
        out: { rows: 'tokens', cols: I },
      });
    }
  }

  // Attention with a window and/or a relative position bias.
  const attention = (lengths: number[], T: number, NH: number, HS: number, window: number | undefined, biasSpan: number | undefined, s = 1): OpCase => {
    const C = NH * HS;
    const N = lengths.length * T;
    const weights = new Map<string, Tensor>();
    if (biasSpan !== undefined) weights.set('bias', randomTensor([NH, 2 * biasSpan - 1], random, 3));
    return {
      name: `attention B=${lengths.length} T=${T} NH=${NH} HS=${HS} lengths=${lengths.join('/')}${window !== undefined ? ` window ${window}` : ''}${biasSpan !== undefined ? ` bias span ${biasSpan}` : ''}`,
      node: {
        op: 'attention',
        out: 'y',
        qkv: 'qkv',
        numHeads: NH,
        headSize: HS,
        scale: 1 / Math.sqrt(HS),
        ...(window !== undefined ? { window } : {}),
        ...(biasSpan !== undefined ? { positionBias: 'bias' } : {}),
      },
      weights,
      inputs: maskedBatch(lengths, T, random),
      activations: new Map([['qkv', act('tokens', 3 * C, randomTensor([N, 3 * C], random, s).data)]]),
      out: { rows: 'tokens', cols: C },
    };
  };
  cases.push(attention([9, 4], 9, 2, 8, 0, undefined)); // only itself
  cases.push(attention([17, 5, 1], 17, 4, 16, 1, undefined)); // padded rows past every window see nothing
  cases.push(attention([40, 12], 40, 2, 32, 3, undefined, 2));
  cases.push(attention([300, 200], 300, 2, 64, 64, undefined)); // several query blocks, window across them
  cases.push(attention([12, 7], 12, 4, 8, undefined, 12));
  cases.push(attention([150, 60], 150, 2, 16, undefined, 200));
  cases.push(attention([33, 20], 33, 3, 16, 5, 40));
  cases.push(attention([200], 200, 2, 32, undefined, undefined, 0.5)); // several query blocks, no window

  // Embeddings: offset positions (RoBERTa), no position table (rotary), no token types.
  for (const [name, withPosition, withTypes, offset] of [
    ['offset 2', true, true, 2],
    ['no position table', false, true, 0],
    ['no token types, offset 2', true, false, 2],
    ['word only', false, false, 0],
  ] as [string, boolean, boolean, number][]) {
    const T = 6;
    const C = 37;
    const weights = new Map<string, Tensor>([['w', randomTensor([50, C], random)]]);
    if (withPosition) weights.set('p', randomTensor([T + offset, C], random));
    if (withTypes) weights.set('t', randomTensor([2, C], random));
    cases.push({
      name: `embed ${name}`,
      node: { op: 'embed', out: 'y', word: 'w', ...(withPosition ? { position: 'p', positionOffset: offset } : {}), ...(withTypes ? { tokenType: 't' } : {}) },
      weights,
      inputs: maskedBatch([6, 3], T, random, 50),
      activations: new Map(),
      out: { rows: 'tokens', cols: C },
    });
  }
  return cases;
}
