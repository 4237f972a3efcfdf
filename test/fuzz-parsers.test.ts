/**
 * Issue #16: property-based fuzzing (fast-check) of every parser that reads bytes from outside:
 * safetensors, ONNX (protobuf and the graph walk that finds BERT weights), tokenizer.json (and
 * encoding with what it built), config.json, the completeness check of downloads, and the CLI's
 * JSONL reader.
 *
 * Inputs: random bytes, truncations at any length, bit flips, overwritten and inserted byte runs,
 * and structure-aware mutations (a random JSON value put anywhere in a safetensors header, a
 * tokenizer.json or a config.json). Every call must end in a result or a DualbertError: never
 * another exception (a TypeError, a RangeError from an allocation sized by a corrupt field),
 * never a call that runs long (each is timed), and never an allocation out of proportion to the
 * input (decoded tensors hold at most one value per input byte).
 *
 * Seeds and run counts are fixed, so a failure reproduces; FUZZ_RUNS scales the runs (e.g. 10
 * for a long local session).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInput } from '../ts/cli/main.js';
import { DualbertError } from '../ts/errors.js';
import type { BertConfig } from '../ts/graph/config.js';
import { checkCompleteness } from '../ts/model/completeness.js';
import { parseBertConfig } from '../ts/model/config.js';
import { decodeOnnxTensor, parseOnnx, readOnnxCheckpoint } from '../ts/model/onnx.js';
import { ProtobufError, readFields } from '../ts/model/protobuf.js';
import { readSafetensors, writeSafetensors } from '../ts/model/safetensors.js';
import { syntheticCheckpoint } from '../ts/model/synthetic.js';
import { Tokenizer } from '../ts/tokenizer/index.js';
// @ts-expect-error plain JS module of the benchmark suite (JSDoc-typed)
import { ProtoWriter } from '../bench/onnx/protobuf.mjs';
import { exportBertOnnx } from './helpers/onnx-export.js';

const SCALE = Number(process.env['FUZZ_RUNS'] ?? 1);
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));
/** Slowest call allowed: a parser of a few-kB input that takes longer is looping or allocating wildly. */
const SLOW_MS = 1000;

/** A BERT small enough that its files are a few kB: many fuzz runs per second. */
const MICRO: BertConfig = {
  vocabSize: 40,
  hiddenSize: 8,
  numLayers: 1,
  numHeads: 2,
  intermediateSize: 16,
  maxPositions: 16,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  hiddenAct: 'gelu',
};
const microCheckpoint = syntheticCheckpoint(MICRO);
const SAFETENSORS = writeSafetensors(new Map([...microCheckpoint].map(([n, t]) => [`bert.${n}`, t])), { format: 'pt' });
const ONNX_SEEDS = {
  torch: exportBertOnnx(MICRO, microCheckpoint, { naming: 'torch' }).bytes,
  q8: exportBertOnnx(MICRO, microCheckpoint, { naming: 'plain', dtype: 'q8' }).bytes,
  gemm: exportBertOnnx(MICRO, microCheckpoint, { naming: 'plain', linear: 'gemm', dtype: 'fp16' }).bytes,
};

/** tokenizer.json of all-MiniLM-L6-v2 with its vocabulary cut to the first 1,200 ids (the special tokens included). */
const MINI_TOKENIZER: Record<string, unknown> = (() => {
  const full = JSON.parse(readFileSync(new URL('./fixtures/all-MiniLM-L6-v2/tokenizer.json', import.meta.url), 'utf8')) as {
    model: { vocab: Record<string, number> };
  };
  full.model.vocab = Object.fromEntries(Object.entries(full.model.vocab).filter(([, id]) => id < 1200));
  return full as unknown as Record<string, unknown>;
})();
const MINI_TOKENIZER_TEXT = JSON.stringify(MINI_TOKENIZER);
const CONFIG_TEXT = JSON.stringify({
  model_type: 'bert',
  vocab_size: 30522,
  hidden_size: 384,
  num_hidden_layers: 6,
  num_attention_heads: 12,
  intermediate_size: 1536,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  hidden_act: 'gelu',
});

/** Calls `f`; the outcome is a value or a DualbertError; anything else (or a slow call) fails the property. */
function outcome<T>(what: string, f: () => T): { ok: true; value: T } | { ok: false; error: DualbertError } {
  const t0 = performance.now();
  let result: { ok: true; value: T } | { ok: false; error: DualbertError };
  try {
    result = { ok: true, value: f() };
  } catch (e) {
    if (!(e instanceof DualbertError)) throw new Error(`${what} threw ${(e as Error)?.name}: ${(e as Error)?.message}`, { cause: e });
    if (!/\S/.test(e.message)) throw new Error(`${what} threw a DualbertError without a message`);
    result = { ok: false, error: e };
  }
  const ms = performance.now() - t0;
  if (ms > SLOW_MS) throw new Error(`${what} took ${ms.toFixed(0)} ms`);
  return result;
}

