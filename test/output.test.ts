/**
 * Embedding options against sentence-transformers 6.0.1 outputs (test/fixtures/rerank/
 * embeddings.json.gz, see PROVENANCE.md there): `dimensions` and a model's `truncate_dim`,
 * every `precision` (quantizeEmbeddings value for value, and end to end through embed()),
 * `pooling: 'none'` token embeddings, the similarity helpers and `similarity()` under each
 * `similarity_fn_name`; and the errors for options that do not fit together.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DualbertError,
  type Embedder,
  type EmbeddingPrecision,
  cos_sim,
  createEmbedder,
  dot,
  hamming,
  quantizeEmbeddings,
  similarity,
} from '../ts/index.js';
import { ROOT, ensureDistBuilt } from './helpers/build.js';
import { maxAbsDiff } from './helpers/golden.js';

interface Quantized {
  dtype: string;
  shape: [number, number];
  values: number[][];
}
type ByPrecision = Record<EmbeddingPrecision, Quantized>;
interface EmbeddingsGolden {
  texts: string[];
  float32_embeddings: number[][];
  float64_embeddings: number[][];
  encode_precision: ByPrecision;
  quantize: {
    model: { input: number[][]; batch: ByPrecision };
    model_calibrated: { input: number[][]; calibration: number[][]; out: ByPrecision };
    model_ranges: { input: number[][]; ranges: [number[], number[]]; out: ByPrecision };
    random: { input: number[][]; batch: ByPrecision };
  };
  hamming_ubinary: number[][];
  truncate16: number[][];
  truncate16_normalized: number[][];
  truncate_dim_config: Record<string, unknown>;
  truncate_dim_model_output: number[][];
  token_embeddings: number[][][];
  similarity: Record<'cosine' | 'dot' | 'euclidean' | 'manhattan', number[][]>;
  cos_sim_truncate16: number[][];
  dot_score_truncate16: number[][];
  dense_float64_embeddings: number[][];
  dense_truncate8: number[][];
}

const fixture = (path: string): string => fileURLToPath(new URL(`./fixtures/${path}`, import.meta.url));
const golden = JSON.parse(gunzipSync(readFileSync(fixture('rerank/embeddings.json.gz'))).toString('utf8')) as EmbeddingsGolden;
const BERT_ST6 = fixture('tokenizers/models/bert-st6');
const BERT_ST6_DENSE = fixture('tokenizers/models/bert-st6-dense');
const PRECISIONS: EmbeddingPrecision[] = ['float32', 'int8', 'uint8', 'binary', 'ubinary'];
const TYPES: Record<EmbeddingPrecision, string> = { float32: 'float32', int8: 'int8', uint8: 'uint8', binary: 'int8', ubinary: 'uint8' };
const ARRAYS = { float32: Float32Array, int8: Int8Array, uint8: Uint8Array, binary: Int8Array, ubinary: Uint8Array } as const;

const matrix = (rows: number[][]): { data: Float32Array; dims: [number, number] } => ({ data: Float32Array.from(rows.flat()), dims: [rows.length, rows[0]!.length] });

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
/** A copy of a fixture model with config_sentence_transformers.json changed. */
function modelWith(dir: string, config: Record<string, unknown>): string {
  const out = mkdtempSync(join(tmpdir(), 'dualbert-output-'));
  temps.push(out);
  cpSync(dir, out, { recursive: true });
  const path = join(out, 'config_sentence_transformers.json');
  writeFileSync(path, JSON.stringify({ ...(JSON.parse(readFileSync(path, 'utf8')) as object), ...config }));
  return out;
}

async function withEmbedder<T>(dir: string, f: (e: Embedder) => Promise<T>): Promise<T> {
  const embedder = await createEmbedder(dir, { device: 'reference' });
  try {
    return await f(embedder);
  } finally {
    embedder.dispose();
  }
}

async function expectCode(promise: Promise<unknown> | (() => unknown), code: string, pattern: RegExp): Promise<void> {
  let e: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (err) {
    e = err;
  }
  expect(e, 'expected a DualbertError').toBeInstanceOf(DualbertError);
  expect((e as DualbertError).code, (e as Error).message).toBe(code);
  expect((e as Error).message).toMatch(pattern);
}

