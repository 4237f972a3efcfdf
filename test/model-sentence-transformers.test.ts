/**
 * sentence-transformers fidelity: every pooling mode and the Dense head, checked against the
 * formulas of sentence-transformers applied to the golden last hidden state (PyTorch, float64);
 * prompts, do_lower_case; backends that lack a node fail with UNSUPPORTED_OP; bad module files
 * fail with the file and the reason.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../ts/backends/reference/reference-backend.js';
import type { Backend } from '../ts/backends/types.js';
import { createWasmBackend } from '../ts/backends/wasm/index.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import { type OpKernels, dispatchStep, runGraph } from '../ts/graph/execute.js';
import { type DenseActivation, type PoolingMode, isCoreNode } from '../ts/graph/ops.js';
import { bindWeights } from '../ts/graph/weights.js';
import { createEmbedder, DualbertError, loadModel } from '../ts/index.js';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../ts/model/synthetic.js';
import { batchFromIds, loadGolden, maxAbsDiff } from './helpers/golden.js';
import { writeTinyModelDir } from './helpers/model-dir.js';
import { randomTensor, rng } from './helpers/op-parity.js';

const golden = loadGolden('tiny');
const texts = readFileSync(new URL('./fixtures/golden/texts.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => (JSON.parse(l) as { text: string }).text);
const C = 64;
const tiny = SYNTHETIC_MODELS.tiny.config;

const dirs: string[] = [];
const tempModel = (...args: Parameters<typeof writeTinyModelDir>): string => {
  const d = writeTinyModelDir(...args);
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function expectCode(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected a rejection').toBeInstanceOf(DualbertError);
  expect((e as DualbertError).code, (e as Error).message).toBe(code);
  expect((e as Error).message).toMatch(pattern);
}

const rowsOf = (flat: ArrayLike<number>): number[][] => Array.from({ length: flat.length / C }, (_, t) => Array.from(flat).slice(t * C, (t + 1) * C));

/**
 * The last hidden state of golden text i, [T, C] rows: the golden file's own (PyTorch) for texts
 * 0 and 1; for others the float64 reference's, run on the text alone (no padding) — the
 * reference matches the golden hidden states to ~1e-10 (model-golden.test.ts).
 */
const hiddenCache = new Map<number, number[][]>();
async function lastHidden(i: number): Promise<number[][]> {
  const flat = golden.texts[i]!.hidden_states?.at(-1);
  if (flat) return rowsOf(flat);
  if (!hiddenCache.has(i)) {
    const graph = buildBertGraph(tiny, { pooling: 'mean', normalize: false });
    const backend = new ReferenceBackend(bindWeights(graph.weights, syntheticCheckpoint(tiny)));
    const { captured } = await runGraph(graph, backend, batchFromIds([golden.texts[i]!.input_ids]), { capture: [graph.hiddenStates.at(-1)!] });
    hiddenCache.set(i, rowsOf(captured.get(graph.hiddenStates.at(-1)!)!));
  }
  return hiddenCache.get(i)!;
}

/** Two golden texts of different lengths (the shorter is padded in a batch), both under the 128-token limit. */
const [SHORT, LONG] = (() => {
  const lens = golden.texts.map((t) => t.input_ids.length);
  const a = lens.findIndex((n) => n >= 6 && n <= 20);
  const b = lens.findIndex((n) => n > lens[a]! + 5 && n < 128);
  return [a, b];
})();

/** sentence-transformers' Pooling.forward, written from its formulas, in float64 (no padding: every row is a token). */
function stPool(rows: number[][], mode: PoolingMode): number[] {
  const T = rows.length;
  const sum = (w: (t: number) => number): number[] => Array.from({ length: C }, (_, c) => rows.reduce((a, r, t) => a + w(t) * r[c]!, 0));
  switch (mode) {
    case 'cls':
      return rows[0]!;
    case 'lasttoken':
      return rows[T - 1]!;
    case 'max':
      return Array.from({ length: C }, (_, c) => Math.max(...rows.map((r) => r[c]!)));
    case 'mean':
      return sum(() => 1).map((v) => v / T);
    case 'mean_sqrt_len':
      return sum(() => 1).map((v) => v / Math.sqrt(T));
    case 'weightedmean': {
      const total = (T * (T + 1)) / 2; // Σ (t + 1)
      return sum((t) => t + 1).map((v) => v / total);
    }
  }
}

