/**
 * Walks a graph and calls one backend's ops. This is the only place the node list is
 * interpreted, so every backend runs the same forward pass by construction.
 */
import type { BertGraph } from './bert.js';
import type {
  AttentionNode,
  BatchInputs,
  EmbedNode,
  GraphNode,
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
  }
}

/** Runs the whole graph on one batch. */
export async function runGraph<T>(
  graph: BertGraph,
  backend: OpBackend<T>,
  inputs: BatchInputs,
  options: RunOptions = {},
): Promise<RunResult> {
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
