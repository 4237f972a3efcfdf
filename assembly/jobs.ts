// Dispatch of parallel jobs: every thread calls runJob with its id; the op code in the control
// block picks the kernel, whose tasks the threads share through one counter (layout.ts).

import { OP_ATTENTION, OP_GEMM, OP_LAYERNORM, argI32 } from './layout';
import { gemmJob } from './gemm';
import { attentionJob } from './attention';
import { layerNormJob } from './layernorm';

/** Runs this thread's share of the job described at `ctrl`. Returns when no task is left. */
export function runJob(ctrl: usize, tid: i32): void {
  const op = argI32(ctrl, 0);
  if (op == OP_GEMM) gemmJob(ctrl, tid);
  else if (op == OP_ATTENTION) attentionJob(ctrl, tid);
  else if (op == OP_LAYERNORM) layerNormJob(ctrl, tid);
}
