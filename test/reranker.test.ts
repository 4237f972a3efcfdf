/**
 * Rerankers against sentence-transformers 6.0.1's CrossEncoder in float64 (test/fixtures/rerank/,
 * see PROVENANCE.md there): the cross-encoders it saved, loaded as they are, give its token ids,
 * its scores and logits (within 1e-5 on the reference, wasm and webgpu devices) and its rank()
 * order; the ms-marco-MiniLM-L-6-v2-shaped one is `synthetic:minilm` (the same recipe weights); the
 * XLM-R one reads the RoBERTa-family head.
 * Prints the worst |Δ| per model and device.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { type TestContext, afterAll, describe, expect, it } from 'vitest';
import { DualbertError, createEmbedder, createReranker, type Reranker, type RerankerOptions } from '../ts/index.js';
import { parseBertConfig } from '../ts/model/config.js';
import { readCrossEncoderSettings } from '../ts/model/cross-encoder.js';
import { readSafetensors } from '../ts/model/safetensors.js';
import { ROOT, ensureDistBuilt } from './helpers/build.js';
import { skipOrFail } from './helpers/ci.js';
import { maxAbsDiff } from './helpers/golden.js';
import { exportBertOnnx } from './helpers/onnx-export.js';
import { closeTestGpu, getNodeGpu, noAdapterHint, openTestGpu } from './helpers/webgpu.js';

interface CeGolden {
  num_labels: number;
  max_length: number;
  activation_fn: string;
  input_ids: number[][];
  token_type_ids: (number[] | null)[];
  scores: number[] | number[][];
  logits: number[] | number[][];
  softmax?: number[][];
  rank?: { corpus_id: number; score: number; text: string }[][];
  rank_top3?: { corpus_id: number; score: number }[][];
  rank_logits?: { corpus_id: number; score: number }[][];
}
interface Golden {
  queries: string[];
  documents: string[];
  pairs: [string, string][];
  'tiny-ce': CeGolden;
  'tiny3-ce': CeGolden;
  'minilm-ce': CeGolden;
  'xlmr-ce': CeGolden;
}

const fixture = (path: string): string => fileURLToPath(new URL(`./fixtures/${path}`, import.meta.url));
const golden = JSON.parse(gunzipSync(readFileSync(fixture('rerank/reference.json.gz'))).toString('utf8')) as Golden;
const TINY = fixture('rerank/tiny-ce');
const TINY3 = fixture('rerank/tiny3-ce');

/** xlmr-ce with its tokenizer.json put back (the fixture keeps one copy, in tokenizers/models/xlmr-st6). */
let xlmrDir: string | undefined;
function xlmr(): string {
  if (!xlmrDir) {
    xlmrDir = mkdtempSync(join(tmpdir(), 'dualbert-xlmr-ce-'));
    temps.push(xlmrDir);
    cpSync(fixture('rerank/xlmr-ce'), xlmrDir, { recursive: true });
    cpSync(fixture('tokenizers/models/xlmr-st6/tokenizer.json'), join(xlmrDir, 'tokenizer.json'));
  }
  return xlmrDir;
}

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

afterAll(closeTestGpu);

interface Device {
  name: string;
  options: RerankerOptions;
  /**
   * Which minilm pairs this device scores, by length in tokens (the float64 oracle is slow); none
   * on WebGPU, where SwiftShader compiles the 384-wide pipelines for a minute: the encoder at
   * those shapes is checked by the golden model tests there, and the head by tiny-ce here.
   */
  minilmPairs: ((length: number) => boolean) | undefined;
  /** Also run score() with the default activation, apply_softmax and rank() (JS on top of the logits: a device or two suffice). */
  full: boolean;
  gpu?: boolean;
}
const DEVICES: Device[] = [
  { name: 'reference', options: { device: 'reference' }, minilmPairs: (n) => n <= 30, full: true },
  { name: 'wasm simd', options: { device: 'wasm', threads: 1 }, minilmPairs: (n) => n <= 300, full: true },
  { name: 'wasm scalar, 2 threads', options: { device: 'wasm', threads: 2, wasm: { simd: false } }, minilmPairs: (n) => n <= 40, full: false },
  { name: 'webgpu', options: { device: 'webgpu' }, minilmPairs: undefined, full: false, gpu: true },
];

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

