/**
 * The published package as users get it: `npm pack`, then publint and are-the-types-wrong on the
 * tarball, then an install into a fresh project that imports dualbert (and its adapters) and embeds;
 * then WebGPU in that project: without the optional `webgpu` package (a one-line notice saying how
 * to get it), and with it installed from its tarball (what `auto` chooses, and no native noise).
 * Every install is offline: dualbert has no other dependency, and webgpu's tarballs come from
 * npm's cache (where `npm ci` put them) or, failing that, are packed from node_modules.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuTestEnv } from './helpers/gpu-env.mjs';
import { ROOT, ensureDistBuilt } from './helpers/build.js';
import { skipOrFail } from './helpers/ci.js';
import { loadGolden, maxAbsDiff } from './helpers/golden.js';

const work = mkdtempSync(join(tmpdir(), 'dualbert-pack-'));
let tarball = '';
const npm = (args: string[], cwd: string): string =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });

beforeAll(() => {
  ensureDistBuilt();
  // --ignore-scripts: dist/ and build/*.wasm are already built by the test run.
  npm(['pack', '--ignore-scripts', '--pack-destination', work], ROOT);
  tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm package', () => {
  it('ships dist, the wasm builds, the bundled tokenizer assets and the CLI, and nothing from test/', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    for (const f of ['package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/adapters/ai-sdk.js', 'package/dist/adapters/langchain.d.ts', 'package/bin/dualbert.js', 'package/assets/all-MiniLM-L6-v2/vocab.txt', 'package/build/dualbert-simd.wasm', 'package/build/dualbert-scalar.wasm']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('package/test/') || f.startsWith('package/ts/') || f.endsWith('.map'))).toEqual([]);
  });

  it('passes publint', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/publint/src/cli.js'), tarball, '--strict'], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('passes are-the-types-wrong (ESM profile) for every entry point', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/@arethetypeswrong/cli/dist/index.js'), tarball, '--profile', 'esm-only', '--format', 'table-flipped'], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('installs into a fresh project, imports, and embeds synthetic:tiny (library and CLI)', () => {
    const app = join(work, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    // --omit=optional: webgpu comes in the next tests, from a local tarball (no registry here).
    npm(['install', tarball, '--ignore-scripts', '--no-audit', '--no-fund', '--omit=peer', '--omit=optional', '--offline'], app);
    writeFileSync(
      join(app, 'main.js'),
      `import { createEmbedder, Tokenizer, DualbertError, capabilities } from 'dualbert';
       import { dualbertEmbeddingModel } from 'dualbert/ai-sdk';
       const embedder = await createEmbedder('synthetic:tiny', { device: 'reference' });
       const { data, dims } = await embedder.embed(['HELLO WORLD']);
       const model = dualbertEmbeddingModel(embedder);
       const { embeddings } = await model.doEmbed({ values: ['HELLO WORLD'] });
       console.log(JSON.stringify({ dims, row: Array.from(data), same: embeddings[0].every((v, i) => v === data[i]),
         types: [typeof Tokenizer, typeof DualbertError], simd: (await capabilities()).wasm.simd }));`,
    );
    const out = JSON.parse(execFileSync(process.execPath, ['main.js'], { cwd: app, encoding: 'utf8' })) as {
      dims: number[];
      row: number[];
      same: boolean;
      types: string[];
      simd: boolean;
    };
    expect(out.dims).toEqual([1, 64]);
    expect(maxAbsDiff(out.row, loadGolden('tiny').texts[2]!.mean)).toBeLessThanOrEqual(1e-6); // golden text 2 is "HELLO WORLD"
    expect(out.same).toBe(true);
    expect(out.types).toEqual(['function', 'function']);
    expect(out.simd).toBe(true);
    const cli = spawnSync(join(app, 'node_modules/.bin/dualbert'), ['tokenize', '-m', 'synthetic:tiny'], { input: '{"text": "HELLO WORLD"}', encoding: 'utf8' });
    expect(cli.stdout.trim()).toBe('{"ids":[101,7592,2088,102]}');
  });

  it('declares webgpu (Dawn) as an optional dependency, at the version of the lock file', () => {
    const packed = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as { optionalDependencies?: Record<string, string>; dependencies?: Record<string, string> };
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
    expect(packed.optionalDependencies).toEqual({ webgpu: lock.packages['node_modules/webgpu']!.version });
    expect(packed.dependencies).toBeUndefined();
  });

  it('without the webgpu package: auto runs on wasm with a one-line notice, device "webgpu" is a one-line error', () => {
    const app = join(work, 'app');
    expect(existsSync(join(app, 'node_modules/webgpu'))).toBe(false);
    const r = runIn(app, noGpuEnv());
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.device).toBe('wasm');
    expect(r.out.webgpu.available).toBe(false);
    expect(r.out.webgpu.reason).toMatch(/optional dependency of dualbert that is not installed here: npm install webgpu/);
    expect(r.out.explicit).toMatch(/^DEVICE_UNAVAILABLE device "webgpu": .*npm install webgpu$/);
    expect(r.out.explicit.split('\n')).toHaveLength(1);
    // Said once, on one line, however many embedders are created.
    expect(r.stderr.trim().split('\n')).toEqual(['dualbert: WebGPU in Node needs the package "webgpu" (Dawn), an optional dependency of dualbert that is not installed here: npm install webgpu (running on the CPU meanwhile)']);
    expect(runIn(app, noGpuEnv(), { logLevel: 'silent' }).stderr).toBe('');
  });

  it('with webgpu installed (offline, from its tarball): no native warning; auto takes WebGPU only on a hardware adapter', (ctx) => {
    const app = join(work, 'app');
    const dir = join(work, 'webgpu-tarballs');
    execFileSync('mkdir', ['-p', dir]);
    const tgz = WEBGPU_PACKAGES.map((name) => offlineTarball(name, dir));
    npm(['install', ...tgz, '--no-audit', '--no-fund', '--offline', '--no-save'], app);
    expect(existsSync(join(app, 'node_modules/webgpu/package.json'))).toBe(true);

    // A machine without a Vulkan driver: Dawn's "Couldn't load Vulkan" stays in the probe's child.
    const none = runIn(app, noGpuEnv());
    expect(none.code, none.stderr).toBe(0);
    expect(none.stderr).toBe('');
    expect(none.out.device).toBe('wasm');
    expect(none.out.webgpu.available).toBe(false);
    expect(none.out.webgpu.reason).toMatch(/returned null/);
    expect(none.out.explicit).toMatch(/^DEVICE_UNAVAILABLE device "webgpu": Dawn found no GPU adapter/);

    // SwiftShader (a software adapter): capabilities() shows it, auto keeps to wasm unless allowed.
    const swiftshader = gpuTestEnv(noGpuEnv());
    if (!swiftshader.VK_ICD_FILENAMES) skipOrFail(ctx, "no SwiftShader ICD (Debian's chromium package) for the WebGPU half");
    const soft = runIn(app, { ...noGpuEnv(), ...swiftshader }, {}, false);
    expect(soft.code, soft.stderr).toBe(0);
    expect(soft.stderr).toBe('');
    expect(soft.out.webgpu).toMatchObject({ available: true, fallbackAdapter: true, adapter: { architecture: 'swiftshader' } });
    expect(soft.out.device).toBe('wasm');
    const allowed = runIn(app, { ...noGpuEnv(), ...swiftshader }, { allowFallbackAdapter: true }, false);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.out.device).toBe('webgpu');
    expect(maxAbsDiff(allowed.out.row, loadGolden('tiny').texts[2]!.mean)).toBeLessThanOrEqual(1e-5);
  });
});

/** webgpu and the packages it depends on (what `npm install` fetches for it). */
const WEBGPU_PACKAGES = ['webgpu', '@webgpu/types', 'debug', 'ms'];

