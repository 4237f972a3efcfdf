/**
 * Issue #16, defect 7 and the CLI items of 5 and 8: the `dualbert` command when its output goes
 * away (`| head -1`: exit 0, nothing on stderr) or cannot be written (a full disk: one line,
 * exit code 3), when an embedding is not finite (never `NaN` in JSON), with a UTF-8 BOM, and
 * with native Dawn/Vulkan warnings kept off stderr unless --verbose.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../ts/graph/weights.js';
import { writeSafetensors } from '../ts/model/safetensors.js';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../ts/model/synthetic.js';
import { ROOT, ensureDistBuilt } from './helpers/build.js';
import { writeTinyModelDir } from './helpers/model-dir.js';

const BIN = join(ROOT, 'bin', 'dualbert.js');
const lines = (n: number): string => Array.from({ length: n }, (_, i) => JSON.stringify({ text: `sentence number ${i} about nothing much` })).join('\n');

let overflowDir = '';
beforeAll(() => {
  ensureDistBuilt();
  // Finite weights whose activations overflow float32: an FFN up-projection of 3e38 everywhere.
  overflowDir = writeTinyModelDir();
  const tensors = new Map<string, Tensor>([...syntheticCheckpoint(SYNTHETIC_MODELS.tiny.config)].map(([n, t]) => [`bert.${n}`, t]));
  const ffn = tensors.get('bert.encoder.layer.0.intermediate.dense.weight')!;
  tensors.set('bert.encoder.layer.0.intermediate.dense.weight', { shape: ffn.shape, data: new Float32Array(ffn.data.length).fill(3e38) });
  writeFileSync(join(overflowDir, 'model.safetensors'), writeSafetensors(tensors));
});
afterAll(() => rmSync(overflowDir, { recursive: true, force: true }));

function run(args: string[], input: string, env: NodeJS.ProcessEnv = process.env): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', cwd: ROOT, env, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('#16.7 output that goes away or cannot be written', () => {
  it('| head -1: the reader closes the pipe after the first line; exit 0, nothing on stderr', async () => {
    const child = spawn(process.execPath, [BIN, 'embed', '--model', 'synthetic:tiny', '--device', 'wasm', '--threads', '1', '--batch-size', '4'], {
      cwd: ROOT,
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.end(lines(400));
    const firstLine = await new Promise<string>((resolve) => {
      let got = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        got += d;
        if (got.includes('\n')) {
          child.stdout.destroy(); // as `head -1` exits
          resolve(got.slice(0, got.indexOf('\n')));
        }
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(JSON.parse(firstLine)).toHaveProperty('embedding');
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('a full disk (stdout on /dev/full): one line on stderr, exit code 3', () => {
    if (!existsSync('/dev/full')) return expect.fail('/dev/full is missing on this machine');
    const fd = openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, [BIN, 'embed', '--model', 'synthetic:tiny', '--device', 'reference'], {
        input: lines(3),
        encoding: 'utf8',
        cwd: ROOT,
        stdio: ['pipe', fd, 'pipe'],
        timeout: 120_000,
      });
      expect(r.stderr).toMatch(/^dualbert: cannot write the output: ENOSPC: no space left on device.*\n$/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.status).toBe(3);
    } finally {
      closeSync(fd);
    }
  });
});

describe('#16.5 the CLI never prints NaN', () => {
  it('a non-finite embedding stops the run with exit 1 naming the line; --keep-going writes {"error"} in its place', () => {
    const r = run(['embed', '--model', overflowDir, '--device', 'wasm', '--threads', '1'], lines(2));
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^dualbert: line 1: the embedding is not finite \(NaN or Infinity\)/);
    expect(r.code).toBe(1);

    const k = run(['embed', '--model', overflowDir, '--device', 'wasm', '--threads', '1', '--keep-going'], `${lines(1)}\nnot json\n${lines(1)}`);
    expect(k.stdout).not.toMatch(/[[,:]\s*-?(NaN|Infinity)/); // every line is JSON (parsed below)
    const rows = k.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { error?: string });
    expect(rows.map((row) => row.error?.replace(/:.*/, ''))).toEqual(['line 1', 'line 2', 'line 3']);
    expect(k.code).toBe(1);

    const npy = run(['embed', '--model', overflowDir, '--device', 'wasm', '--threads', '1', '--format', 'npy'], lines(1));
    expect(npy.stderr).toMatch(/line 1: the embedding is not finite/);
    expect(npy.code).toBe(1);
  });
});

describe('#16.8 CLI input and stderr', () => {
  it('a UTF-8 BOM before the first JSONL line is ignored', () => {
    const plain = run(['tokenize', '--model', 'synthetic:tiny'], '{"text": "hello world"}\n');
    const bom = run(['tokenize', '--model', 'synthetic:tiny'], '\uFEFF{"text": "hello world"}\n');
    expect(bom.stderr).toBe('');
    expect(bom.code).toBe(0);
    expect(bom.stdout).toBe(plain.stdout);
  });

  it('--device auto keeps native Dawn/Vulkan warnings off stderr; --verbose lets them through', () => {
    // No SwiftShader: Dawn finds no Vulkan driver here and says so on file descriptor 2.
    const env = { ...process.env };
    delete env['VK_ICD_FILENAMES'];
    delete env['LD_LIBRARY_PATH'];
    const verbose = run(['embed', '--model', 'synthetic:tiny', '--verbose'], lines(2), env);
    expect(verbose.code).toBe(0);
    const quiet = run(['embed', '--model', 'synthetic:tiny'], lines(2), env);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toBe(verbose.stdout);
    // On a machine with a usable GPU driver Dawn says nothing either way.
    if (!/^Warning: /m.test(verbose.stderr)) console.log('[reliability-cli] Dawn printed nothing here even with --verbose (a GPU driver loads)');
    const info = run(['info'], '', env);
    expect(info.stderr).toBe('');
    expect(JSON.parse(info.stdout)).toHaveProperty('capabilities.webgpu.available');
  });
});
