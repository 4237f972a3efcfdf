#!/usr/bin/env node
// Encoder families and weight precisions on the webgpu path (issues #13 and #14), over the built
// dist/ and node_modules/webgpu only, so it runs on a GPU machine with Node carried in (see
// run-device.sh beside it). Every figure is the median of --runs forwards (≥ 5) after 2 warm-up
// forwards (--quick: 2 after 1), one model and one batch shape per row: wall ms of runGraph (host recording, one
// submit, readback of the pooled output), GPU ms from timestamp queries, tokens/s.
//
//   families   BERT (synthetic minilm), XLM-R (multilingual-e5-small's shape), MPNet (mpnet-base),
//              ModernBERT (modernbert-base), NomicBERT (nomic-embed-text-v1.5): weights from the
//              recipe of the real-shaped goldens (test/fixtures/families/real, PROVENANCE.md
//              there; a 1,024-token vocabulary), at B32 T128, and B1 T2048 for the rotary two
//   precisions minilm with float32 weights, f16 weights (dtype 'fp16') and int8 (q8: its linear
//              weights quantized as quantize_dynamic does, uint8 per tensor) at B32 and B256 T128
//   --goldens  also: each real-shaped family golden on this GPU (max |Δ| against transformers'
//              float64 outputs, next to the bound the wasm path meets in test/families-real.test.ts),
//              the q8 files of test/fixtures/q8 against the float64 reference's q8 arithmetic,
//              and one q8 Linear at a real shape: how many float32 outputs differ in any bit
//              from the reference (ts/backends/reference/quantized.ts)
//
//   node bench/gpu/families-precision.mjs --out PREFIX [--goldens] [--runs N] [--only NAME,…]
//   node bench/gpu/families-precision.mjs --quick --goldens --out /tmp/fp   (SwiftShader: 1-layer
//              models, short batches, 2 runs, e5-small's golden only: checks the script, not speed)
//   Writes PREFIX.json and PREFIX.md; exits 1 when a golden or exactness check fails.
//   Names for --only: minilm, e5-small, mpnet, modernbert, nomic, precision.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { quantizedLinear } from '../../dist/backends/reference/quantized.js';
import { ReferenceBackend } from '../../dist/backends/reference/reference-backend.js';
import { createWebGpuBackend } from '../../dist/backends/webgpu/index.js';
import { buildBertGraph } from '../../dist/graph/bert.js';
import { PreparedGraph, runGraph } from '../../dist/graph/execute.js';
import { bindWeights, checkpointNames, quantizedNames, quantizedTensor, withRoles } from '../../dist/graph/weights.js';
import { parseBertConfig } from '../../dist/model/config.js';
import { readOnnxCheckpoint } from '../../dist/model/onnx.js';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../../dist/model/synthetic.js';
import { FAMILIES, familyModel, readFamilyGolden } from './family-models.mjs';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    quick: { type: 'boolean', default: false },
    goldens: { type: 'boolean', default: false },
    runs: { type: 'string' },
    only: { type: 'string', default: '' },
  },
});
if (!args.out) {
  console.error(
    'usage: node bench/gpu/families-precision.mjs --out PREFIX [--quick] [--goldens] [--runs N] [--only minilm,e5-small,mpnet,modernbert,nomic,precision]',
  );
  process.exit(2);
}
const QUICK = args.quick;
// --quick checks the script on SwiftShader (seconds per forward): one warm-up, two runs.
const RUNS = QUICK ? Math.max(1, Number(args.runs ?? 2)) : Math.max(5, Number(args.runs ?? 7));
const WARMUP = QUICK ? 1 : 2;
// Dawn quantizes timestamps (to 100 µs steps) unless told not to.
const DAWN_FLAGS = ['disable-dawn-features=timestamp_quantization'];
const ROOT = new URL('../../', import.meta.url);
const only = new Set(args.only.split(',').filter(Boolean));
const wanted = (name) => only.size === 0 || only.has(name);
let failed = false;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x, digits = 2) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));
const exp = (x) => (x === undefined || Number.isNaN(x) ? '–' : x.toExponential(2));

// ---------------------------------------------------------------- weights

