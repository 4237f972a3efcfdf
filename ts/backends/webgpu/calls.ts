/**
 * Kernel calls: what the webgpu backend encodes for one planned step. Calls name activations by
 * the buffer of the plan's slot they live in, so the backend can bind and size buffers without
 * knowing which graph value they hold.
 */
import type { GraphNode, RowKind } from '../../graph/ops.js';
import type { PipelineKey } from './pipelines.js';
import type { GpuBuffer } from './buffer.js';

/** An activation of the current batch: [rows, cols] in the bucket buffer `buffer`. */
export interface Act {
  /** The bucket buffer: `s<slot>` for a planned slot, `scratch` for split-K partial sums. */
  readonly buffer: string;
  readonly rows: RowKind;
  readonly cols: number;
}

/**
 * The per-batch inputs kernels read: token ids, type ids, mask (per token), key lengths (per
 * sequence), and the word-embedding rows gathered on the host ([N, C]) for a table too large to
 * bind.
 */
export type InputName = 'ids' | 'typeIds' | 'mask' | 'keyLen' | 'words';

/** What a kernel binding points at. */
export type Resource =
  | { readonly kind: 'activation'; readonly act: Act }
  | { readonly kind: 'weight'; readonly buffer: GpuBuffer }
  | { readonly kind: 'input'; readonly name: InputName };

/** One dispatch of one compiled variant. Binding 0 is always the uniform `params`. */
export interface KernelCall {
  /** The graph op it implements (for profiles). */
  readonly op: GraphNode['op'];
  readonly key: PipelineKey;
  readonly keyString: string;
  /** The uniform's words (u32, or f32 bits), at most 64 per call. */
  readonly params: Uint32Array;
  /** [binding number, resource] for bindings 1.. */
  readonly bindings: readonly (readonly [number, Resource])[];
  readonly workgroups: readonly [number, number, number];
  /** Floating-point operations of the call (multiply-adds count 2), for profiles. */
  readonly flop: number;
}
