/**
 * The webgpu backend: the graph's ops as WGSL compute kernels, weights resident on the GPU.
 *
 * A batch is one command encoder, one compute pass, one submit, then one copy of just the values
 * asked for (the pooled output) into a mappable buffer. Per batch the host only writes the
 * inputs and a block of uniforms and looks up cached pipelines and bind groups; nothing is
 * compiled or allocated after the first batch of a bucket (see pool.ts). Weights are laid out
 * once at creation by role: every linear weight is transposed on the GPU in one submit.
 */
import { DualbertError } from '../../errors.js';
import type { Batch } from '../../graph/batch.js';
import { type OpKernels, dispatchStep } from '../../graph/execute.js';
import type { AttentionNode, DenseNode, EmbedNode, GluNode, GraphNode, LayerNormNode, LinearNode, NormalizeNode, PoolNode, RopeNode } from '../../graph/ops.js';
import type { GraphPlan, PlannedValue } from '../../graph/plan.js';
import type { GraphWeight, GraphWeights } from '../../graph/weights.js';
import { fromHalfArray, toHalfArray } from '../../half.js';
import type { Backend, BackendStats, RunIO, WebGpuStats, WebGpuTuning } from '../types.js';

export type { WebGpuTuning } from '../types.js';
import { bindingOf } from './abi.js';
import type { Act, InputName, KernelCall } from './calls.js';
import { type GpuContext, MAP_READ_MODE, Usage } from './gpu.js';
import {
  type KernelConfig,
  attentionCall,
  denseCall,
  embedCall,
  gluCall,
  ropeCall,
  layerNormCall,
  linearCalls,
  normalizeCall,
  poolCall,
  splitKFor,
  transposeDispatch,
} from './kernels.js';
import { type Q8Weight, Q8_STATS_WORDS, q8LinearCalls } from './kernels-q8.js';
import { type PipelineCache, pipelineCache } from './pipelines.js';
import { q8Layout } from './q8-layout.js';
import { ActivationPool, type Bucket, GpuBuffer, PARAMS_STRIDE, roundUp16 } from './pool.js';

/** Where the time of the last batch went. */
export interface WebGpuTimings {
  /** The whole compute pass, in ms, from timestamp queries (with `timestamps`, where supported). */
  gpuMs?: number;
  /**
   * Host side, in ms: `record` from begin() to read() (validating inputs, recording ops),
   * `encode` from read() to submit (planning, uploads, encoding), `wait` from submit until the
   * result and the error scopes are back (GPU work plus the round trip).
   */
  host: { record: number; encode: number; wait: number };
  /** With `profile`: every kernel call in order (each in its own pass, so a little slower). */
  kernels?: { op: string; key: string; ms: number; flop: number }[];
}

const MAX_BIND_GROUPS_PER_BUCKET = 4096;
/** Batch shapes whose kernel calls are kept per plan. */
const MAX_LISTED_SHAPES = 64;

/** The kernel calls of a plan on one batch shape (see WebGpuBackend.listing). */
interface Listing {
  readonly calls: readonly KernelCall[];
  readonly actOf: (v: PlannedValue) => Act;
  /** The uniforms of every call, PARAMS_STRIDE bytes apart. */
  readonly block: Uint32Array<ArrayBuffer>;
  readonly scratchCols: number;
  readonly q8Words: number;
  /** Word rows gathered on the host for this batch (never cached). */
  readonly words: Float32Array | Uint16Array | undefined;
  /** Kept for the next batch of this shape. */
  readonly cached: boolean;
  /** The pipelines and bind groups of the last encoding, valid for that bucket and generation. */
  bound?: { bucket: Bucket; generation: number; pipelines: GPUComputePipeline[]; groups: GPUBindGroup[] };
}
/** [B, T] of the batches whose kernel variants warmUp compiles: a short one (split-K) and a long one. */
const WARM_UP_SHAPES: readonly (readonly [number, number])[] = [
  [1, 16],
  [32, 128],
];

/**
 * The webgpu backend of one model: implements the graph's ops with WGSL kernels.
 * Create it with {@link createWebGpuBackend}; `runGraph` drives it.
 * @example
 * const backend = await createWebGpuBackend(weights, { timestamps: true });
 * const { output } = await runGraph(graph, backend, batch);   // one submit, one readback
 * console.log(backend.lastTimings?.gpuMs, backend.stats().webgpu?.buckets);
 * backend.dispose();
 */
export class WebGpuBackend implements Backend {
  readonly device = 'webgpu' as const;
  readonly threads = 1;
  /** See {@link WebGpuTuning.overlapBatches}. */
  readonly overlapsBatches: boolean;
  /** The timings of the last batch. */
  lastTimings: WebGpuTimings | undefined;

