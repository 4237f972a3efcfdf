/**
 * The tape: a batch's ops are recorded, not run, as they arrive from `runGraph`; `read` plays the
 * whole tape into one command encoder. Recording first is what lets the backend plan activation
 * memory: the tape shows when each activation is last read, so activations whose lives do not
 * overlap share one pooled buffer (a 6-layer MiniLM forward needs 5 buffers, not 44).
 */
import type { GraphNode, RowKind } from '../../graph/ops.js';
import type { PipelineKey } from './pipelines.js';
import type { GpuBuffer } from './pool.js';

/** An activation of the current batch: [rows, cols], rows = B·T ('tokens') or B ('sequences'). */
export class Handle {
  constructor(
    readonly uid: number,
    readonly name: string,
    readonly rows: RowKind,
    readonly cols: number,
  ) {}

  /** Activations of the same class can share a buffer. */
  get slotClass(): string {
    return `${this.rows}:${this.cols}`;
  }
}

/** The per-batch inputs kernels read: token ids, type ids, mask (per token) and key lengths (per sequence). */
export type InputName = 'ids' | 'typeIds' | 'mask' | 'keyLen';

/** What a kernel binding points at. */
export type Resource =
  | { readonly kind: 'activation'; readonly handle: Handle }
  | { readonly kind: 'weight'; readonly buffer: GpuBuffer }
  | { readonly kind: 'input'; readonly name: InputName };

/** One dispatch of one compiled variant. Binding 0 is always the uniform `params`. */
export interface KernelCall {
  readonly kind: 'kernel';
  /** The graph op it implements (for profiles). */
  readonly op: GraphNode['op'];
  readonly key: PipelineKey;
  readonly keyString: string;
  /** The uniform's words (u32, or f32 bits), at most 64 per call. */
  readonly params: Uint32Array;
  /** [binding number, resource] for bindings 1.. */
  readonly bindings: readonly (readonly [number, Resource])[];
  readonly workgroups: readonly [number, number, number];
  readonly reads: readonly Handle[];
  readonly write: Handle;
  /** Floating-point operations of the call (multiply-adds count 2), for profiles. */
  readonly flop: number;
}

/** Values written into an activation by `write` (the op-level parity harness does this). */
export interface UploadCall {
  readonly kind: 'upload';
  readonly write: Handle;
  /** Storage-typed values: f32, or f16 bits. */
  readonly data: Float32Array | Uint16Array;
}

export type TapeEntry = KernelCall | UploadCall;

/** A slot: the index-th buffer of a class, e.g. the second `tokens:384` buffer. */
export interface Slot {
  readonly cls: string;
  readonly index: number;
  readonly id: string;
}

/** Which slot each handle lives in, and which handle holds each slot at the end of the tape. */
export interface SlotPlan {
  readonly slotOf: ReadonlyMap<Handle, Slot>;
  /** Slots in first-use order (each id once). */
  readonly slots: readonly Slot[];
  readonly finalOwner: ReadonlyMap<string, Handle>;
}

/**
 * Assigns buffers to activations by liveness (linear scan over the tape): a handle takes a free
 * slot of its class when first written and gives it back after the entry that touches it last,
 * unless it is pinned (it will be read back). An op's output never shares a slot with its inputs,
 * since inputs are released only after the output was assigned.
 */
export function planSlots(tape: readonly TapeEntry[], pinned: (h: Handle) => boolean): SlotPlan {
  const last = new Map<Handle, number>();
  tape.forEach((e, i) => {
    last.set(e.write, i);
    if (e.kind === 'kernel') for (const r of e.reads) last.set(r, i);
  });
  const slotOf = new Map<Handle, Slot>();
  const slots: Slot[] = [];
  const free = new Map<string, Slot[]>();
  const counts = new Map<string, number>();
  const finalOwner = new Map<string, Handle>();

  tape.forEach((e, i) => {
    if (e.kind === 'kernel') {
      for (const r of e.reads) {
        if (!slotOf.has(r)) throw new Error(`webgpu backend: activation "${r.name}" is read before it is written`);
      }
    }
    const w = e.write;
    if (!slotOf.has(w)) {
      const cls = w.slotClass;
      let slot = free.get(cls)?.pop();
      if (!slot) {
        const index = counts.get(cls) ?? 0;
        counts.set(cls, index + 1);
        slot = { cls, index, id: `${cls}#${index}` };
        slots.push(slot);
      }
      slotOf.set(w, slot);
      finalOwner.set(slot.id, w);
    }
    const touched = e.kind === 'kernel' ? [...e.reads, w] : [w];
    for (const h of new Set(touched)) {
      if (last.get(h) === i && !pinned(h)) {
        const slot = slotOf.get(h)!;
        let list = free.get(slot.cls);
        if (!list) free.set(slot.cls, (list = []));
        list.push(slot);
      }
    }
  });
  return { slotOf, slots, finalOwner };
}
