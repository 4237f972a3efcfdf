/**
 * The parity/benchmark dashboard (bench/dashboard/, served by scripts/dashboard.mjs) in headless
 * Chromium with WebGPU on SwiftShader: the tiny model on every path with small sizes; every
 * parity cell within tolerance, the charts drawn with data, a screenshot in test/artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissingReason, hasChromium, launchChromium } from '../helpers/browser.js';
import { ensureBundlesBuilt } from '../helpers/build.js';
import { skipOrFail } from '../helpers/ci.js';
// @ts-expect-error plain JS module of the dashboard (JSDoc-typed)
import { startDashboardServer } from '../../scripts/dashboard.mjs';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

interface DashboardServer {
  dashboardUrl: string;
  close(): Promise<void>;
}
interface PathResult {
  name: string;
  error?: string;
  cold: number | null;
  wallMs?: number;
  timings: { batch: number; seqLen: number; ms: number; tokensPerSecond: number }[];
}
interface Results {
  paths: PathResult[];
  skipped: { name: string; reason: string }[];
  parity: { a: string; b: string; maxDiff: number; minCos: number; ok: boolean }[];
}

let server: DashboardServer;
beforeAll(async () => {
  ensureBundlesBuilt();
  server = (await startDashboardServer({ port: 0 })) as DashboardServer;
});
afterAll(async () => server?.close());

describe('dashboard in Chromium', () => {
  it('runs tiny on every path: parity within tolerance, charts drawn, screenshot saved', async (ctx) => {
    if (!hasChromium()) skipOrFail(ctx, chromiumMissingReason());
    const browser = await launchChromium({ webgpu: true });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.dashboardUrl}?model=tiny&batches=1,2&seqlens=8&threads=2&runs=2&golden=4&autorun=1`);
      await page.waitForFunction(() => (window as unknown as { dashboard?: { status: string } }).dashboard?.status === 'done' || (window as unknown as { dashboard?: { status: string } }).dashboard?.status === 'error', undefined, { timeout: 90_000 });
      const state = (await page.evaluate(() => {
        const d = (window as unknown as { dashboard: { status: string; error: string | null; results: unknown } }).dashboard;
        return { status: d.status, error: d.error, results: d.results };
      })) as { status: string; error: string | null; results: Results };
      expect(state.error).toBeNull();
      expect(errors).toEqual([]);
      const r = state.results;
      const names = r.paths.map((p) => p.name);
      console.log(`[dashboard] paths ${r.paths.map((p) => `${p.name} (cold ${Math.round(p.cold ?? 0)} ms, all ${Math.round(p.wallMs ?? 0)} ms)`).join(', ')}; skipped ${JSON.stringify(r.skipped)}`);
      for (const p of r.paths) expect(p.error, p.name).toBeUndefined();
      expect(names).toEqual(expect.arrayContaining(['webgpu', 'wasm simd 1t', 'wasm simd 2t', 'wasm scalar', 'reference f64', 'ort-web wasm']));
      for (const p of r.paths) expect(p.timings.length, p.name).toBe(2);
      // every pair of paths, and every path against the float64 golden
      expect(r.parity.length).toBe(names.length * names.length);
      for (const c of r.parity) expect(c.maxDiff, `${c.a} vs ${c.b}`).toBeLessThanOrEqual(1e-5);
      // the DOM agrees: every parity cell green, charts with one series per path
      expect(await page.locator('#parity-table td.parity').count()).toBe(r.parity.length);
      expect(await page.locator('#parity-table td.bad').count()).toBe(0);
      expect(await page.locator('#latency-vs-batch circle.point').count()).toBe(names.length * 2);
      expect(await page.locator('#latency-vs-batch polyline').count()).toBe(names.length);
      expect(await page.locator('#tokens-vs-seqlen circle.point').count()).toBe(names.length);
      expect(await page.locator('#cold-start rect.bar').count()).toBe(names.length);
      const md = await page.evaluate(() => {
        const d = (window as unknown as { dashboard: { results: unknown; toMarkdown(r: unknown): string } }).dashboard;
        return d.toMarkdown(d.results);
      });
      expect(md).toContain('| wasm simd 1t | 1 | 8 |');
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}dashboard.png`, fullPage: true });
    } finally {
      await browser.close();
    }
  }, 120_000);
});
