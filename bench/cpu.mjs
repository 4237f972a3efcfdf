#!/usr/bin/env node
// CPU benchmark: dualbert's wasm path (simd, relaxed-SIMD and scalar builds, 1 and 2 threads) against
// onnxruntime-web's wasm backend (1 and 2 threads) on the same synthetic all-MiniLM-L6-v2
// weights (ONNX written by bench/onnx/bert-onnx.mjs), over the built dist/. The q8 rows run the
// int8 file both ways (dualbert's q8 kernels, onnxruntime's MatMulInteger): the Linear layers
// quantized as onnxruntime's quantize_dynamic does (uint8 weights, per tensor).
//
//   npm run bench:cpu                      every case and engine (about 10 minutes on 2 cores)
//   options: --runs N (default 5, min 5; at least 21 for single sequences)  --warmup N (default 1)  --json FILE
//            --only CASE[,CASE]  --engines NAME[,NAME] (matched against "name Nt", e.g. "q8 simd 1t")
//            --profile (per-op ms for dualbert)
//            --no-cold  --no-rerank
//
// Cases: minilm B1 T16, B1 T128, B32 T128, and "B32 corpus": the first 64 texts of
// test/fixtures/corpus-texts.jsonl in 2 batches of 32, each padded to its longest as a plain
// embedder batches them (both reach the 256-token limit; ~50 real tokens per text on average).
// The scalar build skips the corpus case (minutes per run; its ratio shows on the fixed shapes)
// unless --scalar-corpus. Every (case, engine) runs in its own process (bench/cpu/runner.mjs),
// all of a case's processes at once: each warms up, then the runs are interleaved — round after
// round, every engine runs once, in an order that rotates — so a machine whose load changes
// during the benchmark slows every engine alike; figures are medians over the rounds. Cold start
// (process start → imports, weights, compile, instantiate, pack, first B1 T16 forward) is
// measured separately in fresh processes.
//
// Rerank row (bench/rerank.mjs): one query × 32 documents of 128 tokens through reranker.rank()
// with the ms-marco-MiniLM-L-6-v2 shapes, dualbert simd at 1 and 2 threads.
//
// Figures: ms per forward (both batches for the corpus case), tokens/s (real tokens), GFLOP/s
// (model FLOPs of the padded batches: linear layers 2·N·(4C² + 2CI) and attention 4·B·T²·C per
// layer), and the ratio of throughput to onnxruntime-web with the same thread count.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { RELAXED_SIMD_PROBE } from '../dist/detect.js';
import { loadModel } from '../dist/index.js';
import { SYNTHETIC_MODELS } from '../dist/model/synthetic.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    json: { type: 'string', default: fileURLToPath(new URL('./cpu/results.json', import.meta.url)) },
    only: { type: 'string', default: '' },
    engines: { type: 'string', default: '' },
    profile: { type: 'boolean', default: false },
    'no-cold': { type: 'boolean', default: false },
    'no-rerank': { type: 'boolean', default: false },
    'scalar-corpus': { type: 'boolean', default: false },
  },
});
const RUNS = Math.max(5, Number(args.runs));
const WARMUP = Math.max(1, Number(args.warmup));
const RUNNER = fileURLToPath(new URL('./cpu/runner.mjs', import.meta.url));
const config = SYNTHETIC_MODELS.minilm.config;
const { hiddenSize: C, intermediateSize: I, numLayers: L } = config;