  private readonly gpu: GPUDevice;
  /** Weights by name: linear weights transposed to [K, M], the rest as given. */
  private readonly weights = new Map<string, { buffer: GpuBuffer; shape: readonly number[] }>();
  /** q8 linear weights by name, in the layout of q8-layout.ts. */
  private readonly q8Weights = new Map<string, Q8Weight>();
  private readonly activations: ActivationPool;
  private readonly pipelines: PipelineCache;
  private readonly config: KernelConfig;
  private readonly elemBytes: number;
  private readonly querySet: GPUQuerySet | undefined;
  /** Timestamps around every kernel instead of around the whole pass. */
  private readonly profile: boolean = false;
  private readonly queryResolve: GpuBuffer | undefined;
  private lostInfo: GPUDeviceLostInfo | undefined;
  /** The first GPU error outside our error scopes. */
  private uncaptured: string | undefined;
  private readonly onUncapturedError = (ev: Event): void => {
    this.uncaptured ??= (ev as GPUUncapturedErrorEvent).error.message;
  };
  private disposed = false;
  private submits = 0;
  private buffersCreated = 0;
  private weightBytes = 0;
  /** Embedding tables too large to bind (XLM-R's 250k rows): kept here, gathered per batch. */
  private readonly hostTables = new Map<string, { data: Float32Array | Uint16Array; cols: number }>();
  private readonly hostTableLimit: number;
  private readonly warmUpMode: NonNullable<WebGpuTuning['warmUp']>;
  private readonly reuseCalls: boolean;
  private readonly listings = new WeakMap<GraphPlan, Map<string, Listing>>();

  /** Use {@link createWebGpuBackend}. */
  constructor(
    readonly context: GpuContext,
    weights: GraphWeights,
    options: { tuning?: WebGpuTuning; timestamps?: boolean; profile?: boolean; halfWeights?: boolean } = {},
  ) {
    const device = context.device;
    this.gpu = device;
    const limits = device.limits;
    const tuning = options.tuning ?? {};
    this.config = {
      f16: context.capabilities.f16,
      // f16 activations already store the weights as f16 (array<f16>): no packing on top.
      halfWeights: options.halfWeights === true && !context.capabilities.f16,
      subgroups: context.capabilities.subgroups && tuning.subgroups !== false,
      gemmBK: tuning.gemmBK ?? 16,
      gemmTM: tuning.gemmTM ?? 4,
      gemmTN: tuning.gemmTN ?? 4,
      gemmTileByRows: tuning.gemmTM === undefined && tuning.gemmTN === undefined,
      splitK: tuning.splitK ?? true,
      attentionKeys: tuning.attentionKeys ?? 32,
      attentionQueries: tuning.attentionQueries ?? 1,
      attentionQueriesByLength: tuning.attentionQueries === undefined,
      workgroupStorage: limits.maxComputeWorkgroupStorageSize,
      workgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      packedDot4: context.capabilities.packedDot4 === true && tuning.packedDot4 !== false,
    };
    this.elemBytes = this.config.f16 ? 2 : 4;
    this.overlapsBatches = tuning.overlapBatches !== false;
    // Software adapters compile pipelines one at a time, slowly: only those a batch uses, when it runs.
    this.warmUpMode = tuning.warmUp ?? (context.capabilities.software ? 'lazy' : 'async');
    this.reuseCalls = tuning.reuseCalls !== false;
    this.hostTableLimit = tuning.hostTableBytes ?? Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    this.pipelines = pipelineCache(device);
    this.activations = new ActivationPool(device, Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize));

    device.lost.then((info) => {
      if (!this.disposed) this.lostInfo = info;
    });
    device.addEventListener('uncapturederror', this.onUncapturedError);

