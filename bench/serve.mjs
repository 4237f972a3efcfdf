#!/usr/bin/env node
// Load benchmark of `dualbert serve` on loopback (nothing leaves the machine), bounded in count
// and time: N concurrent clients (1, 8, 64, 256), each sending one text per request to
// POST /v1/embeddings, with throughput and p50/p99 latency; the same texts through embed()
// directly (one call for all, and one text at a time); the batching gain (the same load on a
// server with --max-batch-size 1); /health latency while under load (model in a worker, and
// --in-process on the CPU devices); and an overload run (small --max-queue) showing 429s, with
// every refused request retried until answered: no answer lost, every answer checked against
// the library's own vector.
//
//   npm run bench:serve                                   # synthetic:minilm, wasm
//   node bench/serve.mjs --device webgpu --quick          # GPU machine (dist/ built)
//   node bench/serve.mjs --model ./my-model --threads 4 --out bench/results
//
// Writes bench/results/serve-<device>-<tag or host>.{json,md} (or --out DIR) and prints the table.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createEmbedder } from '../dist/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'synthetic:minilm' },
    device: { type: 'string', default: 'wasm' },
    threads: { type: 'string' },
    clients: { type: 'string', default: '1,8,64,256' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') },
    /** Names the result files (default: the host name). */
    tag: { type: 'string' },
  },
});
const QUICK = args.quick;
const LEVELS = args.clients.split(',').map(Number);
/** Requests per level: at least this many, and 4 per client (2 with --quick). */
const MIN_REQUESTS = QUICK ? 64 : 256;
/** Wall-clock cap per level, ms: a level stops sending when it is reached. */
const LEVEL_CAP_MS = QUICK ? 10_000 : 30_000;
const OVERLOAD = { requests: QUICK ? 256 : 512, maxQueue: 32, maxRounds: 20 };
/** Largest |server − library| counted as the same answer. */
const TOLERANCE = 1e-4;
const cpuDevice = args.device === 'wasm' || args.device === 'reference';

const corpus = readFileSync(join(ROOT, 'test/fixtures/corpus-texts.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l).text)
  .filter((t) => t.trim() !== '');
// Every level cycles through the same texts (mixed lengths, 8 languages).
const TEXTS = corpus.slice(0, QUICK ? 128 : 256);

const percentile = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (v, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '—');
const maxAbsDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

// 1. The library's own vectors, and embed() throughput done directly.
const direct = await createEmbedder(args.model, { device: args.device, ...(args.threads ? { threads: Number(args.threads) } : {}) });
console.log(`model ${args.model} on ${direct.device} (${direct.threads} threads), ${TEXTS.length} texts`);
await direct.embed(TEXTS.slice(0, 8)); // warm-up
let t0 = performance.now();
const all = await direct.embed(TEXTS);
const directBatchedMs = performance.now() - t0;
const width = all.dims[1];
const wanted = TEXTS.map((_, i) => all.data.subarray(i * width, (i + 1) * width));
const tokensOf = TEXTS.map((t) => Math.min(direct.defaults.maxLength, direct.tokenizer.encode(t, { maxLength: null, padding: false }).ids.length));
const oneByOneCount = Math.min(TEXTS.length, QUICK ? 64 : 128);
t0 = performance.now();
for (let i = 0; i < oneByOneCount; i++) await direct.embed([TEXTS[i]]);
const directOneMs = performance.now() - t0;
direct.dispose();
const directRows = [
  { how: `embed(${TEXTS.length} texts) in one call`, textsPerSecond: (TEXTS.length / directBatchedMs) * 1000, tokensPerSecond: (tokensOf.reduce((a, b) => a + b, 0) / directBatchedMs) * 1000 },
  {
    how: `embed([text]) one at a time (${oneByOneCount})`,
    textsPerSecond: (oneByOneCount / directOneMs) * 1000,
    tokensPerSecond: (tokensOf.slice(0, oneByOneCount).reduce((a, b) => a + b, 0) / directOneMs) * 1000,
    p50: NaN,
  },
];
for (const r of directRows) console.log(`direct: ${r.how}: ${fmt(r.textsPerSecond)} texts/s, ${fmt(r.tokensPerSecond, 0)} tokens/s`);

// 2. Servers (the CLI as users run it), one process per configuration.
async function startServer(extra) {
  const argv = [join(ROOT, 'bin', 'dualbert.js'), 'serve', '--model', args.model, '--device', args.device, '--port', '0', ...(args.threads ? ['--threads', args.threads] : []), ...extra];
  const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const url = await new Promise((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (c) => {
      stderr += c;
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`dualbert serve exited (${code}): ${stderr}`)));
  });
  return {
    url,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      return exited;
    },
  };
}

async function embedOne(url, i) {
  const started = performance.now();
  const res = await fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ input: TEXTS[i] }) });
  const body = await res.json();
  return { status: res.status, ms: performance.now() - started, body, retryAfter: Number(res.headers.get('retry-after') ?? 1) };
}

