/**
 * Long-run reliability: 10,000 texts of mixed lengths through the wasm path, and a smaller run on
 * WebGPU (SwiftShader). After a warm-up, memory stops growing (wasm linear memory, process RSS;
 * GPU buffers and activation buckets) and a second pass gives bit-identical vectors.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEmbedder, type Embedder } from '../ts/index.js';
import { skipOrFail } from './helpers/ci.js';
import { rng } from './helpers/op-parity.js';
import { getNodeGpu, getNodeGpuAdapter, noAdapterHint } from './helpers/webgpu.js';

const corpus = readFileSync(new URL('./fixtures/corpus-texts.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => (JSON.parse(l) as { text: string }).text);

/** n texts: corpus texts cut at random lengths and joined, so lengths (and batch shapes) vary widely. */
function mixedTexts(n: number, seed: number, maxChars = Infinity): string[] {
  const random = rng(seed);
  return Array.from({ length: n }, () => {
    const t = corpus[Math.floor(random() * corpus.length)]!;
    const u = corpus[Math.floor(random() * corpus.length)]!;
    const joined = random() < 0.2 ? `${t} ${u} ${t}` : t;
    return joined.slice(0, 1 + Math.floor(random() * Math.min(joined.length, maxChars)));
  });
}

async function embedAll(embedder: Embedder, texts: string[], batchSize: number): Promise<Float32Array> {
  const out = new Float32Array(texts.length * embedder.dimension);
  for await (const { data, offset } of embedder.embedBatches(texts, { batchSize })) out.set(data, offset * embedder.dimension);
  return out;
}

const MiB = 2 ** 20;

describe('long run', () => {
  it('wasm: 10,000 mixed texts — memory flat after warm-up, second pass identical', async () => {
    const embedder = await createEmbedder('synthetic:tiny', { device: 'wasm' });
    const texts = mixedTexts(10_000, 7);
    const warm = texts.slice(0, 2_000);
    const first = await embedAll(embedder, warm, 32);
    (globalThis as { gc?: () => void }).gc?.();
    const memoryAfterWarmup = embedder.stats().wasmMemoryBytes!;
    const rssAfterWarmup = process.memoryUsage().rss;

    const samples: { wasm: number; rss: number }[] = [];
    for (let start = 2_000; start < texts.length; start += 2_000) {
      await embedAll(embedder, texts.slice(start, start + 2_000), 32);
      samples.push({ wasm: embedder.stats().wasmMemoryBytes!, rss: process.memoryUsage().rss });
    }
    const again = await embedAll(embedder, warm, 32);
    const last = samples.at(-1)!;
    console.log(
      `[long run wasm] ${texts.length} texts, threads ${embedder.threads}: wasm memory ${(memoryAfterWarmup / MiB).toFixed(1)} MiB after warm-up → ` +
        `${(last.wasm / MiB).toFixed(1)} MiB at the end; RSS ${(rssAfterWarmup / MiB).toFixed(0)} → ${samples.map((s) => (s.rss / MiB).toFixed(0)).join(' → ')} MiB`,
    );
    // The arena is sized by the largest (batch, seq) seen; the warm-up covers the longest texts.
    expect(samples.every((s) => s.wasm === memoryAfterWarmup)).toBe(true);
    // RSS: no steady growth (a leak of even 1 KB per text would add ~8 MB over 8,000 texts).
    expect(last.rss - rssAfterWarmup).toBeLessThan(48 * MiB);
    expect(Array.from(again)).toEqual(Array.from(first));
    embedder.dispose();
  });

  it('webgpu: mixed shapes do not grow the buffer pool after warm-up; second pass identical', async (ctx) => {
    if (!(await getNodeGpuAdapter())) skipOrFail(ctx, noAdapterHint());
    const embedder = await createEmbedder('synthetic:tiny', { device: 'webgpu', webgpu: { gpu: getNodeGpu() } });
    // SwiftShader runs WGSL on the CPU slowly: a few shapes, short texts (the bucket logic is the same).
    const texts = mixedTexts(32, 11, 300);
    const first = await embedAll(embedder, texts, 8);
    const warm = embedder.stats().webgpu!;
    const second = await embedAll(embedder, mixedTexts(32, 12, 300), 8);
    const again = await embedAll(embedder, texts, 8);
    const after = embedder.stats().webgpu!;
    console.log(`[long run webgpu] buckets ${JSON.stringify(warm.buckets)} → ${JSON.stringify(after.buckets)}, buffers created ${warm.buffersCreated} → ${after.buffersCreated}, pipelines ${warm.pipelines} → ${after.pipelines}`);
    expect(second.length).toBe(32 * embedder.dimension);
    expect(after.buffersCreated).toBe(warm.buffersCreated);
    expect(after.buckets).toEqual(warm.buckets);
    expect(after.pipelines).toBe(warm.pipelines);
    expect(Array.from(again)).toEqual(Array.from(first));
    embedder.dispose();
  });
});