describe('quantizeEmbeddings gives what sentence-transformers quantize_embeddings gives, value for value', () => {
  const cases: [string, number[][], ByPrecision, Parameters<typeof quantizeEmbeddings>[2]][] = [
    ['bert-st6 embeddings, ranges from the batch', golden.quantize.model.input, golden.quantize.model.batch, {}],
    ['bert-st6 embeddings, calibration embeddings', golden.quantize.model_calibrated.input, golden.quantize.model_calibrated.out, { calibration: matrix(golden.quantize.model_calibrated.calibration) }],
    ['bert-st6 embeddings, calibration as an array of vectors', golden.quantize.model_calibrated.input, golden.quantize.model_calibrated.out, { calibration: golden.quantize.model_calibrated.calibration }],
    ['bert-st6 embeddings, given ranges (values outside clipped)', golden.quantize.model_ranges.input, golden.quantize.model_ranges.out, { ranges: golden.quantize.model_ranges.ranges }],
    ['7×20 normal, a zero row, a constant column (step 0), 20 bits → 3 bytes', golden.quantize.random.input, golden.quantize.random.batch, {}],
  ];
  it.each(cases)('%s', (_, input, want, options) => {
    for (const p of PRECISIONS) {
      const calibrated = p === 'int8' || p === 'uint8' ? options : {};
      const got = quantizeEmbeddings(matrix(input), p, calibrated);
      expect(want[p].dtype, p).toBe(TYPES[p]);
      expect(got.data, p).toBeInstanceOf(ARRAYS[p]);
      expect(got.dims, p).toEqual(want[p].shape);
      expect(Array.from(got.data), p).toEqual(want[p].values.flat());
    }
  });

  it('refuses bad ranges and calibration clearly', async () => {
    const m = matrix(golden.quantize.random.input);
    await expectCode(() => quantizeEmbeddings(m, 'int8', { ranges: [[0], [1]] }), 'INVALID_ARGUMENT', /ranges must be \[starts, ends\] with 20 values each/);
    await expectCode(() => quantizeEmbeddings(m, 'uint8', { calibration: { data: new Float32Array(6), dims: [2, 3] } }), 'INVALID_ARGUMENT', /calibration embeddings have dims \[2, 3\], the embeddings have 20/);
    await expectCode(() => quantizeEmbeddings(m, 'int4' as EmbeddingPrecision), 'INVALID_ARGUMENT', /precision "int4" is not one of float32, int8, uint8, binary, ubinary/);
  });
});

describe('similarity helpers against sentence-transformers', () => {
  const a = golden.float64_embeddings.slice(0, 4);
  const b = golden.float64_embeddings.slice(4);
  it.each(['cosine', 'dot', 'euclidean', 'manhattan'] as const)('similarity(a, b, %s) = model.similarity with that similarity_fn_name', (fn) => {
    const { data, dims } = similarity(a, b, fn);
    expect(dims).toEqual([4, 6]);
    expect(maxAbsDiff(data, golden.similarity[fn].flat())).toBeLessThanOrEqual(1e-12);
  });

  it('cos_sim and dot of unnormalized vectors = util.cos_sim / util.dot_score; one pair gives a number', () => {
    const t = golden.truncate16;
    expect(maxAbsDiff(cos_sim(t.slice(0, 4), t.slice(4)).data, golden.cos_sim_truncate16.flat())).toBeLessThanOrEqual(1e-12);
    expect(maxAbsDiff(dot(matrix(t.slice(0, 4)), matrix(t.slice(4))).data, golden.dot_score_truncate16.flat())).toBeLessThanOrEqual(1e-6);
    expect(cos_sim(t[0]!, t[5]!)).toBeCloseTo(golden.cos_sim_truncate16[0]![1]!, 12);
    expect(dot(Float64Array.from(t[1]!), t[4]!)).toBeCloseTo(golden.dot_score_truncate16[1]![0]!, 12);
    expect(cos_sim([1, 0], [0, 0])).toBe(0); // the zero vector: eps clamp, not NaN
  });

  it('hamming of ubinary codes = differing bits (numpy unpackbits), and binary codes give the same', () => {
    const ub = golden.quantize.model.batch.ubinary.values;
    const bin = golden.quantize.model.batch.binary.values;
    expect(Array.from(hamming(ub.map((r) => Uint8Array.from(r)), ub.map((r) => Uint8Array.from(r))).data)).toEqual(golden.hamming_ubinary.flat());
    expect(Array.from(hamming({ data: Int8Array.from(bin.flat()), dims: [10, 4] }, { data: Int8Array.from(bin.flat()), dims: [10, 4] }).data)).toEqual(golden.hamming_ubinary.flat());
    expect(hamming(Uint8Array.from(ub[2]!), Uint8Array.from(ub[7]!))).toBe(golden.hamming_ubinary[2]![7]);
    expect(() => hamming(new Float32Array(4), new Float32Array(4))).toThrow(/hamming: a must hold packed bits/);
    expect(() => similarity([[1, 2]], [[1, 2, 3]])).toThrow(/different widths: 2 and 3/);
  });
});

