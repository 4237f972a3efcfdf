#!/usr/bin/env node
// MiniLM's four linear layers alone (qkv 384→1152, attn.sum 384→384 + residual, ffn.inner
// 384→1536 + GELU, ffn.sum 1536→384 + residual) as the wasm backend runs them, fp32 and q8, on
// one thread of the SIMD build: the same jobs (runJob with the GEMM, Q8_MINMAX and Q8_GEMM
// arguments backend.ts writes, gemmPlan's blocks), without the rest of a forward. For kernel
// work: GOP/s of each layer per build, next to the fp32 GEMM of the same build, in one process
// with interleaved rounds (CPU time of the process, steadier than wall time on a shared machine).
// Weights and inputs are synthetic (only timing is measured; the q8 tests check the results).
//
//   node bench/cpu/linear-layers.mjs [--tokens 4096] [--rounds 7] [--variant base=DIR --variant new=build/]
//
// Over the built dist/ (npm run build:ts) and each DIR's dualbert-simd.wasm.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    tokens: { type: 'string', default: '4096' },
    rounds: { type: 'string', default: '7' },
    variant: { type: 'string', multiple: true, default: ['new=build/'] },
  },
});
const dist = (p) => new URL(`../../dist/${p}`, import.meta.url).href;
const { CTRL, OP, EPI } = await import(dist('backends/wasm/abi.js'));
const A = await import(dist('backends/wasm/job-args.js'));
const { gemmPlan } = await import(dist('backends/wasm/backend.js'));

const N = Number(args.tokens);
const rounds = Number(args.rounds);
const LAYERS = [
  { name: 'qkv', K: 384, M: 1152, epi: EPI.bias },
  { name: 'attn.sum', K: 384, M: 384, epi: EPI.residual },
  { name: 'ffn.inner', K: 384, M: 1536, epi: EPI.gelu },
  { name: 'ffn.sum', K: 1536, M: 384, epi: EPI.residual },
];
const MiB = 2 ** 20;
// Memory map (bytes): control block, then x, out, residual, weights (fp32 or q8 panels: both
// read any bytes), zero points / scales / bias, min/max stats, scratch.
const CTRL_AT = 4096;
const X = MiB;
const OUT = X + 4 * N * 1536;
const RES = OUT + 4 * N * 1536;
const W = RES + 4 * N * 1536;
const ZPE = W + 4 * 1536 * 1536;
const WS = ZPE + 8192;
const BIAS = WS + 8192;
const STATS = BIAS + 8192;
const SCRATCH = STATS + 64 * 8 + 4096;
const BYTES = SCRATCH + 8 * MiB;

const variants = [];
for (const v of args.variant) {
  const [name, dir] = v.split('=');
  const memory = new WebAssembly.Memory({ initial: Math.ceil(BYTES / 65536) });
  const { instance } = await WebAssembly.instantiate(readFileSync(resolve(dir, 'dualbert-simd.wasm')), { env: { memory } });
  if (instance.exports.heapBase() > CTRL_AT) throw new Error(`${dir}: static data reaches past ${CTRL_AT}`);
  let seed = 12345;
  const rand = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const f32 = new Float32Array(memory.buffer);
  const i32 = new Int32Array(memory.buffer);
  for (let i = X / 4; i < (X + 4 * N * 1536) / 4; i++) f32[i] = (rand() - 0.5) * 4;
  for (let i = RES / 4; i < (RES + 4 * N * 1536) / 4; i++) f32[i] = rand() - 0.5;
  for (let i = W / 4; i < (W + 4 * 1536 * 1536) / 4; i++) f32[i] = (rand() - 0.5) * 0.1;
  for (let i = 0; i < 1536; i++) {
    i32[ZPE / 4 + i] = (i % 7) - 3;
    f32[WS / 4 + i] = 0.002;
    f32[BIAS / 4 + i] = 0.1;
  }
  variants.push({ name, exports: instance.exports, i32, f32, gen: 0 });
}

function job(v, op, tasks, slots) {
  v.gen = (v.gen + 1) & 0xffff || 1;
  const args = (CTRL_AT + CTRL.ARGS) / 4;
  v.i32[(CTRL_AT + CTRL.TASKS) / 4] = tasks;
  v.i32[(CTRL_AT + CTRL.TASK) / 4] = v.gen << 16;
  v.i32[(CTRL_AT + CTRL.FINISHED) / 4] = 0;
  v.i32[args] = op;
  for (const [slot, value, type] of slots) (type === 'f32' ? v.f32 : v.i32)[args + slot] = value;
  v.exports.runJob(CTRL_AT, 0, v.gen);
  if (v.i32[(CTRL_AT + CTRL.FINISHED) / 4] !== tasks) throw new Error('job did not finish');
}

