#!/usr/bin/env node
// GPU benchmark of the webgpu path (WGSL on Dawn), over the built dist/ and node_modules/webgpu
// only, so it also runs on a machine with Node carried in and no npm. For each case: wall ms of a
// forward (host recording + one submit + readback of the pooled output) and GPU ms from timestamp
// queries (median of --runs after warm-up), tokens/s, TFLOP/s and the fraction of FP32 peak; a
// per-kernel profile; onnxruntime-node's WebGPU EP on the same weights when it is importable.
// Encoder families (issue #13): XLM-R (multilingual-e5-small's shape), MPNet (all-mpnet-base-v2),
// ModernBERT (gte-modernbert-base) and NomicBERT (nomic-embed-text-v1.5), with the recipe weights
// of the real-shaped goldens (bench/gpu/family-models.mjs); onnxruntime runs them from ONNX
// exports of the same models (bench/gpu/export_family_onnx.py, run here when python3 has torch,
// transformers and onnxruntime, or made elsewhere and passed with --family-onnx DIR).
//
//   npm run bench:gpu                       full set (meant for an H100/H200)
//   node bench/gpu.mjs --quick              small shapes (SwiftShader: checks the script, not speed)
//   options: --runs N (default 7)  --peak TFLOPS (default 67: H100/H200 FP32)  --json FILE
//            --tune bk=32,tm=8,splitk=0,keys=64,qpt=2,subgroups=0  --no-ort  --no-profile  --only NAME[,NAME]
//            --sweep   GPU ms of every kernel variant (GEMM K tile × rows per invocation, attention
//                      key tile) on each case, to pick the defaults for this GPU
//            --family-onnx DIR  where the families' ONNX exports are (made there when missing)
//            --no-rerank  skip the rerank row (bench/rerank.mjs: one query × 32 documents of 128
//                      tokens through reranker.rank(), synthetic:minilm; synthetic:tiny with --quick)
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createWebGpuBackend } from '../dist/backends/webgpu/index.js';
import { buildBertGraph } from '../dist/graph/bert.js';
import { runGraph } from '../dist/graph/execute.js';
import { bindWeights, checkpointNames } from '../dist/graph/weights.js';
import { createEmbedder } from '../dist/index.js';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../dist/model/synthetic.js';
import { FAMILIES, familyModel, readFamilyGolden } from './gpu/family-models.mjs';
import { benchRerank } from './rerank.mjs';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string', default: '7' },
    peak: { type: 'string', default: '67' },
    json: { type: 'string' },
    tune: { type: 'string', default: '' },
    'no-ort': { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false },
    only: { type: 'string', default: '' },
    sweep: { type: 'boolean', default: false },
    'no-rerank': { type: 'boolean', default: false },
    'family-onnx': { type: 'string', default: join(os.tmpdir(), 'dualbert-family-onnx') },
  },
});
const RUNS = Math.max(5, Number(args.runs));
const WARMUP = 2;
const PEAK_TFLOPS = Number(args.peak);
// Dawn quantizes timestamps (to 100 µs steps) unless told not to.
const DAWN_FLAGS = ['disable-dawn-features=timestamp_quantization'];

/** --tune bk=32,keys=64,subgroups=0 → the backend's tuning knobs. */
function parseTuning(text) {
  const tuning = {};
  for (const part of text.split(',').filter(Boolean)) {
    const [k, v] = part.split('=');
    if (k === 'bk') tuning.gemmBK = Number(v);
    else if (k === 'tm') tuning.gemmTM = Number(v);
    else if (k === 'keys') tuning.attentionKeys = Number(v);
    else if (k === 'qpt') tuning.attentionQueries = Number(v);
    else if (k === 'splitk') tuning.splitK = v !== '0';
    else if (k === 'subgroups') tuning.subgroups = v !== '0';
    else throw new Error(`--tune: unknown knob "${k}" (bk, tm, splitk, keys, qpt, subgroups)`);
  }
  return tuning;
}
const TUNING = parseTuning(args.tune);

