/**
 * The `dualbert` command line: `tokenize` and `embed` over JSONL, and `info`.
 *
 *   dualbert tokenize --model <dir|synthetic:NAME> [--input FILE] [--no-truncation]
 *   dualbert embed --model <dir|synthetic:NAME> [--device auto|reference|wasm|webgpu] [--threads N]
 *                  [--pooling mean|cls|max] [--no-normalize] [--batch-size N] [--format jsonl|npy]
 *   dualbert info [--model <dir|synthetic:NAME>]
 *
 * Input: one JSON object per line with a string field "text" (stdin or --input).
 * Output: one JSON line per input, in order. Any bad line is reported on stderr with its line
 * number and nothing is written to stdout (exit 1), unless --keep-going, which writes
 * {"error": ...} in place of the bad line's result and exits 1 at the end.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { deviceOptions } from '../backends/registry.js';
import type { DeviceOption } from '../backends/types.js';
import { createEmbedder } from '../embedder.js';
import { DualbertError } from '../errors.js';
import type { PoolingMode } from '../graph/ops.js';
import { capabilities } from '../detect.js';
import { loadModelMeta } from '../model/load.js';
import { float32Bytes, npyHeader } from './npy.js';
import { ProgressBar } from './progress.js';

/** The package version (kept in step with package.json by a test). */
export const VERSION = '0.1.0';

const USAGE = `dualbert — BERT sentence embeddings (WebGPU / WASM / reference)

Usage:
  dualbert tokenize --model <dir|url|synthetic:tiny|synthetic:minilm> [options]
  dualbert embed    --model <dir|url|synthetic:tiny|synthetic:minilm> [options]
  dualbert info     [--model <spec>]
  dualbert serve    --model <spec> [--device …] [--host 127.0.0.1] [--port 8080]   (HTTP server)
  dualbert <command> --help

Input is JSONL on stdin (or --input FILE), one {"text": "..."} per line.
Output is one JSON line per input, in order: {"ids": [...]} or {"embedding": [...]}.
`;

const COMMON_HELP = `  --model, -m SPEC      model directory, URL base, or synthetic:tiny / synthetic:minilm
  --input, -i FILE      read JSONL from FILE instead of stdin
  --keep-going          on a bad input line, write {"error": ...} for it and continue
  --help, -h            show this help
`;

const COMMAND_HELP: Record<Command, string> = {
  tokenize: `dualbert tokenize — token ids as the model sees them

Usage: dualbert tokenize --model SPEC [--input FILE] [--no-truncation] [--keep-going]

Writes {"ids": [...]} per input line (special tokens included, truncated at the model's max length).

Options:
${COMMON_HELP}  --no-truncation       do not cut texts at the model's max length
`,
  embed: `dualbert embed — sentence embeddings

Usage: dualbert embed --model SPEC [options] < texts.jsonl > embeddings.jsonl

Writes {"embedding": [...]} per input line (float32 values, 9 significant digits), or with
--format npy one float32 matrix [texts, dim] in NumPy .npy format. A progress bar is drawn on
stderr when it is a terminal.

Options:
${COMMON_HELP}  --device, -d DEVICE   auto | reference | wasm | webgpu            (default auto)
  --threads, -t N       CPU threads for the wasm device             (default: all cores)
  --pooling, -p MODE    mean | cls | max                           (default: the model's)
  --no-normalize        do not L2-normalize                        (default: the model's)
  --batch-size, -b N    texts per forward pass                     (default 32)
  --format, -f FORMAT   jsonl | npy                                 (default jsonl)
`,
  info: `dualbert info — what this machine offers, and a model's summary

Usage: dualbert info [--model SPEC]

Prints the capability report (WebGPU adapter, WASM SIMD / relaxed SIMD / threads, cores) as JSON,
and with --model the model's config, defaults and tokenizer.

Options:
  --model, -m SPEC      also describe this model
  --help, -h            show this help
`,
};

type Command = 'tokenize' | 'embed' | 'info';

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

