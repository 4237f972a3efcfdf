/**
 * The `dualbert` command line: `tokenize` and `embed` over JSONL, and `info` (`rerank`: rerank.ts;
 * `serve`: ts/server).
 *
 *   dualbert tokenize --model <dir|synthetic:NAME> [--input FILE] [--no-truncation]
 *   dualbert embed --model <dir|synthetic:NAME> [--device auto|reference|wasm|webgpu] [--threads N]
 *                  [--dtype fp32|fp16|q8|int8|uint8] [--pooling mean|cls|max] [--no-normalize]
 *                  [--batch-size N] [--format jsonl|npy]
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
import { buildBertGraph } from '../graph/bert.js';
import { describeEncoder } from '../graph/families.js';
import type { PoolingMode } from '../graph/ops.js';
import { checkpointShapes } from '../graph/weights.js';
import { capabilities } from '../detect.js';
import { ONNX_VARIANTS, type WeightsDtype, loadModelMeta, loadModelTokenizer } from '../model/load.js';
import { allFinite } from '../model/finite.js';
import { UsageError, isJsonObject, jsonLines, positiveInt, readInput } from './input.js';
import { float32Bytes, npyHeader } from './npy.js';
import { EXIT_WRITE_FAILED, Output, OutputClosed, OutputFailed } from './output.js';
import { ProgressBar } from './progress.js';

/** The package version (kept in step with package.json by a test). */
export { VERSION } from '../version.js';
import { VERSION } from '../version.js';

const USAGE = `dualbert — BERT sentence embeddings (WebGPU / WASM / reference)

Usage:
  dualbert tokenize --model <dir|url|synthetic:tiny|synthetic:minilm> [options]
  dualbert embed    --model <dir|url|synthetic:tiny|synthetic:minilm> [options]
  dualbert info     [--model <spec>]
  dualbert rerank   --model <cross-encoder> [options]   ({"query", "document"} lines → {"score"} lines)
  dualbert serve    --model <spec> [--device …] [--host 127.0.0.1] [--port 8080]   (HTTP server)
  dualbert <command> --help

Input is JSONL on stdin (or --input FILE), one {"text": "..."} per line.
Output is one JSON line per input, in order: {"ids": [...]} or {"embedding": [...]}.
`;

const COMMON_HELP = `  --model, -m SPEC      model directory, URL base, or synthetic:tiny / synthetic:minilm
  --input, -i FILE      read JSONL from FILE instead of stdin
  --keep-going          on a bad input line, write {"error": ...} for it and continue
  --verbose             let native libraries (Dawn/Vulkan) print their warnings
  --help, -h            show this help

Exit codes: 0 done (also when the reader of the output goes away), 1 a bad input line, a model
that cannot be loaded or a non-finite embedding, 2 bad usage, 3 the output cannot be written.
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
  --dtype DTYPE         fp32 | fp16 | q8 | int8 | uint8: the ONNX variant of a model without
                        safetensors (onnx/model.onnx, model_fp16, model_quantized, model_int8,
                        model_uint8); int8 files run in int8 (wasm, webgpu)  (default fp32)
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
  --verbose             let native libraries (Dawn/Vulkan) print their warnings
  --help, -h            show this help
`,
};

type Command = 'tokenize' | 'embed' | 'info';

interface InputLine {
  /** 1-based line number in the input. */
  line: number;
  text?: string;
  error?: string;
}

/** Parses JSONL of {"text"}; blank lines are skipped, bad lines are kept with their error. */
export function parseInput(content: string): InputLine[] {
  return jsonLines(content).map((l): InputLine => {
    if (l.error !== undefined) return l;
    if (!isJsonObject(l.value)) return { line: l.line, error: `line ${l.line}: expected a JSON object with a "text" field` };
    if (typeof l.value.text !== 'string') return { line: l.line, error: `line ${l.line}: missing string field "text"` };
    return { line: l.line, text: l.value.text };
  });
}

