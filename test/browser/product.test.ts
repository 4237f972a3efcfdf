/**
 * The product bundles in headless Chromium (/usr/bin/chromium, WebGPU on SwiftShader), as a page
 * uses them: device 'auto' with and without a GPU, the scalar (legacy) path, worker mode, a GPU
 * lost mid-session, and the single-file build. Every case checks the path taken and the vectors.
 */
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissingReason, hasChromium, launchChromium } from '../helpers/browser.js';
import { ensureBundlesBuilt } from '../helpers/build.js';
import { skipOrFail } from '../helpers/ci.js';
import { loadGolden } from '../helpers/golden.js';
import { type StaticServer, startStaticServer } from '../helpers/static-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const golden = loadGolden('tiny').texts.slice(0, 4).map((t) => t.mean);
// In-page imports go through new Function: vitest would rewrite a literal import() in page code.
const TEXTS = ['', '\t\n\r', 'HELLO WORLD', 'Ångström Ærø Œuvre ß straße']; // golden texts 0..3

let server: StaticServer;
beforeAll(async () => {
  ensureBundlesBuilt();
  server = await startStaticServer(ROOT, { crossOriginIsolated: true });
});
afterAll(async () => server?.close());

async function inPage<T>(webgpu: boolean, fn: (arg: { texts: string[]; golden: number[][] }) => Promise<T>): Promise<T> {
  const browser: Browser = await launchChromium({ webgpu });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.urlOf('test/browser/index.html'));
    const result = await page.evaluate(fn, { texts: TEXTS, golden });
    expect(errors).toEqual([]);
    return result;
  } finally {
    await browser.close();
  }
}

interface CaseResult {
  device: string;
  threads: number;
  maxDiff: number;
  warnings?: string[];
}

/**
 * Size budget (bytes): fails CI when a change makes a bundle or wasm build grow past it. Raised
 * from 480/600 kB when the tokenizers of every encoder family landed (BPE, Unigram, the
 * SentencePiece charsmap, Oniguruma-compatible regexes and their Unicode classes: ~150 kB), then
 * for rerankers, embedding outputs and the encoder-family graphs (~120 kB; measured 666/706 kB),
 * then past 720/760 kB with int8 WebGPU kernels and batch pipelining. Since 2026-12-01 the bundles
 * are minified (terser, names of classes and functions kept): measured 359/415 kB.
 */
const BUDGET = { esmJs: 420_000, singleFile: 480_000, wasmEach: 32_000 };

