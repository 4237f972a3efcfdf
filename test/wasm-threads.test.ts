/**
 * The thread pool under stress: more threads than cores (so workers are descheduled in the
 * middle of jobs, wake up late, and miss whole jobs), many small jobs back to back. Every batch
 * must give the single-threaded result bit for bit (tasks write disjoint outputs, and a late
 * worker must never run a task with another job's arguments).
 */
import { describe, expect, it } from 'vitest';
import { type WasmBackend, createWasmBackend } from '../ts/backends/wasm/index.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import { runGraph } from '../ts/graph/execute.js';
import { bindWeights } from '../ts/graph/weights.js';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../ts/model/synthetic.js';
import { CTRL, OP } from '../ts/backends/wasm/abi.js';
import { GEMM_MC, GEMM_PG } from '../ts/backends/wasm/job-args.js';
import { batchFromIds, loadGolden } from './helpers/golden.js';
import { RUNNABLE_FLAVORS, instantiateDualbertWasm } from './helpers/wasm.js';

describe('a worker that wakes up late', () => {
  // A worker that saw job G published may read the control block only after the host closed G
  // and wrote the next job's arguments: here op GEMM with MC = PG = 0 (words another op leaves
  // zero). It must claim nothing and return; it used to divide by MC first (an integer-divide
  // trap, seen under load as "a wasm worker thread failed").
  it.each(RUNNABLE_FLAVORS)('%s: claims nothing and reads no argument of a closed job', async (flavor) => {
    const { exports, memory } = await instantiateDualbertWasm(flavor);
    const ctrl = (exports.heapBase() + 63) & ~63;
    const words = new Int32Array(memory.buffer, ctrl, CTRL.BYTES / 4);
    const gen = 7;
    words[CTRL.GEN / 4] = gen + 1; // the host has moved on
    words[CTRL.TASKS / 4] = 4;
    words[CTRL.TASK / 4] = -1; // closed (tag 0xffff)
    words[CTRL.FINISHED / 4] = 0;
    words[CTRL.ARGS / 4] = OP.GEMM;
    words[CTRL.ARGS / 4 + GEMM_MC] = 0;
    words[CTRL.ARGS / 4 + GEMM_PG] = 0;
    expect(() => exports.runJob(ctrl, 1, gen)).not.toThrow();
    expect(words[CTRL.TASK / 4]).toBe(-1);
    expect(words[CTRL.FINISHED / 4]).toBe(0);
    // The next job's tag, not the late worker's: still nothing to claim.
    words[CTRL.TASK / 4] = ((gen + 1) & 0xffff) << 16;
    expect(() => exports.runJob(ctrl, 1, gen)).not.toThrow();
    expect(words[CTRL.TASK / 4]).toBe(((gen + 1) & 0xffff) << 16);
  });
});

describe('wasm worker threads under stress', () => {
  it('4 threads, 150 small batches: identical to 1 thread every time', async () => {
    const golden = loadGolden('tiny');
    const config = SYNTHETIC_MODELS.tiny.config;
    const graph = buildBertGraph(config, { pooling: 'mean', normalize: true });
    const weights = bindWeights(graph.weights, syntheticCheckpoint(config));
    const one = (await createWasmBackend(weights, { threads: 1 }, { relaxedSimd: false })) as WasmBackend;
    const four = (await createWasmBackend(weights, { threads: 4 }, { relaxedSimd: false, oversubscribe: true })) as WasmBackend;
    try {
      expect(four.threads).toBe(4);
      for (let i = 0; i < 150; i++) {
        // 1 to 5 texts of varied lengths: jobs of a few tasks each, some of one task.
        const idx = Array.from({ length: 1 + (i % 5) }, (_, k) => (i * 7 + k * 13) % golden.texts.length);
        const batch = batchFromIds(idx.map((t) => golden.texts[t]!.input_ids));
        const want = (await runGraph(graph, one, batch)).output;
        const got = (await runGraph(graph, four, batch)).output;
        expect(Array.from(got), `batch ${i}: texts ${idx.join(',')}`).toEqual(Array.from(want));
      }
    } finally {
      one.dispose();
      four.dispose();
    }
  });
});