    if ((options.timestamps || options.profile) && context.capabilities.timestamps) {
      // Profile mode writes two timestamps per kernel; the whole-pass mode two in all.
      const count = options.profile ? 2 * 1024 : 2;
      this.querySet = device.createQuerySet({ type: 'timestamp', count, label: 'dualbert timestamps' });
      this.queryResolve = new GpuBuffer(device.createBuffer({ size: count * 8, usage: Usage.QUERY_RESOLVE | Usage.COPY_SRC }), count * 8);
      this.profile = options.profile === true;
    }
    this.upload(weights);
  }

  /** Which kernel variants and limits this backend uses, for logs and benchmarks. */
  get info(): {
    adapter: GpuContext['adapterInfo'];
    f16: boolean;
    halfWeights: boolean;
    subgroups: boolean;
    gemmBK: number;
    gemmTM: number;
    gemmTN: number;
    splitK: boolean;
    attentionKeys: number;
    attentionQueries: number;
    timestamps: boolean;
    packedDot4: boolean;
  } {
    return {
      adapter: this.context.adapterInfo,
      f16: this.config.f16,
      halfWeights: this.config.halfWeights,
      subgroups: this.config.subgroups,
      gemmBK: this.config.gemmBK,
      gemmTM: this.config.gemmTM,
      gemmTN: this.config.gemmTN,
      splitK: this.config.splitK,
      attentionKeys: this.config.attentionKeys,
      attentionQueries: this.config.attentionQueries,
      timestamps: this.querySet !== undefined,
      packedDot4: this.config.packedDot4 === true,
    };
  }

  /** Counters: pipelines, bind groups, buckets, bytes, submits. */
  stats(): BackendStats & { webgpu: WebGpuStats } {
    const webgpu: WebGpuStats = {
      pipelines: this.pipelines.size,
      bindGroups: this.activations.bindGroups,
      buckets: this.activations.bucketRows,
      readbackBuffers: this.activations.readbackBuffers,
      activationBytes: this.activations.bytes,
      weightBytes: this.weightBytes,
      hostTableBytes: [...this.hostTables.values()].reduce((a, t) => a + t.data.byteLength, 0),
      submits: this.submits,
      buffersCreated: this.buffersCreated + this.activations.counters.created,
    };
    return { device: 'webgpu', threads: 1, weightBytes: this.weightBytes, activationBytes: webgpu.activationBytes, webgpu };
  }

  /**
   * Every node of the op vocabulary has a kernel here (every pooling mode and the Dense head),
   * int8 (q8) linear layers included (kernels-q8.ts) — except with f16 activations (shaderF16):
   * onnxruntime's arithmetic quantizes float32 inputs.
   */
  supports(node: GraphNode): boolean {
    return !(node.op === 'linear' && node.precision === 'q8' && this.config.f16);
  }

  /** A q8 linear weight, laid out once on the CPU (q8-layout.ts): a quarter of the float bytes. */
  private uploadQ8(name: string, t: GraphWeight): void {
    if (!t.quantized) throw new DualbertError('INVALID_WEIGHTS', `webgpu: "${name}" is not quantized, the graph computes it in q8`);
    const [M, K] = t.shape as [number, number];
    const layout = q8Layout(M, K, t.quantized);
    const words = this.createStorage(layout.words, `weight ${name} (q8)`);
    const meta = this.createStorage(layout.meta, `weight ${name} (q8 scales)`);
    this.q8Weights.set(name, { words, meta, m: M, mp: layout.mp, k: K, kw: layout.kw });
    this.weights.set(name, { buffer: words, shape: t.shape });
    this.weightBytes += words.bytes + meta.bytes;
  }

  /** A q8 linear weight (see uploadQ8). */
  q8Weight(name: string): Q8Weight {
    const w = this.q8Weights.get(name);
    if (!w) throw new DualbertError('INVALID_WEIGHTS', `webgpu: "${name}" is not a q8 weight, the graph computes it in q8`);
    return w;
  }

  /**
   * Uploads every graph weight once, converted to the storage type; linear weights [M, K] are
   * then transposed to [K, M] (the layout the GEMM streams) on the GPU, all in one submit, and
   * their untransposed copies freed.
   */
  private upload(weights: GraphWeights): void {
    const encoder = this.gpu.createCommandEncoder({ label: 'dualbert weight transposes' });
    const pass = encoder.beginComputePass();
    const temporary: GPUBuffer[] = [];
    for (const [name, t] of weights) {
      if (t.role === 'linear' && t.precision === 'q8') {
        this.uploadQ8(name, t);
        continue;
      }
      if (this.config.halfWeights && (t.role === 'linear' || (t.role === 'table' && !t.derived))) {
        // f16 pairs in u32 (kernels.ts halfWeights): linear weights transposed here, on the CPU;
        // embedding tables as they are (RoPE and bias tables, made at load, stay f32).
        const bits = halfBits(t.role === 'linear' ? transposed(t) : t.data, name);
        if (t.role === 'table' && bits.byteLength > this.hostTableLimit) {
          this.hostTables.set(name, { data: t.data, cols: t.shape[1]! }); // gathered per batch, as f32 rows
          continue;
        }
        const buffer = this.createStorage(bits, `weight ${name} (f16)`);
        this.weights.set(name, { buffer, shape: t.shape });
        this.weightBytes += buffer.bytes;
        continue;
      }
      let data: Float32Array | Uint16Array = t.data;
      if (this.config.f16) {
        data = toHalfArray(t.data);
        const bad = data.findIndex((h) => (h & 0x7c00) === 0x7c00);
        if (bad >= 0) throw new DualbertError('INVALID_WEIGHTS', `weights: "${name}"[${bad}] = ${t.data[bad]} does not fit in f16: use dtype "fp32"`);
      }
      if (t.role === 'table' && data.byteLength > this.hostTableLimit) {
        // One binding cannot hold it (WebGPU's default limit is 128 MiB; XLM-R base's word
        // table is 768 MiB): the rows a batch needs are gathered on the host and uploaded.
        this.hostTables.set(name, { data, cols: t.shape[1]! });
        continue;
      }
      const source = this.createStorage(data, `weight ${name}`);
      if (t.role !== 'linear') {
        this.weights.set(name, { buffer: source, shape: t.shape });
        this.weightBytes += source.bytes;
        continue;
      }
      const [rows, cols] = t.shape as [number, number];
      const target = new GpuBuffer(this.gpu.createBuffer({ size: source.bytes, usage: Usage.STORAGE, label: `weight ${name} (transposed)` }), source.bytes);
      this.buffersCreated++;
      const d = transposeDispatch(this.config, rows, cols);
      const pipeline = this.pipelines.get(d.key);
      const params = this.gpu.createBuffer({ size: 16, usage: Usage.UNIFORM, mappedAtCreation: true });
      new Uint32Array(params.getMappedRange()).set(d.params);
      params.unmap();
      pass.setPipeline(pipeline);
      pass.setBindGroup(
        0,
        this.gpu.createBindGroup({
          layout: pipeline.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: params } },
            { binding: bindingOf('transpose', 'src'), resource: { buffer: source.gpu } },
            { binding: bindingOf('transpose', 'dst'), resource: { buffer: target.gpu } },
          ],
        }),
      );
      pass.dispatchWorkgroups(...d.workgroups);
      temporary.push(source.gpu, params);
      this.weights.set(name, { buffer: target, shape: t.shape });
      this.weightBytes += target.bytes;
    }
    pass.end();
    this.gpu.queue.submit([encoder.finish()]);
    this.submits++;
    // Freed once the submitted transposes have run (destroy waits for submitted work).
    for (const b of temporary) b.destroy();
  }

  private createStorage(data: Float32Array | Uint16Array | Uint32Array, label: string): GpuBuffer {
    const bytes = roundUp16(Math.max(data.byteLength, 16));
    const gpu = this.gpu.createBuffer({ size: bytes, usage: Usage.STORAGE | Usage.COPY_DST, label, mappedAtCreation: true });
    new Uint8Array(gpu.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    gpu.unmap();
    this.buffersCreated++;
    return new GpuBuffer(gpu, bytes);
  }

  private live(): void {
    if (this.disposed) throw new DualbertError('DISPOSED', 'this webgpu backend was disposed');
    if (this.lostInfo) {
      throw new DualbertError(
        'DEVICE_UNAVAILABLE',
        `webgpu: the GPU device was lost (${this.lostInfo.reason}: ${this.lostInfo.message || 'no message'}); create a new embedder`,
      );
    }
  }

  /** A weight's shape as the graph gave it. */
  weightShape(name: string): readonly number[] {
    return this.weights.get(name)?.shape ?? [];
  }

  /** A table kept on the host (too large to bind), if `name` is one. */
  hostTable(name: string): { data: Float32Array | Uint16Array; cols: number } | undefined {
    return this.hostTables.get(name);
  }

  /** A weight's buffer (linear weights: the transposed one). */
  weight(name: string): GpuBuffer {
    const w = this.weights.get(name);
    if (!w) throw new DualbertError('INVALID_WEIGHTS', `webgpu: weight "${name}" was not given to the backend`);
    return w.buffer;
  }

  /**
   * Compiles the kernel variants that batches of `plan` use, in parallel (createComputePipelineAsync),
   * before the first batch: the kernel calls of a short batch (split-K GEMMs) and of a long one
   * are listed without running anything, and their pipelines prepared. Only those variants are
   * compiled, never the whole matrix of defines.
   */
  async warmUp(plan: GraphPlan): Promise<void> {
    this.live();
    if (this.warmUpMode === 'lazy') return;
    const keys = new Map<string, KernelCall['key']>();
    for (const [B, T] of WARM_UP_SHAPES) {
      const N = B * T;
      const batch: Batch = { batchSize: B, seqLen: T, tokens: N, ids: new Int32Array(N), typeIds: new Int32Array(N), attentionMask: new Uint8Array(N).fill(1), seqLengths: new Uint32Array(B).fill(T) };
      const kernels = new WebGpuKernels(this, this.config, batch, this.elemBytes, true);
      const actOf = slotActs();
      for (const step of plan.steps) dispatchStep(kernels, step, actOf);
      for (const k of kernels.calls) keys.set(k.keyString, k.key);
    }
    if (this.warmUpMode === 'sync') for (const [keyString, key] of keys) this.pipelines.get(key, keyString);
    else await this.pipelines.prepare(keys.values());
  }

  /**
   * Encodes every step of the plan (one pass), copies the values read into the readback buffer,
   * submits once and maps once.
   */
  async execute(plan: GraphPlan, batch: Batch, io: RunIO): Promise<Float32Array[]> {
    this.live();
    const begunAt = performance.now();
    const { batchSize: B, tokens: N } = batch;
    const bucket = this.activations.bucketFor(N);
    const rowsOf = (a: { rows: 'tokens' | 'sequences' }): number => (a.rows === 'tokens' ? N : B);
    const kernels = this.listing(plan, batch);
    const calls = kernels.calls;
    const actOf = kernels.actOf;
    if (this.profile && 2 * calls.length > this.queryResolve!.bytes / 8) {
      throw new DualbertError('INVALID_ARGUMENT', `webgpu: profiling supports at most ${this.queryResolve!.bytes / 16} kernels per batch`);
    }

    // Size every buffer before encoding: a buffer that grows replaces the old one and drops the
    // bind groups naming it, which must not happen once the encoder holds some of them.
    const buffers = new Map<string, GpuBuffer>();
    for (const [i, s] of plan.slots.entries()) buffers.set(`s${i}`, bucket.slot(`s${i}`, s.rows, rowsOf(s), s.cols, this.elemBytes));
    if (kernels.scratchCols > 0) buffers.set('scratch', bucket.slot('scratch', 'tokens', N, kernels.scratchCols, this.elemBytes));
    if (kernels.q8Words > 0) {
      buffers.set('q8x', bucket.slot('q8x', 'tokens', N, kernels.q8Words, 4));
      buffers.set('q8stats', bucket.slot('q8stats', 'sequences', 1, Q8_STATS_WORDS, 4));
    }
    if (kernels.words) bucket.sizedInput('words', kernels.words.byteLength);
    const bufferOf = (a: Act): GpuBuffer => buffers.get(a.buffer)!;

    const readAt = performance.now();
    const device = this.gpu;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    device.pushErrorScope('internal');
    const reads = io.reads.map((v) => {
      const valueBytes = rowsOf(v) * v.cols * this.elemBytes;
      return { v, valueBytes, copyBytes: Math.ceil(valueBytes / 4) * 4, at: 0 };
    });
    let readBytes = 0;
    for (const r of reads) {
      r.at = readBytes;
      readBytes += roundUp16(r.copyBytes);
    }
    const timed = this.querySet !== undefined;
    const timestampBytes = timed ? this.queryResolve!.bytes : 0;
    const mapBytes = Math.ceil((readBytes + timestampBytes) / 8) * 8;
    let staging: GpuBuffer | undefined;
    let submittedAt = 0;
    try {
      const encoder = device.createCommandEncoder({ label: 'dualbert batch' });
      this.encode(batch, bucket, kernels, io, bufferOf, encoder, timed);
      // Its own readback buffer: the previous batch may still be mapping its result (embed()
      // submits batch i + 1 before it reads batch i back).
      staging = bucket.stagingFor(mapBytes);
      for (const r of reads) encoder.copyBufferToBuffer(bufferOf(actOf(r.v)).gpu, 0, staging.gpu, r.at, r.copyBytes);
      if (timed) {
        encoder.resolveQuerySet(this.querySet!, 0, this.queryResolve!.bytes / 8, this.queryResolve!.gpu, 0);
        encoder.copyBufferToBuffer(this.queryResolve!.gpu, 0, staging.gpu, readBytes, timestampBytes);
      }
      device.queue.submit([encoder.finish()]);
      this.submits++;
      submittedAt = performance.now();
    } catch (e) {
      if (staging) bucket.releaseStaging(staging);
      // Keep the error-scope stack balanced; the error thrown here says more than the scopes.
      await Promise.all([device.popErrorScope(), device.popErrorScope(), device.popErrorScope()]).catch(() => undefined);
      throw e;
    }
    // The scopes and the readback resolve together: awaiting one before starting the other would
    // cost a second round trip to the GPU per batch.
    const readback = staging;
    const mapping = readback.gpu.mapAsync(MAP_READ_MODE, 0, mapBytes).then(
      () => undefined,
      (cause: unknown) => cause ?? new Error('mapAsync failed'),
    );
    const [errors, mapError] = await Promise.all([Promise.all([device.popErrorScope(), device.popErrorScope(), device.popErrorScope()]), mapping]);
    const host = { record: readAt - begunAt, encode: submittedAt - readAt, wait: performance.now() - submittedAt };
    const error = errors.find((e) => e !== null);
    if (error) {
      if (mapError === undefined) readback.gpu.unmap();
      bucket.releaseStaging(readback);
      this.live();
      throw new DualbertError('DEVICE_UNAVAILABLE', `webgpu: the GPU rejected the batch: ${error.message}`);
    }
    if (mapError !== undefined) {
      bucket.releaseStaging(readback);
      this.live();
      throw new DualbertError('DEVICE_UNAVAILABLE', `webgpu: reading the result back failed: ${String(mapError)}`, { cause: mapError });
    }
    let values: Float32Array[];
    try {
      const mapped = readback.gpu.getMappedRange(0, mapBytes);
      values = reads.map((r) =>
        this.config.f16
          ? fromHalfArray(new Uint16Array(mapped.slice(r.at, r.at + r.copyBytes), 0, r.valueBytes / 2))
          : new Float32Array(mapped.slice(r.at, r.at + r.valueBytes)),
      );
      this.lastTimings = timed ? this.timings(calls, new BigUint64Array(mapped.slice(readBytes, readBytes + timestampBytes)), host) : { host };
    } finally {
      readback.gpu.unmap();
      bucket.releaseStaging(readback);
    }
    this.live();
    if (this.uncaptured) {
      const message = this.uncaptured;
      this.uncaptured = undefined;
      throw new DualbertError('DEVICE_UNAVAILABLE', `webgpu: GPU error: ${message}`);
    }
    return values;
  }

  /** Writes inputs, uploads and uniforms, then records every kernel call into `encoder`. */
  private encode(batch: Batch, bucket: Bucket, listing: Listing, io: RunIO, bufferOf: (a: Act) => GpuBuffer, encoder: GPUCommandEncoder, timed: boolean): void {
    const { calls, actOf, words } = listing;
    const queue = this.gpu.queue;
    if (words) queue.writeBuffer(bucket.input('words').gpu, 0, words.buffer, words.byteOffset, words.byteLength);
    // Inputs of the batch (a few KiB) and one block of uniforms for all kernels.
    const { batchSize: B, tokens: N } = batch;
    const u32 = (a: Int32Array | Uint8Array): Uint32Array => (a instanceof Int32Array ? new Uint32Array(a.buffer, a.byteOffset, a.length) : Uint32Array.from(a));
    const inputs: Record<Exclude<InputName, 'words'>, Uint32Array> = { ids: u32(batch.ids), typeIds: u32(batch.typeIds), mask: u32(batch.attentionMask), keyLen: batch.seqLengths };
    for (const name of ['ids', 'typeIds', 'mask', 'keyLen'] as const) {
      const data = inputs[name];
      queue.writeBuffer(bucket.input(name).gpu, 0, data.buffer, data.byteOffset, Math.min(data.byteLength, name === 'keyLen' ? B * 4 : N * 4));
    }
    const params = bucket.paramsFor(calls.length);
    queue.writeBuffer(params.gpu, 0, listing.block);
    for (const [v, values] of io.writes) {
      const n = values.length;
      // f16 rows are padded to a whole number of u32 (writeBuffer copies multiples of 4 bytes).
      const data = this.config.f16 ? toHalfArray(values, n + (n % 2)) : Float32Array.from(values);
      queue.writeBuffer(bufferOf(actOf(v)).gpu, 0, data.buffer, data.byteOffset, data.byteLength);
    }

    if (bucket.bindGroups.size > MAX_BIND_GROUPS_PER_BUCKET) bucket.clearBindGroups();
    // The same shape in the same bucket, with no buffer replaced since: the pipelines and bind
    // groups of last time, without building a key per call.
    const bound = listing.bound;
    if (!this.profile && bound && bound.bucket === bucket && bound.generation === bucket.generation) {
      const pass = encoder.beginComputePass(timed ? { timestampWrites: { querySet: this.querySet!, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 }, label: 'dualbert' } : { label: 'dualbert' });
      for (let i = 0; i < calls.length; i++) {
        pass.setPipeline(bound.pipelines[i]!);
        pass.setBindGroup(0, bound.groups[i]!);
        const [x, y, z] = calls[i]!.workgroups;
        pass.dispatchWorkgroups(x, y, z);
      }
      pass.end();
      return;
    }
    const pipelines: GPUComputePipeline[] = [];
    const groups: GPUBindGroup[] = [];
    let pass: GPUComputePassEncoder | undefined;
    calls.forEach((k, i) => {
      if (!pass || this.profile) {
        pass?.end();
        const writes = timed ? { querySet: this.querySet!, beginningOfPassWriteIndex: this.profile ? 2 * i : 0, endOfPassWriteIndex: this.profile ? 2 * i + 1 : 1 } : undefined;
        pass = encoder.beginComputePass(writes ? { timestampWrites: writes, label: 'dualbert' } : { label: 'dualbert' });
      }
      const pipeline = this.pipelines.get(k.key, k.keyString);
      const buffers = k.bindings.map(([, r]): GpuBuffer => (r.kind === 'activation' ? bufferOf(r.act) : r.kind === 'weight' ? r.buffer : bucket.input(r.name)));
      const cacheKey = `${i}|${k.keyString}|${params.uid}|${buffers.map((b) => b.uid).join(',')}`;
      let group = bucket.bindGroups.get(cacheKey);
      if (!group) {
        group = this.gpu.createBindGroup({
          layout: pipeline.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: params.gpu, offset: i * PARAMS_STRIDE, size: k.params.byteLength } },
            ...k.bindings.map(([binding], j) => ({ binding, resource: { buffer: buffers[j]!.gpu } })),
          ],
        });
        bucket.bindGroups.set(cacheKey, group);
      }
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(...k.workgroups);
      pipelines.push(pipeline);
      groups.push(group);
    });
    pass?.end();
    if (listing.cached) listing.bound = { bucket, generation: bucket.generation, pipelines, groups };
  }

  /**
   * The kernel calls of `plan` on a batch of this shape (B, T), with their uniform block: listed
   * once per shape and kept (listing them is host time on every batch otherwise), except when
   * word rows are gathered on the host (those are per batch).
   */
  private listing(plan: GraphPlan, batch: Batch): Listing {
    let byShape = this.listings.get(plan);
    if (!byShape) {
      byShape = new Map();
      this.listings.set(plan, byShape);
    }
    const shape = `${batch.batchSize}x${batch.seqLen}`;
    const cached = byShape.get(shape);
    if (cached) {
      // Most recently used last: the oldest shape is dropped first.
      byShape.delete(shape);
      byShape.set(shape, cached);
      return cached;
    }
    const actOf = slotActs();
    const kernels = new WebGpuKernels(this, this.config, batch, this.elemBytes);
    for (const step of plan.steps) dispatchStep(kernels, step, actOf);
    const block = new Uint32Array((kernels.calls.length * PARAMS_STRIDE) / 4);
    for (const [i, k] of kernels.calls.entries()) block.set(k.params, (i * PARAMS_STRIDE) / 4);
    const listing: Listing = { calls: kernels.calls, actOf, block, scratchCols: kernels.scratchCols, q8Words: kernels.q8Words, words: kernels.words, cached: kernels.words === undefined && this.reuseCalls };
    if (listing.cached) {
      byShape.set(shape, listing);
      if (byShape.size > MAX_LISTED_SHAPES) byShape.delete(byShape.keys().next().value!);
    }
    return listing;
  }

  private timings(calls: readonly KernelCall[], stamps: BigUint64Array, host: WebGpuTimings['host']): WebGpuTimings {
    const ms = (a: bigint, b: bigint): number => Number(b - a) / 1e6;
    if (!this.profile) return { gpuMs: ms(stamps[0]!, stamps[1]!), host };
    const kernels = calls.map((k, i) => ({ op: k.op, key: k.keyString, ms: ms(stamps[2 * i]!, stamps[2 * i + 1]!), flop: k.flop }));
    return { gpuMs: kernels.reduce((s, k) => s + k.ms, 0), kernels, host };
  }

  /** Frees weights and activation buffers, and the device when the backend created it. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.activations.destroy();
    for (const w of this.weights.values()) w.buffer.gpu.destroy();
    for (const w of this.q8Weights.values()) w.meta.gpu.destroy();
    this.weights.clear();
    this.q8Weights.clear();
    this.querySet?.destroy();
    this.queryResolve?.gpu.destroy();
    this.gpu.removeEventListener('uncapturederror', this.onUncapturedError);
    if (this.context.owned) this.gpu.destroy();
  }
}

/** The ops of one batch as kernel calls (kernels.ts), collected in order. */
class WebGpuKernels implements OpKernels<Act> {
  readonly calls: KernelCall[] = [];
  /** Columns of the split-K scratch (f32 partial sums, counted in storage elements), 0 if none. */
  scratchCols = 0;
  /** u32 words per row of the packed q8 activations (the widest q8 layer's ⌈K/4⌉), 0 if none. */
  q8Words = 0;