/** Polls /health every 25 ms until stopped; returns the latencies. */
function healthProbe(url) {
  const latencies = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const s = performance.now();
      await fetch(`${url}/health`).then((r) => r.arrayBuffer());
      latencies.push(performance.now() - s);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return latencies;
  };
}

/** N clients, each sending requests one after another until `total` are sent or the cap passes. */
async function load(url, clients) {
  const total = Math.max(MIN_REQUESTS, (QUICK ? 2 : 4) * clients);
  let next = 0;
  let worst = 0;
  let wrong = 0;
  let tokens = 0;
  const latencies = [];
  const statuses = {};
  const stopHealth = healthProbe(url);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total && performance.now() - started < LEVEL_CAP_MS) {
        const i = next++ % TEXTS.length;
        const r = await embedOne(url, i);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (r.status !== 200) continue;
        latencies.push(r.ms);
        tokens += r.body.usage.prompt_tokens;
        const diff = maxAbsDiff(r.body.data[0].embedding, wanted[i]);
        worst = Math.max(worst, diff);
        if (diff > TOLERANCE) wrong++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const health = await stopHealth();
  return {
    clients,
    requests: latencies.length,
    statuses,
    textsPerSecond: latencies.length / seconds,
    tokensPerSecond: tokens / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    healthP50: percentile(health, 50),
    healthMax: Math.max(...health),
    maxAbsDiff: worst,
    wrong,
  };
}

const levels = [];
let server = await startServer([]);
await embedOne(server.url, 0); // warm-up
const info = await (await fetch(`${server.url}/info`)).json();
for (const clients of LEVELS) {
  const r = await load(server.url, clients);
  levels.push({ server: 'batched', ...r });
  console.log(`batched  ${String(clients).padStart(3)} clients: ${fmt(r.textsPerSecond)} texts/s, p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, /health p50 ${fmt(r.healthP50)} max ${fmt(r.healthMax)} ms, max diff ${r.maxAbsDiff.toExponential(1)}`);
}
const drainCode = await server.stop();

const gainClients = LEVELS.includes(64) ? 64 : LEVELS.at(-1);
server = await startServer(['--max-batch-size', '1']);
await embedOne(server.url, 0);
const unbatched = { server: 'one input per pass (--max-batch-size 1)', ...(await load(server.url, gainClients)) };
console.log(`unbatched ${gainClients} clients: ${fmt(unbatched.textsPerSecond)} texts/s, p50 ${fmt(unbatched.p50)} ms, p99 ${fmt(unbatched.p99)} ms`);
await server.stop();

let inProcess;
if (cpuDevice) {
  server = await startServer(['--in-process']);
  await embedOne(server.url, 0);
  inProcess = { server: 'batched, model in the server thread (--in-process)', ...(await load(server.url, gainClients)) };
  console.log(`in-process ${gainClients} clients: ${fmt(inProcess.textsPerSecond)} texts/s, /health p50 ${fmt(inProcess.healthP50)} max ${fmt(inProcess.healthMax)} ms`);
  await server.stop();
}

// 3. Overload: everything at once against a small queue; refused requests retry after Retry-After.
server = await startServer(['--max-queue', String(OVERLOAD.maxQueue)]);
await embedOne(server.url, 0);
const overload = { requests: OVERLOAD.requests, maxQueue: OVERLOAD.maxQueue, firstRound: {}, rounds: 0, retries: 0, answered: 0, wrong: 0, maxAbsDiff: 0 };
let pending = Array.from({ length: OVERLOAD.requests }, (_, k) => k % TEXTS.length);
t0 = performance.now();
while (pending.length && overload.rounds < OVERLOAD.maxRounds) {
  const replies = await Promise.all(pending.map((i) => embedOne(server.url, i)));
  const refused = [];
  let wait = 0;
  replies.forEach((r, k) => {
    if (overload.rounds === 0) overload.firstRound[r.status] = (overload.firstRound[r.status] ?? 0) + 1;
    if (r.status === 200) {
      overload.answered++;
      const diff = maxAbsDiff(r.body.data[0].embedding, wanted[pending[k]]);
      overload.maxAbsDiff = Math.max(overload.maxAbsDiff, diff);
      if (diff > TOLERANCE) overload.wrong++;
    } else if (r.status === 429) {
      refused.push(pending[k]);
      wait = Math.max(wait, r.retryAfter);
    } else {
      throw new Error(`overload: unexpected status ${r.status}: ${JSON.stringify(r.body)}`);
    }
  });
  overload.rounds++;
  overload.retries += refused.length;
  pending = refused;
  // Retry-After is in whole seconds; capped so the benchmark stays short.
  if (pending.length) await new Promise((r) => setTimeout(r, Math.min(wait, 1) * 1000));
}
overload.lost = pending.length;
overload.seconds = (performance.now() - t0) / 1000;
console.log(`overload: ${OVERLOAD.requests} at once, queue ${OVERLOAD.maxQueue}: first round ${JSON.stringify(overload.firstRound)}; all answered after ${overload.rounds} rounds (${overload.retries} retries), lost ${overload.lost}, wrong ${overload.wrong}`);
await server.stop();

