/**
 * `dualbert serve` over loopback, through the built dist/ as users run it: every route answers
 * the library's own vectors, concurrent requests are batched and none is lost, overload gives
 * 429 and recovers, timeouts give 503, bad bodies give 400 with a message naming the fault.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureDistBuilt } from './helpers/build.js';
import { maxAbsDiff } from './helpers/golden.js';

type Dist = typeof import('../ts/index.js');
type ServerModule = typeof import('../ts/server/server.js');
type RunningServer = Awaited<ReturnType<ServerModule['startServer']>>;
type Embedder = Awaited<ReturnType<Dist['createEmbedder']>>;
type Served = Parameters<ServerModule['startServer']>[0];

let dist: Dist;
let serverModule: ServerModule;
/** The library, called directly: the vectors every answer must equal. */
let direct: Embedder;
/** The main server: synthetic:tiny on wasm, in a worker (as `dualbert serve` runs it). */
let server: RunningServer;
const others: RunningServer[] = [];

const MODEL = 'synthetic:tiny';
const WORDS = 'the quick brown fox jumps over lazy dogs while seven wizards quietly judge boxing matches'.split(' ');
/** A text of about n words, different for each seed. */
const textOf = (seed: number, n: number): string => Array.from({ length: n }, (_, i) => WORDS[(seed * 7 + i * 3) % WORDS.length]).join(' ');

async function start(embedder: Served, options: Partial<Parameters<ServerModule['startServer']>[1]> = {}): Promise<RunningServer> {
  const s = await serverModule.startServer(embedder, { ...serverModule.DEFAULT_SERVER_OPTIONS, port: 0, modelName: MODEL, log: () => undefined, ...options });
  return s;
}

