#!/usr/bin/env node
// Where WebGPU starts to beat the wasm path: end-to-end embed() latency (tokenize → vectors in JS)
// per device over a grid of batch sizes and sequence lengths, median of 9 after 2 warm-ups.
// This is the measurement behind device 'auto' (README, "How auto chooses").
//   node bench/crossover.mjs [--model synthetic:minilm] [--json FILE]
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createEmbedder } from '../dist/index.js';

const { values: args } = parseArgs({ options: { model: { type: 'string', default: 'synthetic:minilm' }, json: { type: 'string' } } });
const BATCHES = [1, 4, 16, 64];
const LENGTHS = [16, 128];
const cores = os.availableParallelism?.() ?? os.cpus().length;
const DEVICES = [
  { name: 'webgpu', options: { device: 'webgpu', allowFallbackAdapter: true } },
  { name: `wasm ${cores} threads`, options: { device: 'wasm' } },
  { name: 'wasm 1 thread', options: { device: 'wasm', threads: 1 } },
];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A text of exactly `tokens` tokens with [CLS]/[SEP] for the MiniLM tokenizer ("word" is one token). */
const textOf = (tokens) => Array(tokens - 2).fill('word').join(' ');

const rows = [];
for (const d of DEVICES) {
  let embedder;
  try {
    embedder = await createEmbedder(args.model, d.options);
  } catch (e) {
    console.log(`${d.name}: unavailable (${e.message})`);
    continue;
  }
  for (const T of LENGTHS) {
    for (const B of BATCHES) {
      const texts = Array.from({ length: B }, () => textOf(T));
      const times = [];
      for (let r = 0; r < 11; r++) {
        const t0 = performance.now();
        await embedder.embed(texts, { batchSize: B });
        if (r >= 2) times.push(performance.now() - t0);
      }
      rows.push({ device: d.name, actual: embedder.device, threads: embedder.threads, B, T, ms: median(times) });
      console.log(`${d.name.padEnd(16)} B${String(B).padEnd(3)} T${T}: ${median(times).toFixed(2)} ms`);
    }
  }
  embedder.dispose();
}
console.log('\n| B × T | ' + DEVICES.map((d) => d.name).join(' | ') + ' |');
console.log('|---|' + DEVICES.map(() => '---').join('|') + '|');
for (const T of LENGTHS) {
  for (const B of BATCHES) {
    const cells = DEVICES.map((d) => rows.find((r) => r.device === d.name && r.B === B && r.T === T)?.ms.toFixed(2) ?? '—');
    console.log(`| ${B} × ${T} | ${cells.join(' | ')} |`);
  }
}
if (args.json) writeFileSync(args.json, JSON.stringify({ machine: { cpu: os.cpus()[0]?.model, cores }, model: args.model, rows }, null, 2));