/**
 * The linear weights of a checkpoint quantized in the layout of onnxruntime's quantize_dynamic
 * with weight_type=QUInt8, per_channel=False (transformers.js's model_quantized.onnx): range
 * widened to include 0, scale (max − min) / 255, zero point round(−min / scale),
 * q = clamp(round(w / scale) + zero point, 0, 255). (Ties round up here, not to even: a
 * benchmark needs the layout and the arithmetic, not the file's exact integers.)
 */
function quantizeLinears(config, checkpoint) {
  const graph = buildBertGraph(config, { pooling: 'mean', normalize: true });
  const linear = new Set(checkpointNames(graph.weights.filter((w) => w.role === 'linear' && w.shape.length === 2)));
  const out = new Map(checkpoint);
  for (const name of linear) {
    const t = checkpoint.get(name);
    if (!t || !name.endsWith('.weight')) continue;
    let min = 0;
    let max = 0;
    for (const v of t.data) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const scale = Math.fround((max - min) / 255);
    const zero = Math.max(0, Math.min(255, Math.round(-min / scale)));
    const values = Uint8Array.from(t.data, (v) => Math.max(0, Math.min(255, Math.round(v / scale) + zero)));
    out.set(name, quantizedTensor(t.shape, { dtype: 'uint8', values, scale: Float32Array.of(scale), zeroPoint: Int32Array.of(zero) }));
  }
  return out;
}

// ---------------------------------------------------------------- timing

/** Deterministic full-length batches (ids below the vocabulary, no padding). */
function makeBatch(B, T, vocab) {
  const ids = new Int32Array(B * T).map((_, i) => 5 + ((i * 7919 + 104729) % (vocab - 10)));
  return { batchSize: B, seqLen: T, ids, typeIds: new Int32Array(B * T), attentionMask: new Uint8Array(B * T).fill(1) };
}

async function timeForward(graph, backend, batch) {
  for (let i = 0; i < WARMUP; i++) await runGraph(graph, backend, batch);
  const walls = [];
  const gpus = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await runGraph(graph, backend, batch);
    walls.push(performance.now() - t0);
    gpus.push(backend.lastTimings?.gpuMs ?? Number.NaN);
  }
  const wallMs = median(walls);
  return { wallMs, gpuMs: median(gpus), tokensPerS: (batch.batchSize * batch.seqLen) / (wallMs / 1000) };
}

const rows = [];
const goldens = [];
const q8Checks = [];
const errors = [];
const profiles = [];

/**
 * Runs one section; an error is recorded (and fails the run) instead of ending it, and the
 * results so far are written after every section: the script gets one shot on the GPU machine.
 */
async function attempt(label, fn) {
  try {
    await fn();
  } catch (e) {
    failed = true;
    errors.push({ section: label, error: String(e?.stack ?? e) });
    console.log(`ERROR in ${label}: ${e?.stack ?? e}`);
  }
  write();
}

/** Times `shapes` ([B, T]) of one model and precision; one backend for all its shapes. */
async function bench(section, model, precision, config, checkpoint, shapes) {
  const graph = buildBertGraph(config, { pooling: 'mean', normalize: true }, precision === 'q8' ? { quantized: quantizedNames(checkpoint) } : {});
  const weights = bindWeights(graph.weights, checkpoint);
  const backend = await createWebGpuBackend(weights, { timestamps: true, dawnFlags: DAWN_FLAGS, ...(precision === 'fp16' ? { dtype: 'fp16' } : {}) });
  try {
    for (const [B, T] of shapes) {
      const r = await timeForward(graph, backend, makeBatch(B, T, config.vocabSize));
      const row = { section, model, precision, B, T, ...r, weightMiB: backend.stats().weightBytes / 2 ** 20, packedDot4: backend.info.packedDot4 };
      rows.push(row);
      console.log(
        `${section} ${model} ${precision} B${B} T${T}: wall ${fmt(r.wallMs)} ms, GPU ${fmt(r.gpuMs)} ms, ${fmt(r.tokensPerS / 1000, 1)}k tokens/s, weights ${fmt(row.weightMiB, 0)} MiB`,
      );
    }
  } finally {
    backend.dispose();
  }
}

/**
 * GPU ms of one forward by shader (one compute pass per kernel, so a little slower than the
 * timed rows): where q8's three kernels per layer spend their time next to float32's GEMM.
 */
