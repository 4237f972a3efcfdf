/**
 * The wasm backend: runs planned graphs with the AssemblyScript kernels (assembly/) in one
 * WebAssembly memory. Shapes use the legend of ts/graph/ops.ts.
 *
 * Memory layout (byte offsets, 64-byte aligned blocks):
 *   [0, heapBase)      the module's static data
 *   control block      job arguments and the counters threads synchronize on (abi.ts CTRL)
 *   weights            written once when the backend is created, laid out by role: vectors as
 *                      they are (padded to 8 floats with zeros, so kernels may read a full 8-lane
 *                      bias), tables row-major, linear weights as [⌈M/8⌉][K][8] GEMM panels;
 *                      q8 linear weights as int8 panels with their zero points and scales
 *                      (assembly/gemm-q8.ts), a quarter of the bytes; then zeros as wide as the
 *                      widest linear weight (the bias of a Dense head that has none: the GEMM
 *                      always adds one)
 *   batch arena        per batch: token ids, type ids and mask (i32), the q8 min/max stats, then
 *                      the plan's slots (each sized for this batch), then per-thread kernel scratch. It grows the
 *                      memory as needed, never past the memory's maximum (a clear error instead).
 */
import { DualbertError } from '../../errors.js';
import type { Batch } from '../../graph/batch.js';
import { type OpKernels, dispatchStep } from '../../graph/execute.js';
import type {
  AttentionNode,
  DenseNode,
  EmbedNode,
  GluNode,
  GraphNode,
  LayerNormNode,
  LinearNode,
  NormalizeNode,
  PoolNode,
  RopeNode,
} from '../../graph/ops.js';
import type { GraphPlan, PlanStep, PlannedValue } from '../../graph/plan.js';
import type { GraphWeight, GraphWeights } from '../../graph/weights.js';
import type { Backend, BackendStats, RunIO } from '../types.js';
import { ACT, CTRL, EPI, GLU, type JobArgs, type KernelExports, MAX_TASKS, OP, POOL, type WasmBuild } from './abi.js';
import * as A from './job-args.js';
import { relaxedDotExact } from './loader.js';
import type { ThreadPool } from './threads.js';

const PAGE = 65536;
const ALIGN = 64;
const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

/** Where a weight lives. */
interface WeightSlot {
  readonly offset: number;
  /** 2-D: [rows, cols] = [M, K] or [table rows, C]; 1-D: [n, 1]. */
  readonly rows: number;
  readonly cols: number;
  /**
   * q8 linear weights: byte offsets of the effective zero points (i32) and scales (f32) per row;
   * `colsum` (i32 per row) when the weights have the relaxed path's 7-bit layout.
   */
  readonly q8?: { readonly zpe: number; readonly scale: number; readonly colsum?: number };
}

/** Tasks of a q8 min/max job at most (its stats: one (min, max) pair of f32 per task). */
const Q8_STATS_TASKS = 64;

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
  for (const t of weights.values()) bytes += slotBytes(t);
  return bytes;
}

/**
 * Bytes reserved for a weight: linear weights rounded up to whole 8-row panels (q8: one byte per
 * weight over K rounded up to 4, then a zero point and a scale per row); others padded to 8 floats.
 */
function slotBytes(t: GraphWeight): number {
  if (t.role === 'linear' && t.quantized) {
    const M8 = Math.ceil(t.shape[0]! / 8) * 8;
    return align(M8 * q8PaddedK(t.shape[1]!)) + 3 * align(M8 * 4);
  }
  if (t.role === 'linear') return align(Math.ceil(t.shape[0]! / 8) * 8 * t.shape[1]! * 4);
  return align(Math.ceil(t.data.length / 8) * 8 * 4);
}

/** K rounded up to 4: the q8 panels and packed rows are zero past K (assembly/gemm-q8.ts). */
const q8PaddedK = (K: number): number => Math.ceil(K / 4) * 4;

