#!/usr/bin/env node
// Where the host time of embed() goes on the webgpu path: B256 T128 minilm (synthetic weights),
// embedded `--runs` times after warm-up under the V8 CPU profiler (node:inspector), printed as
// self time per function (top 25) and per file, next to the median embed() wall time. The GPU
// time of the same forward comes from bench/gpu.mjs; wall minus GPU is the host's share.
//
//   node bench/gpu/host-profile.mjs [--runs 15] [--quick]   (--quick: synthetic:tiny, B8 T32)
import { Session } from 'node:inspector/promises';
import { textsOf } from './texts.mjs';

const DIST = new URL('../../dist/', import.meta.url);
const { createEmbedder } = await import(new URL('index.js', DIST).href);
const QUICK = process.argv.includes('--quick');
const runsAt = process.argv.indexOf('--runs');
const RUNS = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 15;
const [B, T] = QUICK ? [8, 32] : [256, 128];

const texts = textsOf(B, T, 12345);

const embedder = await createEmbedder(QUICK ? 'synthetic:tiny' : 'synthetic:minilm', { device: 'webgpu' });
for (let i = 0; i < 3; i++) await embedder.embed(texts, { batchSize: B });
const tokenizeStart = performance.now();
for (let i = 0; i < RUNS; i++) for (const t of texts) embedder.tokenizer.encode(t);
const tokenizeMs = (performance.now() - tokenizeStart) / RUNS;

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
const walls = [];
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  await embedder.embed(texts, { batchSize: B });
  walls.push(performance.now() - t0);
}
const { profile } = await session.post('Profiler.stop');
session.disconnect();
embedder.dispose();

walls.sort((a, b) => a - b);
const median = walls[walls.length >> 1];
const dt = new Map(); // node id → self µs
for (let i = 0; i < profile.samples.length; i++) dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + profile.timeDeltas[i]);
const total = [...dt.values()].reduce((a, b) => a + b, 0);
const byFunction = new Map();
const byFile = new Map();
for (const node of profile.nodes) {
  const us = dt.get(node.id) ?? 0;
  if (!us) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url ? url.replace(/^.*\/(dist|node_modules)\//, '$1/') : '(native)';
  const fn = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  byFile.set(file, (byFile.get(file) ?? 0) + us);
}
const pct = (us) => `${((100 * us) / total).toFixed(1)}%`.padStart(6);
console.log(`host profile of embed() at B${B} T${T}, ${RUNS} runs: median wall ${median.toFixed(2)} ms; tokenizer.encode of the ${B} texts alone ${tokenizeMs.toFixed(2)} ms`);
console.log('self time by file:');
for (const [f, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${pct(us)}  ${(us / 1000 / RUNS).toFixed(2)} ms/run  ${f}`);
console.log('self time by function (top 25):');
for (const [f, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${pct(us)}  ${(us / 1000 / RUNS).toFixed(2)} ms/run  ${f}`);
process.exit(0);