async function open(ctx: TestContext, device: Device, model: string): Promise<Reranker> {
  if (!device.gpu) return createReranker(model, device.options);
  // One GPU device for every model of the file: SwiftShader compiles each pipeline in seconds.
  const gpu = await openTestGpu();
  if (!gpu) skipOrFail(ctx, noAdapterHint());
  return createReranker(model, { ...device.options, webgpu: { device: gpu.device, gpu: getNodeGpu() } });
}

const flat = (x: number[] | number[][]): number[] => (x as (number | number[])[]).flat();

async function expectCode(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected a DualbertError').toBeInstanceOf(DualbertError);
  expect((e as DualbertError).code, (e as Error).message).toBe(code);
  expect((e as Error).message).toMatch(pattern);
}

describe('cross-encoder directories saved by sentence-transformers 6 are read as CrossEncoder reads them', () => {
  it('tiny-ce: the same token ids and type ids for every pair (longest_first truncation at 40, no type ids for a TokenizersBackend tokenizer)', async () => {
    const r = await createReranker(TINY, { device: 'reference' });
    try {
      expect(r.maxLength).toBe(golden['tiny-ce'].max_length);
      expect(r.settings).toMatchObject({ activation: 'sigmoid', tokenTypes: false, head: { numLabels: 1, pooler: 'pooler.dense', output: 'classifier' } });
      golden.pairs.forEach(([q, d], i) => {
        const e = r.tokenizer.encode(q, { pair: d, maxLength: r.maxLength, padding: false });
        expect(e.ids, `pair ${i}`).toEqual(golden['tiny-ce'].input_ids[i]);
      });
      expect(golden['tiny-ce'].token_type_ids.every((t) => t === null)).toBe(true);
    } finally {
      r.dispose();
    }
  });

  it("minilm-ce: BertTokenizer passes type ids; sigmoid; 512 tokens — the settings synthetic:minilm gets as a reranker", async () => {
    const dir = fixture('rerank/minilm-ce');
    const json = (f: string): unknown => JSON.parse(readFileSync(join(dir, f), 'utf8'));
    const settings = readCrossEncoderSettings(json('config.json'), 'bert', {
      activationFn: (json('config_sentence_transformers.json') as { activation_fn: string }).activation_fn,
      tokenizerConfig: json('tokenizer_config.json'),
    });
    const r = await createReranker('synthetic:minilm', { device: 'reference' });
    try {
      expect(r.settings).toEqual(settings);
      expect(r.maxLength).toBe(golden['minilm-ce'].max_length);
      golden.pairs.forEach(([q, d], i) => {
        const e = r.tokenizer.encode(q, { pair: d, maxLength: r.maxLength, padding: false });
        expect(e.ids, `pair ${i}`).toEqual(golden['minilm-ce'].input_ids[i]);
        expect(e.typeIds, `pair ${i}`).toEqual(golden['minilm-ce'].token_type_ids[i]);
      });
    } finally {
      r.dispose();
    }
  });

  it('older layouts: the activation from config.json (sentence_transformers.activation_fn, sbert_ce_default_activation_function); none: sigmoid for one label, identity for more', () => {
    const base = { architectures: ['BertForSequenceClassification'], id2label: { 0: 'LABEL_0' } };
    expect(readCrossEncoderSettings(base, 'bert', {}).activation).toBe('sigmoid');
    expect(readCrossEncoderSettings({ ...base, id2label: { 0: 'c', 1: 'e', 2: 'n' } }, 'bert', {})).toMatchObject({ activation: 'identity', labels: ['c', 'e', 'n'], head: { numLabels: 3 } });
    expect(readCrossEncoderSettings({ ...base, sbert_ce_default_activation_function: 'torch.nn.modules.linear.Identity' }, 'bert', {}).activation).toBe('identity');
    expect(readCrossEncoderSettings({ ...base, sentence_transformers: { activation_fn: 'torch.nn.modules.activation.Tanh' } }, 'bert', {}).activation).toBe('tanh');
    const warnings: string[] = [];
    expect(readCrossEncoderSettings(base, 'bert', { activationFn: 'my_package.Custom', warn: (m) => warnings.push(m) }).activation).toBe('sigmoid');
    expect(warnings[0]).toMatch(/not a torch one; using the default/);
    expect(() => readCrossEncoderSettings(base, 'bert', { activationFn: 'torch.nn.modules.activation.Softplus' })).toThrow(/Softplus" is not supported/);
    expect(() => readCrossEncoderSettings({ architectures: ['BertModel'] }, 'bert', {})).toThrow(/no \*ForSequenceClassification head/);
    expect(readCrossEncoderSettings({ ...base }, 'distilbert', {}).head).toMatchObject({ pooler: 'pre_classifier', poolerActivation: 'relu' });
    expect(readCrossEncoderSettings(base, 'bert', { tokenizerConfig: { tokenizer_class: 'XLMRobertaTokenizer' } }).tokenTypes).toBe(false);
    expect(readCrossEncoderSettings(base, 'bert', { tokenizerConfig: { tokenizer_class: 'X', model_input_names: ['input_ids', 'token_type_ids'] } }).tokenTypes).toBe(true);
  });
});

describe.each(DEVICES)('$name: scores within 1e-5 of sentence-transformers (float64)', (device) => {
  const worst: string[] = [];
  afterAll(() => {
    if (worst.length) console.log(`[rerank ${device.name}] max |Δ|: ${worst.join(', ')}`);
  });

  it('tiny-ce: logits and sigmoid scores of every pair (and, on some devices, score(), rank() as CrossEncoder.rank)', async (ctx) => {
    const want = golden['tiny-ce'];
    const r = await open(ctx, device, TINY);
    try {
      // One forward pass of all 27 pairs; the activation is float64 JS on top of the logits.
      const logits = Array.from((await r.predict(golden.pairs, { activation: 'identity', batchSize: 32 })).data);
      const dl = maxAbsDiff(logits, flat(want.logits));
      const ds = maxAbsDiff(logits.map(sigmoid), flat(want.scores));
      worst.push(`tiny-ce logits ${dl.toExponential(2)}, scores ${ds.toExponential(2)}`);
      expect(dl).toBeLessThanOrEqual(1e-5);
      expect(ds).toBeLessThanOrEqual(1e-5);
      if (!device.full) return;
      const scores = await r.score(golden.pairs.map(([query, document]) => ({ query, document })), { batchSize: 5 });
      expect(maxAbsDiff(scores, flat(want.scores))).toBeLessThanOrEqual(1e-5);
      for (const [qi, query] of golden.queries.entries()) {
        const ranked = await r.rank(query, golden.documents, { returnDocuments: true, batchSize: 4 });
        expect(ranked.map((x) => x.corpus_id)).toEqual(want.rank![qi]!.map((x) => x.corpus_id));
        expect(ranked.map((x) => x.text)).toEqual(want.rank![qi]!.map((x) => x.text));
        expect(maxAbsDiff(ranked.map((x) => x.score), want.rank![qi]!.map((x) => x.score))).toBeLessThanOrEqual(1e-5);
        const top3 = await r.rank(query, golden.documents, { topK: 3 });
        expect(top3.map((x) => x.corpus_id)).toEqual(want.rank_top3![qi]!.map((x) => x.corpus_id));
        expect(top3.every((x) => x.text === undefined)).toBe(true);
        const raw = await r.rank(query, golden.documents, { activation: 'identity' });
        expect(raw.map((x) => x.corpus_id)).toEqual(want.rank_logits![qi]!.map((x) => x.corpus_id));
      }
    } finally {
      r.dispose();
    }
  });

  it('tiny3-ce: three labels — logits (identity by default), and apply_softmax', async (ctx) => {
    const want = golden['tiny3-ce'];
    const r = await open(ctx, device, TINY3);
    try {
      expect(r.numLabels).toBe(3);
      const { data, dims } = await r.predict(golden.pairs, device.full ? { batchSize: 5 } : {});
      expect(dims).toEqual([golden.pairs.length, 3]);
      const d = maxAbsDiff(data, flat(want.scores));
      worst.push(`tiny3-ce logits ${d.toExponential(2)}`);
      expect(d).toBeLessThanOrEqual(1e-5);
      if (!device.full) return;
      const soft = await r.predict(golden.pairs, { apply_softmax: true });
      expect(maxAbsDiff(soft.data, want.softmax!.flat())).toBeLessThanOrEqual(1e-5);
      await expectCode(r.score(golden.pairs), 'INVALID_ARGUMENT', /this model has 3 labels \(LABEL_0, LABEL_1, LABEL_2\): use predict\(\)/);
      await expectCode(r.rank('q', ['d']), 'INVALID_ARGUMENT', /use predict\(\)/);
    } finally {
      r.dispose();
    }
  });

  it('xlmr-ce (XLMRobertaForSequenceClassification: classifier.dense + tanh → classifier.out_proj, no type ids): logits and scores', async (ctx) => {
    const want = golden['xlmr-ce'];
    const r = await open(ctx, device, xlmr());
    try {
      expect(r.settings).toMatchObject({ head: { pooler: 'classifier.dense', output: 'classifier.out_proj', numLabels: 1 }, activation: 'sigmoid', tokenTypes: false });
      if (device.full) {
        golden.pairs.forEach(([q, d], i) => expect(r.tokenizer.encode(q, { pair: d, maxLength: r.maxLength, padding: false }).ids, `pair ${i}`).toEqual(want.input_ids[i]));
      }
      const logits = Array.from((await r.predict(golden.pairs, { activation: 'identity', batchSize: 32 })).data);
      const dl = maxAbsDiff(logits, flat(want.logits));
      const ds = maxAbsDiff(logits.map(sigmoid), flat(want.scores));
      worst.push(`xlmr-ce logits ${dl.toExponential(2)}, scores ${ds.toExponential(2)}`);
      expect(dl).toBeLessThanOrEqual(1e-5);
      expect(ds).toBeLessThanOrEqual(1e-5);
      if (device.full) {
        for (const [qi, query] of golden.queries.entries()) {
          expect((await r.rank(query, golden.documents)).map((x) => x.corpus_id)).toEqual(want.rank![qi]!.map((x) => x.corpus_id));
        }
      }
    } finally {
      r.dispose();
    }
  });

  if (device.minilmPairs) {
    it('synthetic:minilm as a reranker = minilm-ce (ms-marco-MiniLM-L-6-v2 shapes): logits and scores', async (ctx) => {
      const want = golden['minilm-ce'];
      const chosen = golden.pairs.map((_, i) => i).filter((i) => device.minilmPairs!(want.input_ids[i]!.length));
      const r = await open(ctx, device, 'synthetic:minilm');
      try {
        const logits = Array.from((await r.predict(chosen.map((i) => golden.pairs[i]!), { activation: 'identity', batchSize: 8 })).data);
        const dl = maxAbsDiff(logits, chosen.map((i) => flat(want.logits)[i]!));
        const ds = maxAbsDiff(logits.map(sigmoid), chosen.map((i) => flat(want.scores)[i]!));
        const longest = Math.max(...chosen.map((i) => want.input_ids[i]!.length));
        worst.push(`minilm ${chosen.length} pairs (≤ ${longest} tokens) logits ${dl.toExponential(2)}, scores ${ds.toExponential(2)}`);
        expect(dl).toBeLessThanOrEqual(1e-5);
        expect(ds).toBeLessThanOrEqual(1e-5);
      } finally {
        r.dispose();
      }
    });
  }
});

describe('ONNX-only cross-encoders (as transformers.js repositories ship them)', () => {
  it.each([
    ['plain names, anonymous MatMul weights', { naming: 'plain', linear: 'matmul' }],
    ['bert. prefix, Gemm', { naming: 'bert', linear: 'gemm' }],
  ] as const)('tiny-ce exported to onnx/model.onnx (%s) gives the same scores as its safetensors', async (_, style) => {
    const file = join(TINY, 'model.safetensors');
    const tensors = readSafetensors(new Uint8Array(readFileSync(file)), { file, rename: (n) => (n.startsWith('bert.') ? n.slice(5) : n) });
    const config = parseBertConfig(readFileSync(join(TINY, 'config.json'), 'utf8'));
    const { bytes } = exportBertOnnx(config, tensors, { ...style, classifier: { pooler: 'pooler.dense', activation: 'Tanh', output: 'classifier' } });
    const dir = mkdtempSync(join(tmpdir(), 'dualbert-onnx-ce-'));
    temps.push(dir);
    cpSync(TINY, dir, { recursive: true });
    rmSync(join(dir, 'model.safetensors'));
    mkdirSync(join(dir, 'onnx'));
    writeFileSync(join(dir, 'onnx', 'model.onnx'), bytes);
    const r = await createReranker(dir, { device: 'reference' });
    try {
      const d = maxAbsDiff(await r.score(golden.pairs), flat(golden['tiny-ce'].scores));
      expect(d).toBeLessThanOrEqual(1e-9);
    } finally {
      r.dispose();
    }
  });
});

describe('bad inputs and models are refused clearly', () => {
  it('embedding models, cross-encoders given to createEmbedder, bad pairs and options, long pairs without truncation', async () => {
    await expectCode(createReranker(fixture('tokenizers/models/bert-st6'), { device: 'reference' }), 'UNSUPPORTED_ARCHITECTURE', /architectures \["BertModel"\] has no \*ForSequenceClassification head/);
    await expectCode(createEmbedder(TINY, { device: 'reference' }), 'INVALID_ARGUMENT', /this is a cross-encoder \(model_type "CrossEncoder"\).*createReranker/);
    await expectCode(createReranker(TINY, { worker: true } as never), 'INVALID_ARGUMENT', /worker mode is for embedders/);
    const r = await createReranker(TINY, { device: 'reference' });
    try {
      await expectCode(r.score('q' as never), 'INVALID_ARGUMENT', /pairs must be an array/);
      await expectCode(r.score([['q', 3]] as never), 'INVALID_ARGUMENT', /pair 0 must be \[query, document\] or \{ query, document \} with two strings/);
      await expectCode(r.score([['q', 'd', 'e']] as never), 'INVALID_ARGUMENT', /pair 0 must be/);
      await expectCode(r.score([{ query: 'q' }] as never), 'INVALID_ARGUMENT', /pair 0 must be/);
      await expectCode(r.score([['q', 'd']], { batchSize: 0 }), 'INVALID_ARGUMENT', /batchSize must be a positive integer, got 0/);
      await expectCode(r.score([['q', 'd']], { activation: 'softmax' as never }), 'INVALID_ARGUMENT', /activation "softmax" is not one of sigmoid, identity, tanh, relu/);
      await expectCode(r.rank('q', 'd' as never), 'INVALID_ARGUMENT', /documents must be an array of strings/);
      await expectCode(r.rank('q', ['d', 7] as never), 'INVALID_ARGUMENT', /document 1 is number, not a string/);
      await expectCode(r.rank('q', ['d'], { topK: -1 }), 'INVALID_ARGUMENT', /topK must be a positive integer/);
      const long = golden.documents[7]!;
      await expectCode(r.score([['q', long]], { truncation: false }), 'INPUT_TOO_LONG', /pair 0 has \d+ tokens; the model accepts 40/);
      expect(await r.score([])).toEqual([]);
      expect(await r.rank('q', [])).toEqual([]);
      // Still usable after all of that; empty texts are pairs too.
      expect((await r.score([['', '']])).length).toBe(1);
    } finally {
      r.dispose();
    }
    await expectCode(r.score([['q', 'd']]), 'DISPOSED', /this reranker was disposed/);
  });

  it('a config.json whose head is missing from the weights fails naming the tensor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dualbert-ce-'));
    temps.push(dir);
    cpSync(TINY, dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, id2label: { 0: 'a', 1: 'b' } }));
    await expectCode(createReranker(dir, { device: 'reference' }), 'INVALID_WEIGHTS', /tensor "classifier\.weight" has shape \[1, 32\], the config needs \[2, 32\]/);
  });
});