describe('product bundles in Chromium', () => {
  it('stay within the size budget', () => {
    const dir = new URL('../../dist/browser/', import.meta.url);
    const files = readdirSync(dir).filter((f) => statSync(new URL(f, dir)).isFile());
    const size = (f: string): number => statSync(new URL(f, dir)).size;
    const esm = files.filter((f) => f.endsWith('.js') && f !== 'dualbert.inline.js').reduce((n, f) => n + size(f), 0);
    const wasm = files.filter((f) => f.endsWith('.wasm'));
    console.log(`[bundle sizes] ESM js ${esm} B, single file ${size('dualbert.inline.js')} B, wasm ${wasm.map((f) => `${f} ${size(f)} B`).join(', ')}`);
    expect(wasm.length).toBeGreaterThanOrEqual(4); // simd, scalar and their threaded twins at least
    expect(esm).toBeLessThanOrEqual(BUDGET.esmJs);
    expect(size('dualbert.inline.js')).toBeLessThanOrEqual(BUDGET.singleFile);
    for (const f of wasm) expect(size(f), f).toBeLessThanOrEqual(BUDGET.wasmEach);
  });

  it('with WebGPU (SwiftShader): auto, webgpu, scalar wasm, worker mode, GPU lost, single-file build', async (ctx) => {
    if (!hasChromium()) skipOrFail(ctx, chromiumMissingReason());
    const r = await inPage(true, async ({ texts, golden }) => {
      type Lib = typeof import('../../ts/index.js');
      const lib = (await new Function('u', 'return import(u)')('/dist/browser/dualbert.js')) as Lib;
      const diff = (data: Float32Array): number => {
        let m = 0;
        golden.forEach((g, i) => g.forEach((v, c) => (m = Math.max(m, Math.abs(data[i * g.length + c]! - v)))));
        return m;
      };
      const run = async (options: Parameters<Lib['createEmbedder']>[1]): Promise<{ device: string; threads: number; maxDiff: number }> => {
        const e = await lib.createEmbedder('synthetic:tiny', options);
        const out = { device: e.device, threads: e.threads, maxDiff: diff((await e.embed(texts)).data) };
        e.dispose();
        return out;
      };
      const caps = await lib.capabilities();
      const adapter = (await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' }))!;
      const fallbackAdapter = (adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;

      // GPU lost mid-session: our own device, destroyed between two calls.
      const device = await adapter.requestDevice({
        requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
      });
      const warnings: string[] = [];
      const lossy = await lib.createEmbedder('synthetic:tiny', { device: 'auto', webgpu: { device }, onWarning: (w) => warnings.push(w.code) });
      const before = { device: lossy.device, maxDiff: diff((await lossy.embed(texts)).data) };
      device.destroy();
      const afterData = (await lossy.embed(texts)).data; // this call meets the lost device
      const after = { device: lossy.device, maxDiff: diff(afterData), threads: lossy.threads, warnings };
      lossy.dispose();

      const inline = (await new Function('u', 'return import(u)')('/dist/browser/dualbert.inline.js')) as Lib;
      const single = await inline.createEmbedder('synthetic:tiny', { device: 'wasm', threads: 1 });
      const singleFile = { device: single.device, threads: single.threads, maxDiff: diff((await single.embed(texts)).data) };
      single.dispose();

      return {
        caps,
        fallbackAdapter,
        auto: await run({ device: 'auto' }),
        autoAllowingFallback: await run({ device: 'auto', allowFallbackAdapter: true }),
        webgpu: await run({ device: 'webgpu' }),
        scalar: await run({ device: 'wasm', wasm: { simd: false } }),
        threaded: await run({ device: 'wasm', threads: 2 }),
        worker: await run({ device: 'wasm', worker: true } as never),
        before,
        after,
        singleFile,
      };
    });
    expect(r.caps.webgpu.available).toBe(true);
    expect(r.caps.wasm.simd).toBe(true);
    expect(r.caps.crossOriginIsolated).toBe(true);
    // auto: WebGPU on a hardware adapter; on a software fallback adapter the wasm path is faster.
    expect(r.auto.device).toBe(r.fallbackAdapter ? 'wasm' : 'webgpu');
    expect(r.autoAllowingFallback.device).toBe('webgpu');
    expect(r.webgpu.device).toBe('webgpu');
    expect(r.scalar.device).toBe('wasm');
    expect(r.threaded.threads).toBe(2); // crossOriginIsolated page: wasm threads in Web Workers
    expect(r.worker.device).toBe('wasm');
    expect(r.before.device).toBe('webgpu');
    expect(r.after.device).toBe('wasm');
    expect(r.after.warnings).toEqual(['GPU_FALLBACK']);
    expect(r.singleFile.device).toBe('wasm');
    for (const [name, c] of Object.entries(r).filter(([, v]) => typeof v === 'object' && v && 'maxDiff' in v) as [string, CaseResult][]) {
      expect(c.maxDiff, name).toBeLessThanOrEqual(1e-5);
    }
  });

  it('without WebGPU and without cross-origin isolation: auto takes single-threaded wasm', async (ctx) => {
    if (!hasChromium()) skipOrFail(ctx, chromiumMissingReason());
    const plain = await startStaticServer(ROOT); // no COOP/COEP: no SharedArrayBuffer, no threads
    try {
      const browser = await launchChromium({ webgpu: false });
      try {
        const page = await browser.newPage();
        await page.goto(plain.urlOf('test/browser/index.html'));
        const r = await page.evaluate(
          async ({ texts, golden }) => {
            const lib = (await new Function('u', 'return import(u)')('/dist/browser/dualbert.js')) as typeof import('../../ts/index.js');
            const caps = await lib.capabilities();
            const e = await lib.createEmbedder('synthetic:tiny', { device: 'auto' });
            const { data } = await e.embed(texts);
            let maxDiff = 0;
            golden.forEach((g, i) => g.forEach((v, c) => (maxDiff = Math.max(maxDiff, Math.abs(data[i * g.length + c]! - v)))));
            const out = { caps, device: e.device, threads: e.threads, maxDiff };
            e.dispose();
            return out;
          },
          { texts: TEXTS, golden },
        );
        expect(r.caps.webgpu.available).toBe(false);
        expect(r.caps.wasm.threads).toBe(false);
        expect(r.device).toBe('wasm');
        expect(r.threads).toBe(1);
        expect(r.maxDiff).toBeLessThanOrEqual(1e-5);
      } finally {
        await browser.close();
      }
    } finally {
      await plain.close();
    }
  });
});