async function profile(model, precision, config, checkpoint, [B, T]) {
  const graph = buildBertGraph(config, { pooling: 'mean', normalize: true }, precision === 'q8' ? { quantized: quantizedNames(checkpoint) } : {});
  const backend = await createWebGpuBackend(bindWeights(graph.weights, checkpoint), {
    timestamps: true,
    profile: true,
    dawnFlags: DAWN_FLAGS,
    ...(precision === 'fp16' ? { dtype: 'fp16' } : {}),
  });
  try {
    const batch = makeBatch(B, T, config.vocabSize);
    await runGraph(graph, backend, batch);
    await runGraph(graph, backend, batch);
    const kernels = backend.lastTimings?.kernels;
    if (!kernels) return; // no timestamp queries on this adapter
    const byShader = {};
    for (const k of kernels) byShader[k.key.split(':')[0]] = (byShader[k.key.split(':')[0]] ?? 0) + k.ms;
    profiles.push({ model, precision, B, T, totalMs: backend.lastTimings.gpuMs, byShader });
    console.log(
      `profile ${model} ${precision} B${B} T${T}: ${Object.entries(byShader)
        .map(([k, ms]) => `${k} ${fmt(ms, 3)}`)
        .join(', ')} ms`,
    );
  } finally {
    backend.dispose();
  }
}

// ---------------------------------------------------------------- golden checks

/** As test/families-real.test.ts: masked mean and kept rows of last_hidden_state against the golden. */
async function checkGolden(key, golden, checkpoint, bound) {
  const config = parseBertConfig(golden.config);
  const graph = buildBertGraph(config, { pooling: 'mean', normalize: false });
  const backend = await createWebGpuBackend(bindWeights(graph.weights, checkpoint), { dawnFlags: DAWN_FLAGS });
  try {
    const seqLen = Math.max(...golden.input_ids.map((r) => r.length));
    const ids = new Int32Array(golden.input_ids.length * seqLen).fill(golden.pad_id);
    const attentionMask = new Uint8Array(ids.length);
    golden.input_ids.forEach((r, b) => {
      ids.set(r, b * seqLen);
      attentionMask.fill(1, b * seqLen, b * seqLen + r.length);
    });
    const batch = { batchSize: golden.input_ids.length, seqLen, ids, typeIds: new Int32Array(ids.length), attentionMask };
    const { output, captured } = await runGraph(graph, backend, batch, { capture: [graph.lastHiddenState] });
    const hidden = captured.get(graph.lastHiddenState);
    const C = config.hiddenSize;
    let worst = 0;
    let compared = 0;
    golden.mean.forEach((row, b) => {
      if (row.some((v) => v === null)) return; // transformers' NaN (PROVENANCE.md of the fixtures)
      compared++;
      row.forEach((v, k) => {
        worst = Math.max(worst, Math.abs(output[b * C + k] - v));
      });
      const kept = golden.last_hidden_state_rows[b];
      kept.rows.forEach((t, r) => {
        kept.values[r].forEach((v, k) => {
          worst = Math.max(worst, Math.abs(hidden[(b * seqLen + t) * C + k] - v));
        });
      });
    });
    const ok = compared > 0 && worst <= bound;
    failed ||= !ok;
    goldens.push({ model: key, tokens: golden.input_ids.map((r) => r.length), sequences: compared, maxAbs: worst, wasmBound: bound, ok });
    console.log(
      `golden ${key} (${golden.input_ids.map((r) => r.length).join('/')} tokens): max |Δ| ${exp(worst)} on webgpu (bound of the wasm path ${exp(bound)}) ${ok ? 'ok' : 'FAIL'}`,
    );
  } finally {
    backend.dispose();
  }
}

