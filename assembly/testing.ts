// Test-only exports, compiled into build/testing/dualbert-testing-<target>.wasm next to the
// product builds (assembly/build.mjs) and never shipped (package.json ships build/*.wasm only):
// the special functions of math.ts on a whole array (accuracy tests on dense grids) and the dot
// product of dot.ts, which shows every build associates f32 sums the same way.
export * from './index';
export { dot } from './dot';
export { mathInPlace } from './math';
