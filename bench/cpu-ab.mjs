#!/usr/bin/env node
// Interleaved A/B on the CPU: one process holds onnxruntime-web and one or more dualbert wasm
// backends (each from its own directory of .wasm builds) with the same thread count, and runs
// them in turn, round after round, so that a busy machine's load falls on all of them alike.
// For kernel work: compare a copy of the previous build/ against the new one, and both against
// onnxruntime-web, in the same run. Over the built dist/.
//
//   node bench/cpu-ab.mjs --case 32x128 --threads 1 --rounds 7 [--dtype q8] [--build simd|relaxed]
//        [--variant new=build/ --variant base=/tmp/base-build/] [--no-ort | --ort-only] [--profile]
//
// Prints each engine's median ms, and the median over rounds of (ORT ms / engine ms) and of
// (first variant ms / engine ms): ratios taken within one round are less sensitive to load.
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { benchMinilm } from './cpu/minilm.mjs';

const { values: args } = parseArgs({
  options: {
    case: { type: 'string', default: '32x128' },
    threads: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '7' },
    warmup: { type: 'string', default: '1' },
    dtype: { type: 'string', default: 'fp32' },
    build: { type: 'string', default: 'simd' },
    variant: { type: 'string', multiple: true, default: ['new=build/'] },
    'no-ort': { type: 'boolean', default: false },
    // onnxruntime-web alone: with threads, each engine's idle threads (ORT's spin) slow the other
    // down on a 2-core machine, so `--no-ort` and `--ort-only` runs give each engine's figure alone.
    'ort-only': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    // With --profile: per-op CPU ms instead of wall ms (1 thread only: the process's CPU time).
    'cpu-profile': { type: 'boolean', default: false },
  },
});
const [B, T] = args.case.split('x').map(Number);
const threads = Number(args.threads);
const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;
const { onnxBytes, dualbertModel } = await benchMinilm(args.dtype);

let seed = B * 1000 + T;
const rand = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
const ids = Int32Array.from({ length: B * T }, (_, i) => (i % T === 0 ? 101 : i % T === T - 1 ? 102 : 1000 + Math.floor(rand() * 28000)));
const mask = new Uint8Array(B * T).fill(1);
const typeIds = new Int32Array(B * T);

const engines = [];
if (!args['no-ort']) {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = threads;
  const session = await ort.InferenceSession.create(onnxBytes(), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const i64 = (a) => BigInt64Array.from(a, (v) => BigInt(v));
  const feeds = {
    input_ids: new ort.Tensor('int64', i64(ids), [B, T]),
    attention_mask: new ort.Tensor('int64', i64(mask), [B, T]),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(B * T), [B, T]),
  };
  engines.push({ name: 'ort', forward: async () => void (await session.run(feeds)) });
}
const { createWasmBackend } = await import(dist('backends/wasm/index.js'));
const { runGraph } = await import(dist('graph/execute.js'));
const { graph, weights } = await dualbertModel();
for (const v of args['ort-only'] ? [] : args.variant) {
  const [name, dir] = v.split('=');
  const wasmPaths = `${pathToFileURL(resolve(dir)).href}/`;
  const backend = await createWasmBackend(weights, { threads, wasm: { simd: args.build !== 'scalar' } }, { relaxedSimd: args.build === 'relaxed', wasmPaths });
  if (args.profile) backend.profile = new Map();
  engines.push({
    name,
    backend,
    forward: async () => {
      const wall = performance.now;
      if (args['cpu-profile']) performance.now = () => process.cpuUsage().user / 1000;
      try {
        await runGraph(graph, backend, { batchSize: B, seqLen: T, ids, typeIds, attentionMask: mask });
      } finally {
        performance.now = wall;
      }
    },
  });
}

for (const e of engines) for (let i = 0; i < Number(args.warmup); i++) await e.forward();
for (const e of engines) e.backend?.profile?.clear();
const rounds = Number(args.rounds);
const times = engines.map(() => []);
// CPU time of the process per run (user + system): on a loaded machine it tracks the work done
// better than wall time (with threads it includes their spinning).
const cpuTimes = engines.map(() => []);
for (let r = 0; r < rounds; r++) {
  // Rotate the order each round so no engine always runs right after another.
  for (let k = 0; k < engines.length; k++) {
    const i = (k + r) % engines.length;
    const s = performance.now();
    const c = process.cpuUsage();
    await engines[i].forward();
    times[i].push(performance.now() - s);
    const d = process.cpuUsage(c);
    cpuTimes[i].push((d.user + d.system) / 1000);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ortAt = engines.findIndex((e) => e.name === 'ort');
const firstVariant = engines.findIndex((e) => e.name !== 'ort');
const os = await import('node:os');
console.log(`B${B} T${T} ${args.dtype} ${args.build} ${threads}t, ${rounds} rounds, load ${os.loadavg()[0].toFixed(1)}`);
for (let i = 0; i < engines.length; i++) {
  const perRound = (j) => median(times[i].map((t, r) => times[j][r] / t));
  const parts = [
    `${engines[i].name.padEnd(8)} median ${median(times[i]).toFixed(1)} ms (min ${Math.min(...times[i]).toFixed(1)}, cpu ${median(cpuTimes[i]).toFixed(1)})`,
  ];
  if (ortAt >= 0 && i !== ortAt) parts.push(`vs ort ${perRound(ortAt).toFixed(2)}× (medians ${(median(times[ortAt]) / median(times[i])).toFixed(2)}×)`);
  if (i !== firstVariant && engines[i].name !== 'ort') {
    parts.push(
      `vs ${engines[firstVariant].name} ${perRound(firstVariant).toFixed(2)}× (cpu ${(median(cpuTimes[firstVariant]) / median(cpuTimes[i])).toFixed(2)}×)`,
    );
  }
  console.log(parts.join('  '));
  const prof = engines[i].backend?.profile;
  if (prof) {
    const total = [...prof.values()].reduce((a, b) => a + b, 0);
    console.log(`   profile: ${[...prof].map(([k, v]) => `${k} ${(v / rounds).toFixed(1)} (${((100 * v) / total).toFixed(0)}%)`).join(', ')}`);
  }
}
for (const e of engines) e.backend?.dispose();
process.exit(0);
