/**
 * Issue #16, defects 5, 6 (config sizes) and 8 (pad id, empty model name): poisoned weights and
 * configs are refused at load with an error naming the file and tensor, before anything large is
 * allocated: NaN/Inf weights (safetensors F32/F16/BF16, shards, ONNX, Dense heads), tensors
 * named twice, a config that asks for more layers than the file holds, special ids outside the
 * vocabulary.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DualbertError, loadModel } from '../ts/index.js';
import type { Tensor } from '../ts/graph/weights.js';
import { allFinite } from '../ts/model/finite.js';
import { findDuplicateKey } from '../ts/model/json-keys.js';
import { parseOnnx } from '../ts/model/onnx.js';
import { readSafetensors, writeSafetensors } from '../ts/model/safetensors.js';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../ts/model/synthetic.js';
// @ts-expect-error plain JS module of the benchmark suite (JSDoc-typed)
import { ProtoWriter } from '../bench/onnx/protobuf.mjs';
import { exportBertOnnx } from './helpers/onnx-export.js';
import { writeTinyModelDir } from './helpers/model-dir.js';

const tiny = SYNTHETIC_MODELS.tiny.config;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const modelDir = (options: Parameters<typeof writeTinyModelDir>[0] = {}): string => {
  const d = writeTinyModelDir(options);
  dirs.push(d);
  return d;
};

async function expectCode(p: Promise<unknown> | (() => unknown), code: string, pattern: RegExp): Promise<void> {
  const e = await (async () => (typeof p === 'function' ? p() : p))().then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected an error').toBeInstanceOf(DualbertError);
  expect((e as DualbertError).code, (e as Error).message).toBe(code);
  expect((e as Error).message).toMatch(pattern);
}

/** The tiny model's checkpoint with "bert." names, as writeTinyModelDir writes it. */
function tinyTensors(): Map<string, Tensor> {
  return new Map([...syntheticCheckpoint(tiny)].map(([n, t]) => [`bert.${n}`, { shape: t.shape, data: Float32Array.from(t.data) }]));
}

/** A safetensors file from header JSON text and a data buffer (to write what writeSafetensors cannot). */
function rawSafetensors(headerText: string, data: Uint8Array): Uint8Array {
  const header = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + header.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  out.set(data, 8 + header.length);
  return out;
}