// ---- Byte-level mutations of a valid file ------------------------------------------------------

const flip = (seed: Uint8Array, region: number): fc.Arbitrary<Uint8Array> =>
  fc.array(fc.tuple(fc.nat(Math.max(0, Math.min(seed.length, region) - 1)), fc.nat(7)), { minLength: 1, maxLength: 8 }).map((flips) => {
    const b = seed.slice();
    for (const [i, bit] of flips) b[i]! ^= 1 << bit;
    return b;
  });

/** Truncations, bit flips (anywhere, or in the first `head` bytes where the structure is), overwritten and inserted runs, random bytes. */
function mutated(seed: Uint8Array, head: number): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.nat(seed.length).map((n) => seed.subarray(0, n)),
    flip(seed, seed.length),
    flip(seed, head),
    fc.tuple(fc.nat(Math.min(seed.length, head)), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([at, run]) => {
      const b = seed.slice();
      b.set(run.subarray(0, Math.max(0, b.length - at)), at);
      return b;
    }),
    fc.tuple(fc.nat(Math.min(seed.length, head)), fc.uint8Array({ minLength: 1, maxLength: 32 })).map(([at, run]) => {
      const b = new Uint8Array(seed.length + run.length);
      b.set(seed.subarray(0, at));
      b.set(run, at);
      b.set(seed.subarray(at), at + run.length);
      return b;
    }),
    fc.uint8Array({ maxLength: 2048 }),
  );
}

// ---- JSON-level mutations: a random value put at a random place of a document ------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path (list of keys / indexes) into a JSON value, up to `limit` of them. */
function paths(value: Json, limit = 4000): (string | number)[][] {
  const out: (string | number)[][] = [];
  const walk = (v: Json, path: (string | number)[]): void => {
    if (out.length >= limit) return;
    out.push(path);
    if (Array.isArray(v)) {
      for (const [i, x] of v.slice(0, 50).entries()) walk(x, [...path, i]);
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v).slice(0, 200)) walk(x, [...path, k]);
    }
  };
  walk(value, []);
  return out;
}

/** Nasty values for a field: wrong types, huge / negative / fractional numbers, deep structures. */
const nastyValue: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(-1, 0, 1.5, 2 ** 31, 2 ** 53, 1e300, -1e300, '', 'F64', 'I8', [], {}, [[]], [-1, 2], [0, 1e15], [1e9, 1e9, 1e9]),
);

function mutatedJson(doc: Json): fc.Arbitrary<Json> {
  const all = paths(doc);
  return fc.tuple(fc.constantFrom(...all), nastyValue, fc.boolean()).map(([path, value, remove]) => {
    const copy = structuredClone(doc);
    if (path.length === 0) return value;
    let parent = copy as Record<string | number, Json>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, Json>;
    const last = path.at(-1)!;
    if (remove && !Array.isArray(parent)) delete parent[last];
    else parent[last] = value;
    return copy;
  });
}

// ---- safetensors ----------------------------------------------------------------------------------

const headerLength = Number(new DataView(SAFETENSORS.buffer).getBigUint64(0, true));
const SAFETENSORS_HEADER = JSON.parse(new TextDecoder().decode(SAFETENSORS.subarray(8, 8 + headerLength))) as Json;
const SAFETENSORS_DATA = SAFETENSORS.subarray(8 + headerLength);

function withHeader(header: Json): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + SAFETENSORS_DATA.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(SAFETENSORS_DATA, 8 + text.length);
  return out;
}

function checkSafetensors(bytes: Uint8Array): void {
  const r = outcome('readSafetensors', () => readSafetensors(bytes));
  if (r.ok) {
    // Decoded values come from the file: at most one float per two input bytes (F16/BF16).
    const values = [...r.value.values()].reduce((a, t) => a + t.data.length, 0);
    expect(values).toBeLessThanOrEqual(bytes.byteLength / 2);
    for (const t of r.value.values()) expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
  }
  // The download check reads the same header: a verdict for any bytes, never an exception.
  const c = outcome('checkCompleteness', () => checkCompleteness('model.safetensors', bytes));
  expect(c.ok).toBe(true);
  // A file the format calls whole parses past the header-length check.
  if (c.ok && c.value.status === 'complete' && !r.ok) expect(r.error.message).not.toMatch(/does not fit a \d+-byte file/);
}

