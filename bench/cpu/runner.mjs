#!/usr/bin/env node
// One engine in one process, for bench/cpu.mjs: runs the job file given as argv[2] and prints
// JSON lines. A process per (case, engine) keeps engines independent, and onnxruntime-web only
// takes its thread count before its first session, so each ORT configuration needs its own process.
//
// Job: { engine: 'dualbert' | 'ort', dtype?: 'fp32' | 'q8' | 'q8-7bit', build?: 'simd' | 'scalar' | 'relaxed', threads, mode: 'timing' | 'cold',
//        warmup, profile?, case: { name, batches: [{ B, T, ids: number[], mask: number[] }] } }
// 'timing': after the warm-up it prints {"ready":true}, then reads commands from stdin, one per
// line: "run" runs every batch once and prints {"ms": …}; "end" prints the result and exits. The
// coordinator runs the engines of a case in turn this way (interleaved), so a machine whose load
// changes during the benchmark slows every engine alike.
// Result: { coldMs?, phases?, profile?, first: number[] }
import { readFileSync } from 'node:fs';
import { benchMinilm } from './minilm.mjs';

const t0 = performance.now();
const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const dist = (p) => new URL(`../../dist/${p}`, import.meta.url).href;
// q8: both engines run the same file, the Linear layers as onnxruntime's quantize_dynamic writes them.
const { config, onnxBytes, dualbertModel } = await benchMinilm(job.dtype);
const C = config.hiddenSize;
const batches = job.case.batches.map(({ B, T, ids, mask }) => ({
  B,
  T,
  ids: Int32Array.from(ids),
  mask: Uint8Array.from(mask),
}));

/** Mean pooling over the mask, then L2 normalization (what transformers.js does in JS for ORT). */
function meanNormalize(hidden, mask, B, T) {
  const out = new Float32Array(B * C);
  for (let b = 0; b < B; b++) {
    let count = 0;
    for (let t = 0; t < T; t++) {
      if (!mask[b * T + t]) continue;
      count++;
      const row = (b * T + t) * C;
      for (let c = 0; c < C; c++) out[b * C + c] += hidden[row + c];
    }
    let sq = 0;
    for (let c = 0; c < C; c++) {
      out[b * C + c] /= Math.max(count, 1e-9);
      sq += out[b * C + c] ** 2;
    }
    const norm = Math.max(Math.sqrt(sq), 1e-12);
    for (let c = 0; c < C; c++) out[b * C + c] /= norm;
  }
  return out;
}

let forward; // (batch) => Promise<Float32Array> of [B, C] normalized mean vectors
let dispose = () => {};
const phases = {};
const profile = new Map();

if (job.engine === 'dualbert') {
  const { createWasmBackend } = await import(dist('backends/wasm/index.js'));
  const { runGraph } = await import(dist('graph/execute.js'));
  const { graph, weights } = await dualbertModel();
  const tc = performance.now();
  const backend = await createWasmBackend(weights, { threads: job.threads, wasm: { simd: job.build !== 'scalar' } }, { relaxedSimd: job.build === 'relaxed' });
  if (!backend.build.startsWith(job.build)) throw new Error(`asked for the ${job.build} build, got ${backend.build}`);
  phases.createMs = performance.now() - tc; // compile + instantiate + pack weights + start workers
  phases.build = backend.build;
  phases.threads = backend.threads;
  if (job.profile) backend.profile = profile; // ms per op label, summed over every forward
  const typeIds = new Map();
  forward = async ({ B, T, ids, mask }) => {
    if (!typeIds.has(B * T)) typeIds.set(B * T, new Int32Array(B * T));
    const { output } = await runGraph(graph, backend, { batchSize: B, seqLen: T, ids, typeIds: typeIds.get(B * T), attentionMask: mask });
    return output;
  };
  dispose = () => backend.dispose();
} else {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = job.threads;
  const bytes = onnxBytes();
  const tc = performance.now();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  phases.createMs = performance.now() - tc;
  phases.threads = job.threads;
  forward = async ({ B, T, ids, mask }) => {
    const i64 = (a) => BigInt64Array.from(a, (v) => BigInt(v));
    const feeds = {
      input_ids: new ort.Tensor('int64', i64(ids), [B, T]),
      attention_mask: new ort.Tensor('int64', i64(mask), [B, T]),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(B * T), [B, T]),
    };
    const result = await session.run(feeds);
    return meanNormalize(result.last_hidden_state.data, mask, B, T);
  };
  dispose = () => void session.release();
}

const runAll = async () => {
  let first;
  for (const batch of batches) {
    const out = await forward(batch);
    first ??= Array.from(out.subarray(0, C));
  }
  return first;
};

const result = { phases };
if (job.mode === 'cold') {
  const tf = performance.now();
  result.first = await runAll();
  phases.firstForwardMs = performance.now() - tf;
  result.coldMs = performance.now() - t0; // from process start: imports, weights, create, first forward
} else {
  for (let i = 0; i < job.warmup; i++) result.first = await runAll();
  profile.clear();
  let runs = 0;
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  const { createInterface } = await import('node:readline');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== 'run') break;
    const s = performance.now();
    await runAll();
    runs++;
    process.stdout.write(`${JSON.stringify({ ms: performance.now() - s })}\n`);
  }
  if (job.profile) result.profile = Object.fromEntries([...profile].map(([k, v]) => [k, v / Math.max(1, runs)]));
}
dispose();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0); // onnxruntime-web's worker threads would keep the process alive
