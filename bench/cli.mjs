#!/usr/bin/env node
// Headless benchmark suite: runs bench/cpu.mjs (dualbert wasm SIMD/scalar vs onnxruntime-web
// wasm) and bench/gpu.mjs (dualbert WebGPU on Dawn vs onnxruntime-node's WebGPU EP, when a GPU
// adapter and onnxruntime-node are there) each in its own process, and combines their JSON
// reports into one JSON file and one Markdown table, with the machine and the adapter described.
// Both scripts take medians of at least 5 runs after warm-up.
//
//   npm run bench                          full CPU and GPU sets (GPU set meant for an H100/H200)
//   npm run bench -- --quick               small shapes, no scalar, no cold start (about a minute)
//   npm run bench -- --quick --swiftshader on a machine without a GPU: Dawn on SwiftShader (checks
//                                          the GPU script, not speed; never use it on a real GPU)
//   Also: PyTorch CUDA fp32 on the same GPU (bench/gpu/torch_baseline.py) where python3 has torch with
//   CUDA, and the tokenizers (bench/tokenizer.mjs) against Hugging Face `tokenizers`.
//   options: --only cpu|gpu  --out DIR (default bench/results)  --name NAME (default bench-<host>)
//            --cpu-args=...  --gpu-args=...   extra arguments for the two scripts (e.g. --gpu-args=--no-profile)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gpuTestEnv } from '../test/helpers/gpu-env.mjs';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    swiftshader: { type: 'boolean', default: false },
    only: { type: 'string', default: '' },
    out: { type: 'string', default: fileURLToPath(new URL('./results/', import.meta.url)) },
    name: { type: 'string', default: `bench-${os.hostname().replace(/[^\w.-]/g, '_')}` },
    'cpu-args': { type: 'string', default: '' },
    'gpu-args': { type: 'string', default: '' },
  },
});
const HERE = fileURLToPath(new URL('./', import.meta.url));
const tmp = mkdtempSync(join(os.tmpdir(), 'dualbert-bench-'));
const split = (s) => s.split(/\s+/).filter(Boolean);
const fmt = (x, d = 3) => (x == null || Number.isNaN(x) ? '–' : Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(d));

/**
 * PyTorch CUDA fp32 on the same GPU (bench/gpu/torch_baseline.py: minilm shapes, TF32 off), when
 * python3 with torch and CUDA is there; null otherwise (the usual case outside a GPU machine).
 */
function torchBaseline() {
  const probe = spawnSync('python3', ['-c', 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)'], { stdio: 'ignore' });
  if (probe.status !== 0) return null;
  const json = join(tmp, 'torch.json');
  console.log('\n=== python3 bench/gpu/torch_baseline.py');
  spawnSync('python3', [join(HERE, 'gpu', 'torch_baseline.py'), '--json', json, ...(args.quick ? ['--quick'] : [])], { stdio: ['ignore', 'inherit', 'inherit'] });
  try {
    return JSON.parse(readFileSync(json, 'utf8'));
  } catch {
    return { error: 'bench/gpu/torch_baseline.py produced no report' };
  }
}

/** Runs one of the bench scripts with --json; its output streams through. */
function runScript(script, extra, env = {}) {
  const json = join(tmp, `${script}.json`);
  console.log(`\n=== node bench/${script} ${extra.join(' ')}`);
  const r = spawnSync(process.execPath, [join(HERE, script), ...extra, '--json', json], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.stderr) process.stderr.write(r.stderr);
  try {
    return { report: JSON.parse(readFileSync(json, 'utf8')), status: r.status };
  } catch {
    const lines = (r.stderr ?? '').split('\n').filter(Boolean);
    const why = lines.find((l) => /^\w*Error\b|Error:/.test(l)) ?? lines.at(-1) ?? `exit ${r.status}`;
    return { error: `bench/${script} produced no report (${why})`, status: r.status };
  }
}

const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown CPU',
  cores: os.cpus().length,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  platform: `${os.type()} ${os.release()} ${os.arch()}`,
  node: process.version,
  loadavg: os.loadavg(),
};
const combined = { date: new Date().toISOString(), machine, quick: args.quick, cpu: null, gpu: null, torch: null, tokenizer: null };