describe('fuzz: safetensors', () => {
  it('mutated bytes (truncations, bit flips, overwritten and inserted runs, random bytes)', () => {
    fc.assert(fc.property(mutated(SAFETENSORS, 8 + headerLength), checkSafetensors), { numRuns: runs(600), seed: 16001 });
  });

  it('a random JSON value anywhere in the header (shapes, offsets, dtypes, metadata)', () => {
    fc.assert(fc.property(mutatedJson(SAFETENSORS_HEADER).map(withHeader), checkSafetensors), { numRuns: runs(600), seed: 16002 });
  });

  it('a header length field that lies (small, huge, past the end)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (len) => {
        const b = SAFETENSORS.slice();
        new DataView(b.buffer).setBigUint64(0, len, true);
        checkSafetensors(b);
      }),
      { numRuns: runs(300), seed: 16003 },
    );
  });
});

// ---- ONNX -----------------------------------------------------------------------------------------

function checkOnnx(bytes: Uint8Array): void {
  // The wire reader throws ProtobufError, which its callers turn into INVALID_WEIGHTS naming the file.
  outcome('readFields', () => {
    let n = 0;
    try {
      for (const _ of readFields(bytes)) n++;
    } catch (e) {
      if (!(e instanceof ProtobufError)) throw e;
    }
    return n;
  });
  outcome('checkCompleteness', () => checkCompleteness('model.onnx', bytes));
  const parsed = outcome('parseOnnx', () => parseOnnx(bytes, 'm.onnx'));
  if (!parsed.ok) return;
  const r = outcome('readOnnxCheckpoint', () => readOnnxCheckpoint(parsed.value, MICRO, { file: 'm.onnx', warn: () => undefined }));
  if (r.ok) {
    // Every value decoded from the file takes at least one byte of it (int8).
    for (const t of r.value.values()) expect(t.data.length).toBeLessThanOrEqual(bytes.byteLength);
  }
}

describe('fuzz: ONNX (protobuf, and the graph walk that finds the BERT weights)', () => {
  for (const [style, seed] of Object.entries(ONNX_SEEDS)) {
    it(`mutated bytes of a ${style} export`, () => {
      fc.assert(fc.property(mutated(seed, seed.length), checkOnnx), { numRuns: runs(250), seed: 16010 + style.length });
    });
  }

  it('random initializers (dims incl. negative and huge, every data type, raw, typed or external data), decoded', () => {
    const dim = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom(-1, -(2 ** 40), 2 ** 31, 2 ** 40, 2 ** 53));
    const tensorProto = fc.record({
      dims: fc.array(dim, { maxLength: 3 }),
      dataType: fc.integer({ min: 0, max: 17 }),
      data: fc.oneof(
        fc.uint8Array({ maxLength: 64 }).map((raw) => ({ field: 9, raw })),
        fc.uint8Array({ maxLength: 64 }).map((raw) => ({ field: 4, raw })),
        fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 16 }).map((ints) => ({ field: 5, ints })),
        fc.array(fc.integer(), { maxLength: 16 }).map((ints) => ({ field: 7, ints })),
        fc
          .tuple(fc.constantFrom('0', '5', '-3', 'x', '1e300'), fc.constantFrom('0', '16', '-1', '', '99999999'))
          .map(([offset, length]) => ({ field: 13, offset, length })),
      ),
    });
    fc.assert(
      fc.property(tensorProto, ({ dims, dataType, data }) => {
        const w = new ProtoWriter().packedInts(1, dims).int(2, dataType).bytes(8, 'w');
        if ('offset' in data) {
          const entry = (k: string, v: string): unknown => new ProtoWriter().bytes(1, k).bytes(2, v);
          w.bytes(13, entry('location', 'x.bin')).bytes(13, entry('offset', data.offset)).bytes(13, entry('length', data.length)).int(14, 1);
        } else if ('raw' in data) w.bytes(data.field, data.raw);
        else w.packedInts(data.field, data.ints);
        const node = new ProtoWriter().bytes(1, 'w').bytes(2, 'y').bytes(4, 'Identity').finish();
        const graph = new ProtoWriter().bytes(1, node).bytes(5, w.finish()).finish();
        const parsed = outcome('parseOnnx', () => parseOnnx(new ProtoWriter().bytes(7, graph).finish(), 'm.onnx'));
        if (!parsed.ok) return;
        const external = new Uint8Array(32);
        const r = outcome('decodeOnnxTensor', () => decodeOnnxTensor(parsed.value.initializers.get('w')!, 'm.onnx', () => external));
        if (r.ok) expect(r.value.data.length).toBeLessThanOrEqual(64);
      }),
      { numRuns: runs(800), seed: 16012 },
    );
  });

  it('random protobuf-looking messages (valid tags, random wire types and lengths)', () => {
    const field = fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 7 }), fc.uint8Array({ maxLength: 24 }));
    fc.assert(
      fc.property(fc.array(field, { maxLength: 30 }), (fields) => {
        const parts: number[] = [];
        for (const [num, wire, payload] of fields) {
          parts.push((num << 3) | wire);
          if (wire === 2) parts.push(payload.length);
          parts.push(...payload);
        }
        checkOnnx(new Uint8Array(parts));
      }),
      { numRuns: runs(500), seed: 16011 },
    );
  });
});

