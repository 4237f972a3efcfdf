/**
 * `npm run demo` as a new user sees it: on a machine without a GPU it prints no native warning
 * (Dawn's "Couldn't load Vulkan" is kept in the probe's child process), it says that the
 * synthetic model's similarities mean nothing and how to run a real model, and on a real model
 * directory it names the most similar pair of the matrix it printed.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder } from '../ts/index.js';
import { ROOT, ensureDistBuilt } from './helpers/build.js';
import { skipOrFail } from './helpers/ci.js';

/** The environment of a machine with no Vulkan driver set up: the SwiftShader hints removed. */
function noGpuEnv(): NodeJS.ProcessEnv {
  const { VK_ICD_FILENAMES: _a, VK_DRIVER_FILES: _b, LD_LIBRARY_PATH: _c, ...env } = process.env;
  return env;
}
const DAWN_NOISE = /Vulkan|vkCreateInstance|BackendVk/;
const demo = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'scripts/demo.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', env: noGpuEnv(), timeout: 120_000 });

/** The printed matrix: one row of numbers per text. */
function matrixOf(stdout: string): number[][] {
  return stdout
    .split('\n')
    .filter((l) => /^\s+-?\d\.\d\d(\s+-?\d\.\d\d)+\s+\[\d+\]/.test(l))
    .map((l) => l.split('[')[0]!.trim().split(/\s+/).map(Number));
}

beforeAll(() => ensureDistBuilt());

describe('npm run demo', () => {
  it('prints no native warning without a GPU, and says the synthetic weights are random', (ctx) => {
    // Control: with logLevel 'verbose' Dawn speaks on this machine (else there is nothing to hide).
    const loud = demo('synthetic:tiny', '--verbose');
    expect(loud.status, loud.stderr).toBe(0);
    if (!DAWN_NOISE.test(loud.stderr)) skipOrFail(ctx, `Dawn printed no Vulkan warning here even verbose (a usable GPU?): ${loud.stdout.split('\n')[0]}`);

    const r = demo();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^model synthetic:minilm on device "wasm"/);
    expect(r.stdout).toMatch(/RANDOM weights/);
    expect(r.stdout).toMatch(/say NOTHING about what the sentences mean/);
    expect(r.stdout).toContain('npm run demo -- hf:sentence-transformers/all-MiniLM-L6-v2');
    expect(r.stdout).not.toMatch(/most similar pair/);
    expect(r.stdout).not.toMatch(DAWN_NOISE); // the reason is for `dualbert info`, not the demo's first lines
    const m = matrixOf(r.stdout);
    expect(m).toHaveLength(8);
    m.forEach((row, i) => expect(row[i]).toBe(1));
  });

  it('on a model directory: the matrix of its embeddings and the most similar pair, no note', async () => {
    const dir = join(ROOT, 'test/fixtures/tokenizers/models/bert-st6');
    const r = demo(dir, 'wasm');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toMatch(/RANDOM/);
    const m = matrixOf(r.stdout);
    expect(m).toHaveLength(8);

    // The printed numbers are the model's cosine similarities (computed here independently).
    const texts = ['A man is eating food.', 'A man is eating a piece of bread.'];
    const embedder = await createEmbedder(dir, { device: 'reference' });
    const { data, dims } = await embedder.embed(texts);
    embedder.dispose();
    let cos = 0;
    for (let k = 0; k < dims[1]; k++) cos += data[k]! * data[dims[1] + k]!;
    expect(Math.abs(m[0]![1]! - cos)).toBeLessThanOrEqual(0.006);

    let best = [0, 1];
    for (let i = 0; i < 8; i++) for (let j = i + 1; j < 8; j++) if (m[i]![j]! > m[best[0]!]![best[1]!]!) best = [i, j];
    const pair = /most similar pair \((\d\.\d+)\): \[(\d)\] .* and \[(\d)\] /.exec(r.stdout);
    expect(pair, r.stdout).not.toBeNull();
    expect(Math.abs(Number(pair![1]) - m[best[0]!]![best[1]!]!)).toBeLessThanOrEqual(0.006);
    // Ties at two decimals may name another pair of the same printed value.
    expect(m[Number(pair![2])]![Number(pair![3])]).toBe(m[best[0]!]![best[1]!]);
  });

  it('a model that cannot load is one line on stderr, not a stack trace', () => {
    const r = demo(join(ROOT, 'test/fixtures/no-such-model'), 'wasm');
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^demo: .*no-such-model.*\(MODEL_NOT_FOUND\)/);
  });
});
