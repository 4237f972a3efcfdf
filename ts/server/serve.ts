/**
 * `dualbert serve`: argument parsing, loading the model, starting the server, and the graceful
 * shutdown on SIGTERM / SIGINT (exit code 0 once everything queued is answered).
 *
 * On the CPU devices the model runs in a worker thread (worker mode), so the server's event loop
 * stays free while a batch computes: /health, /metrics and new requests are answered meanwhile.
 * WebGPU runs in the main thread (its work is on the GPU; Dawn is not meant for worker threads).
 */
import { parseArgs } from 'node:util';
import { deviceOptions } from '../backends/registry.js';
import type { DeviceOption } from '../backends/types.js';
import { createEmbedder } from '../embedder.js';
import { createReranker } from '../rerank/reranker.js';
import { DualbertError } from '../errors.js';
import type { WeightsDtype } from '../model/load.js';
import type { ServedEmbedder, ServedReranker } from './engine.js';
import { servedReranker } from './served-reranker.js';
import { DEFAULT_SERVER_OPTIONS, type ServerOptions, startServer } from './server.js';

/** Help of `dualbert serve --help`. */
export const SERVE_HELP = `dualbert serve — an HTTP embedding server (OpenAI- and TEI-compatible)

Usage: dualbert serve --model SPEC [options]

Routes: POST /v1/embeddings (OpenAI), POST /embed and POST /rerank (text-embeddings-inference),
GET /health, GET /info, GET /metrics (Prometheus). Requests arriving together are merged into
batches. SIGTERM (or Ctrl-C) stops accepting, answers everything queued, and exits 0.

Options:
  --model, -m SPEC          model directory, URL base, hf:owner/name, or synthetic:tiny / synthetic:minilm
  --reranker SPEC           a cross-encoder for POST /rerank (e.g. hf:cross-encoder/ms-marco-MiniLM-L6-v2);
                            without one /rerank answers 501. It runs in the server's thread.
  --device, -d DEVICE       auto | reference | wasm | webgpu                        (default auto)
  --dtype DTYPE             fp32 | fp16 | q8 | int8 | uint8                         (default fp32)
  --threads, -t N           CPU threads for the wasm device                         (default: all cores)
  --host HOST               address to listen on; 0.0.0.0 for every interface     (default 127.0.0.1)
  --port, -p N              port; 0 picks a free one                                (default 8080)
  --model-name NAME         the name answered as "model"                            (default: the spec)
  --max-batch-tokens N      padded tokens per forward pass (inputs × longest)       (default ${DEFAULT_SERVER_OPTIONS.maxBatchTokens})
  --max-batch-size N        inputs per forward pass                                 (default ${DEFAULT_SERVER_OPTIONS.maxBatchSize})
  --pass-overhead-tokens N  a pass's fixed cost in tokens: inputs of different lengths go in
                            separate passes when that saves more padding  (default 2048 webgpu, 64 CPU)
  --max-wait-ms N           how long a lone input waits for others to join its pass (default ${DEFAULT_SERVER_OPTIONS.maxWaitMs}:
                            inputs that arrive while a pass runs are batched together)
  --max-queue N             inputs waiting for a pass; beyond that 429              (default ${DEFAULT_SERVER_OPTIONS.maxQueue})
  --max-inputs N            inputs per request; beyond that 413        (default ${DEFAULT_SERVER_OPTIONS.maxInputs}, at most --max-queue)
  --max-body-bytes N        request body size; beyond that 413                      (default ${DEFAULT_SERVER_OPTIONS.maxBodyBytes})
  --request-timeout-ms N    answer within this or 503                               (default ${DEFAULT_SERVER_OPTIONS.requestTimeoutMs})
  --drain-timeout-ms N      on SIGTERM, wait this long for work in flight           (default ${DEFAULT_SERVER_OPTIONS.drainTimeoutMs})
  --api-key KEY             require "Authorization: Bearer KEY" (except /health); prefer the
                            DUALBERT_API_KEY environment variable (a flag shows in ps)
  --in-process              run the model in the server's thread, not a worker (CPU devices)
  --help, -h                show this help
`;

const DTYPES: readonly WeightsDtype[] = ['fp32', 'fp16', 'q8', 'int8', 'uint8'];

class ServeUsageError extends Error {}

