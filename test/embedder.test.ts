/**
 * The embedder's batching: length-sorted buckets give exactly what one-text-at-a-time gives, in
 * input order; streaming with embedBatches; cancellation; overlapping calls.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, type Embedder } from '../ts/index.js';
import { loadGolden, maxAbsDiff } from './helpers/golden.js';
import { writeTinyModelDir } from './helpers/model-dir.js';

const golden = loadGolden('tiny');
const texts = readFileSync(new URL('./fixtures/golden/texts.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => (JSON.parse(l) as { text: string }).text);
const C = 64;

let embedder: Embedder;
let singles: Float32Array[];
beforeAll(async () => {
  embedder = await createEmbedder('synthetic:tiny', { device: 'reference' });
  singles = [];
  for (const t of texts) singles.push((await embedder.embed([t])).data);
});
afterAll(() => embedder.dispose());

const row = (data: Float32Array, i: number): Float32Array => data.subarray(i * C, (i + 1) * C);

describe('embed batching', () => {
  it('length-sorted batches give bit-identical vectors to single texts, in input order', async () => {
    for (const batchSize of [1, 3, 8, 41]) {
      const { data } = await embedder.embed(texts, { batchSize });
      texts.forEach((_, i) => expect(Array.from(row(data, i)), `text ${i}, batchSize ${batchSize}`).toEqual(Array.from(singles[i]!)));
    }
    texts.forEach((_, i) => expect(maxAbsDiff(singles[i]!, golden.texts[i]!.mean)).toBeLessThanOrEqual(1e-6));
  });

  it('a tokenizer that pads on the left (tokenizer.json) still gives the golden vectors', async () => {
    const dir = writeTinyModelDir();
    const path = join(dir, 'tokenizer.json');
    const json = JSON.parse(readFileSync(path, 'utf8')) as { padding: Record<string, unknown> };
    json.padding = { ...json.padding, direction: 'Left', pad_to_multiple_of: 8 };
    writeFileSync(path, JSON.stringify(json));
    const e = await createEmbedder(dir, { device: 'reference' });
    expect(e.tokenizer.encodeBatch(['a', 'a b c']).ids[0]).toBe(0); // really left-padded
    const { data } = await e.embed(texts, { batchSize: 8 });
    texts.forEach((_, i) => expect(maxAbsDiff(row(data, i), golden.texts[i]!.mean), `text ${i}`).toBeLessThanOrEqual(1e-6));
    e.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('embedBatches', () => {
  it('streams an array in input order with offsets, each batch equal to single-text results', async () => {
    const seen: number[] = [];
    for await (const { data, dims, offset } of embedder.embedBatches(texts, { batchSize: 5, lookaheadBatches: 2 })) {
      expect(dims[1]).toBe(C);
      expect(dims[0]).toBe(Math.min(5, texts.length - offset));
      expect(data.length).toBe(dims[0] * C);
      for (let i = 0; i < dims[0]; i++) expect(Array.from(row(data, i))).toEqual(Array.from(singles[offset + i]!));
      seen.push(offset);
    }
    expect(seen).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40]);
  });

  it('streams an async iterable', async () => {
    async function* source(): AsyncGenerator<string> {
      for (const t of texts.slice(0, 13)) {
        await new Promise((r) => setTimeout(r, 1));
        yield t;
      }
    }
    let count = 0;
    for await (const { data, dims, offset } of embedder.embedBatches(source(), { batchSize: 4 })) {
      for (let i = 0; i < dims[0]; i++) expect(Array.from(row(data, i))).toEqual(Array.from(singles[offset + i]!));
      count += dims[0];
    }
    expect(count).toBe(13);
  });

  it('stops between batches when the signal aborts, and the embedder keeps working', async () => {
    const controller = new AbortController();
    const offsets: number[] = [];
    const consume = async (): Promise<void> => {
      for await (const { offset } of embedder.embedBatches(texts, { batchSize: 4, lookaheadBatches: 1, signal: controller.signal })) {
        offsets.push(offset);
        if (offsets.length === 2) controller.abort();
      }
    };
    await expect(consume()).rejects.toMatchObject({ name: 'AbortError' });
    expect(offsets).toEqual([0, 4]);
    const { data } = await embedder.embed(texts.slice(0, 2));
    expect(Array.from(row(data, 1))).toEqual(Array.from(singles[1]!));
  });

  it('rejects non-string items and bad options with clear errors', async () => {
    const bad = async (): Promise<void> => {
      for await (const _ of embedder.embedBatches(['ok', 7 as never])) void _;
    };
    await expect(bad()).rejects.toThrow(/text 1 is number/);
    const badOption = async (): Promise<void> => {
      for await (const _ of embedder.embedBatches(['ok'], { lookaheadBatches: 0 })) void _;
    };
    await expect(badOption()).rejects.toThrow(/lookaheadBatches must be a positive integer/);
  });
});

describe('concurrency', () => {
  it('50 overlapping calls of mixed sizes all complete with the sequential results', async () => {
    const calls = Array.from({ length: 50 }, (_, k) => {
      const start = (k * 7) % texts.length;
      const size = 1 + ((k * 13) % 9);
      return Array.from({ length: size }, (_, j) => (start + j) % texts.length);
    });
    const results = await Promise.all(calls.map((idx, k) => embedder.embed(idx.map((i) => texts[i]!), { batchSize: 1 + (k % 4) })));
    results.forEach((r, k) => {
      expect(r.dims).toEqual([calls[k]!.length, C]);
      calls[k]!.forEach((ti, j) => expect(Array.from(row(r.data, j)), `call ${k} row ${j}`).toEqual(Array.from(singles[ti]!)));
    });
  });
});
