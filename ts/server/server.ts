/**
 * The HTTP server of `dualbert serve` on node:http: routing, bearer-token auth, body limits,
 * schema validation, the bounded queue (429), per-request timeouts (503), metrics, and a graceful
 * shutdown that stops accepting, finishes what is queued and then frees the model.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VERSION } from '../version.js';
import { Batcher, QueueFullError } from './batcher.js';
import { Engine, type PassResult, type Payload, type ServedEmbedder, type ServedReranker, passErrorToHttp } from './engine.js';
import { HttpError, readJsonBody, sendJson, sendText } from './http.js';
import { type ServerMetrics, serverMetrics } from './metrics.js';
import { type RouteContext, openaiEmbeddings, teiEmbed, teiRerank } from './routes.js';
import { formatSchemaError, type Schema, validate } from './schema.js';
import { OPENAI_EMBEDDINGS, TEI_EMBED, TEI_RERANK } from './schemas.js';
import type { WorkInput } from './batcher.js';

/** Settings of {@link startServer}; `dualbert serve --help` documents each. */
export interface ServerOptions {
  host: string;
  /** 0 picks a free port (see `RunningServer.port`). */
  port: number;
  /** The name answered as `model` and in /info. */
  modelName: string;
  maxBatchTokens: number;
  maxBatchSize: number;
  /** A pass's fixed cost in tokens (see BatcherOptions); default 2048 on webgpu, 64 on the CPU. */
  passOverheadTokens?: number | undefined;
  maxWaitMs: number;
  /** Inputs that may wait for a pass; a request that does not fit gets 429. */
  maxQueue: number;
  /** Inputs per request (413 above). */
  maxInputs: number;
  maxBodyBytes: number;
  /** From arrival to answer; 503 after that. */
  requestTimeoutMs: number;
  /** How long a shutdown waits for work in flight before it gives up. */
  drainTimeoutMs: number;
  /** When set, every route but /health needs `Authorization: Bearer <apiKey>`. */
  apiKey?: string | undefined;
  /** Log lines (start, shutdown, unexpected errors); default: stderr. */
  log?: (line: string) => void;
}

/** A started server. */
export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly metrics: ServerMetrics;
  readonly batcher: Batcher<Payload, PassResult>;
  /**
   * Graceful shutdown: stops accepting connections, answers new requests on open connections with
   * 503, finishes every queued and running request, then frees the model. Resolves true when
   * everything finished within `drainTimeoutMs`.
   */
  close(): Promise<boolean>;
}

type Route = 'openai' | 'embed' | 'rerank' | 'health' | 'info' | 'metrics';
const ROUTES: Readonly<Record<string, { route: Route; method: 'GET' | 'POST' }>> = {
  '/v1/embeddings': { route: 'openai', method: 'POST' },
  '/embeddings': { route: 'openai', method: 'POST' },
  '/embed': { route: 'embed', method: 'POST' },
  '/rerank': { route: 'rerank', method: 'POST' },
  '/health': { route: 'health', method: 'GET' },
  '/info': { route: 'info', method: 'GET' },
  '/metrics': { route: 'metrics', method: 'GET' },
};
const SCHEMAS: Partial<Record<Route, Schema>> = { openai: OPENAI_EMBEDDINGS, embed: TEI_EMBED, rerank: TEI_RERANK };

/** The client hung up before its answer was ready. */
class ClientClosed extends Error {}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Error bodies as each API's clients expect them: OpenAI's `{error: {message, type, ...}}`, TEI's `{error, error_type}`. */
function errorBody(route: Route | undefined, e: HttpError): unknown {
  if (route === 'openai') return { error: { message: e.message, type: e.type, param: e.param ?? null, code: e.status } };
  const teiType: Record<number, string> = { 413: 'Validation', 422: 'Validation', 429: 'Overloaded', 503: 'Unhealthy', 500: 'Backend', 501: 'Backend' };
  return { error: e.message, error_type: teiType[e.status] ?? (e.status < 500 ? 'Validation' : 'Backend') };
}

/**
 * Starts serving `embedder` (and `reranker`, when there is one) over HTTP.
 * @example
 * const embedder = await createEmbedder('synthetic:minilm', { device: 'wasm' });
 * const server = await startServer(embedder, { ...DEFAULT_SERVER_OPTIONS, port: 8080, modelName: 'synthetic:minilm' });
 * process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
 */
