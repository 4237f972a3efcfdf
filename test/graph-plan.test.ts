/**
 * The memory planner and the batch checks of ts/graph, which every backend relies on.
 */
import { describe, expect, it } from 'vitest';
import { checkBatch } from '../ts/graph/batch.js';
import { buildBertGraph } from '../ts/graph/bert.js';
import type { ActivationSpec, GraphNode, RowKind } from '../ts/graph/ops.js';
import { type Graph, planGraph } from '../ts/graph/plan.js';
import { DualbertError } from '../ts/errors.js';
import { SYNTHETIC_MODELS } from '../ts/model/synthetic.js';

/** A graph of layerNorm nodes x → … (each reads `x`), with the given activation shapes. */
function chain(edges: [string, string[], number?, RowKind?][]): Graph {
  const activations = new Map<string, ActivationSpec>();
  const nodes: GraphNode[] = [];
  activations.set('x', { id: 'x', rows: 'tokens', cols: 8 });
  for (const [out, reads, cols = 8, rows = 'tokens'] of edges) {
    activations.set(out, { id: out, rows, cols });
    if (reads.length === 2) {
      nodes.push({ op: 'linear', out, x: reads[0]!, residual: reads[1]!, weight: 'w', bias: 'b', epilogue: 'residual' });
    } else {
      nodes.push({ op: 'normalize', out, x: reads[0]!, eps: 1e-12 });
    }
  }
  return { nodes, activations, weights: [] };
}

describe('planGraph', () => {
  it('reuses slots of dead activations and never aliases an output with its inputs', () => {
    // x → a → b → c (+ residual a) → d: at most 3 live at once.
    const g = chain([
      ['a', ['x']],
      ['b', ['a']],
      ['c', ['b', 'a']],
      ['d', ['c']],
    ]);
    const plan = planGraph(g, ['d'], ['x']);
    expect(plan.slots.length).toBe(3);
    for (const step of plan.steps) for (const r of step.reads.values()) expect(r.slot).not.toBe(step.out.slot);
    // The residual a is alive when c is written.
    expect(plan.values.get('c')!.slot).not.toBe(plan.values.get('a')!.slot);
  });

  it('keeps outputs intact to the end and separates slot classes', () => {
    const g = chain([
      ['a', ['x']],
      ['b', ['a'], 16],
      ['c', ['b'], 16],
      ['d', ['c'], 16],
    ]);
    const unkept = planGraph(g, ['d'], ['x']);
    expect(unkept.values.get('d')!.slot).toBe(unkept.values.get('b')!.slot); // b's slot went to d
    const kept = planGraph(g, ['d', 'b'], ['x']);
    expect(kept.values.get('d')!.slot).not.toBe(kept.values.get('b')!.slot);
    expect(kept.slots[kept.values.get('b')!.slot]).toEqual({ rows: 'tokens', cols: 16 });
    expect(kept.values.get('a')!.slot).not.toBe(kept.values.get('b')!.slot);
  });

  it('reports an activation read before it is written, and unknown outputs', () => {
    const g = chain([['a', ['y']]]);
    expect(() => planGraph(g, ['a'])).toThrow(/"y" is read before it is written/);
    expect(() => planGraph(chain([['a', ['x']]]), ['zz'], ['x'])).toThrow(/output "zz"/);
  });

  it('a 6-layer MiniLM needs 7 slots (8 with fused LayerNorms), and keeps captures', () => {
    const graph = buildBertGraph(SYNTHETIC_MODELS.minilm.config, { pooling: 'mean', normalize: true });
    expect(graph.activations.size).toBeGreaterThan(40);
    // tokens × C: 3 (4 when a fused step writes the sum and its norm next to its two inputs);
    // tokens × 3C, tokens × I, sequences × C: 2 (pooled, normalized).
    expect(planGraph(graph, [graph.output]).slots.length).toBe(7);
    const plan = planGraph(graph, [graph.output], [], { fuseLinearNorm: true });
    expect(plan.slots.length).toBe(8);
    const fused = plan.steps.filter((s) => s.norm).map((s) => s.norm!.node.out);
    expect(fused).toEqual(Array.from({ length: 6 }, (_, l) => [`encoder.layer.${l}.attn.out`, `encoder.layer.${l}.out`]).flat());
    // Capturing every hidden state keeps each one in its own slot.
    const captured = planGraph(graph, [graph.output, ...graph.hiddenStates]);
    const slots = graph.hiddenStates.map((id) => captured.values.get(id)!.slot);
    expect(new Set(slots).size).toBe(graph.hiddenStates.length);
  });
});

describe('checkBatch', () => {
  const limits = { vocabSize: 10, typeVocabSize: 2, maxPositions: 4 };
  const batch = (ids: number[][], mask?: number[][]) => {
    const T = ids[0]!.length;
    return {
      batchSize: ids.length,
      seqLen: T,
      ids: Int32Array.from(ids.flat()),
      typeIds: new Int32Array(ids.length * T),
      attentionMask: Uint8Array.from((mask ?? ids.map((r) => r.map(() => 1))).flat()),
    };
  };
  const code = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      return `${(e as DualbertError).code}: ${(e as Error).message}`;
    }
    return 'no error';
  };

  it('derives sequence lengths from the mask', () => {
    expect([...checkBatch(batch([[1, 2, 0], [3, 0, 0]], [[1, 1, 0], [1, 0, 0]]), limits).seqLengths]).toEqual([2, 1]);
  });

  it('names every kind of bad input', () => {
    expect(code(() => checkBatch(batch([[1, 10]]), limits))).toMatch(/INVALID_ARGUMENT: token id 10 \(sequence 0, position 1\) is outside the vocabulary of 10/);
    expect(code(() => checkBatch(batch([[1, -1]]), limits))).toMatch(/token id -1/);
    expect(code(() => checkBatch(batch([[1, 2, 3, 4, 5]]), limits))).toMatch(/INPUT_TOO_LONG: a sequence of 5 tokens exceeds the model's 4 positions/);
    expect(code(() => checkBatch(batch([[1, 2]], [[0, 0]]), limits))).toMatch(/sequence 0 of the batch has no real token/);
    expect(code(() => checkBatch(batch([[1, 2]], [[1, 2]]), limits))).toMatch(/attentionMask\[1\] is 2/);
    expect(code(() => checkBatch({ ...batch([[1, 2]]), typeIds: Int32Array.from([0, 2]) }, limits))).toMatch(/token type id 2/);
    expect(code(() => checkBatch({ ...batch([[1, 2]]), ids: new Int32Array(3) }, limits))).toMatch(/inputs\.ids has 3 values/);
    expect(code(() => checkBatch({ ...batch([[1, 2]]), batchSize: 0 }, limits))).toMatch(/positive integers/);
  });
});