const BGE_BASE = {
  vocabSize: 30522,
  hiddenSize: 768,
  numLayers: 12,
  numHeads: 12,
  intermediateSize: 3072,
  maxPositions: 512,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  hiddenAct: 'gelu',
};
const MODELS = {
  minilm: SYNTHETIC_MODELS.minilm.config,
  'bge-base': BGE_BASE,
  // --quick: bge-base widths (head size 64) with one layer, so SwiftShader finishes in seconds.
  'bge-1layer': { ...BGE_BASE, numLayers: 1 },
  tiny: SYNTHETIC_MODELS.tiny.config,
};
// The encoder families by their --only names (e5-small, mpnet, modernbert, nomic); --quick keeps
// their first layer or two.
const FAMILY = new Map(FAMILIES.map((f) => [f.name, f]));

// name, model, docs (sequences in all), T, batch (sequences per forward)
const FULL = [
  ['minilm B1 T16', 'minilm', 1, 16, 1],
  ['minilm B1 T128', 'minilm', 1, 128, 1],
  ['minilm B32 T128', 'minilm', 32, 128, 32],
  ['minilm B256 T128', 'minilm', 256, 128, 256],
  ['minilm 1000×T512', 'minilm', 1000, 512, 64],
  ['bge-base B64 T256', 'bge-base', 64, 256, 64],
  ['e5-small B32 T128', 'e5-small', 32, 128, 32],
  ['mpnet-base B32 T128', 'mpnet', 32, 128, 32],
  ['modernbert-base B32 T128', 'modernbert', 32, 128, 32],
  ['modernbert-base B1 T2048', 'modernbert', 1, 2048, 1],
  ['nomic-v1.5 B32 T128', 'nomic', 32, 128, 32],
  ['nomic-v1.5 B1 T2048', 'nomic', 1, 2048, 1],
];
// SwiftShader runs minilm at ~5 tokens/s: the quick set checks every code path of the script on
// small shapes (several forwards per docs case, head size 64) in about a minute.
const QUICK = [
  ['tiny B1 T16', 'tiny', 1, 16, 1],
  ['tiny B4 T32', 'tiny', 4, 32, 4],
  ['tiny 10×T32', 'tiny', 10, 32, 4],
  ['bge-1layer B1 T8', 'bge-1layer', 1, 8, 1],
  ['e5-small 1 layer B2 T8', 'e5-small', 2, 8, 2],
  ['modernbert 2 layers B1 T16', 'modernbert', 1, 16, 1],
];
const only = new Set(args.only.split(',').filter(Boolean));
const CASES = (args.quick ? QUICK : FULL).filter(([name]) => only.size === 0 || only.has(name));

/**
 * FLOP of a forward: 2·M·K per token for every linear weight [M, K] of the graph (gated MLPs
 * included), and 4·C per token per key attended (T keys; a sliding layer's window at most).
 */
function flopOf(graph, config, docs, T) {
  let linear = 0;
  for (const w of graph.weights) if (w.role === 'linear' && w.shape.length === 2) linear += 2 * w.shape[0] * w.shape[1];
  let attention = 0;
  for (let l = 0; l < config.numLayers; l++)
    attention += 4 * config.hiddenSize * (config.layerTypes?.[l] === 'sliding' ? Math.min(T, 2 * config.slidingWindow + 1) : T);
  return docs * T * (linear + attention);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Deterministic full-length batches (no padding: benchmark shapes are exact); BERT's [CLS] … [SEP]
 * ids in its 30k vocabulary, plain ids below the vocabulary for the families' 1,024.
 */
function makeBatch(B, T, seed, vocab) {
  const bert = (i) => (i % T === 0 ? 101 : i % T === T - 1 ? 102 : 1000 + ((i * 7919 + seed * 104729) % 28000));
  const small = (i) => 5 + ((i * 7919 + seed * 104729) % (vocab - 10));
  const ids = new Int32Array(B * T).map((_, i) => (vocab > 29000 ? bert(i) : small(i)));
  return { batchSize: B, seqLen: T, ids, typeIds: new Int32Array(B * T), attentionMask: new Uint8Array(B * T).fill(1) };
}

function batchesOf(docs, T, batch, vocab) {
  const out = [];
  for (let start = 0, k = 0; start < docs; start += batch, k++) out.push(makeBatch(Math.min(batch, docs - start), T, k, vocab));
  return out;
}

const weightsCache = new Map();
function modelWeights(name) {
  if (!weightsCache.has(name)) {
    const family = FAMILY.get(name);
    let config;
    let checkpoint;
    let graph;
    if (family) {
      ({ config, checkpoint } = familyModel(readFamilyGolden(family.file), args.quick ? family.quickLayers : undefined));
      graph = buildBertGraph(config, { pooling: 'mean', normalize: true });
    } else {
      config = MODELS[name];
      graph = buildBertGraph(config, { pooling: 'mean', normalize: true });
      checkpoint = syntheticCheckpoint(config, new Set(checkpointNames(graph.weights)));
    }
    weightsCache.set(name, { config, graph, checkpoint, weights: bindWeights(graph.weights, checkpoint), family });
  }
  return weightsCache.get(name);
}

const fmt = (x, digits = 2) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));

