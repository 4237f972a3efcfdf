/**
 * Walks a graph and calls one backend's ops. This is the only place the node list is
 * interpreted, so every backend runs the same forward pass by construction.
 */
import type { BertGraph } from './bert.js';
import { DualbertError } from '../errors.js';
import {
  type AttentionNode,
  type BatchInputs,
  type DenseNode,
  type EmbedNode,
  type GraphNode,
  describeNode,
  isCoreNode,
} from './ops.js';
import type {
  LayerNormNode,
  LinearNode,
  NormalizeNode,
  PoolNode,
  RowKind,
} from './ops.js';

/**
 * The ops a backend implements. `T` is the backend's handle for an activation (a typed array,
 * a GPU buffer, an arena offset...). Weights are referenced by their graph names; the backend
 * got them once, before the first batch. Ops may be recorded lazily (e.g. into a GPU command
 * encoder) as long as `read` returns the finished values.
 */
export interface OpBackend<T> {
  /** Starts a batch: upload/remember the inputs, size the activation storage for (B, T). */
  begin(inputs: BatchInputs): void;
  /** An activation of [rows, cols] for the current batch (rows = N for 'tokens', B for 'sequences'). */
  allocate(id: string, rows: RowKind, cols: number): T;
  embed(node: EmbedNode, out: T): void;
  linear(node: LinearNode, x: T, out: T, residual: T | undefined): void;
  layerNorm(node: LayerNormNode, x: T, out: T): void;
  attention(node: AttentionNode, qkv: T, out: T): void;
  pool(node: PoolNode, x: T, out: T): void;
  normalize(node: NormalizeNode, x: T, out: T): void;
  /** A Dense module on the pooled rows (optional: only backends that declare it in `supports`). */
  dense?(node: DenseNode, x: T, out: T): void;
  /**
   * Whether this backend implements a node (a pooling mode, a Dense head...). Checked by
   * `runGraph` before anything runs. A backend without it is held to the first op vocabulary
   * (`isCoreNode`): newer nodes then fail with UNSUPPORTED_OP instead of running wrongly.
   */
  supports?(node: GraphNode): boolean;
  /** Overwrites an activation with the given row-major values (used by the op-level parity harness). */
  write(t: T, values: Float32Array | Float64Array): void;
  /** The values of an activation, row-major, as float32 (or float64 for the reference). */
  read(t: T): Promise<Float32Array | Float64Array>;
  /** Ends the batch; activation handles of this batch may be reused afterwards. */
  end(): void;
}

export interface RunOptions {
  /** Also return these activations (e.g. `graph.hiddenStates`), for layer-by-layer checks. */
  capture?: readonly string[];
}

export interface RunResult {
  /** `graph.output`: [B, C] sentence embeddings. */
  output: Float32Array | Float64Array;
  /** The captured activations by id. */
  captured: Map<string, Float32Array | Float64Array>;
}

/** Calls the backend op of one node; `input` resolves the node's input activations by id. */
export function applyOp<T>(backend: OpBackend<T>, node: GraphNode, input: (id: string) => T, out: T): void {
  switch (node.op) {
    case 'embed':
      return backend.embed(node, out);
    case 'linear':
      return backend.linear(node, input(node.x), out, node.residual ? input(node.residual) : undefined);
    case 'layerNorm':
      return backend.layerNorm(node, input(node.x), out);
    case 'attention':
      return backend.attention(node, input(node.qkv), out);
    case 'pool':
      return backend.pool(node, input(node.x), out);
    case 'normalize':
      return backend.normalize(node, input(node.x), out);
    case 'dense':
      if (!backend.dense) throw unsupported(backend, node);
      return backend.dense(node, input(node.x), out);
  }
}

function unsupported<T>(backend: OpBackend<T>, node: GraphNode): DualbertError {
  const device = (backend as { device?: string }).device ?? 'this backend';
  return new DualbertError('UNSUPPORTED_OP', `device ${device} does not implement ${describeNode(node)} yet (the reference device does)`);
}

/** Throws UNSUPPORTED_OP naming the first node of `nodes` the backend does not implement. */
export function assertSupported<T>(backend: OpBackend<T>, nodes: readonly GraphNode[]): void {
  for (const node of nodes) {
    const ok = backend.supports ? backend.supports(node) : isCoreNode(node);
    if (!ok) throw unsupported(backend, node);
  }
}

/** Runs the whole graph on one batch. */
export async function runGraph<T>(
  graph: BertGraph,
  backend: OpBackend<T>,
  inputs: BatchInputs,
  options: RunOptions = {},
): Promise<RunResult> {
  assertSupported(backend, graph.nodes);
  backend.begin(inputs);
  try {
    const tensors = new Map<string, T>();
    const get = (id: string): T => {
      const t = tensors.get(id);
      if (t === undefined) throw new Error(`graph: activation "${id}" is read before it is written`);
      return t;
    };
    const out = (id: string): T => {
      const spec = graph.activations.get(id);
      if (!spec) throw new Error(`graph: activation "${id}" has no shape`);
      const t = backend.allocate(id, spec.rows, spec.cols);
      tensors.set(id, t);
      return t;
    };

    for (const node of graph.nodes) applyOp(backend, node, get, out(node.out));

    const captured = new Map<string, Float32Array | Float64Array>();
    for (const id of options.capture ?? []) captured.set(id, await backend.read(get(id)));
    return { output: await backend.read(get(graph.output)), captured };
  } finally {
    backend.end();
  }
}
