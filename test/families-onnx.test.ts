/**
 * ONNX exports of every encoder family (torch.onnx.export of the tiny models of
 * test/fixtures/families/, plain names and names under a task-head prefix) read through the ONNX
 * importer: every tensor the graph needs equals the one transformers saved in model.safetensors,
 * bit for bit — including the bias-free families (ModernBERT, NomicBERT), whose anonymous
 * MatMul weights are mapped in the family's forward order — and the model gives the golden
 * outputs.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../ts/backends/reference/reference-backend.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import { runGraph } from '../ts/graph/execute.js';
import { bindWeights, checkpointNames } from '../ts/graph/weights.js';
import { loadModel } from '../ts/model/load.js';
import { batchOfRows, compareRows, familyModelDir, loadFamilyGolden } from './helpers/families.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe.each(['roberta', 'xlm-roberta', 'mpnet', 'modernbert', 'nomic-bert'])('%s ONNX export', (family) => {
  it('every graph tensor equals the safetensors one, and the golden holds', async () => {
    const warnings: string[] = [];
    const onnx = await loadModel(familyModelDir(family, { weights: 'onnx', dirs }), { warn: (m) => warnings.push(m) });
    const st = await loadModel(familyModelDir(family, { dirs }));
    expect(onnx.weightFiles).toEqual(['onnx/model.onnx']);
    const graph = buildBertGraph(st.config, { pooling: 'mean', normalize: false });
    const names = checkpointNames(graph.weights);
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) {
      const a = onnx.checkpoint.get(name);
      const b = st.checkpoint.get(name)!;
      expect(a, `${name} read from the ONNX export`).toBeDefined();
      expect(a!.shape, name).toEqual(b.shape);
      expect(
        Buffer.from(a!.data.buffer, a!.data.byteOffset, a!.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength)),
        `${name} bit for bit`,
      ).toBe(true);
    }
    // Bias-free families have no named bias to find their Linears by: graph order, said once.
    const biasFree = family === 'modernbert' || family === 'nomic-bert';
    expect(warnings.some((w) => /mapped in graph order/.test(w))).toBe(biasFree);
    const golden = loadFamilyGolden(family);
    const c = golden.cases[0]!;
    const batch = batchOfRows(c.input_ids, c.pad_id);
    const { captured } = await runGraph(graph, new ReferenceBackend(bindWeights(graph.weights, onnx.checkpoint)), batch, { capture: [graph.lastHiddenState] });
    expect(compareRows(captured.get(graph.lastHiddenState)!, c, batch.seqLen, st.config.hiddenSize).maxAbs).toBeLessThanOrEqual(1e-5);
  });
});