// Relaxed SIMD (FMA) is what Chrome ≥ 114 and Node ≥ 22 get; Node 20 needs a V8 flag for it.
const RELAXED_FLAGS = WebAssembly.validate(RELAXED_SIMD_PROBE) ? [] : ['--experimental-wasm-relaxed-simd'];
const ENGINES = [
  { name: 'dualbert simd', engine: 'dualbert', build: 'simd', threads: 1 },
  { name: 'dualbert simd', engine: 'dualbert', build: 'simd', threads: 2 },
  { name: 'dualbert relaxed', engine: 'dualbert', build: 'relaxed', threads: 1, nodeFlags: RELAXED_FLAGS },
  { name: 'dualbert relaxed', engine: 'dualbert', build: 'relaxed', threads: 2, nodeFlags: RELAXED_FLAGS },
  { name: 'dualbert scalar', engine: 'dualbert', build: 'scalar', threads: 1 },
  { name: 'dualbert scalar', engine: 'dualbert', build: 'scalar', threads: 2 },
  { name: 'onnxruntime-web', engine: 'ort', threads: 1 },
  { name: 'onnxruntime-web', engine: 'ort', threads: 2 },
  { name: 'dualbert q8 simd', engine: 'dualbert', dtype: 'q8', build: 'simd', threads: 1 },
  { name: 'dualbert q8 simd', engine: 'dualbert', dtype: 'q8', build: 'simd', threads: 2 },
  { name: 'dualbert q8 relaxed', engine: 'dualbert', dtype: 'q8', build: 'relaxed', threads: 1, nodeFlags: RELAXED_FLAGS },
  { name: 'dualbert q8 relaxed', engine: 'dualbert', dtype: 'q8', build: 'relaxed', threads: 2, nodeFlags: RELAXED_FLAGS },
  { name: 'dualbert q8 scalar', engine: 'dualbert', dtype: 'q8', build: 'scalar', threads: 1 },
  { name: 'dualbert q8 scalar', engine: 'dualbert', dtype: 'q8', build: 'scalar', threads: 2 },
  { name: 'onnxruntime-web q8', engine: 'ort', dtype: 'q8', threads: 1 },
  { name: 'onnxruntime-web q8', engine: 'ort', dtype: 'q8', threads: 2 },
  // A file with 7-bit int8 weights (reduce_range-like): the relaxed builds' dot-product path. On
  // Node 20 only with --no-liftoff: its baseline compiler miscomputes that instruction, and
  // dualbert then keeps the i16 path (see RELAXED_DOT_PROBE in ts/detect.ts).
  { name: 'dualbert q8-7bit relaxed', engine: 'dualbert', dtype: 'q8-7bit', build: 'relaxed', threads: 1, nodeFlags: [...RELAXED_FLAGS, ...(RELAXED_FLAGS.length ? ['--no-liftoff'] : [])] },
  { name: 'dualbert q8-7bit relaxed', engine: 'dualbert', dtype: 'q8-7bit', build: 'relaxed', threads: 2, nodeFlags: [...RELAXED_FLAGS, ...(RELAXED_FLAGS.length ? ['--no-liftoff'] : [])] },
  { name: 'onnxruntime-web q8-7bit', engine: 'ort', dtype: 'q8-7bit', threads: 1 },
  { name: 'onnxruntime-web q8-7bit', engine: 'ort', dtype: 'q8-7bit', threads: 2 },
].filter((e) => !args.engines || args.engines.split(',').some((n) => `${e.name} ${e.threads}t`.includes(n)));

