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
import { batchFromIds, loadGolden } from './helpers/golden.js';

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
