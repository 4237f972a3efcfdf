/** Buffers of the webgpu backend. */
let nextUid = 1;

/** A GPU buffer with a process-unique id (bind groups are cached by the ids they bind). */
export class GpuBuffer {
  readonly uid = nextUid++;

  constructor(
    readonly gpu: GPUBuffer,
    readonly bytes: number,
  ) {}
}
