/**
 * The wasm backend: runs the graph's ops with the AssemblyScript kernels (assembly/) in one
 * WebAssembly memory. Shapes use the legend of ts/graph/ops.ts.
 *
 * Memory layout (byte offsets, 64-byte aligned blocks):
 *   [0, heapBase)      the module's static data
 *   control block      job arguments and the counters threads synchronize on (abi.ts CTRL)
 *   weights            written once when the backend is created: 1-D tensors as they are
 *                      (padded to 8 floats with zeros, so kernels may read a full 8-lane bias);
 *                      2-D tensors in the layout their op reads: GEMM weights as [⌈M/8⌉][K][8]
 *                      panels, embedding tables row-major (a table used the other way is
 *                      re-laid in place on first use; both layouts fit the reserved size)
 *   batch arena        reset by begin(): token ids, type ids and mask (i32), the activations
 *                      of the batch, and per-thread kernel scratch. It grows the memory as
 *                      needed, never past the memory's maximum (a clear error instead).
 *
 * Ops are recorded, not run, as they arrive (a tape of closures); the first `read` plans the
 * arena from the tape — an activation's bytes are reused once its last reader has run, so a
 * 6-layer MiniLM batch needs a handful of activation buffers instead of 44 — and then runs it.
 * Reading an activation whose bytes were reused (a capture of an intermediate) replays the tape
 * with it kept, and remembers its name so later batches keep it from the start.
 */
import { DualbertError } from '../../errors.js';
import {
  type AttentionNode,
  type BatchInputs,
  type EmbedNode,
  type GraphNode,
  type LayerNormNode,
  type LinearNode,
  type NormalizeNode,
  type PoolNode,
  type RowKind,
  isCoreNode,
} from '../../graph/ops.js';
import type { GraphWeights, Tensor } from '../../graph/weights.js';
import type { DeviceBackend } from '../backend.js';
import { CTRL, EPI, type KernelExports, MAX_TASKS, OP, POOL, type WasmBuild } from './abi.js';
import type { ThreadPool } from './threads.js';

const PAGE = 65536;
const ALIGN = 64;
const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

/** An activation of the current batch: [rows, cols] f32, placed in the arena when the tape is planned. */
export interface WasmTensor {
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  /** The batch it belongs to (handles of an ended batch are rejected). */
  readonly batch: number;
}

/** One recorded op: what it reads and writes, its per-thread scratch, and how to run it. */
interface TapeEntry {
  /** For profiles: the op, and for linear layers the output's name without the layer prefix. */
  label: string;
  readonly reads: readonly WasmTensor[];
  /** What it writes: one activation, two for a GEMM with a fused LayerNorm. */
  readonly writes: WasmTensor[];
  readonly scratch: number;
  readonly run: () => void;
  /** A GEMM whose tasks cover whole rows: a LayerNorm of its output can run inside it. */
  fusable?: { out: WasmTensor; ln?: { out: WasmTensor; gamma: number; beta: number; eps: number } };
}

/** Where the planned tape put each activation, and which activation a reused block ends with. */
interface Plan {
  readonly offsets: Map<WasmTensor, number>;
  readonly finalOwner: Map<number, WasmTensor>;
}

/** Names of intermediates read after being reused, kept from the start in later batches (bounded). */
const MAX_PINNED_NAMES = 256;

/** Where a weight lives and how it is laid out. */
interface WeightSlot {
  readonly tensor: Tensor;
  readonly offset: number;
  /** 2-D: [rows, cols] = [M, K]; 1-D: [n, 1]. */
  readonly rows: number;
  readonly cols: number;
  layout: 'raw' | 'packed';
}

/** Everything a backend instance is made of (see index.ts, which assembles it). */
export interface WasmBackendParts {
  build: WasmBuild;
  exports: KernelExports;
  memory: WebAssembly.Memory;
  /** Memory size limit in pages. */
  maxPages: number;
  ctrl: number;
  pool: ThreadPool | undefined;
}

/** Bytes a set of weights takes in this backend's layout (for sizing the initial memory). */
export function weightBytes(weights: GraphWeights): number {
  let bytes = 0;
  for (const t of weights.values()) bytes += align(slotFloats(t) * 4);
  return bytes;
}