  constructor(
    private readonly backend: WebGpuBackend,
    private readonly config: KernelConfig,
    private readonly batch: Batch,
    private readonly elemBytes: number,
    /** Only list the calls (warmUp): no host-table rows are gathered. */
    private readonly dryRun = false,
  ) {}

  private rows(a: Act): number {
    return a.rows === 'tokens' ? this.batch.tokens : this.batch.batchSize;
  }

  /** The word rows of this batch gathered on the host, when the word table stays there. */
  words: Float32Array | Uint16Array | undefined;

  embed(node: EmbedNode, out: Act): void {
    const w = (name: string | undefined): GpuBuffer | undefined => (name === undefined ? undefined : this.backend.weight(name));
    const host = this.backend.hostTable(node.word);
    if (host && !this.dryRun) {
      // Gather the batch's rows ([N, C], storage type) for the GATHERED variant.
      const { ids, tokens: N } = this.batch;
      const C = host.cols;
      const words = host.data instanceof Float32Array ? new Float32Array(N * C) : new Uint16Array(N * C + ((N * C) % 2));
      for (let n = 0; n < N; n++) words.set(host.data.subarray(ids[n]! * C, ids[n]! * C + C), n * C);
      this.words = words;
    }
    this.calls.push(embedCall(this.config, this.rows(out), this.batch.seqLen, host ? 'gathered' : w(node.word)!, w(node.position), w(node.tokenType), node.positionOffset ?? 0, out));
  }

