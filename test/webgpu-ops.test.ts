/**
 * Op-level parity of every WGSL kernel against the float64 reference (the harness of
 * test/helpers/op-parity.ts), on Dawn in Node (SwiftShader on CPU-only machines): the standard
 * cases, both reduction variants (subgroups and the workgroup-memory fallback), both GEMM K tiles,
 * and extra cases for the GPU's own edge paths (tile borders, masks with holes, head size 64).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from 'vitest';
import { createWebGpuBackend, type WebGpuTuning } from '../ts/backends/webgpu/index.js';
import { openGpu, type GpuContext } from '../ts/backends/webgpu/gpu.js';
import type { BatchInputs } from '../ts/graph/ops.js';
import type { GraphWeights } from '../ts/graph/weights.js';
import { skipOrFail } from './helpers/ci.js';
import { type OpCase, OP_TOLERANCE, maskedBatch, randomTensor, rng, runOpParity, standardOpCases } from './helpers/op-parity.js';
import { getNodeGpu, getNodeGpuAdapter, noAdapterHint, releaseNodeGpu } from './helpers/webgpu.js';

let context: GpuContext | undefined;

beforeAll(async () => {
  if (await getNodeGpuAdapter()) context = await openGpu({ gpu: getNodeGpu() });
});
afterAll(() => {
  context?.device.destroy();
  releaseNodeGpu();
});

function gpuOrSkip(ctx: TestContext): GpuContext {
  if (!context) skipOrFail(ctx, noAdapterHint());
  return context;
}

const maker = (c: GpuContext, tuning: WebGpuTuning = {}) => (w: GraphWeights) => createWebGpuBackend(w, { device: c.device, gpu: getNodeGpu(), tuning });

/**
 * The tolerance of a case: OP_TOLERANCE, with one justified exception. Attention with logits in
 * the thousands (the standard "scale×30" case: |q|, |k| ≤ 30, HS = 16, so |q_d·k_d·scale| ≤ 225)
 * cannot meet 1e-5 against a float64 oracle in f32 arithmetic, and WGSL has no f64: each product
 * is rounded by ~225·2⁻²⁴ ≈ 1.3e-5, so a score of 16 products carries ~√16·1.3e-5 ≈ 5e-5 of
 * absolute error, and softmax weights are relatively off by the score error (e^δ ≈ 1 + δ), which
 * reaches the output as ~1e-4 of |V| (measured 1.1e-4 on SwiftShader). 2e-4 still catches a
 * kernel that skips the max subtraction (inf/NaN) or mis-weights keys (errors of order 1).
 * Real BERT scores are below ~30 in magnitude, where the f32 error is ~1e-6.
 */
function tolerance(opCase: OpCase): number {
  if (opCase.node.op === 'attention' && opCase.name.endsWith('scale×30')) return 2e-4;
  return OP_TOLERANCE[opCase.node.op];
}

async function expectParity(c: GpuContext, opCase: OpCase, tuning: WebGpuTuning = {}): Promise<void> {
  const r = await runOpParity(maker(c, tuning), opCase);
  expect(r.want.length).toBeGreaterThan(0);
  expect(r.got.length).toBe(r.want.length);
  const first = `${Array.from(r.got.slice(0, 3), (v) => v.toFixed(6))} / ${Array.from(r.want.slice(0, 3), (v) => v.toFixed(6))}`;
  expect(r.maxRel, `${opCase.name}: max rel ${r.maxRel.toExponential(2)}, first got / want ${first}`).toBeLessThanOrEqual(tolerance(opCase));
}

/** A batch with an explicit mask (holes anywhere, not only right padding). */
function batchWithMask(rows: number[][], random: () => number): BatchInputs {
  const T = rows[0]!.length;
  const ids = new Int32Array(rows.length * T).map(() => Math.floor(random() * 50));
  return { batchSize: rows.length, seqLen: T, ids, typeIds: new Int32Array(rows.length * T), attentionMask: Uint8Array.from(rows.flat()) };
}

/** Cases for paths the standard set does not reach on a GPU. */
function gpuEdgeCases(): OpCase[] {
  const random = rng(7);
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

const standard = standardOpCases();
const edges = gpuEdgeCases();

describe('webgpu kernels vs the float64 reference', () => {
  it.for(standard.map((c) => [c.name, c] as const))('%s', async ([, c], ctx) => {
    await expectParity(gpuOrSkip(ctx), c);
  });

  it.for(edges.map((c) => [c.name, c] as const))('%s', async ([, c], ctx) => {
    await expectParity(gpuOrSkip(ctx), c);
  });
});

describe('webgpu kernel variants', () => {
  const reductions = [...standard, ...edges].filter((c) => c.node.op === 'layerNorm' || c.node.op === 'normalize');

  it('reductions without subgroups (the workgroup-memory fallback)', async (ctx) => {
    const c = gpuOrSkip(ctx);
    for (const opCase of reductions) await expectParity(c, opCase, { subgroups: false });
  });

  it('reductions with subgroups, where the device has them', async (ctx) => {
    const c = gpuOrSkip(ctx);
    if (!c.capabilities.subgroups) {
      console.warn('[webgpu] this device has no subgroups + subgroup_id: only the fallback was tested');
      return;
    }
    const backend = await createWebGpuBackend(new Map(), { device: c.device, gpu: getNodeGpu() });
    expect(backend.info.subgroups).toBe(true);
    backend.dispose();
    for (const opCase of reductions) await expectParity(c, opCase, { subgroups: true });
  });

  it.for([
    [32, 4],
    [16, 8],
    [32, 8],
  ] as const)('GEMM with K tile %i and %i rows per invocation', async ([gemmBK, gemmTM], ctx) => {
    const c = gpuOrSkip(ctx);
    // The tiling changes, the epilogues do not: every shape once (residual: the most bindings),
    // and the tile-border cases; the two widest standard shapes add only SwiftShader time.
    const shapes = [...standard.filter((x) => x.name.endsWith(' residual') && !/→(1152|1536) /.test(x.name)), ...edges.filter((x) => x.node.op === 'linear')];
    for (const opCase of shapes) await expectParity(c, opCase, { gemmBK, gemmTM });
  });

  it('GEMM without split-K on the shapes that split', async (ctx) => {
    const c = gpuOrSkip(ctx);
    for (const opCase of [...standard, ...edges].filter((x) => x.node.op === 'linear' && /x(1040|1536)→/.test(x.name))) {
      await expectParity(c, opCase, { splitK: false });
    }
  });

  it.for([
    [8, 1],
    [64, 1],
    [32, 2],
    [16, 2],
  ] as const)('attention with key tiles of %i and %i query rows per invocation', async ([attentionKeys, attentionQueries], ctx) => {
    const c = gpuOrSkip(ctx);
    const cases = [...standard, ...edges].filter((x) => x.node.op === 'attention' && (attentionQueries === 2 || !x.name.includes('T=512')));
    for (const opCase of cases) await expectParity(c, opCase, { attentionKeys, attentionQueries });
  });
});
