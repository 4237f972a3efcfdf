// Browser bundles of the library (`npm run build:bundles`, after `npm run build`), from dist/:
//
//   dist/browser/dualbert.js          ESM for bundlers and <script type="module">: the wasm builds,
//                                     the worker entry (worker-main.js) and the shipped tokenizer
//                                     assets sit beside it, located with new URL(…, import.meta.url)
//                                     (override with `wasm: { wasmPaths }` / `workerUrl`).
//   dist/browser/dualbert.inline.js   one file for CDNs and legacy pages: the scalar and SIMD wasm
//                                     builds (relaxed, simd, scalar) inlined as data: URLs. Worker mode
//                                     needs `workerUrl`.
//
// Both are minified (terser; names of classes and functions kept). WGSL is inlined already (ts/backends/webgpu/wgsl.generated.ts). Node-only modules stay external
// dynamic imports on Node-only code paths. No top-level await anywhere.
import { cpSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

const ROOT = new URL('../', import.meta.url);
const OUT = new URL('dist/browser/', ROOT);

/** Replaces one exact piece of a module's code; a missing piece fails the build (never a silent miss). */
function replaceExactly(code, id, from, to) {
  if (!code.includes(from)) throw new Error(`bundle: expected ${JSON.stringify(from)} in ${id}; update scripts/rollup.config.mjs`);
  return code.replace(from, to);
}

/** The single-threaded wasm builds as data: URLs (threaded builds need a server with COOP/COEP and files). */
function inlineWasm() {
  const urls = {};
  for (const file of readdirSync(new URL('build/', ROOT))) {
    const m = /^dualbert-(simd|scalar|relaxed)\.wasm$/.exec(file);
    if (m) urls[m[1]] = `data:application/wasm;base64,${readFileSync(new URL(`build/${file}`, ROOT)).toString('base64')}`;
  }
  if (!urls.simd || !urls.scalar) throw new Error('bundle: build/dualbert-{simd,scalar}.wasm missing: run npm run build:wasm');
  return urls;
}

/** Rewrites the package-relative locations of the wasm files and assets to bundle-relative ones. */
function relocate({ inline }) {
  return {
    name: 'dualbert-relocate',
    transform(code, id) {
      const path = id.replace(/\\/g, '/');
      if (path.endsWith('/dist/backends/wasm/loader.js')) {
        const from = 'return new URL(`../../../build/${file}`, import.meta.url);';
        if (!inline) return replaceExactly(code, id, from, 'return new URL(`./${file}`, import.meta.url);');
        const urls = inlineWasm();
        return replaceExactly(
          code,
          id,
          from,
          `const inlined = ${JSON.stringify(urls)}[build];\n    if (!inlined) throw new Error(\`the single-file bundle holds no \${build} build: serve dualbert.js with its .wasm files, or pass wasm.wasmPaths\`);\n    return new URL(inlined);`,
        );
      }
      if (path.endsWith('/dist/model/sources.js')) {
        return replaceExactly(code, id, "new URL('../../assets/all-MiniLM-L6-v2/', import.meta.url)", "new URL('./assets/all-MiniLM-L6-v2/', import.meta.url)");
      }
      return null;
    },
  };
}

function copyBeside() {
  return {
    name: 'dualbert-copy-assets',
    writeBundle() {
      mkdirSync(OUT, { recursive: true });
      for (const file of readdirSync(new URL('build/', ROOT))) if (file.endsWith('.wasm')) cpSync(new URL(`build/${file}`, ROOT), new URL(file, OUT));
      cpSync(new URL('assets/all-MiniLM-L6-v2/', ROOT), new URL('assets/all-MiniLM-L6-v2/', OUT), { recursive: true });
    },
  };
}

/**
 * Minified output: identifiers mangled and dead code dropped, but class and function names kept
 * (errors and stack traces name DualbertError and the functions users see) and no unsafe
 * transforms (the float arithmetic of the host side must not change).
 */
const minify = () => terser({ ecma: 2020, module: true, keep_classnames: true, keep_fnames: true, compress: { passes: 2 }, format: { comments: false } });

const shared = {
  external: (id) => id.startsWith('node:'),
  onwarn(warning) {
    throw new Error(`bundle: ${warning.code}: ${warning.message}`);
  },
};

export default [
  {
    ...shared,
    input: { dualbert: 'dist/index.js', 'worker-main': 'dist/worker/worker-main.js' },
    plugins: [nodeResolve({ browser: true }), relocate({ inline: false }), copyBeside()],
    // Chunks beside the entries, so every new URL('./x', import.meta.url) resolves in one directory.
    output: { dir: 'dist/browser', format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js', plugins: [minify()] },
  },
  {
    ...shared,
    input: 'dist/index.js',
    plugins: [nodeResolve({ browser: true }), relocate({ inline: true })],
    output: { file: 'dist/browser/dualbert.inline.js', format: 'es', inlineDynamicImports: true, plugins: [minify()] },
  },
];
