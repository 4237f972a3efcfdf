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
    expect(run(['embed', '-m', 'synthetic:tiny', '-d', 'webgpu'], '{"text":"x"}').stderr).toMatch(/not available yet/);
  });

  it('--help describes both commands', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/dualbert tokenize/);
    expect(r.stdout).toMatch(/--no-normalize/);
    expect(run(['embed', '--help']).stdout).toMatch(/--batch-size/);
  });
});