/** One q8 Linear at a real shape: webgpu against the reference's q8 arithmetic, bit for bit. */
async function checkQ8Linear(N, K, M, dtype, perChannel) {
  let seed = N * 7919 + K;
  const random = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const [lo, hi] = dtype === 'int8' ? [-128, 127] : [0, 255];
  const values = (dtype === 'int8' ? Int8Array : Uint8Array).from({ length: M * K }, () => lo + Math.floor(random() * (hi - lo + 1)));
  const n = perChannel ? M : 1;
  const scale = Float32Array.from({ length: n }, () => 0.002 + 0.02 * random());
  const zeroPoint = Int32Array.from({ length: n }, () => (dtype === 'int8' ? Math.floor(random() * 9) - 4 : 100 + Math.floor(random() * 50)));
  const bias = Float32Array.from({ length: M }, () => random() - 0.5);
  const x = Float32Array.from({ length: N * K }, () => (random() * 2 - 1) * 3 + 0.7);
  const quantized = { dtype, values, scale, zeroPoint };
  const node = { op: 'linear', out: 'y', x: 'x', weight: 'W', bias: 'b', epilogue: 'none', precision: 'q8' };
  const weights = withRoles(
    [node],
    new Map([
      ['W', quantizedTensor([M, K], quantized)],
      ['b', { shape: [M], data: bias }],
    ]),
  );
  const graph = {
    nodes: [node],
    activations: new Map([
      ['x', { id: 'x', rows: 'tokens', cols: K }],
      ['y', { id: 'y', rows: 'tokens', cols: M }],
    ]),
    weights: [
      { name: 'W', shape: [M, K], role: 'linear', precision: 'q8' },
      { name: 'b', shape: [M], role: 'vector' },
    ],
  };
  const want = quantizedLinear(x, N, K, quantized, M, bias);
  const backend = await createWebGpuBackend(weights, { dawnFlags: DAWN_FLAGS });
  try {
    const inputs = { batchSize: 1, seqLen: N, ids: new Int32Array(N), typeIds: new Int32Array(N), attentionMask: new Uint8Array(N).fill(1) };
    const got = (await new PreparedGraph(graph, backend).run(inputs, { capture: ['y'], values: new Map([['x', x]]) })).captured.get('y');
    let differing = 0;
    let maxAbs = 0;
    for (let i = 0; i < want.length; i++) {
      if (got[i] !== Math.fround(want[i])) differing++;
      maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
    }
    const what = `q8 Linear ${N}×${K}→${M} ${dtype} ${perChannel ? 'per channel' : 'per tensor'}`;
    failed ||= differing !== 0;
    q8Checks.push({ what, outputs: want.length, differing, maxAbs, packedDot4: backend.info.packedDot4 });
    console.log(
      `${what} (dot4I8Packed ${backend.info.packedDot4}): ${differing} of ${want.length} float32 outputs differ from the reference (max |Δ| ${exp(maxAbs)}) ${differing === 0 ? 'ok' : 'FAIL'}`,
    );
  } finally {
    backend.dispose();
  }
}

/** The quantize_dynamic files of test/fixtures/q8 on webgpu against the float64 reference's q8 arithmetic. */
async function checkQ8Files() {
  const dir = new URL('test/fixtures/q8/', ROOT);
  const reference = JSON.parse(readFileSync(new URL('reference.json', dir), 'utf8'));
  const config = parseBertConfig(readFileSync(new URL('tiny-bert/config.json', dir), 'utf8'));
  const C = config.hiddenSize;
  const batches = [
    ...reference.inputs.singles.map(({ input_ids }) => [input_ids]),
    reference.inputs.batch.input_ids.map((r, b) =>
      r.slice(
        0,
        reference.inputs.batch.attention_mask[b].reduce((a, v) => a + v, 0),
      ),
    ),
  ].map((seqs) => {
    const T = Math.max(...seqs.map((s) => s.length));
    const ids = new Int32Array(seqs.length * T);
    const attentionMask = new Uint8Array(seqs.length * T);
    seqs.forEach((s, b) => {
      ids.set(s, b * T);
      attentionMask.fill(1, b * T, b * T + s.length);
    });
    return { batchSize: seqs.length, seqLen: T, ids, typeIds: new Int32Array(ids.length), attentionMask };
  });
  for (const path of [
    'tiny-bert/onnx/model_quantized.onnx',
    'tiny-bert/onnx/model_uint8.onnx',
    'tiny-bert/onnx/model_int8.onnx',
    'variants/model_int8_per_channel.onnx',
    'variants/model_int8_reduce_range.onnx',
  ]) {
    const checkpoint = readOnnxCheckpoint(new Uint8Array(readFileSync(new URL(path, dir))), config, { file: path, warn: () => undefined });
    const graph = buildBertGraph(config, { pooling: 'mean', normalize: true }, { quantized: quantizedNames(checkpoint) });
    const weights = bindWeights(graph.weights, checkpoint);
    const gpu = await createWebGpuBackend(weights, { dawnFlags: DAWN_FLAGS });
    const ref = new ReferenceBackend(weights);
    let maxAbs = 0;
    try {
      for (const batch of batches) {
        const a = (await runGraph(graph, gpu, batch)).output;
        const b = (await runGraph(graph, ref, batch)).output;
        for (let i = 0; i < batch.batchSize * C; i++) maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
      }
    } finally {
      gpu.dispose();
      ref.dispose();
    }
    // The bound of the q8 fixtures against onnxruntime-web (test/q8-onnx.test.ts, webgpu-q8.test.ts).
    const ok = maxAbs <= 2e-4;
    failed ||= !ok;
    q8Checks.push({ what: `q8 file ${path}`, outputs: batches.reduce((s, b) => s + b.batchSize * C, 0), maxAbs, bound: 2e-4, ok });
    console.log(`q8 file ${path}: max |Δ| ${exp(maxAbs)} between webgpu and the reference's q8 (bound 2e-4) ${ok ? 'ok' : 'FAIL'}`);
  }
}

