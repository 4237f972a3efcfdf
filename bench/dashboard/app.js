// The parity/benchmark dashboard page (plain ES module, no build step): runs every available path
// — WebGPU, wasm SIMD (1..N threads), scalar wasm, the float64 reference, onnxruntime-web wasm and
// onnxruntime-web webgpu — on identical inputs, then shows the parity matrix, SVG charts, the
// capability report and the results as JSON/Markdown. Served by `npm run dashboard`.
// The last run is kept on `window.dashboard` (state, results) for tests and the console.
import * as lib from '../../dist/browser/dualbert.js';
import { writeBertOnnx } from '../onnx/bert-onnx.mjs';

const ORT_DIR = new URL('../../node_modules/onnxruntime-web/dist/', import.meta.url).href;
const GOLDEN_DIR = new URL('../../test/fixtures/golden/', import.meta.url).href;
const TOLERANCE = 1e-5; // f32 paths: max abs diff of normalized mean-pooled embeddings
const GOLDEN_TEXTS = 8; // default; ?golden=N
const WORDS = ['the', 'a', 'x', 'word', 'hello']; // one token each in the BERT uncased vocab

const $ = (id) => document.getElementById(id);
// URL parameters preset the form: model, batches, seqlens, threads, runs, reference=0|1, golden=N
// (golden texts used for parity), autorun=1.
const params = new URLSearchParams(location.search);
const state = { status: 'idle', results: null, error: null };
window.dashboard = state;

// ---------- helpers ----------
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const list = (s) => [...new Set(String(s).split(/[\s,]+/).filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n > 0))];
const fmt = (x, digits = 3) => (x === undefined || x === null || Number.isNaN(x) ? '—' : Math.abs(x) >= 1000 ? x.toFixed(0) : x.toPrecision(digits));
const sleep = () => new Promise((r) => setTimeout(r, 0));

/** Texts of exactly T tokens (with [CLS]/[SEP]) so every path sees the same shapes. */
function textsOf(B, T) {
  return Array.from({ length: B }, (_, b) => Array.from({ length: Math.max(0, T - 2) }, (_, j) => WORDS[(b + j) % WORDS.length]).join(' '));
}

/** Mean over the mask, then L2 normalization, in float64: what ORT's last_hidden_state becomes. */
function meanNormalized(hidden, B, T, C, mask) {
  const out = new Float32Array(B * C);
  const v = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    v.fill(0);
    let n = 0;
    for (let j = 0; j < T; j++) {
      if (!mask[b * T + j]) continue;
      n++;
      for (let c = 0; c < C; c++) v[c] += hidden[(b * T + j) * C + c];
    }
    let norm = 0;
    for (let c = 0; c < C; c++) norm += (v[c] / n) ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let c = 0; c < C; c++) out[b * C + c] = v[c] / n / norm;
  }
  return out;
}

function compare(a, b, C) {
  let maxDiff = 0;
  let minCos = 1;
  for (let r = 0; r < a.length / C; r++) {
    let dot = 0, na = 0, nb = 0;
    for (let c = 0; c < C; c++) {
      const x = a[r * C + c], y = b[r * C + c];
      maxDiff = Math.max(maxDiff, Math.abs(x - y));
      dot += x * y; na += x * x; nb += y * y;
    }
    minCos = Math.min(minCos, na && nb ? dot / Math.sqrt(na * nb) : na === nb ? 1 : 0);
  }
  return { maxDiff, minCos };
}

// ---------- paths ----------
let ortPromise;
function loadOrt() {
  ortPromise ??= import(`${ORT_DIR}ort.all.min.mjs`).then((ort) => {
    ort.env.wasm.wasmPaths = ORT_DIR;
    ort.env.logLevel = 'error';
    return ort;
  });
  return ortPromise;
}

/** A path: create() → { embed(texts) → Float32Array [n, C], dispose() }. */
function dualbertPath(name, options, kind) {
  return {
    name,
    kind,
    async create(model) {
      const e = await lib.createEmbedder(`synthetic:${model}`, { ...options, allowFallbackAdapter: true });
      if (options.device !== 'auto' && e.device !== options.device) throw new Error(`got device ${e.device}`);
      if (options.threads && e.threads !== options.threads) throw new Error(`got ${e.threads} threads`);
      return {
        embed: async (texts) => (await e.embed(texts, { batchSize: texts.length, pooling: 'mean', normalize: true })).data,
        dispose: () => e.dispose(),
      };
    },
  };
}