const l2 = (v: number[]): number[] => {
  const n = Math.max(Math.hypot(...v), 1e-12);
  return v.map((x) => x / n);
};
const act: Record<DenseActivation, (x: number) => number> = {
  identity: (x) => x,
  tanh: Math.tanh,
  relu: (x) => Math.max(0, x),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  gelu: (x) => x, // not used below
};

describe('pooling modes (1_Pooling/config.json) against the golden last hidden state', () => {
  it.each(['mean', 'cls', 'max', 'mean_sqrt_len', 'weightedmean', 'lasttoken'] as PoolingMode[])('%s, in a padded batch, then Normalize', async (mode) => {
    const dir = tempModel({ pooling: mode });
    const embedder = await createEmbedder(dir, { device: 'reference' });
    expect(embedder.defaults.pooling).toBe(mode);
    // Two texts of different lengths in one batch: the shorter one is padded.
    const { data } = await embedder.embed([texts[SHORT]!, texts[LONG]!, texts[0]!]);
    for (const [r, i] of [SHORT, LONG, 0].entries()) {
      expect(maxAbsDiff(data.subarray(r * C, (r + 1) * C), l2(stPool(await lastHidden(i), mode))), `text ${i}`).toBeLessThanOrEqual(1e-6);
    }
    // The per-call option overrides the model's mode.
    const asMean = await embedder.embed([texts[0]!], { pooling: 'mean' });
    expect(maxAbsDiff(asMean.data, golden.texts[0]!.mean)).toBeLessThanOrEqual(1e-6);
    embedder.dispose();
  });
});

