#!/usr/bin/env node
// A/B of the webgpu path's variants in one process, over the built dist/ (no npm needed: it runs
// on the GPU machine with Node carried in). For each variant (a set of WebGpuTuning knobs) one
// embedder is created and every case measured twice, in rounds that alternate the variants (so a
// clock or thermal drift hits all of them alike):
//   GPU ms   — the forward passes of the case through runGraph on that embedder's backend, from
//              timestamp queries (median of the rounds; the sum over the case's batches);
//   e2e ms   — createEmbedder(...).embed(texts, { batchSize }) as users call it: tokenizing,
//              padding, recording, submit, readback (median of the rounds); for T past the
//              model's max length (minilm 256) embed() would truncate, so there: the wall time
//              of the forwards through runGraph (host recording, submit, readback).
// Cold start (--cold): createEmbedder + the first embed() of one short text, each in a fresh
// process per warm-up mode (lazy / sync / async pipeline compilation), the driver's shader disk
// cache off (__GL_SHADER_DISK_CACHE=0) so that every process compiles for real.
//
//   node bench/gpu/ab.mjs [--quick] [--cold] [--runs 5] [--json FILE] [--budget-s 240]
//        [--variants 'name=knob=v,knob=v;name2=...']  [--cases 'B1 T16,B256 T128']
// Knobs: bk, tm, tn, splitk, keys, qpt, subgroups, overlap, reuse, warmup (see parseTuning).
// --no-ab: only the cold start (with --cold).
// --quick: synthetic:tiny on small shapes (SwiftShader checks the script, not speed).
// --budget-s: variants not started when this many seconds have passed are skipped (and said so).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { textsOf } from './texts.mjs';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    cold: { type: 'boolean', default: false },
    'no-ab': { type: 'boolean', default: false },
    'cold-child': { type: 'string' },
    runs: { type: 'string', default: '5' },
    json: { type: 'string' },
    variants: { type: 'string' },
    cases: { type: 'string', default: '' },
    'budget-s': { type: 'string', default: '300' },
    'cold-reps': { type: 'string', default: '2' },
  },
});
const started = performance.now();
const DIST = new URL('../../dist/', import.meta.url);
const { createEmbedder } = await import(new URL('index.js', DIST).href);
const DAWN_FLAGS = ['disable-dawn-features=timestamp_quantization'];
const MODEL = args.quick ? 'synthetic:tiny' : 'synthetic:minilm';

/** 'bk=32,tm=8' → WebGpuTuning. */
function parseTuning(text) {
  const names = { bk: 'gemmBK', tm: 'gemmTM', tn: 'gemmTN', keys: 'attentionKeys', qpt: 'attentionQueries' };
  const flags = { splitk: 'splitK', subgroups: 'subgroups', overlap: 'overlapBatches', reuse: 'reuseCalls' };
  const tuning = {};
  for (const part of text.split(',').filter(Boolean)) {
    const [k, v] = part.split('=');
    if (names[k]) tuning[names[k]] = Number(v);
    else if (flags[k]) tuning[flags[k]] = v !== '0';
    else if (k === 'warmup') tuning.warmUp = v;
    else throw new Error(`unknown knob "${k}" (bk, tm, tn, splitk, keys, qpt, subgroups, overlap, reuse, warmup)`);
  }
  return tuning;
}

// ---------------------------------------------------------------- cold start, one process
if (args['cold-child'] !== undefined) {
  const t0 = performance.now();
  const embedder = await createEmbedder(MODEL, { device: 'webgpu', webgpu: { tuning: { warmUp: args['cold-child'] } } });
  const t1 = performance.now();
  await embedder.embed(['the quick brown fox jumps over the lazy dog']);
  const t2 = performance.now();
  await embedder.embed(['a second short text']);
  const t3 = performance.now();
  const out = { mode: args['cold-child'], createMs: t1 - t0, firstEmbedMs: t2 - t1, coldMs: t2 - t0, secondEmbedMs: t3 - t2, pipelines: embedder.stats().webgpu?.pipelines, importMs: t0 - started };
  console.log(JSON.stringify(out));
  process.exit(0);
}

