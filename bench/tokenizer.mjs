// Tokenization speed: texts/s over the 1,016-text corpus for each tokenizer family (median of runs).
//
//   npm run build:ts && node bench/tokenizer.mjs [--runs N] [--max-length N] [--baseline DIR] [--clock cpu] [--json FILE] [--no-hf]
//
// --clock cpu: time each pass by this process's CPU time (process.cpuUsage) instead of the wall
// clock: on a machine shared with other busy processes the wall clock mostly measures their load,
// while CPU time stays close to what the pass costs on an idle core.
// --baseline DIR: another build of dualbert (its dist/ under DIR, e.g. an older commit built with
// `git archive <rev> ts tsconfig*.json package.json | tar -x -C DIR && cd DIR && npx tsc -p
// tsconfig.build.json`); its tokenizer runs the same files too, interleaved with this one
// run by run, so a busy machine slows both alike and the ratio stays meaningful. Files the
// baseline cannot read (other families, before they were supported) run without it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { Tokenizer } from '../dist/tokenizer/index.js';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const runs = Number(option('--runs', 9));
const jsonOut = option('--json', undefined);
// Hugging Face `tokenizers` (the Rust library's Node binding, a dev dependency) on the same files,
// timed per pass by the wall clock of `await encodeBatch(corpus)`: native code with its own
// thread pool, the baseline the tokenizer is held to (its ids are the tests' reference).
const Hf = args.includes('--no-hf') ? undefined : await import('tokenizers').then((m) => m.Tokenizer ?? m.default?.Tokenizer).catch(() => undefined);
const maxLength = option('--max-length', undefined);
const baselineDir = option('--baseline', undefined);
const clock = option('--clock', 'wall');
if (clock !== 'wall' && clock !== 'cpu') throw new Error(`--clock must be wall or cpu (got ${clock})`);
/** Milliseconds of the chosen clock. */
const now =
  clock === 'cpu'
    ? () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
      }
    : () => performance.now();
const Baseline = baselineDir ? (await import(pathToFileURL(resolve(baselineDir, 'dist/tokenizer/index.js')).href)).Tokenizer : undefined;

const root = new URL('../', import.meta.url);
const texts = readFileSync(new URL('test/fixtures/corpus-texts.jsonl', root), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l).text);

const families = [
  ['wordpiece (all-MiniLM-L6-v2)', 'test/fixtures/all-MiniLM-L6-v2/tokenizer.json'],
  ['wordpiece (mpnet-style)', 'test/fixtures/tokenizers/models/mpnet-st6/tokenizer.json'],
  ['bpe byte-level (roberta-style)', 'test/fixtures/tokenizers/models/roberta-st6/tokenizer.json'],
  ['bpe byte-level + NFC (modernbert)', 'test/fixtures/tokenizers/models/modernbert-st6/tokenizer.json'],
  ['unigram + metaspace (trained)', 'test/fixtures/tokenizers/unigram-metaspace.json'],
  ['unigram + precompiled (xlm-r)', 'test/fixtures/tokenizers/models/xlmr-st6/tokenizer.json'],
];

/** One timed pass over the corpus with a fresh tokenizer (empty word caches, as for a new model). */
function pass(TokenizerClass, json) {
  const tokenizer = TokenizerClass.fromTokenizerJson(json);
  const options = { maxLength: maxLength === undefined ? null : Number(maxLength) };
  const start = now();
  let tokens = 0;
  for (const t of texts) tokens += tokenizer.encode(t, options).ids.length;
  return { ms: now() - start, tokens };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const rate = (ms) => Math.round((texts.length / ms) * 1000);

console.log(`corpus: ${texts.length} texts, ${runs} runs after one warm-up, max length ${maxLength ?? 'none'}, ${clock === 'cpu' ? 'CPU time' : 'wall clock'}`);
// Round robin: every run times every family (and the baseline) once, so that a machine whose
// load changes over time slows them all alike.
const entries = [];
for (const [name, path] of families) {
  const file = new URL(path, root);
  if (!existsSync(file)) continue;
  const json = readFileSync(file, 'utf8');
  let baseline = Baseline !== undefined;
  try {
    if (baseline) Baseline.fromTokenizerJson(json);
  } catch {
    baseline = false; // the baseline cannot read this file
  }
  let hf;
  try {
    hf = Hf?.fromString(json);
  } catch {
    hf = undefined;
  }
  entries.push({ name, json, type: JSON.parse(json).model.type, baseline, hf, hfMs: [], ours: [], theirs: [], tokens: 0 });
}
for (let r = 0; r <= runs; r++) {
  for (const e of entries) {
    const a = pass(Tokenizer, e.json);
    const b = e.baseline ? pass(Baseline, e.json) : undefined;
    let hfMs;
    if (e.hf) {
      const start = performance.now();
      await e.hf.encodeBatch(texts);
      hfMs = performance.now() - start;
    }
    if (r === 0) continue; // warm-up: JIT and lazily built tables
    if (hfMs !== undefined) e.hfMs.push(hfMs);
    e.ours.push(a.ms);
    e.tokens = a.tokens;
    if (b) e.theirs.push(b.ms);
  }
}
const reference = entries[0] ? median(entries[0].ours) : 1;
for (const e of entries) {
  const ms = median(e.ours);
  let line = `${e.name.padEnd(36)} ${String(e.type).padEnd(10)} ${String(rate(ms)).padStart(7)} texts/s ${String(Math.round((e.tokens / ms) * 1000)).padStart(9)} tokens/s  ×${(reference / ms).toFixed(2)} of the first`;
  if (e.baseline) line += `   baseline ${rate(median(e.theirs))} texts/s (this build ×${(median(e.theirs) / ms).toFixed(2)})`;
  if (e.hfMs.length) line += `   HF tokenizers ${rate(median(e.hfMs))} texts/s (wall, native threads; ours ×${(median(e.hfMs) / ms).toFixed(2)})`;
  console.log(line);
}
if (jsonOut) {
  const results = entries.map((e) => {
    const ms = median(e.ours);
    return {
      name: e.name,
      type: e.type,
      textsPerS: rate(ms),
      tokensPerS: Math.round((e.tokens / ms) * 1000),
      baselineTextsPerS: e.baseline ? rate(median(e.theirs)) : null,
      hfTextsPerS: e.hfMs.length ? rate(median(e.hfMs)) : null,
    };
  });
  writeFileSync(jsonOut, `${JSON.stringify({ texts: texts.length, runs, clock, results }, null, 2)}\n`);
}