// ---------------------------------------------------------------- the run

const startedAt = performance.now();
const probe = await createWebGpuBackend(new Map(), { timestamps: true, dawnFlags: DAWN_FLAGS });
const info = probe.info;
probe.dispose();
console.log(`dualbert webgpu families and precisions — Node ${process.version}, ${os.cpus()[0]?.model ?? 'CPU'} ×${os.cpus().length}`);
console.log(
  `adapter: ${JSON.stringify(info.adapter)}; subgroups ${info.subgroups}, timestamps ${info.timestamps}, dot4I8Packed ${info.packedDot4}; ${RUNS} runs after ${WARMUP} warm-up`,
);
if (/swiftshader/i.test(info.adapter.architecture) && !QUICK) console.log('WARNING: SwiftShader (CPU) adapter: these figures say nothing about GPU speed');

// Quick: 1 layer (2 for ModernBERT: a full and a sliding one), short batches.
const LAYERS = (n) => (QUICK ? n : undefined);
const FAMILY_SHAPES = QUICK ? [[2, 8]] : [[32, 128]];
const LONG_SHAPES = QUICK ? [[1, 32]] : [[1, 2048]];

if (wanted('minilm')) {
  await attempt('minilm', async () => {
    const config = QUICK ? { ...SYNTHETIC_MODELS.minilm.config, numLayers: 1 } : SYNTHETIC_MODELS.minilm.config;
    const graph = buildBertGraph(config, { pooling: 'mean', normalize: true });
    await bench('family', 'bert (minilm)', 'fp32', config, syntheticCheckpoint(config, new Set(checkpointNames(graph.weights))), FAMILY_SHAPES);
  });
}

for (const { name, file, label, rotary, quickLayers, bound } of FAMILIES) {
  if (!wanted(name)) continue;
  const golden = readFamilyGolden(file);
  const { config, checkpoint } = familyModel(golden, LAYERS(quickLayers));
  await attempt(label, () => bench('family', label, 'fp32', config, checkpoint, rotary ? [...FAMILY_SHAPES, ...LONG_SHAPES] : FAMILY_SHAPES));
  // The goldens are of the whole model: on SwiftShader only e5-small's is quick enough.
  if (args.goldens && (!QUICK || name === 'e5-small'))
    await attempt(`golden ${file}`, () => checkGolden(file, golden, QUICK ? familyModel(golden).checkpoint : checkpoint, bound));
}

if (wanted('precision')) {
  const config = QUICK ? { ...SYNTHETIC_MODELS.minilm.config, numLayers: 1 } : SYNTHETIC_MODELS.minilm.config;
  const graph = buildBertGraph(config, { pooling: 'mean', normalize: true });
  const checkpoint = syntheticCheckpoint(config, new Set(checkpointNames(graph.weights)));
  const shapes = QUICK
    ? [
        [1, 8],
        [2, 8],
      ]
    : [
        [32, 128],
        [256, 128],
      ];
  await attempt('minilm fp32', () => bench('precision', 'minilm', 'fp32', config, checkpoint, shapes));
  await attempt('minilm fp16', () => bench('precision', 'minilm', 'fp16', config, checkpoint, shapes));
  const q8 = quantizeLinears(config, checkpoint);
  await attempt('minilm q8', () => bench('precision', 'minilm', 'q8', config, q8, shapes));
  if (info.timestamps) {
    await attempt('profile fp32', () => profile('minilm', 'fp32', config, checkpoint, shapes[0]));
    await attempt('profile q8', () => profile('minilm', 'q8', config, q8, shapes[0]));
  }
}

