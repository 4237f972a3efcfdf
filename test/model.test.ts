/**
 * Model loading end to end: synthetic models and model directories through the public API,
 * against the golden vectors (tokenizer included), and a clear error for every bad input.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEmbedder, DualbertError, loadModel } from '../ts/index.js';
import type { ProgressEvent } from '../ts/index.js';
import { loadGolden, maxAbsDiff } from './helpers/golden.js';
import { writeTinyModelDir } from './helpers/model-dir.js';

const golden = loadGolden('tiny');
const goldenTexts = readFileSync(new URL('./fixtures/golden/texts.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => (JSON.parse(l) as { text: string }).text);

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
  expect((e as DualbertError).code).toBe(code);
  expect((e as Error).message).toMatch(pattern);
}

/** Embeds every golden text and compares with the golden mean vectors. */
async function checkAgainstGolden(model: string): Promise<void> {
  expect(goldenTexts.length).toBe(golden.texts.length);
  const embedder = await createEmbedder(model, { device: 'reference' });
  expect(embedder.device).toBe('reference');
  // The tokenizer (with the model's truncation, 128 for tiny) gives the golden ids.
  goldenTexts.forEach((t, i) => {
    expect(embedder.tokenizer.encode(t, { maxLength: embedder.defaults.maxLength }).ids, `text ${i}`).toEqual(golden.texts[i]!.input_ids);
  });
  const { data, dims } = await embedder.embed(goldenTexts, { batchSize: 8 });
  expect(dims).toEqual([goldenTexts.length, 64]);
  golden.texts.forEach((g, i) => {
    expect(maxAbsDiff(data.subarray(i * 64, (i + 1) * 64), g.mean), `text ${i}`).toBeLessThanOrEqual(1e-6);
  });
  embedder.dispose();
}

describe('createEmbedder on the tiny model', () => {
  it('synthetic:tiny gives the golden vectors from raw text (tokenizer + padded batches)', async () => {
    await checkAgainstGolden('synthetic:tiny');
  });

  it('a model directory (safetensors with "bert." names, tokenizer.json, sentence-transformers files) gives the golden vectors', async () => {
    await checkAgainstGolden(tempModel());
  });

  it('a model directory with vocab.txt + tokenizer_config.json gives the golden vectors', async () => {
    await checkAgainstGolden(tempModel({ tokenizer: 'vocab' }));
  });

  it('a plain Hugging Face directory gets mean pooling without normalization, as sentence-transformers gives it', async () => {
    const model = await loadModel(tempModel({ sentenceTransformers: false, bertPrefix: false }));
    expect(model.defaults.pooling).toBe('mean');
    expect(model.defaults.normalize).toBe(false);
    expect(model.defaults.maxLength).toBe(256); // tokenizer.json truncation, below max positions
  });

  it('cls and max pooling, and normalize off, follow the options', async () => {
    const embedder = await createEmbedder('synthetic:tiny', { device: 'reference' });
    const texts = goldenTexts.slice(5, 9);
    const cls = await embedder.embed(texts, { pooling: 'cls', normalize: false });
    texts.forEach((_, i) => {
      const want = golden.texts[5 + i]!.cls;
      expect(maxAbsDiff(cls.data.subarray(i * 64, (i + 1) * 64), want) / Math.max(...want.map(Math.abs))).toBeLessThanOrEqual(1e-6);
    });
    const max = await embedder.embed(texts, { pooling: 'max', normalize: false });
    const mean = await embedder.embed(texts, { pooling: 'mean', normalize: false });
    // max pooling is an upper bound of mean pooling, coordinate by coordinate, and differs from it.
    expect(max.data.every((v, i) => v >= mean.data[i]! - 1e-6)).toBe(true);
    expect(maxAbsDiff(max.data, mean.data)).toBeGreaterThan(1e-3);
    // mean without normalization has the golden direction.
    const row = mean.data.subarray(0, 64);
    const norm = Math.hypot(...row);
    expect(maxAbsDiff(row.map((v) => v / norm), golden.texts[5]!.mean)).toBeLessThanOrEqual(1e-6);
    embedder.dispose();
  });

  it('reports progress: initiate, done per file, ready', async () => {
    const events: ProgressEvent[] = [];
    await loadModel(tempModel(), { progress_callback: (e) => events.push(e) });
    const files = events.filter((e) => e.status === 'done').map((e) => (e as { file: string }).file);
    expect(files).toEqual(['config.json', 'tokenizer.json', 'modules.json', 'sentence_bert_config.json', '1_Pooling/config.json', 'model.safetensors']);
    expect(events[0]!.status).toBe('initiate');
    expect(events.at(-1)!.status).toBe('ready');
  });

  it('truncation: false rejects a text that does not fit; an empty list gives an empty result', async () => {
    const embedder = await createEmbedder('synthetic:tiny', { device: 'reference' });
    await expectCode(embedder.embed(['word '.repeat(200)], { truncation: false }), 'INPUT_TOO_LONG', /202 tokens; the model accepts 128/);
    const empty = await embedder.embed([]);
    expect(empty.dims).toEqual([0, 64]);
    expect(empty.data.length).toBe(0);
    embedder.dispose();
  });
});

