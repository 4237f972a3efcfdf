/**
 * The webgpu backend: the graph's ops as WGSL compute kernels, weights resident on the GPU.
 *
 * Ops are recorded on a tape (see tape.ts) and played at `read`: one command encoder, one compute
 * pass, one submit, then one copy of just the activation asked for (the pooled output) into a
 * mappable buffer. Per batch the host only writes the inputs and a block of uniforms and looks up
 * cached pipelines and bind groups; nothing is compiled or allocated after the first batch of a
 * bucket (see pool.ts).
 */
import { DualbertError } from '../../errors.js';
import type {
  AttentionNode,
  BatchInputs,
  EmbedNode,
  LayerNormNode,
  LinearNode,
  NormalizeNode,
  PoolNode,
  RowKind,
} from '../../graph/ops.js';
import type { GraphWeights } from '../../graph/weights.js';
import type { DeviceBackend } from '../backend.js';
import { type GpuContext, MAP_READ_MODE, Usage } from './gpu.js';
import { fromHalfArray, toHalfArray } from './half.js';
import {
  type KernelConfig,
  attentionCall,
  embedCall,
  layerNormCall,
  linearCalls,
  normalizeCall,
  poolCall,
  splitKFor,
  transposeDispatch,
} from './kernels.js';
import { type PipelineCache, pipelineCache } from './pipelines.js';
import { ActivationPool, type Bucket, GpuBuffer, PARAMS_STRIDE, roundUp16 } from './pool.js';
import { Handle, type InputName, type KernelCall, type SlotPlan, type TapeEntry, planSlots } from './tape.js';

/** Tuning knobs of the kernels (defaults are what NOTES-gpu.md measured as good on NVIDIA). */
export interface WebGpuTuning {
  /** GEMM K tile, 16 or 32 (default 16). */
  gemmBK?: 16 | 32;
  /** GEMM rows per invocation, 4 (64×64 tiles, default) or 8 (128×64). */
  gemmTM?: 4 | 8;
  /** Split K when a GEMM has few output tiles and K ≥ 1024 (default true). */
  splitK?: boolean;
  /** Preferred attention key tile rows (default 32). */
  attentionKeys?: 8 | 16 | 32 | 64;
  /** Query rows per attention invocation, 1 (default) or 2. */
  attentionQueries?: 1 | 2;
  /** Use subgroup reductions when the device has them (default true). */
  subgroups?: boolean;
}

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

/** Counters for tests and benchmarks. */
export interface WebGpuStats {
  /** Compiled pipeline variants on this device. */
  pipelines: number;
  /** Cached bind groups. */
  bindGroups: number;
  /** Token-row capacities of the cached activation buckets. */
  buckets: number[];
  /** Bytes of activation buffers, inputs, uniforms and readback. */
  activationBytes: number;
  /** Bytes of resident weights. */
  weightBytes: number;
  /** queue.submit calls so far. */
  submits: number;
  /** Buffers created so far (weights included). */
  buffersCreated: number;
}

interface WeightBuffer {
  /** The tensor as given; dropped once a linear op has made its transpose. */
  buffer: GpuBuffer | undefined;
  readonly shape: readonly number[];
  /** [K, M] copy of a linear weight [M, K], made on first use. */
  transposed?: GpuBuffer;
}

/** Per-batch state. */
interface Batch {
  readonly inputs: BatchInputs;
  readonly bucket: Bucket;
  /** Per input: u32 per token row (ids, type ids, mask) or per sequence (key lengths). */
  readonly data: Record<InputName, Uint32Array>;
  readonly maxId: number;
  readonly maxTypeId: number;
  readonly tape: TapeEntry[];
  plan?: SlotPlan;
  /** The tape changed since it was last played. */
  dirty: boolean;
}

const MAX_PINNED_NAMES = 256;
const MAX_BIND_GROUPS_PER_BUCKET = 4096;

