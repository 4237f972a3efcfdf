/**
 * The op-level parity harness can fail: a backend whose kernel is off by 1e-3 in one value is
 * caught for every op. (The reference itself is held to the float64 PyTorch golden values by the
 * model-level tests.)
 */
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../ts/backends/reference/reference-backend.js';
import type { Backend, RunIO } from '../ts/backends/types.js';
import type { Batch } from '../ts/graph/batch.js';
import type { GraphPlan } from '../ts/graph/plan.js';
import type { GraphWeights } from '../ts/graph/weights.js';
import { OP_TOLERANCE, runOpParity, standardOpCases } from './helpers/op-parity.js';

/** The reference with its result nudged by 1e-3 in one value. */
class OffByOne extends ReferenceBackend implements Backend {
  constructor(weights: GraphWeights) {
    super(weights);
  }

  override async execute(plan: GraphPlan, batch: Batch, io: RunIO): Promise<Float64Array[]> {
    const results = await super.execute(plan, batch, io);
    const first = results[0]!;
    first[Math.min(3, first.length - 1)]! += 1e-3;
    return results;
  }
}

describe('op parity harness', () => {
  const seen = new Set<string>();
  const cases = standardOpCases().filter((c) => !seen.has(c.node.op) && seen.add(c.node.op));
  it.each(cases.map((c) => [c.node.op, c] as const))('catches a wrong %s kernel (one value off by 1e-3)', async (op, c) => {
    const r = await runOpParity(async (w) => new OffByOne(w), c);
    expect(r.maxAbs).toBeGreaterThanOrEqual(0.999e-3);
    expect(r.maxRel).toBeGreaterThan(OP_TOLERANCE[op as keyof typeof OP_TOLERANCE] ?? 0);
  });
});
