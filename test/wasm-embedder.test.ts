/**
 * The wasm device end to end: createEmbedder(..., { device: 'wasm' }), the `dualbert` CLI with
 * `--device wasm` (over the built dist/), worker shutdown, and a clear error for every bad input.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend } from '../ts/backends/wasm/index.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import { runGraph } from '../ts/graph/execute.js';
import { bindWeights } from '../ts/graph/weights.js';
import { DualbertError, createEmbedder } from '../ts/index.js';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../ts/model/synthetic.js';
import { ROOT, ensureDistBuilt } from './helpers/build.js';
import { batchFromIds, loadGolden, maxAbsDiff } from './helpers/golden.js';
import { writeTinyModelDir } from './helpers/model-dir.js';

const TOLERANCE = 1e-5;
const golden = loadGolden('tiny');
const goldenLines = readFileSync(join(ROOT, 'test/fixtures/golden/texts.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
const goldenTexts = goldenLines.map((l) => (JSON.parse(l) as { text: string }).text);
const BIN = join(ROOT, 'bin', 'dualbert.js');

function cli(args: string[], input = ''): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const embeddings = (out: string): number[][] =>
  out
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { embedding: number[] }).embedding);

async function rejection(promise: Promise<unknown>): Promise<DualbertError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected a DualbertError').toBeInstanceOf(DualbertError);
  return e as DualbertError;
}

let modelDir = '';
beforeAll(() => {
  ensureDistBuilt();
  modelDir = writeTinyModelDir();
});
afterAll(() => rmSync(modelDir, { recursive: true, force: true }));

describe('createEmbedder with device "wasm"', () => {
  it.each([
    ['default threads', {}],
    ['1 thread, scalar build', { threads: 1, wasm: { simd: false } }],
  ] as const)('synthetic:tiny gives the golden vectors from raw text (%s)', async (_, options) => {
    const embedder = await createEmbedder('synthetic:tiny', { device: 'wasm', ...options });
    try {
      expect(embedder.device).toBe('wasm');
      expect(embedder.threads).toBe('threads' in options ? options.threads : Math.max(1, (await import('node:os')).availableParallelism()));
      const { data, dims } = await embedder.embed(goldenTexts, { batchSize: 8 });
      expect(dims).toEqual([goldenTexts.length, 64]);
      golden.texts.forEach((g, i) => expect(maxAbsDiff(data.subarray(i * 64, (i + 1) * 64), g.mean), `text ${i}`).toBeLessThanOrEqual(TOLERANCE));
    } finally {
      embedder.dispose();
    }
  });

  it('bad options and inputs get clear errors', async () => {
    for (const threads of [0, -1, 1.5, Number.NaN]) {
      const e = await rejection(createEmbedder('synthetic:tiny', { device: 'wasm', threads }));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toMatch(/threads must be a positive integer/);
    }
    const config = SYNTHETIC_MODELS.tiny.config;
    const graph = buildBertGraph(config, { pooling: 'mean', normalize: true });
    const backend = await createWasmBackend(bindWeights(graph.weights, syntheticCheckpoint(config)), { threads: 1 });
    try {
      const bad = batchFromIds([[101, config.vocabSize, 102]]);
      let e = await rejection(runGraph(graph, backend, bad));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toMatch(/token id 30522 \(sequence 0, position 1\) is outside the vocabulary of 30522/);
      e = await rejection(runGraph(graph, backend, batchFromIds([Array(config.maxPositions + 1).fill(7)])));
      expect(e.code).toBe('INPUT_TOO_LONG');
      expect(e.message).toMatch(/513 tokens exceeds the model's 512 positions/);
      const types = { ...batchFromIds([[101, 102]]), typeIds: new Int32Array([0, 2]) };
      expect((await rejection(runGraph(graph, backend, types))).message).toMatch(/token type id 2/);
      expect((await rejection(runGraph(graph, backend, { ...types, ids: new Int32Array(3) }))).message).toMatch(/inputs\.ids has 3 values/);
      // A batch that would need more memory than a 32-bit memory can hold: refused up front.
      const huge = Array.from({ length: 4096 }, () => Array(512).fill(7));
      expect((await rejection(runGraph(graph, backend, batchFromIds(huge)))).message).toMatch(/MiB of WebAssembly memory, which cannot grow past/);
      // Every pooling mode has a wasm kernel now (op parity: test/wasm-ops.test.ts).
      const weighted = buildBertGraph(config, { pooling: 'weightedmean', normalize: true });
      expect(backend.supports(weighted.nodes.find((n) => n.op === 'pool')!)).toBe(true);
      // The backend still works after all of that.
      const ok = await runGraph(graph, backend, batchFromIds([golden.texts[0]!.input_ids]));
      expect(maxAbsDiff(ok.output, golden.texts[0]!.mean)).toBeLessThanOrEqual(TOLERANCE);
    } finally {
      backend.dispose();
    }
    const disposed = await rejection(runGraph(graph, backend, batchFromIds([[101, 102]])));
    expect(disposed.code).toBe('DISPOSED');
  });

  it('the .wasm location can be overridden (and a wrong one is named)', async () => {
    const config = SYNTHETIC_MODELS.tiny.config;
    const graph = buildBertGraph(config, { pooling: 'mean', normalize: true });
    const weights = bindWeights(graph.weights, syntheticCheckpoint(config));
    const e = await rejection(createWasmBackend(weights, { threads: 1 }, { wasmPaths: '/nonexistent/dir/' }));
    expect(e.code).toBe('DEVICE_UNAVAILABLE');
    expect(e.message).toMatch(/cannot read the simd build at file:\/\/\/nonexistent\/dir\/dualbert-simd\.wasm/);
    const backend = await createWasmBackend(weights, { threads: 1 }, { wasmPaths: (build) => new URL(`../build/dualbert-${build}.wasm`, import.meta.url) });
    const { output } = await runGraph(graph, backend, batchFromIds([golden.texts[3]!.input_ids]));
    expect(maxAbsDiff(output, golden.texts[3]!.mean)).toBeLessThanOrEqual(TOLERANCE);
    backend.dispose();
  });
});

describe('worker threads end when they should', () => {
  // A process that embeds with 2 threads must exit on its own, whether it disposes or not.
  it.each(['dispose()', 'no dispose()'])('a Node process with a 2-thread embedder exits by itself (%s)', (how) => {
    const script = `
      import { createEmbedder } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      const e = await createEmbedder('synthetic:tiny', { device: 'wasm', threads: 2 });
      const { dims } = await e.embed(['hello world', 'a second text']);
      console.log(e.threads, dims.join('x'));
      ${how === 'dispose()' ? 'e.dispose();' : ''}
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.error, 'the process did not exit within 60 s').toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('2 2x64');
    expect(r.status).toBe(0);
  });
});

describe('dualbert CLI with --device wasm', () => {
  it('embed on synthetic:tiny gives the golden vectors (2 threads), in order', () => {
    const r = cli(['embed', '--model', 'synthetic:tiny', '--device', 'wasm', '--threads', '2', '--batch-size', '7'], goldenLines.join('\n'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = embeddings(r.stdout);
    expect(rows.length).toBe(golden.texts.length);
    rows.forEach((row, i) => expect(maxAbsDiff(row, golden.texts[i]!.mean), `line ${i + 1}`).toBeLessThanOrEqual(TOLERANCE));
  });

  it('embed on a model directory, 1 thread', () => {
    const r = cli(['embed', '--model', modelDir, '--device', 'wasm', '--threads', '1'], goldenLines.slice(0, 9).join('\n'));
    expect(r.code).toBe(0);
    const rows = embeddings(r.stdout);
    expect(rows.length).toBe(9);
    rows.forEach((row, i) => expect(maxAbsDiff(row, golden.texts[i]!.mean), `line ${i + 1}`).toBeLessThanOrEqual(TOLERANCE));
  });

  it('embed on synthetic:minilm gives the golden vector', () => {
    const r = cli(['embed', '-m', 'synthetic:minilm', '-d', 'wasm'], '{"text": "hello world"}\n');
    expect(r.code).toBe(0);
    const minilm = loadGolden('minilm');
    expect(maxAbsDiff(embeddings(r.stdout)[0]!, minilm.texts[2]!.mean)).toBeLessThanOrEqual(TOLERANCE);
  });
});