if (args.goldens) {
  await attempt('q8 files', checkQ8Files);
  if (QUICK) await attempt('q8 Linear', () => checkQ8Linear(64, 384, 96, 'uint8', false));
  else {
    await attempt('q8 Linear', () => checkQ8Linear(4096, 384, 1536, 'uint8', false));
    await attempt('q8 Linear', () => checkQ8Linear(1024, 1536, 384, 'int8', true));
  }
}

// ---------------------------------------------------------------- output

/** Writes PREFIX.json and PREFIX.md with everything measured so far; returns the Markdown. */
function write() {
  const seconds = (performance.now() - startedAt) / 1000;
  const md = [
    `# webgpu: encoder families and weight precisions`,
    '',
    `Adapter ${JSON.stringify(info.adapter)}; dot4I8Packed ${info.packedDot4}; Node ${process.version}; median of ${RUNS} forwards after ${WARMUP} warm-up (runGraph: record, one submit, readback); ${fmt(seconds, 0)} s in all.${QUICK ? ' --quick: reduced layers and shapes, not speed figures.' : ''}`,
    '',
    '| section | model | weights | B | T | wall ms | GPU ms | tokens/s | weight MiB |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.section} | ${r.model} | ${r.precision} | ${r.B} | ${r.T} | ${fmt(r.wallMs)} | ${fmt(r.gpuMs)} | ${Math.round(r.tokensPerS)} | ${fmt(r.weightMiB, 0)} |`,
    ),
  ];
  if (profiles.length) {
    const shaders = [...new Set(profiles.flatMap((p) => Object.keys(p.byShader)))].sort();
    md.push('', `| GPU ms by shader, one forward (profile mode) | total | ${shaders.join(' | ')} |`, `|---|---:|${shaders.map(() => '---:').join('|')}|`);
    for (const p of profiles)
      md.push(`| ${p.model} ${p.precision} B${p.B} T${p.T} | ${fmt(p.totalMs, 3)} | ${shaders.map((k) => fmt(p.byShader[k], 3)).join(' | ')} |`);
  }
  if (goldens.length) {
    md.push('', '| golden (recipe weights, real shape) | tokens | max abs diff on webgpu | bound of the wasm path | |', '|---|---|---:|---:|---|');
    for (const g of goldens) md.push(`| ${g.model} | ${g.tokens.join('/')} | ${exp(g.maxAbs)} | ${exp(g.wasmBound)} | ${g.ok ? 'ok' : 'FAIL'} |`);
  }
  if (q8Checks.length) {
    md.push('', '| q8 check | outputs | float32 outputs differing | max abs diff | |', '|---|---:|---:|---:|---|');
    for (const c of q8Checks)
      md.push(`| ${c.what} | ${c.outputs} | ${c.differing ?? '–'} | ${exp(c.maxAbs)} | ${(c.differing ?? 0) === 0 && c.ok !== false ? 'ok' : 'FAIL'} |`);
  }
  if (errors.length) md.push('', ...errors.map((e) => `ERROR in ${e.section}: ${e.error.split('\n')[0]}`));
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(
    `${args.out}.json`,
    `${JSON.stringify({ adapter: info.adapter, packedDot4: info.packedDot4, node: process.version, runs: RUNS, quick: QUICK, seconds, rows, profiles, goldens, q8Checks, errors }, null, 2)}\n`,
  );
  writeFileSync(`${args.out}.md`, `${md.join('\n')}\n`);
  return { md, seconds };
}

const { md, seconds } = write();
console.log(`\n${md.join('\n')}\n\nwrote ${args.out}.json and ${args.out}.md (${fmt(seconds, 0)} s)`);
if (failed) process.exitCode = 1;