// ---- tokenizer.json ---------------------------------------------------------------------------------

const someText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('Hello, world!', 'naïve café 東京 🤗', '[CLS] [SEP] [PAD]', ''),
);

function checkTokenizer(input: string | object, texts: string[]): void {
  const r = outcome('Tokenizer.fromTokenizerJson', () => Tokenizer.fromTokenizerJson(input));
  if (!r.ok) return;
  const tokenizer = r.value;
  for (const text of texts) {
    const e = outcome('encode', () => tokenizer.encode(text, { maxLength: 64 }));
    if (e.ok) {
      expect(e.value.ids.length).toBeLessThanOrEqual(64);
      for (const id of e.value.ids) expect(Number.isInteger(id) && id >= 0).toBe(true);
    }
  }
  outcome('encodeBatch', () => tokenizer.encodeBatch(texts, { maxLength: 64 }));
}

describe('fuzz: tokenizer.json', () => {
  it('a random JSON value anywhere in the file (normalizer, pre-tokenizer, model, padding, added tokens...), then encoding', () => {
    fc.assert(
      fc.property(mutatedJson(MINI_TOKENIZER as Json), fc.array(someText, { maxLength: 3 }), (doc, texts) => checkTokenizer(doc as object, texts)),
      { numRuns: runs(500), seed: 16020 },
    );
  });

  it('mutated bytes of the file (as text)', () => {
    const bytes = new TextEncoder().encode(MINI_TOKENIZER_TEXT);
    fc.assert(
      fc.property(mutated(bytes, 4000), someText, (b, text) => checkTokenizer(new TextDecoder().decode(b), [text])),
      { numRuns: runs(150), seed: 16021 },
    );
  });
});

// ---- config.json --------------------------------------------------------------------------------------

describe('fuzz: config.json', () => {
  it('a random JSON value anywhere in config.json, and mutated text', () => {
    const doc = JSON.parse(CONFIG_TEXT) as Json;
    fc.assert(
      fc.property(mutatedJson(doc), (d) => {
        const r = outcome('parseBertConfig', () => parseBertConfig(JSON.stringify(d)));
        if (r.ok) {
          for (const k of ['vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'intermediateSize', 'maxPositions', 'typeVocabSize'] as const) {
            expect(Number.isInteger(r.value[k]) && r.value[k] > 0).toBe(true);
          }
        }
      }),
      { numRuns: runs(400), seed: 16030 },
    );
    fc.assert(
      fc.property(mutated(new TextEncoder().encode(CONFIG_TEXT), 400), (b) => {
        outcome('parseBertConfig', () => parseBertConfig(new TextDecoder().decode(b)));
      }),
      { numRuns: runs(300), seed: 16031 },
    );
  });
});

// ---- the CLI's JSONL reader ----------------------------------------------------------------------------

describe('fuzz: JSONL reader (dualbert embed / tokenize input)', () => {
  const jsonLine = fc.oneof(
    fc.string().map((text) => JSON.stringify({ text })),
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 30 }),
    fc.constantFrom('', '   ', '\r', '{"text": 1}', '{"text": null}', '[]', 'null', '{"text":"a"}\r', '\uFEFF{"text":"b"}'),
  );
  it('random lines (valid, not JSON, wrong shapes, blank, CR, BOM), and random bytes decoded as UTF-8: one entry per non-blank line, in order', () => {
    fc.assert(
      fc.property(fc.array(jsonLine, { maxLength: 30 }), fc.boolean(), (lines, bom) => {
        const content = (bom ? '\uFEFF' : '') + lines.join('\n');
        const r = outcome('parseInput', () => parseInput(content));
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const body = content.charCodeAt(0) === 0xfeff ? content.slice(1) : content;
        const expected = body
          .split('\n')
          .map((l, i) => ({ l, line: i + 1 }))
          .filter(({ l }) => l.trim() !== '');
        expect(r.value.map((e) => e.line)).toEqual(expected.map((e) => e.line));
        for (const [i, entry] of r.value.entries()) {
          expect(entry.text !== undefined || entry.error !== undefined).toBe(true);
          if (entry.text !== undefined) expect(JSON.parse(expected[i]!.l)).toEqual({ ...JSON.parse(expected[i]!.l), text: entry.text });
        }
      }),
      { numRuns: runs(500), seed: 16040 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
        expect(outcome('parseInput', () => parseInput(new TextDecoder().decode(bytes))).ok).toBe(true);
      }),
      { numRuns: runs(300), seed: 16041 },
    );
  });
});