describe('embed() output options, end to end on bert-st6 (reference device)', () => {
  it('float32 embeddings within 1e-6 of float64 PyTorch; dimensions 16 = encode(truncate_dim=16, normalize_embeddings=True)', async () => {
    await withEmbedder(BERT_ST6, async (e) => {
      const full = await e.embed(golden.texts);
      expect(full.dims).toEqual([10, 32]);
      expect(maxAbsDiff(full.data, golden.float64_embeddings.flat())).toBeLessThanOrEqual(1e-6);
      const cut = await e.embed(golden.texts, { dimensions: 16 });
      expect(cut.dims).toEqual([10, 16]);
      const d = maxAbsDiff(cut.data, golden.truncate16_normalized.flat());
      console.log(`[dimensions] bert-st6 16 of 32: max |Δ| ${d.toExponential(2)} against sentence-transformers`);
      expect(d).toBeLessThanOrEqual(1e-6);
      // The same through the streaming API, batch by batch.
      const streamed: number[] = [];
      for await (const { data, dims } of e.embedBatches(golden.texts, { dimensions: 16, batchSize: 3 })) {
        expect(dims[1]).toBe(16);
        streamed.push(...data);
      }
      expect(maxAbsDiff(streamed, golden.truncate16_normalized.flat())).toBeLessThanOrEqual(1e-6);
    });
  });

  it('a model without Normalize keeps the truncated values as they are (bert-st6-dense, truncate_dim=8)', async () => {
    await withEmbedder(BERT_ST6_DENSE, async (e) => {
      const { data, dims } = await e.embed(golden.texts, { dimensions: 8 });
      expect(dims).toEqual([10, 8]);
      expect(maxAbsDiff(data, golden.dense_truncate8.flat())).toBeLessThanOrEqual(1e-6);
    });
  });

  it("a model saved with truncate_dim embeds at that width by default (renormalized: sentence-transformers' own output, normalized)", async () => {
    expect(golden.truncate_dim_config['truncate_dim']).toBe(16);
    await withEmbedder(modelWith(BERT_ST6, golden.truncate_dim_config), async (e) => {
      expect(e.dimension).toBe(16);
      expect(e.defaults.truncateDim).toBe(16);
      const { data, dims } = await e.embed(golden.texts);
      expect(dims).toEqual([10, 16]);
      const normalized = golden.truncate_dim_model_output.map((r) => {
        const n = Math.hypot(...r);
        return r.map((v) => v / n);
      });
      expect(maxAbsDiff(data, normalized.flat())).toBeLessThanOrEqual(1e-6);
      expect((await e.embed(golden.texts, { dimensions: 32 })).dims).toEqual([10, 32]); // a call may ask for more
    });
  });

  it('every precision, as encode(precision=…) gives it (int8/uint8 ranges from the call)', async () => {
    await withEmbedder(BERT_ST6, async (e) => {
      for (const p of PRECISIONS) {
        const want = golden.encode_precision[p];
        const got = await e.embed(golden.texts, { precision: p });
        expect(got.data, p).toBeInstanceOf(ARRAYS[p]);
        expect(got.dims, p).toEqual(want.shape);
        const flat = want.values.flat();
        let off = 0;
        got.data.forEach((v, i) => {
          if (v === flat[i]) return;
          off++;
          if (p === 'int8' || p === 'uint8') expect(Math.abs(v - flat[i]!), `${p}[${i}]`).toBeLessThanOrEqual(1); // a float32 bucket boundary
          else if (p === 'float32') expect(Math.abs(v - flat[i]!), `${p}[${i}]`).toBeLessThanOrEqual(1e-6);
          else {
            // A differing bit must be a value at 0 within float32 noise.
            const bits = (v ^ flat[i]!) & 0xff;
            for (let k = 0; k < 8; k++) if (bits & (0x80 >> k)) expect(Math.abs(golden.float32_embeddings[Math.floor(i / want.shape[1])]![((i % want.shape[1]) << 3) + k]!)).toBeLessThan(1e-5);
          }
        });
        if (p !== 'float32') expect(off, `${p}: values off by a bucket`).toBeLessThanOrEqual(Math.ceil(flat.length / 50));
      }
      // Quantization comes after truncation, and ranges can be given.
      const q = await e.embed(golden.texts, { dimensions: 16, precision: 'ubinary' });
      expect(q.dims).toEqual([10, 2]);
      const r = await e.embed(golden.texts, { precision: 'uint8', ranges: golden.quantize.model_ranges.ranges });
      expect(maxAbsDiff(r.data, golden.quantize.model_ranges.out.uint8.values.flat())).toBeLessThanOrEqual(1);
      // Streams quantize batch by batch: int8 needs ranges (they would differ between windows); binary does not.
      const codes: number[] = [];
      for await (const { data } of e.embedBatches(golden.texts, { precision: 'ubinary', batchSize: 4 })) codes.push(...data);
      expect(codes).toEqual(Array.from((await e.embed(golden.texts, { precision: 'ubinary' })).data));
      await expectCode(async () => {
        for await (const _ of e.embedBatches(golden.texts, { precision: 'int8' })) break;
      }, 'INVALID_ARGUMENT', /embedBatches with precision int8 needs ranges or calibration embeddings/);
    });
  });

  it("pooling 'none': the last hidden state of every text with its mask = output_value='token_embeddings'", async () => {
    await withEmbedder(BERT_ST6, async (e) => {
      const { data, dims, attentionMask } = await e.embed(golden.texts, { pooling: 'none', batchSize: 4 });
      const lengths = golden.token_embeddings.map((t) => t.length);
      const T = Math.max(...lengths);
      expect(dims).toEqual([10, T, 32]);
      expect(attentionMask.length).toBe(10 * T);
      let worst = 0;
      golden.token_embeddings.forEach((rows, i) => {
        expect(Array.from(attentionMask.subarray(i * T, (i + 1) * T))).toEqual(Array.from({ length: T }, (_, t) => (t < rows.length ? 1 : 0)));
        worst = Math.max(worst, maxAbsDiff(data.subarray(i * T * 32, (i * T + rows.length) * 32), rows.flat()));
        expect(data.subarray((i * T + rows.length) * 32, (i + 1) * T * 32).every((v) => v === 0), `text ${i} padding rows`).toBe(true);
      });
      console.log(`[pooling none] bert-st6 token embeddings of ${lengths.length} texts (${lengths.join('/')} tokens): max |Δ| ${worst.toExponential(2)}`);
      expect(worst).toBeLessThanOrEqual(1e-5);
    });
  });

  it("similarity() follows the model's similarity_fn_name", async () => {
    for (const fn of ['cosine', 'dot', 'euclidean', 'manhattan'] as const) {
      await withEmbedder(modelWith(BERT_ST6, { similarity_fn_name: fn }), async (e) => {
        expect(e.defaults.similarityFnName).toBe(fn);
        const all = await e.embed(golden.texts);
        const a = { data: all.data.subarray(0, 4 * 32), dims: [4, 32] };
        const b = { data: all.data.subarray(4 * 32), dims: [6, 32] };
        expect(maxAbsDiff(e.similarity(a, b).data, golden.similarity[fn].flat()), fn).toBeLessThanOrEqual(1e-5);
      });
    }
    await expectCode(createEmbedder(modelWith(BERT_ST6, { similarity_fn_name: 'angle' }), { device: 'reference' }), 'INVALID_CONFIG', /similarity_fn_name "angle" is not one of cosine, dot, euclidean, manhattan/);
    await expectCode(createEmbedder(modelWith(BERT_ST6, { truncate_dim: -3 }), { device: 'reference' }), 'INVALID_CONFIG', /truncate_dim must be a positive integer, got -3/);
  });

  it('options that do not fit are refused before any work', async () => {
    await withEmbedder(BERT_ST6, async (e) => {
      const t = ['a text'];
      await expectCode(e.embed(t, { dimensions: 0 }), 'INVALID_ARGUMENT', /dimensions must be an integer from 1 to the model's 32, got 0/);
      await expectCode(e.embed(t, { dimensions: 33 }), 'INVALID_ARGUMENT', /dimensions must be an integer from 1 to the model's 32, got 33/);
      await expectCode(e.embed(t, { dimensions: 2.5 }), 'INVALID_ARGUMENT', /got 2\.5/);
      await expectCode(e.embed(t, { precision: 'fp8' as EmbeddingPrecision }), 'INVALID_ARGUMENT', /precision "fp8" is not one of/);
      await expectCode(e.embed(t, { precision: 'binary', ranges: [[0], [1]] }), 'INVALID_ARGUMENT', /ranges and calibration apply to precision int8 or uint8, not binary/);
      await expectCode(e.embed(t, { pooling: 'none', precision: 'int8' } as never), 'INVALID_ARGUMENT', /pooling 'none' returns float32 token embeddings: precision int8 does not apply/);
      await expectCode(e.embed(t, { pooling: 'none', dimensions: 8 } as never), 'INVALID_ARGUMENT', /dimensions does not apply/);
      await expectCode(e.embed(t, { pooling: 'none', normalize: true } as never), 'INVALID_ARGUMENT', /normalize does not apply/);
      await expectCode(e.embed(t, { pooling: 'sum' as never }), 'INVALID_ARGUMENT', /pooling "sum" is not one of mean, cls, max, mean_sqrt_len, weightedmean, lasttoken, none/);
      await expectCode(async () => {
        for await (const _ of e.embedBatches(t, { pooling: 'none' } as never)) break;
      }, 'INVALID_ARGUMENT', /pooling 'none' \(per-token embeddings\) is for embed\(\)/);
      // The embedder still works afterwards.
      expect((await e.embed(t)).dims).toEqual([1, 32]);
    });
  });
});

describe('worker mode (the built dist/): the same output options, results transferred', () => {
  it('precision, dimensions, pooling none and similarity() give what the in-thread embedder gives', async () => {
    ensureDistBuilt();
    const dist = (await import(pathToFileURL(join(ROOT, 'dist/index.js')).href)) as typeof import('../ts/index.js');
    const worker = await dist.createEmbedder(BERT_ST6, { worker: true, device: 'reference' });
    try {
      await withEmbedder(BERT_ST6, async (local) => {
        const texts = golden.texts.slice(0, 4);
        for (const options of [{ precision: 'int8' as const, dimensions: 16 }, { precision: 'binary' as const }]) {
          const [a, b] = await Promise.all([worker.embed(texts, options), local.embed(texts, options)]);
          expect(a.data).toBeInstanceOf(b.data.constructor as typeof Int8Array);
          expect(a.dims).toEqual(b.dims);
          expect(Array.from(a.data)).toEqual(Array.from(b.data));
        }
        const [t, u] = await Promise.all([worker.embed(texts, { pooling: 'none' }), local.embed(texts, { pooling: 'none' })]);
        expect(t.dims).toEqual(u.dims);
        expect(Array.from(t.attentionMask)).toEqual(Array.from(u.attentionMask));
        expect(maxAbsDiff(t.data, u.data)).toBe(0);
        const e = await worker.embed(texts);
        expect(maxAbsDiff(worker.similarity(e, e).data, local.similarity(e, e).data)).toBe(0);
      });
    } finally {
      worker.dispose();
    }
  });
});
