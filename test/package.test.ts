/**
 * The published package as users get it: `npm pack`, then publint and are-the-types-wrong on the
 * tarball, then an install into a fresh project that imports dualbert (and its adapters) and embeds.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureDistBuilt } from './helpers/build.js';
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
    npm(['install', tarball, '--ignore-scripts', '--no-audit', '--no-fund', '--omit=peer'], app);
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
});
