#!/usr/bin/env node
// Speed of the float64 reference backend (the oracle, not a fast path): median of 5 runs after a
// warm-up, per (model, batch, sequence length). Usage: npm run bench:reference [-- tiny|minilm]
import os from 'node:os';
import { ReferenceBackend } from '../dist/backends/reference/reference-backend.js';
import { buildBertGraph } from '../dist/graph/bert.js';
import { runGraph } from '../dist/graph/execute.js';
import { bindWeights } from '../dist/graph/weights.js';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../dist/model/synthetic.js';

const models = process.argv.slice(2).length ? process.argv.slice(2) : ['tiny', 'minilm'];
const shapes = [
  [1, 16],
  [1, 128],
  [8, 128],
];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`reference backend on ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores), Node ${process.version}`);
console.log('| model | B | T | median ms | tokens/s | GFLOP/s (linear layers) |');
console.log('|---|---|---|---|---|---|');
for (const name of models) {
  const { config } = SYNTHETIC_MODELS[name];
  const graph = buildBertGraph(config, { pooling: 'mean', normalize: true });
  const backend = new ReferenceBackend(bindWeights(graph.weights, syntheticCheckpoint(config)));
  const C = config.hiddenSize;
  const flopsPerToken = 2 * config.numLayers * (4 * C * C + 2 * C * config.intermediateSize);
  for (const [B, T] of shapes) {
    const ids = new Int32Array(B * T).map((_, i) => (i % T === 0 ? 101 : 1000 + ((i * 7919) % 20000)));
    const inputs = { batchSize: B, seqLen: T, ids, typeIds: new Int32Array(B * T), attentionMask: new Uint8Array(B * T).fill(1) };
    await runGraph(graph, backend, inputs); // warm-up
    const times = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      await runGraph(graph, backend, inputs);
      times.push(performance.now() - t0);
    }
    const ms = median(times);
    console.log(`| ${name} | ${B} | ${T} | ${ms.toFixed(1)} | ${((B * T) / (ms / 1000)).toFixed(0)} | ${((flopsPerToken * B * T) / (ms / 1000) / 1e9).toFixed(2)} |`);
  }
}
