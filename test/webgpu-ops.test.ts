/**
 * Op-level parity of the WebGPU kernels against the float64 reference (the harness of
 * test/helpers/op-parity.ts), on Dawn in Node (SwiftShader on CPU-only machines): every op case
 * (standard, edge and head cases, the one list every device runs; the wasm builds run it in
 * wasm-ops.test.ts), then the kernel variants: both reduction variants (subgroups and the
 * workgroup-memory fallback), the GEMM K tiles and rows per invocation, GEMM without split-K, and
 * the attention tilings. One file, one device: SwiftShader compiles a pipeline in seconds, and the
 * variants reuse what the default configuration compiled.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { TestContext } from 'vitest';
import { createWebGpuBackend, type WebGpuTuning } from '../ts/backends/webgpu/index.js';
import type { GpuContext } from '../ts/backends/webgpu/gpu.js';
import type { GraphWeights } from '../ts/graph/weights.js';
import { skipOrFail } from './helpers/ci.js';
import { describeOpParity } from './helpers/device-tests.js';
import { WEBGPU } from './helpers/devices.js';
import { type OpCase, edgeOpCases, headOpCases, runOpParity, standardOpCases } from './helpers/op-parity.js';
import { closeTestGpu, getNodeGpu, noAdapterHint, openTestGpu } from './helpers/webgpu.js';

afterAll(closeTestGpu);

async function gpuOrSkip(ctx: TestContext): Promise<GpuContext> {
  const context = await openTestGpu();
  if (!context) skipOrFail(ctx, noAdapterHint());
  return context;
}

const maker = (c: GpuContext, tuning: WebGpuTuning) => (w: GraphWeights) => createWebGpuBackend(w, { device: c.device, gpu: getNodeGpu(), tuning });

async function expectParity(c: GpuContext, opCase: OpCase, tuning: WebGpuTuning): Promise<void> {
  const r = await runOpParity(maker(c, tuning), opCase);
  expect(r.want.length).toBeGreaterThan(0);
  expect(r.got.length).toBe(r.want.length);
  const first = `${Array.from(r.got.slice(0, 3), (v) => v.toFixed(6))} / ${Array.from(r.want.slice(0, 3), (v) => v.toFixed(6))}`;
  expect(r.maxRel, `${opCase.name}: max rel ${r.maxRel.toExponential(2)}, first got / want ${first}`).toBeLessThanOrEqual(WEBGPU.opTolerance(opCase));
}

const standard = standardOpCases();
const edges = edgeOpCases();

// The one case list (allOpCases), built from its parts so the variants below reuse its reference results.
describeOpParity([WEBGPU], [...standard, ...edges, ...headOpCases()]);

describe('webgpu kernel variants', () => {
  const reductions = [...standard, ...edges].filter((c) => c.node.op === 'layerNorm' || c.node.op === 'normalize');

  it('reductions without subgroups (the workgroup-memory fallback)', async (ctx) => {
    const c = await gpuOrSkip(ctx);
    for (const opCase of reductions) await expectParity(c, opCase, { subgroups: false });
  });

  it('reductions with subgroups, where the device has them', async (ctx) => {
    const c = await gpuOrSkip(ctx);
    // A legitimate absence (the feature is optional): the fallback test above still runs.
    if (!c.capabilities.subgroups) ctx.skip('this device has no subgroups + subgroup_id: only the workgroup-memory fallback is tested here');
    const backend = await createWebGpuBackend(new Map(), { device: c.device, gpu: getNodeGpu() });
    expect(backend.info.subgroups).toBe(true);
    backend.dispose();
    for (const opCase of reductions) await expectParity(c, opCase, { subgroups: true });
  });

  it.for([
    [32, 4, 4],
    [16, 8, 4],
    [32, 8, 4],
    [16, 8, 8], // 128×128 tiles: both column halves, all 8 rows (the 64×128 tile runs a subset of its code)
  ] as const)('GEMM with K tile %i, %i rows and %i columns per invocation', async ([gemmBK, gemmTM, gemmTN], ctx) => {
    const c = await gpuOrSkip(ctx);
    // The tiling changes, the epilogues do not: every shape once (residual: the most bindings),
    // and the tile-border cases; the two widest standard shapes add only SwiftShader time.
    const shapes = [...standard.filter((x) => x.name.endsWith(' residual') && !/→(1152|1536) /.test(x.name)), ...edges.filter((x) => x.node.op === 'linear')];
    for (const opCase of shapes) await expectParity(c, opCase, { gemmBK, gemmTM, gemmTN });
  });

  it('GEMM without split-K on the shapes that split', async (ctx) => {
    const c = await gpuOrSkip(ctx);
    for (const opCase of [...standard, ...edges].filter((x) => x.node.op === 'linear' && /x(1040|1536)→/.test(x.name))) {
      await expectParity(c, opCase, { splitK: false });
    }
  });

  it.for([
    [8, 1],
    [64, 1],
    [32, 2],
    [16, 2],
    [32, 4],
  ] as const)('attention with key tiles of %i and %i query rows per invocation', async ([attentionKeys, attentionQueries], ctx) => {
    const c = await gpuOrSkip(ctx);
    const cases = [...standard, ...edges].filter((x) => x.node.op === 'attention' && (attentionQueries > 1 || !x.name.includes('T=512')));
    for (const opCase of cases) await expectParity(c, opCase, { attentionKeys, attentionQueries });
  });
});