describe('#16.5 non-finite weights are refused at load, naming the file, tensor and position', () => {
  it('NaN, +Inf and -Inf in an F32 tensor', async () => {
    for (const [value, shown] of [
      [NaN, 'NaN'],
      [Infinity, 'Infinity'],
      [-Infinity, '-Infinity'],
    ] as const) {
      const dir = modelDir();
      const tensors = tinyTensors();
      tensors.get('bert.encoder.layer.1.output.dense.weight')!.data[256 * 3 + 5] = value; // [64, 256]: row 3, column 5
      writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(tensors));
      await expectCode(
        loadModel(dir),
        'INVALID_WEIGHTS',
        new RegExp(`model\\.safetensors: tensor "encoder\\.layer\\.1\\.output\\.dense\\.weight" holds ${shown} at \\[3, 5\\]`),
      );
    }
  });

  it('NaN in F16 and Inf in BF16 tensors (widened exactly, then refused)', async () => {
    const f16 = new Uint16Array([0x3c00, 0x7e00]); // 1, NaN
    const bf16 = new Uint16Array([0x3f80, 0xff80]); // 1, -Inf
    const file = rawSafetensors(
      JSON.stringify({ a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [2], data_offsets: [4, 8] } }),
      new Uint8Array([...new Uint8Array(f16.buffer), ...new Uint8Array(bf16.buffer)]),
    );
    const tensors = readSafetensors(file);
    expect(allFinite(tensors.get('a')!.data)).toBe(false);
    expect(allFinite(tensors.get('b')!.data)).toBe(false);
    // Through the loader: the word embeddings stored as F16 with one NaN.
    const dir = modelDir();
    const t = tinyTensors();
    const header: Record<string, unknown> = {};
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const [name, tensor] of t) {
      const halves = new Uint16Array(tensor.data.length).fill(0x3c00); // all 1.0
      if (name === 'bert.embeddings.word_embeddings.weight') halves[7] = 0x7e00;
      const bytes = new Uint8Array(halves.buffer);
      header[name] = { dtype: 'F16', shape: tensor.shape, data_offsets: [offset, offset + bytes.length] };
      chunks.push(bytes);
      offset += bytes.length;
    }
    const data = new Uint8Array(offset);
    let at = 0;
    for (const c of chunks) {
      data.set(c, at);
      at += c.length;
    }
    writeFileSync(join(dir, 'model.safetensors'), rawSafetensors(JSON.stringify(header), data));
    await expectCode(loadModel(dir), 'INVALID_WEIGHTS', /tensor "embeddings\.word_embeddings\.weight" holds NaN at \[0, 7\]/);
  });

  it('NaN in a shard names the shard; in an ONNX initializer names the .onnx file', async () => {
    const dir = modelDir({ shards: 3 });
    const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
    const shard = index.weight_map['bert.encoder.layer.0.attention.self.key.bias']!;
    const tensors = readSafetensors(new Uint8Array(readFileSync(join(dir, shard))));
    tensors.get('bert.encoder.layer.0.attention.self.key.bias')!.data[2] = NaN;
    writeFileSync(join(dir, shard), writeSafetensors(tensors));
    await expectCode(
      loadModel(dir),
      'INVALID_WEIGHTS',
      new RegExp(`${shard}: tensor "encoder\\.layer\\.0\\.attention\\.self\\.key\\.bias" holds NaN at \\[2\\]`),
    );

    const checkpoint = syntheticCheckpoint(tiny);
    const poisoned = new Map([...checkpoint].map(([n, t]) => [n, { shape: t.shape, data: Float32Array.from(t.data) }]));
    poisoned.get('encoder.layer.1.intermediate.dense.weight')!.data[0] = Infinity;
    const { bytes } = exportBertOnnx(tiny, poisoned, { naming: 'plain' });
    const onnxDir = modelDir({ noWeights: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(onnxDir, 'onnx'));
    writeFileSync(join(onnxDir, 'onnx', 'model.onnx'), bytes);
    await expectCode(
      loadModel(onnxDir),
      'INVALID_WEIGHTS',
      /onnx\/model\.onnx: tensor "encoder\.layer\.1\.intermediate\.dense\.weight" holds Infinity at \[0, 0\]/,
    );
  });

  it('NaN in a Dense head is refused too', async () => {
    const weight = { shape: [8, 64], data: new Float32Array(8 * 64).fill(0.01) };
    weight.data[64 + 1] = NaN;
    const dir = modelDir({ dense: { weight } });
    await expectCode(loadModel(dir), 'INVALID_WEIGHTS', /2_Dense\/model\.safetensors: tensor "2_Dense\.linear\.weight" holds NaN at \[1, 1\]/);
  });
});

describe('#16.5 tensors named twice are refused', () => {
  it('a safetensors header that names a tensor twice (JSON.parse would keep the last silently)', async () => {
    const dir = modelDir();
    const file = readFileSync(join(dir, 'model.safetensors'));
    const headerLen = Number(file.readBigUInt64LE(0));
    const text = file.subarray(8, 8 + headerLen).toString('utf8');
    const entry = /"bert\.embeddings\.LayerNorm\.bias":\{[^}]*\}/.exec(text)![0];
    // The same name again, pointing at other bytes (the LayerNorm weight's), header padded to length.
    const weightOffsets = /"bert\.embeddings\.LayerNorm\.weight":\{[^}]*"data_offsets":\[(\d+),(\d+)\]/.exec(text)!;
    const dup = entry.replace(/"data_offsets":\[\d+,\d+\]/, `"data_offsets":[${weightOffsets[1]},${weightOffsets[2]}]`);
    const patched = text.trimEnd().replace(/\}$/, `,${dup}}`);
    writeFileSync(join(dir, 'model.safetensors'), rawSafetensors(patched, file.subarray(8 + headerLen)));
    await expectCode(loadModel(dir), 'INVALID_WEIGHTS', /model\.safetensors: tensor "bert\.embeddings\.LayerNorm\.bias" is named twice in the header/);
  });

  it('two names that map to one tensor ("bert.x" and "x")', async () => {
    const dir = modelDir();
    const tensors = tinyTensors();
    tensors.set('embeddings.position_embeddings.weight', tensors.get('bert.embeddings.position_embeddings.weight')!);
    writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(tensors));
    await expectCode(
      loadModel(dir),
      'INVALID_WEIGHTS',
      /tensors "bert\.embeddings\.position_embeddings\.weight" and "embeddings\.position_embeddings\.weight" are both "embeddings\.position_embeddings\.weight"/,
    );
  });

  it('an ONNX graph with two initializers of one name', () => {
    const tensor = (name: string): Uint8Array => new ProtoWriter().packedInts(1, [1]).int(2, 1).bytes(8, name).bytes(9, new Uint8Array(4)).finish();
    const node = new ProtoWriter().bytes(1, 'x').bytes(2, 'y').bytes(4, 'Identity').finish();
    const graph = new ProtoWriter().bytes(1, node).bytes(5, tensor('w')).bytes(5, tensor('w')).finish();
    const model = new ProtoWriter().int(1, 8).bytes(7, graph).finish();
    expect(() => parseOnnx(model, 'm.onnx')).toThrow(/m\.onnx: cannot parse as ONNX: initializer "w" appears twice/);
  });

  it('findDuplicateKey: any depth, escapes, arrays', () => {
    expect(findDuplicateKey('{"a":1,"b":{"c":1,"c":2}}')).toEqual({ key: 'c', path: 'b' });
    expect(findDuplicateKey('{"a\\"":1,"a\\u0022":2}')).toEqual({ key: 'a"', path: '' });
    expect(findDuplicateKey('{"a":["a","a"],"b":"a"}')).toBeUndefined();
    expect(findDuplicateKey('[{"a":1},{"a":1}]')).toBeUndefined();
  });
});