describe('Dense modules (2_Dense: Linear + activation, weights in model.safetensors)', () => {
  const random = rng(7);
  const weight = randomTensor([48, C], random, 0.2);
  const bias = randomTensor([48], random, 0.3);

  it('mean → Dense 64→48 tanh → Normalize, as sentence-transformers computes it', async () => {
    const dir = tempModel({ dense: { weight, bias } });
    const embedder = await createEmbedder(dir, { device: 'reference' });
    expect(embedder.dimension).toBe(48);
    const { data, dims } = await embedder.embed([texts[SHORT]!, texts[LONG]!]);
    expect(dims).toEqual([2, 48]);
    for (const [r, i] of [SHORT, LONG].entries()) {
      const pooled = stPool(await lastHidden(i), 'mean');
      const want = l2(Array.from({ length: 48 }, (_, m) => act.tanh(pooled.reduce((a, x, k) => a + x * weight.data[m * C + k]!, bias.data[m]!))));
      expect(maxAbsDiff(data.subarray(r * 48, (r + 1) * 48), want), `text ${i}`).toBeLessThanOrEqual(1e-6);
    }
    embedder.dispose();
  });

  it('cls → Dense without bias, Identity, no Normalize', async () => {
    const dir = tempModel({ pooling: 'cls', dense: { weight, activation: 'torch.nn.modules.linear.Identity' }, normalize: false });
    const embedder = await createEmbedder(dir, { device: 'reference' });
    const { data } = await embedder.embed([texts[LONG]!]);
    const pooled = stPool(await lastHidden(LONG), 'cls');
    const want = Array.from({ length: 48 }, (_, m) => pooled.reduce((a, x, k) => a + x * weight.data[m * C + k]!, 0));
    expect(maxAbsDiff(data, want) / Math.max(...want.map(Math.abs))).toBeLessThanOrEqual(1e-6);
    embedder.dispose();
  });

  it('bad Dense modules: pytorch_model.bin only, unknown activation, in_features that do not fit, missing weights', async () => {
    let dir = tempModel({ dense: { weight, bias } });
    rmSync(join(dir, '2_Dense', 'model.safetensors'));
    writeFileSync(join(dir, '2_Dense', 'pytorch_model.bin'), 'pickle');
    await expectCode(loadModel(dir), 'MISSING_FILE', /2_Dense\/model\.safetensors is missing \(the Dense module has only pytorch_model\.bin, a pickle/);
    dir = tempModel({ dense: { weight, bias, activation: 'torch.nn.modules.activation.Softplus' } });
    await expectCode(loadModel(dir), 'UNSUPPORTED_ARCHITECTURE', /2_Dense\/config\.json: activation_function "torch\.nn\.modules\.activation\.Softplus" is not supported/);
    dir = tempModel({ dense: { weight: randomTensor([48, 32], random), bias } });
    await expectCode(createEmbedder(dir, { device: 'reference' }), 'INVALID_CONFIG', /Dense module 2_Dense\.linear: in_features 32 does not match the 64 values it receives/);
    dir = tempModel({ dense: { weight, bias } });
    writeFileSync(join(dir, '2_Dense', 'config.json'), JSON.stringify({ in_features: 64, out_features: 40, bias: true }));
    await expectCode(createEmbedder(dir, { device: 'reference' }), 'INVALID_WEIGHTS', /"2_Dense\.linear\.weight" has shape \[48, 64\], the config needs \[40, 64\]/);
  });
});

describe('prompts, do_lower_case, include_prompt', () => {
  it('prompt_name uses config_sentence_transformers.json prompts; default_prompt_name applies; prompt wins', async () => {
    const dir = tempModel({ prompts: { query: 'query: ', passage: 'passage: ' }, defaultPromptName: 'passage' });
    const embedder = await createEmbedder(dir, { device: 'reference' });
    expect(embedder.defaults.prompts).toEqual({ query: 'query: ', passage: 'passage: ' });
    const text = 'how much protein should a female eat';
    const [named, manual, byDefault, explicitEmpty, raw, passage] = await Promise.all([
      embedder.embed([text], { prompt_name: 'query' }),
      embedder.embed([`query: ${text}`], { prompt: '' }),
      embedder.embed([text]),
      embedder.embed([text], { prompt: '' }),
      embedder.embed([text], { prompt: '' }),
      embedder.embed([`passage: ${text}`], { prompt: '' }),
    ]);
    expect(maxAbsDiff(named.data, manual.data)).toBe(0);
    expect(maxAbsDiff(byDefault.data, passage.data)).toBe(0);
    expect(maxAbsDiff(explicitEmpty.data, raw.data)).toBe(0);
    expect(maxAbsDiff(named.data, raw.data)).toBeGreaterThan(1e-3);
    await expect(embedder.embed([text], { prompt_name: 'document' })).rejects.toThrow(/prompt_name "document" is not one of the model's prompts \(query, passage\)/);
    embedder.dispose();
  });

  it('do_lower_case lowercases before a cased tokenizer; a model without it keeps the case', async () => {
    const cased = (doLowerCase: boolean): string => {
      const dir = tempModel({ doLowerCase });
      const tok = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as { normalizer: Record<string, unknown> };
      tok.normalizer['lowercase'] = false;
      tok.normalizer['strip_accents'] = false;
      writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tok));
      return dir;
    };
    const lower = await createEmbedder(cased(true), { device: 'reference' });
    const a = await lower.embed(['Hello World', 'hello world']);
    expect(maxAbsDiff(a.data.subarray(0, C), a.data.subarray(C))).toBe(0);
    const keep = await createEmbedder(cased(false), { device: 'reference' });
    const b = await keep.embed(['Hello World', 'hello world']);
    expect(maxAbsDiff(b.data.subarray(0, C), b.data.subarray(C))).toBeGreaterThan(1e-3);
  });

  it('include_prompt: false is refused only when a prompt is used', async () => {
    const dir = tempModel({ prompts: { query: 'query: ' } });
    const cfg = JSON.parse(readFileSync(join(dir, '1_Pooling', 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ ...cfg, include_prompt: false }));
    const embedder = await createEmbedder(dir, { device: 'reference' });
    await embedder.embed(['no prompt here']);
    await expect(embedder.embed(['x'], { prompt_name: 'query' })).rejects.toThrow(/include_prompt: false/);
  });
});

