/**
 * Runs a graph on a backend: the graph is checked against the backend's kernels once, planned
 * once per set of values read back (ts/graph/plan.ts), and every batch is checked
 * (ts/graph/batch.ts) before the backend sees it. Backends then only translate planned steps
 * into kernel launches, through {@link dispatchStep}.
 */
import type { Backend } from '../backends/types.js';
import { DualbertError } from '../errors.js';
import { type Batch, type BatchLimits, batchLimits, checkBatch } from './batch.js';
import {
  type AttentionNode,
  type BatchInputs,
  type DenseNode,
  type EmbedNode,
  type GluNode,
  type GraphNode,
  type LayerNormNode,
  type LinearNode,
  type NormalizeNode,
  type PoolNode,
  type RopeNode,
  describeNode,
} from './ops.js';
import { type Graph, type GraphPlan, type PlanStep, type PlannedValue, planGraph } from './plan.js';

/**
 * The kernels of one backend for one batch, over its activation handles `H` (a typed array, a GPU
 * buffer, an arena offset...). Weights are referenced by their graph names.
 */
export interface OpKernels<H> {
  embed(node: EmbedNode, out: H): void;
  /**
   * out = x·Wᵀ + b, then the epilogue. `norm`: the plan fused the next LayerNorm into this step;
   * return true when the kernel applied it, otherwise it is run as its own op right after.
   */
  linear(node: LinearNode, x: H, out: H, residual: H | undefined, norm: { node: LayerNormNode; out: H } | undefined): boolean;
  layerNorm(node: LayerNormNode, x: H, out: H): void;
  attention(node: AttentionNode, qkv: H, out: H): void;
  pool(node: PoolNode, x: H, out: H): void;
  normalize(node: NormalizeNode, x: H, out: H): void;
  /** Only backends whose `supports` accepts Dense nodes implement it. */
  dense?(node: DenseNode, x: H, out: H): void;
  /** Rotary embeddings on Q and K (backends whose `supports` accepts rope nodes). */
  rope?(node: RopeNode, x: H, out: H): void;
  /** A gated MLP's activation (backends whose `supports` accepts glu nodes). */
  glu?(node: GluNode, x: H, out: H): void;
}

/** Calls the kernel of one planned step; `handle` maps planned values to the backend's handles. */
export function dispatchStep<H>(kernels: OpKernels<H>, step: PlanStep, handle: (v: PlannedValue) => H): void {
  const node = step.node;
  const input = (id: string): H => handle(step.reads.get(id)!);
  const out = handle(step.out);
  switch (node.op) {
    case 'embed':
      kernels.embed(node, out);
      return;
    case 'linear': {
      const norm = step.norm ? { node: step.norm.node, out: handle(step.norm.out) } : undefined;
      const fused = kernels.linear(node, input(node.x), out, node.residual ? input(node.residual) : undefined, norm);
      if (norm && !fused) kernels.layerNorm(norm.node, out, norm.out);
      return;
    }
    case 'layerNorm':
      kernels.layerNorm(node, input(node.x), out);
      return;
    case 'attention':
      kernels.attention(node, input(node.qkv), out);
      return;
    case 'pool':
      kernels.pool(node, input(node.x), out);
      return;
    case 'normalize':
      kernels.normalize(node, input(node.x), out);
      return;
    case 'dense':
      if (!kernels.dense) throw new DualbertError('UNSUPPORTED_OP', `this device does not implement ${describeNode(node)}`);
      kernels.dense(node, input(node.x), out);
      return;
    case 'rope':
      if (!kernels.rope) throw new DualbertError('UNSUPPORTED_OP', `this device does not implement ${describeNode(node)}`);
      kernels.rope(node, input(node.x), out);
      return;
    case 'glu':
      if (!kernels.glu) throw new DualbertError('UNSUPPORTED_OP', `this device does not implement ${describeNode(node)}`);
      kernels.glu(node, input(node.x), out);
      return;
  }
}

function unsupported(backend: Backend, node: GraphNode): DualbertError {
  return new DualbertError('UNSUPPORTED_OP', `device ${backend.device} does not implement ${describeNode(node)} yet (the reference device does)`);
}

