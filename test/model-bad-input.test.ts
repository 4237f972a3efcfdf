/**
 * Every bad input of the model-sources issue, served over a loopback HTTP server: each is a
 * DualbertError with a stable code whose message names the file (or URL) and the reason; none
 * yields vectors. Also: sharded safetensors (good and broken), long texts (truncated, never an
 * error), non-string input (an error that leaves the embedder working).
 */
import { readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, DualbertError, loadModel } from '../ts/index.js';
import { writeSafetensors } from '../ts/model/safetensors.js';
import { urlSource } from '../ts/model/sources.js';
import { SYNTHETIC_MODELS, bertTensorShapes, syntheticTensor } from '../ts/model/synthetic.js';
import { loadGolden, maxAbsDiff } from './helpers/golden.js';
import { writeTinyModelDir } from './helpers/model-dir.js';
import { type ModelServer, startModelServer } from './helpers/model-server.js';

const golden = loadGolden('tiny');
const texts = readFileSync(new URL('./fixtures/golden/texts.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => (JSON.parse(l) as { text: string }).text);

/** Model directories by key, each broken in one way; served under /plain/<key>/. */
const broken: Record<string, string> = {};
let server: ModelServer;

/** A safetensors file from a raw header object and a data buffer. */
function rawSafetensors(header: object, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** The tiny checkpoint with `edit` applied to the tensor map before writing. */
function weightsWith(edit: (t: Map<string, { shape: readonly number[]; data: Float32Array }>) => void): Uint8Array {
  const t = new Map([...bertTensorShapes(SYNTHETIC_MODELS.tiny.config)].map(([n, s]) => [`bert.${n}`, syntheticTensor(n, s)]));
  edit(t);
  return writeSafetensors(t);
}

function make(key: string, build: (dir: string) => void, options: Parameters<typeof writeTinyModelDir>[0] = {}): void {
  const dir = writeTinyModelDir(options);
  build(dir);
  broken[key] = dir;
}

beforeAll(async () => {
  make('good', () => undefined);
  make('sharded', () => undefined, { shards: 3 });
  make('no-tokenizer', (d) => unlinkSync(join(d, 'tokenizer.json')));
  make('bad-config-json', (d) => writeFileSync(join(d, 'config.json'), '{ "model_type": "bert", '));
  make('bad-modules-json', (d) => writeFileSync(join(d, 'modules.json'), '[{"path": '));
  make('deberta', () => undefined, { config: { model_type: 'deberta-v2' } });
  make('relative-positions', () => undefined, { config: { position_embedding_type: 'relative_key' } });
  make('vocab-too-small', () => undefined, { config: { vocab_size: 1000 } });
  make('bpe-tokenizer', (d) => {
    const tok = JSON.parse(readFileSync(join(d, 'tokenizer.json'), 'utf8')) as { model: Record<string, unknown> };
    tok.model = { type: 'CharLevelMagic', vocab: {} };
    writeFileSync(join(d, 'tokenizer.json'), JSON.stringify(tok));
  });
  make('truncated-file', (d) => {
    const p = join(d, 'model.safetensors');
    writeFileSync(p, readFileSync(p).subarray(0, 200_000));
  });
  make('garbage-header', (d) => {
    const bytes = rawSafetensors({ __metadata__: { pad: 'x'.repeat(40) } }, new Uint8Array(0));
    bytes.set(new TextEncoder().encode('{"bert.embeddings\u0000'), 8); // cut mid-key: not JSON
    writeFileSync(join(d, 'model.safetensors'), bytes);
  });
  make('offsets-outside', (d) =>
    writeFileSync(join(d, 'model.safetensors'), rawSafetensors({ 'bert.embeddings.LayerNorm.weight': { dtype: 'F32', shape: [64], data_offsets: [0, 256] } }, new Uint8Array(100))),
  );
  make('wrong-shape', (d) =>
    writeFileSync(join(d, 'model.safetensors'), weightsWith((t) => t.set('bert.encoder.layer.1.output.dense.weight', syntheticTensor('x', [64, 200])))),
  );
  make('missing-tensor', (d) => writeFileSync(join(d, 'model.safetensors'), weightsWith((t) => t.delete('bert.encoder.layer.1.attention.self.key.bias'))));
  make('int64-tensor', (d) => {
    const good = readFileSync(join(d, 'model.safetensors'));
    const len = Number(good.readBigUInt64LE(0));
    const header = JSON.parse(good.subarray(8, 8 + len).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>;
    // Same bytes, declared as 32 int64s instead of 64 float32s.
    header['bert.embeddings.LayerNorm.bias'] = { ...header['bert.embeddings.LayerNorm.bias']!, dtype: 'I64', shape: [32] };
    writeFileSync(join(d, 'model.safetensors'), rawSafetensors(header, good.subarray(8 + len)));
  });
  make('missing-shard', (d) => unlinkSync(join(d, 'model-00002-of-00003.safetensors')), { shards: 3 });
  make('shard-escape', (d) => {
    const p = join(d, 'model.safetensors.index.json');
    const index = JSON.parse(readFileSync(p, 'utf8')) as { weight_map: Record<string, string> };
    index.weight_map['bert.embeddings.LayerNorm.bias'] = '../elsewhere.safetensors';
    writeFileSync(p, JSON.stringify(index));
  }, { shards: 2 });
  make('index-incomplete', (d) => {
    const p = join(d, 'model.safetensors.index.json');
    const index = JSON.parse(readFileSync(p, 'utf8')) as { weight_map: Record<string, string> };
    delete index.weight_map['bert.encoder.layer.0.output.LayerNorm.weight'];
    writeFileSync(p, JSON.stringify(index));
  }, { shards: 2 });
  server = await startModelServer({}, broken);
});
afterAll(async () => {
  await server?.close();
  Object.values(broken).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const url = (key: string): string => `${server.url}/plain/${key}/`;
const load = (key: string) => loadModel(urlSource(url(key), { cache: false }));

async function expectCode(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected a rejection').toBeInstanceOf(DualbertError);
  expect((e as DualbertError).code, (e as Error).message).toBe(code);
  expect((e as Error).message).toMatch(pattern);
}

describe('bad model files over HTTP: a typed error naming the file and the reason', () => {
  const cases: [string, string, string, RegExp][] = [
    ['missing tokenizer', 'no-tokenizer', 'MISSING_FILE', /plain\/no-tokenizer\/: no tokenizer\.json or vocab\.txt/],
    ['config.json that is not JSON', 'bad-config-json', 'INVALID_CONFIG', /plain\/bad-config-json\/config\.json: config\.json is not valid JSON/],
    ['modules.json that is not JSON', 'bad-modules-json', 'INVALID_CONFIG', /plain\/bad-modules-json\/modules\.json is not valid JSON/],
    ['unsupported architecture', 'deberta', 'UNSUPPORTED_ARCHITECTURE', /deberta\/config\.json: unsupported architecture "deberta-v2": dualbert runs the encoder families "bert", "distilbert", "roberta"/],
    ['relative position embeddings', 'relative-positions', 'UNSUPPORTED_ARCHITECTURE', /config\.json: unsupported position_embedding_type "relative_key"/],
    ['vocab size ≠ config.vocab_size', 'vocab-too-small', 'INVALID_CONFIG', /vocab-too-small\/tokenizer\.json has 30522 tokens but config\.json's vocab_size is 1000/],
    ['unknown tokenizer type', 'bpe-tokenizer', 'UNSUPPORTED_TOKENIZER', /bpe-tokenizer\/tokenizer\.json: .*CharLevelMagic/],
    ['a truncated weights file', 'truncated-file', 'INVALID_WEIGHTS', /truncated-file\/model\.safetensors: .*(does not fit|outside)/],
    ['a corrupt safetensors header', 'garbage-header', 'INVALID_WEIGHTS', /garbage-header\/model\.safetensors: header is not valid UTF-8 JSON/],
    ['header offsets outside the file', 'offsets-outside', 'INVALID_WEIGHTS', /offsets-outside\/model\.safetensors: tensor "bert\.embeddings\.LayerNorm\.weight" spans bytes \[0, 256\) outside the 100-byte data buffer/],
    ['a shape that does not match the config', 'wrong-shape', 'INVALID_WEIGHTS', /wrong-shape\/model\.safetensors: tensor "encoder\.layer\.1\.output\.dense\.weight" has shape \[64, 200\], the config needs \[64, 256\]/],
    ['a missing tensor', 'missing-tensor', 'INVALID_WEIGHTS', /missing-tensor\/model\.safetensors: tensor "encoder\.layer\.1\.attention\.self\.key\.bias" is missing/],
    ['a dtype we cannot read', 'int64-tensor', 'UNSUPPORTED_DTYPE', /int64-tensor\/model\.safetensors: tensor "bert\.embeddings\.LayerNorm\.bias" has dtype I64/],
    ['a missing shard', 'missing-shard', 'MISSING_FILE', /model\.safetensors\.index\.json names shard model-00002-of-00003\.safetensors, but .*missing-shard\/model-00002-of-00003\.safetensors is missing/],
    ['a shard path outside the model', 'shard-escape', 'INVALID_WEIGHTS', /shard file name "\.\.\/elsewhere\.safetensors" is not a relative path inside the model/],
    ['an index without a needed tensor', 'index-incomplete', 'INVALID_WEIGHTS', /index-incomplete\/model\.safetensors\.index\.json: tensor "encoder\.layer\.0\.output\.LayerNorm\.weight" is in no shard/],
  ];
  it.each(cases)('%s', async (_, key, code, pattern) => {
    await expectCode(load(key), code, pattern);
    await expectCode(createEmbedder(url(key), { device: 'reference', cache: false }), code, pattern);
  });

  it('the model argument itself: not a string or source', async () => {
    await expectCode(createEmbedder(42 as never), 'INVALID_ARGUMENT', /model must be a string/);
  });
});

describe('what works', () => {
  it('sharded safetensors (model.safetensors.index.json) give the golden vectors and read only the shards', async () => {
    const model = await load('sharded');
    expect(model.weightFiles).toEqual([
      'model.safetensors.index.json',
      'model-00001-of-00003.safetensors',
      'model-00002-of-00003.safetensors',
      'model-00003-of-00003.safetensors',
    ]);
    const embedder = await createEmbedder(url('sharded'), { device: 'reference', cache: false });
    const { data } = await embedder.embed(texts.slice(0, 6));
    golden.texts.slice(0, 6).forEach((g, i) => expect(maxAbsDiff(data.subarray(i * 64, (i + 1) * 64), g.mean), `text ${i}`).toBeLessThanOrEqual(1e-6));
  });

  it('a text longer than max_seq_length is truncated as configured (never an error); non-string input is an error that leaves the embedder working', async () => {
    const embedder = await createEmbedder(url('good'), { device: 'reference', cache: false });
    expect(embedder.defaults.maxLength).toBe(128);
    // 300 one-token words: truncation keeps [CLS] + 126 words + [SEP], so the result equals the 126-word text's.
    const words = 'the '.repeat(300);
    expect(embedder.tokenizer.encode(words, { maxLength: null }).ids.length).toBe(302);
    const long = await embedder.embed([words]);
    const fits = await embedder.embed(['the '.repeat(126)]);
    expect(maxAbsDiff(long.data, fits.data)).toBe(0);
    const before = await embedder.embed([texts[3]!]);
    await expectCode(embedder.embed(['fine', 7 as never]), 'INVALID_ARGUMENT', /text 1 is number 7, not a string/);
    await expectCode(embedder.embed(null as never), 'INVALID_ARGUMENT', /texts must be a string or an array of strings/);
    await expectCode(embedder.embed([{} as never]), 'INVALID_ARGUMENT', /text 0 is object/);
    const after = await embedder.embed([texts[3]!]);
    expect(maxAbsDiff(before.data, after.data)).toBe(0);
    expect(maxAbsDiff(after.data, golden.texts[3]!.mean)).toBeLessThanOrEqual(1e-6);
    await expectCode(embedder.embed([words], { truncation: false }), 'INPUT_TOO_LONG', /has \d+ tokens; the model accepts 128/);
  });
});
