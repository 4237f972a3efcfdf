/** The `dualbert` command as users run it: bin/dualbert.js over the built dist/. */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureDistBuilt } from './helpers/build.js';
import { loadGolden, maxAbsDiff } from './helpers/golden.js';
import { writeTinyModelDir } from './helpers/model-dir.js';

const BIN = join(ROOT, 'bin', 'dualbert.js');
const golden = loadGolden('tiny');
const goldenLines = readFileSync(join(ROOT, 'test/fixtures/golden/texts.jsonl'), 'utf8').split('\n').filter((l) => l.trim());

function run(args: string[], input = ''): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', cwd: ROOT, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const jsonl = (out: string): Record<string, unknown>[] =>
  out
    .trim()
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

let modelDir = '';
beforeAll(() => {
  ensureDistBuilt();
  modelDir = writeTinyModelDir();
});
afterAll(() => rmSync(modelDir, { recursive: true, force: true }));

describe('dualbert CLI', () => {
  it('embed --device reference on synthetic:tiny gives the golden vectors, in order', () => {
    const r = run(['embed', '--model', 'synthetic:tiny', '--device', 'reference', '--batch-size', '7'], goldenLines.join('\n'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = jsonl(r.stdout);
    expect(rows.length).toBe(golden.texts.length);
    rows.forEach((row, i) => expect(maxAbsDiff(row['embedding'] as number[], golden.texts[i]!.mean), `line ${i + 1}`).toBeLessThanOrEqual(1e-6));
  });

  it('embed on a model directory, from --input, with --pooling cls --no-normalize', () => {
    const input = join(tmpdir(), `dualbert-cli-${process.pid}.jsonl`);
    writeFileSync(input, goldenLines.slice(0, 6).join('\n') + '\n');
    const r = run(['embed', '--model', modelDir, '--device', 'reference', '--input', input, '--pooling', 'cls', '--no-normalize']);
    rmSync(input);
    expect(r.code).toBe(0);
    const rows = jsonl(r.stdout);
    expect(rows.length).toBe(6);
    rows.forEach((row, i) => {
      const want = golden.texts[i]!.cls;
      expect(maxAbsDiff(row['embedding'] as number[], want) / Math.max(...want.map(Math.abs))).toBeLessThanOrEqual(1e-6);
    });
  });

  it('embed on synthetic:minilm with the reference device gives 384-wide unit vectors', () => {
    const r = run(['embed', '-m', 'synthetic:minilm', '-d', 'reference'], '{"text": "hello world"}\n');
    expect(r.code).toBe(0);
    const minilm = loadGolden('minilm');
    // golden text 2 is "HELLO WORLD": the uncased tokenizer gives the same ids as "hello world".
    expect(minilm.texts[2]!.input_ids).toEqual([101, 7592, 2088, 102]);
    const [row] = jsonl(r.stdout);
    expect(maxAbsDiff(row!['embedding'] as number[], minilm.texts[2]!.mean)).toBeLessThanOrEqual(1e-6);
  });

  it('tokenize gives the golden ids (truncated at the model max length) and --no-truncation does not cut', () => {
    const r = run(['tokenize', '--model', modelDir], goldenLines.join('\n'));
    expect(r.code).toBe(0);
    jsonl(r.stdout).forEach((row, i) => expect(row['ids'], `line ${i + 1}`).toEqual(golden.texts[i]!.input_ids));
    const long = JSON.stringify({ text: 'word '.repeat(300) });
    expect((jsonl(run(['tokenize', '-m', 'synthetic:tiny'], long).stdout)[0]!['ids'] as number[]).length).toBe(128);
    expect((jsonl(run(['tokenize', '-m', 'synthetic:tiny', '--no-truncation'], long).stdout)[0]!['ids'] as number[]).length).toBe(302);
  });

  it('a bad line is named on stderr, exit 1, nothing on stdout', () => {
    const input = ['{"text": "fine"}', 'not json', '{"txt": "no text field"}', '{"text": 5}'].join('\n');
    const r = run(['embed', '--model', 'synthetic:tiny', '--device', 'reference'], input);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('line 2: not valid JSON');
    expect(r.stderr).toContain('line 3: missing string field "text"');
    expect(r.stderr).toContain('line 4: missing string field "text"');
  });

  it('--keep-going writes an error object in place of each bad line and still exits 1', () => {
    const input = ['{"text": "fine"}', '[1, 2]', '{"text": "also fine"}'].join('\n');
    const r = run(['tokenize', '--model', 'synthetic:tiny', '--keep-going'], input);
    expect(r.code).toBe(1);
    const rows = jsonl(r.stdout);
    expect(rows.length).toBe(3);
    expect(rows[0]!['ids']).toEqual([101, 2986, 102]);
    expect(rows[1]!['error']).toMatch(/line 2: expected a JSON object/);
    expect(rows[2]!['ids']).toBeDefined();
  });

  it('unknown model, unknown command, bad options: a message and a non-zero exit', () => {
    const unknown = run(['embed', '--model', 'synthetic:nope'], '{"text": "x"}');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown synthetic model "nope"/);
    expect(unknown.stdout).toBe('');
    const missing = run(['embed', '--model', '/no/such/dir'], '{"text": "x"}');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no config\.json/);
    expect(run(['frobnicate']).code).toBe(2);
    expect(run(['embed']).stderr).toMatch(/--model is required/);
    expect(run(['embed', '-m', 'synthetic:tiny', '--device', 'tpu']).stderr).toMatch(/--device must be one of/);
    expect(run(['embed', '-m', 'synthetic:tiny', '--batch-size', '0']).stderr).toMatch(/--batch-size must be a positive integer/);
    expect(run(['embed', '-m', 'synthetic:tiny', '--bogus']).code).toBe(2);
  });

  it('--help lists the commands, and each command has its own help', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/dualbert tokenize/);
    expect(r.stdout).toMatch(/dualbert info/);
    const embedHelp = run(['embed', '--help']);
    expect(embedHelp.code).toBe(0);
    for (const flag of ['--batch-size', '--threads', '--format', '--no-normalize', '--device']) expect(embedHelp.stdout).toContain(flag);
    expect(run(['tokenize', '--help']).stdout).toContain('--no-truncation');
    expect(run(['info', '--help']).stdout).toContain('capability report');
  });

  it('--format npy writes a float32 [n, dim] .npy equal to the JSONL vectors', () => {
    const input = goldenLines.slice(0, 9).join('\n');
    const npy = spawnSync(process.execPath, [BIN, 'embed', '-m', 'synthetic:tiny', '-d', 'reference', '-f', 'npy', '-b', '4'], { input, cwd: ROOT });
    expect(npy.status).toBe(0);
    const bytes = new Uint8Array(npy.stdout);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]); // \x93NUMPY v1.0
    const headerLength = bytes[8]! | (bytes[9]! << 8);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLength));
    expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(9, 64\), \} *\n$/);
    expect((10 + headerLength) % 64).toBe(0);
    const values = new Float32Array(bytes.slice(10 + headerLength).buffer);
    expect(values.length).toBe(9 * 64);
    const rows = jsonl(run(['embed', '-m', 'synthetic:tiny', '-d', 'reference'], input).stdout);
    rows.forEach((row, i) => expect(Array.from(values.subarray(i * 64, (i + 1) * 64)), `row ${i}`).toEqual((row['embedding'] as number[]).map(Math.fround)));
  });

  it('embed --keep-going keeps output line i answering input line i', () => {
    const input = ['{"text": "HELLO WORLD"}', 'oops', '{"text": "short"}', '{"no": 1}', '{"text": "HELLO WORLD"}', '{}'].join('\n');
    const r = run(['embed', '-m', 'synthetic:tiny', '-d', 'reference', '-b', '2', '--keep-going'], input);
    expect(r.code).toBe(1);
    const rows = jsonl(r.stdout);
    expect(rows.map((x) => ('error' in x ? 'error' : 'embedding'))).toEqual(['embedding', 'error', 'embedding', 'error', 'embedding', 'error']);
    expect(maxAbsDiff(rows[0]!['embedding'] as number[], golden.texts[2]!.mean)).toBeLessThanOrEqual(1e-6);
    expect(rows[4]!['embedding']).toEqual(rows[0]!['embedding']);
  });

  it('info prints the capability report, and a model summary with --model', () => {
    const r = run(['info', '--model', 'synthetic:minilm']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      dualbert: string;
      capabilities: { wasm: { simd: boolean; threads: boolean }; cores: number; webgpu: { available: boolean } };
      model: { family: string; ops: string[]; config: { hiddenSize: number }; encoderParameters: number; defaults: { maxLength: number } };
    };
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(report.dualbert).toBe(pkg.version);
    expect(report.capabilities.wasm.simd).toBe(true); // Node 20 validates SIMD128
    expect(report.capabilities.wasm.threads).toBe(true);
    expect(report.capabilities.cores).toBeGreaterThan(0);
    expect(typeof report.capabilities.webgpu.available).toBe('boolean');
    expect(report.model.config.hiddenSize).toBe(384);
    expect(report.model.family).toBe('bert');
    expect(report.model.ops).toEqual(['embed: word + position + token type', 'layerNorm', 'linear', 'attention', 'linear + gelu', 'pool (mean)', 'normalize']);
    expect(report.model.defaults.maxLength).toBe(256);
    // all-MiniLM-L6-v2 has 22.7 M parameters, of which the pooler (not used for embeddings) is 148 k.
    expect(report.model.encoderParameters).toBe(22_565_376);
  });

  it('--threads, --format and --dtype are validated', () => {
    expect(run(['embed', '-m', 'synthetic:tiny', '--threads', '0']).stderr).toMatch(/--threads must be a positive integer/);
    expect(run(['embed', '-m', 'synthetic:tiny', '--format', 'csv']).stderr).toMatch(/--format must be jsonl or npy/);
    expect(run(['embed', '-m', 'synthetic:tiny', '--dtype', 'q4']).stderr).toMatch(/--dtype must be one of fp32, fp16, q8, int8, uint8/);
  });

  it('embed --dtype q8 runs model_quantized.onnx in int8 (onnxruntime\'s vectors within 2e-4)', () => {
    const fixtures = join(ROOT, 'test/fixtures/q8');
    const reference = JSON.parse(readFileSync(join(fixtures, 'reference.json'), 'utf8')) as { texts: string[]; outputs: Record<string, { singles: number[][] }> };
    const input = reference.texts.slice(0, 3).map((text) => JSON.stringify({ text })).join('\n');
    const r = run(['embed', '-m', join(fixtures, 'tiny-bert'), '--dtype', 'q8', '-d', 'wasm', '-t', '1', '-b', '1', '-p', 'mean'], input);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    jsonl(r.stdout).forEach((row, i) => {
      const v = row['embedding'] as number[];
      const norm = Math.hypot(...v);
      expect(maxAbsDiff(v.map((x) => x / norm), reference.outputs['onnx/model_quantized.onnx']!.singles[i]!), `line ${i + 1}`).toBeLessThanOrEqual(2e-4);
    });
  });
});