export async function startServer(embedder: ServedEmbedder, options: ServerOptions, reranker?: ServedReranker): Promise<RunningServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const engine = new Engine(embedder, reranker);
  // Measured: a minilm pass on wasm costs about its tokens plus a few dozen (B1 T16 ≈ 35 tokens'
  // worth); on an H200 through WebGPU a B1 T16 pass takes as long as ~1,700 tokens in a big one.
  const passOverheadTokens = options.passOverheadTokens ?? (embedder.device === 'webgpu' ? 2048 : 64);
  let inflight = 0;
  let draining = false;
  /** Set when the model itself is gone (its worker died, it was disposed): /health says so, so an orchestrator restarts the replica. */
  let broken: string | undefined;
  let onQuiet: (() => void) | undefined;
  const metrics = serverMetrics({ queueDepth: () => batcher.queueDepth, queuedTokens: () => batcher.queuedTokens, inflight: () => inflight });
  const batcher: Batcher<Payload, PassResult> = new Batcher<Payload, PassResult>({
    maxBatchTokens: options.maxBatchTokens,
    maxBatchSize: options.maxBatchSize,
    passOverheadTokens,
    maxWaitMs: options.maxWaitMs,
    maxQueue: options.maxQueue,
    run: engine.run,
    onPass: (p) => {
      metrics.batchSize.observe(p.size);
      metrics.batchTokens.observe(p.paddedTokens);
      metrics.passSeconds.observe(p.ms / 1000);
      for (const w of p.waits) metrics.queueSeconds.observe(w / 1000);
      const code = (p.error as { code?: unknown } | undefined)?.code;
      if (code === 'WORKER_FAILED' || code === 'DISPOSED') broken ??= `${String(code)}: ${(p.error as Error).message}`;
      if (p.error === undefined) {
        const kind = p.key.includes('"rerank"') ? 'rerank' : 'embed';
        metrics.inputs.inc({ kind }, p.size);
        metrics.tokens.inc({}, p.tokens);
        metrics.rate.add(p.tokens);
      }
    },
  });

  /** Seconds a client should wait before retrying: the queue's tokens at the recent rate, 1–60. */
  const retryAfter = (): string => {
    const rate = metrics.rate.perSecond();
    const seconds = rate > 0 ? Math.ceil(batcher.queuedTokens / rate) : 1;
    return String(Math.min(60, Math.max(1, seconds)));
  };

  const timedOut = (): HttpError =>
    new HttpError(503, 'unavailable', `the request was not answered within ${options.requestTimeoutMs} ms (--request-timeout-ms); the server is overloaded, retry later`, {
      'Retry-After': retryAfter(),
    });

  /** Queues a request's work; the timeout counts from the request's arrival (`started`). */
  const submitFor =
    (res: ServerResponse, started: number) =>
    async (work: WorkInput<Payload>[]): Promise<PassResult[]> => {
      const left = options.requestTimeoutMs - (performance.now() - started);
      if (left <= 0) throw timedOut();
      let ticket: ReturnType<typeof batcher.submit>;
      try {
        ticket = batcher.submit(work);
      } catch (e) {
        if (e instanceof QueueFullError) throw new HttpError(429, 'overloaded', e.message, { 'Retry-After': retryAfter() });
        throw e;
      }
      const timer = setTimeout(() => ticket.cancel(timedOut()), left);
      const onClose = (): void => {
        if (!res.writableEnded) ticket.cancel(new ClientClosed('client closed the connection'));
      };
      res.once('close', onClose);
      try {
        return await ticket.results;
      } finally {
        clearTimeout(timer);
        res.off('close', onClose);
      }
    };

  const authorized = (req: IncomingMessage): boolean => {
    if (!options.apiKey) return true;
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    return match !== null && timingSafeEqual(digest(match[1]!.trim()), digest(options.apiKey));
  };

  const info = (): unknown => ({
    model_id: options.modelName,
    model_type: { embedding: { pooling: embedder.defaults.pooling } },
    reranker: reranker ? true : false,
    dimension: embedder.dimension,
    max_input_length: engine.maxLength,
    normalize: embedder.defaults.normalize,
    prompts: embedder.defaults.prompts,
    device: embedder.device,
    threads: embedder.threads,
    max_batch_tokens: options.maxBatchTokens,
    max_batch_size: options.maxBatchSize,
    pass_overhead_tokens: passOverheadTokens,
    max_wait_ms: options.maxWaitMs,
    max_queue: options.maxQueue,
    max_client_batch_size: options.maxInputs,
    max_body_bytes: options.maxBodyBytes,
    request_timeout_ms: options.requestTimeoutMs,
    version: VERSION,
  });

  async function handle(req: IncomingMessage, res: ServerResponse, route: Route | undefined, started: number): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const entry = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
    if (!entry || !route) throw new HttpError(404, 'not_found', `no route ${req.method} ${path}; routes: POST /v1/embeddings, POST /embed, POST /rerank, GET /health, GET /info, GET /metrics`);
    if (req.method !== entry.method && !(entry.method === 'GET' && req.method === 'HEAD')) {
      throw new HttpError(405, 'method_not_allowed', `${path} takes ${entry.method}, not ${req.method}`, { Allow: entry.method });
    }
    if (route === 'health') {
      // Unauthenticated, so load balancers can probe it; 503 while draining takes this replica out of rotation.
      if (broken) return sendJson(res, 503, { status: 'unhealthy', reason: broken });
      return sendJson(res, draining ? 503 : 200, { status: draining ? 'draining' : 'ok', device: embedder.device });
    }
    if (!authorized(req)) {
      metrics.rejected.inc({ reason: 'unauthorized' });
      throw new HttpError(401, 'unauthorized', 'missing or wrong API key: send "Authorization: Bearer <key>"', { 'WWW-Authenticate': 'Bearer' });
    }
    if (route === 'metrics') return sendText(res, 200, metrics.registry.render(), 'text/plain; version=0.0.4; charset=utf-8');
    if (route === 'info') return sendJson(res, 200, info());
    if (draining) {
      metrics.rejected.inc({ reason: 'draining' });
      throw new HttpError(503, 'unavailable', 'the server is shutting down; send the request to another replica', { 'Retry-After': '1' });
    }
    const body = await readJsonBody(req, options.maxBodyBytes);
    const fault = validate(SCHEMAS[route]!, body);
    if (fault) throw new HttpError(400, 'invalid_request', `invalid body: ${formatSchemaError(fault)}`, {}, fault.path.split(/[.[]/)[0] || undefined);
    const ctx: RouteContext = { engine, modelName: options.modelName, maxInputs: options.maxInputs, submit: submitFor(res, started) };
    if (route === 'openai') return sendJson(res, 200, await openaiEmbeddings(ctx, body as Parameters<typeof openaiEmbeddings>[1]));
    if (route === 'embed') return sendJson(res, 200, await teiEmbed(ctx, body as Parameters<typeof teiEmbed>[1]));
    return sendJson(res, 200, await teiRerank(ctx, body as Parameters<typeof teiRerank>[1]));
  }

  const server: Server = createServer((req, res) => {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0]!;
    const route = Object.hasOwn(ROUTES, path) ? ROUTES[path]!.route : undefined;
    inflight++;
    if (draining) res.setHeader('Connection', 'close');
    res.once('close', () => {
      inflight--;
      metrics.requests.inc({ route: route ?? 'unknown', code: String(res.statusCode) });
      if (route) metrics.requestSeconds.observe((performance.now() - started) / 1000, { route });
      if (inflight === 0) onQuiet?.();
    });
    handle(req, res, route, started).catch((e: unknown) => {
      if (e instanceof ClientClosed) {
        metrics.rejected.inc({ reason: 'client_closed' });
        return;
      }
      let error = passErrorToHttp(e);
      if (!error) {
        log(`dualbert serve: unexpected error on ${req.method} ${path}: ${(e as Error)?.stack ?? String(e)}`);
        error = new HttpError(500, 'internal', 'internal server error (details are in the server log)');
      }
      if (error.status === 429) metrics.rejected.inc({ reason: 'queue_full' });
      if (error.status === 503 && error.type === 'unavailable' && !draining) metrics.rejected.inc({ reason: 'timeout' });
      if (error.status === 413) metrics.rejected.inc({ reason: 'too_large' });
      if (res.headersSent || res.destroyed) return;
      // A body that was refused before it was read must not be parsed as the next request.
      const unread = !req.readableEnded;
      sendJson(res, error.status, errorBody(route, error), unread ? { ...error.headers, Connection: 'close' } : error.headers);
    });
  });
  server.requestTimeout = Math.max(options.requestTimeoutMs + 5_000, 70_000);
  // Idle keep-alive connections stay open longer than load balancers keep theirs (60 s is common),
  // so the server never closes one that a client or balancer is about to reuse (a reset request);
  // a stalled event loop (an in-process pass) makes that race likelier with a short timeout.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  let closing: Promise<boolean> | undefined;
  const close = (): Promise<boolean> =>
    (closing ??= (async () => {
      draining = true;
      server.close();
      server.closeIdleConnections();
      batcher.drain();
      const quiet = new Promise<void>((resolve) => {
        onQuiet = resolve;
        if (inflight === 0) resolve();
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finished = await Promise.race([
        Promise.all([quiet, batcher.idle()]).then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), options.drainTimeoutMs))),
      ]);
      clearTimeout(timer);
      server.closeAllConnections();
      engine.dispose();
      return finished;
    })());

  return { url: `http://${host}:${port}`, port, metrics, batcher, close };
}

/** Defaults of the server settings (`dualbert serve --help` lists them). */
export const DEFAULT_SERVER_OPTIONS: Omit<ServerOptions, 'modelName'> = {
  host: '127.0.0.1',
  port: 8080,
  maxBatchTokens: 16_384,
  maxBatchSize: 256,
  maxWaitMs: 0,
  maxQueue: 4_096,
  maxInputs: 2_048,
  maxBodyBytes: 4 * 1024 * 1024,
  requestTimeoutMs: 60_000,
  drainTimeoutMs: 30_000,
};
