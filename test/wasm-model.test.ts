/**
 * What only the wasm backend promises on whole models (the golden checks of every device are in
 * model-golden.test.ts): activation memory is reused across the layers, and the builds' design
 * property holds: simd and scalar, 1 and 2 threads give bit-identical vectors (same operation
 * order everywhere).
 */
import { type TestContext, afterAll, describe, expect, it } from 'vitest';
import type { WasmBackend } from '../ts/backends/wasm/index.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import { runGraph } from '../ts/graph/execute.js';
import { bindWeights } from '../ts/graph/weights.js';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../ts/model/synthetic.js';
import { type TestDevice, WASM_DEVICES } from './helpers/devices.js';
import { batchFromIds, loadGolden } from './helpers/golden.js';

describe.each(['tiny', 'minilm'] as const)('wasm backend on %s', (name) => {
  const golden = loadGolden(name);
  const config = SYNTHETIC_MODELS[name].config;
  const C = config.hiddenSize;
  const meanGraph = buildBertGraph(config, { pooling: 'mean', normalize: true });
  const lastHidden = meanGraph.hiddenStates[meanGraph.hiddenStates.length - 1]!;
  const weights = bindWeights(meanGraph.weights, syntheticCheckpoint(config));
  const backends: WasmBackend[] = [];
  const create = async (device: TestDevice, ctx: TestContext): Promise<WasmBackend> => {
    const b = (await device.create(weights, ctx)) as WasmBackend;
    backends.push(b);
    return b;
  };
  afterAll(() => backends.forEach((b) => b.dispose()));

  it('activation memory is reused across the layers (and captures of intermediates still read right)', async (ctx) => {
    const b = await create(WASM_DEVICES[0]!, ctx);
    const T = 128;
    const B = 4;
    const ids = Array.from({ length: B }, (_, s) => Array.from({ length: T }, (_, t) => 1000 + ((s * 131 + t * 7) % 20000)));
    const { output } = await runGraph(meanGraph, b, batchFromIds(ids));
    // Without reuse every activation of the graph would take its own bytes.
    const all = [...meanGraph.activations.values()].reduce((sum, a) => sum + (a.rows === 'tokens' ? B * T : B) * a.cols * 4, 0);
    console.log(
      `[wasm ${name}] ${B}×${T} tokens: arena ${(b.arenaBytes / 2 ** 20).toFixed(1)} MiB; all activations would take ${(all / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(b.arenaBytes).toBeLessThan(all / (name === 'tiny' ? 2 : 5)); // 2 layers share less than 6
    // The same batch with every hidden state captured: same output, and the captures are
    // the hidden states a capture-free run computes (the last one is what mean pooling saw).
    const { output: again, captured } = await runGraph(meanGraph, b, batchFromIds(ids), { capture: meanGraph.hiddenStates });
    expect(Array.from(again)).toEqual(Array.from(output));
    expect(captured.size).toBe(meanGraph.hiddenStates.length);
    const pooled = await runGraph(buildBertGraph(config, { pooling: 'cls', normalize: false }), b, batchFromIds(ids));
    expect(Array.from(captured.get(lastHidden)!.subarray(0, C))).toEqual(Array.from(pooled.output.subarray(0, C)));
  });

  it('all builds and thread counts give bit-identical vectors', async (ctx) => {
    // Short and long golden texts mixed, so most rows carry padding.
    const idx = golden.texts
      .map((_, i) => i)
      .sort((a, c) => ((a * 7919) % 41) - ((c * 7919) % 41))
      .slice(0, 6);
    const batch = batchFromIds(idx.map((i) => golden.texts[i]!.input_ids));
    const outputs: Float32Array[] = [];
    for (const device of WASM_DEVICES) outputs.push((await runGraph(meanGraph, await create(device, ctx), batch)).output as Float32Array);
    for (const [k, out] of outputs.entries()) expect(Array.from(out), WASM_DEVICES[k]!.name).toEqual(Array.from(outputs[0]!));
  });
});
