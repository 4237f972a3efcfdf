#!/usr/bin/env node
// Long context on a real GPU (issue #13): the ModernBERT- and NomicBERT-shaped models of
// test/families-long.test.ts (hidden 128, 2 heads of 64, 2 layers, 8,192 positions; the same
// weight recipe) on one sequence of T tokens, webgpu against the wasm path (which that test holds
// within 1e-5 of the float64 reference at T 8,192 with DUALBERT_LONG=1), with each device's time
// and the memory it held at T and at T/4 (linear in T: about 4×, not the 16× of a T×T matrix).
//
//   node bench/gpu/long-context.mjs [--t 8192]     (on the built dist/; webgpu from the `webgpu` package)
//
// Against the float64 reference instead of wasm (the reference takes minutes per model at T 8192,
// so it is computed once, on any machine, and carried to the GPU one as files):
//   node bench/gpu/long-context.mjs --write-reference .carry/long-reference [--t 8192]   (no GPU needed)
//   node bench/gpu/long-context.mjs --reference .carry/long-reference [--t 8192]
// then webgpu and wasm must each be within 1e-5 of the reference (test/families-long.test.ts's bound).
const DIST = new URL('../../dist/', import.meta.url);
const { buildBertGraph } = await import(new URL('graph/bert.js', DIST).href);
const { bindWeights, checkpointShapes } = await import(new URL('graph/weights.js', DIST).href);
const { runGraph } = await import(new URL('graph/execute.js', DIST).href);
const { createWasmBackend } = await import(new URL('backends/wasm/index.js', DIST).href);
const { createWebGpuBackend } = await import(new URL('backends/webgpu/index.js', DIST).href);
const { openGpu } = await import(new URL('backends/webgpu/gpu.js', DIST).href);
const os = await import('node:os');

const { ReferenceBackend } = await import(new URL('backends/reference/reference-backend.js', DIST).href);
const fs = await import('node:fs');

const option = (flag) => {
  const at = process.argv.indexOf(flag);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const T = Number(option('--t') ?? 8192);
const writeReference = option('--write-reference');
const referenceDir = option('--reference');
const referenceFile = (dir, name) => `${dir}/${name}-T${T}.f64`;

// test/helpers/op-parity.ts's generator and tensors, so the weights are the test's.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function randomTensor(shape, random, scale = 1, center = 0) {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = center + scale * (random() * 2 - 1);
  return { shape, data };
}
const base = { vocabSize: 500, hiddenSize: 128, numLayers: 2, numHeads: 2, intermediateSize: 192, maxPositions: 8192, typeVocabSize: 0, layerNormEps: 1e-5 };
const MODELS = [
  ['modernbert-shaped', { ...base, family: 'modernbert', hiddenAct: 'gelu', rope: { theta: 160000, localTheta: 10000, layout: 'half' }, layerTypes: ['full', 'sliding'], slidingWindow: 64, attentionBias: false, mlpBias: false, normBias: false }],
  ['nomic-shaped', { ...base, family: 'nomic_bert', typeVocabSize: 2, hiddenAct: 'silu', rope: { theta: 1000, layout: 'half' }, attentionBias: false, mlpBias: false }],
];
function checkpointFor(config) {
  const random = rng(41);
  const out = new Map();
  const graph = buildBertGraph(config, { pooling: 'mean', normalize: false });
  for (const [name, shape] of checkpointShapes(graph.weights)) {
    if (shape.length === 1) out.set(name, randomTensor([...shape], random, 0.1, name.includes('norm') || name.includes('ln') ? 1 : 0));
    else if (/(tok|word|token_type)_?embeddings/.test(name)) out.set(name, randomTensor([...shape], random, 1));
    else out.set(name, randomTensor([...shape], random, (/Wqkv/.test(name) ? 2.5 : 1.7) / Math.sqrt(shape[1])));
  }
  return out;
}