  rope(node: RopeNode, x: Act, out: Act): void {
    const C = node.numHeads * node.headSize;
    this.calls.push(ropeCall(this.config, this.rows(x), this.batch.seqLen, C, node.headSize, node.layout === 'interleaved', x, this.backend.weight(node.cos), this.backend.weight(node.sin), out));
  }

  glu(node: GluNode, x: Act, out: Act): void {
    this.calls.push(gluCall(this.config, this.rows(x), node.activation, x, out));
  }

  linear(node: LinearNode, x: Act, out: Act, residual: Act | undefined): boolean {
    const n = this.rows(x);
    if (node.precision === 'q8') {
      const w = this.backend.q8Weight(node.weight);
      this.q8Words = Math.max(this.q8Words, w.kw);
      const scratch = { packed: { buffer: 'q8x', rows: 'tokens', cols: w.kw }, stats: { buffer: 'q8stats', rows: 'sequences', cols: Q8_STATS_WORDS } } as const;
      this.calls.push(...q8LinearCalls(this.config, n, x, w, this.backend.weight(node.bias), node.epilogue, residual, out, scratch));
      return false;
    }
    const split = splitKFor(this.config, n, x.cols, out.cols);
    // Split-K partial sums are f32 whatever the storage type: splits·M f32 per row in the scratch
    // buffer, which lives only between the two calls.
    let partials: Act | undefined;
    if (split.splits > 1) {
      const cols = (split.splits * out.cols * 4) / this.elemBytes;
      this.scratchCols = Math.max(this.scratchCols, cols);
      partials = { buffer: 'scratch', rows: 'tokens', cols };
    }
    const wt = this.backend.weight(node.weight);
    const b = this.backend.weight(node.bias);
    this.calls.push(...linearCalls(this.config, n, x, wt, b, node.epilogue, residual, out, { ...split, ...(partials ? { partials } : {}) }));
    return false;
  }

