/**
 * Memory planning of a graph, done once here for every backend (as ggml plans a graph before
 * `graph_compute`): which activation lives in which slot, which pairs of nodes may be fused, and
 * which values must survive to be read back.
 *
 * A slot is a buffer of one class, `rows × cols` ('tokens' rows are N = B·T, 'sequences' rows
 * are B). The plan does not depend on B or T, so one plan serves every batch: a backend sizes
 * each slot for the batch at hand (wasm: offsets in its arena; webgpu: buffers of a bucket).
 * A 6-layer MiniLM forward needs 5 slots instead of 44 activations.
 */
import type { ActivationSpec, GraphNode, LayerNormNode, RowKind, WeightSpec } from './ops.js';

/** What a graph must provide to be planned and run (a BertGraph, or one op's test graph). */
export interface Graph {
  readonly nodes: readonly GraphNode[];
  readonly activations: ReadonlyMap<string, ActivationSpec>;
  readonly weights: readonly WeightSpec[];
}

/** An activation placed in a slot. */
export interface PlannedValue {
  readonly id: string;
  readonly rows: RowKind;
  readonly cols: number;
  /** Index into {@link GraphPlan.slots}. */
  readonly slot: number;
}

/** A buffer shared by activations whose lives do not overlap; all have this class. */
export interface Slot {
  readonly rows: RowKind;
  readonly cols: number;
}

/** A LayerNorm folded into the step of the linear whose output it normalizes. */
export interface FusedNorm {
  readonly node: LayerNormNode;
  readonly out: PlannedValue;
}

/** One node with its planned inputs and output. */
export interface PlanStep {
  readonly node: GraphNode;
  readonly out: PlannedValue;
  /** The activations the node reads, by id. */
  readonly reads: ReadonlyMap<string, PlannedValue>;
  /**
   * Set on a linear step whose output only feeds the next node, a LayerNorm (when the backend
   * asked for it): the backend normalizes each row while it is hot, or runs the LayerNorm right
   * after when it cannot for this shape.
   */
  readonly norm?: FusedNorm;
}

export interface GraphPlan {
  readonly steps: readonly PlanStep[];
  readonly slots: readonly Slot[];
  /** Every planned activation by id. */
  readonly values: ReadonlyMap<string, PlannedValue>;
  /** Values with no producer in the graph: written by the caller before the first step. */
  readonly inputs: readonly PlannedValue[];
  /** Values read back after the last step: their slots are never reused. */
  readonly outputs: readonly PlannedValue[];
}

/** The ids a node reads. */
export function nodeReads(node: GraphNode): string[] {
  switch (node.op) {
    case 'embed':
      return [];
    case 'linear':
      return node.residual ? [node.x, node.residual] : [node.x];
    case 'attention':
      return [node.qkv];
    default:
      return [node.x];
  }
}

const slotClass = (rows: RowKind, cols: number): string => `${rows}:${cols}`;

/** Which fusions the backend that runs the plan can use. */
export interface PlanOptions {
  /**
   * Fold a LayerNorm into the step of the linear whose output only it reads. A fused step holds
   * one more activation at once (the linear's output next to its inputs and the norm's output),
   * so a backend that would run the two separately is better off without it.
   */
  fuseLinearNorm?: boolean;
}

/**
 * Plans `graph` so that `outputs` can be read after it runs. `inputs` are activations the caller
 * writes (op-level tests); every other activation must be produced by a node before it is read.
 */
export function planGraph(graph: Graph, outputs: readonly string[], inputs: readonly string[] = [], options: PlanOptions = {}): GraphPlan {
  const spec = (id: string): ActivationSpec => {
    const s = graph.activations.get(id);
    if (!s) throw new Error(`graph: activation "${id}" has no shape`);
    return s;
  };
  const nodes = graph.nodes;
  const keep = new Set(outputs);

  // Fusion on the graph: linear → LayerNorm of its output, when nothing else reads that output.
  const readers = new Map<string, number>();
  for (const node of nodes) for (const r of nodeReads(node)) readers.set(r, (readers.get(r) ?? 0) + 1);
  const fusedInto = new Map<number, LayerNormNode>();
  for (let i = 0; options.fuseLinearNorm && i + 1 < nodes.length; i++) {
    const a = nodes[i]!;
    const b = nodes[i + 1]!;
    if (a.op === 'linear' && b.op === 'layerNorm' && b.x === a.out && readers.get(a.out) === 1 && !keep.has(a.out)) fusedInto.set(i, b);
  }

  // Steps (a fused LayerNorm is part of its linear's step), with what each reads and writes.
  interface Draft {
    node: GraphNode;
    reads: string[];
    writes: string[];
    norm?: LayerNormNode;
  }
  const drafts: Draft[] = [];
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    const norm = fusedInto.get(i);
    drafts.push({ node, reads: nodeReads(node), writes: norm ? [node.out, norm.out] : [node.out], ...(norm ? { norm } : {}) });
    if (norm) i++;
  }
  const lastRead = new Map<string, number>();
  for (const [i, d] of drafts.entries()) for (const r of d.reads) lastRead.set(r, i);

  // Linear scan: a value takes a free slot of its class when first written and gives it back
  // after its last reader (never within the step that writes it, so an op's output never shares
  // a slot with its inputs). Inputs and outputs are handled the same way, except that outputs
  // are never given back.
  const slots: Slot[] = [];
  const free = new Map<string, number[]>();
  const values = new Map<string, PlannedValue>();
  const place = (id: string): PlannedValue => {
    const { rows, cols } = spec(id);
    const cls = slotClass(rows, cols);
    let slot = free.get(cls)?.pop();
    if (slot === undefined) {
      slot = slots.length;
      slots.push({ rows, cols });
    }
    const v = { id, rows, cols, slot };
    values.set(id, v);
    return v;
  };
  const release = (id: string): void => {
    if (keep.has(id)) return;
    const v = values.get(id)!;
    const cls = slotClass(v.rows, v.cols);
    const list = free.get(cls) ?? [];
    list.push(v.slot);
    free.set(cls, list);
  };

  const inputValues = inputs.map(place);
  for (const id of inputs) if (!lastRead.has(id)) release(id);
  const steps: PlanStep[] = drafts.map((d, i) => {
    for (const r of d.reads) if (!values.has(r)) throw new Error(`graph: activation "${r}" is read before it is written`);
    for (const w of d.writes) if (values.has(w)) throw new Error(`graph: activation "${w}" is written twice`);
    const written = d.writes.map(place);
    const reads = new Map(d.reads.map((r) => [r, values.get(r)!]));
    for (const r of new Set(d.reads)) if (lastRead.get(r) === i) release(r);
    for (const w of d.writes) if (!((lastRead.get(w) ?? -1) > i)) release(w);
    return { node: d.node, out: written[0]!, reads, ...(d.norm ? { norm: { node: d.norm, out: written[1]! } } : {}) };
  });

  const outputValues = outputs.map((id) => {
    const v = values.get(id);
    if (!v) throw new Error(`graph: output "${id}" is not an activation of the graph`);
    return v;
  });
  return { steps, slots, values, inputs: inputValues, outputs: outputValues };
}