describe('clear errors', () => {
  it('unknown synthetic model, missing directory', async () => {
    await expectCode(createEmbedder('synthetic:huge'), 'MODEL_NOT_FOUND', /unknown synthetic model "huge"/);
    await expectCode(createEmbedder('/nonexistent/model/dir'), 'MODEL_NOT_FOUND', /no config\.json/);
  });

  it('unsupported architecture and bad config values', async () => {
    await expectCode(createEmbedder(tempModel({ config: { model_type: 'gpt2' } })), 'UNSUPPORTED_ARCHITECTURE', /unsupported architecture "gpt2"/);
    await expectCode(createEmbedder(tempModel({ config: { hidden_act: 'relu' } })), 'UNSUPPORTED_ARCHITECTURE', /hidden_act "relu"/);
    await expectCode(createEmbedder(tempModel({ config: { num_attention_heads: 5 } })), 'INVALID_CONFIG', /not divisible/);
    await expectCode(createEmbedder(tempModel({ config: { hidden_size: 'big' } })), 'INVALID_CONFIG', /"hidden_size" must be a positive integer/);
  });

  it('weights that do not match the config name the tensor', async () => {
    await expectCode(createEmbedder(tempModel({ config: { intermediate_size: 128 } })), 'INVALID_WEIGHTS', /intermediate\.dense\.weight" has shape \[256, 64\], the config needs \[128, 64\]/);
  });

  it('missing weights, and pytorch_model.bin is named', async () => {
    const dir = tempModel({ noWeights: true });
    await expectCode(createEmbedder(dir), 'MISSING_FILE', /no model\.safetensors$/);
    writeFileSync(join(dir, 'pytorch_model.bin'), 'pickle');
    await expectCode(createEmbedder(dir), 'MISSING_FILE', /pytorch_model\.bin is a pickle/);
  });

  it('corrupt weights file', async () => {
    const dir = tempModel();
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, readFileSync(path).subarray(0, 5000)); // truncated download
    await expectCode(createEmbedder(dir), 'INVALID_WEIGHTS', /model\.safetensors: header length|outside the/);
  });

  it('pooling config with two modes', async () => {
    const dir = tempModel();
    writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ pooling_mode_mean_tokens: true, pooling_mode_max_tokens: true }));
    await expectCode(createEmbedder(dir), 'INVALID_CONFIG', /exactly one pooling mode/);
  });

  it('unknown devices, bad embed arguments, use after dispose', async () => {
    await expectCode(createEmbedder('synthetic:tiny', { device: 'tpu' as never }), 'INVALID_ARGUMENT', /unknown device "tpu"/);
    const embedder = await createEmbedder('synthetic:tiny', { device: 'reference' });
    await expect(embedder.embed([42 as never])).rejects.toThrow(/text 0 is number/);
    await expect(embedder.embed(['x'], { batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer/);
    await expect(embedder.embed(['x'], { pooling: 'median' as never })).rejects.toThrow(/pooling "median"/);
    embedder.dispose();
    await expectCode(embedder.embed(['x']), 'DISPOSED', /disposed/);
  });
});