// ---------------------------------------------------------------- dualbert webgpu
const results = [];
const backends = new Map();
async function backendFor(model, profile = false) {
  const key = `${model}/${profile}`;
  if (!backends.has(key)) {
    const { weights } = modelWeights(model);
    backends.set(key, await createWebGpuBackend(weights, { timestamps: true, profile, dawnFlags: DAWN_FLAGS, tuning: TUNING }));
  }
  return backends.get(key);
}

const first = await backendFor(CASES[0][1]);
const info = first.info;
const limits = first.context.device.limits;
console.log(`dualbert webgpu benchmark — Node ${process.version}, ${os.cpus()[0]?.model ?? 'CPU'} ×${os.cpus().length}`);
console.log(`adapter: ${JSON.stringify(info.adapter)}`);
console.log(
  `features: subgroups ${info.subgroups}, timestamps ${info.timestamps}, f16 ${info.f16}; GEMM BK ${info.gemmBK} TM ${info.gemmTM}, attention key tile ${info.attentionKeys}; ` +
    `limits: workgroup storage ${limits.maxComputeWorkgroupStorageSize} B, invocations ${limits.maxComputeInvocationsPerWorkgroup}, ` +
    `storage binding ${(limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`,
);
if (/swiftshader/i.test(info.adapter.architecture) && !args.quick) console.log('WARNING: SwiftShader (CPU) adapter: these figures say nothing about GPU speed');
if (!info.timestamps) console.log('note: no timestamp-query on this adapter: GPU ms are not available, TFLOP/s use wall time');

for (const [name, model, docs, T, batch] of CASES) {
  const backend = await backendFor(model);
  const { graph, config } = modelWeights(model);
  const batches = batchesOf(docs, T, batch, config.vocabSize);
  // The pooled output of the first batch, to check that onnxruntime computes the same thing.
  let firstOutput;
  const forward = async () => {
    let gpu = 0;
    const host = { record: 0, encode: 0, wait: 0 };
    const t0 = performance.now();
    for (const b of batches) {
      const { output } = await runGraph(graph, backend, b);
      firstOutput ??= output.slice();
      gpu += backend.lastTimings?.gpuMs ?? NaN;
      for (const k of Object.keys(host)) host[k] += backend.lastTimings?.host[k] ?? NaN;
    }
    return { wall: performance.now() - t0, gpu, host };
  };
  for (let i = 0; i < WARMUP; i++) await forward();
  const walls = [];
  const gpus = [];
  const hosts = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await forward();
    walls.push(r.wall);
    gpus.push(r.gpu);
    hosts.push(r.host);
  }
  const hostMs = Object.fromEntries(['record', 'encode', 'wait'].map((k) => [k, median(hosts.map((h) => h[k]))]));
  const flop = flopOf(graph, config, docs, T);
  const wall = median(walls);
  const gpu = median(gpus);
  const row = { name, model, docs, T, batch, forwards: batches.length, wallMs: wall, gpuMs: gpu, hostMs, tokensPerS: (docs * T) / (wall / 1000), flop };
  Object.defineProperty(row, 'firstOutput', { value: firstOutput, enumerable: false }); // not in --json
  row.tflopsWall = flop / (wall / 1000) / 1e12;
  row.tflopsGpu = Number.isNaN(gpu) ? undefined : flop / (gpu / 1000) / 1e12;
  row.peakFraction = (row.tflopsGpu ?? row.tflopsWall) / PEAK_TFLOPS;
  results.push(row);
  console.log(
    `${name}: wall ${fmt(wall)} ms, GPU ${fmt(gpu)} ms (${batches.length} forward${batches.length > 1 ? 's' : ''}); ` +
      `host: record ${fmt(hostMs.record, 3)}, encode ${fmt(hostMs.encode, 3)}, submit→result ${fmt(hostMs.wait, 3)} ms`,
  );
}

