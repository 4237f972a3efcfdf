/**
 * GPU memory of the webgpu backend: resident weights, and activation buffers pooled by bucket.
 *
 * A bucket is a power-of-two capacity in token rows (B·T rounded up, at least 64). A batch runs
 * in the smallest cached bucket that holds it; a new bucket is made only when none does, and at
 * most MAX_BUCKETS are kept (least recently used goes), so memory follows the largest recent
 * batches instead of growing with every new (B, T) as an exact-size cache would. Within a bucket
 * everything a batch needs is reused from batch to batch: the activation slots of the graph's
 * plan, the inputs, the uniform block, the readback buffer and the bind groups.
 */
import { DualbertError } from '../../errors.js';
import { GpuBuffer } from './buffer.js';
import { Usage } from './gpu.js';

export { GpuBuffer } from './buffer.js';
import type { InputName } from './calls.js';

/** Buffers are allocated in multiples of 16 bytes (one vec4<f32>), so vec4 views cover them. */
export const roundUp16 = (n: number): number => Math.ceil(n / 16) * 16;

const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** Buckets kept at once. */
export const MAX_BUCKETS = 2;
/** The smallest bucket, in token rows. */
const MIN_BUCKET_ROWS = 64;
/** Bytes of uniform data per kernel call (minUniformBufferOffsetAlignment is at most 256). */
export const PARAMS_STRIDE = 256;

/** The reusable buffers of one capacity. */
export class Bucket {
  /** Activation buffers by slot id ("tokens:384#1"). */
  readonly slots = new Map<string, GpuBuffer>();
  readonly inputs = new Map<InputName, GpuBuffer>();
  params: GpuBuffer | undefined;
  /**
   * Readback buffers: one per batch in flight (a batch submitted while the previous one is still
   * mapping its result needs its own), taken by stagingFor and given back by releaseStaging.
   */
  private readonly staging: { buffer: GpuBuffer; busy: boolean }[] = [];
  /** Bind groups by call position and bound buffer ids. */
  readonly bindGroups = new Map<string, GPUBindGroup>();
  /** Changes whenever a buffer is replaced or the bind groups dropped (lists of bind groups kept elsewhere are stale then). */
  generation = 0;
  lastUsed = 0;

  constructor(
    private readonly device: GPUDevice,
    /** Capacity in token rows. */
    readonly tokenRows: number,
    private readonly maxBindingBytes: number,
    /** Shared with the pool: buffers created so far. */
    private readonly counters: { created: number },
  ) {}

  /** Bytes held. */
  get bytes(): number {
    let sum = this.params?.bytes ?? 0;
    for (const s of this.staging) sum += s.buffer.bytes;
    for (const b of this.slots.values()) sum += b.bytes;
    for (const b of this.inputs.values()) sum += b.bytes;
    return sum;
  }

  private create(bytes: number, usage: number, label: string): GpuBuffer {
    this.counters.created++;
    return new GpuBuffer(this.device.createBuffer({ size: bytes, usage, label }), bytes);
  }

  /** Replaces `old` by a buffer of at least `bytes`; cached bind groups may name the old one. */
  private grow(old: GpuBuffer | undefined, bytes: number, usage: number, label: string): GpuBuffer {
    if (old && old.bytes >= bytes) return old;
    if (old) {
      old.gpu.destroy();
      this.clearBindGroups();
    }
    return this.create(bytes, usage, label);
  }

  /** Drops the cached bind groups. */
  clearBindGroups(): void {
    this.bindGroups.clear();
    this.generation++;
  }

  /**
   * The buffer of an activation slot, for `rows` rows of `cols` values of `elemBytes` each.
   * Token slots are sized for the whole bucket, so they never change within it; sequence slots
   * (B rows, small) are sized to the next power of two of B and grow with it.
   */
  slot(id: string, kind: 'tokens' | 'sequences', rows: number, cols: number, elemBytes: number): GpuBuffer {
    const capRows = kind === 'tokens' ? this.tokenRows : nextPow2(rows);
    const need = roundUp16(rows * cols * elemBytes);
    if (need > this.maxBindingBytes) {
      throw new DualbertError(
        'INVALID_ARGUMENT',
        `webgpu: this batch needs a ${rows}×${cols} activation (${(need / 2 ** 20).toFixed(0)} MiB), above this GPU's ` +
          `${(this.maxBindingBytes / 2 ** 20).toFixed(0)} MiB per buffer: embed with a smaller batchSize`,
      );
    }
    // The power-of-two capacity, unless that alone would pass the binding limit.
    const bytes = Math.min(roundUp16(capRows * cols * elemBytes), Math.floor(this.maxBindingBytes / 16) * 16);
    const old = this.slots.get(id);
    if (old && old.bytes >= need) return old;
    const buf = this.grow(old, Math.max(need, bytes), Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST, `act ${id}`);
    this.slots.set(id, buf);
    return buf;
  }