describe('#16.6 config sizes are checked against the weights before the graph is built', () => {
  it('num_hidden_layers: 1e6 fails at once (safetensors, shards, ONNX)', async () => {
    for (const dir of [modelDir({ config: { num_hidden_layers: 1e6 } }), modelDir({ config: { num_hidden_layers: 1e6 }, shards: 2 })]) {
      const t0 = performance.now();
      await expectCode(loadModel(dir), 'INVALID_WEIGHTS', /holds 2 encoder layer\(s\) but config\.json's "num_hidden_layers" is 1000000/);
      expect(performance.now() - t0, 'no million-layer graph was built').toBeLessThan(3000);
    }
    const { bytes } = exportBertOnnx(tiny, syntheticCheckpoint(tiny), { naming: 'plain' });
    const onnxDir = modelDir({ noWeights: true, config: { num_hidden_layers: 1e6 } });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(onnxDir, 'onnx'));
    writeFileSync(join(onnxDir, 'onnx', 'model.onnx'), bytes);
    const t0 = performance.now();
    await expectCode(loadModel(onnxDir), 'INVALID_WEIGHTS', /onnx\/model\.onnx holds 2 encoder layer\(s\)/);
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  it('an ONNX file without any tensor names is bounded by its size', async () => {
    const { checkConfigAgainstWeights } = await import('../ts/model/config.js');
    expect(() => checkConfigAgainstWeights({ ...tiny, numLayers: 1e6 }, { file: 'm.onnx', bytes: 10_000_000, names: ['onnx::MatMul_1'] })).toThrow(
      /m\.onnx has 10000000 bytes, too few for the 1000000 layers of config\.json's "num_hidden_layers"/,
    );
    expect(() => checkConfigAgainstWeights(tiny, { file: 'm.onnx', bytes: 10_000_000, names: [] })).not.toThrow();
  });
});

describe('#16.8 special ids outside the vocabulary, an empty model name', () => {
  it('a tokenizer.json pad_id outside the embedding table is INVALID_TOKENIZER at load, not a failure on the first padded batch', async () => {
    const dir = modelDir();
    const tok = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as { padding: Record<string, unknown> | null };
    tok.padding = { strategy: 'BatchLongest', direction: 'Right', pad_to_multiple_of: null, pad_id: 99999, pad_type_id: 0, pad_token: '[PAD]' };
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tok));
    await expectCode(
      loadModel(dir),
      'INVALID_TOKENIZER',
      /tokenizer\.json: the padding id 99999 is outside the embedding table \(config\.json vocab_size 30522\)/,
    );
    tok.padding = { ...tok.padding, pad_id: 0, pad_type_id: 7 };
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tok));
    await expectCode(loadModel(dir), 'INVALID_TOKENIZER', /the padding type id 7 is outside config\.json's type_vocab_size 2/);
  });

  it("'' as a model is INVALID_ARGUMENT (it used to load the current directory)", async () => {
    await expectCode(loadModel(''), 'INVALID_ARGUMENT', /model is an empty string/);
    await expectCode(loadModel('   '), 'INVALID_ARGUMENT', /model is an empty string/);
  });
});