function ortPath(name, ep, kind) {
  return {
    name,
    kind,
    async create(model, loaded) {
      const ort = await loadOrt();
      const bytes = writeBertOnnx(loaded.config, loaded.checkpoint);
      const session = await ort.InferenceSession.create(bytes, { executionProviders: [ep] });
      const C = loaded.config.hiddenSize;
      return {
        async embed(texts) {
          const enc = loaded.tokenizer.encodeBatch(texts, { maxLength: loaded.defaults.maxLength });
          const { batchSize: B, seqLen: T } = enc;
          const i64 = (a) => BigInt64Array.from(a, (x) => BigInt(x));
          const feeds = {
            input_ids: new ort.Tensor('int64', i64(enc.ids), [B, T]),
            attention_mask: new ort.Tensor('int64', i64(enc.attentionMask), [B, T]),
            token_type_ids: new ort.Tensor('int64', i64(enc.typeIds), [B, T]),
          };
          const out = await session.run(feeds);
          const hidden = out.last_hidden_state;
          const data = hidden.location === 'gpu-buffer' ? await hidden.getData() : hidden.data;
          return meanNormalized(data, B, T, C, enc.attentionMask);
        },
        dispose: () => void session.release(),
      };
    },
  };
}

async function availablePaths(caps, maxThreads, withReference) {
  const paths = [];
  const skipped = [];
  if (caps.webgpu.available) paths.push(dualbertPath('webgpu', { device: 'webgpu' }, 'f32'));
  else skipped.push({ name: 'webgpu', reason: caps.webgpu.reason ?? 'no WebGPU adapter' });
  if (caps.wasm.simd) {
    const n = caps.wasm.threads ? maxThreads : 1;
    for (let t = 1; t <= n; t = t < n && t * 2 > n ? n : t * 2) paths.push(dualbertPath(`wasm simd ${t}t`, { device: 'wasm', threads: t, wasm: { simd: true } }, 'f32'));
    if (!caps.wasm.threads && maxThreads > 1) skipped.push({ name: 'wasm threads', reason: 'page not cross-origin isolated (no SharedArrayBuffer)' });
  } else skipped.push({ name: 'wasm simd', reason: 'no WebAssembly SIMD' });
  paths.push(dualbertPath('wasm scalar', { device: 'wasm', threads: 1, wasm: { simd: false } }, 'f32'));
  if (withReference) paths.push(dualbertPath('reference f64', { device: 'reference' }, 'f64'));
  paths.push(ortPath('ort-web wasm', 'wasm', 'f32'));
  if (caps.webgpu.available) paths.push(ortPath('ort-web webgpu', 'webgpu', 'f32'));
  else skipped.push({ name: 'ort-web webgpu', reason: 'no WebGPU adapter' });
  return { paths, skipped };
}