describe('modules.json and pooling config errors', () => {
  it('two pooling modes, an unknown module, a Transformer in a subfolder, a Dense before pooling', async () => {
    let dir = tempModel();
    writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ pooling_mode_cls_token: true, pooling_mode_mean_tokens: true }));
    await expectCode(loadModel(dir), 'INVALID_CONFIG', /1_Pooling\/config\.json: exactly one pooling mode must be enabled, found pooling_mode_cls_token, pooling_mode_mean_tokens \(concatenated pooling modes are not supported\)/);
    writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ pooling_mode: 'median' }));
    await expectCode(loadModel(dir), 'INVALID_CONFIG', /pooling_mode "median" is not one of cls, mean, max, mean_sqrt_len, mean_sqrt_len_tokens, weightedmean, lasttoken/);
    writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ pooling_mode: 'lasttoken' }));
    expect((await loadModel(dir)).defaults.pooling).toBe('lasttoken');
    dir = tempModel();
    const modules = (extra: object[]): void => writeFileSync(join(dir, 'modules.json'), JSON.stringify(extra));
    modules([{ path: '', type: 'sentence_transformers.models.Transformer' }, { path: '1_LSTM', type: 'sentence_transformers.models.LSTM' }]);
    await expectCode(loadModel(dir), 'UNSUPPORTED_ARCHITECTURE', /module type "sentence_transformers\.models\.LSTM" is not supported/);
    modules([{ path: '0_Transformer', type: 'sentence_transformers.models.Transformer' }]);
    await expectCode(loadModel(dir), 'UNSUPPORTED_ARCHITECTURE', /Transformer module lives in "0_Transformer\/"/);
    modules([{ path: '', type: 'sentence_transformers.models.Transformer' }, { path: '2_Dense', type: 'sentence_transformers.models.Dense' }]);
    await expectCode(loadModel(dir), 'UNSUPPORTED_ARCHITECTURE', /Dense module before the Pooling module/);
  });
});

describe('backends declare what they implement', () => {
  const graphOf = (pooling: PoolingMode, dense = false) =>
    buildBertGraph(tiny, { pooling, normalize: true, ...(dense ? { dense: [{ name: 'd', inFeatures: C, outFeatures: 8, bias: true, activation: 'tanh' as const }] } : {}) });
  const weightsFor = (g: ReturnType<typeof graphOf>) => {
    const cp = new Map(syntheticCheckpoint(tiny));
    cp.set('d.weight', randomTensor([8, C], rng(1)));
    cp.set('d.bias', randomTensor([8], rng(2)));
    return bindWeights(g.weights, cp);
  };
  const batch = batchFromIds([golden.texts[0]!.input_ids]);

  it('wasm runs every node (each pooling mode, the Dense head) as the reference does; a device that lacks a node refuses the whole graph with UNSUPPORTED_OP naming the device and the node', async () => {
    // Op-level parity of these nodes on every device: wasm-ops.test.ts and webgpu-ops.test.ts.
    for (const [g, what] of [
      [graphOf('mean'), 'op pool'],
      [graphOf('weightedmean'), 'pooling weightedmean'],
      [graphOf('lasttoken'), 'pooling lasttoken'],
      [graphOf('mean_sqrt_len'), 'pooling mean_sqrt_len'],
      [graphOf('mean', true), 'Dense head \\(tanh\\)'],
    ] as const) {
      const b = await createWasmBackend(weightsFor(g), { threads: 1 });
      try {
        const want = (await runGraph(g, new ReferenceBackend(weightsFor(g)), batch)).output;
        expect(want.length).toBe(g.outputSize);
        expect(maxAbsDiff((await runGraph(g, b, batch)).output, want), what).toBeLessThanOrEqual(1e-5);
        if (what === 'op pool') continue;
        // The same backend, claiming only the first vocabulary: refused before anything runs.
        const lacking = Object.assign(Object.create(b) as Backend, { supports: isCoreNode });
        await expect(runGraph(g, lacking, batch)).rejects.toThrow(new RegExp(`device wasm does not implement ${what} yet`));
        await expect(runGraph(g, lacking, batch)).rejects.toMatchObject({ code: 'UNSUPPORTED_OP' });
      } finally {
        b.dispose();
      }
    }
  });

  it('a device that claims a node but has no kernel for it fails clearly, not silently', async () => {
    const g = graphOf('mean', true);
    // Every kernel a no-op, and no dense(): the plan reaches the Dense step and must refuse it.
    const noDense: OpKernels<undefined> = { embed() {}, linear: () => true, layerNorm() {}, attention() {}, pool() {}, normalize() {} };
    const claimsAll: Backend = {
      device: 'webgpu',
      threads: 1,
      supports: () => true,
      stats: () => ({ device: 'webgpu', threads: 1, weightBytes: 0, activationBytes: 0 }),
      dispose() {},
      async execute(plan) {
        for (const step of plan.steps) dispatchStep(noDense, step, () => undefined);
        return [];
      },
    };
    await expect(runGraph(g, claimsAll, batch)).rejects.toThrow(/does not implement Dense head \(tanh\)/);
    await expect(runGraph(g, claimsAll, batch)).rejects.toMatchObject({ code: 'UNSUPPORTED_OP' });
  });
});

