/**
 * What a backend is, in one module that imports no backend: the device names, the options every
 * device reads its part of, the interface a device implements, and what it reports.
 *
 * A backend implements ops, nothing else: it receives a planned graph (ts/graph/plan.ts) and a
 * checked batch (ts/graph/batch.ts) and turns each planned step into kernel launches. Planning,
 * input checks and fusion decisions are made once, in ts/graph, for every device.
 */
import type { Batch } from '../graph/batch.js';
import type { GraphNode } from '../graph/ops.js';
import type { GraphPlan, PlannedValue } from '../graph/plan.js';
import type { GraphWeights } from '../graph/weights.js';

/**
 * The execution paths.
 * @example const device: Device = embedder.device; // 'webgpu' | 'wasm' | 'reference'
 */
export type Device = 'webgpu' | 'wasm' | 'reference';
/**
 * What a user may ask for: a path, or 'auto' to let dualbert choose.
 * @example await createEmbedder('synthetic:minilm', { device: 'auto' });
 */
export type DeviceOption = Device | 'auto';

/** Options for creating a backend; each backend reads its own. */
export interface BackendOptions {
  /** wasm: worker threads for GEMMs and attention (default: available cores). */
  threads?: number;
  /**
   * wasm: `simd: false` forces the scalar build (for old engines, and tests); `wasmPaths` says
   * where the `dualbert-<build>.wasm` files are when a bundler or CDN moved them (a base URL, or
   * a function of the build name returning a URL, `data:` URLs included).
   */
  wasm?: {
    /** false: the scalar build, for engines without SIMD128 (default: SIMD where it validates). */
    simd?: boolean;
    /** Where the `dualbert-<build>.wasm` files are: a base URL, or a function of the build name. */
    wasmPaths?: string | URL | ((build: string) => string | URL);
  };
  /**
   * webgpu: weight storage (default 'fp32'). 'fp16' keeps the linear weights and embedding
   * tables as f16 on any adapter (activations and arithmetic stay f32): half the GPU memory.
   */
  dtype?: 'fp32' | 'fp16';
  /**
   * webgpu: run on this device / ask this `GPU` for the adapter (default: navigator.gpu or Dawn);
   * `tuning`: kernel variants and host-side scheduling, for benchmarks and comparisons (the
   * defaults are what measured best).
   */
  webgpu?: { device?: GPUDevice; gpu?: GPU; tuning?: WebGpuTuning };
  /**
   * auto: also take WebGPU on a fallback (software) adapter such as SwiftShader. Off by default:
   * there the wasm path is far faster (tiny B1 T16: 320 ms on SwiftShader vs a few ms on wasm).
   */
  allowFallbackAdapter?: boolean;
  /**
   * What dualbert and the native libraries it loads may print (default 'info'). 'info': one-line
   * notices on stderr (e.g. that the optional `webgpu` package is missing), and nothing from
   * native code — in Node the GPU is first probed in a child process whose stderr is kept, so
   * Dawn's "Couldn't load Vulkan" stays off yours. 'silent': not even the notices. 'verbose':
   * Dawn is loaded in this process and prints what it prints (for diagnosing a GPU setup).
   */
  logLevel?: LogLevel;
}

/**
 * How much dualbert lets through to stderr: `createEmbedder`'s and `createReranker`'s `logLevel`
 * option, and `capabilities({ logLevel })`. 'info' (default): one-line notices, nothing from native
 * code; 'silent': nothing; 'verbose': Dawn loads in this process and prints what it prints.
 * @example await createEmbedder('synthetic:minilm', { logLevel: 'verbose' });   // let Dawn print its Vulkan warnings
 */
export type LogLevel = 'silent' | 'info' | 'verbose';

/**
 * A non-fatal event, e.g. the GPU was lost and the call finished on the CPU.
 * @example embedder.addEventListener('warning', (e) => console.warn((e as CustomEvent<BackendWarning>).detail.message));
 */
export interface BackendWarning {
  code: 'GPU_FALLBACK' | 'SLOW_PATH';
  message: string;
}

/** Counters of the webgpu backend. */
export interface WebGpuStats {
  /** Compiled pipeline variants on this device. */
  pipelines: number;
  /** Cached bind groups. */
  bindGroups: number;
  /** Token-row capacities of the cached activation buckets. */
  buckets: number[];
  /** Readback buffers: one per batch that was in flight at once (batches overlap on the GPU). */
  readbackBuffers: number;
  /** Bytes of activation buffers, inputs, uniforms and readback. */
  activationBytes: number;
  /** Bytes of resident weights. */
  weightBytes: number;
  /**
   * Bytes of embedding tables kept in host memory because one storage binding cannot hold them
   * (XLM-R's 250k-row word table); the rows of each batch are gathered there and uploaded.
   */
  hostTableBytes?: number;
  /** queue.submit calls so far. */
  submits: number;
  /** Buffers created so far (weights included). */
  buffersCreated: number;
}

/**
 * What every backend reports about itself.
 * @example const { device, weightBytes } = backend.stats();
 */
export interface BackendStats {
  device: Device;
  threads: number;
  /** Bytes the weights take in the backend's own layout. */
  weightBytes: number;
  /** Bytes held for activations, inputs and scratch (the largest batch so far). */
  activationBytes: number;
  /** wasm: bytes of the linear memory (weights + activation arena); it only grows. */
  wasmMemoryBytes?: number;
  /** webgpu: pipelines, bind groups, activation buckets and buffers created. */
  webgpu?: WebGpuStats;
}