// 4. Report.
const machine = { host: os.hostname(), cpu: os.cpus()[0]?.model, cores: os.availableParallelism?.() ?? os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadAverage: os.loadavg().map((v) => +v.toFixed(2)) };
const best = Math.max(...levels.map((l) => l.textsPerSecond));
const atGain = levels.find((l) => l.clients === gainClients);
const lines = [
  `# dualbert serve load benchmark — ${args.model} on ${args.device}${QUICK ? ' (--quick)' : ''}`,
  '',
  `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load average at the end ${machine.loadAverage.join(' ')}. One text per request to POST /v1/embeddings over loopback; ${TEXTS.length} texts of the test corpus (mixed lengths, 8 languages), median ${percentile(tokensOf, 50)} tokens. Server: \`dualbert serve\` defaults on ${info.device} (${info.threads} threads${cpuDevice ? ', model in a worker thread' : ''}; max-batch-tokens ${info.max_batch_tokens}, max-batch-size ${info.max_batch_size}, pass-overhead-tokens ${info.pass_overhead_tokens}, max-wait-ms ${info.max_wait_ms}).`,
  '',
  '| clients | requests | texts/s | tokens/s | p50 ms | p99 ms | /health p50 / max ms | max abs diff vs embed() |',
  '|---|---|---|---|---|---|---|---|',
  ...levels.map((l) => `| ${l.clients} | ${l.requests} | ${fmt(l.textsPerSecond)} | ${fmt(l.tokensPerSecond, 0)} | ${fmt(l.p50)} | ${fmt(l.p99)} | ${fmt(l.healthP50)} / ${fmt(l.healthMax)} | ${l.maxAbsDiff.toExponential(1)} |`),
  '',
  '| the same texts through the library | texts/s | tokens/s |',
  '|---|---|---|',
  ...directRows.map((r) => `| ${r.how} | ${fmt(r.textsPerSecond)} | ${fmt(r.tokensPerSecond, 0)} |`),
  '',
  `**Batching gain** at ${gainClients} clients: ${fmt(atGain.textsPerSecond)} texts/s batched against ${fmt(unbatched.textsPerSecond)} with one input per pass (\`--max-batch-size 1\`): ${fmt(atGain.textsPerSecond / unbatched.textsPerSecond, 2)}× (p50 ${fmt(atGain.p50)} vs ${fmt(unbatched.p50)} ms, p99 ${fmt(atGain.p99)} vs ${fmt(unbatched.p99)} ms). Best served throughput ${fmt(best)} texts/s = ${fmt((100 * best) / directRows[0].textsPerSecond, 0)}% of one embed() call over all texts.`,
  ...(inProcess
    ? [
        '',
        `**Event loop:** with the model in a worker, /health answered in ${fmt(atGain.healthP50)} ms (p50), ${fmt(atGain.healthMax)} ms at worst, under ${gainClients} clients; with \`--in-process\` ${fmt(inProcess.healthP50)} ms (p50), ${fmt(inProcess.healthMax)} ms at worst (a forward pass holds the thread), ${fmt(inProcess.textsPerSecond)} texts/s.`,
      ]
    : []),
  '',
  `**Overload:** ${overload.requests} requests at once against \`--max-queue ${overload.maxQueue}\`: first round ${Object.entries(overload.firstRound)
    .map(([s, n]) => `${n}× ${s}`)
    .join(', ')}; every 429 retried after its Retry-After (capped at 1 s): all ${overload.answered} answered in ${overload.rounds} rounds (${overload.retries} retries, ${fmt(overload.seconds)} s), ${overload.lost} lost, ${overload.wrong} wrong (max abs diff ${overload.maxAbsDiff.toExponential(1)}). Drain on SIGTERM: exit code ${drainCode}.`,
  '',
];
const md = lines.join('\n');
console.log(`\n${md}`);
mkdirSync(args.out, { recursive: true });
const base = join(args.out, `serve-${args.device}-${(args.tag ?? machine.host).replace(/[^\w.-]/g, '_')}${QUICK ? '-quick' : ''}`);
writeFileSync(`${base}.json`, JSON.stringify({ machine, server: info, model: args.model, device: args.device, quick: QUICK, texts: TEXTS.length, direct: directRows, levels, unbatched, inProcess, overload, drainCode }, null, 2));
writeFileSync(`${base}.md`, md);
console.log(`wrote ${base}.json and ${base}.md`);
const failed = levels.some((l) => l.wrong > 0) || overload.wrong > 0 || overload.lost > 0 || drainCode !== 0;
process.exitCode = failed ? 1 : 0;
