#!/usr/bin/env node
// Checks the webgpu path's default kernel choice on a real GPU (after bench/gpu/ab.mjs picked it):
// the defaults (tiles by rows, attention queries by length, async warm-up) must give the same
// embeddings as the fixed base variant (64×64 tiles, one query per invocation) and as the wasm
// path, at the shapes where the choice differs (B256 T128: 8×8 tiles; 64×T256: 8×4). Prints the
// largest difference and exits 1 above 2e-5 (the float32 bound of the model-level tests).
//
//   node bench/gpu/defaults-check.mjs        (on the built dist/; webgpu from the `webgpu` package)
//   --quick: synthetic:tiny, small batches (checks the script on SwiftShader, not the choice)
const DIST = new URL('../../dist/', import.meta.url);
const { createEmbedder } = await import(new URL('index.js', DIST).href);

const WORDS = 'the of and to in is was for on as with by he at from his an were are which this be or has had not first one their its new after but who they have her she two been other when there all during into school time may years more most only over city some world would where later up such used many can'.split(' ');
/** n texts of about `tokens` word-piece tokens each, deterministic. */
function texts(n, tokens, seed) {
  let s = seed;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
  return Array.from({ length: n }, () => Array.from({ length: tokens - 2 }, () => WORDS[next() % WORDS.length]).join(' '));
}
const maxAbsDiff = (a, b) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

const QUICK = process.argv.includes('--quick');
const MODEL = QUICK ? 'synthetic:tiny' : 'synthetic:minilm';
const chosen = await createEmbedder(MODEL, { device: 'webgpu' });
const base = await createEmbedder(MODEL, { device: 'webgpu', webgpu: { tuning: { gemmTM: 4, gemmTN: 4, attentionQueries: 1 } } });
const wasm = await createEmbedder(MODEL, { device: 'wasm' });
const CASES = QUICK
  ? [['B4 T32', texts(4, 32, 1), 4]]
  : [
      ['B256 T128', texts(256, 128, 1), 256],
      ['64×T256', texts(64, 256, 2), 64],
      ['B32 T128', texts(32, 128, 3), 32],
      ['B1 T16', texts(1, 16, 4), 1],
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