/** Float32 values printed with 9 significant digits: enough to recover each float32 exactly. Finite values only (JSON has no NaN). */
function float32Json(values: Float32Array): string {
  return `[${Array.from(values, (v) => Number(v.toPrecision(9))).join(',')}]`;
}

/** The message for an embedding that is not finite (the model overflows float32 on this text). */
function notFinite(line: number): string {
  return `line ${line}: the embedding is not finite (NaN or Infinity): the model's activations overflow float32 on this text`;
}

type Options = NonNullable<ParseArgsConfig['options']>;
const COMMON_OPTIONS: Options = {
  model: { type: 'string', short: 'm' },
  input: { type: 'string', short: 'i' },
  'keep-going': { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};
const COMMAND_OPTIONS: Record<Command, Options> = {
  tokenize: { 'no-truncation': { type: 'boolean' } },
  embed: {
    device: { type: 'string', short: 'd' },
    threads: { type: 'string', short: 't' },
    dtype: { type: 'string' },
    pooling: { type: 'string', short: 'p' },
    'no-normalize': { type: 'boolean' },
    'batch-size': { type: 'string', short: 'b' },
    format: { type: 'string', short: 'f' },
  },
  info: {},
};

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'serve') return (await import('../server/serve.js')).serve(rest);
  if (command === 'rerank') return (await import('./rerank.js')).rerank(rest);
  const stdout = new Output(process.stdout);
  try {
    return await run(command, rest, stdout);
  } catch (e) {
    if (e instanceof OutputClosed) return 0;
    if (e instanceof OutputFailed) {
      process.stderr.write(`dualbert: ${e.message}\n`);
      return EXIT_WRITE_FAILED;
    }
    throw e;
  }
}