  /** A per-batch input of the bucket (u32 per token row; key lengths are per sequence, B ≤ N). */
  input(name: InputName): GpuBuffer {
    let buf = this.inputs.get(name);
    if (!buf) {
      buf = this.create(roundUp16(this.tokenRows * 4), Usage.STORAGE | Usage.COPY_DST, `input ${name}`);
      this.inputs.set(name, buf);
    }
    return buf;
  }

  /** The input `name` grown to at least `bytes` (the host-gathered word rows: N·C values). */
  sizedInput(name: InputName, bytes: number): GpuBuffer {
    const buf = this.grow(this.inputs.get(name), roundUp16(bytes), Usage.STORAGE | Usage.COPY_DST, `input ${name}`);
    this.inputs.set(name, buf);
    return buf;
  }

  /** The uniform block with room for `calls` kernel calls. */
  paramsFor(calls: number): GpuBuffer {
    this.params = this.grow(this.params, nextPow2(calls) * PARAMS_STRIDE, Usage.UNIFORM | Usage.COPY_DST, 'params');
    return this.params;
  }

  /**
   * A readback buffer of at least `bytes` that no batch in flight uses, marked busy until
   * {@link releaseStaging}. Only a free one is ever replaced (destroying a buffer whose mapping
   * is pending would fail that batch's readback).
   */
  stagingFor(bytes: number): GpuBuffer {
    const size = nextPow2(roundUp16(bytes));
    let entry = this.staging.find((s) => !s.busy && s.buffer.bytes >= size) ?? this.staging.find((s) => !s.busy);
    if (!entry) {
      entry = { buffer: this.create(size, Usage.MAP_READ | Usage.COPY_DST, 'readback'), busy: false };
      this.staging.push(entry);
    } else if (entry.buffer.bytes < size) {
      entry.buffer.gpu.destroy();
      entry.buffer = this.create(size, Usage.MAP_READ | Usage.COPY_DST, 'readback');
    }
    entry.busy = true;
    return entry.buffer;
  }

  /** Gives a readback buffer back (after its mapping was read and unmapped, or failed). */
  releaseStaging(buffer: GpuBuffer): void {
    const entry = this.staging.find((s) => s.buffer === buffer);
    if (entry) entry.busy = false;
  }

  /** Readback buffers held (one per batch that was in flight at once). */
  get stagingCount(): number {
    return this.staging.length;
  }

  destroy(): void {
    for (const b of this.slots.values()) b.gpu.destroy();
    for (const b of this.inputs.values()) b.gpu.destroy();
    this.params?.gpu.destroy();
    for (const s of this.staging) s.buffer.gpu.destroy();
    this.staging.length = 0;
    this.slots.clear();
    this.inputs.clear();
    this.bindGroups.clear();
    this.params = undefined;
  }
}

/** The cached buckets of one backend. */
export class ActivationPool {
  private readonly buckets: Bucket[] = [];
  private clock = 0;
  /** Buffers created so far by all buckets. */
  readonly counters = { created: 0 };

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBindingBytes: number,
  ) {}

  /** The bucket for a batch of `tokenRows` = B·T rows. */
  bucketFor(tokenRows: number): Bucket {
    let best: Bucket | undefined;
    for (const b of this.buckets) if (b.tokenRows >= tokenRows && (!best || b.tokenRows < best.tokenRows)) best = b;
    if (!best) {
      best = new Bucket(this.device, nextPow2(Math.max(tokenRows, MIN_BUCKET_ROWS)), this.maxBindingBytes, this.counters);
      best.lastUsed = ++this.clock; // the newest bucket is never the one evicted
      this.buckets.push(best);
      while (this.buckets.length > MAX_BUCKETS) {
        const lru = this.buckets.reduce((a, b) => (b.lastUsed < a.lastUsed ? b : a));
        lru.destroy();
        this.buckets.splice(this.buckets.indexOf(lru), 1);
      }
    }
    best.lastUsed = ++this.clock;
    return best;
  }

  /** Token-row capacities of the cached buckets. */
  get bucketRows(): number[] {
    return this.buckets.map((b) => b.tokenRows);
  }

  /** Bytes held by all buckets. */
  get bytes(): number {
    return this.buckets.reduce((s, b) => s + b.bytes, 0);
  }

  /** Readback buffers held by all buckets. */
  get readbackBuffers(): number {
    return this.buckets.reduce((s, b) => s + b.stagingCount, 0);
  }

  /** Bind groups cached in all buckets. */
  get bindGroups(): number {
    return this.buckets.reduce((s, b) => s + b.bindGroups.size, 0);
  }

  destroy(): void {
    for (const b of this.buckets) b.destroy();
    this.buckets.length = 0;
  }
}
