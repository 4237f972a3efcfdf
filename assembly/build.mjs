#!/usr/bin/env node
// `npm run build:wasm`: compiles every asconfig.json target (asc -O3), then runs Binaryen's
// wasm-opt -O3 over each output with the target's exact feature set. Running wasm-opt on a
// scalar build WITHOUT --enable-simd also fails the build if a SIMD instruction slipped in
// (and likewise for atomics in a non-threaded build).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const config = JSON.parse(readFileSync(join(ROOT, 'asconfig.json'), 'utf8'));
const bin = (name) => join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);
// The features asc enables by default (AssemblyScript 0.28), which every build may use.
const BASE_FEATURES = ['--mvp-features', '--enable-sign-ext', '--enable-mutable-globals', '--enable-nontrapping-float-to-int', '--enable-bulk-memory'];

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) {
    console.error(`[build:wasm] failed: ${cmd} ${args.join(' ')}`);
    process.exit(r.status ?? 1);
  }
}

for (const [target, options] of Object.entries(config.targets)) {
  run(bin('asc'), ['--target', target]);
  const features = [...BASE_FEATURES, ...(options.enable ?? []).map((f) => `--enable-${f}`)];
  run(bin('wasm-opt'), ['-O3', ...features, options.outFile, '-o', options.outFile]);
  console.log(`[build:wasm] ${options.outFile} (${target})`);
  // The test-only build of the same target: the kernels plus test hooks (assembly/testing.ts).
  const testing = `build/testing/dualbert-testing-${target}.wasm`;
  run(bin('asc'), ['assembly/testing.ts', '--target', target, '--outFile', testing]);
  console.log(`[build:wasm] ${testing} (tests only)`);
}
