#!/usr/bin/env node
// Checks the webgpu path's default kernel choice on a real GPU (after bench/gpu/ab.mjs picked it):
// the defaults (tiles by rows, attention queries by length, async warm-up) must give the same
// embeddings as the fixed base variant (64×64 tiles, one query per invocation) and as the wasm
// path, at the shapes where the choice differs (B256 T128: 8×8 tiles; 64×T256: 8×4). Prints the
// largest difference and exits 1 above 2e-5 (the float32 bound of the model-level tests).
//
//   node bench/gpu/defaults-check.mjs        (on the built dist/; webgpu from the `webgpu` package)
//   --quick: synthetic:tiny, small batches (checks the script on SwiftShader, not the choice)
import { textsOf } from './texts.mjs';

const DIST = new URL('../../dist/', import.meta.url);
const { createEmbedder } = await import(new URL('index.js', DIST).href);

const maxAbsDiff = (a, b) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

const QUICK = process.argv.includes('--quick');
const MODEL = QUICK ? 'synthetic:tiny' : 'synthetic:minilm';
const chosen = await createEmbedder(MODEL, { device: 'webgpu' });
const base = await createEmbedder(MODEL, { device: 'webgpu', webgpu: { tuning: { gemmTM: 4, gemmTN: 4, attentionQueries: 1 } } });
const wasm = await createEmbedder(MODEL, { device: 'wasm' });
const CASES = QUICK
  ? [['B4 T32', textsOf(4, 32, 1), 4]]
  : [
      ['B256 T128', textsOf(256, 128, 1), 256],
      ['64×T256', textsOf(64, 256, 2), 64],
      ['B32 T128', textsOf(32, 128, 3), 32],
      ['B1 T16', textsOf(1, 16, 4), 1],
    ];
let worst = 0;
for (const [name, list, batchSize] of CASES) {
  const a = (await chosen.embed(list, { batchSize })).data;
  const b = (await base.embed(list, { batchSize })).data;
  const c = (await wasm.embed(list, { batchSize: 32 })).data;
  const dBase = maxAbsDiff(a, b);
  const dWasm = maxAbsDiff(a, c);
  worst = Math.max(worst, dBase, dWasm);
  console.log(`${name}: defaults vs base variant max |Δ| ${dBase.toExponential(2)}, vs wasm ${dWasm.toExponential(2)}`);
}
console.log(`defaults check: ${worst <= 2e-5 ? 'ok' : 'FAILED'} (largest difference ${worst.toExponential(2)}, bound 2e-5)`);
for (const e of [chosen, base, wasm]) e.dispose();
process.exit(worst <= 2e-5 ? 0 : 1);