async function run(command: string | undefined, rest: string[], stdout: Output): Promise<number> {
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    await stdout.write(USAGE);
    return command ? 0 : 2;
  }
  try {
    if (command !== 'tokenize' && command !== 'embed' && command !== 'info') throw new UsageError(`unknown command "${command}"`);
    const values = parseArgs({ args: rest, options: { ...COMMON_OPTIONS, ...COMMAND_OPTIONS[command] }, strict: true })
      .values as Record<string, string | boolean | undefined>;
    if (values.help) {
      await stdout.write(COMMAND_HELP[command]);
      return 0;
    }
    const model = values.model as string | undefined;
    const verbose = values.verbose === true;
    if (command === 'info') return await info(model, stdout, verbose);
    if (!model) throw new UsageError('--model is required');

    const device = (values.device as string | undefined) ?? 'auto';
    if (!deviceOptions().includes(device as DeviceOption)) throw new UsageError(`--device must be one of ${deviceOptions().join(', ')}`);
    const pooling = values.pooling as string | undefined;
    if (pooling !== undefined && !['mean', 'cls', 'max'].includes(pooling)) throw new UsageError('--pooling must be mean, cls or max');
    const batchSize = positiveInt(values['batch-size'], 'batch-size', 32)!;
    const threads = positiveInt(values.threads, 'threads', undefined);
    const dtype = values.dtype as string | undefined;
    if (dtype !== undefined && !(dtype in ONNX_VARIANTS)) throw new UsageError(`--dtype must be one of ${Object.keys(ONNX_VARIANTS).join(', ')}`);
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
      // The tokenizer alone: any model family tokenizes, whether or not dualbert runs its weights.
      const { tokenizer, maxLength: limit, lowercaseInput } = await loadModelTokenizer(model);
      const maxLength = values['no-truncation'] ? null : (limit ?? null);
      const results = texts.map((t) => JSON.stringify({ ids: tokenizer.encode(lowercaseInput ? t.toLowerCase() : t, { maxLength, padding: false }).ids }));
      let next = 0;
      const out = lines.map((l) => (l.error ? JSON.stringify({ error: l.error }) : results[next++]!));
      await stdout.write(out.length ? `${out.join('\n')}\n` : '');
      return bad.length ? 1 : 0;
    }

    // Without --verbose the library asks Dawn for an adapter in a child process, so its native
    // warnings stay off this process's stderr (ts/backends/webgpu/dawn-package.ts).
    const onWarning = (w: { message: string }): void => void process.stderr.write(`dualbert: warning: ${w.message}\n`);
    const embedder = await createEmbedder(model, { device: device as DeviceOption, onWarning, logLevel: verbose ? 'verbose' : 'info', ...(threads ? { threads } : {}), ...(dtype ? { dtype: dtype as WeightsDtype } : {}) });
    try {
      const options = {
        batchSize,
        ...(pooling ? { pooling: pooling as PoolingMode } : {}),
        ...(values['no-normalize'] ? { normalize: false } : {}),
      };
      const progress = new ProgressBar(texts.length, `embedding on ${embedder.device}`);
      if (format === 'npy') await stdout.write(npyHeader([texts.length, embedder.dimension]));
      // Results stream out batch by batch (bounded memory); bad lines (with --keep-going) are
      // written as {"error": ...} at their place, so output line i always answers input line i.
      let line = 0;
      let failed = bad.length > 0;
      for await (const { data, dims, offset } of embedder.embedBatches(texts, options)) {
        // A NaN or Infinity is never written: JSON cannot hold it, and as a number it is garbage.
        for (let i = 0; i < dims[0]; i++) {
          if (allFinite(data.subarray(i * dims[1], (i + 1) * dims[1]))) continue;
          const inputLine = lines.filter((l) => l.text !== undefined)[offset + i]!.line;
          if (!keepGoing || format === 'npy') {
            progress.finish();
            process.stderr.write(`dualbert: ${notFinite(inputLine)}\n`);
            return 1;
          }
        }
        if (format === 'npy') {
          await stdout.write(float32Bytes(data));
        } else {
          const out: string[] = [];
          for (let i = 0; i < dims[0]; i++) {
            while (lines[line]!.error) out.push(JSON.stringify({ error: lines[line++]!.error }));
            const row = data.subarray(i * dims[1], (i + 1) * dims[1]);
            if (allFinite(row)) {
              out.push(`{"embedding":${float32Json(row)}}`);
            } else {
              failed = true;
              process.stderr.write(`dualbert: ${notFinite(lines[line]!.line)}\n`);
              out.push(JSON.stringify({ error: notFinite(lines[line]!.line) }));
            }
            line++;
          }
          await stdout.write(`${out.join('\n')}\n`);
        }
        progress.update(offset + dims[0]);
      }
      // Bad lines after the last text (npy mode has none: --keep-going is refused there).
      const tail: string[] = [];
      while (line < lines.length && format === 'jsonl') tail.push(JSON.stringify({ error: lines[line++]!.error }));
      if (tail.length) await stdout.write(`${tail.join('\n')}\n`);
      progress.finish();
      return failed ? 1 : 0;
    } finally {
      embedder.dispose();
    }
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

/** `dualbert info`: the capability report (Dawn asked in a child process unless --verbose), and a model's summary. */
async function info(model: string | undefined, stdout: Output, verbose: boolean): Promise<number> {
  const caps = await capabilities({ logLevel: verbose ? 'verbose' : 'info' });
  const report: Record<string, unknown> = { dualbert: VERSION, node: process.version, capabilities: caps };
  if (model) {
    const meta = await loadModelMeta(model);
    const c = meta.config;
    // The checkpoint tensors the encoder reads (the pooler and task heads are not part of it).
    const graph = buildBertGraph(c, { pooling: meta.defaults.pooling, normalize: meta.defaults.normalize });
    let parameters = 0;
    for (const shape of checkpointShapes(graph.weights).values()) parameters += shape.reduce((a, b) => a * b, 1);
    const { family, ops } = describeEncoder(graph);
    report['model'] = {
      name: meta.name,
      family,
      ops,
      config: c,
      encoderParameters: parameters,
      defaults: meta.defaults,
      tokenizer: { vocabSize: meta.tokenizer.vocabSize, padId: meta.tokenizer.padId, modelMaxLength: meta.tokenizer.modelMaxLength },
    };
  }
  await stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return 0;
}