/**
 * The tarball of an installed package at its installed version, offline: from npm's cache when
 * it is there (`npm ci` put it there), else packed from node_modules.
 */
function offlineTarball(name: string, dir: string): string {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
  const pack = (spec: string) => JSON.parse(npm(['pack', spec, '--offline', '--ignore-scripts', '--json', '--pack-destination', dir], dir)) as { filename: string }[];
  let packed: { filename: string }[];
  try {
    packed = pack(`${name}@${version}`);
  } catch {
    packed = pack(join(ROOT, 'node_modules', name));
  }
  return join(dir, packed[0]!.filename.replace(/^@/, '').replace('/', '-'));
}

/** The environment of a machine without a Vulkan driver set up (the SwiftShader hints removed). */
function noGpuEnv(): NodeJS.ProcessEnv {
  const { VK_ICD_FILENAMES: _a, VK_DRIVER_FILES: _b, LD_LIBRARY_PATH: _c, ...env } = process.env;
  return env;
}

interface WebGpuRun {
  device: string;
  row: number[];
  webgpu: { available: boolean; reason?: string; fallbackAdapter?: boolean; adapter?: { architecture: string } };
  explicit: string;
}

/**
 * Runs a script in the installed project: capabilities() and an embedder (device 'auto' unless
 * options say otherwise); with `again`, a second embedder and one with device 'webgpu' (slow on
 * SwiftShader, so left out there).
 */
function runIn(app: string, env: NodeJS.ProcessEnv, options: Record<string, unknown> = {}, again = true): { code: number | null; out: WebGpuRun; stderr: string } {
  writeFileSync(
    join(app, 'webgpu.js'),
    `import { capabilities, createEmbedder } from 'dualbert';
     const options = ${JSON.stringify(options)};
     const { webgpu } = await capabilities(options);
     const embedder = await createEmbedder('synthetic:tiny', options);
     const { data } = await embedder.embed(['HELLO WORLD']);
     let explicit = 'not tried';
     if (${again}) try {
       (await createEmbedder('synthetic:tiny', options)).dispose();
       explicit = 'no error'; (await createEmbedder('synthetic:tiny', { ...options, device: 'webgpu' })).dispose(); } catch (e) { explicit = e.code + ' ' + e.message; }
     process.stdout.write(JSON.stringify({ device: embedder.device, row: Array.from(data), webgpu, explicit }), () => process.exit(0));`,
  );
  const r = spawnSync(process.execPath, ['webgpu.js'], { cwd: app, env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.status === 0 ? (JSON.parse(r.stdout) as WebGpuRun) : ({} as WebGpuRun), stderr: r.stderr };
}
