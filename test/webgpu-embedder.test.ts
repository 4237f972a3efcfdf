/**
 * The webgpu path end to end in Node (Dawn; SwiftShader on CPU-only machines): createEmbedder
 * with device 'webgpu' on raw text against the golden vectors, and `dualbert embed --device
 * webgpu` on the synthetic model and on a model directory.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from 'vitest';
import { createEmbedder } from '../ts/index.js';
import { ROOT, ensureDistBuilt } from './helpers/build.js';
import { skipOrFail } from './helpers/ci.js';
import { loadGolden, maxAbsDiff } from './helpers/golden.js';
import { writeTinyModelDir } from './helpers/model-dir.js';
import { getNodeGpuAdapter, noAdapterHint, releaseNodeGpu } from './helpers/webgpu.js';

const TOLERANCE = 1e-5;
const golden = loadGolden('tiny');
const lines = readFileSync(join(ROOT, 'test/fixtures/golden/texts.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim());
const texts = lines.map((l) => (JSON.parse(l) as { text: string }).text);

let hasAdapter = false;
let modelDir = '';
beforeAll(async () => {
  hasAdapter = (await getNodeGpuAdapter()) !== null;
  releaseNodeGpu();
  ensureDistBuilt();
  modelDir = writeTinyModelDir();
});
afterAll(() => rmSync(modelDir, { recursive: true, force: true }));

function requireGpu(ctx: TestContext): void {
  if (!hasAdapter) skipOrFail(ctx, noAdapterHint());
}

function cli(args: string[], input: string): { code: number | null; stdout: string; stderr: string } {
  // The test process's environment carries VK_ICD_FILENAMES / LD_LIBRARY_PATH for SwiftShader.
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'dualbert.js'), ...args], { input, encoding: 'utf8', cwd: ROOT, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const embeddings = (stdout: string): number[][] =>
  stdout
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { embedding: number[] }).embedding);

describe('webgpu end to end in Node', () => {
  it("createEmbedder('synthetic:tiny', { device: 'webgpu' }) gives the golden vectors from raw text", async (ctx) => {
    requireGpu(ctx);
    const embedder = await createEmbedder('synthetic:tiny', { device: 'webgpu' });
    try {
      expect(embedder.device).toBe('webgpu');
      const { data, dims } = await embedder.embed(texts, { batchSize: 8 });
      expect(dims).toEqual([texts.length, 64]);
      let worst = 0;
      golden.texts.forEach((g, i) => {
        const d = maxAbsDiff(data.subarray(i * 64, (i + 1) * 64), g.mean);
        expect(d, `text ${i}`).toBeLessThanOrEqual(TOLERANCE);
        worst = Math.max(worst, d);
      });
      console.log(`[webgpu embedder tiny] ${texts.length} texts, batches of 8: max |Δ| ${worst.toExponential(2)}`);
    } finally {
      embedder.dispose();
    }
  });

  it('batches overlap on the GPU (batch i + 1 submitted before batch i is read back), kernels compiled at creation (warmUp async): golden vectors, no pipeline compiled by embed(), calls and bind groups reused for shapes seen before', async (ctx) => {
    requireGpu(ctx);
    const embedder = await createEmbedder('synthetic:tiny', { device: 'webgpu', webgpu: { tuning: { warmUp: 'async' } } });
    try {
      const compiled = embedder.stats().webgpu!.pipelines;
      expect(compiled).toBeGreaterThan(0);
      // Uneven batches (13 texts in batches of 3) of different lengths, then one short text.
      const subset = texts.slice(0, 13);
      const { data } = await embedder.embed(subset, { batchSize: 3 });
      const single = await embedder.embed(subset[5]!);
      const stats = embedder.stats().webgpu!;
      expect(stats.pipelines, 'variants compiled after creation').toBe(compiled);
      expect(stats.readbackBuffers, 'two batches in flight at once').toBeGreaterThanOrEqual(2);
      // The same shapes again: calls, uniforms and bind groups reused (none made), same bits.
      const again = await embedder.embed(subset, { batchSize: 3 });
      expect(embedder.stats().webgpu!.bindGroups, 'no bind group made for shapes seen before').toBe(stats.bindGroups);
      expect(again.data).toEqual(data);
      subset.forEach((_, i) => expect(maxAbsDiff(data.subarray(i * 64, (i + 1) * 64), golden.texts[i]!.mean), `text ${i}`).toBeLessThanOrEqual(TOLERANCE));
      expect(maxAbsDiff(single.data, golden.texts[5]!.mean)).toBeLessThanOrEqual(TOLERANCE);
    } finally {
      embedder.dispose();
    }
  });

  it('dualbert embed --device webgpu on synthetic:tiny gives the golden vectors, in order', (ctx) => {
    requireGpu(ctx);
    const r = cli(['embed', '--model', 'synthetic:tiny', '--device', 'webgpu', '--batch-size', '16'], lines.join('\n'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = embeddings(r.stdout);
    expect(rows.length).toBe(golden.texts.length);
    rows.forEach((row, i) => expect(maxAbsDiff(row, golden.texts[i]!.mean), `line ${i + 1}`).toBeLessThanOrEqual(TOLERANCE));
  });

  it('dualbert embed --device webgpu on a model directory, cls pooling without normalization', (ctx) => {
    requireGpu(ctx);
    const r = cli(['embed', '--model', modelDir, '--device', 'webgpu', '--pooling', 'cls', '--no-normalize'], lines.slice(0, 6).join('\n'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    embeddings(r.stdout).forEach((row, i) => {
      const want = golden.texts[i]!.cls;
      expect(maxAbsDiff(row, want) / Math.max(...want.map(Math.abs)), `line ${i + 1}`).toBeLessThanOrEqual(TOLERANCE);
    });
  });
});
