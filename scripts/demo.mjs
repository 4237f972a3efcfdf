#!/usr/bin/env node
// `npm run demo`: embeds a few sentences with the synthetic MiniLM-shaped model and prints the
// path taken, the time, and the cosine-similarity matrix. Synthetic weights are random, so the
// similarities show that the pipeline runs end to end, not semantic quality.
import { readFileSync } from 'node:fs';
import { createEmbedder } from '../dist/index.js';

const model = process.argv[2] ?? 'synthetic:minilm';
const device = process.argv[3] ?? 'auto';
const texts = readFileSync(new URL('../assets/demo-sentences.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l).text);

let t0 = performance.now();
const embedder = await createEmbedder(model, { device });
const loadMs = performance.now() - t0;
t0 = performance.now();
const { data, dims } = await embedder.embed(texts);
const embedMs = performance.now() - t0;

console.log(`model ${model} on device "${embedder.device}": loaded in ${loadMs.toFixed(0)} ms`);
console.log(`embedded ${dims[0]} texts → [${dims.join(', ')}] in ${embedMs.toFixed(0)} ms`);
const row = (i) => data.subarray(i * dims[1], (i + 1) * dims[1]);
console.log('\ncosine similarity (vectors are L2-normalized, so this is a dot product):');
texts.forEach((t, i) => {
  const sims = texts.map((_, j) => row(i).reduce((s, v, k) => s + v * row(j)[k], 0).toFixed(2).padStart(6));
  console.log(`${sims.join('')}   ${t}`);
});
console.log(`\nfirst values of "${texts[0]}": [${Array.from(row(0).subarray(0, 6), (v) => v.toFixed(5)).join(', ')}, …]`);
embedder.dispose();