/** Throws UNSUPPORTED_OP naming the first node of `nodes` the backend does not implement. */
export function assertSupported(backend: Backend, nodes: readonly GraphNode[]): void {
  for (const node of nodes) if (!backend.supports(node)) throw unsupported(backend, node);
}

export interface RunOptions {
  /** Also return these activations (e.g. `graph.hiddenStates`), for layer-by-layer checks. */
  capture?: readonly string[];
  /** Values of activations no node produces (one op's inputs in op-level tests), row-major. */
  values?: ReadonlyMap<string, Float32Array | Float64Array>;
}

export interface RunResult {
  /** `graph.output`: [B, outputSize] sentence embeddings. */
  output: Float32Array | Float64Array;
  /** The captured activations by id. */
  captured: Map<string, Float32Array | Float64Array>;
}

/** Plans kept per graph (by the set of values read back); a handful per graph at most. */
const MAX_PLANS = 16;

/**
 * A graph bound to a backend: `run(inputs)` checks the batch, takes the plan for what is read
 * back (made once), and lets the backend execute it.
 * @example
 * const prepared = prepareGraph(graph, backend);
 * const { output } = await prepared.run(batch);
 */
export class PreparedGraph {
  private readonly plans = new Map<string, GraphPlan>();
  private readonly limits: BatchLimits;

  constructor(
    readonly graph: Graph & { readonly output?: string },
    readonly backend: Backend,
  ) {
    assertSupported(backend, graph.nodes);
    this.limits = batchLimits(graph);
  }

  /** The plan that keeps `outputs` readable after the steps and takes `inputs` from the caller. */
  plan(outputs: readonly string[], inputs: readonly string[] = []): GraphPlan {
    const key = `${outputs.join('\n')}\u0000${inputs.join('\n')}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = planGraph(this.graph, outputs, inputs, { fuseLinearNorm: this.backend.fusesLinearNorm === true });
      if (this.plans.size >= MAX_PLANS) this.plans.delete(this.plans.keys().next().value!);
      this.plans.set(key, plan);
    }
    return plan;
  }

  /** Checks a batch against the graph (ids, types, mask, length). */
  check(inputs: BatchInputs): Batch {
    return checkBatch(inputs, this.limits);
  }

  async run(inputs: BatchInputs, options: RunOptions = {}): Promise<RunResult> {
    const output = this.graph.output;
    const capture = options.capture ?? [];
    const reads = output === undefined ? [...capture] : [output, ...capture.filter((id) => id !== output)];
    if (reads.length === 0) throw new Error('graph: nothing to read back (the graph has no output and nothing is captured)');
    const values = options.values ?? new Map<string, Float32Array | Float64Array>();
    const plan = this.plan(reads, [...values.keys()]);
    const batch = this.check(inputs);
    const writes = new Map([...values].map(([id, v]) => [plan.values.get(id)!, v] as const));
    const results = await this.backend.execute(plan, batch, { writes, reads: reads.map((id) => plan.values.get(id)!) });
    const captured = new Map<string, Float32Array | Float64Array>();
    reads.forEach((id, i) => {
      if (capture.includes(id)) captured.set(id, results[i]!);
    });
    return { output: results[0]!, captured };
  }
}

const prepared = new WeakMap<Backend, WeakMap<object, PreparedGraph>>();

/** The graph bound to the backend, made once per (graph, backend) pair. */
export function prepareGraph(graph: Graph & { readonly output?: string }, backend: Backend): PreparedGraph {
  let byGraph = prepared.get(backend);
  if (!byGraph) {
    byGraph = new WeakMap();
    prepared.set(backend, byGraph);
  }
  let p = byGraph.get(graph);
  if (!p) {
    p = new PreparedGraph(graph, backend);
    byGraph.set(graph, p);
  }
  return p;
}

/** Runs the whole graph on one batch (see {@link PreparedGraph.run}). */
export async function runGraph(graph: Graph & { readonly output: string }, backend: Backend, inputs: BatchInputs, options: RunOptions = {}): Promise<RunResult> {
  return prepareGraph(graph, backend).run(inputs, options);
}
