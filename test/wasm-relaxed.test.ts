/**
 * The relaxed-SIMD builds (fused multiply-add in the GEMM microkernels), 1 and 2 threads, through
 * the bodies every device runs (test/helpers/device-tests.ts): every op case against the float64
 * reference, and tiny and minilm against the golden vectors.
 * Node 20 validates relaxed SIMD only behind --experimental-wasm-relaxed-simd: there this file
 * re-runs itself in a vitest whose test processes get that flag (--execArgv); Node ≥ 22 (and
 * browsers with relaxed SIMD) run it directly.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { relaxedSimdSupported } from '../ts/backends/wasm/loader.js';
import { ROOT } from './helpers/build.js';
import { describeGoldenModels, describeOpParity } from './helpers/device-tests.js';
import { RELAXED_DEVICES } from './helpers/devices.js';
import { allOpCases } from './helpers/op-parity.js';

const CHILD = 'DUALBERT_RELAXED_SIMD_CHILD';

if (relaxedSimdSupported()) {
  describeOpParity(RELAXED_DEVICES, allOpCases());
  describeGoldenModels(RELAXED_DEVICES);
} else {
  it('runs in a vitest with --experimental-wasm-relaxed-simd (this engine needs the flag)', () => {
    // Guard against recursion: a child that still cannot validate relaxed SIMD fails here.
    expect(process.env[CHILD], 'relaxed SIMD is unavailable even with --experimental-wasm-relaxed-simd').toBeUndefined();
    const file = fileURLToPath(import.meta.url);
    const r = spawnSync(process.execPath, [`${ROOT}node_modules/vitest/vitest.mjs`, 'run', file, '--execArgv=--experimental-wasm-relaxed-simd'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, [CHILD]: '1' },
      timeout: 280_000,
    });
    // eslint-disable-next-line no-control-regex
    const out = `${r.stdout}\n${r.stderr}`.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), ''); // ANSI colours
    expect(r.status, out.slice(-4000)).toBe(0);
    expect(out).toMatch(/Tests\s+\d+ passed/);
    expect(out).not.toMatch(/\d+ failed/);
    // The child's figures (max |Δ| per check), then its count.
    console.log([...(out.match(/^\[wasm relaxed.*$/gm) ?? []), out.match(/Tests\s+\d+ passed.*/)?.[0]].join('\n'));
  });
}
