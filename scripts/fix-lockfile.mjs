#!/usr/bin/env node
// Adds to package-lock.json the platform packages of rollup that npm leaves out when the
// registry it talks to lacks them (the mirror on our build machines serves only the Linux ones).
// Without these entries `npm ci` rejects the lock ("Missing: @rollup/rollup-… from lock file").
// They are optional and never downloaded on a platform they do not match.
// Run after any `npm install` that rewrites the lock: node scripts/fix-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
const added = [];
for (const parent of Object.values(packages)) {
  for (const [name, version] of Object.entries(parent.optionalDependencies ?? {})) {
    if (!name.startsWith('@rollup/rollup-')) continue;
    const key = `node_modules/${name}`;
    if (packages[key]) continue;
    // @rollup/rollup-<os>-<cpu>[-<libc|abi>]
    const [os, cpu, variant] = name.slice('@rollup/rollup-'.length).split('-');
    const entry = { version, cpu: [cpu], dev: parent.dev ?? true };
    if (os === 'linux') entry.libc = [variant?.startsWith('musl') ? 'musl' : 'glibc'];
    Object.assign(entry, { license: 'MIT', optional: true, os: [os] });
    packages[key] = entry;
    added.push(name);
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`fix-lockfile: added ${added.length} platform entries${added.length ? `: ${added.join(', ')}` : ''}`);