function fp32Layer(v, { K, M, epi }) {
  const plan = gemmPlan(N, K, M, 1);
  job(v, OP.GEMM, Math.ceil(N / plan.MC) * Math.ceil(Math.ceil(M / 8) / plan.PG), [
    [A.GEMM_X, X],
    [A.GEMM_W, W],
    [A.GEMM_BIAS, BIAS],
    [A.GEMM_OUT, OUT],
    [A.GEMM_RESIDUAL, epi === EPI.residual ? RES : 0],
    [A.GEMM_N, N],
    [A.GEMM_K, K],
    [A.GEMM_M, M],
    [A.GEMM_EPI, epi],
    [A.GEMM_SCRATCH, SCRATCH],
    [A.GEMM_SCRATCH_PER_THREAD, 8 * MiB],
    [A.GEMM_MC, plan.MC],
    [A.GEMM_PG, plan.PG],
    [A.GEMM_PACK_A, plan.packA ? 1 : 0],
    [A.GEMM_LN_OUT, 0],
    [A.GEMM_LN_GAMMA, 0],
    [A.GEMM_LN_BETA, 0],
    [A.GEMM_LN_EPS, 0, 'f32'],
  ]);
}

function q8Layer(v, { K, M, epi }) {
  // As backend.ts linearQ8: the min/max job, then the q8 GEMM job.
  const count = N * K;
  const chunk = Math.max(4096, Math.ceil(count / 64 / 4) * 4);
  const statsCount = Math.ceil(count / chunk);
  job(v, OP.Q8_MINMAX, statsCount, [
    [A.Q8MM_X, X],
    [A.Q8MM_COUNT, count],
    [A.Q8MM_STATS, STATS],
    [A.Q8MM_CHUNK, chunk],
  ]);
  const plan = gemmPlan(N, K, M, 1);
  job(v, OP.Q8_GEMM, Math.ceil(N / plan.MC) * Math.ceil(Math.ceil(M / 8) / plan.PG), [
    [A.Q8_X, X],
    [A.Q8_W, W],
    [A.Q8_ZPE, ZPE],
    [A.Q8_WSCALE, WS],
    [A.Q8_BIAS, BIAS],
    [A.Q8_OUT, OUT],
    [A.Q8_RESIDUAL, epi === EPI.residual ? RES : 0],
    [A.Q8_N, N],
    [A.Q8_K, K],
    [A.Q8_M, M],
    [A.Q8_EPI, epi],
    [A.Q8_SCRATCH, SCRATCH],
    [A.Q8_SCRATCH_PER_THREAD, 8 * MiB],
    [A.Q8_MC, plan.MC],
    [A.Q8_PG, plan.PG],
    [A.Q8_LN_OUT, 0],
    [A.Q8_LN_GAMMA, 0],
    [A.Q8_LN_BETA, 0],
    [A.Q8_LN_EPS, 0, 'f32'],
    [A.Q8_STATS, STATS],
    [A.Q8_STATS_COUNT, statsCount],
    [A.Q8_COLSUM, 0],
  ]);
}

const runs = [];
for (const v of variants)
  for (const [dtype, fn] of [
    ['fp32', fp32Layer],
    ['q8', q8Layer],
  ])
    for (const layer of LAYERS) runs.push({ v, dtype, fn, layer, ms: [] });
const cpuMs = () => process.cpuUsage().user / 1000;
for (const r of runs) r.fn(r.v, r.layer); // warm-up (and V8's tier-up)
for (let round = 0; round < rounds; round++) {
  for (let k = 0; k < runs.length; k++) {
    const r = runs[(k + round) % runs.length];
    const t = cpuMs();
    r.fn(r.v, r.layer);
    r.ms.push(cpuMs() - t);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const os = await import('node:os');
console.log(`linear layers of MiniLM, N = ${N} tokens, 1 thread, simd build; median CPU ms of ${rounds} rounds; load ${os.loadavg()[0].toFixed(1)}`);
console.log('| build | dtype | layer | ms | GOP/s |');
console.log('|---|---|---|---:|---:|');
const totals = new Map();
for (const r of runs) {
  const ms = median(r.ms);
  const key = `${r.v.name} ${r.dtype}`;
  totals.set(key, (totals.get(key) ?? 0) + ms);
  console.log(`| ${r.v.name} | ${r.dtype} | ${r.layer.name} | ${ms.toFixed(1)} | ${((2 * N * r.layer.K * r.layer.M) / ms / 1e6).toFixed(1)} |`);
}
const ops = LAYERS.reduce((s, l) => s + 2 * N * l.K * l.M, 0);
for (const [key, ms] of totals) console.log(`${key}: ${ms.toFixed(1)} ms per layer set, ${(ops / ms / 1e6).toFixed(1)} GOP/s`);