// name, texts, T, batchSize
const FULL = [
  ['B1 T16', 1, 16, 1],
  ['B32 T128', 32, 128, 32],
  ['B256 T128', 256, 128, 256],
  ['1000×T256', 1000, 256, 64],
  ['1000×T512', 1000, 512, 64],
];
const QUICK = [
  ['B1 T16', 1, 16, 1],
  ['B8 T32', 8, 32, 8],
  ['20×T32', 20, 32, 4],
];
const only = new Set(args.cases.split(',').filter(Boolean));
const CASES = (args.quick ? QUICK : FULL).filter(([name]) => only.size === 0 || only.has(name));

const DEFAULT_VARIANTS = args.quick
  ? 'base=;tn8=tn=8;qpt4=qpt=4;serial=overlap=0,reuse=0'
  : 'base=;tm8=tm=8;tn8=tn=8;tn8tm8=tn=8,tm=8;bk32=bk=32;qpt2=qpt=2;qpt4=qpt=4;qpt4k16=qpt=4,keys=16;keys64=keys=64;serial=overlap=0;relist=reuse=0';
const VARIANTS = (args.variants ?? DEFAULT_VARIANTS)
  .split(';')
  .filter(Boolean)
  .map((v) => {
    const at = v.indexOf('=');
    return { name: v.slice(0, at), tuning: parseTuning(v.slice(at + 1)) };
  });
const RUNS = Math.max(3, Number(args.runs));
const BUDGET_MS = Number(args['budget-s']) * 1000;
const median = (xs) => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : Number.NaN;
};
const fmt = (x, d = 2) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d));

const { buildBertGraph } = await import(new URL('graph/bert.js', DIST).href);
const { runGraph } = await import(new URL('graph/execute.js', DIST).href);
const { SYNTHETIC_MODELS } = await import(new URL('model/synthetic.js', DIST).href);
const config = SYNTHETIC_MODELS[MODEL.split(':')[1]].config;
const graph = buildBertGraph(config, { pooling: 'mean', normalize: true });

/** Deterministic full-length batches of the case (GPU timing through runGraph). */
function batchesOf(docs, T, batch) {
  const out = [];
  for (let start = 0, k = 0; start < docs; start += batch, k++) {
    const B = Math.min(batch, docs - start);
    const ids = new Int32Array(B * T).map((_, i) => (i % T === 0 ? 101 : i % T === T - 1 ? 102 : 1000 + ((i * 7919 + k * 104729) % 28000)));
    out.push({ batchSize: B, seqLen: T, ids, typeIds: new Int32Array(B * T), attentionMask: new Uint8Array(B * T).fill(1) });
  }
  return out;
}

const results = { model: MODEL, node: process.version, cpu: `${os.cpus()[0]?.model ?? 'CPU'} ×${os.cpus().length}`, variants: [], cases: CASES.map(([n]) => n), skipped: [] };
const texts = new Map(CASES.map(([name, n, T]) => [name, textsOf(n, T, name.length * 7919 + T)]));

// ---------------------------------------------------------------- variants: create all, then alternate
const live = [];
for (const v of args['no-ab'] ? [] : VARIANTS) {
  if (performance.now() - started > BUDGET_MS / 2) {
    results.skipped.push(v.name);
    console.log(`${v.name}: skipped (time budget)`);
    continue;
  }
  const t0 = performance.now();
  try {
    const embedder = await createEmbedder(MODEL, { device: 'webgpu', dawnFlags: DAWN_FLAGS, timestamps: true, webgpu: { tuning: v.tuning } });
    const backend = embedder.backend; // private in TypeScript: the bench reads the GPU timings off it
    if (live.length === 0) {
      const info = backend.info;
      results.adapter = info.adapter;
      console.log(`adapter: ${JSON.stringify(info.adapter)}; subgroups ${info.subgroups}, timestamps ${info.timestamps}; ${results.cpu}; Node ${process.version}`);
      if (/swiftshader/i.test(info.adapter.architecture) && !args.quick) console.log('WARNING: SwiftShader (CPU) adapter: these figures say nothing about GPU speed');
    }
    live.push({ ...v, embedder, backend, createMs: performance.now() - t0, gpu: new Map(), e2e: new Map(), errors: [] });
    console.log(`${v.name} (${JSON.stringify(v.tuning)}): created in ${fmt(performance.now() - t0, 0)} ms; info ${JSON.stringify({ gemmBK: backend.info.gemmBK, gemmTM: backend.info.gemmTM, gemmTN: backend.info.gemmTN, keys: backend.info.attentionKeys, qpt: backend.info.attentionQueries })}`);
  } catch (e) {
    console.log(`${v.name}: creation failed: ${String(e.message ?? e).split('\n')[0]}`);
    results.variants.push({ name: v.name, tuning: v.tuning, error: String(e.message ?? e) });
  }
}