/**
 * The webgpu backend of one model: implements the graph's ops (see OpBackend) with WGSL kernels.
 * Create it with {@link createWebGpuBackend}; `runGraph` drives it.
 * @example
 * const backend = await createWebGpuBackend(weights, { timestamps: true });
 * const { output } = await runGraph(graph, backend, batch);   // one submit, one readback
 * console.log(backend.lastTimings?.gpuMs, backend.stats().buckets);
 * backend.dispose();
 */
export class WebGpuBackend implements DeviceBackend<Handle> {
  readonly device = 'webgpu' as const;
  /** The timings of the last `read` that ran the tape. */
  lastTimings: WebGpuTimings | undefined;
  /** performance.now() at begin(). */
  private begunAt = 0;

  private readonly gpu: GPUDevice;
  private readonly weights = new Map<string, WeightBuffer>();
  private readonly activations: ActivationPool;
  private readonly pipelines: PipelineCache;
  private readonly config: KernelConfig;
  private readonly elemBytes: number;
  private readonly querySet: GPUQuerySet | undefined;
  /** Timestamps around every kernel instead of around the whole pass. */
  private readonly profile: boolean = false;
  private readonly queryResolve: GpuBuffer | undefined;
  private batch: Batch | undefined;
  private nextHandle = 1;
  /** Activations read back after their buffer was reused: pinned by name in later batches. */
  private readonly pinnedNames = new Set<string>();
  private lostInfo: GPUDeviceLostInfo | undefined;
  /** The first GPU error outside our error scopes (e.g. from the one-time weight transposes). */
  private uncaptured: string | undefined;
  private readonly onUncapturedError = (ev: Event): void => {
    this.uncaptured ??= (ev as GPUUncapturedErrorEvent).error.message;
  };
  private disposed = false;
  private submits = 0;
  private buffersCreated = 0;
  private weightBytes = 0;

  /** Use {@link createWebGpuBackend}. */
  constructor(
    readonly context: GpuContext,
    weights: GraphWeights,
    options: { tuning?: WebGpuTuning; timestamps?: boolean; profile?: boolean } = {},
  ) {
    const device = context.device;
    this.gpu = device;
    const limits = device.limits;
    const tuning = options.tuning ?? {};
    this.config = {
      f16: context.capabilities.f16,
      subgroups: context.capabilities.subgroups && tuning.subgroups !== false,
      gemmBK: tuning.gemmBK ?? 16,
      gemmTM: tuning.gemmTM ?? 4,
      splitK: tuning.splitK ?? true,
      attentionKeys: tuning.attentionKeys ?? 32,
      attentionQueries: tuning.attentionQueries ?? 1,
      workgroupStorage: limits.maxComputeWorkgroupStorageSize,
      workgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
    };
    this.elemBytes = this.config.f16 ? 2 : 4;
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
  get info(): { adapter: GpuContext['adapterInfo']; f16: boolean; subgroups: boolean; gemmBK: number; gemmTM: number; splitK: boolean; attentionKeys: number; attentionQueries: number; timestamps: boolean } {
    return {
      adapter: this.context.adapterInfo,
      f16: this.config.f16,
      subgroups: this.config.subgroups,
      gemmBK: this.config.gemmBK,
      gemmTM: this.config.gemmTM,
      splitK: this.config.splitK,
      attentionKeys: this.config.attentionKeys,
      attentionQueries: this.config.attentionQueries,
      timestamps: this.querySet !== undefined,
    };
  }

  /** Counters: pipelines, bind groups, buckets, bytes, submits. */
  stats(): WebGpuStats {
    return {
      pipelines: this.pipelines.size,
      bindGroups: this.activations.bindGroups,
      buckets: this.activations.bucketRows,
      activationBytes: this.activations.bytes,
      weightBytes: this.weightBytes,
      submits: this.submits,
      buffersCreated: this.buffersCreated + this.activations.counters.created,
    };
  }

  /** Uploads every graph weight once, converted to the storage type. */
  private upload(weights: GraphWeights): void {
    for (const [name, t] of weights) {
      let data: Float32Array | Uint16Array = t.data;
      if (this.config.f16) {
        data = toHalfArray(t.data);
        const bad = data.findIndex((h) => (h & 0x7c00) === 0x7c00);
        if (bad >= 0) {
          throw new DualbertError('INVALID_WEIGHTS', `weights: "${name}"[${bad}] = ${t.data[bad]} does not fit in f16: use dtype "fp32"`);
        }
      }
      const buffer = this.createStorage(data, `weight ${name}`);
      this.weights.set(name, { buffer, shape: t.shape });
      this.weightBytes += buffer.bytes;
    }
  }

  private createStorage(data: Float32Array | Uint16Array, label: string): GpuBuffer {
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

  private current(): Batch {
    this.live();
    if (!this.batch) throw new Error('webgpu backend: op called outside begin()/end()');
    return this.batch;
  }

  private weightEntry(name: string, shape?: readonly number[]): WeightBuffer {
    const w = this.weights.get(name);
    if (!w) throw new DualbertError('INVALID_WEIGHTS', `webgpu: weight "${name}" was not given to the backend`);
    if (shape && (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i]))) {
      throw new DualbertError('INVALID_WEIGHTS', `webgpu: weight "${name}" has shape [${w.shape.join(', ')}], the op needs [${shape.join(', ')}]`);
    }
    return w;
  }

