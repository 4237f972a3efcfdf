/**
 * The relaxed-SIMD builds (fused multiply-add in the GEMM microkernels): op-level parity with the
 * reference on the standard cases, 1 and 2 threads, and minilm against the golden vectors.
 * Node 20 validates relaxed SIMD only behind --experimental-wasm-relaxed-simd: there this file
 * re-runs itself in a vitest whose test processes get that flag (--execArgv); Node ≥ 22 (and
 * browsers with relaxed SIMD) run it directly.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../ts/backends/wasm/index.js';
import { relaxedSimdSupported } from '../ts/backends/wasm/loader.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import { runGraph } from '../ts/graph/execute.js';
import { bindWeights } from '../ts/graph/weights.js';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../ts/model/synthetic.js';
import { ROOT } from './helpers/build.js';
import { batchFromIds, loadGolden, maxAbsDiff } from './helpers/golden.js';
import { OP_TOLERANCE, runOpParity, standardOpCases } from './helpers/op-parity.js';

const CHILD = 'DUALBERT_RELAXED_SIMD_CHILD';

if (relaxedSimdSupported()) {
  describe.each([
    { build: 'relaxed', threads: 1 },
    { build: 'relaxed-threads', threads: 2 },
  ])('wasm $build: op parity with the reference', ({ build, threads }) => {
    it.each(standardOpCases().map((c) => [c.name, c] as const))('%s', async (_, c) => {
      const r = await runOpParity(async (w) => {
        const b = (await createWasmBackend(w, { threads })) as WasmBackend;
        expect(b.build).toBe(build);
        return b;
      }, c);
      expect(r.maxRel, `max |Δ| ${r.maxAbs.toExponential(2)}`).toBeLessThanOrEqual(OP_TOLERANCE[c.node.op]);
    });
  });

  describe('wasm relaxed vs golden minilm', () => {
    const golden = loadGolden('minilm');
    const config = SYNTHETIC_MODELS.minilm.config;
    const C = config.hiddenSize;
    const graph = buildBertGraph(config, { pooling: 'mean', normalize: true });
    const weights = bindWeights(graph.weights, syntheticCheckpoint(config));
    const backends: WasmBackend[] = [];
    afterAll(() => backends.forEach((b) => b.dispose()));

    it.each([1, 2])('every third text alone, and a padded batch (%i threads)', async (threads) => {
      const b = (await createWasmBackend(weights, { threads })) as WasmBackend;
      backends.push(b);
      let worst = 0;
      for (const [i, text] of golden.texts.entries()) {
        if (i % 3) continue;
        const d = maxAbsDiff((await runGraph(graph, b, batchFromIds([text.input_ids]))).output, text.mean);
        expect(d, `text ${i}`).toBeLessThanOrEqual(1e-5);
        worst = Math.max(worst, d);
      }
      const idx = [1, 18, 19, 6, 30, 22];
      const out = (await runGraph(graph, b, batchFromIds(idx.map((i) => golden.texts[i]!.input_ids)))).output;
      idx.forEach((ti, row) => expect(maxAbsDiff(out.subarray(row * C, (row + 1) * C), golden.texts[ti]!.mean), `text ${ti} in a batch`).toBeLessThanOrEqual(1e-5));
      console.log(`[wasm ${b.build} minilm] max |Δ| ${worst.toExponential(2)}`);
    });
  });
} else {
  it('runs in a vitest with --experimental-wasm-relaxed-simd (this engine needs the flag)', () => {
    // Guard against recursion: a child that still cannot validate relaxed SIMD fails here.
    expect(process.env[CHILD], 'relaxed SIMD is unavailable even with --experimental-wasm-relaxed-simd').toBeUndefined();
    const file = fileURLToPath(import.meta.url);
    const r = spawnSync(process.execPath, [`${ROOT}node_modules/vitest/vitest.mjs`, 'run', file, '--execArgv=--experimental-wasm-relaxed-simd'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, [CHILD]: '1' },
      timeout: 280_000,
    });
    // eslint-disable-next-line no-control-regex
    const out = `${r.stdout}\n${r.stderr}`.replace(/\u001b\[[0-9;]*m/g, '');
    expect(r.status, out.slice(-4000)).toBe(0);
    expect(out).toMatch(/Tests\s+\d+ passed/);
    expect(out).not.toMatch(/\d+ failed/);
    console.log(out.match(/Tests\s+\d+ passed.*/)?.[0]);
  });
}