/** Medians so far into `results` and the JSON file; with `table`, the tables too. */
function report(table) {
  results.variants = results.variants.filter((r) => r.error);
  for (const v of live) {
    const row = { name: v.name, tuning: v.tuning, createMs: v.createMs, errors: v.errors, cases: {} };
    for (const [name] of CASES) {
      if (!v.gpu.has(name)) continue;
      const T = CASES.find(([n]) => n === name)[2];
      const e2eKind = T <= v.embedder.defaults.maxLength ? 'embed()' : 'runGraph forwards (T past maxLength)';
      row.cases[name] = { gpuMs: median(v.gpu.get(name)), e2eMs: median(v.e2e.get(name)), e2eKind, gpuRuns: v.gpu.get(name), e2eRuns: v.e2e.get(name) };
    }
    results.variants.push(row);
  }
  results.totalS = (performance.now() - started) / 1000;
  if (args.json) writeFileSync(args.json, JSON.stringify(results, null, 1));
  if (!table || live.length === 0) return;
  const cases = CASES.filter(([name]) => live.some((v) => v.gpu.get(name)?.length));
  console.log(
    `\nmedians over rounds (GPU ms: timestamp queries around each forward, summed over the case's batches; e2e ms: embed() wall time, ` +
      `or for T past the model's max length (${live[0].embedder.defaults.maxLength}) the wall time of the forwards through runGraph; ${MODEL}):`,
  );
  console.log(`| variant | ${cases.map(([n]) => `${n} GPU | ${n} e2e`).join(' | ')} |`);
  console.log(`|---|${cases.map(() => '---|---').join('|')}|`);
  for (const row of results.variants.filter((r) => r.cases)) console.log(`| ${row.name} | ${cases.map(([n]) => `${fmt(row.cases[n]?.gpuMs)} | ${fmt(row.cases[n]?.e2eMs)}`).join(' | ')} |`);
  const base = results.variants.find((r) => r.name === 'base' && r.cases);
  if (!base) return;
  console.log('\nbest per case against base (GPU ms; e2e ms):');
  for (const [name] of cases) {
    const rows = results.variants.filter((r) => r.cases?.[name] && !Number.isNaN(r.cases[name].gpuMs));
    if (!rows.length) continue;
    const bestGpu = rows.reduce((x, y) => (y.cases[name].gpuMs < x.cases[name].gpuMs ? y : x));
    const bestE2e = rows.reduce((x, y) => (y.cases[name].e2eMs < x.cases[name].e2eMs ? y : x));
    console.log(
      `  ${name}: GPU ${bestGpu.name} ${fmt(bestGpu.cases[name].gpuMs)} (base ${fmt(base.cases[name]?.gpuMs)}); ` +
        `e2e ${bestE2e.name} ${fmt(bestE2e.cases[name].e2eMs)} (base ${fmt(base.cases[name]?.e2eMs)})`,
    );
  }
}
// A time cap (timeout sends SIGTERM) still leaves the medians measured so far.
process.on('SIGTERM', () => {
  console.log('\nSIGTERM: reporting what was measured');
  report(true);
  process.exit(124);
});

async function gpuMsOf(backend, batches) {
  let sum = 0;
  for (const b of batches) {
    await runGraph(graph, backend, b);
    sum += backend.lastTimings?.gpuMs ?? Number.NaN;
  }
  return sum;
}

// Past the model's max length (minilm: 256) embed() would truncate: there the e2e column is the
// wall time of the forwards through runGraph (no tokenizing), and the JSON says so (e2eKind).
async function e2eMsOf(v, list, batchSize, batches, T) {
  const t0 = performance.now();
  if (T <= v.embedder.defaults.maxLength) await v.embedder.embed(list, { batchSize });
  else for (const b of batches) await runGraph(graph, v.backend, b);
  return performance.now() - t0;
}