  private weight(name: string, shape?: readonly number[]): GpuBuffer {
    const w = this.weightEntry(name, shape);
    if (!w.buffer) throw new DualbertError('INVALID_WEIGHTS', `webgpu: weight "${name}" is a linear weight (kept transposed) and cannot be read by another op`);
    return w.buffer;
  }

  /**
   * W [M, K] as wt [K, M], the layout the GEMM streams. Made once, on the GPU, the first time a
   * linear op uses the weight (the backend cannot tell linear weights from embedding tables
   * before); the untransposed buffer is then freed, so weights are resident once.
   */
  private transposedWeight(name: string, shape: readonly [number, number]): GpuBuffer {
    const w = this.weightEntry(name, shape);
    if (w.transposed) return w.transposed;
    const source = this.weight(name);
    const [rows, cols] = shape;
    const target = new GpuBuffer(this.gpu.createBuffer({ size: source.bytes, usage: Usage.STORAGE, label: `weight ${name} (transposed)` }), source.bytes);
    this.buffersCreated++;
    const d = transposeDispatch(this.config, rows, cols);
    const pipeline = this.pipelines.get(d.key);
    const params = this.gpu.createBuffer({ size: 16, usage: Usage.UNIFORM, mappedAtCreation: true });
    new Uint32Array(params.getMappedRange()).set(d.params);
    params.unmap();
    const encoder = this.gpu.createCommandEncoder({ label: 'dualbert weight transpose' });
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      this.gpu.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: params } },
          { binding: 1, resource: { buffer: source.gpu } },
          { binding: 2, resource: { buffer: target.gpu } },
        ],
      }),
    );
    pass.dispatchWorkgroups(...d.workgroups);
    pass.end();
    this.gpu.queue.submit([encoder.finish()]);
    this.submits++;
    // Freed once the submitted transpose has run (destroy waits for submitted work).
    source.gpu.destroy();
    params.destroy();
    w.buffer = undefined;
    w.transposed = target;
    return target;
  }

  private rowsOf(h: Handle): number {
    const { batchSize, seqLen } = this.current().inputs;
    return h.rows === 'tokens' ? batchSize * seqLen : batchSize;
  }

  private record(entry: TapeEntry): void {
    const batch = this.current();
    batch.tape.push(entry);
    batch.dirty = true;
  }

  begin(inputs: BatchInputs): void {
    this.live();
    const { batchSize: B, seqLen: T, ids, typeIds, attentionMask } = inputs;
    if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) {
      throw new DualbertError('INVALID_ARGUMENT', `webgpu: batch size and sequence length must be positive integers, got ${B}×${T}`);
    }
    const N = B * T;
    for (const [name, arr] of [['ids', ids], ['typeIds', typeIds], ['attentionMask', attentionMask]] as const) {
      if (arr.length !== N) throw new DualbertError('INVALID_ARGUMENT', `webgpu: ${name} has ${arr.length} entries, a ${B}×${T} batch needs ${N}`);
    }
    const keyLen = new Uint32Array(B);
    let maxId = 0;
    let maxTypeId = 0;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const i = b * T + t;
        const m = attentionMask[i]!;
        if (m !== 0 && m !== 1) throw new DualbertError('INVALID_ARGUMENT', `webgpu: attentionMask[${i}] is ${m}, not 0 or 1`);
        if (m) keyLen[b] = t + 1;
        const id = ids[i]!;
        const tt = typeIds[i]!;
        if (!(id >= 0) || !(tt >= 0)) throw new DualbertError('INVALID_ARGUMENT', `webgpu: token ${i} has a negative id (${id}) or type id (${tt})`);
        if (id > maxId) maxId = id;
        if (tt > maxTypeId) maxTypeId = tt;
      }
      if (keyLen[b] === 0) throw new DualbertError('INVALID_ARGUMENT', `webgpu: sequence ${b} of the batch has no real token (attention mask all 0)`);
    }
    const u32 = (a: Int32Array | Uint8Array): Uint32Array => (a instanceof Int32Array ? new Uint32Array(a.buffer, a.byteOffset, a.length) : Uint32Array.from(a));
    this.begunAt = performance.now();
    this.batch = {
      inputs,
      bucket: this.activations.bucketFor(N),
      data: { ids: u32(ids), typeIds: u32(typeIds), mask: u32(attentionMask), keyLen },
      maxId,
      maxTypeId,
      tape: [],
      dirty: true,
    };
  }

  end(): void {
    this.batch = undefined;
  }

  allocate(id: string, rows: RowKind, cols: number): Handle {
    this.current();
    return new Handle(this.nextHandle++, id, rows, cols);
  }

  write(t: Handle, values: Float32Array | Float64Array): void {
    const n = this.rowsOf(t) * t.cols;
    if (values.length !== n) throw new DualbertError('INVALID_ARGUMENT', `webgpu: write of ${values.length} values into "${t.name}" of ${n}`);
    // f16 rows are padded to a whole number of u32 (writeBuffer copies multiples of 4 bytes).
    const data = this.config.f16 ? toHalfArray(values, n + (n % 2)) : Float32Array.from(values);
    this.record({ kind: 'upload', write: t, data });
  }

  embed(node: EmbedNode, out: Handle): void {
    const { inputs } = this.current();
    const C = out.cols;
    const word = this.weights.get(node.word);
    const position = this.weights.get(node.position);
    const tokenType = this.weights.get(node.tokenType);
    if (!word || !position || !tokenType) this.weight(!word ? node.word : !position ? node.position : node.tokenType);
    const rowsOf = (w: WeightBuffer, name: string): number => {
      if (w.shape.length !== 2 || w.shape[1] !== C) throw new DualbertError('INVALID_WEIGHTS', `webgpu: embedding table "${name}" is not [rows, ${C}]`);
      return w.shape[0]!;
    };
    const batch = this.current();
    const vocab = rowsOf(word!, node.word);
    if (batch.maxId >= vocab) throw new DualbertError('INVALID_ARGUMENT', `webgpu: token id ${batch.maxId} is out of range: the vocabulary has ${vocab} entries`);
    const positions = rowsOf(position!, node.position);
    if (inputs.seqLen > positions) {
      throw new DualbertError('INPUT_TOO_LONG', `webgpu: sequences of ${inputs.seqLen} tokens exceed the model's ${positions} positions`);
    }
    const types = rowsOf(tokenType!, node.tokenType);
    if (batch.maxTypeId >= types) throw new DualbertError('INVALID_ARGUMENT', `webgpu: token type id ${batch.maxTypeId} is out of range: the model has ${types} types`);
    this.record(embedCall(this.config, this.rowsOf(out), inputs.seqLen, this.weight(node.word), this.weight(node.position), this.weight(node.tokenType), out));
  }

  linear(node: LinearNode, x: Handle, out: Handle, residual: Handle | undefined): void {
    const b = this.weight(node.bias, [out.cols]);
    const wt = this.transposedWeight(node.weight, [out.cols, x.cols]);
    if (x.rows !== out.rows) throw new DualbertError('INVALID_ARGUMENT', `webgpu: linear "${node.out}" maps ${x.rows} rows to ${out.rows} rows`);
    if (node.epilogue === 'residual' && (!residual || residual.cols !== out.cols || residual.rows !== out.rows)) {
      throw new DualbertError('INVALID_ARGUMENT', `webgpu: linear "${node.out}" needs a residual of its output's shape`);
    }
    const n = this.rowsOf(x);
    const split = splitKFor(this.config, n, x.cols, out.cols);
    // Split-K partial sums are f32 whatever the storage type: a scratch activation of
    // splits·M f32 per row, planned like any other (it lives between the two calls).
    const partials = split.splits > 1 ? this.allocate(`${node.out}#splitk`, 'tokens', (split.splits * out.cols * 4) / this.elemBytes) : undefined;
    for (const c of linearCalls(this.config, n, x, wt, b, node.epilogue, residual, out, { ...split, ...(partials ? { partials } : {}) })) this.record(c);
  }

  layerNorm(node: LayerNormNode, x: Handle, out: Handle): void {
    const gamma = this.weight(node.gamma, [x.cols]);
    const beta = this.weight(node.beta, [x.cols]);
    this.record(layerNormCall(this.config, this.rowsOf(x), x, gamma, beta, node.eps, out));
  }

  attention(node: AttentionNode, qkv: Handle, out: Handle): void {
    const { inputs } = this.current();
    const C = node.numHeads * node.headSize;
    if (qkv.cols !== 3 * C || out.cols !== C || qkv.rows !== 'tokens') {
      throw new DualbertError('INVALID_ARGUMENT', `webgpu: attention "${node.out}" needs qkv [N, ${3 * C}] and out [N, ${C}]`);
    }
    this.record(attentionCall(this.config, inputs.batchSize, inputs.seqLen, node.numHeads, node.headSize, node.scale, qkv, out));
  }

  pool(node: PoolNode, x: Handle, out: Handle): void {
    const { inputs } = this.current();
    if (x.rows !== 'tokens' || out.rows !== 'sequences' || x.cols !== out.cols) {
      throw new DualbertError('INVALID_ARGUMENT', `webgpu: pool "${node.out}" maps [N, C] to [B, C]`);
    }
    this.record(poolCall(this.config, inputs.batchSize, inputs.seqLen, node.mode, x, out));
  }

  normalize(node: NormalizeNode, x: Handle, out: Handle): void {
    if (x.cols !== out.cols || x.rows !== out.rows) throw new DualbertError('INVALID_ARGUMENT', `webgpu: normalize "${node.out}" keeps the shape`);
    this.record(normalizeCall(this.config, this.rowsOf(x), x, node.eps, out));
  }

  /**
   * Plays the tape if needed (one encoder, one submit) and returns the activation's values.
   * Reading an activation whose buffer the plan reused for a later one replays the tape with it
   * pinned (and remembers its name for later batches), so captures stay correct and cheap.
   */
  async read(t: Handle): Promise<Float32Array> {
    const batch = this.current();
    const intact = (): boolean => !batch.dirty && batch.plan !== undefined && batch.plan.finalOwner.get(batch.plan.slotOf.get(t)?.id ?? '') === t;
    const replay = !intact();
    if (replay) {
      if (batch.plan !== undefined && this.pinnedNames.size < MAX_PINNED_NAMES) this.pinnedNames.add(t.name);
      batch.plan = planSlots(batch.tape, (h) => h === t || this.pinnedNames.has(h.name));
      batch.dirty = false;
    }
    const plan = batch.plan!;
    if (!plan.slotOf.has(t)) throw new Error(`webgpu backend: activation "${t.name}" is read before it is written`);

    const readAt = performance.now();
    const device = this.gpu;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    device.pushErrorScope('internal');
    const valueBytes = this.rowsOf(t) * t.cols * this.elemBytes;
    const copyBytes = Math.ceil(valueBytes / 4) * 4;
    let staging: GpuBuffer;
    let timestampOffset = 0;
    let mapBytes = 0;
    let submittedAt = 0;
    try {
      const bucket = batch.bucket;
      const slotBuffer = (h: Handle): GpuBuffer => {
        const slot = plan.slotOf.get(h)!;
        return bucket.slot(slot.id, h.rows, this.rowsOf(h), h.cols, this.elemBytes);
      };
      const encoder = device.createCommandEncoder({ label: 'dualbert batch' });
      const timed = replay && this.querySet !== undefined;
      if (replay) this.encodeTape(batch, encoder, slotBuffer, timed);
      const source = slotBuffer(t);
      timestampOffset = roundUp16(copyBytes);
      const timestampBytes = timed ? this.queryResolve!.bytes : 0;
      staging = bucket.stagingFor(timestampOffset + timestampBytes);
      encoder.copyBufferToBuffer(source.gpu, 0, staging.gpu, 0, copyBytes);
      if (timed) {
        encoder.resolveQuerySet(this.querySet!, 0, this.queryResolve!.bytes / 8, this.queryResolve!.gpu, 0);
        encoder.copyBufferToBuffer(this.queryResolve!.gpu, 0, staging.gpu, timestampOffset, timestampBytes);
      }
      device.queue.submit([encoder.finish()]);
      this.submits++;
      mapBytes = Math.ceil((timestampOffset + timestampBytes) / 8) * 8;
      submittedAt = performance.now();
    } catch (e) {
      // Keep the error-scope stack balanced; the error thrown here says more than the scopes.
      await Promise.all([device.popErrorScope(), device.popErrorScope(), device.popErrorScope()]).catch(() => undefined);
      throw e;
    }
    // The scopes and the readback resolve together: awaiting one before starting the other would
    // cost a second round trip to the GPU per batch.
    const mapping = staging.gpu.mapAsync(MAP_READ_MODE, 0, mapBytes).then(
      () => undefined,
      (cause: unknown) => cause ?? new Error('mapAsync failed'),
    );
    const [errors, mapError] = await Promise.all([Promise.all([device.popErrorScope(), device.popErrorScope(), device.popErrorScope()]), mapping]);
    const host = { record: readAt - this.begunAt, encode: submittedAt - readAt, wait: performance.now() - submittedAt };
    const error = errors.find((e) => e !== null);
    if (error) {
      if (mapError === undefined) staging.gpu.unmap();
      this.live();
      throw new DualbertError('DEVICE_UNAVAILABLE', `webgpu: the GPU rejected the batch: ${error.message}`);
    }
    if (mapError !== undefined) {
      this.live();
      throw new DualbertError('DEVICE_UNAVAILABLE', `webgpu: reading the result back failed: ${String(mapError)}`, { cause: mapError });
    }
    let values: Float32Array;
    try {
      const mapped = staging.gpu.getMappedRange(0, mapBytes);
      values = this.config.f16
        ? fromHalfArray(new Uint16Array(mapped.slice(0, copyBytes), 0, valueBytes / 2))
        : new Float32Array(mapped.slice(0, valueBytes));
      if (replay) {
        this.lastTimings = this.querySet
          ? this.timings(batch, new BigUint64Array(mapped.slice(timestampOffset, timestampOffset + this.queryResolve!.bytes)), host)
          : { host };
      }
    } finally {
      staging.gpu.unmap();
    }
    this.live();
    if (this.uncaptured) {
      const message = this.uncaptured;
      this.uncaptured = undefined;
      throw new DualbertError('DEVICE_UNAVAILABLE', `webgpu: GPU error: ${message}`);
    }
    return values;
  }

  /** Writes inputs and uniforms, then records every kernel of the tape into `encoder`. */
  private encodeTape(batch: Batch, encoder: GPUCommandEncoder, slotBuffer: (h: Handle) => GpuBuffer, timed: boolean): void {
    const { bucket, tape } = batch;
    const queue = this.gpu.queue;
    // Size every buffer first: a slot that grows replaces its buffer and drops the bind groups
    // that name the old one, which must not happen once this encoder holds some of them.
    for (const h of batch.plan!.slotOf.keys()) slotBuffer(h);
    const kernels = tape.filter((e): e is KernelCall => e.kind === 'kernel');
    if (this.profile && 2 * kernels.length > this.queryResolve!.bytes / 8) {
      throw new DualbertError('INVALID_ARGUMENT', `webgpu: profiling supports at most ${this.queryResolve!.bytes / 16} kernels per batch`);
    }

    // Inputs of the batch (a few KiB) and one block of uniforms for all kernels.
    const { batchSize: B, seqLen: T } = batch.inputs;
    for (const name of ['ids', 'typeIds', 'mask', 'keyLen'] as const) {
      const data = batch.data[name];
      queue.writeBuffer(bucket.input(name).gpu, 0, data.buffer, data.byteOffset, Math.min(data.byteLength, name === 'keyLen' ? B * 4 : B * T * 4));
    }
    const params = bucket.paramsFor(kernels.length);
    const block = new Uint32Array((kernels.length * PARAMS_STRIDE) / 4);
    kernels.forEach((k, i) => block.set(k.params, (i * PARAMS_STRIDE) / 4));
    queue.writeBuffer(params.gpu, 0, block);
    for (const e of tape) {
      if (e.kind === 'upload') queue.writeBuffer(slotBuffer(e.write).gpu, 0, e.data.buffer, e.data.byteOffset, e.data.byteLength);
    }

    if (bucket.bindGroups.size > MAX_BIND_GROUPS_PER_BUCKET) bucket.bindGroups.clear();
    let pass: GPUComputePassEncoder | undefined;
    kernels.forEach((k, i) => {
      if (!pass || this.profile) {
        pass?.end();
        const writes = timed ? { querySet: this.querySet!, beginningOfPassWriteIndex: this.profile ? 2 * i : 0, endOfPassWriteIndex: this.profile ? 2 * i + 1 : 1 } : undefined;
        pass = encoder.beginComputePass(writes ? { timestampWrites: writes, label: 'dualbert' } : { label: 'dualbert' });
      }
      const pipeline = this.pipelines.get(k.key, k.keyString);
      const buffers = k.bindings.map(([, r]): GpuBuffer => (r.kind === 'activation' ? slotBuffer(r.handle) : r.kind === 'weight' ? r.buffer : bucket.input(r.name)));
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
    });
    pass?.end();
  }

  private timings(batch: Batch, stamps: BigUint64Array, host: WebGpuTimings['host']): WebGpuTimings {
    const ms = (a: bigint, b: bigint): number => Number(b - a) / 1e6;
    if (!this.profile) return { gpuMs: ms(stamps[0]!, stamps[1]!), host };
    const kernels = batch.tape
      .filter((e): e is KernelCall => e.kind === 'kernel')
      .map((k, i) => ({ op: k.op, key: k.keyString, ms: ms(stamps[2 * i]!, stamps[2 * i + 1]!), flop: k.flop }));
    return { gpuMs: kernels.reduce((s, k) => s + k.ms, 0), kernels, host };
  }

  /** Frees weights and activation buffers, and the device when the backend created it. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.batch = undefined;
    this.activations.destroy();
    for (const w of this.weights.values()) {
      w.buffer?.gpu.destroy();
      w.transposed?.gpu.destroy();
    }
    this.weights.clear();
    this.querySet?.destroy();
    this.queryResolve?.gpu.destroy();
    this.gpu.removeEventListener('uncapturederror', this.onUncapturedError);
    if (this.context.owned) this.gpu.destroy();
  }
}