/** Where the arena put this batch's inputs, slots and scratch. */
interface ArenaLayout {
  readonly idsAt: number;
  readonly typeIdsAt: number;
  readonly maskAt: number;
  /** The (min, max) pairs of a q8 min/max job. */
  readonly statsAt: number;
  readonly slotAt: readonly number[];
  readonly scratchAt: number;
  readonly scratchPerThread: number;
}

/**
 * The wasm device backend: the graph's ops on the AssemblyScript kernels, over one WebAssembly
 * memory shared with the worker threads (if any). Made by `createWasmBackend` (index.ts).
 * @example
 * const backend = (await createWasmBackend(weights, { threads: 2 })) as WasmBackend;
 * const { output } = await runGraph(graph, backend, batch);   // backend.build: 'simd-threads'
 * backend.dispose();
 */
export class WasmBackend implements Backend {
  readonly device = 'wasm' as const;
  /** A GEMM whose tasks cover whole rows LayerNorms them while they are in cache. */
  readonly fusesLinearNorm = true;
  /** Which build runs (relaxed, simd or scalar; -threads when workers share the memory). */
  readonly build: WasmBuild;
  readonly exports: KernelExports;
  private readonly memory: WebAssembly.Memory;
  private readonly maxPages: number;
  private readonly ctrl: number;
  private workers: ThreadPool | undefined;
  private readonly slots = new Map<string, WeightSlot>();
  /** Zeros as wide as the widest linear weight (padded to 8): the bias of a bias-free Dense head. */
  readonly zeros: number;
  /** First byte of the batch arena. */
  private readonly arenaStart: number;
  private arenaEnd = 0;
  private disposed = false;

  /**
   * Set to a Map to collect milliseconds per op (by label: 'attention', 'linear ffn.inner'...)
   * over every run, for benchmarks. Ops run synchronously, workers included.
   */
  profile: Map<string, number> | undefined;

  constructor(parts: WasmBackendParts, weights: GraphWeights) {
    this.build = parts.build;
    this.exports = parts.exports;
    this.memory = parts.memory;
    this.maxPages = parts.maxPages;
    this.ctrl = parts.ctrl;
    this.workers = parts.pool;
    let at = align(this.ctrl + CTRL.BYTES);
    for (const [name, tensor] of weights) {
      const bytes = slotBytes(tensor);
      this.grow(at + bytes, 'the model weights');
      let slot: WeightSlot;
      if (tensor.role === 'linear' && tensor.quantized) {
        slot = writeQ8Weight(this.memory.buffer, at, tensor, this.build.startsWith('relaxed') && relaxedDotExact());
      } else {
        const is2d = tensor.shape.length === 2;
        slot = { offset: at, rows: is2d ? tensor.shape[0]! : tensor.data.length, cols: is2d ? tensor.shape[1]! : 1 };
        writeWeight(new Float32Array(this.memory.buffer, at, bytes / 4), tensor);
      }
      at += bytes;
      this.slots.set(name, slot);
    }
    let widest = 8;
    for (const t of weights.values()) if (t.role === 'linear') widest = Math.max(widest, Math.ceil(t.shape[0]! / 8) * 8);
    this.zeros = at;
    at = align(at + widest * 4);
    this.grow(at, 'the model weights');
    new Float32Array(this.memory.buffer, this.zeros, widest).fill(0);
    this.arenaStart = at;
    this.arenaEnd = at;
  }

  /** Threads computing (1 + workers). */
  get threads(): number {
    return this.workers?.size ?? 1;
  }

  /** Bytes of WebAssembly memory held: weights, the largest batch arena so far, scratch. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Bytes the last batch used in the arena: inputs, activations, per-thread scratch. */
  get arenaBytes(): number {
    return this.arenaEnd - this.arenaStart;
  }

  stats(): BackendStats {
    return {
      device: 'wasm',
      threads: this.threads,
      weightBytes: this.zeros - align(this.ctrl + CTRL.BYTES),
      activationBytes: this.arenaBytes,
      wasmMemoryBytes: this.memoryBytes,
    };
  }

  /** Every node of the op vocabulary has a kernel here: every pooling mode and the Dense head. */
  supports(_node: GraphNode): boolean {
    return true;
  }

