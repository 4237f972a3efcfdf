/**
 * The ONNX writer used for onnxruntime baselines: the tiny model it writes, run by
 * onnxruntime-web (wasm), reproduces the golden float64 vectors.
 */
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module of the benchmark suite (JSDoc-typed)
import { writeBertOnnx } from '../bench/onnx/bert-onnx.mjs';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../ts/model/synthetic.js';
import { loadGolden, maxAbsDiff } from './helpers/golden.js';

const golden = loadGolden('tiny');
const { config } = SYNTHETIC_MODELS.tiny;

/** Mean pooling over the mask, then L2 normalization, in float64 (what sentence-transformers does). */
function meanNormalized(hidden: Float32Array, b: number, T: number, n: number, C: number): Float64Array {
  const v = new Float64Array(C);
  for (let j = 0; j < n; j++) for (let c = 0; c < C; c++) v[c]! += hidden[(b * T + j) * C + c]! / n;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

describe('ONNX writer', () => {
  it('tiny model in onnxruntime-web matches golden/tiny.json (≤ 1e-5), single texts and one padded batch', async () => {
    const bytes = writeBertOnnx(config, syntheticCheckpoint(config)) as Uint8Array;
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    expect([...session.inputNames].sort()).toEqual(['attention_mask', 'input_ids', 'token_type_ids']);
    expect(session.outputNames).toEqual(['last_hidden_state']);

    const run = async (rows: number[][]): Promise<{ hidden: Float32Array; T: number }> => {
      const B = rows.length;
      const T = Math.max(...rows.map((r) => r.length));
      const ids = new BigInt64Array(B * T);
      const mask = new BigInt64Array(B * T);
      rows.forEach((r, b) => {
        r.forEach((id, j) => {
          ids[b * T + j] = BigInt(id);
          mask[b * T + j] = 1n;
        });
      });
      const feeds = {
        input_ids: new ort.Tensor('int64', ids, [B, T]),
        attention_mask: new ort.Tensor('int64', mask, [B, T]),
        token_type_ids: new ort.Tensor('int64', new BigInt64Array(B * T), [B, T]),
      };
      const out = await session.run(feeds);
      expect(out['last_hidden_state']!.dims).toEqual([B, T, config.hiddenSize]);
      return { hidden: out['last_hidden_state']!.data as Float32Array, T };
    };

    for (const [i, text] of golden.texts.entries()) {
      const { hidden, T } = await run([text.input_ids]);
      const got = meanNormalized(hidden, 0, T, text.input_ids.length, config.hiddenSize);
      expect(maxAbsDiff(got, text.mean), `text ${i}`).toBeLessThanOrEqual(1e-5);
    }
    const { hidden, T } = await run(golden.texts.map((t) => t.input_ids));
    golden.texts.forEach((text, b) => {
      const got = meanNormalized(hidden, b, T, text.input_ids.length, config.hiddenSize);
      expect(maxAbsDiff(got, text.mean), `text ${b} in the padded batch`).toBeLessThanOrEqual(1e-5);
    });
    await session.release();
  });
});