// B1 T16 end to end, as users see it: tokenize → forward → Float32Array.
const e2eCase = CASES.find(([name]) => / B1 T16$/.test(name));
if (e2eCase) {
  const embedder = await createEmbedder(`synthetic:${e2eCase[1]}`, { device: 'webgpu', dawnFlags: DAWN_FLAGS, tuning: TUNING });
  let text = 'the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat';
  while (embedder.tokenizer.encode(text).ids.length > 16) text = text.split(' ').slice(0, -1).join(' ');
  const tokens = embedder.tokenizer.encode(text).ids.length;
  for (let i = 0; i < WARMUP + 1; i++) await embedder.embed([text]);
  const times = [];
  for (let i = 0; i < (args.quick ? RUNS : Math.max(RUNS, 20)); i++) {
    const t0 = performance.now();
    await embedder.embed([text]);
    times.push(performance.now() - t0);
  }
  embedder.dispose();
  const e2e = median(times);
  results.find((r) => r.name === e2eCase[0]).endToEndMs = e2e;
  console.log(`${e2eCase[0]} end to end (createEmbedder().embed, ${tokens} tokens): ${fmt(e2e)} ms`);
}

// ---------------------------------------------------------------- variant sweep
if (args.sweep && info.timestamps) {
  const variants = [];
  for (const gemmBK of [16, 32]) for (const gemmTM of [4, 8]) variants.push({ gemmBK, gemmTM });
  variants.push({ splitK: false });
  for (const attentionKeys of [16, 32, 64]) for (const attentionQueries of [1, 2]) variants.push({ attentionKeys, attentionQueries });
  console.log('\nvariant sweep (median GPU ms of one forward per case; GEMM knobs, then attention knobs, others at their defaults; --tune picks):');
  console.log(`| variant | ${CASES.map(([name]) => name).join(' | ')} |`);
  console.log(`|---|${CASES.map(() => '---').join('|')}|`);
  const sweep = [];
  for (const v of variants) {
    const cells = [];
    for (const [, model, docs, T, batch] of CASES) {
      const { weights, graph } = modelWeights(model);
      const backend = await createWebGpuBackend(weights, { timestamps: true, dawnFlags: DAWN_FLAGS, tuning: { ...TUNING, ...v } });
      const [b] = batchesOf(Math.min(docs, batch), T, batch, modelWeights(model).config.vocabSize);
      const gpus = [];
      for (let i = 0; i < WARMUP + RUNS; i++) {
        await runGraph(graph, backend, b);
        if (i >= WARMUP) gpus.push(backend.lastTimings.gpuMs);
      }
      backend.dispose();
      cells.push(median(gpus));
    }
    sweep.push({ ...v, gpuMs: cells });
    const label = Object.entries(v)
      .map(
        ([k, x]) =>
          `${{ gemmBK: 'bk', gemmTM: 'tm', splitK: 'splitk', attentionKeys: 'keys', attentionQueries: 'qpt' }[k]}=${typeof x === 'boolean' ? Number(x) : x}`,
      )
      .join(',');
    console.log(`| ${label} | ${cells.map((c) => fmt(c, 3)).join(' | ')} |`);
  }
  results.sweep = sweep;
}

// ---------------------------------------------------------------- per-kernel profile
if (!args['no-profile'] && info.timestamps) {
  console.log('\nper-kernel profile (one compute pass per kernel; GPU ms of one forward, summed by variant):');
  for (const [name, model, docs, T, batch] of CASES) {
    const backend = await backendFor(model, true);
    const [b] = batchesOf(Math.min(docs, batch), T, batch, modelWeights(model).config.vocabSize);
    await runGraph(modelWeights(model).graph, backend, b);
    await runGraph(modelWeights(model).graph, backend, b);
    const byKey = new Map();
    for (const k of backend.lastTimings.kernels) {
      const e = byKey.get(k.key) ?? { key: k.key, op: k.op, calls: 0, ms: 0, flop: 0 };
      e.calls++;
      e.ms += k.ms;
      e.flop += k.flop;
      byKey.set(k.key, e);
    }
    const total = backend.lastTimings.gpuMs;
    console.log(`  ${name} (one forward of B${b.batchSize} T${T}): ${fmt(total, 3)} ms`);
    const rows = [...byKey.values()].sort((a, c) => c.ms - a.ms);
    for (const e of rows) {
      const tf = e.flop ? `, ${fmt(e.flop / (e.ms / 1000) / 1e12)} TFLOP/s` : '';
      console.log(`    ${e.key.padEnd(66)} ×${String(e.calls).padStart(3)} ${fmt(e.ms, 3).padStart(9)} ms ${fmt((100 * e.ms) / total, 1).padStart(5)}%${tf}`);
    }
    const row = results.find((r) => r.name === name);
    if (row) row.profile = rows;
  }
}
for (const b of backends.values()) b.dispose();