  dispose(): void {
    this.disposed = true;
    this.workers?.dispose();
    this.workers = undefined;
  }

  async execute(plan: GraphPlan, batch: Batch, io: RunIO): Promise<Float32Array[]> {
    if (this.disposed) throw new DualbertError('DISPOSED', 'this wasm backend was disposed');
    const kernels = new WasmKernels(this, batch);
    const layout = this.layout(plan, batch, kernels);
    kernels.layout = layout;
    const buf = this.memory.buffer;
    const n = batch.tokens;
    new Int32Array(buf, layout.idsAt, n).set(batch.ids);
    new Int32Array(buf, layout.typeIdsAt, n).set(batch.typeIds);
    new Int32Array(buf, layout.maskAt, n).set(batch.attentionMask);
    for (const [v, values] of io.writes) new Float32Array(buf, layout.slotAt[v.slot]!, values.length).set(values);
    const spans = new Map<PlannedValue, Span>();
    const span = (v: PlannedValue): Span => {
      let s = spans.get(v);
      if (!s) {
        s = { at: layout.slotAt[v.slot]!, rows: rowsOf(v, batch), cols: v.cols };
        spans.set(v, s);
      }
      return s;
    };
    const profile = this.profile;
    for (const step of plan.steps) {
      if (!profile) {
        dispatchStep(kernels, step, span);
        continue;
      }
      const start = performance.now();
      dispatchStep(kernels, step, span);
      const label = stepLabel(step);
      profile.set(label, (profile.get(label) ?? 0) + performance.now() - start);
    }
    return io.reads.map((v) => {
      const s = span(v);
      return new Float32Array(this.memory.buffer, s.at, s.rows * s.cols).slice();
    });
  }

  /** Places inputs, slots and scratch in the arena for this batch, growing the memory if needed. */
  private layout(plan: GraphPlan, batch: Batch, kernels: WasmKernels): ArenaLayout {
    const n = batch.tokens;
    const idsAt = this.arenaStart;
    const typeIdsAt = align(idsAt + n * 4);
    const maskAt = align(typeIdsAt + n * 4);
    const statsAt = align(maskAt + n * 4);
    let top = align(statsAt + Q8_STATS_TASKS * 8);
    const slotAt = plan.slots.map((s) => {
      const bytes = (s.rows === 'tokens' ? n : batch.batchSize) * s.cols * 4;
      if (bytes > this.maxPages * PAGE) {
        throw new DualbertError(
          'DEVICE_UNAVAILABLE',
          `wasm backend: an activation of ${mib(bytes)} is needed, and WebAssembly memory cannot grow past ${mib(this.maxPages * PAGE)}: use a smaller batchSize or shorter texts`,
        );
      }
      const at = top;
      top += align(bytes);
      return at;
    });
    let scratch = 0;
    for (const step of plan.steps) scratch = Math.max(scratch, kernels.scratchBytes(step));
    const scratchPerThread = align(scratch);
    this.arenaEnd = top + scratchPerThread * this.threads;
    this.grow(this.arenaEnd, `a batch of ${batch.batchSize} × ${batch.seqLen} tokens`);
    return { idsAt, typeIdsAt, maskAt, statsAt, slotAt, scratchAt: top, scratchPerThread };
  }

  /** Writes a job's arguments (ARGS words 1..) and runs it on every thread. */
  job(op: number, tasks: number, args: JobArgs): void {
    const buf = this.memory.buffer;
    const words = new Int32Array(buf, this.ctrl + CTRL.ARGS, 32);
    const floats = new Float32Array(buf, this.ctrl + CTRL.ARGS, 32);
    words[0] = op;
    for (const [slot, value, kind] of args) {
      if (kind === 'f32') floats[slot] = value;
      else words[slot] = value; // offsets ≥ 2³¹ wrap to the same 32 bits the kernels read as u32
    }
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
    block[CTRL.TASKS / 4] = tasks;
    block[CTRL.TASK / 4] = (gen & 0xffff) << 16;
    block[CTRL.FINISHED / 4] = 0;
    self(gen);
  }

