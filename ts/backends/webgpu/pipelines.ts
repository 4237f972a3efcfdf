/**
 * Compiled kernel variants. A {@link PipelineKey} names one variant (shader + defines); its
 * string form (`gemm:BK=16,F16=0,GELU=1,RESIDUAL=0,VEC4=1`) keys a per-device cache, so every
 * variant is compiled once per device, never per batch.
 */
import { type Defines, preprocess } from './preprocess.js';
import type { ShaderName } from './wgsl.generated.js';

/** One compiled variant of a shader. */
export interface PipelineKey {
  readonly shader: ShaderName;
  readonly defines: Defines;
}

/** The stable name of a variant: the shader, then its defines sorted by name. */
export function pipelineKeyString(key: PipelineKey): string {
  const parts = Object.keys(key.defines)
    .sort()
    .map((k) => {
      const v = key.defines[k]!;
      return `${k}=${typeof v === 'boolean' ? Number(v) : v}`;
    });
  return `${key.shader}:${parts.join(',')}`;
}

/** Pipelines of one device by key string. */
export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice) {}

  /** Number of compiled variants. */
  get size(): number {
    return this.pipelines.size;
  }

  /**
   * The pipeline of a variant, compiled on first use. Compile errors surface through the device's
   * error scopes (the backend wraps every batch in them) with the variant's key as the label.
   */
  get(key: PipelineKey, keyString = pipelineKeyString(key)): GPUComputePipeline {
    let pipeline = this.pipelines.get(keyString);
    if (!pipeline) {
      pipeline = this.device.createComputePipeline(this.descriptor(key, keyString));
      this.pipelines.set(keyString, pipeline);
    }
    return pipeline;
  }

  /**
   * Compiles the variants not cached yet, all at once with createComputePipelineAsync (the
   * implementation may compile them in parallel, off the calling thread). A variant that fails
   * to compile is left to {@link get}, whose error the batch's error scopes report.
   */
  async prepare(keys: Iterable<PipelineKey>): Promise<void> {
    const pending = new Map<string, Promise<void>>();
    for (const key of keys) {
      const keyString = pipelineKeyString(key);
      if (this.pipelines.has(keyString) || pending.has(keyString)) continue;
      pending.set(
        keyString,
        this.device.createComputePipelineAsync(this.descriptor(key, keyString)).then(
          (pipeline) => {
            if (!this.pipelines.has(keyString)) this.pipelines.set(keyString, pipeline);
          },
          () => undefined,
        ),
      );
    }
    await Promise.all(pending.values());
  }

  private descriptor(key: PipelineKey, keyString: string): GPUComputePipelineDescriptor {
    const module = this.device.createShaderModule({ code: preprocess(key.shader, key.defines), label: keyString });
    return { layout: 'auto', compute: { module, entryPoint: 'main' }, label: keyString };
  }
}

const caches = new WeakMap<GPUDevice, PipelineCache>();

/** The pipeline cache of a device (shared by all backends on it). */
export function pipelineCache(device: GPUDevice): PipelineCache {
  let cache = caches.get(device);
  if (!cache) {
    cache = new PipelineCache(device);
    caches.set(device, cache);
  }
  return cache;
}
