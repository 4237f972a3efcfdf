import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { gpuTestEnv } from './test/helpers/gpu-env.mjs';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file runs in its own child process (vitest's default `forks` pool, spelled
    // out): dawn.node is a native addon that is not meant for worker threads, and a forked
    // child that Dawn keeps alive is still ended by vitest (SIGTERM, then SIGKILL) after its
    // file finishes, so `vitest run` always terminates.
    pool: 'forks',
    // At least 2 test files at a time: the CI machines have 2 cores, where vitest's default
    // (cores - 1) would run everything serially behind the minute-long golden model tests.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Added to the environment the forks are spawned with (VK_ICD_FILENAMES, LD_LIBRARY_PATH
    // for SwiftShader). It must be there at process start: the dynamic loader reads
    // LD_LIBRARY_PATH only then. scripts/test.mjs sets the same variables.
    env: gpuTestEnv(),
    // SwiftShader compiles shaders slowly, Chromium takes seconds to start, and the reference
    // backend golden tests run a real model on the CPU (over a minute per test on a 2-core CI
    // machine while another test file runs beside it): generous defaults. Individual tests may
    // still pass their own timeout.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    teardownTimeout: 20_000,
    // Skipped tests print why (see test/helpers/ci.ts); keep them visible.
    hideSkippedTests: false,
  },
});