// ---------------------------------------------------------------- onnxruntime-node WebGPU EP
let ort;
if (!args['no-ort']) {
  try {
    ort = await import('onnxruntime-node');
  } catch (e) {
    console.log(`\nonnxruntime-node is not importable here (${String(e.message ?? e).split('\n')[0]}): skipping the ORT WebGPU EP baseline`);
  }
}
/**
 * The families' ONNX files: OUT/FILE.onnx from --family-onnx, made there by
 * bench/gpu/export_family_onnx.py when missing and python3 has what it needs. Returns a reason
 * when there are none.
 */
function familyOnnx(files) {
  const dir = args['family-onnx'];
  const missing = files.filter((f) => !existsSync(join(dir, `${f}.onnx`)));
  if (missing.length === 0) return undefined;
  const probe = spawnSync('python3', ['-c', 'import torch, transformers, onnx, onnxruntime'], { stdio: 'ignore' });
  if (probe.status !== 0)
    return `no ONNX export of ${missing.join(', ')} in ${dir}, and python3 here lacks torch, transformers, onnx or onnxruntime to make them (bench/gpu/export_family_onnx.py; --family-onnx DIR)`;
  console.log(`\n=== python3 bench/gpu/export_family_onnx.py ${dir} ${missing.join(' ')}`);
  const script = fileURLToPath(new URL('./gpu/export_family_onnx.py', import.meta.url));
  spawnSync('python3', [script, dir, ...missing], { stdio: ['ignore', 'inherit', 'inherit'] });
  return undefined;
}

/** Largest |Δ| between onnxruntime's last_hidden_state, mean-pooled and normalized as ours, and our pooled output. */
function pooledDiff(hidden, batch, ours) {
  const { batchSize: B, seqLen: T } = batch;
  const C = hidden.length / (B * T);
  let worst = 0;
  for (let b = 0; b < B; b++) {
    const mean = new Float64Array(C);
    let n = 0;
    for (let t = 0; t < T; t++) {
      if (!batch.attentionMask[b * T + t]) continue;
      n++;
      for (let c = 0; c < C; c++) mean[c] += hidden[(b * T + t) * C + c];
    }
    let norm = 0;
    for (let c = 0; c < C; c++) norm += (mean[c] / n) ** 2;
    norm = Math.sqrt(norm);
    for (let c = 0; c < C; c++) worst = Math.max(worst, Math.abs(mean[c] / n / norm - ours[b * C + c]));
  }
  return worst;
}

