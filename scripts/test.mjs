#!/usr/bin/env node
// `npm test`: build the WASM if stale, run vitest (human-readable output streamed, JSON results
// to .vitest-results.json), then print a summary whose LAST line is exactly
// `N passed, N failed, N skipped`. Exit code is non-zero when anything failed or when no test ran.
// Extra arguments go to vitest: `npm test -- test/foo.test.ts -t name`.
//
// Counting: "passed"/"failed" are vitest's test counts from the JSON report; "skipped" counts the
// tests vitest skipped (skip, todo, or a describe skipped for a missing prerequisite, each named
// on a line before the summary), so a run that passes with the WebGPU/browser tests skipped says
// so. Failures that no test result carries are each counted as one failed test (and named on
// the line before): a test file that failed without a failed test in it (import error, failing
// beforeAll), and vitest exiting non-zero with no failure in the report (unhandled errors).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gpuTestEnv } from '../test/helpers/gpu-env.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(ROOT, '.vitest-results.json');
const WASM_OUTPUTS = [
  'build/dualbert-simd.wasm',
  'build/dualbert-scalar.wasm',
  'build/dualbert-relaxed.wasm',
  'build/dualbert-simd-threads.wasm',
  'build/dualbert-scalar-threads.wasm',
  'build/dualbert-relaxed-threads.wasm',
  'build/testing/dualbert-testing-simd.wasm',
];
const WASM_INPUTS = ['assembly', 'asconfig.json', 'ts/backends/wasm/job-args.ts'];

/** Newest mtime (ms) of a file or of all files below a directory; 0 when missing. */
function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function summary(passed, failed, notes = [], skipped = 0) {
  for (const note of notes) console.log(note);
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
}

// 1. Builds, when an output is missing or older than its sources.
// Builds that tests read (the CLI and package tests run dist/; the wasm backend loads build/).
// Done once here, before vitest starts its parallel workers, so no two test files rebuild at once.
const BUILDS = [
  { script: 'build:wasm', outputs: WASM_OUTPUTS, inputs: WASM_INPUTS },
  { script: 'build:ts', outputs: ['dist/index.js'], inputs: ['ts', 'tsconfig.json', 'tsconfig.build.json'] },
  { script: 'build:bundles', outputs: ['dist/browser/dualbert.js', 'dist/browser/dualbert.inline.js'], inputs: ['dist/index.js', 'build', 'scripts/rollup.config.mjs'] },
];
for (const { script, outputs, inputs } of BUILDS) {
  const oldestOutput = Math.min(...outputs.map((p) => (existsSync(join(ROOT, p)) ? statSync(join(ROOT, p)).mtimeMs : -Infinity)));
  const newestInput = Math.max(...inputs.map((p) => newestMtime(join(ROOT, p))));
  if (oldestOutput >= newestInput) continue;
  console.log(`[test] build missing or stale: npm run ${script}`);
  const build = spawnSync('npm', ['run', script], { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
  if (build.status !== 0) {
    summary(0, 1, [`[test] npm run ${script} failed (exit ${build.status ?? build.signal})`]);
    process.exit(1);
  }
}

// 2. Static checks of the whole tree (on a full run only: `npm test -- file` skips them). Each
// counts as one test in the summary.
const STATIC_CHECKS = [
  { name: 'no import cycle in ts/ (scripts/check-cycles.mjs)', cmd: [process.execPath, join(ROOT, 'scripts', 'check-cycles.mjs')] },
  { name: 'lint (biome lint, biome.json)', cmd: [process.execPath, join(ROOT, 'node_modules', '@biomejs', 'biome', 'bin', 'biome'), 'lint', '--diagnostic-level=error', '--max-diagnostics=50'] },
];
const staticResults = { passed: 0, failed: 0, notes: [] };
if (process.argv.length <= 2) {
  for (const check of STATIC_CHECKS) {
    const r = spawnSync(check.cmd[0], check.cmd.slice(1), { cwd: ROOT, stdio: 'inherit' });
    if (r.status === 0) staticResults.passed++;
    else {
      staticResults.failed++;
      staticResults.notes.push(`[test] FAILED static check: ${check.name}`);
    }
  }
}

// 3. Environment for WebGPU on SwiftShader (see test/helpers/gpu-env.mjs).
const extraEnv = gpuTestEnv(process.env);
for (const [k, v] of Object.entries(extraEnv)) console.log(`[test] ${k}=${v}`);
const env = { ...process.env, ...extraEnv };

// 4. vitest run, streamed; JSON report to a file (removed first so a stale one is never read).
rmSync(RESULTS, { force: true });
const vitestBin = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const args = [
  vitestBin,
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${RESULTS}`,
  ...process.argv.slice(2),
];
const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
const [code, signal] = await new Promise((resolve) =>
  child.on('exit', (c, s) => resolve([c, s])),
);

// 5. Summary from the JSON report.
if (!existsSync(RESULTS)) {
  summary(0, 1, [`[test] vitest wrote no JSON report (exit ${code ?? signal})`]);
  process.exit(1);
}
const report = JSON.parse(readFileSync(RESULTS, 'utf8'));
let passed = (report.numPassedTests ?? 0) + staticResults.passed;
let failed = (report.numFailedTests ?? 0) + staticResults.failed;
const notes = [...staticResults.notes];
const skipped = [];
const files = report.testResults ?? [];
for (const file of files) {
  const name = relative(ROOT, file.name);
  const results = file.assertionResults ?? [];
  for (const t of results) {
    if (t.status === 'skipped' || t.status === 'pending' || t.status === 'todo') {
      skipped.push(`${name} > ${t.fullName ?? t.title}${t.status === 'todo' ? ' (todo)' : ''}`);
    }
  }
  if (file.status === 'failed' && !results.some((t) => t.status === 'failed')) {
    failed += 1;
    const msg = String(file.message ?? '').split('\n')[0];
    notes.push(`[test] FAILED test file (counted as 1 failed): ${name}: ${msg}`);
  }
}
if ((code !== 0 || signal) && failed === 0 && files.length > 0) {
  failed += 1;
  notes.push(
    `[test] vitest exited with ${code ?? signal} although no test failed ` +
      '(unhandled error or crash; see output above): counted as 1 failed',
  );
}
if (skipped.length) notes.push(`[test] skipped (${skipped.length}): ${skipped.join('; ')}`);
if (passed + failed === 0) {
  notes.push(`[test] no test ran${files.length === 0 ? ' (no test file matched)' : ''}`);
}
summary(passed, failed, notes, skipped.length);
process.exit(failed > 0 || passed + failed === 0 ? 1 : 0);
