// The library in headless Chromium (system /usr/bin/chromium, WebGPU on SwiftShader): a page
// imports the product bundle (dist/browser/dualbert.js) and embeds the golden texts with device
// 'webgpu' through navigator.gpu; without the WebGPU flags (no adapter) the same call is a
// DEVICE_UNAVAILABLE.

import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissingReason, hasChromium, launchChromium } from '../helpers/browser.js';
import { skipOrFail } from '../helpers/ci.js';
import { ensureBundlesBuilt } from '../helpers/build.js';
import { type StaticServer, startStaticServer } from '../helpers/static-server.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAGE = 'test/browser/index.html';

const bundle = 'dist/browser/dualbert.js';
let server: StaticServer | null = null;

beforeAll(async () => {
  ensureBundlesBuilt();
  server = await startStaticServer(REPO_ROOT);
});
afterAll(async () => {
  await server?.close();
});

async function withBrowser<T>(webgpu: boolean, fn: (b: Browser) => Promise<T>): Promise<T> {
  const browser = await launchChromium({ webgpu });
  try {
    return await fn(browser);
  } finally {
    await browser.close();
  }
}

describe('dualbert in headless Chromium (webgpu)', () => {
  it("createEmbedder('synthetic:tiny', { device: 'webgpu' }) in a page gives the golden vectors", async (ctx) => {
    if (!hasChromium()) skipOrFail(ctx, chromiumMissingReason());
    await withBrowser(true, async (browser) => {
      const page = await browser.newPage();
      const consoleErrors: string[] = [];
      page.on('pageerror', (e) => consoleErrors.push(String(e)));
      await page.goto(server!.urlOf(PAGE));
      const result = await page.evaluate(async (bundlePath) => {
        // import() through Function: vitest rewrites a literal import() in this (serialized) body.
        const lib = (await new Function('p', 'return import(p)')(bundlePath)) as typeof import('../../ts/index.js');
        const golden = (await (await fetch('/test/fixtures/golden/tiny.json')).json()) as { texts: { mean: number[] }[] };
        const texts = (await (await fetch('/test/fixtures/golden/texts.jsonl')).text())
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => (JSON.parse(l) as { text: string }).text);
        const adapter = await navigator.gpu.requestAdapter();
        const embedder = await lib.createEmbedder('synthetic:tiny', { device: 'webgpu' });
        try {
          const { data, dims } = await embedder.embed(texts, { batchSize: 16 });
          let maxAbs = 0;
          golden.texts.forEach((g, i) => g.mean.forEach((v, c) => (maxAbs = Math.max(maxAbs, Math.abs(data[i * 64 + c]! - v)))));
          return { device: embedder.device, dims, maxAbs, adapter: adapter?.info.architecture, texts: texts.length };
        } finally {
          embedder.dispose();
        }
      }, `/${bundle}`);
      expect(consoleErrors).toEqual([]);
      expect(result.device).toBe('webgpu');
      expect(result.adapter).toBe('swiftshader');
      expect(result.dims).toEqual([result.texts, 64]);
      expect(result.maxAbs).toBeLessThanOrEqual(1e-5);
      console.log(`[webgpu chromium tiny] ${result.texts} texts: max |Δ| ${result.maxAbs.toExponential(2)}`);
    });
  });

  it("without a usable GPU, device 'webgpu' is a DEVICE_UNAVAILABLE error naming the cause", async (ctx) => {
    if (!hasChromium()) skipOrFail(ctx, chromiumMissingReason());
    await withBrowser(false, async (browser) => {
      const page = await browser.newPage();
      await page.goto(server!.urlOf(PAGE));
      const result = await page.evaluate(async (bundlePath) => {
        // import() through Function: vitest rewrites a literal import() in this (serialized) body.
        const lib = (await new Function('p', 'return import(p)')(bundlePath)) as typeof import('../../ts/index.js');
        try {
          await lib.createEmbedder('synthetic:tiny', { device: 'webgpu' });
          return { code: 'none', message: '' };
        } catch (e) {
          return { code: (e as { code?: string }).code ?? 'not a DualbertError', message: String((e as Error).message) };
        }
      }, `/${bundle}`);
      expect(result.code).toBe('DEVICE_UNAVAILABLE');
      expect(result.message).toMatch(/found no adapter/);
    });
  });
});
