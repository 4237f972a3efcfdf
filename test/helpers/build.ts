/** Builds dist/ (tsc) when it is missing or older than ts/, so tests can run what users run. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((e) => newest(join(path, e))));
}

export function ensureDistBuilt(): void {
  const marker = join(ROOT, 'dist', 'index.js');
  if (existsSync(marker) && newest(join(ROOT, 'dist')) >= newest(join(ROOT, 'ts'))) return;
  execFileSync('npm', ['run', 'build:ts', '--silent'], { cwd: ROOT, stdio: 'inherit' });
}

/** Builds the browser bundles (dist/browser/) when missing or older than dist/ or the wasm builds. */
export function ensureBundlesBuilt(): void {
  ensureDistBuilt();
  const marker = join(ROOT, 'dist', 'browser', 'dualbert.inline.js');
  const inputs = Math.max(newest(join(ROOT, 'dist', 'index.js')), newest(join(ROOT, 'build')), newest(join(ROOT, 'scripts', 'rollup.config.mjs')));
  if (existsSync(marker) && existsSync(join(ROOT, 'dist', 'browser', 'assets')) && statSync(marker).mtimeMs >= inputs) return;
  execFileSync('npm', ['run', 'build:bundles', '--silent'], { cwd: ROOT, stdio: 'inherit' });
}