report(false); // the adapter and the variants made, before any case (a cap that strikes early keeps these)

// One warm-up, then RUNS rounds; each round runs every live variant on the case once.
for (const [name, n, T, batchSize] of live.length ? CASES : []) {
  if (performance.now() - started > BUDGET_MS) {
    console.log(`${name}: skipped (time budget)`);
    continue;
  }
  const batches = batchesOf(n, T, batchSize);
  const list = texts.get(name);
  const rounds = n * T >= 256_000 ? Math.max(3, RUNS - 2) : RUNS;
  for (const v of live) {
    v.gpu.set(name, []);
    v.e2e.set(name, []);
  }
  for (let round = -1; round < rounds; round++) {
    if (performance.now() - started > BUDGET_MS && round >= 1) {
      console.log(`${name}: stopped after ${round} rounds (time budget)`);
      break;
    }
    for (const v of live) {
      if (v.errors.length) continue;
      if (performance.now() - started > BUDGET_MS && round >= 1) break;
      try {
        const g = await gpuMsOf(v.backend, batches);
        const e = await e2eMsOf(v, list, batchSize, batches, T);
        if (round >= 0) {
          v.gpu.get(name).push(g);
          v.e2e.get(name).push(e);
        }
      } catch (err) {
        v.errors.push(`${name}: ${String(err.message ?? err).split('\n')[0]}`);
        console.log(`${v.name} ${name}: failed: ${v.errors.at(-1)}`);
      }
    }
  }
  // A variant cut short in the last round would have fewer runs: keep the rounds all finished.
  const full = Math.min(...live.filter((v) => !v.errors.length).map((v) => v.gpu.get(name).length));
  for (const v of live) {
    v.gpu.get(name).length = Math.min(v.gpu.get(name).length, full);
    v.e2e.get(name).length = Math.min(v.e2e.get(name).length, full);
  }
  report(false);
  console.log(`${name}: ${full} rounds, at ${fmt((performance.now() - started) / 1000, 1)} s`);
}
report(true);

for (const v of live) v.embedder.dispose();

// ---------------------------------------------------------------- cold start, fresh processes
if (args.cold) {
  const modes = ['lazy', 'sync', 'async'];
  const reps = Math.max(1, Number(args['cold-reps']));
  const self = fileURLToPath(import.meta.url);
  const cold = [];
  console.log(`\ncold start (fresh process each; createEmbedder + first embed of one short text; driver shader disk cache off), ${MODEL}:`);
  for (let r = 0; r < reps; r++) {
    for (const mode of modes) {
      const child = spawnSync(process.execPath, [self, '--cold-child', mode, ...(args.quick ? ['--quick'] : [])], {
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, __GL_SHADER_DISK_CACHE: '0' },
      });
      const line = child.stdout.trim().split('\n').at(-1) ?? '';
      try {
        const m = JSON.parse(line);
        cold.push(m);
        results.cold = cold;
        report(false);
        console.log(`  ${mode}: create ${fmt(m.createMs, 0)} ms + first embed ${fmt(m.firstEmbedMs, 0)} ms = ${fmt(m.coldMs, 0)} ms (second embed ${fmt(m.secondEmbedMs, 1)} ms; ${m.pipelines} pipelines; import ${fmt(m.importMs, 0)} ms)`);
      } catch {
        cold.push({ mode, error: (child.stderr || child.error?.message || 'no output').slice(-400) });
        console.log(`  ${mode}: failed: ${(child.stderr || child.error?.message || 'no output').trim().split('\n').slice(-2).join(' | ')}`);
      }
    }
  }
  results.cold = cold;
  for (const mode of modes) {
    const ms = cold.filter((c) => c.mode === mode && c.coldMs !== undefined).map((c) => c.coldMs);
    if (ms.length) console.log(`  ${mode}: median cold ${fmt(median(ms), 0)} ms over ${ms.length}`);
  }
}
report(false);
console.log(`\ntotal ${fmt(results.totalS, 1)} s`);
if (args.json) console.log(`wrote ${args.json}`);
process.exit(0);
