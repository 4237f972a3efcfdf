// Headless Chromium (system /usr/bin/chromium through playwright-core): WebGPU on SwiftShader,
// WASM SIMD, our SIMD build running in the page, cross-origin isolation headers, and the
// "no usable GPU" case. Two browser launches in total: each costs seconds.

import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, hasChromium, chromiumMissingReason } from '../helpers/browser.js';
import { skipOrFail } from '../helpers/ci.js';
import { startStaticServer, type StaticServer } from '../helpers/static-server.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAGE = 'test/browser/index.html';

// Smallest module using a SIMD128 instruction: (func (result v128) (i32x4.splat (i32.const 0)))
const SIMD_PROBE = [
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: [] -> [v128]
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x11, 0x0b, // code: i32.const 0; i32x4.splat
];

let server: StaticServer | null = null;
let isolatedServer: StaticServer | null = null;

beforeAll(async () => {
  server = await startStaticServer(REPO_ROOT);
  isolatedServer = await startStaticServer(REPO_ROOT, { crossOriginIsolated: true });
});

afterAll(async () => {
  await server?.close();
  await isolatedServer?.close();
});

async function withBrowser<T>(webgpu: boolean, fn: (b: Browser) => Promise<T>): Promise<T> {
  const browser = await launchChromium({ webgpu });
  try {
    return await fn(browser);
  } finally {
    await browser.close();
  }
}

describe('headless Chromium', () => {
  it('with WebGPU flags: SwiftShader adapter, WASM SIMD, dualbert-simd.wasm, isolation', async (ctx) => {
    if (!hasChromium()) skipOrFail(ctx, chromiumMissingReason());

    await withBrowser(true, async (browser) => {
      const page = await browser.newPage();
      // COOP/COEP server: the page must be crossOriginIsolated (needed later for WASM threads).
      await page.goto(isolatedServer!.urlOf(PAGE));

      const result = await page.evaluate(async (probe) => {
        const out: Record<string, unknown> = {
          secure: isSecureContext,
          crossOriginIsolated,
          sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
          hasGpu: 'gpu' in navigator,
          simdValid: WebAssembly.validate(new Uint8Array(probe)),
        };
        const adapter = await navigator.gpu.requestAdapter();
        out.adapter = adapter
          ? { vendor: adapter.info.vendor, architecture: adapter.info.architecture }
          : null;

        // Our builds, fetched through the server (instantiateStreaming requires the
        // application/wasm MIME type), over a host-created memory.
        const dots: Record<string, unknown> = {};
        for (const flavor of ['simd', 'scalar']) {
          const memory = new WebAssembly.Memory({ initial: 1 });
          const { instance } = await WebAssembly.instantiateStreaming(
            fetch(`/build/testing/dualbert-testing-${flavor}.wasm`),
            { env: { memory } },
          );
          const ex = instance.exports as unknown as {
            simdEnabled(): number;
            heapBase(): number;
            dot(a: number, b: number, n: number): number;
          };
          // Small integers: every partial sum is exact in f32, so the answer is exact.
          const n = 11;
          const base = ex.heapBase() + 4; // +4: unaligned v128 loads
          const a = new Float32Array(memory.buffer, base, n);
          const b = new Float32Array(memory.buffer, base + 4 * n, n);
          let expected = 0;
          for (let i = 0; i < n; i++) {
            a[i] = i + 1;
            b[i] = (i % 3) - 1;
            expected += (i + 1) * ((i % 3) - 1);
          }
          dots[flavor] = {
            simdEnabled: ex.simdEnabled(),
            dot: ex.dot(base, base + 4 * n, n),
            expected,
          };
        }
        out.dots = dots;
        return out;
      }, SIMD_PROBE);

      expect(result.secure).toBe(true);
      expect(result.crossOriginIsolated).toBe(true);
      expect(result.sharedArrayBuffer).toBe(true);
      expect(result.hasGpu).toBe(true);
      expect(result.simdValid).toBe(true);
      expect(result.adapter).toEqual({ vendor: 'google', architecture: 'swiftshader' });
      const dots = result.dots as Record<string, { simdEnabled: number; dot: number; expected: number }>;
      expect(dots.simd!.simdEnabled).toBe(1);
      expect(dots.scalar!.simdEnabled).toBe(0);
      expect(dots.simd!.dot).toBe(dots.simd!.expected);
      expect(dots.scalar!.dot).toBe(dots.scalar!.expected);
    });
  });

  it('without WebGPU flags: navigator.gpu exists but requestAdapter() is null (no GPU case)', async (ctx) => {
    if (!hasChromium()) skipOrFail(ctx, chromiumMissingReason());

    await withBrowser(false, async (browser) => {
      const page = await browser.newPage();
      // Plain server (no COOP/COEP): not cross-origin isolated.
      await page.goto(server!.urlOf(PAGE));
      const result = await page.evaluate(async () => ({
        secure: isSecureContext,
        crossOriginIsolated,
        hasGpu: 'gpu' in navigator,
        adapterIsNull: (await navigator.gpu.requestAdapter()) === null,
      }));
      expect(result).toEqual({
        secure: true,
        crossOriginIsolated: false,
        hasGpu: true,
        adapterIsNull: true,
      });
    });
  });
});