  /**
   * How a weight is laid out: 'f32', 'q8' (int8, the i16 dot-product path) or 'q8-7bit' (the
   * relaxed builds' path for weights that span at most 128 values). For tests and diagnostics.
   */
  weightLayout(name: string): 'f32' | 'q8' | 'q8-7bit' {
    const s = this.weight(name);
    return s.q8 ? (s.q8.colsum !== undefined ? 'q8-7bit' : 'q8') : 'f32';
  }

  weight(name: string): WeightSlot {
    const s = this.slots.get(name);
    if (!s) throw new DualbertError('INVALID_ARGUMENT', `wasm backend: weight "${name}" was not given to the backend`);
    return s;
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
}

const rowsOf = (v: { rows: 'tokens' | 'sequences' }, batch: Batch): number => (v.rows === 'tokens' ? batch.tokens : batch.batchSize);

/** For profiles: the op, and for linear layers the output's name without the layer prefix. */
function stepLabel(step: PlanStep): string {
  const node = step.node;
  if (node.op !== 'linear') return node.op;
  return `linear ${node.out.replace(/^encoder\.layer\.\d+\./, '')}${step.norm ? ' + layerNorm' : ''}`;
}

/**
 * Writes a weight in its role's layout. Linear weights as GEMM panels: W[8p + j][k] at
 * (p·K + k)·8 + j, zeros past M. Everything else as it is, zeros after.
 */
function writeWeight(dst: Float32Array, t: GraphWeight): void {
  const src = t.data;
  if (t.role !== 'linear') {
    dst.set(src);
    dst.fill(0, src.length);
    return;
  }
  const M = t.shape[0]!;
  const K = t.shape[1]!;
  dst.fill(0);
  for (let m = 0; m < M; m++) {
    const base = (m >> 3) * K * 8 + (m & 7);
    const row = m * K;
    for (let k = 0; k < K; k++) dst[base + k * 8] = src[row + k]!;
  }
}

/**
 * Writes a q8 linear weight at byte `at` (layouts of assembly/gemm-q8.ts). uint8 weights are
 * stored as int8 (w − 128) with their zero points moved by 128; zeros past K and past M. Then
 * the effective zero points (i32) and the scales (f32), one per row, padded to 8, then room for
 * the column sums. The i16 path's panels: ⌈M/8⌉ panels of Kp/2 steps, a step being the weights
 * of the panel's 8 rows at k and k+1 ([r0k0 r0k1 r1k0 r1k1 … r7k1]). With `relaxed` and weights
 * that span at most 128 values, the relaxed path's instead: b = w8 + o in [0, 127], steps of 4 k
 * ([r0 k0..k3, …, r3 k0..k3 | r4 k0..k3, …, r7 k0..k3]), o folded into the zero points, and the
 * column sums Σ_k b.
 */
function writeQ8Weight(buffer: ArrayBufferLike, at: number, t: GraphWeight, relaxed: boolean): WeightSlot {
  const q = t.quantized!;
  const M = t.shape[0]!;
  const K = t.shape[1]!;
  const Kp = q8PaddedK(K);
  const M8 = Math.ceil(M / 8) * 8;
  const shift = q.dtype === 'uint8' ? 128 : 0;
  let lo = 127;
  let hi = -128;
  for (const v of q.values) {
    lo = Math.min(lo, v - shift);
    hi = Math.max(hi, v - shift);
  }
  // The relaxed dot product's second operand must lie in [0, 127] (its i7 contract).
  const seven = relaxed && hi - lo <= 127;
  const offset = seven ? -lo : 0;
  const panels = new Uint8Array(buffer, at, M8 * Kp);
  panels.fill(0);
  for (let m = 0; m < M; m++) {
    const row = m * K;
    const j = m & 7;
    const panel = (m >> 3) * Kp * 8;
    for (let k = 0; k < K; k++) {
      const w = q.values[row + k]! - shift + offset;
      // seven: step k/4 (32 bytes), rows 0–3 then 4–7, 4 bytes per row; else step k/2 (16 bytes), 2 per row.
      const i = seven ? panel + (k >> 2) * 32 + (j >> 2) * 16 + (j & 3) * 4 + (k & 3) : panel + (k >> 1) * 16 + j * 2 + (k & 1);
      panels[i] = w & 0xff;
    }
  }
  const zpeAt = at + align(M8 * Kp);
  const scaleAt = zpeAt + align(M8 * 4);
  const colsumAt = scaleAt + align(M8 * 4);
  const zpe = new Int32Array(buffer, zpeAt, M8).fill(0);
  const scale = new Float32Array(buffer, scaleAt, M8).fill(0);
  const colsum = new Int32Array(buffer, colsumAt, M8).fill(0);
  for (let m = 0; m < M; m++) {
    const i = q.scale.length === 1 ? 0 : m;
    zpe[m] = q.zeroPoint[i]! - shift + offset;
    scale[m] = q.scale[i]!;
    if (seven) for (let k = 0; k < K; k++) colsum[m] += q.values[m * K + k]! - shift + offset;
  }
  return { offset: at, rows: M, cols: K, q8: { zpe: zpeAt, scale: scaleAt, ...(seven ? { colsum: colsumAt } : {}) } };
}

/** An activation of this batch: its byte offset in the arena and its [rows, cols]. */
interface Span {
  readonly at: number;
  readonly rows: number;
  readonly cols: number;
}

/** The ops of one batch as kernel jobs over spans of the arena. */
class WasmKernels implements OpKernels<Span> {
  layout!: ArenaLayout;

