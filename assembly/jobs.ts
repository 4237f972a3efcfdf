// Dispatch of parallel jobs: every thread calls runJob with its id and the job's generation; the
// op code in the control block picks the kernel, whose tasks the threads share (layout.ts).

import { CTRL_TASKS, OP_ATTENTION, OP_GEMM, OP_LAYERNORM, OP_Q8_GEMM, OP_Q8_MINMAX, argI32, nextTask } from './layout';
import { gemmJob } from './gemm';
import { attentionJob } from './attention';
import { layerNormJob } from './layernorm';
import { gemmQ8Job, q8MinMaxJob } from './gemm-q8';

/**
 * Runs this thread's share of job `gen` (the generation the thread saw published), described at
 * `ctrl`. Returns when no task of it is left to claim.
 *
 * The first task is claimed before anything else is read: a thread that holds a task keeps the
 * job open, so the arguments it reads next are its job's (layout.ts). A late thread that claims
 * nothing returns without reading them.
 */
export function runJob(ctrl: usize, tid: i32, gen: i32): void {
  const first = nextTask(ctrl, gen, load<i32>(ctrl + CTRL_TASKS));
  if (first < 0) return;
  const op = argI32(ctrl, 0);
  if (op == OP_GEMM) gemmJob(ctrl, tid, gen, first);
  else if (op == OP_ATTENTION) attentionJob(ctrl, tid, gen, first);
  else if (op == OP_LAYERNORM) layerNormJob(ctrl, tid, gen, first);
  else if (op == OP_Q8_GEMM) gemmQ8Job(ctrl, tid, gen, first);
  else if (op == OP_Q8_MINMAX) q8MinMaxJob(ctrl, tid, gen, first);
}
