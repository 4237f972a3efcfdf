/**
 * Sanity of the op-level parity harness itself: the reference against itself is exact, and a
 * deliberately wrong backend is caught (so the harness can fail).
 */
import { describe, expect, it } from 'vitest';
import { ReferenceBackend, type RefTensor } from '../ts/backends/reference/reference-backend.js';
import type { LayerNormNode } from '../ts/graph/ops.js';
import { OP_TOLERANCE, runOpParity, standardOpCases } from './helpers/op-parity.js';

const cases = standardOpCases();

describe('op parity harness', () => {
  it.each(cases.map((c) => [c.name, c] as const))('reference vs reference: %s is exact', async (_, c) => {
    const r = await runOpParity(async (w) => new ReferenceBackend(w), c);
    expect(r.maxAbs).toBe(0);
    expect(r.want.length).toBeGreaterThan(0);
  });

  it('catches a wrong kernel (a LayerNorm off by 1e-3 in one value)', async () => {
    class OffByOne extends ReferenceBackend {
      override layerNorm(node: LayerNormNode, x: RefTensor, out: RefTensor): void {
        super.layerNorm(node, x, out);
        out.data[3] = out.data[3]! + 1e-3;
      }
    }
    const c = cases.find((x) => x.node.op === 'layerNorm')!;
    const r = await runOpParity(async (w) => new OffByOne(w), c);
    expect(r.maxRel).toBeGreaterThan(OP_TOLERANCE.layerNorm);
  });
});