/** A model directory saved by the Python stack, with what sentence-transformers did with it. */
interface SavedReference {
  max_seq_length: number;
  modules: string[];
  truncated_ids: number[][];
  embedding_texts: string[];
  embeddings: number[][];
}
const savedDir = (name: string): string => fileURLToPath(new URL(`./fixtures/tokenizers/models/${name}/`, import.meta.url));
const savedReference = (name: string): SavedReference => JSON.parse(gunzipSync(readFileSync(join(savedDir(name), 'reference.json.gz'))).toString('utf8')) as SavedReference;

describe('directories saved by sentence-transformers 6, and in the layout of versions up to 5', () => {
  // Saved by sentence-transformers 6.0.1 (transformers 5.17): see test/fixtures/tokenizers/PROVENANCE.md.
  const cases: Array<[dir: string, pooling: PoolingMode, normalize: boolean, dense: number]> = [
    ['bert-st6', 'mean', true, 0], // modules "sentence_transformers.base.modules.transformer.Transformer" ..., "pooling_mode": "mean", max length in tokenizer_config.json
    ['bert-st6-dense', 'cls', false, 1], // a Dense head (2_Dense) and an explicit max_seq_length, which 6 stores as model_max_length
    ['bert-st5', 'max', true, 0], // "sentence_transformers.models.*", pooling_mode_max_tokens, max_seq_length in sentence_bert_config.json
  ];

  it.each(cases)('%s: pooling, normalization, Dense head and max length as sentence-transformers reads them', async (name, pooling, normalize, dense) => {
    const ref = savedReference(name);
    const model = await loadModel(savedDir(name));
    expect(model.defaults.pooling).toBe(pooling);
    expect(model.defaults.normalize).toBe(normalize);
    expect(model.defaults.dense.length).toBe(dense);
    expect(model.defaults.maxLength).toBe(ref.max_seq_length);
    expect(ref.modules.some((m) => m.endsWith(normalize ? 'Normalize' : 'Pooling'))).toBe(true);
  });

  it.each(cases)('%s: the same truncated token ids as sentence-transformers, on the whole corpus', async (name) => {
    const ref = savedReference(name);
    const model = await loadModel(savedDir(name));
    const corpus = readFileSync(new URL('./fixtures/corpus-texts.jsonl', import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => (JSON.parse(l) as { text: string }).text);
    const bad = corpus.filter((t, i) => JSON.stringify(model.tokenizer.encode(t, { maxLength: model.defaults.maxLength }).ids) !== JSON.stringify(ref.truncated_ids[i]));
    expect(bad.slice(0, 5), `${bad.length} texts differ`).toEqual([]);
  });

  it.each(cases)('%s: the same embeddings as sentence-transformers (float64 PyTorch) within 1e-5', async (name) => {
    const ref = savedReference(name);
    const embedder = await createEmbedder(savedDir(name), { device: 'reference' });
    const { data, dims } = await embedder.embed(ref.embedding_texts);
    expect(dims).toEqual([ref.embeddings.length, ref.embeddings[0]!.length]);
    const diff = maxAbsDiff(data, ref.embeddings.flat());
    expect(diff).toBeLessThanOrEqual(1e-5);
    embedder.dispose();
  });

  it('reads the files of both layouts: module types by class name, every pooling_mode spelling, legacy config names', async () => {
    const dir = tempModel({ pooling: 'cls' });
    const write = (path: string, value: unknown): void => writeFileSync(join(dir, path), JSON.stringify(value));
    write('modules.json', [
      { idx: 0, name: '0', path: '', type: 'sentence_transformers.base.modules.transformer.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.sentence_transformer.modules.pooling.Pooling' },
      { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.base.modules.normalize.Normalize' },
    ]);
    mkdirSync(join(dir, '2_Normalize'), { recursive: true });
    write('2_Normalize/config.json', { module_input_name: 'sentence_embedding', module_output_name: 'sentence_embedding' });
    for (const [mode, want] of [['mean_sqrt_len_tokens', 'mean_sqrt_len'], [['weightedmean'], 'weightedmean'], ['lasttoken', 'lasttoken']] as const) {
      write('1_Pooling/config.json', { embedding_dimension: C, pooling_mode: mode, include_prompt: true });
      const model = await loadModel(dir);
      expect(model.defaults.pooling).toBe(want);
      expect(model.defaults.normalize).toBe(true);
    }
    // No mode enabled in the legacy keys: sentence-transformers 6 reads it as mean.
    write('1_Pooling/config.json', { word_embedding_dimension: C, pooling_mode_cls_token: false, pooling_mode_mean_tokens: false });
    expect((await loadModel(dir)).defaults.pooling).toBe('mean');
    write('1_Pooling/config.json', { embedding_dimension: C, pooling_mode: ['cls', 'max'] });
    await expectCode(loadModel(dir), 'INVALID_CONFIG', /pooling_mode \["cls","max"\] concatenates pooling modes/);
    write('1_Pooling/config.json', { embedding_dimension: C, pooling_mode: 'mean' });
    write('2_Normalize/config.json', { module_input_name: 'token_embeddings' });
    await expectCode(loadModel(dir), 'UNSUPPORTED_ARCHITECTURE', /2_Normalize\/config\.json: module_input_name "token_embeddings" is not supported/);
    write('2_Normalize/config.json', {});

    // Max length: sentence_bert_config.json max_seq_length (≤ 5, or its legacy name), else
    // tokenizer_config.json model_max_length (6), capped at the positions; transformers'
    // "no limit" (int(1e30)) is none, and tokenizer.json's truncation (256 here) decides.
    write('sentence_bert_config.json', { transformer_task: 'feature-extraction', module_output_name: 'token_embeddings' });
    write('tokenizer_config.json', { model_max_length: 77 });
    expect((await loadModel(dir)).defaults.maxLength).toBe(77);
    write('tokenizer_config.json', { model_max_length: 100000 });
    expect((await loadModel(dir)).defaults.maxLength).toBe(tiny.maxPositions);
    write('tokenizer_config.json', { model_max_length: 1e30 });
    expect((await loadModel(dir)).defaults.maxLength).toBe(256);
    rmSync(join(dir, 'sentence_bert_config.json'));
    write('sentence_roberta_config.json', { max_seq_length: 33, do_lower_case: true });
    const legacy = await loadModel(dir);
    expect([legacy.defaults.maxLength, legacy.defaults.lowercaseInput]).toEqual([33, true]);
  });
});
