/**
 * A backend that moves to another device when its own fails mid-session: with device 'auto', a
 * lost GPU (or a failed pipeline) makes the batch run again on the next device (the CPU), for
 * good, with a warning. Plans are device-independent, so the batch is simply executed again.
 */
import { DualbertError } from '../errors.js';
import type { Batch } from '../graph/batch.js';
import type { GraphNode } from '../graph/ops.js';
import type { GraphPlan } from '../graph/plan.js';
import type { Backend, BackendStats, BackendWarning, Device, RunIO } from './types.js';

/** Whether an error of a backend means the device itself failed (rather than a bad input). */
function isDeviceFailure(e: unknown): boolean {
  return !(e instanceof DualbertError) || e.code === 'DEVICE_UNAVAILABLE';
}

/**
 * @example
 * const backend = new FallbackBackend(gpu, () => createBackend('wasm', weights), console.warn);
 */
export class FallbackBackend implements Backend {
  private next: (() => Promise<Backend>) | undefined;

  constructor(
    private current: Backend,
    next: () => Promise<Backend>,
    private readonly onWarning: (w: BackendWarning) => void,
  ) {
    this.next = next;
  }

  get device(): Device {
    return this.current.device;
  }

  get threads(): number {
    return this.current.threads;
  }

  get overlapsBatches(): boolean {
    return this.current.overlapsBatches === true;
  }

  get fusesLinearNorm(): boolean {
    return this.current.fusesLinearNorm === true;
  }

  /** The backend that runs now (the GPU, or the CPU after a fallback). */
  get active(): Backend {
    return this.current;
  }

  async warmUp(plan: GraphPlan): Promise<void> {
    await this.current.warmUp?.(plan);
  }

  supports(node: GraphNode): boolean {
    return this.current.supports(node);
  }

  stats(): BackendStats {
    return this.current.stats();
  }

  async execute(plan: GraphPlan, batch: Batch, io: RunIO): Promise<(Float32Array | Float64Array)[]> {
    const backend = this.current;
    try {
      return await backend.execute(plan, batch, io);
    } catch (e) {
      if (!isDeviceFailure(e)) throw e;
      // Several batches may be in flight on the GPU when it fails (embed() submits the next batch
      // before reading the last one back): the first failure switches devices, once; every
      // failed batch then runs again on the new device, one after another (CPU backends reuse
      // their memory between batches).
      if (backend === this.current && !this.switching) {
        if (!this.next) throw e;
        this.switching = this.switchFrom(backend, e as Error);
      }
      if (this.switching) await this.switching;
      if (this.current === backend) throw e;
      const rerun = this.reruns.then(() => this.current.execute(plan, batch, io));
      this.reruns = rerun.catch(() => undefined);
      return rerun;
    }
  }

  private switching: Promise<void> | undefined;
  private reruns: Promise<unknown> = Promise.resolve();

  private async switchFrom(failed: Backend, e: Error): Promise<void> {
    let next: Backend;
    try {
      next = await this.next!();
    } catch (cause) {
      this.switching = undefined; // a later failure may try again
      throw cause;
    }
    this.next = undefined;
    try {
      failed.dispose();
    } catch {
      // a lost device may refuse cleanup; nothing else holds it
    }
    this.current = next;
    this.onWarning({ code: 'GPU_FALLBACK', message: `the GPU failed (${e.message}); continuing on device "${next.device}"` });
  }

  dispose(): void {
    this.next = undefined;
    this.current.dispose();
  }
}
