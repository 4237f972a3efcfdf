/**
 * The `dualbert` command line: `tokenize` and `embed` over JSONL.
 *
 *   dualbert tokenize --model <dir|synthetic:NAME> [--input FILE] [--no-truncation]
 *   dualbert embed --model <dir|synthetic:NAME> [--device auto|reference|wasm|webgpu]
 *                  [--pooling mean|cls|max] [--no-normalize] [--batch-size N] [--input FILE]
 *
 * Input: one JSON object per line with a string field "text" (stdin or --input).
 * Output: one JSON line per input, in order. Any bad line is reported on stderr with its line
 * number and nothing is written to stdout (exit 1), unless --keep-going, which writes
 * {"error": ...} in place of the bad line's result and exits 1 at the end.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { DEVICE_OPTIONS, type DeviceOption } from '../backends/backend.js';
import { createEmbedder } from '../embedder.js';
import { DualbertError } from '../errors.js';
import type { PoolingMode } from '../graph/ops.js';
import { loadModelMeta } from '../model/load.js';

const USAGE = `dualbert — BERT sentence embeddings (WebGPU / WASM / reference)

Usage:
  dualbert tokenize --model <dir|synthetic:tiny|synthetic:minilm> [options]
  dualbert embed    --model <dir|synthetic:tiny|synthetic:minilm> [options]

Input is JSONL on stdin (or --input FILE), one {"text": "..."} per line.
Output is one JSON line per input, in order: {"ids": [...]} or {"embedding": [...]}.

Common options:
  --model, -m SPEC      model directory, URL base, or synthetic:tiny / synthetic:minilm
  --input, -i FILE      read JSONL from FILE instead of stdin
  --keep-going          on a bad input line, write {"error": ...} for it and continue
  --help, -h            show this help

tokenize options:
  --no-truncation       do not cut texts at the model's max length

embed options:
  --device, -d DEVICE   auto | reference | wasm | webgpu            (default auto)
  --pooling, -p MODE    mean | cls | max                           (default: the model's)
  --no-normalize        do not L2-normalize                        (default: the model's)
  --batch-size, -b N    texts per forward pass                     (default 32)
`;

class UsageError extends Error {}

interface InputLine {
  /** 1-based line number in the input. */
  line: number;
  text?: string;
  error?: string;
}

/** Parses JSONL; blank lines are skipped, bad lines are kept with their error. */
export function parseInput(content: string): InputLine[] {
  const out: InputLine[] = [];
  content.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      out.push({ line, error: `line ${line}: not valid JSON` });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      out.push({ line, error: `line ${line}: expected a JSON object with a "text" field` });
    } else if (typeof (value as { text?: unknown }).text !== 'string') {
      out.push({ line, error: `line ${line}: missing string field "text"` });
    } else {
      out.push({ line, text: (value as { text: string }).text });
    }
  });
  return out;
}

async function readInput(file: string | undefined): Promise<string> {
  if (file) {
    const { readFile } = await import('node:fs/promises');
    try {
      return await readFile(file, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read --input ${file}: ${(e as Error).message}`);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (e) => (e ? reject(e) : resolve())));
}

/** Float32 values printed with 9 significant digits: enough to recover each float32 exactly. */
function float32Json(values: Float32Array): string {
  return `[${Array.from(values, (v) => Number(v.toPrecision(9))).join(',')}]`;
}

type Options = NonNullable<ParseArgsConfig['options']>;
const COMMON_OPTIONS: Options = {
  model: { type: 'string', short: 'm' },
  input: { type: 'string', short: 'i' },
  'keep-going': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};
const COMMAND_OPTIONS: Record<'tokenize' | 'embed', Options> = {
  tokenize: { 'no-truncation': { type: 'boolean' } },
  embed: {
    device: { type: 'string', short: 'd' },
    pooling: { type: 'string', short: 'p' },
    'no-normalize': { type: 'boolean' },
    'batch-size': { type: 'string', short: 'b' },
  },
};

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    await write(process.stdout, USAGE);
    return command ? 0 : 2;
  }
  try {
    if (command !== 'tokenize' && command !== 'embed') throw new UsageError(`unknown command "${command}"`);
    const values = parseArgs({ args: rest, options: { ...COMMON_OPTIONS, ...COMMAND_OPTIONS[command] }, strict: true })
      .values as Record<string, string | boolean | undefined>;
    if (values.help) {
      await write(process.stdout, USAGE);
      return 0;
    }
    const model = values.model as string | undefined;
    if (!model) throw new UsageError('--model is required');

    const device = (values.device as string | undefined) ?? 'auto';
    if (!DEVICE_OPTIONS.includes(device as DeviceOption)) throw new UsageError(`--device must be one of ${DEVICE_OPTIONS.join(', ')}`);
    const pooling = values.pooling as string | undefined;
    if (pooling !== undefined && !['mean', 'cls', 'max'].includes(pooling)) throw new UsageError('--pooling must be mean, cls or max');
    const batchSizeText = values['batch-size'] as string | undefined;
    const batchSize = batchSizeText === undefined ? 32 : Number(batchSizeText);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError('--batch-size must be a positive integer');

    const lines = parseInput(await readInput(values.input as string | undefined));
    const bad = lines.filter((l) => l.error);
    const keepGoing = values['keep-going'] === true;
    for (const l of bad) process.stderr.write(`dualbert: ${l.error}\n`);
    if (bad.length && !keepGoing) return 1;

    const texts = lines.filter((l) => l.text !== undefined).map((l) => l.text!);
    let results: string[];
    if (command === 'tokenize') {
      const meta = await loadModelMeta(model);
      const maxLength = values['no-truncation'] ? null : meta.defaults.maxLength;
      results = texts.map((t) => JSON.stringify({ ids: meta.tokenizer.encode(meta.defaults.lowercaseInput ? t.toLowerCase() : t, { maxLength }).ids }));
    } else {
      const embedder = await createEmbedder(model, { device: device as DeviceOption });
      try {
        const { data, dims } = await embedder.embed(texts, {
          batchSize,
          ...(pooling ? { pooling: pooling as PoolingMode } : {}),
          ...(values['no-normalize'] ? { normalize: false } : {}),
        });
        results = texts.map((_, i) => `{"embedding":${float32Json(data.subarray(i * dims[1], (i + 1) * dims[1]))}}`);
      } finally {
        embedder.dispose();
      }
    }

    // Results in input order, bad lines (with --keep-going) as {"error": ...} in their place.
    let next = 0;
    const out = lines.map((l) => (l.error ? JSON.stringify({ error: l.error }) : results[next++]!));
    await write(process.stdout, out.length ? `${out.join('\n')}\n` : '');
    return bad.length ? 1 : 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`dualbert: ${e.message}\nRun "dualbert --help" for usage.\n`);
      return 2;
    }
    if (e instanceof DualbertError || (e instanceof TypeError && /parseArgs|option/i.test(e.message))) {
      process.stderr.write(`dualbert: ${e.message}\n`);
      return e instanceof DualbertError ? 1 : 2;
    }
    throw e;
  }
}
