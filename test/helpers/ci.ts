// Skip-locally / fail-in-CI policy for tests that need something from the machine
// (a WebGPU adapter, a Chromium binary). On a developer machine a missing prerequisite skips
// the test with a visible console warning; under CI=true it fails the test, because CI is
// provisioned to have them (.ci/run installs chromium) and a silent skip would hide a broken
// setup.

import type { TestContext } from 'vitest';

export const isCI = process.env.CI === 'true';

/**
 * Skip (locally) or fail (CI=true) the running test because `reason` is missing.
 * Never returns normally: throws either vitest's skip signal or an Error.
 */
export function skipOrFail(ctx: TestContext, reason: string): never {
  if (isCI) {
    throw new Error(`[CI] required test prerequisite missing: ${reason}`);
  }
  console.warn(`[SKIPPED] ${ctx.task.name}: ${reason} (set CI=true to make this a failure)`);
  return ctx.skip(reason);
}