  constructor(
    private readonly backend: WasmBackend,
    private readonly batch: Batch,
  ) {}

  /** Per-thread scratch a step needs. */
  scratchBytes(step: PlanStep): number {
    const node = step.node;
    if (node.op === 'attention') return this.backend.exports.attentionScratchBytes(this.batch.seqLen, node.headSize);
    if (node.op !== 'linear' && node.op !== 'dense') return 0;
    const w = this.backend.weight(node.weight);
    const plan = gemmPlan(rowsOf(step.out, this.batch), w.cols, w.rows, this.backend.threads);
    if (w.q8) return this.backend.exports.gemmQ8ScratchBytes(plan.MC, w.cols);
    return plan.packA ? this.backend.exports.gemmScratchBytes(plan.MC, w.cols) : 128;
  }

  // out is [N, C]: word[ids[n]] + position[n mod T] + tokenType[typeIds[n]].
  embed(node: EmbedNode, out: Span): void {
    const word = this.backend.weight(node.word);
    const { seqLen: T, tokens: N } = this.batch;
    const { idsAt, typeIdsAt } = this.layout;
    // Offset 0 is the control block, never a table: it tells the kernel the table is absent.
    const position = node.position ? this.backend.weight(node.position).offset : 0;
    const tokenType = node.tokenType ? this.backend.weight(node.tokenType).offset : 0;
    this.backend.exports.embed(out.at, idsAt, typeIdsAt, word.offset, position, tokenType, N, T, word.cols, node.positionOffset ?? 0);
  }

  // x and out are [N, 3C]: Q and K rotated by the angles of each row's position.
  rope(node: RopeNode, x: Span, out: Span): void {
    const { seqLen: T, tokens: N } = this.batch;
    const cos = this.backend.weight(node.cos).offset;
    const sin = this.backend.weight(node.sin).offset;
    this.backend.exports.rope(out.at, x.at, cos, sin, N, T, node.numHeads, node.headSize, node.layout === 'interleaved' ? 1 : 0);
  }

  // x is [N, 2I], out is [N, I].
  glu(node: GluNode, x: Span, out: Span): void {
    this.backend.exports.glu(out.at, x.at, x.rows, out.cols, GLU[node.activation]);
  }