/** Floats reserved for a tensor: 1-D padded to 8; 2-D rounded up to whole 8-row panels. */
function slotFloats(t: Tensor): number {
  if (t.shape.length === 2) return Math.ceil(t.shape[0]! / 8) * 8 * t.shape[1]!;
  return Math.ceil(t.data.length / 8) * 8;
}

/** Names the graph gives embedding tables (gathered by rows, never multiplied). */
const EMBEDDING_TABLE = /embeddings\.weight$/;

/**
 * The wasm device backend: the graph's ops on the AssemblyScript kernels, over one WebAssembly
 * memory shared with the worker threads (if any). Made by `createWasmBackend` (index.ts).
 * @example
 * const backend = (await createWasmBackend(weights, { threads: 2 })) as WasmBackend;
 * const { output } = await runGraph(graph, backend, batch);   // backend.build: 'simd-threads'
 * backend.dispose();
 */
export class WasmBackend implements DeviceBackend<WasmTensor> {
  readonly device = 'wasm' as const;
  /** Which build runs (relaxed, simd or scalar; -threads when workers share the memory). */
  readonly build: WasmBuild;
  private readonly exports: KernelExports;
  private readonly memory: WebAssembly.Memory;
  private readonly maxPages: number;
  private readonly ctrl: number;
  private workers: ThreadPool | undefined;
  private readonly slots = new Map<string, WeightSlot>();
  /** First byte of the batch arena. */
  private readonly arenaStart: number;
  /** First byte after the batch inputs: where planned activations start. */
  private activationStart: number;
  private batchId = 0;
  private inputs: (BatchInputs & { idsAt: number; typeIdsAt: number; maskAt: number }) | undefined;
  private tape: TapeEntry[] = [];
  private plan: Plan | undefined;
  /** Per-thread scratch of the planned tape. */
  private scratch = { at: 0, perThread: 0 };
  private readonly pinnedNames = new Set<string>();
  private arenaEnd = 0;
  private disposed = false;

  constructor(parts: WasmBackendParts, weights: GraphWeights) {
    this.build = parts.build;
    this.exports = parts.exports;
    this.memory = parts.memory;
    this.maxPages = parts.maxPages;
    this.ctrl = parts.ctrl;
    this.workers = parts.pool;
    let at = align(this.ctrl + CTRL.BYTES);
    for (const [name, tensor] of weights) {
      const is2d = tensor.shape.length === 2;
      const slot: WeightSlot = {
        tensor,
        offset: at,
        rows: is2d ? tensor.shape[0]! : tensor.data.length,
        cols: is2d ? tensor.shape[1]! : 1,
        layout: is2d && !EMBEDDING_TABLE.test(name) ? 'packed' : 'raw',
      };
      at = align(at + slotFloats(tensor) * 4);
      this.grow(at, 'the model weights');
      this.writeSlot(slot);
      this.slots.set(name, slot);
    }
    this.arenaStart = at;
    this.activationStart = at;
    this.arenaEnd = at;
  }

  /** Threads computing (1 + workers). */
  get threads(): number {
    return this.workers?.size ?? 1;
  }

  /**
   * Set to a Map to collect milliseconds per op (by label: 'attention', 'linear ffn.inner'...)
   * over every tape run, for benchmarks. Ops run synchronously, workers included.
   */
  profile: Map<string, number> | undefined;

  /** Bytes of WebAssembly memory held: weights, the largest batch arena so far, scratch. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Bytes the last planned batch used in the arena: inputs, activations, per-thread scratch. */
  get arenaBytes(): number {
    return this.arenaEnd - this.arenaStart;
  }

  /** Only the first op vocabulary (pooling mean/cls/max, no Dense head) has kernels here. */
  supports(node: GraphNode): boolean {
    return isCoreNode(node);
  }

  dispose(): void {
    this.disposed = true;
    this.workers?.dispose();
    this.workers = undefined;
    this.inputs = undefined;
  }