describe('dualbert rerank (the built CLI)', () => {
  const cli = (args: string[], input: string): { code: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'dualbert.js'), 'rerank', ...args], { input, encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const input = golden.pairs.map(([query, document]) => JSON.stringify({ query, document })).join('\n');

  it('{"query", "document"} lines → {"score"} lines in order, as CrossEncoder.predict; --raw gives the logits; several labels give "scores"', () => {
    ensureDistBuilt();
    const r = cli(['--model', TINY, '--device', 'wasm', '--batch-size', '7'], input);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const scores = r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { score: number }).score);
    expect(maxAbsDiff(scores, flat(golden['tiny-ce'].scores))).toBeLessThanOrEqual(1e-5);
    const raw = cli(['--model', TINY, '--device', 'reference', '--raw'], input);
    expect(maxAbsDiff(raw.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { score: number }).score), flat(golden['tiny-ce'].logits))).toBeLessThanOrEqual(1e-9);
    const three = cli(['--model', TINY3, '--device', 'reference'], input.split('\n').slice(0, 2).join('\n'));
    expect(three.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { scores: number[] }).scores)).toSatisfy((rows: number[][]) => maxAbsDiff(rows.flat(), (golden['tiny3-ce'].scores as number[][]).slice(0, 2).flat()) <= 1e-9);
  });

  it('bad lines: reported with their number (exit 1, nothing written) or, with --keep-going, {"error"} in their place; usage errors exit 2', () => {
    const lines = [JSON.stringify({ query: 'q', document: 'd' }), '{"query": "q"}', 'not json', JSON.stringify({ query: 'a', document: 'b' })].join('\n');
    const strict = cli(['--model', TINY, '--device', 'reference'], lines);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toBe('');
    expect(strict.stderr).toMatch(/line 2: missing string field "document"/);
    expect(strict.stderr).toMatch(/line 3: not valid JSON/);
    const going = cli(['--model', TINY, '--device', 'reference', '--keep-going'], lines);
    expect(going.code).toBe(1);
    const out = going.stdout.trim().split('\n').map((l) => JSON.parse(l) as { score?: number; error?: string });
    expect(out.map((o) => (o.error ? 'error' : typeof o.score))).toEqual(['number', 'error', 'error', 'number']);
    expect(cli([], '').code).toBe(2);
    expect(cli(['--model', TINY, '--batch-size', '0'], '').stderr).toMatch(/--batch-size must be a positive integer/);
    const help = cli(['--help'], '');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/dualbert rerank — score query–document pairs/);
    const notCe = cli(['--model', fixture('tokenizers/models/bert-st6'), '--device', 'reference'], input);
    expect(notCe.code).toBe(1);
    expect(notCe.stderr).toMatch(/no \*ForSequenceClassification head/);
  });
});
