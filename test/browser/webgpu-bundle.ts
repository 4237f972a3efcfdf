// Bundles the built library (dist/index.js) into one ES module for the browser test pages, with
// rollup and node-resolve (browser field). Node-only modules stay external: the library imports
// them dynamically and only on Node code paths. This is a test bundle, not a product bundle.
import { join } from 'node:path';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { rollup } from 'rollup';
import { ROOT, ensureDistBuilt } from '../helpers/build.js';

/**
 * Path of the bundle, relative to the repository root. Two directories deep on purpose: the
 * library finds its bundled tokenizer at `new URL('../../assets/…', import.meta.url)`, which from
 * here is the repository's assets/ directory, served by the test's static server.
 */
export const BROWSER_BUNDLE = 'test/artifacts/dualbert-webgpu-test.js';

/** Builds dist/ if stale, then the browser bundle; returns its path relative to the root. */
export async function buildBrowserBundle(): Promise<string> {
  ensureDistBuilt();
  const warnings: string[] = [];
  const bundle = await rollup({
    input: join(ROOT, 'dist', 'index.js'),
    plugins: [nodeResolve({ browser: true })],
    external: (id) => id.startsWith('node:'),
    onwarn: (w) => warnings.push(`${w.code}: ${w.message}`),
  });
  try {
    await bundle.write({ file: join(ROOT, BROWSER_BUNDLE), format: 'es', inlineDynamicImports: true });
  } finally {
    await bundle.close();
  }
  if (warnings.length) throw new Error(`rollup warnings while bundling dist/index.js for the browser:\n${warnings.join('\n')}`);
  return BROWSER_BUNDLE;
}