  begin(inputs: BatchInputs): void {
    this.live();
    const { batchSize: B, seqLen: T } = inputs;
    if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) {
      throw new DualbertError('INVALID_ARGUMENT', `wasm backend: batch size and sequence length must be positive integers, got ${B} × ${T}`);
    }
    const n = B * T;
    for (const [key, arr] of [['ids', inputs.ids], ['typeIds', inputs.typeIds], ['attentionMask', inputs.attentionMask]] as const) {
      if (arr.length !== n) throw new DualbertError('INVALID_ARGUMENT', `wasm backend: inputs.${key} has ${arr.length} values, ${B} × ${T} needs ${n}`);
    }
    this.batchId++;
    this.tape = [];
    this.plan = undefined;
    const idsAt = this.arenaStart;
    const typeIdsAt = align(idsAt + n * 4);
    const maskAt = align(typeIdsAt + n * 4);
    this.activationStart = align(maskAt + n * 4);
    this.grow(this.activationStart, `a batch of ${B} × ${T} tokens`);
    const buf = this.memory.buffer;
    new Int32Array(buf, idsAt, n).set(inputs.ids);
    new Int32Array(buf, typeIdsAt, n).set(inputs.typeIds);
    new Int32Array(buf, maskAt, n).set(inputs.attentionMask);
    this.inputs = { ...inputs, idsAt, typeIdsAt, maskAt };
  }

  end(): void {
    this.inputs = undefined;
    this.tape = [];
    this.plan = undefined;
  }

  allocate(id: string, rows: RowKind, cols: number): WasmTensor {
    const { batchSize, seqLen } = this.batch();
    const n = rows === 'tokens' ? batchSize * seqLen : batchSize;
    if (n * cols * 4 > this.maxPages * PAGE) {
      throw new DualbertError(
        'DEVICE_UNAVAILABLE',
        `wasm backend: activation "${id}" needs ${mib(n * cols * 4)} of WebAssembly memory, which cannot grow past ${mib(this.maxPages * PAGE)}: use a smaller batchSize or shorter texts`,
      );
    }
    return { name: id, rows: n, cols, batch: this.batchId };
  }

  write(t: WasmTensor, values: Float32Array | Float64Array): void {
    this.check(t);
    if (values.length !== t.rows * t.cols) {
      throw new DualbertError('INVALID_ARGUMENT', `wasm backend: write of ${values.length} values into a [${t.rows}, ${t.cols}] activation`);
    }
    const copy = Float32Array.from(values);
    this.record('write', [], t, 0, () => new Float32Array(this.memory.buffer, this.at(t), copy.length).set(copy));
  }

  /**
   * Runs the tape if it has not run (or replays it when `t`'s bytes were reused by a later
   * activation), then returns a copy of `t`.
   */
  async read(t: WasmTensor): Promise<Float32Array> {
    this.check(t);
    if (!this.tape.some((e) => e.writes.includes(t))) throw new DualbertError('INVALID_ARGUMENT', `wasm backend: activation "${t.name}" is read before it is written`);
    const plan = this.plan;
    const intact = plan !== undefined && plan.finalOwner.get(plan.offsets.get(t)!) === t;
    if (!intact) {
      if (plan !== undefined && this.pinnedNames.size < MAX_PINNED_NAMES) this.pinnedNames.add(t.name);
      this.plan = this.planTape((h) => h === t || this.pinnedNames.has(h.name));
      const profile = this.profile;
      for (const entry of this.tape) {
        if (!profile) {
          entry.run();
          continue;
        }
        const start = performance.now();
        entry.run();
        profile.set(entry.label, (profile.get(entry.label) ?? 0) + performance.now() - start);
      }
    }
    return new Float32Array(this.memory.buffer, this.at(t), t.rows * t.cols).slice();
  }

  // out is [N, C]: word[ids[n]] + position[n mod T] + tokenType[typeIds[n]].
  embed(node: EmbedNode, out: WasmTensor): void {
    const inputs = this.batch();
    this.check(out);
    const word = this.raw(node.word);
    const position = this.raw(node.position);
    const tokenType = this.raw(node.tokenType);
    const C = out.cols;
    for (const [name, slot] of [[node.word, word], [node.position, position], [node.tokenType, tokenType]] as const) {
      if (slot.cols !== C) throw new DualbertError('INVALID_ARGUMENT', `wasm backend: embedding table "${name}" has ${slot.cols} columns, the activation ${C}`);
    }
    const { ids, typeIds, seqLen: T } = inputs;
    if (T > position.rows) {
      throw new DualbertError('INPUT_TOO_LONG', `wasm backend: a sequence of ${T} tokens exceeds the model's ${position.rows} positions`);
    }
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!(id >= 0 && id < word.rows)) {
        throw new DualbertError('INVALID_ARGUMENT', `wasm backend: token id ${id} (sequence ${Math.floor(i / T)}, position ${i % T}) is outside the vocabulary of ${word.rows}`);
      }
      const type = typeIds[i]!;
      if (!(type >= 0 && type < tokenType.rows)) {
        throw new DualbertError('INVALID_ARGUMENT', `wasm backend: token type id ${type} (sequence ${Math.floor(i / T)}, position ${i % T}) is outside the ${tokenType.rows} token types`);
      }
    }
    this.record('embed', [], out, 0, () => this.exports.embed(this.at(out), inputs.idsAt, inputs.typeIdsAt, word.offset, position.offset, tokenType.offset, ids.length, T, C));
  }

  // x is [rows, K], W is [M, K], out (and residual) [rows, M]: out = x·Wᵀ + b, then the epilogue.
  linear(node: LinearNode, x: WasmTensor, out: WasmTensor, residual: WasmTensor | undefined): void {
    this.check(x);
    this.check(out);
    const w = this.packed(node.weight);
    const b = this.slot(node.bias);
    const M = w.rows;
    const K = w.cols;
    const N = x.rows;
    if (x.cols !== K || out.cols !== M || out.rows !== N || b.rows !== M) {
      throw new DualbertError(
        'INVALID_ARGUMENT',
        `wasm backend: linear "${node.out}": x [${N}, ${x.cols}] · "${node.weight}"ᵀ [${K}, ${M}] + bias [${b.rows}] → out [${out.rows}, ${out.cols}] do not fit`,
      );
    }
    if (node.epilogue === 'residual') {
      if (!residual) throw new DualbertError('INVALID_ARGUMENT', `wasm backend: linear "${node.out}" has a residual epilogue but no residual`);
      this.check(residual);
      if (residual.rows !== N || residual.cols !== M) throw new DualbertError('INVALID_ARGUMENT', `wasm backend: residual of "${node.out}" is [${residual.rows}, ${residual.cols}], not [${N}, ${M}]`);
    }
    const plan = gemmPlan(N, K, M, this.threads);
    const epi = EPI[node.epilogue === 'none' ? 'bias' : node.epilogue];
    const reads = node.epilogue === 'residual' ? [x, residual!] : [x];
    const fusable: NonNullable<TapeEntry['fusable']> | undefined = plan.PG * 8 >= M ? { out } : undefined;
    this.record(`linear ${node.out.replace(/^encoder\.layer\.\d+\./, '')}`, reads, out, plan.packA ? this.exports.gemmScratchBytes(plan.MC, K) : 128, () => {
      const res = node.epilogue === 'residual' ? this.at(residual!) : 0;
      const ln = fusable?.ln;
      this.job(
        OP.GEMM,
        Math.ceil(N / plan.MC) * Math.ceil(Math.ceil(M / 8) / plan.PG),
        [this.at(x), w.offset, b.offset, this.at(out), res, N, K, M, epi, this.scratch.at, this.scratch.perThread, plan.MC, plan.PG, plan.packA ? 1 : 0, ln ? this.at(ln.out) : 0, ln?.gamma ?? 0, ln?.beta ?? 0],
        ln ? [[18, ln.eps]] : [],
      );
    });
    if (fusable) this.tape.at(-1)!.fusable = fusable;
  }

  // Row-wise over C columns.
  layerNorm(node: LayerNormNode, x: WasmTensor, out: WasmTensor): void {
    this.check(x);
    this.check(out);
    const gamma = this.slot(node.gamma);
    const beta = this.slot(node.beta);
    const C = x.cols;
    if (out.cols !== C || out.rows !== x.rows || gamma.rows !== C || beta.rows !== C) {
      throw new DualbertError('INVALID_ARGUMENT', `wasm backend: layerNorm "${node.out}": x [${x.rows}, ${C}], gamma [${gamma.rows}], beta [${beta.rows}], out [${out.rows}, ${out.cols}] do not fit`);
    }
    // Right after a GEMM whose tasks produce whole rows of x: each task normalizes its rows
    // while they are in cache (one job less, same arithmetic, same values).
    const last = this.tape.at(-1);
    if (last?.fusable && last.fusable.out === x && !last.fusable.ln) {
      last.fusable.ln = { out, gamma: gamma.offset, beta: beta.offset, eps: node.eps };
      last.writes.push(out);
      last.label += ' + layerNorm';
      this.plan = undefined;
      return;
    }
    this.record('layerNorm', [x], out, 0, () => this.job(OP.LAYERNORM, Math.ceil(x.rows / 16), [this.at(x), this.at(out), gamma.offset, beta.offset, x.rows, C], [[7, node.eps]]));
  }

  // qkv is [N, 3C], out is [N, C].
  attention(node: AttentionNode, qkv: WasmTensor, out: WasmTensor): void {
    const inputs = this.batch();
    this.check(qkv);
    this.check(out);
    const { numHeads: NH, headSize: HS } = node;
    const C = NH * HS;
    if (qkv.cols !== 3 * C || out.cols !== C || qkv.rows !== inputs.batchSize * inputs.seqLen || out.rows !== qkv.rows) {
      throw new DualbertError('INVALID_ARGUMENT', `wasm backend: attention "${node.out}": qkv [${qkv.rows}, ${qkv.cols}] and out [${out.rows}, ${out.cols}] do not fit ${NH} heads of ${HS}`);
    }
    this.record('attention', [qkv], out, this.exports.attentionScratchBytes(inputs.seqLen, HS), () =>
      this.job(OP.ATTENTION, inputs.batchSize * NH, [this.at(qkv), this.at(out), inputs.maskAt, inputs.batchSize, inputs.seqLen, NH, HS, 0, this.scratch.at, this.scratch.perThread], [[8, node.scale]]),
    );
  }

  // x is [N, C], out is [B, C].
  pool(node: PoolNode, x: WasmTensor, out: WasmTensor): void {
    const inputs = this.batch();
    this.check(x);
    this.check(out);
    if (!(node.mode in POOL)) throw new DualbertError('UNSUPPORTED_OP', `device wasm does not implement pooling ${node.mode} yet (the reference device does)`);
    if (x.rows !== inputs.batchSize * inputs.seqLen || out.rows !== inputs.batchSize || out.cols !== x.cols) {
      throw new DualbertError('INVALID_ARGUMENT', `wasm backend: pool "${node.out}": x [${x.rows}, ${x.cols}] → out [${out.rows}, ${out.cols}] do not fit the batch`);
    }
    const mode = POOL[node.mode as keyof typeof POOL];
    this.record('pool', [x], out, 0, () => this.exports.pool(this.at(out), this.at(x), inputs.maskAt, inputs.batchSize, inputs.seqLen, x.cols, mode));
  }

  // x and out are [B, C].
  normalize(node: NormalizeNode, x: WasmTensor, out: WasmTensor): void {
    this.check(x);
    this.check(out);
    if (out.rows !== x.rows || out.cols !== x.cols) {
      throw new DualbertError('INVALID_ARGUMENT', `wasm backend: normalize "${node.out}": x [${x.rows}, ${x.cols}] → out [${out.rows}, ${out.cols}]`);
    }
    this.record('normalize', [x], out, 0, () => this.exports.normalize(this.at(out), this.at(x), x.rows, x.cols, node.eps));
  }

  /** Writes a job's arguments (ARGS words 1..) and runs it on every thread. */
  private job(op: number, tasks: number, words: number[], floats: [number, number][] = []): void {
    const buf = this.memory.buffer;
    const args = new Int32Array(buf, this.ctrl + CTRL.ARGS, 32);
    const argsF32 = new Float32Array(buf, this.ctrl + CTRL.ARGS, 32);
    args[0] = op;
    words.forEach((v, i) => (args[i + 1] = v)); // offsets ≥ 2³¹ wrap to the same 32 bits the kernels read as u32
    for (const [i, v] of floats) argsF32[i] = v;
    if (tasks > MAX_TASKS) throw new DualbertError('DEVICE_UNAVAILABLE', `wasm backend: a job of ${tasks} tasks is more than the ${MAX_TASKS} the kernels count; use a smaller batch`);
    const self = (gen: number): void => this.exports.runJob(this.ctrl, 0, gen);
    if (this.workers) {
      try {
        this.workers.run(tasks, self);
      } catch (e) {
        this.workers = undefined; // the pool stopped itself: later batches run on this thread
        throw new DualbertError('DEVICE_UNAVAILABLE', `wasm backend: a job failed (${e instanceof Error ? e.message : String(e)})`, { cause: e });
      }
      return;
    }
    // Alone: the same protocol with plain words (layout.ts).
    const block = new Int32Array(buf, this.ctrl, CTRL.BYTES / 4);
    const gen = (block[CTRL.GEN / 4]! + 1) | 0;
    block[CTRL.GEN / 4] = gen;
    block[CTRL.TASK / 4] = (gen & 0xffff) << 16;
    block[CTRL.FINISHED / 4] = 0;
    self(gen);
  }

  private record(label: string, reads: WasmTensor[], write: WasmTensor, scratch: number, run: () => void): void {
    this.tape.push({ label, reads, writes: [write], scratch, run });
    this.plan = undefined; // a tape that grew must be planned (and run) again
  }

  /** The planned byte offset of an activation (only while the tape runs or after). */
  private at(t: WasmTensor): number {
    const offset = this.plan?.offsets.get(t);
    if (offset === undefined) throw new Error(`wasm backend: activation "${t.name}" has no place in the plan`);
    return offset;
  }

  /**
   * Places every activation of the tape in the arena. Blocks are pooled by size: an activation
   * takes a free block of its size (or new bytes) when it is first written, and gives it back
   * after its last reader, unless `pinned` (read after the tape: it must survive to the end).
   * An op's output never shares bytes with its inputs (they are freed after it is placed).
   */
  private planTape(pinned: (t: WasmTensor) => boolean): Plan {
    const lastRead = new Map<WasmTensor, number>();
    const lastWrite = new Map<WasmTensor, number>();
    this.tape.forEach((e, i) => {
      e.reads.forEach((r) => lastRead.set(r, i));
      e.writes.forEach((w) => lastWrite.set(w, i));
    });
    const offsets = new Map<WasmTensor, number>();
    const finalOwner = new Map<number, WasmTensor>();
    const free = new Map<number, number[]>();
    let top = this.activationStart;
    const release = (t: WasmTensor): void => {
      const bytes = align(t.rows * t.cols * 4);
      const list = free.get(bytes) ?? [];
      list.push(offsets.get(t)!);
      free.set(bytes, list);
    };
    let scratch = 0;
    this.tape.forEach((e, i) => {
      for (const r of e.reads) {
        if (!offsets.has(r)) throw new DualbertError('INVALID_ARGUMENT', `wasm backend: activation "${r.name}" is read before it is written`);
      }
      for (const w of e.writes) {
        if (offsets.has(w)) continue;
        const bytes = align(w.rows * w.cols * 4);
        let offset = free.get(bytes)?.pop();
        if (offset === undefined) {
          offset = top;
          top += bytes;
        }
        offsets.set(w, offset);
        finalOwner.set(offset, w);
      }
      for (const r of new Set(e.reads)) if (lastRead.get(r) === i && !pinned(r) && !e.writes.includes(r) && lastWrite.get(r)! < i) release(r);
      // Written and never read afterwards (and not pinned): its bytes are free at once.
      for (const w of e.writes) if (!pinned(w) && lastWrite.get(w) === i && !((lastRead.get(w) ?? -1) > i)) release(w);
      scratch = Math.max(scratch, e.scratch);
    });
    const perThread = align(scratch);
    this.scratch = { at: top, perThread };
    this.arenaEnd = top + perThread * this.threads;
    const inputs = this.inputs!;
    this.grow(this.arenaEnd, `a batch of ${inputs.batchSize} × ${inputs.seqLen} tokens`);
    return { offsets, finalOwner };
  }

  private grow(end: number, what: string): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    const total = have / PAGE + pages;
    try {
      if (total > this.maxPages) throw new RangeError(`over the maximum of ${this.maxPages} pages`);
      this.memory.grow(pages);
    } catch (e) {
      throw new DualbertError(
        'DEVICE_UNAVAILABLE',
        `wasm backend: ${what} needs ${mib(end)} of WebAssembly memory, which cannot grow past ${mib(have)} here ` +
          `(limit ${mib(this.maxPages * PAGE)}): use a smaller batchSize or shorter texts`,
        { cause: e },
      );
    }
  }

  /** A weight in GEMM-panel layout (re-laid on first use if it was stored as a table). */
  private packed(name: string): WeightSlot {
    const s = this.slot(name);
    if (s.tensor.shape.length !== 2) throw new DualbertError('INVALID_ARGUMENT', `wasm backend: weight "${name}" is not a matrix`);
    if (s.layout !== 'packed') {
      s.layout = 'packed';
      this.writeSlot(s);
    }
    return s;
  }

  /** A weight in row-major layout (re-laid on first use if it was stored as GEMM panels). */
  private raw(name: string): WeightSlot {
    const s = this.slot(name);
    if (s.layout !== 'raw') {
      s.layout = 'raw';
      this.writeSlot(s);
    }
    return s;
  }

  private slot(name: string): WeightSlot {
    const s = this.slots.get(name);
    if (!s) throw new DualbertError('INVALID_ARGUMENT', `wasm backend: weight "${name}" was not given to the backend`);
    return s;
  }

  /** Writes a weight in its current layout. Packed: W[8p + j][k] at (p·K + k)·8 + j, zeros past M. */
  private writeSlot(s: WeightSlot): void {
    const dst = new Float32Array(this.memory.buffer, s.offset, slotFloats(s.tensor));
    const src = s.tensor.data;
    if (s.layout === 'raw') {
      dst.set(src);
      dst.fill(0, src.length);
      return;
    }
    const M = s.rows;
    const K = s.cols;
    dst.fill(0);
    for (let m = 0; m < M; m++) {
      const base = (m >> 3) * K * 8 + (m & 7);
      const row = m * K;
      for (let k = 0; k < K; k++) dst[base + k * 8] = src[row + k]!;
    }
  }

  private check(t: WasmTensor): void {
    if (t.batch !== this.batchId || !this.inputs) {
      throw new DualbertError('INVALID_ARGUMENT', 'wasm backend: an activation of an ended batch was used (activations live from begin() to end())');
    }
  }

  private batch(): NonNullable<WasmBackend['inputs']> {
    this.live();
    if (!this.inputs) throw new DualbertError('INVALID_ARGUMENT', 'wasm backend: op called outside begin()/end()');
    return this.inputs;
  }

  private live(): void {
    if (this.disposed) throw new DualbertError('DISPOSED', 'this wasm backend was disposed');
  }
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/**
 * How a GEMM is cut into tasks: MC rows per block (multiple of 4, sized so the block's
 * MC·K floats stay in L2; smaller with threads), PG weight panels per task, and whether each block of x is packed.
 * Many row blocks: one task per block over all panels, x packed once per block. Few (small
 * batches): blocks × panel groups, enough tasks for every thread, x read in place (re-packing
 * it for every panel group would cost more than it saves).
 */
export function gemmPlan(N: number, K: number, M: number, threads: number): { MC: number; PG: number; packA: boolean } {
  const P = Math.ceil(M / 8);
  // Several threads: blocks of at most 20 rows (~0.5 ms of a MiniLM GEMM each), so the last
  // task of a job leaves the other threads idle for little time (measured: no cost per flop).
  const MC = Math.max(4, Math.min(threads > 1 ? 20 : 256, Math.floor(32768 / K / 4) * 4));
  const blocks = Math.ceil(N / MC);
  if (threads === 1 || blocks >= 4 * threads) return { MC, PG: P, packA: true };
  const groups = Math.min(P, Math.ceil((4 * threads) / blocks));
  return { MC, PG: Math.ceil(P / groups), packA: false };
}
