#!/usr/bin/env node
// Rerank benchmark row: one query against 32 documents of 128 tokens each (137-token pairs), the
// ms-marco-MiniLM-L-6-v2 shapes (`synthetic:minilm` as a cross-encoder), end to end through
// `reranker.rank()` (tokenizing the pairs, one padded batch of 32, the head, sorting), over the
// built dist/. Median of --runs after warm-up. bench/cpu.mjs runs it per thread count in its own
// process, bench/gpu.mjs on WebGPU; alone:
//
//   node bench/rerank.mjs --device wasm --threads 2 [--runs 5] [--quick]   (--quick: synthetic:tiny)
//
// Prints one JSON line: { case, model, device, threads, pairTokens, ms, pairsPerS, tokensPerS, times }.
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createReranker } from '../dist/index.js';

/** Plain words that are one word piece each in the uncased BERT vocabulary. */
const WORDS = `the of and to in is was for on as with by he at from his an were are which this be or has
had not first one their its new after but who they have her she two been other when there all during
into school time may years more most only over city some world would where later up such used many can
state about national out known university united then made each year people well part music film team
three river world season group water life game war house county family history american series body
light field north south east west market power church army great early high long local small public`.split(/\s+/);

export const RERANK_CASE = 'rerank q × 32 docs T128';

/** The query and the 32 documents (deterministic), each document exactly 128 tokens. */
function documents(tokenizer) {
  let seed = 12345;
  const next = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const docs = Array.from({ length: 32 }, () => Array.from({ length: 128 }, () => WORDS[Math.floor(next() * WORDS.length)]).join(' '));
  for (const d of docs) {
    const n = tokenizer.encode(d, { addSpecialTokens: false, maxLength: null }).ids.length;
    if (n !== 128) throw new Error(`bench/rerank: a document has ${n} tokens, not 128`);
  }
  return docs;
}

/**
 * Measures rank(query, 32 documents) on one device.
 * @param {{ device: string, threads?: number, runs?: number, warmup?: number, quick?: boolean, webgpu?: object }} options
 */
export async function benchRerank({ device, threads, runs = 5, warmup = 1, quick = false, webgpu }) {
  const reranker = await createReranker(quick ? 'synthetic:tiny' : 'synthetic:minilm', { device, ...(threads ? { threads } : {}), ...(webgpu ? { webgpu } : {}) });
  try {
    const query = 'what is the capital of france';
    const docs = documents(reranker.tokenizer);
    const pairTokens = reranker.tokenizer.encode(query, { pair: docs[0], maxLength: null }).ids.length;
    const once = async () => {
      const t0 = performance.now();
      const ranked = await reranker.rank(query, docs, { batchSize: 32 });
      const ms = performance.now() - t0;
      if (ranked.length !== 32 || !ranked.every((r) => Number.isFinite(r.score))) throw new Error('bench/rerank: bad ranking');
      return ms;
    };
    for (let i = 0; i < warmup; i++) await once();
    const times = [];
    for (let i = 0; i < runs; i++) times.push(await once());
    const ms = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
    return { case: RERANK_CASE, model: quick ? 'synthetic:tiny' : 'synthetic:minilm', device: reranker.device, threads: reranker.threads, pairTokens, ms, pairsPerS: 32 / (ms / 1000), tokensPerS: (32 * pairTokens) / (ms / 1000), times };
  } finally {
    reranker.dispose();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      device: { type: 'string', default: 'wasm' },
      threads: { type: 'string' },
      runs: { type: 'string', default: '5' },
      quick: { type: 'boolean', default: false },
    },
  });
  const row = await benchRerank({ device: values.device, threads: values.threads ? Number(values.threads) : undefined, runs: Math.max(1, Number(values.runs)), quick: values.quick });
  console.log(JSON.stringify(row));
  process.exit(0);
}