// ---------- run ----------
async function run() {
  const model = $('model').value;
  const batches = list($('batches').value);
  const seqlens = list($('seqlens').value);
  const runs = Math.max(1, Number($('runs').value) || 5);
  const maxThreads = Math.max(1, Number($('threads').value) || 1);
  const pasted = $('texts').value.split('\n').filter((t) => t.trim());
  state.status = 'running';
  state.error = null;
  $('run').disabled = true;
  try {
    const caps = await lib.capabilities();
    const loaded = await lib.loadModel(`synthetic:${model}`);
    const C = loaded.config.hiddenSize;
    const maxLen = loaded.defaults.maxLength;
    const T0 = seqlens.filter((t) => t <= maxLen);
    let parityTexts = pasted;
    let golden = null;
    if (!pasted.length) {
      const [lines, g] = await Promise.all([
        fetch(`${GOLDEN_DIR}texts.jsonl`).then((r) => r.text()),
        fetch(`${GOLDEN_DIR}${model}.json`).then((r) => r.json()),
      ]);
      const n = Math.max(1, Number(params.get('golden')) || GOLDEN_TEXTS);
      parityTexts = lines.split('\n').filter(Boolean).slice(0, n).map((l) => JSON.parse(l).text);
      golden = Float32Array.from(g.texts.slice(0, n).flatMap((t) => t.mean));
    }
    const { paths, skipped } = await availablePaths(caps, maxThreads, $('reference').checked);
    const shapes = [];
    for (const T of T0) shapes.push({ B: batches[0], T });
    for (const B of batches.slice(1)) shapes.push({ B, T: T0[0] });
    const total = paths.length * (1 + shapes.length);
    let done = 0;
    const tick = (msg) => {
      $('progress').max = total;
      $('progress').value = done;
      $('status').textContent = `${msg} (${done}/${total})`;
    };
    const results = {
      model: `synthetic:${model}`,
      date: new Date().toISOString(),
      userAgent: navigator.userAgent,
      hardwareConcurrency: navigator.hardwareConcurrency,
      capabilities: caps,
      settings: { batches, seqlens: T0, runs, maxThreads, tolerance: TOLERANCE, parityTexts: parityTexts.length, golden: !!golden },
      skipped,
      paths: [],
    };
    const outputs = {};
    for (const path of paths) {
      tick(`${path.name}: cold start`);
      await sleep();
      const entry = { name: path.name, kind: path.kind, cold: null, timings: [] };
      results.paths.push(entry);
      let p;
      const t0 = performance.now();
      try {
        p = await path.create(model, loaded);
        // Cold start: create + the first embed, which is the parity batch (one shape less to
        // compile for the GPU paths).
        outputs[path.name] = await p.embed(parityTexts);
        entry.cold = performance.now() - t0;
        done++;
        for (const { B, T } of shapes) {
          tick(`${path.name}: B${B} T${T}`);
          await sleep();
          const texts = textsOf(B, T);
          await p.embed(texts); // warm-up
          const ms = [];
          for (let r = 0; r < runs; r++) {
            const t = performance.now();
            await p.embed(texts);
            ms.push(performance.now() - t);
          }
          const med = median(ms);
          entry.timings.push({ batch: B, seqLen: T, ms: med, tokensPerSecond: (B * T) / (med / 1000), runs });
          done++;
        }
      } catch (e) {
        entry.error = String(e?.message ?? e);
        done += 1 + shapes.length - entry.timings.length - (outputs[path.name] ? 1 : 0);
      } finally {
        p?.dispose();
        entry.wallMs = performance.now() - t0;
      }
    }
    // parity
    const names = results.paths.filter((p) => outputs[p.name]).map((p) => p.name);
    const cols = golden ? [...names, 'golden f64'] : names;
    if (golden) outputs['golden f64'] = golden;
    results.parity = [];
    for (const a of names) for (const b of cols) if (a !== b) results.parity.push({ a, b, ...compare(outputs[a], outputs[b], C) });
    for (const c of results.parity) c.ok = c.maxDiff <= TOLERANCE;
    state.results = results;
    render(results, names, cols);
    tick('done');
    $('status').textContent = `Done: ${results.paths.length} paths${skipped.length ? `; skipped: ${skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}` : ''}.`;
    state.status = 'done';
  } catch (e) {
    state.error = String(e?.stack ?? e);
    state.status = 'error';
    $('status').textContent = `Error: ${e?.message ?? e}`;
  } finally {
    $('run').disabled = false;
  }
}

// ---------- rendering ----------
function el(tag, attrs = {}, ...children) {
  const svg = ['svg', 'g', 'path', 'circle', 'line', 'text', 'rect', 'polyline', 'title'].includes(tag);
  const n = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  for (const c of children) n.append(c);
  return n;
}

