/**
 * Loading from a hub mirror in headless Chromium, through the built package: progress events,
 * the Cache API (a second page load makes no request, offline works), golden vectors.
 */
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissingReason, hasChromium, launchChromium } from './helpers/browser.js';
import { ensureDistBuilt } from './helpers/build.js';
import { skipOrFail } from './helpers/ci.js';
import { loadGolden, maxAbsDiff } from './helpers/golden.js';
import { writeTinyModelDir } from './helpers/model-dir.js';
import { type ModelServer, startModelServer } from './helpers/model-server.js';
import { type StaticServer, startStaticServer } from './helpers/static-server.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const golden = loadGolden('tiny');
const texts = readFileSync(new URL('./fixtures/golden/texts.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => (JSON.parse(l) as { text: string }).text)
  .slice(2, 5);

let pages: StaticServer | undefined;
let hub: ModelServer | undefined;
let modelDir: string | undefined;

beforeAll(async () => {
  if (!hasChromium()) return;
  ensureDistBuilt();
  modelDir = writeTinyModelDir();
  hub = await startModelServer({ 'acme/tiny': modelDir });
  pages = await startStaticServer(REPO_ROOT);
});
afterAll(async () => {
  await hub?.close();
  await pages?.close();
  if (modelDir) rmSync(modelDir, { recursive: true, force: true });
});

interface PageResult {
  vectors: number[][];
  events: string[];
  cached: string[];
  error?: string;
}

describe('browser: hub model with the Cache API and OPFS', () => {
  it('downloads with progress, caches, reloads with no request, works offline, gives the golden vectors; large files in OPFS', async (ctx) => {
    if (!hasChromium()) skipOrFail(ctx, chromiumMissingReason());
    const browser = await launchChromium({ webgpu: false });
    try {
      const context = await browser.newContext();
      const run = async (offline: boolean, opfsAbove?: number): Promise<PageResult> => {
        const page = await context.newPage();
        await page.goto(pages!.urlOf('test/browser/index.html'));
        const result = await page.evaluate(
          async ({ host, texts, offline, opfsAbove }) => {
            const events: string[] = [];
            try {
              // Through Function: the test transform would rewrite a literal import() in this page function.
              const m = await (new Function('u', 'return import(u)') as (u: string) => Promise<any>)('/dist/index.js');
              const embedder = await m.createEmbedder('acme/tiny', {
                remote_host: host,
                offline,
                ...(opfsAbove ? { cache: m.browserCache('opfs-test', { opfsAbove }) } : {}),
                device: 'reference',
                progress_callback: (e: { status: string; file?: string }) => events.push(`${e.status}:${e.file ?? ''}`),
              });
              const { data, dims } = await embedder.embed(texts);
              const vectors = Array.from({ length: dims[0] }, (_, i) => Array.from(data.subarray(i * dims[1], (i + 1) * dims[1])));
              const cached = (await (await caches.open(opfsAbove ? 'opfs-test' : 'dualbert')).keys()).map((r) => new URL(r.url).pathname);
              if (opfsAbove) {
                // Files at or above the threshold are in OPFS: opfs-test/<host>/acme/tiny/resolve/main/<file>.
                let dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('opfs-test');
                for (const s of [new URL(host).host.replace(':', '_'), 'acme', 'tiny', 'resolve', 'main']) dir = await dir.getDirectoryHandle(s);
                for await (const key of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) cached.push(`opfs:${key}`);
              }
              return { vectors, events, cached };
            } catch (e) {
              return { vectors: [], events, cached: [], error: `${(e as Error).name}: ${(e as Error).message}` };
            }
          },
          { host: hub!.url, texts, offline, opfsAbove },
        );
        await page.close();
        return result as PageResult;
      };

      const first = await run(false);
      expect(first.error).toBeUndefined();
      first.vectors.forEach((v, i) => expect(maxAbsDiff(v, golden.texts[2 + i]!.mean), `text ${i}`).toBeLessThanOrEqual(1e-6));
      expect(first.events).toContain('download:model.safetensors');
      expect(first.events).toContain('progress:model.safetensors');
      expect(first.events.at(-1)).toBe('ready:');
      expect(first.cached).toContain('/acme/tiny/resolve/main/model.safetensors');
      expect(hub!.count('/resolve/main/model.safetensors')).toBe(1);

      hub!.requests.length = 0;
      const second = await run(false);
      expect(second.error).toBeUndefined();
      expect(hub!.requests).toEqual([]);
      expect(second.events.some((e) => e.startsWith('download:'))).toBe(false);
      expect(second.vectors).toEqual(first.vectors);

      const offline = await run(true);
      expect(offline.error).toBeUndefined();
      expect(hub!.requests).toEqual([]);

      // Large files in the origin private file system, small ones in the Cache API.
      const opfs = await run(false, 1_000_000);
      expect(opfs.error).toBeUndefined();
      expect(opfs.cached).toContain('opfs:model.safetensors');
      expect(opfs.cached).toContain('opfs:model.safetensors.dualbert-meta.json');
      expect(opfs.cached).not.toContain('/acme/tiny/resolve/main/model.safetensors');
      expect(opfs.cached).toContain('/acme/tiny/resolve/main/config.json');
      expect(opfs.vectors).toEqual(first.vectors);
      hub!.requests.length = 0;
      const opfsAgain = await run(true, 1_000_000);
      expect(opfsAgain.error).toBeUndefined();
      expect(hub!.requests).toEqual([]);
      expect(opfsAgain.vectors).toEqual(first.vectors);
    } finally {
      await browser.close();
    }
  });
});