  layerNorm(node: LayerNormNode, x: Act, out: Act): void {
    this.calls.push(layerNormCall(this.config, this.rows(x), x, this.backend.weight(node.gamma), this.backend.weight(node.beta), node.eps, out));
  }

  attention(node: AttentionNode, qkv: Act, out: Act): void {
    const bias = node.positionBias ? { buffer: this.backend.weight(node.positionBias), span: (this.backend.weightShape(node.positionBias)[1]! + 1) / 2 } : undefined;
    this.calls.push(
      attentionCall(this.config, this.batch.batchSize, this.batch.seqLen, node.numHeads, node.headSize, node.scale, qkv, out, {
        ...(node.window !== undefined ? { window: node.window } : {}),
        ...(bias ? { bias } : {}),
      }),
    );
  }

  pool(node: PoolNode, x: Act, out: Act): void {
    this.calls.push(poolCall(this.config, this.batch.batchSize, this.batch.seqLen, node.mode, x, out));
  }

  normalize(node: NormalizeNode, x: Act, out: Act): void {
    this.calls.push(normalizeCall(this.config, this.rows(x), x, node.eps, out));
  }

  dense(node: DenseNode, x: Act, out: Act): void {
    const bias = node.bias ? this.backend.weight(node.bias) : undefined;
    this.calls.push(denseCall(this.config, this.rows(x), x, this.backend.weight(node.weight), bias, node.activation, out));
  }
}