function render(results, names, cols) {
  // parity matrix
  const byPair = new Map(results.parity.map((c) => [`${c.a}|${c.b}`, c]));
  const table = el('table', { id: 'parity-table' }, el('tr', {}, el('th', {}, ''), ...cols.map((c) => el('th', {}, c))));
  for (const a of names) {
    const tr = el('tr', {}, el('th', {}, a));
    for (const b of cols) {
      const c = byPair.get(`${a}|${b}`);
      tr.append(c ? el('td', { class: `parity ${c.ok ? 'ok' : 'bad'}`, 'data-ok': c.ok, 'data-max-diff': c.maxDiff, title: `${a} vs ${b}` }, `${c.maxDiff.toExponential(1)} / ${c.minCos.toFixed(6)}`) : el('td', { class: 'self' }, '·'));
    }
    table.append(tr);
  }
  $('parity').replaceChildren(table, el('p', {}, `Tolerance ${TOLERANCE} (max abs diff of mean-pooled, normalized embeddings; onnxruntime's last_hidden_state pooled in JS). ${results.paths.filter((p) => p.error).map((p) => `${p.name} failed: ${p.error}`).join('; ')}`));

  // charts
  const ok = results.paths.filter((p) => !p.error);
  const [B0] = results.settings.batches;
  const [T0] = results.settings.seqlens;
  $('charts').replaceChildren(
    lineChart('latency-vs-batch', `Latency vs batch size (T=${T0})`, 'batch size', 'ms', ok.map((p) => ({ name: p.name, points: p.timings.filter((t) => t.seqLen === T0).map((t) => [t.batch, t.ms]) }))),
    lineChart('tokens-vs-seqlen', `Tokens/s vs sequence length (B=${B0})`, 'sequence length', 'tokens/s', ok.map((p) => ({ name: p.name, points: p.timings.filter((t) => t.batch === B0).map((t) => [t.seqLen, t.tokensPerSecond]) }))),
    barChart('cold-start', 'Cold start (create + first embed: the parity texts)', 'ms', ok.map((p) => [p.name, p.cold])),
  );
  $('table').replaceChildren(resultsTable(results));
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const W = 420, H = 280, M = { l: 60, r: 10, t: 28, b: 40 };

function axes(svg, title, xLabel, yLabel, yMax) {
  svg.append(
    el('text', { x: W / 2, y: 16, 'text-anchor': 'middle', 'font-size': 13, 'font-weight': 'bold' }, title),
    el('line', { x1: M.l, y1: H - M.b, x2: W - M.r, y2: H - M.b, stroke: '#333' }),
    el('line', { x1: M.l, y1: M.t, x2: M.l, y2: H - M.b, stroke: '#333' }),
    el('text', { x: (W + M.l) / 2, y: H - 6, 'text-anchor': 'middle', 'font-size': 11 }, xLabel),
    el('text', { x: 12, y: (H - M.b + M.t) / 2, 'text-anchor': 'middle', 'font-size': 11, transform: `rotate(-90 12 ${(H - M.b + M.t) / 2})` }, yLabel),
  );
  for (let i = 0; i <= 4; i++) {
    const y = H - M.b - ((H - M.t - M.b) * i) / 4;
    svg.append(el('line', { x1: M.l - 3, y1: y, x2: W - M.r, y2: y, stroke: '#eee' }), el('text', { x: M.l - 5, y: y + 4, 'text-anchor': 'end', 'font-size': 10 }, fmt((yMax * i) / 4)));
  }
}

function lineChart(id, title, xLabel, yLabel, series) {
  const svg = el('svg', { id, width: W + 150, height: H, viewBox: `0 0 ${W + 150} ${H}`, 'data-series': series.length });
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const yMax = Math.max(1e-9, ...series.flatMap((s) => s.points.map((p) => p[1]))) * 1.1;
  axes(svg, title, xLabel, yLabel, yMax);
  // x: categorical positions (batch sizes / lengths are usually powers of two)
  const xAt = (x) => M.l + ((W - M.l - M.r) * (xs.indexOf(x) + 0.5)) / Math.max(1, xs.length);
  const yAt = (y) => H - M.b - ((H - M.t - M.b) * y) / yMax;
  for (const x of xs) svg.append(el('text', { x: xAt(x), y: H - M.b + 14, 'text-anchor': 'middle', 'font-size': 10 }, x));
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    if (s.points.length > 1) svg.append(el('polyline', { points: s.points.map(([x, y]) => `${xAt(x)},${yAt(y)}`).join(' '), fill: 'none', stroke: color, 'stroke-width': 1.5 }));
    for (const [x, y] of s.points) svg.append(el('circle', { class: 'point', cx: xAt(x), cy: yAt(y), r: 3, fill: color, 'data-x': x, 'data-y': y }, el('title', {}, `${s.name}: ${fmt(y)} ${yLabel} at ${x}`)));
    svg.append(el('rect', { x: W + 5, y: M.t + i * 16 - 8, width: 10, height: 10, fill: color }), el('text', { x: W + 20, y: M.t + i * 16 + 1, 'font-size': 11 }, s.name));
  });
  return svg;
}