/** What a run writes before the steps and reads after them. */
export interface RunIO {
  /** Values of the plan's inputs (op-level tests), row-major. */
  readonly writes: ReadonlyMap<PlannedValue, Float32Array | Float64Array>;
  /** The values to return, in this order (the plan keeps them to the end). */
  readonly reads: readonly PlannedValue[];
}

/**
 * A device: one model's weights, laid out once at creation by their roles, and kernels for the
 * ops of ts/graph/ops.ts. See README "Adding a backend".
 */
export interface Backend {
  /** The device, or for a wrapper the device that runs now. */
  readonly device: Device;
  /** Threads computing (1 for single-threaded paths). */
  readonly threads: number;
  /** The plan may fold a LayerNorm into the linear before it (see PlanOptions.fuseLinearNorm). */
  readonly fusesLinearNorm?: boolean;
  /**
   * `execute` may be called again before the previous call resolved (the device queues the work
   * in order): the embedder then submits batch i + 1 before reading batch i back.
   */
  readonly overlapsBatches?: boolean;
  /** Whether this backend has a kernel for the node (a pooling mode, a Dense head...). */
  supports(node: GraphNode): boolean;
  /** Runs every step of `plan` on `batch`; returns the values of `io.reads`. */
  execute(plan: GraphPlan, batch: Batch, io: RunIO): Promise<(Float32Array | Float64Array)[]>;
  /**
   * Optional: gets ready to run `plan` (the webgpu backend compiles, in parallel, the kernel
   * variants its batches will use), so the first batch does not pay for it.
   */
  warmUp?(plan: GraphPlan): Promise<void>;
  stats(): BackendStats;
  /** Frees what the backend holds (GPU buffers, wasm memory, workers). */
  dispose(): void;
}

/**
 * What a device registers (ts/backends/registry.ts): how to make its backend, and whether 'auto' should take it here.
 * @example const provider: BackendProvider = { device: 'wasm', create: async (weights) => makeBackend(weights) };
 */
export interface BackendProvider {
  readonly device: Device;
  /**
   * For 'auto': undefined when this device should run here, else why not (e.g. "no hardware
   * GPU"). Devices without a probe are always taken when they can be created.
   */
  autoProbe?(options: BackendOptions): Promise<string | undefined>;
  /** Whether work may fail on this device mid-session (a lost GPU) and should move on. */
  readonly mayFailLater?: boolean;
  /** The warning when 'auto' passes over this device to a slower one. */
  readonly slowerNext?: BackendWarning['code'];
  /** Creates the backend with the model's weights laid out once. */
  create(weights: GraphWeights, options: BackendOptions): Promise<Backend>;
}

/** Tuning knobs of the kernels (defaults: what measured best on NVIDIA H100/H200 through Dawn). */
export interface WebGpuTuning {
  /** GEMM K tile, 16 or 32 (default 16). */
  gemmBK?: 16 | 32;
  /**
   * GEMM rows per invocation, 4 (64×64 tiles) or 8 (128×64). Default, with gemmTN unset too: chosen
   * per GEMM by its rows (4×4 up to 4,096 rows, 8×4 from 8,192, 8×8 from 24,576; measured on an H200).
   */
  gemmTM?: 4 | 8;
  /** GEMM columns per invocation, 4 or 8 (tiles 128 columns wide: 64×128, or 128×128 with gemmTM 8); default: see gemmTM. */
  gemmTN?: 4 | 8;
  /** Split K when a GEMM has few output tiles and K ≥ 1024 (default true). */
  splitK?: boolean;
  /** Preferred attention key tile rows (default 32). */
  attentionKeys?: 8 | 16 | 32 | 64;
  /** Query rows per attention invocation, 1, 2 or 4 (default: 2 for sequences of 128 tokens or more, else 1). */
  attentionQueries?: 1 | 2 | 4;
  /** Use subgroup reductions when the device has them (default true). */
  subgroups?: boolean;
  /**
   * q8 layers multiply with WGSL's dot4I8Packed where the language feature
   * packed_4x8_integer_dot_product exists (default true; false unpacks the bytes with shifts).
   */
  packedDot4?: boolean;
  /**
   * Let the embedder submit the next batch before the last one is read back (default true;
   * false runs batches strictly one after another, for comparisons).
   */
  overlapBatches?: boolean;
  /**
   * When the model's kernel variants are compiled: 'async' all at once when the embedder is
   * created, with createComputePipelineAsync (default on hardware adapters: on an H200 a cold
   * start took 1.4–1.8 s against 1.9 s lazily); 'sync' then too, one by one; 'lazy' each on first
   * use, inside the first batches (default on software adapters such as SwiftShader, where
   * 'async' took about twice as long: they compile one pipeline at a time).
   */
  warmUp?: 'async' | 'sync' | 'lazy';
  /**
   * Keep each batch shape's kernel calls, uniforms, pipelines and bind groups for the next batch
   * of that shape (default true; false lists and binds them again every batch, for comparisons).
   */
  reuseCalls?: boolean;
  /**
   * Embedding tables larger than this many bytes stay on the host and the batch's rows are
   * gathered there (default: the device's largest storage binding; tests lower it).
   */
  hostTableBytes?: number;
}