if (ort) {
  const { writeBertOnnx } = await import('./onnx/bert-onnx.mjs');
  const sessions = new Map();
  const sources = new Map();
  const familyFiles = [...new Set(CASES.map(([, model]) => FAMILY.get(model)?.file).filter(Boolean))];
  const noFamilyOnnx = familyFiles.length && !args.quick ? familyOnnx(familyFiles) : undefined;
  if (noFamilyOnnx) console.log(`\n${noFamilyOnnx}`);
  console.log(
    `\nonnxruntime-node ${ort.env?.versions?.node ?? ''} WebGPU EP (same weights, output last_hidden_state read back; pooling not included; ` +
      'agreement: its output mean-pooled and normalized against ours, first batch; the same for its CPU EP):',
  );
  for (const [name, model, docs, T, batch] of CASES) {
    const row = results.find((r) => r.name === name);
    const { config, checkpoint, family } = modelWeights(model);
    try {
      if (!sessions.has(model)) {
        // BERT: our own ONNX writer; a family: its export by transformers (--quick keeps fewer
        // layers than the export has, so it has no ORT row).
        if (family && args.quick) throw new Error('--quick: the ONNX exports have all the layers');
        const source = family ? join(args['family-onnx'], `${family.file}.onnx`) : writeBertOnnx(config, checkpoint);
        if (family && !existsSync(source)) throw new Error(`no ${source}`);
        sources.set(model, source);
        // logSeverityLevel 3: errors only (its "nodes not assigned to the preferred EP" warnings are expected).
        sessions.set(model, await ort.InferenceSession.create(source, { executionProviders: ['webgpu'], logSeverityLevel: 3 }));
      }
      const session = sessions.get(model);
      const batches = batchesOf(docs, T, batch, config.vocabSize);
      const feeds = batches.map((b) => {
        const dims = [b.batchSize, b.seqLen];
        const i64 = (a) =>
          new ort.Tensor(
            'int64',
            BigInt64Array.from(a, (v) => BigInt(v)),
            dims,
          );
        const all = { input_ids: i64(b.ids), attention_mask: i64(b.attentionMask), token_type_ids: i64(b.typeIds) };
        return Object.fromEntries(session.inputNames.map((k) => [k, all[k]]));
      });
      const first = await session.run(feeds[0]);
      row.ortAgreement = pooledDiff(first[session.outputNames[0]].data, batches[0], row.firstOutput);
      // The same file on onnxruntime's CPU EP: which of the two GPU engines a disagreement is in.
      const cpu = await ort.InferenceSession.create(sources.get(model), { executionProviders: ['cpu'], logSeverityLevel: 3 });
      row.ortCpuAgreement = pooledDiff((await cpu.run(feeds[0]))[cpu.outputNames[0]].data, batches[0], row.firstOutput);
      await cpu.release();
      const forward = async () => {
        const t0 = performance.now();
        for (const f of feeds) await session.run(f);
        return performance.now() - t0;
      };
      for (let i = 0; i < WARMUP; i++) await forward();
      const times = [];
      for (let i = 0; i < RUNS; i++) times.push(await forward());
      row.ortMs = median(times);
      console.log(
        `${name}: ${fmt(row.ortMs)} ms; pooled outputs agree within ${row.ortAgreement.toExponential(2)} (onnxruntime CPU EP: ${row.ortCpuAgreement.toExponential(2)})`,
      );
    } catch (e) {
      row.ortError = String(e.message ?? e).split('\n')[0];
      console.log(`${name}: ORT failed: ${row.ortError}`);
    }
  }
}

// ---------------------------------------------------------------- table
console.log(
  `\n| case | forwards | wall ms | GPU ms | tokens/s | TFLOP/s (GPU) | of ${PEAK_TFLOPS} TFLOP/s | ORT WebGPU ms | ORT / ours | ORT agrees within | ORT CPU EP agrees within |`,
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const e2e = r.endToEndMs !== undefined ? ` (end to end ${fmt(r.endToEndMs)})` : '';
  const ratio = r.ortMs ? `${fmt(r.ortMs / r.wallMs, 1)}×` : '–';
  console.log(
    `| ${r.name} | ${r.forwards} | ${fmt(r.wallMs)}${e2e} | ${fmt(r.gpuMs)} | ${Math.round(r.tokensPerS).toLocaleString('en-US')} | ` +
      `${fmt(r.tflopsGpu ?? r.tflopsWall)} | ${fmt(100 * r.peakFraction, 1)}% | ${fmt(r.ortMs)} | ${ratio} | ${r.ortAgreement?.toExponential(1) ?? '–'} | ${r.ortCpuAgreement?.toExponential(1) ?? '–'} |`,
  );
}
let rerank;
if (!args['no-rerank']) {
  rerank = await benchRerank({ device: 'webgpu', runs: RUNS, warmup: WARMUP, quick: args.quick });
  console.log(`\n| case | model | median ms (rank() end to end) | pairs/s | tokens/s |\n|---|---|---|---|---|`);
  console.log(
    `| ${rerank.case} | ${rerank.model} | ${fmt(rerank.ms)} | ${fmt(rerank.pairsPerS, 0)} | ${Math.round(rerank.tokensPerS).toLocaleString('en-US')} |`,
  );
}
if (args.json) {
  const out = {
    adapter: info.adapter,
    info,
    limits: { workgroupStorage: limits.maxComputeWorkgroupStorageSize },
    node: process.version,
    peakTflops: PEAK_TFLOPS,
    tuning: TUNING,
    results,
    sweep: results.sweep,
    rerank,
  };
  writeFileSync(args.json, JSON.stringify(out, null, 2));
  console.log(`\nwrote ${args.json}`);
}
// dawn.node keeps the process alive while its GPU object is referenced.
process.exit(0);