  // x is [rows, K], W is [M, K], out (and residual) [rows, M]: out = x·Wᵀ + b, then the epilogue;
  // with `norm`, each task also normalizes its rows (when its tasks cover whole rows).
  linear(node: LinearNode, x: Span, out: Span, residual: Span | undefined, norm: { node: LayerNormNode; out: Span } | undefined): boolean {
    if (node.precision === 'q8') return this.linearQ8(node, this.backend.weight(node.weight), x, out, residual, norm);
    const bias = this.backend.weight(node.bias).offset;
    return this.gemm(node.weight, bias, x, out, EPI[node.epilogue === 'none' ? 'bias' : node.epilogue], residual, norm);
  }

  // x is [B, K], W is [M, K], out is [B, M]: out = act(x·Wᵀ + b). The GEMM job (GELU as its
  // epilogue), then tanh / ReLU / sigmoid over the B·M values (a head: a few thousand at most).
  dense(node: DenseNode, x: Span, out: Span): void {
    const bias = node.bias ? this.backend.weight(node.bias).offset : this.backend.zeros;
    this.gemm(node.weight, bias, x, out, node.activation === 'gelu' ? EPI.gelu : EPI.bias, undefined, undefined);
    if (node.activation === 'gelu' || node.activation === 'identity') return;
    this.backend.exports.activate(out.at, out.rows * out.cols, ACT[node.activation]);
  }

  /** One GEMM job: out = x·Wᵀ + bias, then `epi`; returns whether it also applied `norm`. */
  private gemm(weight: string, bias: number, x: Span, out: Span, epi: number, residual: Span | undefined, norm: { node: LayerNormNode; out: Span } | undefined): boolean {
    const w = this.backend.weight(weight);
    const M = w.rows;
    const K = w.cols;
    const N = x.rows;
    const plan = gemmPlan(N, K, M, this.backend.threads);
    const ln = norm && plan.PG * 8 >= M ? norm : undefined;
    const { scratchAt, scratchPerThread } = this.layout;
    const args: JobArgs = [
      [A.GEMM_X, x.at],
      [A.GEMM_W, w.offset],
      [A.GEMM_BIAS, bias],
      [A.GEMM_OUT, out.at],
      [A.GEMM_RESIDUAL, residual?.at ?? 0],
      [A.GEMM_N, N],
      [A.GEMM_K, K],
      [A.GEMM_M, M],
      [A.GEMM_EPI, epi],
      [A.GEMM_SCRATCH, scratchAt],
      [A.GEMM_SCRATCH_PER_THREAD, scratchPerThread],
      [A.GEMM_MC, plan.MC],
      [A.GEMM_PG, plan.PG],
      [A.GEMM_PACK_A, plan.packA ? 1 : 0],
      [A.GEMM_LN_OUT, ln ? ln.out.at : 0],
      [A.GEMM_LN_GAMMA, ln ? this.backend.weight(ln.node.gamma).offset : 0],
      [A.GEMM_LN_BETA, ln ? this.backend.weight(ln.node.beta).offset : 0],
      [A.GEMM_LN_EPS, ln ? ln.node.eps : 0, 'f32'],
    ];
    this.backend.job(OP.GEMM, Math.ceil(N / plan.MC) * Math.ceil(Math.ceil(M / 8) / plan.PG), args);
    return ln !== undefined;
  }