if (writeReference) {
  fs.mkdirSync(writeReference, { recursive: true });
  for (const [name, config] of MODELS) {
    const { graph, weights, batchOf } = modelOf(config);
    const started = performance.now();
    const { captured } = await runGraph(graph, new ReferenceBackend(weights), batchOf(T), { capture: [graph.lastHiddenState] });
    const out = captured.get(graph.lastHiddenState);
    fs.writeFileSync(referenceFile(writeReference, name), new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
    console.log(`${name} B1×T${T}: float64 reference in ${((performance.now() - started) / 1000).toFixed(0)} s → ${referenceFile(writeReference, name)}`);
  }
  process.exit(0);
}

/** The graph, weights and token batch of one of the models (the test's recipe). */
function modelOf(config) {
  const graph = buildBertGraph(config, { pooling: 'mean', normalize: false });
  const weights = bindWeights(graph.weights, checkpointFor(config));
  const random = rng(7);
  const ids = Int32Array.from({ length: T }, () => 3 + Math.floor(random() * 490));
  const batchOf = (t) => ({ batchSize: 1, seqLen: t, ids: ids.slice(0, t), typeIds: new Int32Array(t), attentionMask: new Uint8Array(t).fill(1) });
  return { graph, weights, batchOf };
}
const maxAbsDiff = (a, b) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

const gpu = await openGpu({});
console.log(`adapter ${JSON.stringify(gpu.adapterInfo)}; ${os.cpus()[0]?.model} ×${os.cpus().length}; B1 × T${T}`);
let worst = 0;
let worstReference = 0;
for (const [name, config] of MODELS) {
  const { graph, weights, batchOf } = modelOf(config);
  const run = async (backend, t) => (await runGraph(graph, backend, batchOf(t), { capture: [graph.lastHiddenState] })).captured.get(graph.lastHiddenState);
  const timed = async (backend, t) => {
    await run(backend, t); // warm-up: pipelines, arena
    const started = performance.now();
    const out = await run(backend, t);
    return { out, ms: performance.now() - started };
  };
  const wasm = await createWasmBackend(weights, { threads: os.cpus().length }, { relaxedSimd: false });
  const webgpu = await createWebGpuBackend(weights, { device: gpu.device });
  const webgpuSmall = await createWebGpuBackend(weights, { device: gpu.device });
  const w = await timed(wasm, T);
  const g = await timed(webgpu, T);
  await run(webgpuSmall, T / 4);
  const d = maxAbsDiff(g.out, w.out);
  worst = Math.max(worst, d);
  let versusReference = '';
  if (referenceDir) {
    const bytes = fs.readFileSync(referenceFile(referenceDir, name));
    const reference = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const dg = maxAbsDiff(g.out, reference);
    const dw = maxAbsDiff(w.out, reference);
    worstReference = Math.max(worstReference, dg, dw);
    versusReference = `; max |Δ| from the float64 reference: webgpu ${dg.toExponential(2)}, wasm ${dw.toExponential(2)}`;
  }
  const mib = (b) => (b / 2 ** 20).toFixed(1);
  console.log(
    `${name} B1×T${T}: webgpu ${g.ms.toFixed(1)} ms, wasm (${wasm.threads} threads) ${w.ms.toFixed(0)} ms; max |Δ| webgpu vs wasm ${d.toExponential(2)}; ` +
      `webgpu activation buffers ${mib(webgpu.stats().activationBytes)} MiB at T${T}, ${mib(webgpuSmall.stats().activationBytes)} MiB at T${T / 4}; wasm arena ${mib(wasm.arenaBytes)} MiB` +
      versusReference,
  );
  for (const b of [wasm, webgpu, webgpuSmall]) b.dispose();
}
// Without the reference: two float32 paths each within 1e-5 of it are within 2e-5 of each other.
const ok = referenceDir ? worstReference <= 1e-5 : worst <= 2e-5;
console.log(
  `long context: ${ok ? 'ok' : 'FAILED'} (webgpu within ${worst.toExponential(2)} of wasm` +
    (referenceDir ? `; both within ${worstReference.toExponential(2)} of the float64 reference, bound 1e-5)` : '; bound 2e-5)'),
);
gpu.device.destroy();
process.exit(ok ? 0 : 1);
