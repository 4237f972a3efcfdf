/**
 * The float64 reference backend against the golden PyTorch float64 outputs, on the golden
 * token ids: single texts, padded batches, and (tiny) every layer's hidden states.
 */
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../ts/backends/reference/reference-backend.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import { runGraph } from '../ts/graph/execute.js';
import { bindWeights } from '../ts/graph/weights.js';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../ts/model/synthetic.js';
import { batchFromIds, loadGolden, maxAbsDiff } from './helpers/golden.js';

const TOLERANCE = 1e-6;

describe.each(['tiny', 'minilm'] as const)('reference backend vs golden %s', (name) => {
  const golden = loadGolden(name);
  const config = SYNTHETIC_MODELS[name].config;
  const meanGraph = buildBertGraph(config, { pooling: 'mean', normalize: true });
  const clsGraph = buildBertGraph(config, { pooling: 'cls', normalize: false });
  const lastHidden = meanGraph.hiddenStates[meanGraph.hiddenStates.length - 1]!;
  const backend = new ReferenceBackend(bindWeights(meanGraph.weights, syntheticCheckpoint(config)));

  it('mean+normalize and cls of every text, one at a time', async () => {
    let worstMean = 0;
    let worstCls = 0;
    for (const [i, text] of golden.texts.entries()) {
      const batch = batchFromIds([text.input_ids]);
      // One pass for minilm (the float64 oracle is slow): cls is row 0 of the captured last hidden
      // state; tiny runs the cls-pooling graph as well.
      const { output: mean, captured } = await runGraph(meanGraph, backend, batch, { capture: [lastHidden] });
      const cls =
        name === 'tiny'
          ? (await runGraph(clsGraph, backend, batch)).output
          : captured.get(lastHidden)!.subarray(0, config.hiddenSize);
      const dm = maxAbsDiff(mean, text.mean);
      // cls is not normalized (|values| up to ~4): judge it relative to its scale.
      const dc = maxAbsDiff(cls, text.cls) / Math.max(1, ...text.cls.map(Math.abs));
      expect(dm, `text ${i} mean`).toBeLessThanOrEqual(TOLERANCE);
      expect(dc, `text ${i} cls`).toBeLessThanOrEqual(TOLERANCE);
      worstMean = Math.max(worstMean, dm);
      worstCls = Math.max(worstCls, dc);
    }
    console.log(`[reference ${name}] ${golden.texts.length} texts: max |Δ| mean ${worstMean.toExponential(2)}, cls ${worstCls.toExponential(2)}`);
  });

  it('padded batches give the same vectors as single texts', async () => {
    // Mix short and long texts in each batch so most rows carry padding.
    const order = golden.texts.map((_, i) => i).sort((a, b) => ((a * 7919) % 41) - ((b * 7919) % 41));
    const step = name === 'tiny' ? 8 : 6;
    const limit = name === 'tiny' ? order.length : 18; // minilm: bounded, the float64 oracle is slow
    for (let s = 0; s < limit; s += step) {
      const idx = order.slice(s, Math.min(s + step, limit));
      const batch = batchFromIds(idx.map((i) => golden.texts[i]!.input_ids));
      const out = (await runGraph(meanGraph, backend, batch)).output;
      idx.forEach((ti, b) => {
        const row = out.subarray(b * config.hiddenSize, (b + 1) * config.hiddenSize);
        expect(maxAbsDiff(row, golden.texts[ti]!.mean), `text ${ti} in batch ${idx.join(',')}`).toBeLessThanOrEqual(TOLERANCE);
      });
    }
  });

  if (name === 'tiny') {
    it('hidden states match layer by layer', async () => {
      for (const [i, text] of golden.texts.entries()) {
        if (!text.hidden_states) continue;
        const { captured } = await runGraph(meanGraph, backend, batchFromIds([text.input_ids]), { capture: meanGraph.hiddenStates });
        expect(meanGraph.hiddenStates.length).toBe(text.hidden_states.length);
        meanGraph.hiddenStates.forEach((id, layer) => {
          const got = captured.get(id)!;
          const want = text.hidden_states![layer]!;
          const scale = Math.max(1, ...want.map(Math.abs));
          expect(maxAbsDiff(got, want) / scale, `text ${i} hidden state ${layer} (${id})`).toBeLessThanOrEqual(TOLERANCE);
        });
      }
    });
  }
});
