/**
 * The wasm backend on whole models against the golden PyTorch float64 vectors: every golden text
 * alone and in padded batches, tiny and minilm, simd and scalar builds, 1 and 2 threads; tiny's
 * hidden states layer by layer. Tolerance 1e-5 max |Δ| on the normalized mean vectors (cls,
 * unnormalized, relative to its largest value). Also checks the builds' design property: simd
 * and scalar, 1 and 2 threads give bit-identical vectors (same operation order everywhere).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { BackendOptions } from '../ts/backends/types.js';
import { type WasmBackend, createWasmBackend } from '../ts/backends/wasm/index.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import { runGraph } from '../ts/graph/execute.js';
import { bindWeights } from '../ts/graph/weights.js';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../ts/model/synthetic.js';
import { batchFromIds, loadGolden, maxAbsDiff } from './helpers/golden.js';

const TOLERANCE = 1e-5;

const VARIANTS: { name: string; options: BackendOptions }[] = [
  { name: 'simd', options: { threads: 1 } },
  { name: 'scalar', options: { threads: 1, wasm: { simd: false } } },
  { name: 'simd-threads', options: { threads: 2 } },
  { name: 'scalar-threads', options: { threads: 2, wasm: { simd: false } } },
];

describe.each(['tiny', 'minilm'] as const)('wasm backend vs golden %s', (name) => {
  const golden = loadGolden(name);
  const config = SYNTHETIC_MODELS[name].config;
  const C = config.hiddenSize;
  const meanGraph = buildBertGraph(config, { pooling: 'mean', normalize: true });
  const clsGraph = buildBertGraph(config, { pooling: 'cls', normalize: false });
  const lastHidden = meanGraph.hiddenStates[meanGraph.hiddenStates.length - 1]!;
  const weights = bindWeights(meanGraph.weights, syntheticCheckpoint(config));
  const backends = new Map<string, Promise<WasmBackend>>();
  const get = (variant: (typeof VARIANTS)[number]): Promise<WasmBackend> => {
    let b = backends.get(variant.name);
    if (!b) {
      b = createWasmBackend(weights, variant.options, { relaxedSimd: false }) as Promise<WasmBackend>; // relaxed: wasm-relaxed.test.ts
      backends.set(variant.name, b);
    }
    return b;
  };
  afterAll(async () => {
    for (const b of backends.values()) (await b).dispose();
  });
  // Mix short and long texts in each batch so most rows carry padding.
  const order = golden.texts.map((_, i) => i).sort((a, c) => ((a * 7919) % 41) - ((c * 7919) % 41));

  describe.each(VARIANTS)('$name', (variant) => {
    // minilm: every text alone on the simd build; the other builds (4-30x slower when scalar)
    // take every third text, which still spans 1 to 256 tokens.
    const singles = golden.texts.map((_, i) => i).filter((i) => name === 'tiny' || variant.name === 'simd' || i % 3 === 0);

    it('mean+normalize and cls, one text at a time', async () => {
      const b = await get(variant);
      expect(b.build).toBe(variant.name);
      let worstMean = 0;
      let worstCls = 0;
      for (const i of singles) {
        const text = golden.texts[i]!;
        const batch = batchFromIds([text.input_ids]);
        // tiny runs the cls graph (the cls pooling kernel); minilm takes cls as row 0 of the
        // captured last hidden state, one forward instead of two.
        const { output: mean, captured } = await runGraph(meanGraph, b, batch, name === 'tiny' ? {} : { capture: [lastHidden] });
        const cls = name === 'tiny' ? (await runGraph(clsGraph, b, batch)).output : captured.get(lastHidden)!.subarray(0, C);
        const dm = maxAbsDiff(mean, text.mean);
        const dc = maxAbsDiff(cls, text.cls) / Math.max(1, ...text.cls.map(Math.abs));
        expect(dm, `text ${i} mean`).toBeLessThanOrEqual(TOLERANCE);
        expect(dc, `text ${i} cls`).toBeLessThanOrEqual(TOLERANCE);
        worstMean = Math.max(worstMean, dm);
        worstCls = Math.max(worstCls, dc);
      }
      console.log(`[wasm ${variant.name} ${name}] ${singles.length} texts: max |Δ| mean ${worstMean.toExponential(2)}, cls (relative) ${worstCls.toExponential(2)}`);
    });

    it('padded batches give the golden vectors', async () => {
      const b = await get(variant);
      const size = name === 'tiny' ? 7 : 6;
      const count = name === 'tiny' ? order.length : variant.name === 'simd' ? 24 : 12;
      let worst = 0;
      for (let s = 0; s < count; s += size) {
        const idx = order.slice(s, Math.min(s + size, count));
        const out = (await runGraph(meanGraph, b, batchFromIds(idx.map((i) => golden.texts[i]!.input_ids)))).output;
        idx.forEach((ti, row) => {
          const d = maxAbsDiff(out.subarray(row * C, (row + 1) * C), golden.texts[ti]!.mean);
          expect(d, `text ${ti} in batch ${idx.join(',')}`).toBeLessThanOrEqual(TOLERANCE);
          worst = Math.max(worst, d);
        });
      }
      console.log(`[wasm ${variant.name} ${name}] ${count} texts in padded batches of ${size}: max |Δ| ${worst.toExponential(2)}`);
    });
  });

  if (name === 'tiny') {
    it('hidden states match layer by layer (simd)', async () => {
      const b = await get(VARIANTS[0]!);
      for (const [i, text] of golden.texts.entries()) {
        if (!text.hidden_states) continue;
        const { captured } = await runGraph(meanGraph, b, batchFromIds([text.input_ids]), { capture: meanGraph.hiddenStates });
        meanGraph.hiddenStates.forEach((id, layer) => {
          const want = text.hidden_states![layer]!;
          const scale = Math.max(1, ...want.map(Math.abs));
          expect(maxAbsDiff(captured.get(id)!, want) / scale, `text ${i} hidden state ${layer}`).toBeLessThanOrEqual(TOLERANCE);
        });
      }
    });
  }

  it('activation memory is reused across the layers (and captures of intermediates still read right)', async () => {
    const b = await get(VARIANTS[0]!);
    const T = 128;
    const B = 4;
    const ids = Array.from({ length: B }, (_, s) => Array.from({ length: T }, (_, t) => 1000 + ((s * 131 + t * 7) % 20000)));
    const { output } = await runGraph(meanGraph, b, batchFromIds(ids));
    // Without reuse every activation of the graph would take its own bytes.
    const all = [...meanGraph.activations.values()].reduce((sum, a) => sum + (a.rows === 'tokens' ? B * T : B) * a.cols * 4, 0);
    console.log(`[wasm ${name}] ${B}×${T} tokens: arena ${(b.arenaBytes / 2 ** 20).toFixed(1)} MiB; all activations would take ${(all / 2 ** 20).toFixed(1)} MiB`);
    expect(b.arenaBytes).toBeLessThan(all / (name === 'tiny' ? 2 : 5)); // 2 layers share less than 6
    // The same batch with every hidden state captured: same output, and the captures are
    // the hidden states a capture-free run computes (the last one is what mean pooling saw).
    const { output: again, captured } = await runGraph(meanGraph, b, batchFromIds(ids), { capture: meanGraph.hiddenStates });
    expect(Array.from(again)).toEqual(Array.from(output));
    expect(captured.size).toBe(meanGraph.hiddenStates.length);
    const pooled = await runGraph(buildBertGraph(config, { pooling: 'cls', normalize: false }), b, batchFromIds(ids));
    expect(Array.from(captured.get(lastHidden)!.subarray(0, C))).toEqual(Array.from(pooled.output.subarray(0, C)));
  });

  it('all builds and thread counts give bit-identical vectors', async () => {
    const idx = order.slice(0, 6);
    const batch = batchFromIds(idx.map((i) => golden.texts[i]!.input_ids));
    const outputs: Float32Array[] = [];
    for (const variant of VARIANTS) outputs.push((await runGraph(meanGraph, await get(variant), batch)).output as Float32Array);
    for (const [k, out] of outputs.entries()) expect(Array.from(out), VARIANTS[k]!.name).toEqual(Array.from(outputs[0]!));
  });
});