/** The parsed command line of `dualbert serve`. */
export interface ServeArgs {
  model: string;
  /** The cross-encoder of /rerank, if any. */
  reranker?: string;
  device: DeviceOption;
  dtype?: WeightsDtype;
  threads?: number;
  inProcess: boolean;
  server: ServerOptions;
}

function count(value: string | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new ServeUsageError(`--${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

/**
 * Parses `dualbert serve` arguments (the API key may come from `env.DUALBERT_API_KEY`).
 * Returns 'help' for --help; throws a usage error naming the bad flag.
 * @example parseServeArgs(['--model', 'synthetic:tiny', '--port', '0'], {}).server.port // 0
 */
export function parseServeArgs(argv: string[], env: Readonly<Record<string, string | undefined>>): ServeArgs | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: {
        model: { type: 'string', short: 'm' },
        reranker: { type: 'string' },
        device: { type: 'string', short: 'd' },
        dtype: { type: 'string' },
        threads: { type: 'string', short: 't' },
        host: { type: 'string' },
        port: { type: 'string', short: 'p' },
        'model-name': { type: 'string' },
        'max-batch-tokens': { type: 'string' },
        'max-batch-size': { type: 'string' },
        'pass-overhead-tokens': { type: 'string' },
        'max-wait-ms': { type: 'string' },
        'max-queue': { type: 'string' },
        'max-inputs': { type: 'string' },
        'max-body-bytes': { type: 'string' },
        'request-timeout-ms': { type: 'string' },
        'drain-timeout-ms': { type: 'string' },
        'api-key': { type: 'string' },
        'in-process': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    throw new ServeUsageError((e as Error).message);
  }
  if (values.help) return 'help';
  const str = (name: string): string | undefined => values[name] as string | undefined;
  const model = str('model');
  if (!model) throw new ServeUsageError('--model is required');
  const device = (str('device') ?? 'auto') as DeviceOption;
  if (!deviceOptions().includes(device)) throw new ServeUsageError(`--device must be one of ${deviceOptions().join(', ')}`);
  const dtype = str('dtype') as WeightsDtype | undefined;
  if (dtype !== undefined && !DTYPES.includes(dtype)) throw new ServeUsageError(`--dtype must be one of ${DTYPES.join(', ')}`);
  const d = DEFAULT_SERVER_OPTIONS;
  const port = count(str('port'), 'port', d.port, 0);
  if (port > 65535) throw new ServeUsageError(`--port must be at most 65535, got ${port}`);
  const maxQueue = count(str('max-queue'), 'max-queue', d.maxQueue);
  // A smaller queue lowers the default per-request limit with it; both given and inconsistent is an error.
  const maxInputs = count(str('max-inputs'), 'max-inputs', Math.min(d.maxInputs, maxQueue));
  if (maxInputs > maxQueue) throw new ServeUsageError(`--max-inputs (${maxInputs}) cannot be more than --max-queue (${maxQueue}): such a request could never be queued`);
  const apiKey = str('api-key') ?? env['DUALBERT_API_KEY'];
  const threads = str('threads') === undefined ? undefined : count(str('threads'), 'threads', 1);
  const reranker = str('reranker');
  return {
    model,
    ...(reranker ? { reranker } : {}),
    device,
    ...(dtype ? { dtype } : {}),
    ...(threads ? { threads } : {}),
    inProcess: values['in-process'] === true,
    server: {
      host: str('host') ?? d.host,
      port,
      modelName: str('model-name') ?? model,
      maxBatchTokens: count(str('max-batch-tokens'), 'max-batch-tokens', d.maxBatchTokens),
      maxBatchSize: count(str('max-batch-size'), 'max-batch-size', d.maxBatchSize),
      ...(str('pass-overhead-tokens') === undefined ? {} : { passOverheadTokens: count(str('pass-overhead-tokens'), 'pass-overhead-tokens', 0, 0) }),
      maxWaitMs: count(str('max-wait-ms'), 'max-wait-ms', d.maxWaitMs, 0),
      maxQueue,
      maxInputs,
      maxBodyBytes: count(str('max-body-bytes'), 'max-body-bytes', d.maxBodyBytes),
      requestTimeoutMs: count(str('request-timeout-ms'), 'request-timeout-ms', d.requestTimeoutMs),
      drainTimeoutMs: count(str('drain-timeout-ms'), 'drain-timeout-ms', d.drainTimeoutMs, 0),
      ...(apiKey ? { apiKey } : {}),
    },
  };
}

/**
 * Loads the model for serving: in a worker thread on the CPU devices (the event loop stays free
 * while a batch runs), in this thread on WebGPU. With device 'auto' the model is created here
 * first; when that lands on the CPU it is loaded again in a worker.
 */
export async function loadServedEmbedder(args: Pick<ServeArgs, 'model' | 'device' | 'dtype' | 'threads' | 'inProcess'>): Promise<{ embedder: ServedEmbedder; worker: boolean }> {
  const options = { device: args.device, ...(args.dtype ? { dtype: args.dtype } : {}), ...(args.threads ? { threads: args.threads } : {}) };
  const inWorker = async (): Promise<ServedEmbedder> => createEmbedder(args.model, { ...options, worker: true });
  if (args.inProcess || args.device === 'webgpu') return { embedder: await createEmbedder(args.model, options), worker: false };
  if (args.device !== 'auto') return { embedder: await inWorker(), worker: true };
  const here = await createEmbedder(args.model, options);
  if (here.device === 'webgpu') return { embedder: here, worker: false };
  here.dispose();
  return { embedder: await inWorker(), worker: true };
}

/**
 * Loads the cross-encoder of /rerank (when `--reranker` names one) on the same device settings,
 * in this thread (its passes yield to the event loop between slices: see ts/yield.ts).
 */
export async function loadServedReranker(args: Pick<ServeArgs, 'reranker' | 'device' | 'dtype' | 'threads'>): Promise<ServedReranker | undefined> {
  if (!args.reranker) return undefined;
  const reranker = await createReranker(args.reranker, { device: args.device, ...(args.dtype ? { dtype: args.dtype } : {}), ...(args.threads ? { threads: args.threads } : {}) });
  try {
    return servedReranker(reranker);
  } catch (e) {
    reranker.dispose();
    throw e;
  }
}

/** Runs `dualbert serve`; resolves with the exit code after a shutdown. */
export async function serve(argv: string[]): Promise<number> {
  let args: ServeArgs | 'help';
  try {
    args = parseServeArgs(argv, process.env);
  } catch (e) {
    if (!(e instanceof ServeUsageError)) throw e;
    process.stderr.write(`dualbert serve: ${e.message}\nRun "dualbert serve --help" for usage.\n`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  let loaded: Awaited<ReturnType<typeof loadServedEmbedder>>;
  try {
    loaded = await loadServedEmbedder(args);
  } catch (e) {
    if (!(e instanceof DualbertError)) throw e;
    process.stderr.write(`dualbert serve: ${e.message}\n`);
    return 1;
  }
  const { embedder, worker } = loaded;
  let reranker: ServedReranker | undefined;
  try {
    reranker = await loadServedReranker(args);
  } catch (e) {
    embedder.dispose();
    if (!(e instanceof DualbertError)) throw e;
    process.stderr.write(`dualbert serve: --reranker: ${e.message}\n`);
    return 1;
  }
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(embedder, args.server, reranker);
  } catch (e) {
    embedder.dispose();
    reranker?.dispose();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      process.stderr.write(`dualbert serve: cannot listen on ${args.server.host}:${args.server.port} (${code})\n`);
      return 1;
    }
    throw e;
  }
  const where = `${embedder.device}, ${embedder.threads} thread${embedder.threads === 1 ? '' : 's'}${worker ? ', in a worker' : ''}`;
  const rerank = args.reranker ? `, reranker ${args.reranker}` : '';
  process.stderr.write(`dualbert serve: listening on ${server.url} (model ${args.server.modelName}, ${where}${rerank}${args.server.apiKey ? ', API key required' : ''})\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const first = (s: NodeJS.Signals): void => {
      process.off('SIGTERM', first).off('SIGINT', first);
      // A second signal while draining means "now": stop without waiting.
      const again = (): void => {
        process.stderr.write(`dualbert serve: second signal: stopping without draining\n`);
        process.exit(1);
      };
      process.once('SIGTERM', again).once('SIGINT', again);
      resolve(s);
    };
    process.on('SIGTERM', first).on('SIGINT', first);
  });
  process.stderr.write(`dualbert serve: ${signal}: draining (${server.batcher.queueDepth} inputs queued)\n`);
  const finished = await server.close();
  process.stderr.write(finished ? 'dualbert serve: stopped\n' : `dualbert serve: stopped with work unfinished after ${args.server.drainTimeoutMs} ms (--drain-timeout-ms)\n`);
  return finished ? 0 : 1;
}
