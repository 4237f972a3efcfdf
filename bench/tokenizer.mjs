// Tokenization speed: texts/s over the 1,016-text corpus for each tokenizer fixture (median of runs).
//   npm run build:ts && node bench/tokenizer.mjs [--runs N] [--truncate N]
// Prints one line per tokenizer: name, model type, texts/s, tokens/s.
import { readFileSync, existsSync } from 'node:fs';
import { Tokenizer } from '../dist/tokenizer/index.js';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const runs = flag('--runs', 7);
const truncate = flag('--truncate', 0);
const root = new URL('../', import.meta.url);
const texts = readFileSync(new URL('test/fixtures/corpus-texts.jsonl', root), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l).text);

const candidates = [
  ['wordpiece (all-MiniLM-L6-v2)', 'test/fixtures/all-MiniLM-L6-v2/tokenizer.json'],
  ['bpe byte-level (roberta-style)', 'test/fixtures/tokenizers/roberta-bpe/tokenizer.json'],
  ['bpe byte-level (modernbert-style)', 'test/fixtures/tokenizers/modernbert-bpe/tokenizer.json'],
  ['unigram metaspace (trained)', 'test/fixtures/tokenizers/unigram-metaspace/tokenizer.json'],
  ['unigram precompiled (xlm-r-style)', 'test/fixtures/tokenizers/xlmr-unigram/tokenizer.json'],
  ['wordpiece (mpnet-style)', 'test/fixtures/tokenizers/mpnet-wordpiece/tokenizer.json'],
];

for (const [name, path] of candidates) {
  const file = new URL(path, root);
  if (!existsSync(file)) continue;
  const json = readFileSync(file, 'utf8');
  const type = JSON.parse(json).model.type;
  const times = [];
  let tokens = 0;
  for (let r = 0; r < runs + 1; r++) {
    // A fresh tokenizer per run: its word caches start empty, as for a new model.
    const tokenizer = Tokenizer.fromTokenizerJson(json);
    const start = performance.now();
    tokens = 0;
    for (const t of texts) tokens += tokenizer.encode(t, { maxLength: truncate > 0 ? truncate : null }).ids.length;
    if (r > 0) times.push(performance.now() - start); // the first run warms up the JIT
  }
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)];
  console.log(`${name.padEnd(36)} ${String(type).padEnd(10)} ${Math.round((texts.length / ms) * 1000).toString().padStart(8)} texts/s ${Math.round((tokens / ms) * 1000).toString().padStart(10)} tokens/s`);
}
