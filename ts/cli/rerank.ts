/**
 * `dualbert rerank`: scores query–document pairs with a cross-encoder.
 *
 *   dualbert rerank --model <dir|url|hf:…|synthetic:minilm> [--device …] [--threads N]
 *                   [--batch-size N] [--raw] [--input FILE] [--keep-going] < pairs.jsonl
 *
 * Input: one {"query": "…", "document": "…"} per line (stdin or --input). Output: one line per
 * input, in order: {"score": x} (after the model's activation; the logit with --raw), or
 * {"scores": [...]} for a model with several labels. Bad lines, exit codes and a reader that goes
 * away behave as in `dualbert embed`.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { deviceOptions } from '../backends/registry.js';
import type { DeviceOption } from '../backends/types.js';
import { DualbertError } from '../errors.js';
import { createReranker } from '../rerank/reranker.js';
import { UsageError, isJsonObject, jsonLines, positiveInt, readInput } from './input.js';
import { EXIT_WRITE_FAILED, Output, OutputClosed, OutputFailed } from './output.js';
import { ProgressBar } from './progress.js';

export const RERANK_HELP = `dualbert rerank — score query–document pairs with a cross-encoder

Usage: dualbert rerank --model SPEC [options] < pairs.jsonl > scores.jsonl

Reads {"query": "...", "document": "..."} per line and writes {"score": x} per line, in order
(the model's activation applied: sigmoid for one label unless the model names another), or
{"scores": [...]} for a model with several labels. Pairs longer than the model's max length are
cut, the longer text first (Hugging Face's longest_first).

Options:
  --model, -m SPEC      cross-encoder directory, URL base, hf:owner/name, or synthetic:minilm
  --input, -i FILE      read JSONL from FILE instead of stdin
  --device, -d DEVICE   auto | reference | wasm | webgpu            (default auto)
  --threads, -t N       CPU threads for the wasm device             (default: all cores)
  --batch-size, -b N    pairs per forward pass                      (default 32)
  --raw                 write the logits (no activation)
  --keep-going          on a bad input line, write {"error": ...} for it and continue
  --verbose             let native libraries (Dawn/Vulkan) print their warnings
  --help, -h            show this help

Exit codes: 0 done, 1 a bad input line or a model that cannot be loaded, 2 bad usage, 3 the
output cannot be written.
`;

const OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  model: { type: 'string', short: 'm' },
  input: { type: 'string', short: 'i' },
  device: { type: 'string', short: 'd' },
  threads: { type: 'string', short: 't' },
  'batch-size': { type: 'string', short: 'b' },
  raw: { type: 'boolean' },
  'keep-going': { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** One input line: a pair, or why it is not one. */
export interface PairLine {
  line: number;
  pair?: [string, string];
  error?: string;
}

/** Parses JSONL of {"query", "document"}; blank lines are skipped, bad lines are kept with their error. */
export function parsePairs(content: string): PairLine[] {
  return jsonLines(content).map((l): PairLine => {
    if (l.error !== undefined) return l;
    const v = l.value;
    if (!isJsonObject(v)) return { line: l.line, error: `line ${l.line}: expected a JSON object with "query" and "document"` };
    if (typeof v.query !== 'string') return { line: l.line, error: `line ${l.line}: missing string field "query"` };
    if (typeof v.document !== 'string') return { line: l.line, error: `line ${l.line}: missing string field "document"` };
    return { line: l.line, pair: [v.query, v.document] };
  });
}

/** Scores per batch of this many pairs: results stream out as they are done. */
const CHUNK = 256;

/** Runs `dualbert rerank`; returns the exit code. */
export async function rerank(argv: string[], stdout = new Output(process.stdout)): Promise<number> {
  try {
    const values = parseArgs({ args: argv, options: OPTIONS, strict: true }).values as Record<string, string | boolean | undefined>;
    if (values.help) {
      await stdout.write(RERANK_HELP);
      return 0;
    }
    const model = values.model as string | undefined;
    if (!model) throw new UsageError('--model is required');
    const device = (values.device as string | undefined) ?? 'auto';
    if (!deviceOptions().includes(device as DeviceOption)) throw new UsageError(`--device must be one of ${deviceOptions().join(', ')}`);
    const threads = positiveInt(values.threads, 'threads');
    const batchSize = positiveInt(values['batch-size'], 'batch-size') ?? 32;
    const keepGoing = values['keep-going'] === true;

    const lines = parsePairs(await readInput(values.input as string | undefined));
    const bad = lines.filter((l) => l.error);
    for (const l of bad) process.stderr.write(`dualbert: ${l.error}\n`);
    if (bad.length && !keepGoing) return 1;

    const onWarning = (w: { message: string }): void => void process.stderr.write(`dualbert: warning: ${w.message}\n`);
    const logLevel = values.verbose === true ? 'verbose' : 'info'; // Dawn probed quietly unless --verbose
    const reranker = await createReranker(model, { device: device as DeviceOption, onWarning, logLevel, ...(threads ? { threads } : {}) });
    try {
      const pairs = lines.filter((l) => l.pair).map((l) => l.pair!);
      const progress = new ProgressBar(pairs.length, `reranking on ${reranker.device}`);
      const L = reranker.numLabels;
      let line = 0;
      for (let start = 0; start < pairs.length || line < lines.length; start += CHUNK) {
        const chunk = pairs.slice(start, start + CHUNK);
        const { data } = await reranker.predict(chunk, { batchSize, ...(values.raw ? { activation: 'identity' as const } : {}) });
        const out: string[] = [];
        for (let i = 0; i < chunk.length; i++) {
          while (lines[line]!.error) out.push(JSON.stringify({ error: lines[line++]!.error }));
          const row = Array.from(data.subarray(i * L, (i + 1) * L));
          out.push(JSON.stringify(L === 1 ? { score: row[0] } : { scores: row }));
          line++;
        }
        if (start + CHUNK >= pairs.length) while (line < lines.length) out.push(JSON.stringify({ error: lines[line++]!.error }));
        if (out.length) await stdout.write(`${out.join('\n')}\n`);
        progress.update(Math.min(start + CHUNK, pairs.length));
      }
      progress.finish();
      return bad.length ? 1 : 0;
    } finally {
      reranker.dispose();
    }
  } catch (e) {
    if (e instanceof OutputClosed) return 0;
    if (e instanceof OutputFailed) {
      process.stderr.write(`dualbert: ${e.message}\n`);
      return EXIT_WRITE_FAILED;
    }
    if (e instanceof UsageError || (e instanceof TypeError && /parseArgs|option/i.test(e.message))) {
      process.stderr.write(`dualbert: ${e.message}\nRun "dualbert rerank --help" for usage.\n`);
      return 2;
    }
    if (e instanceof DualbertError) {
      process.stderr.write(`dualbert: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