interface Reply {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function call(s: RunningServer, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const init: RequestInit =
    body === undefined ? { headers } : { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) };
  const res = await fetch(`${s.url}${path}`, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // /metrics is text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

async function libraryRows(texts: string[], options: Parameters<Embedder['embed']>[1] = {}): Promise<Float32Array[]> {
  const { data, dims } = await direct.embed(texts, options);
  return texts.map((_, i) => data.slice(i * dims[1], (i + 1) * dims[1]));
}

beforeAll(async () => {
  ensureDistBuilt();
  dist = (await import(pathToFileURL(join(ROOT, 'dist/index.js')).href)) as Dist;
  serverModule = (await import(pathToFileURL(join(ROOT, 'dist/server/server.js')).href)) as ServerModule;
  direct = await dist.createEmbedder(MODEL, { device: 'wasm' });
  server = await start(await dist.createEmbedder(MODEL, { device: 'wasm', worker: true }));
});

afterAll(async () => {
  await Promise.all([server, ...others].map((s) => s?.close()));
  direct?.dispose();
});

describe('dualbert serve routes', () => {
  it("POST /v1/embeddings answers the library's vectors: a string, a list, token ids, dimensions, base64", async () => {
    const texts = ['A man is eating food.', 'HELLO WORLD', '', textOf(1, 40)];
    const want = await libraryRows(texts);

    const one = await call(server, '/v1/embeddings', { input: texts[0], model: MODEL });
    expect(one.status).toBe(200);
    expect(one.body.object).toBe('list');
    expect(one.body.model).toBe(MODEL);
    expect(one.body.data).toHaveLength(1);
    expect(maxAbsDiff(one.body.data[0].embedding, want[0]!)).toBeLessThanOrEqual(1e-6);
    expect(one.body.usage).toEqual({ prompt_tokens: direct.tokenizer.encode(texts[0]!).ids.length, total_tokens: direct.tokenizer.encode(texts[0]!).ids.length });

    const list = await call(server, '/v1/embeddings', { input: texts });
    expect(list.body.data.map((d: { index: number }) => d.index)).toEqual([0, 1, 2, 3]);
    list.body.data.forEach((d: { embedding: number[] }, i: number) => expect(maxAbsDiff(d.embedding, want[i]!), `input ${i}`).toBeLessThanOrEqual(1e-6));

    // Token ids of the model's tokenizer, with and without [CLS] … [SEP]: the same vectors as the text.
    const ids = direct.tokenizer.encode(texts[3]!).ids;
    const byIds = await call(server, '/v1/embeddings', { input: [ids, ids.slice(1, -1)] });
    expect(byIds.status).toBe(200);
    for (const d of byIds.body.data) expect(maxAbsDiff(d.embedding, want[3]!)).toBeLessThanOrEqual(1e-6);
    const single = await call(server, '/v1/embeddings', { input: direct.tokenizer.encode(texts[1]!).ids });
    expect(single.body.data).toHaveLength(1);
    expect(maxAbsDiff(single.body.data[0].embedding, want[1]!)).toBeLessThanOrEqual(1e-6);

    // dimensions: the first n values, renormalized (the model normalizes).
    const cut = await call(server, '/v1/embeddings', { input: texts, dimensions: 16 });
    cut.body.data.forEach((d: { embedding: number[] }, i: number) => {
      const head = Array.from(want[i]!.subarray(0, 16));
      const norm = Math.hypot(...head);
      expect(d.embedding).toHaveLength(16);
      expect(maxAbsDiff(d.embedding, head.map((v) => v / norm))).toBeLessThanOrEqual(1e-6);
    });

    // base64: little-endian float32 bytes, exactly the library's values.
    const b64 = await call(server, '/v1/embeddings', { input: texts, encoding_format: 'base64' });
    b64.body.data.forEach((d: { embedding: string }, i: number) => {
      const bytes = Buffer.from(d.embedding, 'base64');
      const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      expect(Array.from(values)).toEqual(Array.from(want[i]!));
    });
  });

  it("POST /embed (TEI) answers the library's vectors, with normalize and truncate", async () => {
    const texts = [textOf(2, 5), textOf(3, 30), 'Ünïcode ständard tëxt 東京'];
    const want = await libraryRows(texts);
    const res = await call(server, '/embed', { inputs: texts });
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(3);
    res.body.forEach((row: number[], i: number) => expect(maxAbsDiff(row, want[i]!)).toBeLessThanOrEqual(1e-6));

    const raw = await libraryRows(texts, { normalize: false });
    const unnormalized = await call(server, '/embed', { inputs: texts, normalize: false });
    unnormalized.body.forEach((row: number[], i: number) => expect(maxAbsDiff(row, raw[i]!) / Math.max(...raw[i]!.map(Math.abs))).toBeLessThanOrEqual(1e-6));

    const single = await call(server, '/embed', { inputs: texts[0] });
    expect(single.body).toHaveLength(1);
    expect(maxAbsDiff(single.body[0], want[0]!)).toBeLessThanOrEqual(1e-6);

    // Longer than the model's 128 tokens: TEI's default truncate: false refuses (413), truncate: true cuts.
    const long = textOf(4, 300);
    const refused = await call(server, '/embed', { inputs: [texts[0], long] });
    expect(refused.status).toBe(413);
    expect(refused.body.error).toMatch(/^inputs\[1\] has \d+ tokens; the model takes at most 128 \(send "truncate": true to cut it\)$/);
    expect(refused.body.error_type).toBe('Validation');
    const cut = await call(server, '/embed', { inputs: [long], truncate: true });
    expect(maxAbsDiff(cut.body[0], (await libraryRows([long]))[0]!)).toBeLessThanOrEqual(1e-6);
  });

  it('POST /rerank validates the body, then answers 501 naming the missing cross-encoder', async () => {
    const bad = await call(server, '/rerank', { query: 'q', texts: 'not a list' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid body: texts: expected an array, got a string');
    const res = await call(server, '/rerank', { query: 'what is a fox?', texts: ['a fox is an animal', 'tokyo'] });
    expect(res.status).toBe(501);
    expect(res.body.error).toMatch(/needs a cross-encoder \(reranker\) model/);
    expect(res.body.error).toMatch(/createReranker/);
  });

  it('a reranker plugged in is batched like embeddings and answers TEI rerank shapes, best first', async () => {
    // A real scorer built on the library (dot product of normalized embeddings) stands in for a
    // cross-encoder: the test checks the route, the batching of pairs and the routing of scores.
    const embedder = await dist.createEmbedder(MODEL, { device: 'wasm' });
    const scorer = {
      tokenizer: embedder.tokenizer,
      maxLength: embedder.defaults.maxLength,
      score: async (pairs: readonly (readonly [string, string])[]) => {
        const q = await embedder.embed(pairs.map((p) => p[0]));
        const t = await embedder.embed(pairs.map((p) => p[1]));
        const C = q.dims[1];
        return pairs.map((_, i) => q.data.subarray(i * C, (i + 1) * C).reduce((s, v, k) => s + v * t.data[i * C + k]!, 0));
      },
      dispose: () => embedder.dispose(),
    };
    const s = await serverModule.startServer((await dist.createEmbedder(MODEL, { device: 'wasm' })) as never, { ...serverModule.DEFAULT_SERVER_OPTIONS, port: 0, modelName: MODEL, log: () => undefined }, scorer);
    others.push(s);
    const query = 'quick brown fox';
    const texts = Array.from({ length: 12 }, (_, i) => textOf(i, 3 + i));
    const q = (await libraryRows([query]))[0]!;
    const t = await libraryRows(texts);
    const want = t.map((row) => row.reduce((acc, v, k) => acc + v * q[k]!, 0));
    const responses = await Promise.all([0, 1, 2].map(() => call(s, '/rerank', { query, texts, return_text: true })));
    for (const res of responses) {
      expect(res.status).toBe(200);
      const byIndex = [...res.body].sort((a: { index: number }, b: { index: number }) => a.index - b.index);
      expect(byIndex.map((r: { text: string }) => r.text)).toEqual(texts);
      byIndex.forEach((r: { score: number }, i: number) => expect(Math.abs(r.score - want[i]!)).toBeLessThanOrEqual(1e-6));
      const scores = res.body.map((r: { score: number }) => r.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    }
    expect(s.metrics.inputs.get({ kind: 'rerank' })).toBe(36);
  });

  it('200 concurrent requests of mixed lengths are all answered correctly, merged into batches, none lost', async () => {
    const requests = Array.from({ length: 200 }, (_, r) => {
      const texts = Array.from({ length: 1 + (r % 4) }, (_, i) => textOf(r * 5 + i, 1 + ((r * 13 + i * 29) % 90)));
      return { route: r % 2 ? '/embed' : '/v1/embeddings', texts };
    });
    const wanted = await libraryRows(requests.flatMap((r) => r.texts));
    const passesBefore = server.metrics.passSeconds.render().find((l) => l.startsWith('dualbert_batch_duration_seconds_count'));
    const replies = await Promise.all(requests.map((r) => call(server, r.route, r.route === '/embed' ? { inputs: r.texts, truncate: true } : { input: r.texts })));
    let k = 0;
    let worst = 0;
    replies.forEach((res, r) => {
      expect(res.status, `request ${r}`).toBe(200);
      const rows: number[][] = requests[r]!.route === '/embed' ? res.body : res.body.data.map((d: { embedding: number[] }) => d.embedding);
      expect(rows).toHaveLength(requests[r]!.texts.length);
      for (const row of rows) worst = Math.max(worst, maxAbsDiff(row, wanted[k++]!));
    });
    expect(k).toBe(wanted.length);
    expect(worst).toBeLessThanOrEqual(1e-6);
    // Merged: far fewer forward passes than the 500 inputs.
    const count = (line: string | undefined): number => Number(line?.split(' ')[1] ?? 0);
    const passes = count(server.metrics.passSeconds.render().find((l) => l.startsWith('dualbert_batch_duration_seconds_count'))) - count(passesBefore);
    expect(passes).toBeGreaterThan(0);
    expect(passes).toBeLessThan(wanted.length / 4);
  });

  it('GET /health is answered while a large batch runs (model in a worker)', async () => {
    const big = Array.from({ length: 512 }, (_, i) => textOf(i, 100));
    let bigDone = 0;
    const bigRequest = call(server, '/v1/embeddings', { input: big }).then((r) => {
      bigDone = performance.now();
      return r;
    });
    await new Promise((r) => setTimeout(r, 30));
    const t0 = performance.now();
    const health = await call(server, '/health');
    const healthAt = performance.now();
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    const res = await bigRequest;
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(512);
    console.log(`[serve] /health during a 512-text request: ${(healthAt - t0).toFixed(1)} ms; the request took ${(bigDone - t0 + 30).toFixed(0)} ms`);
    expect(healthAt).toBeLessThan(bigDone);
  });

  it('GET /info and GET /metrics (Prometheus text) describe the model and what happened', async () => {
    const info = await call(server, '/info');
    expect(info.body).toMatchObject({ model_id: MODEL, dimension: 64, max_input_length: 128, device: 'wasm', max_batch_tokens: 16384 });
    const metrics = await call(server, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = metrics.body as string;
    for (const name of [
      'dualbert_requests_total{code="200",route="openai"}',
      'dualbert_request_duration_seconds_bucket{route="openai",le="0.001"}',
      'dualbert_batch_size_bucket{le="1"}',
      'dualbert_batch_tokens_count',
      'dualbert_queue_depth 0',
      'dualbert_tokens_per_second',
      'dualbert_tokens_total',
    ]) {
      expect(text).toContain(name);
    }
    const ok = Number(/dualbert_requests_total\{code="200",route="embed"\} (\d+)/.exec(text)?.[1]);
    expect(ok).toBeGreaterThanOrEqual(100);
  });
});

describe('dualbert serve limits and errors', () => {
  it('bad bodies give 400 with a message naming the fault, in each API’s error shape', async () => {
    const cases: [string, unknown, string][] = [
      ['/v1/embeddings', '{"input": ', 'the body is not valid JSON'],
      ['/v1/embeddings', '', 'the body is empty; expected a JSON object'],
      ['/v1/embeddings', { inputs: 'x' }, 'invalid body: missing required field "input"'],
      ['/v1/embeddings', { input: 42 }, 'invalid body: input: expected a string, an array of strings, an array of token ids, or an array of token-id arrays, got the number 42'],
      ['/v1/embeddings', { input: ['ok', null] }, 'invalid body: input[1]: expected a string, a token id, or an array of token ids, got null'],
      ['/v1/embeddings', { input: [] }, 'invalid body: input: must not be an empty array'],
      ['/v1/embeddings', { input: [5, 'x'] }, 'input: mixes token ids with other inputs'],
      ['/v1/embeddings', { input: 'x', dimensions: 65 }, "dimensions: 65 is more than the model's 64"],
      ['/v1/embeddings', { input: 'x', encoding_format: 'int8' }, 'invalid body: encoding_format: expected one of "float", "base64", got "int8"'],
      ['/v1/embeddings', { input: [[101, 999999]] }, "input[0]: token id 999999 is not in the model's vocabulary"],
      ['/embed', { inputs: 'x', normalize: 'yes' }, 'invalid body: normalize: expected a boolean, got a string'],
      ['/embed', { inputs: 'x', prompt_name: 'query' }, `prompt_name "query" is not one of the model's prompts (it has none)`],
      ['/embed', { inputs: 'x', truncation_direction: 'Left' }, 'invalid body: truncation_direction: expected "Right"'],
    ];
    for (const [path, body, message] of cases) {
      const res = await call(server, path, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const text = path === '/v1/embeddings' ? res.body.error.message : res.body.error;
      expect(text, JSON.stringify(body)).toContain(message);
      if (path === '/v1/embeddings') expect(res.body.error.type).toBe('invalid_request');
      else expect(res.body.error_type).toBe('Validation');
      expect(JSON.stringify(res.body)).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
    }
    // Token ids no text produces ("##" piece first) are refused rather than answered with another input's vector.
    const piece = direct.tokenizer.tokenToId('##s');
    expect(piece).toBeDefined();
    const res = await call(server, '/v1/embeddings', { input: [[piece!, 2088]] });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('input[0]: these token ids are not a tokenization this model');
    expect(res.body.error.param).toBe('input');
  });

  it('413 for a body over --max-body-bytes and for more inputs than --max-inputs', async () => {
    const s = await start(await dist.createEmbedder(MODEL, { device: 'wasm' }), { maxBodyBytes: 1000, maxInputs: 3, maxQueue: 10 });
    others.push(s);
    const big = await call(s, '/v1/embeddings', { input: 'x'.repeat(2000) });
    expect(big.status).toBe(413);
    expect(big.body.error.message).toBe('the body is larger than the limit of 1000 bytes (--max-body-bytes)');
    const many = await call(s, '/embed', { inputs: ['a', 'b', 'c', 'd'] });
    expect(many.status).toBe(413);
    expect(many.body.error).toBe('inputs has 4 inputs; the limit is 3 per request (--max-inputs)');
    expect((await call(s, '/embed', { inputs: ['a', 'b', 'c'] })).status).toBe(200);
  });

  it('overload: a full queue gives 429 with Retry-After, no answer is lost or wrong, and the server recovers', async () => {
    // One input per pass and a queue of 64: a request of 64 inputs keeps it nearly full for a while.
    const s = await start(await dist.createEmbedder(MODEL, { device: 'wasm' }), { maxQueue: 64, maxInputs: 64, maxBatchSize: 1 });
    others.push(s);
    const first = Array.from({ length: 64 }, (_, i) => textOf(i, 100));
    const second = Array.from({ length: 32 }, (_, i) => textOf(100 + i, 50));
    const singles = Array.from({ length: 100 }, (_, i) => textOf(200 + i, 5 + (i % 40)));
    const want = await libraryRows([...first, ...second, ...singles]);
    const check = (rows: { embedding: number[] }[], offset: number): void =>
      rows.forEach((d, i) => expect(maxAbsDiff(d.embedding, want[offset + i]!)).toBeLessThanOrEqual(1e-6));

    const firstReply = call(s, '/v1/embeddings', { input: first });
    while (s.batcher.queueDepth < 48) await new Promise((r) => setImmediate(r));
    const [refused, ...others_] = await Promise.all([call(s, '/v1/embeddings', { input: second }), ...singles.map((t) => call(s, '/v1/embeddings', { input: t }))]);
    expect(refused!.status).toBe(429);
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused!.body.error.message).toMatch(/^the server is busy: \d+ inputs are queued \(capacity 64\); retry later$/);
    // Every single request is answered (200, right vector) or refused (429): none lost.
    let refusedSingles = 0;
    others_.forEach((r, i) => {
      if (r.status === 429) refusedSingles++;
      else {
        expect(r.status).toBe(200);
        check(r.body.data, 96 + i);
      }
    });
    const firstDone = await firstReply;
    expect(firstDone.status).toBe(200);
    check(firstDone.body.data, 0);
    expect(s.metrics.rejected.get({ reason: 'queue_full' })).toBe(1 + refusedSingles);
    // Recovered: the refused request sent again is answered, correctly.
    const again = await call(s, '/v1/embeddings', { input: second });
    expect(again.status).toBe(200);
    check(again.body.data, 64);
  });

  it('a request not answered within --request-timeout-ms gets 503; the server goes on', async () => {
    const s = await start(await dist.createEmbedder(MODEL, { device: 'wasm', worker: true }), { requestTimeoutMs: 100 });
    others.push(s);
    const slow = await call(s, '/v1/embeddings', { input: Array.from({ length: 2048 }, (_, i) => textOf(i, 120)) });
    expect(slow.status).toBe(503);
    expect(slow.body.error.message).toBe('the request was not answered within 100 ms (--request-timeout-ms); the server is overloaded, retry later');
    expect(slow.headers.get('retry-after')).toMatch(/^\d+$/);
    await s.batcher.idle();
    expect(s.batcher.queueDepth).toBe(0);
    const after = await call(s, '/v1/embeddings', { input: 'still here' });
    expect(after.status).toBe(200);
    expect(maxAbsDiff(after.body.data[0].embedding, (await libraryRows(['still here']))[0]!)).toBeLessThanOrEqual(1e-6);
  });

  it('with an API key, every route but /health needs "Authorization: Bearer <key>" (401)', async () => {
    const s = await start(await dist.createEmbedder(MODEL, { device: 'wasm' }), { apiKey: 's3cret' });
    others.push(s);
    expect((await call(s, '/health')).status).toBe(200);
    for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Authorization: 's3cret' }] as Record<string, string>[]) {
      const res = await call(s, '/v1/embeddings', { input: 'x' }, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.body.error.message).toBe('missing or wrong API key: send "Authorization: Bearer <key>"');
    }
    expect((await call(s, '/metrics')).status).toBe(401);
    const ok = await call(s, '/v1/embeddings', { input: 'x' }, { Authorization: 'Bearer s3cret' });
    expect(ok.status).toBe(200);
  });

  it('a model that is gone (worker died, disposed) gives 503 and /health turns unhealthy', async () => {
    const embedder = await dist.createEmbedder(MODEL, { device: 'wasm' });
    const s = await start(embedder);
    others.push(s);
    expect((await call(s, '/health')).body.status).toBe('ok');
    embedder.dispose();
    const res = await call(s, '/embed', { inputs: 'x' });
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('DISPOSED: this embedder was disposed');
    const health = await call(s, '/health');
    expect(health.status).toBe(503);
    expect(health.body).toEqual({ status: 'unhealthy', reason: 'DISPOSED: this embedder was disposed' });
  });

  it('unknown routes give 404 and wrong methods 405', async () => {
    const missing = await call(server, '/v2/embeddings', { input: 'x' });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatch(/^no route POST \/v2\/embeddings; routes: POST \/v1\/embeddings/);
    const wrong = await call(server, '/v1/embeddings');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
  });
});