  // The same in int8 (assembly/gemm-q8.ts): a min/max job over x, then the q8 GEMM job.
  private linearQ8(node: LinearNode, w: WeightSlot, x: Span, out: Span, residual: Span | undefined, norm: { node: LayerNormNode; out: Span } | undefined): boolean {
    if (!w.q8) throw new DualbertError('INVALID_ARGUMENT', `wasm backend: "${node.weight}" is not a q8 weight, the graph computes it in q8`);
    const M = w.rows;
    const K = w.cols;
    const N = x.rows;
    const count = N * K;
    const chunk = Math.max(4096, Math.ceil(count / Q8_STATS_TASKS / 4) * 4);
    const statsCount = Math.ceil(count / chunk);
    const { scratchAt, scratchPerThread, statsAt } = this.layout;
    this.backend.job(OP.Q8_MINMAX, statsCount, [
      [A.Q8MM_X, x.at],
      [A.Q8MM_COUNT, count],
      [A.Q8MM_STATS, statsAt],
      [A.Q8MM_CHUNK, chunk],
    ]);
    const plan = gemmPlan(N, K, M, this.backend.threads);
    const ln = norm && plan.PG * 8 >= M ? norm : undefined;
    this.backend.job(OP.Q8_GEMM, Math.ceil(N / plan.MC) * Math.ceil(Math.ceil(M / 8) / plan.PG), [
      [A.Q8_X, x.at],
      [A.Q8_W, w.offset],
      [A.Q8_ZPE, w.q8.zpe],
      [A.Q8_WSCALE, w.q8.scale],
      [A.Q8_BIAS, this.backend.weight(node.bias).offset],
      [A.Q8_OUT, out.at],
      [A.Q8_RESIDUAL, residual?.at ?? 0],
      [A.Q8_N, N],
      [A.Q8_K, K],
      [A.Q8_M, M],
      [A.Q8_EPI, EPI[node.epilogue === 'none' ? 'bias' : node.epilogue]],
      [A.Q8_SCRATCH, scratchAt],
      [A.Q8_SCRATCH_PER_THREAD, scratchPerThread],
      [A.Q8_MC, plan.MC],
      [A.Q8_PG, plan.PG],
      [A.Q8_LN_OUT, ln ? ln.out.at : 0],
      [A.Q8_LN_GAMMA, ln ? this.backend.weight(ln.node.gamma).offset : 0],
      [A.Q8_LN_BETA, ln ? this.backend.weight(ln.node.beta).offset : 0],
      [A.Q8_LN_EPS, ln ? ln.node.eps : 0, 'f32'],
      [A.Q8_STATS, statsAt],
      [A.Q8_STATS_COUNT, statsCount],
      [A.Q8_COLSUM, w.q8.colsum ?? 0],
    ]);
    return ln !== undefined;
  }

  // Row-wise over C columns.
  layerNorm(node: LayerNormNode, x: Span, out: Span): void {
    this.backend.job(OP.LAYERNORM, Math.ceil(x.rows / 16), [
      [A.LN_X, x.at],
      [A.LN_OUT, out.at],
      [A.LN_GAMMA, this.backend.weight(node.gamma).offset],
      [A.LN_BETA, this.backend.weight(node.beta).offset],
      [A.LN_N, x.rows],
      [A.LN_C, x.cols],
      [A.LN_EPS, node.eps, 'f32'],
    ]);
  }

  // qkv is [N, 3C], out is [N, C].
  attention(node: AttentionNode, qkv: Span, out: Span): void {
    const { batchSize: B, seqLen: T } = this.batch;
    const bias = node.positionBias ? this.backend.weight(node.positionBias) : undefined;
    const { maskAt, scratchAt, scratchPerThread } = this.layout;
    this.backend.job(OP.ATTENTION, B * node.numHeads, [
      [A.ATTN_QKV, qkv.at],
      [A.ATTN_OUT, out.at],
      [A.ATTN_MASK, maskAt],
      [A.ATTN_B, B],
      [A.ATTN_T, T],
      [A.ATTN_NH, node.numHeads],
      [A.ATTN_HS, node.headSize],
      [A.ATTN_SCALE, node.scale, 'f32'],
      [A.ATTN_SCRATCH, scratchAt],
      [A.ATTN_SCRATCH_PER_THREAD, scratchPerThread],
      [A.ATTN_WINDOW, node.window ?? -1],
      [A.ATTN_BIAS, bias ? bias.offset : 0],
      [A.ATTN_BIAS_SPAN, bias ? (bias.cols + 1) / 2 : 0],
    ]);
  }

  // x is [N, C], out is [B, C].
  pool(node: PoolNode, x: Span, out: Span): void {
    const { batchSize: B, seqLen: T } = this.batch;
    this.backend.exports.pool(out.at, x.at, this.layout.maskAt, B, T, x.cols, POOL[node.mode]);
  }

  // x and out are [B, C].
  normalize(node: NormalizeNode, x: Span, out: Span): void {
    this.backend.exports.normalize(out.at, x.at, x.rows, x.cols, node.eps);
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