/**
 * The activation of each planned value: the buffer of its plan slot (`s<slot>`) with its shape,
 * one Act object per value, so kernels that meet the same value get the same object.
 */
function slotActs(): (v: PlannedValue) => Act {
  const acts = new Map<PlannedValue, Act>();
  return (v) => {
    let a = acts.get(v);
    if (!a) {
      a = { buffer: `s${v.slot}`, rows: v.rows, cols: v.cols };
      acts.set(v, a);
    }
    return a;
  };
}

/** W [rows, cols] → Wᵀ [cols, rows], the layout the GEMM streams. */
function transposed(t: GraphWeight): Float32Array {
  const [rows, cols] = t.shape as [number, number];
  const src = t.data;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c]!;
  return out;
}

/**
 * The f16 bits of `values` (round to nearest even), zero-padded to a whole number of u32: element
 * 2j in the low half of word j, as unpack2x16float reads it. A value beyond f16 is an error.
 */
function halfBits(values: Float32Array, name: string): Uint16Array {
  const bits = toHalfArray(values, values.length + (values.length % 2));
  const bad = bits.findIndex((h, i) => i < values.length && (h & 0x7c00) === 0x7c00);
  if (bad >= 0) throw new DualbertError('INVALID_WEIGHTS', `weights: "${name}"[${bad}] = ${values[bad]} does not fit in f16: use dtype "fp32"`);
  return bits;
}