function barChart(id, title, yLabel, bars) {
  const svg = el('svg', { id, width: W + 150, height: H, viewBox: `0 0 ${W + 150} ${H}`, 'data-series': bars.length });
  const yMax = Math.max(1e-9, ...bars.map((b) => b[1])) * 1.1;
  axes(svg, title, 'path', yLabel, yMax);
  const slot = (W - M.l - M.r) / Math.max(1, bars.length);
  bars.forEach(([name, v], i) => {
    const h = ((H - M.t - M.b) * v) / yMax;
    const color = COLORS[i % COLORS.length];
    svg.append(el('rect', { class: 'bar', x: M.l + i * slot + slot * 0.15, y: H - M.b - h, width: slot * 0.7, height: h, fill: color, 'data-y': v }, el('title', {}, `${name}: ${fmt(v)} ms`)));
    svg.append(el('rect', { x: W + 5, y: M.t + i * 16 - 8, width: 10, height: 10, fill: color }), el('text', { x: W + 20, y: M.t + i * 16 + 1, 'font-size': 11 }, `${name} ${fmt(v)} ms`));
  });
  return svg;
}

function resultsTable(results) {
  const t = el('table', {}, el('tr', {}, ...['path', 'batch', 'seq len', 'ms (median)', 'tokens/s', 'cold start ms'].map((h) => el('th', {}, h))));
  for (const p of results.paths) {
    if (p.error) t.append(el('tr', {}, el('td', {}, p.name), el('td', { colspan: 5, class: 'skipped' }, `failed: ${p.error}`)));
    for (const r of p.timings) t.append(el('tr', {}, ...[p.name, r.batch, r.seqLen, fmt(r.ms), fmt(r.tokensPerSecond), fmt(p.cold)].map((v) => el('td', {}, String(v)))));
  }
  return t;
}

/** The results as a Markdown report (capabilities, timings, parity). */
export function toMarkdown(r) {
  const lines = [`## dualbert dashboard: ${r.model}`, '', `${r.date} · ${r.userAgent} · ${r.hardwareConcurrency} logical cores`, ''];
  const gpu = r.capabilities.webgpu;
  lines.push(`WebGPU: ${gpu.available ? `${gpu.adapter?.vendor ?? ''} ${gpu.adapter?.architecture ?? ''} ${gpu.adapter?.description ?? ''}`.trim() || 'available' : `unavailable (${gpu.reason ?? ''})`} · wasm SIMD ${r.capabilities.wasm.simd} · threads ${r.capabilities.wasm.threads}`, '');
  lines.push('| path | batch | seq len | ms (median of ' + r.settings.runs + ') | tokens/s | cold start ms |', '|---|---:|---:|---:|---:|---:|');
  for (const p of r.paths) {
    if (p.error) lines.push(`| ${p.name} | | | failed: ${p.error.replace(/\|/g, '/')} | | |`);
    for (const t of p.timings) lines.push(`| ${p.name} | ${t.batch} | ${t.seqLen} | ${fmt(t.ms)} | ${fmt(t.tokensPerSecond)} | ${fmt(p.cold)} |`);
  }
  lines.push('', `Parity (tolerance ${r.settings.tolerance}): worst max abs diff per pair`, '', '| a | b | max abs diff | min cosine | ok |', '|---|---|---:|---:|---|');
  for (const c of r.parity) lines.push(`| ${c.a} | ${c.b} | ${c.maxDiff.toExponential(2)} | ${c.minCos.toFixed(7)} | ${c.ok ? '✅' : '❌'} |`);
  return lines.join('\n');
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    $('copied').textContent = 'copied';
  } catch {
    const ta = el('textarea', { readonly: '' });
    ta.value = text;
    $('copied').replaceChildren('clipboard unavailable; select and copy: ', ta);
  }
}

$('form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  void run();
});
$('copy-json').addEventListener('click', () => state.results && copy(JSON.stringify(state.results, null, 2)));
$('copy-md').addEventListener('click', () => state.results && copy(toMarkdown(state.results)));
state.toMarkdown = toMarkdown;
$('threads').value = String(Math.max(1, Math.min(8, navigator.hardwareConcurrency || 1)));
for (const k of ['model', 'batches', 'seqlens', 'threads', 'runs']) if (params.has(k)) $(k).value = params.get(k);
if (params.has('reference')) $('reference').checked = params.get('reference') !== '0';
lib.capabilities().then((caps) => ($('caps').textContent = JSON.stringify({ ...caps, crossOriginIsolated: self.crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency }, null, 2)));
if (params.get('autorun') === '1') void run();
