#!/usr/bin/env node
// `npm run demo [-- MODEL [DEVICE] [--verbose]]`: embeds a few sentences and prints the device
// taken, the times, and the cosine-similarity matrix. The default model, synthetic:minilm, is
// generated in memory (no network) with random weights: the demo says so, and says how to run
// it on a real model, where it also names the most similar pair.
import { readFileSync } from 'node:fs';
import { DualbertError, capabilities, createEmbedder } from '../dist/index.js';

// `npm run demo | head`: the reader went away, nothing more to say.
process.stdout.on('error', (e) => process.exit(e.code === 'EPIPE' ? 0 : 1));
// A model that cannot load (a typo, no network, no weights) is one line, not a stack trace.
process.on('uncaughtException', (e) => {
  if (!(e instanceof DualbertError)) throw e;
  console.error(`demo: ${e.message} (${e.code})`);
  process.exit(1);
});

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(`usage: npm run demo [-- MODEL [DEVICE] [--verbose]]
  MODEL   synthetic:minilm (default: random weights, no download), hf:owner/name, or a model directory
  DEVICE  auto (default) | webgpu | wasm | reference
  --verbose  let native libraries (Dawn/Vulkan) print their warnings`);
  process.exit(0);
}
const verbose = args.includes('--verbose');
const [model = 'synthetic:minilm', device = 'auto'] = args.filter((a) => a !== '--verbose');
const synthetic = model.startsWith('synthetic:');
const logLevel = verbose ? 'verbose' : 'info';

const texts = readFileSync(new URL('../assets/demo-sentences.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l).text);

let t0 = performance.now();
const embedder = await createEmbedder(model, { device, logLevel });
const loadMs = performance.now() - t0;
t0 = performance.now();
const { data, dims } = await embedder.embed(texts);
const embedMs = performance.now() - t0;

/** Why 'auto' did not take WebGPU, in a few words (`npx dualbert info` has the details). */
async function whyNotGpu() {
  const { webgpu } = await capabilities({ logLevel });
  if (webgpu.available && webgpu.fallbackAdapter) return `only a software GPU adapter here (${webgpu.adapter?.architecture || webgpu.adapter?.vendor}): running on the CPU`;
  if (!webgpu.available && /npm install webgpu/.test(webgpu.reason ?? '')) return 'the optional package "webgpu" is not installed (npm install webgpu): running on the CPU';
  if (!webgpu.available) return 'no GPU adapter found, so it runs on the CPU; `npx dualbert info` says why';
  return undefined;
}
const threads = embedder.device === 'wasm' ? `, ${embedder.threads} thread${embedder.threads === 1 ? '' : 's'}` : '';
const why = device === 'auto' && embedder.device !== 'webgpu' ? await whyNotGpu() : undefined;
console.log(`model ${model} on device "${embedder.device}"${threads}`);
if (why) console.log(`(${why})`);
console.log(`loaded in ${loadMs.toFixed(0)} ms; embedded ${dims[0]} texts → [${dims.join(', ')}] in ${embedMs.toFixed(0)} ms`);

const row = (i) => data.subarray(i * dims[1], (i + 1) * dims[1]);
const sim = (i, j) => row(i).reduce((s, v, k) => s + v * row(j)[k], 0); // rows are L2-normalized
console.log('\ncosine similarity:');
console.log(`${texts.map((_, j) => `[${j}]`.padStart(6)).join('')}`);
texts.forEach((t, i) => {
  console.log(`${texts.map((_, j) => sim(i, j).toFixed(2).padStart(6)).join('')}   [${i}] ${t}`);
});

if (synthetic) {
  console.log(`
NOTE: ${model} has RANDOM weights, generated in memory from a fixed recipe (no download).
It runs the same tokenizer, graph and kernels as a real model, so the numbers above show that
the pipeline works end to end here, but they say NOTHING about what the sentences mean.
For meaningful similarities, run the demo on a real model (downloaded once, then cached):
  npm run demo -- hf:sentence-transformers/all-MiniLM-L6-v2
  npm run demo -- ./path/to/a/model/directory`);
} else {
  let best = [0, 1];
  for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) if (sim(i, j) > sim(best[0], best[1])) best = [i, j];
  const [i, j] = best;
  console.log(`\nmost similar pair (${sim(i, j).toFixed(3)}): [${i}] "${texts[i]}" and [${j}] "${texts[j]}"`);
}
embedder.dispose();