// ---- cases ----
const rng = (seed) => () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
function fixedCase(name, B, T) {
  const r = rng(B * 1000 + T);
  const ids = Array.from({ length: B * T }, (_, i) => (i % T === 0 ? 101 : i % T === T - 1 ? 102 : 1000 + Math.floor(r() * 28000)));
  return { name, batches: [{ B, T, ids, mask: Array(B * T).fill(1) }] };
}
async function corpusCase() {
  const model = await loadModel('synthetic:minilm');
  const texts = readFileSync(new URL('../test/fixtures/corpus-texts.jsonl', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .slice(0, 64)
    .map((l) => JSON.parse(l).text);
  const batches = [];
  for (let s = 0; s < texts.length; s += 32) {
    const chunk = texts.slice(s, s + 32).map((t) => (model.defaults.lowercaseInput ? t.toLowerCase() : t));
    const enc = model.tokenizer.encodeBatch(chunk, { maxLength: model.defaults.maxLength });
    batches.push({ B: chunk.length, T: enc.seqLen, ids: Array.from(enc.ids), mask: Array.from(enc.attentionMask) });
  }
  return { name: 'B32 corpus', batches };
}
const only = new Set(args.only.split(',').filter(Boolean));
const CASES = [fixedCase('B1 T16', 1, 16), fixedCase('B1 T128', 1, 128), fixedCase('B32 T128', 32, 128), await corpusCase()].filter(
  (c) => only.size === 0 || only.has(c.name),
);

const flops = (c) => c.batches.reduce((s, { B, T }) => s + L * (2 * B * T * (4 * C * C + 2 * C * I) + 4 * B * T * T * C), 0);
const realTokens = (c) => c.batches.reduce((s, b) => s + b.mask.reduce((a, m) => a + m, 0), 0);
const paddedTokens = (c) => c.batches.reduce((s, b) => s + b.B * b.T, 0);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ---- runs ----
const dir = mkdtempSync(join(os.tmpdir(), 'dualbert-bench-'));
/** One cold-start run of an engine in a fresh process. */
function runCold(engine, c) {
  const file = join(dir, 'job.json');
  writeFileSync(file, JSON.stringify({ ...engine, mode: 'cold', warmup: WARMUP, case: c }));
  const r = spawnSync(process.execPath, [...(engine.nodeFlags ?? []), RUNNER, file], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${engine.name} ${engine.threads}t ${c.name}: runner failed (${r.status})\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

/** One engine's runner process in timing mode: send "run" lines, read {"ms"} lines (runner.mjs). */
class EngineProcess {
  constructor(engine, c, file) {
    writeFileSync(file, JSON.stringify({ ...engine, mode: 'timing', warmup: WARMUP, profile: args.profile, case: c }));
    this.label = `${engine.name} ${engine.threads}t ${c.name}`;
    this.child = spawn(process.execPath, [...(engine.nodeFlags ?? []), RUNNER, file], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.lines = [];
    this.waiting = [];
    this.stderr = '';
    let buffered = '';
    this.child.stdout.setEncoding('utf8').on('data', (chunk) => {
      buffered += chunk;
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 1);
        if (line.trim()) this.push(JSON.parse(line));
      }
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk) => {
      this.stderr += chunk;
    });
    this.child.on('exit', (code) => {
      if (code !== 0) this.push(new Error(`${this.label}: runner failed (${code})\n${this.stderr}`));
    });
  }
  push(msg) {
    const w = this.waiting.shift();
    if (w) w(msg);
    else this.lines.push(msg);
  }
  async next() {
    const msg = this.lines.length ? this.lines.shift() : await new Promise((resolve) => this.waiting.push(resolve));
    if (msg instanceof Error) throw msg;
    return msg;
  }
  async run() {
    this.child.stdin.write('run\n');
    return (await this.next()).ms;
  }
  async end() {
    this.child.stdin.end('end\n');
    return this.next();
  }
}

/** Every engine on case c, interleaved: [{ times, phases, profile, first }] in the engines' order. */
async function runInterleaved(engines, c) {
  // Single-sequence cases take milliseconds: more runs for a stable median.
  const runs = paddedTokens(c) <= 128 ? Math.max(RUNS, 21) : RUNS;
  const procs = [];
  try {
    // Started one at a time: set-ups and warm-ups side by side would only slow each other down.
    for (const [i, e] of engines.entries()) {
      procs.push(new EngineProcess(e, c, join(dir, `job-${i}.json`)));
      await procs[i].next(); // {"ready": true}
    }
    const times = procs.map(() => []);
    for (let r = 0; r < runs; r++) {
      for (let k = 0; k < procs.length; k++) {
        const i = (k + r) % procs.length;
        times[i].push(await procs[i].run());
      }
    }
    const ends = [];
    for (const p of procs) ends.push(await p.end());
    return ends.map((e, i) => ({ ...e, times: times[i] }));
  } finally {
    for (const p of procs) p.child.kill();
  }
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`dualbert CPU benchmark: synthetic minilm (${L} layers, C=${C}, I=${I}) on ${cpu}, ${os.cpus().length} cores, Node ${process.version}, load ${os.loadavg()[0].toFixed(2)}`);
console.log(`median of ${RUNS} interleaved rounds after ${WARMUP} warm-up; ratio = throughput / onnxruntime-web's with the same threads\n`);
console.log('| case | engine | threads | median ms | tokens/s | GFLOP/s | vs ORT |');
console.log('|---|---|---|---:|---:|---:|---:|');
const results = [];
for (const c of CASES) {
  const rows = [];
  const engines = ENGINES.filter((e) => !(e.build === 'scalar' && c.name === 'B32 corpus' && !args['scalar-corpus']));
  const timings = await runInterleaved(engines, c);
  for (const [i, engine] of engines.entries()) {
    const r = timings[i];
    const ms = median(r.times);
    rows.push({ case: c.name, engine: engine.name, dtype: engine.dtype ?? 'fp32', build: r.phases.build ?? null, threads: r.phases.threads, ms, times: r.times, tokensPerS: realTokens(c) / (ms / 1000), gflops: flops(c) / (ms / 1000) / 1e9, first: r.first, profile: r.profile });
  }
  // Sanity: every engine of one dtype embeds the first text to the same vector (q8 and fp32
  // differ by the quantization: ~1e-2).
  for (const row of rows) {
    const first = rows.find((x) => x.dtype === row.dtype);
    row.maxDiffVsFirstEngine = Math.max(...row.first.map((v, i) => Math.abs(v - first.first[i])));
  }
  for (const row of rows) {
    // Against onnxruntime-web on the same file (fp32 or q8) with the same threads.
    const ort = rows.find((x) => x.engine.startsWith('onnxruntime-web') && x.dtype === row.dtype && x.threads === row.threads);
    row.vsOrt = ort ? ort.ms / row.ms : null;
    // The same ratio taken within each round (both ran back to back), then the median over rounds.
    row.vsOrtPerRound = ort ? median(row.times.map((t, r) => ort.times[r] / t)) : null;
    console.log(`| ${c.name} | ${row.engine} | ${row.threads} | ${row.ms.toFixed(1)} | ${row.tokensPerS.toFixed(0)} | ${row.gflops.toFixed(1)} | ${row.vsOrt ? `${row.vsOrt.toFixed(2)}×` : '–'} |`);
    delete row.first;
    results.push(row);
  }
  const worst = Math.max(...rows.map((r) => r.maxDiffVsFirstEngine));
  if (worst > 1e-4) console.log(`| ${c.name} | WARNING: engines disagree by ${worst.toExponential(2)} | | | | | |`);
}

// ---- ratios the goals are stated in ----
const find = (c, engine, threads) => results.find((r) => r.case === c && r.engine === engine && r.threads === threads);
const summary = {};
for (const c of CASES.map((x) => x.name)) {
  const s1 = find(c, 'dualbert simd', 1);
  const s2 = find(c, 'dualbert simd', 2);
  const sc1 = find(c, 'dualbert scalar', 1);
  const r1 = find(c, 'dualbert relaxed', 1);
  summary[c] = {
    relaxedVsOrt1t: r1?.vsOrt ?? null,
    simdVsOrt1t: s1?.vsOrt ?? null,
    simdVsOrt2t: s2?.vsOrt ?? null,
    simd2tVs1t: s1 && s2 ? s1.ms / s2.ms : null,
    scalarVsSimd1t: s1 && sc1 ? s1.ms / sc1.ms : null,
  };
}
console.log('\n| case | simd 1t vs ORT 1t | simd 2t vs ORT 2t | simd 2t vs 1t | scalar / simd (1t) | relaxed 1t vs ORT 1t |');
console.log('|---|---:|---:|---:|---:|---:|');
const fx = (v) => (v == null ? '–' : `${v.toFixed(2)}×`);
for (const [c, s] of Object.entries(summary)) console.log(`| ${c} | ${fx(s.simdVsOrt1t)} | ${fx(s.simdVsOrt2t)} | ${fx(s.simd2tVs1t)} | ${fx(s.scalarVsSimd1t)} | ${fx(s.relaxedVsOrt1t)} |`);

// q8: dualbert's int8 kernels against onnxruntime-web on the same q8 file, and against dualbert fp32.
const q8Summary = {};
for (const c of CASES.map((x) => x.name)) {
  const ratio = (a, b) => (a && b ? b.ms / a.ms : null);
  q8Summary[c] = {};
  for (const t of [1, 2]) {
    for (const build of ['simd', 'relaxed', 'scalar']) {
      const q = find(c, `dualbert q8 ${build}`, t);
      q8Summary[c][`${build} ${t}t`] = { vsOrtQ8: ratio(q, find(c, 'onnxruntime-web q8', t)), vsFp32: ratio(q, find(c, `dualbert ${build}`, t)) };
    }
    const q7 = find(c, 'dualbert q8-7bit relaxed', t);
    q8Summary[c][`7bit relaxed ${t}t`] = { vsOrtQ8: ratio(q7, find(c, 'onnxruntime-web q8-7bit', t)), vsFp32: ratio(q7, find(c, 'dualbert relaxed', t)) };
  }
}
console.log('\n| case | threads | q8 simd vs ORT q8 | q8 relaxed vs ORT q8 | q8 scalar vs ORT q8 | q8 simd vs fp32 simd | q8 relaxed vs fp32 relaxed | q8 scalar vs fp32 scalar | 7-bit relaxed vs ORT (same file) | 7-bit relaxed vs fp32 relaxed |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const [c, s] of Object.entries(q8Summary)) {
  for (const t of [1, 2]) {
    const g = (b) => s[`${b} ${t}t`];
    console.log(`| ${c} | ${t} | ${fx(g('simd').vsOrtQ8)} | ${fx(g('relaxed').vsOrtQ8)} | ${fx(g('scalar').vsOrtQ8)} | ${fx(g('simd').vsFp32)} | ${fx(g('relaxed').vsFp32)} | ${fx(g('scalar').vsFp32)} | ${fx(g('7bit relaxed').vsOrtQ8)} | ${fx(g('7bit relaxed').vsFp32)} |`);
  }
}

if (args.profile) {
  console.log('\nper-op ms per forward (dualbert, B32 T128 when run):');
  for (const r of results.filter((x) => x.profile)) {
    const total = Object.values(r.profile).reduce((a, b) => a + b, 0);
    const parts = Object.entries(r.profile).map(([k, v]) => `${k} ${v.toFixed(1)} (${((100 * v) / total).toFixed(0)}%)`);
    console.log(`  ${r.case} ${r.engine} ${r.threads}t: ${parts.join(', ')}`);
  }
}

// ---- cold start ----
const cold = [];
if (!args['no-cold']) {
  const c = fixedCase('B1 T16', 1, 16);
  console.log('\ncold start (fresh process: imports, weights, compile/instantiate/pack or session, first B1 T16 forward; median of 3):');
  console.log('| engine | threads | create ms | first forward ms | total ms |');
  console.log('|---|---|---:|---:|---:|');
  for (const engine of ENGINES.filter((e) => e.build !== 'scalar')) {
    const rs = [0, 1, 2].map(() => runCold(engine, c));
    const row = {
      engine: engine.name,
      threads: engine.threads,
      createMs: median(rs.map((r) => r.phases.createMs)),
      firstForwardMs: median(rs.map((r) => r.phases.firstForwardMs)),
      totalMs: median(rs.map((r) => r.coldMs)),
    };
    cold.push(row);
    console.log(`| ${row.engine} | ${row.threads} | ${row.createMs.toFixed(0)} | ${row.firstForwardMs.toFixed(0)} | ${row.totalMs.toFixed(0)} |`);
  }
}
rmSync(dir, { recursive: true, force: true });

// ---- rerank ----
const rerank = [];
if (!args['no-rerank']) {
  const script = fileURLToPath(new URL('./rerank.mjs', import.meta.url));
  console.log(`\nrerank (one query × 32 documents of 128 tokens, synthetic:minilm as a cross-encoder, rank() end to end; median of ${RUNS}):`);
  console.log('| case | engine | threads | median ms | pairs/s | tokens/s |');
  console.log('|---|---|---|---:|---:|---:|');
  for (const threads of [1, 2]) {
    const r = spawnSync(process.execPath, [script, '--device', 'wasm', '--threads', String(threads), '--runs', String(RUNS)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench/rerank.mjs (${threads} threads) failed (${r.status})\n${r.stderr}`);
    const row = JSON.parse(r.stdout.trim().split('\n').at(-1));
    rerank.push(row);
    console.log(`| ${row.case} | dualbert simd | ${row.threads} | ${row.ms.toFixed(1)} | ${row.pairsPerS.toFixed(1)} | ${row.tokensPerS.toFixed(0)} |`);
  }
}

const report = {
  date: new Date().toISOString(),
  machine: { cpu, cores: os.cpus().length, node: process.version, loadavg: os.loadavg() },
  model: { name: 'synthetic minilm', ...config },
  runs: RUNS,
  warmup: WARMUP,
  cases: CASES.map((c) => ({ name: c.name, batches: c.batches.length, realTokens: realTokens(c), paddedTokens: paddedTokens(c), gflop: flops(c) / 1e9 })),
  results,
  summary,
  q8Summary,
  cold,
  rerank,
};
writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nJSON: ${args.json}`);