function write(stream: NodeJS.WriteStream, text: string | Uint8Array): Promise<void> {
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
const COMMAND_OPTIONS: Record<Command, Options> = {
  tokenize: { 'no-truncation': { type: 'boolean' } },
  embed: {
    device: { type: 'string', short: 'd' },
    threads: { type: 'string', short: 't' },
    pooling: { type: 'string', short: 'p' },
    'no-normalize': { type: 'boolean' },
    'batch-size': { type: 'string', short: 'b' },
    format: { type: 'string', short: 'f' },
  },
  info: {},
};

function positiveInt(value: string | boolean | undefined, name: string, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer`);
  return n;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    await write(process.stdout, USAGE);
    return command ? 0 : 2;
  }
  if (command === 'serve') return (await import('../server/serve.js')).serve(rest);
  try {
    if (command !== 'tokenize' && command !== 'embed' && command !== 'info') throw new UsageError(`unknown command "${command}"`);
    const values = parseArgs({ args: rest, options: { ...COMMON_OPTIONS, ...COMMAND_OPTIONS[command] }, strict: true })
      .values as Record<string, string | boolean | undefined>;
    if (values.help) {
      await write(process.stdout, COMMAND_HELP[command]);
      return 0;
    }
    const model = values.model as string | undefined;
    if (command === 'info') return await info(model);
    if (!model) throw new UsageError('--model is required');

    const device = (values.device as string | undefined) ?? 'auto';
    if (!deviceOptions().includes(device as DeviceOption)) throw new UsageError(`--device must be one of ${deviceOptions().join(', ')}`);
    const pooling = values.pooling as string | undefined;
    if (pooling !== undefined && !['mean', 'cls', 'max'].includes(pooling)) throw new UsageError('--pooling must be mean, cls or max');
    const batchSize = positiveInt(values['batch-size'], 'batch-size', 32)!;
    const threads = positiveInt(values.threads, 'threads', undefined);
    const format = (values.format as string | undefined) ?? 'jsonl';
    if (format !== 'jsonl' && format !== 'npy') throw new UsageError('--format must be jsonl or npy');

    const lines = parseInput(await readInput(values.input as string | undefined));
    const bad = lines.filter((l) => l.error);
    const keepGoing = values['keep-going'] === true;
    for (const l of bad) process.stderr.write(`dualbert: ${l.error}\n`);
    if (bad.length && !keepGoing) return 1;
    if (bad.length && format === 'npy') throw new UsageError('--keep-going cannot be used with --format npy (a bad line has no row in the matrix)');

    const texts = lines.filter((l) => l.text !== undefined).map((l) => l.text!);
    if (command === 'tokenize') {
      const meta = await loadModelMeta(model);
      const maxLength = values['no-truncation'] ? null : meta.defaults.maxLength;
      const results = texts.map((t) =>
        JSON.stringify({ ids: meta.tokenizer.encode(meta.defaults.lowercaseInput ? t.toLowerCase() : t, { maxLength, padding: false }).ids }),
      );
      let next = 0;
      const out = lines.map((l) => (l.error ? JSON.stringify({ error: l.error }) : results[next++]!));
      await write(process.stdout, out.length ? `${out.join('\n')}\n` : '');
      return bad.length ? 1 : 0;
    }

    const embedder = await createEmbedder(model, { device: device as DeviceOption, ...(threads ? { threads } : {}) });
    try {
      const options = {
        batchSize,
        ...(pooling ? { pooling: pooling as PoolingMode } : {}),
        ...(values['no-normalize'] ? { normalize: false } : {}),
      };
      const progress = new ProgressBar(texts.length, `embedding on ${embedder.device}`);
      if (format === 'npy') await write(process.stdout, npyHeader([texts.length, embedder.dimension]));
      // Results stream out batch by batch (bounded memory); bad lines (with --keep-going) are
      // written as {"error": ...} at their place, so output line i always answers input line i.
      let line = 0;
      for await (const { data, dims, offset } of embedder.embedBatches(texts, options)) {
        if (format === 'npy') {
          await write(process.stdout, float32Bytes(data));
        } else {
          const out: string[] = [];
          for (let i = 0; i < dims[0]; i++) {
            while (lines[line]!.error) out.push(JSON.stringify({ error: lines[line++]!.error }));
            out.push(`{"embedding":${float32Json(data.subarray(i * dims[1], (i + 1) * dims[1]))}}`);
            line++;
          }
          await write(process.stdout, `${out.join('\n')}\n`);
        }
        progress.update(offset + dims[0]);
      }
      // Bad lines after the last text (npy mode has none: --keep-going is refused there).
      const tail: string[] = [];
      while (line < lines.length && format === 'jsonl') tail.push(JSON.stringify({ error: lines[line++]!.error }));
      if (tail.length) await write(process.stdout, `${tail.join('\n')}\n`);
      progress.finish();
    } finally {
      embedder.dispose();
    }
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

/** `dualbert info`: the capability report, and a model's summary. */
async function info(model: string | undefined): Promise<number> {
  const report: Record<string, unknown> = { dualbert: VERSION, node: process.version, capabilities: await capabilities() };
  if (model) {
    const meta = await loadModelMeta(model);
    const c = meta.config;
    const parameters =
      (c.vocabSize + c.maxPositions + c.typeVocabSize + 2) * c.hiddenSize + // embedding tables and their LayerNorm
      c.numLayers * (4 * c.hiddenSize * c.hiddenSize + 2 * c.hiddenSize * c.intermediateSize + 9 * c.hiddenSize + c.intermediateSize);
    report['model'] = {
      name: meta.name,
      config: c,
      encoderParameters: parameters,
      defaults: meta.defaults,
      tokenizer: { vocabSize: meta.tokenizer.vocabSize, padId: meta.tokenizer.padId, modelMaxLength: meta.tokenizer.modelMaxLength },
    };
  }
  await write(process.stdout, `${JSON.stringify(report, null, 2)}\n`);
  return 0;
}