if (args.only !== 'gpu') {
  const cpuArgs = args.quick ? ['--only', 'B1 T16,B1 T128', '--engines', 'simd,onnxruntime-web', '--no-cold'] : [];
  const r = runScript('cpu.mjs', [...cpuArgs, ...split(args['cpu-args'])]);
  combined.cpu = r.report ?? { error: r.error };
}
if (args.only !== 'cpu') {
  const r = runScript('gpu.mjs', [...(args.quick ? ['--quick', '--no-profile'] : []), ...split(args['gpu-args'])], args.swiftshader ? gpuTestEnv() : {});
  combined.gpu = r.report ?? { error: r.error };
  combined.torch = torchBaseline();
}
if (args.only !== 'cpu' && args.only !== 'gpu') {
  const r = runScript('tokenizer.mjs', ['--runs', args.quick ? '3' : '9']);
  combined.tokenizer = r.report ?? { error: r.error };
}
rmSync(tmp, { recursive: true, force: true });

// ---- Markdown ----
const md = [`# dualbert benchmarks (${combined.date})`, ''];
md.push(`Machine: ${machine.cpu}, ${machine.cores} logical cores, ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}, load ${machine.loadavg[0].toFixed(2)}.`);
const adapter = combined.gpu?.adapter;
md.push(`GPU adapter: ${adapter ? [adapter.vendor, adapter.architecture, adapter.device, adapter.description].filter(Boolean).join(' · ') : combined.gpu?.error ?? 'not run'}.`, '');
md.push('| suite | case | engine | threads | median ms | tokens/s | vs onnxruntime |', '|---|---|---|---:|---:|---:|---:|');
if (combined.cpu?.results) {
  for (const r of combined.cpu.results) {
    md.push(`| cpu | ${r.case} | ${r.engine} | ${r.threads} | ${fmt(r.ms)} | ${fmt(r.tokensPerS)} | ${r.vsOrt ? `${r.vsOrt.toFixed(2)}×` : '–'} |`);
  }
} else if (combined.cpu) md.push(`| cpu | – | ${combined.cpu.error} | | | | |`);
if (combined.gpu?.results) {
  for (const r of combined.gpu.results) {
    md.push(`| gpu | ${r.name} | dualbert webgpu | – | ${fmt(r.wallMs)} | ${fmt(r.tokensPerS)} | ${r.ortMs ? `${(r.ortMs / r.wallMs).toFixed(2)}×` : '–'} |`);
    if (r.ortMs) md.push(`| gpu | ${r.name} | onnxruntime-node webgpu | – | ${fmt(r.ortMs)} | ${fmt((r.docs * r.T) / (r.ortMs / 1000))} | 1.00× |`);
  }
} else if (combined.gpu) md.push(`| gpu | – | ${combined.gpu.error} | | | | |`);
for (const c of combined.torch?.cases ?? []) md.push(`| gpu | minilm ${c.name} | PyTorch CUDA fp32 (TF32 off) | – | ${fmt(c.wallMs)} | ${fmt((c.docs * c.T) / (c.wallMs / 1000))} | – |`);
if (combined.tokenizer?.results) {
  for (const t of combined.tokenizer.results) {
    md.push(`| tokenizer | corpus (${combined.tokenizer.texts} texts) | ${t.name} | 1 | ${fmt((combined.tokenizer.texts / t.textsPerS) * 1000)} | ${fmt(t.tokensPerS)} | ${t.hfTextsPerS ? `${(t.textsPerS / t.hfTextsPerS).toFixed(2)}× HF tokenizers` : '–'} |`);
  }
} else if (combined.tokenizer) md.push(`| tokenizer | – | ${combined.tokenizer.error} | | | | |`);
md.push('', '"vs onnxruntime": onnxruntime time / ours with the same threads (CPU: onnxruntime-web wasm; GPU: onnxruntime-node WebGPU EP, output read back, pooling not included); above 1× is faster than onnxruntime. PyTorch rows: the same shapes in PyTorch CUDA fp32 on the same GPU (compare with the dualbert webgpu rows). Tokenizer rows: ms to encode the corpus with one thread; the ratio is against Hugging Face `tokenizers` (Rust, through its Node binding, `encodeBatch` with its thread pool).');
if (combined.cpu?.cold?.length) {
  md.push('', '| cold start (fresh process, B1 T16) | threads | create ms | first forward ms | total ms |', '|---|---:|---:|---:|---:|');
  for (const c of combined.cpu.cold) md.push(`| ${c.engine} | ${c.threads} | ${fmt(c.createMs)} | ${fmt(c.firstForwardMs)} | ${fmt(c.totalMs)} |`);
}
const markdown = `${md.join('\n')}\n`;

mkdirSync(resolve(args.out), { recursive: true });
const base = join(resolve(args.out), args.name);
writeFileSync(`${base}.json`, `${JSON.stringify(combined, null, 2)}\n`);
writeFileSync(`${base}.md`, markdown);
console.log(`\n${markdown}\nwrote ${base}.json and ${base}.md`);
process.exit(combined.cpu?.error && combined.gpu?.error ? 1 : 0);
