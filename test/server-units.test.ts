/**
 * The server's parts on their own: the dynamic batcher (budget, length sorting, routing, cancel,
 * queue bound), the body schema validator, Prometheus rendering, Matryoshka truncation, and the
 * `dualbert serve` argument parser. No model, no sockets: milliseconds.
 */
import { describe, expect, it } from 'vitest';
import { Batcher, QueueFullError, planPasses, type PassReport } from '../ts/server/batcher.js';
import { truncateDimensions } from '../ts/server/dimensions.js';
import { Counter, Histogram, Registry } from '../ts/server/metrics.js';
import { formatSchemaError, validate } from '../ts/server/schema.js';
import { OPENAI_EMBEDDINGS, TEI_EMBED, TEI_RERANK } from '../ts/server/schemas.js';
import { parseServeArgs } from '../ts/server/serve.js';

/** A batcher whose passes answer `payload * 10` after a tick, recording each pass. */
function recordingBatcher(options: Partial<ConstructorParameters<typeof Batcher<number, number>>[0]> = {}) {
  const passes: { key: string; payloads: number[] }[] = [];
  const reports: PassReport[] = [];
  const batcher = new Batcher<number, number>({
    maxBatchTokens: 100,
    maxBatchSize: 8,
    maxWaitMs: 0,
    maxQueue: 1000,
    run: async (key, payloads) => {
      passes.push({ key, payloads: [...payloads] });
      await new Promise((r) => setTimeout(r, 5));
      return payloads.map((p) => p * 10);
    },
    onPass: (r) => reports.push(r),
    ...options,
  });
  return { batcher, passes, reports };
}

describe('Batcher', () => {
  it('routes every result back to its request and position, across merged passes', async () => {
    const { batcher, passes } = recordingBatcher();
    const tickets = Array.from({ length: 20 }, (_, r) =>
      batcher.submit(Array.from({ length: 1 + (r % 3) }, (_, i) => ({ key: 'k', tokens: 1 + ((r * 7 + i) % 9), payload: r * 100 + i }))),
    );
    const results = await Promise.all(tickets.map((t) => t.results));
    results.forEach((rows, r) => expect(rows).toEqual(rows.map((_, i) => (r * 100 + i) * 10)));
    // 40 inputs: merged (far fewer passes than inputs), never more than 8 per pass.
    expect(passes.length).toBeLessThan(20);
    for (const p of passes) expect(p.payloads.length).toBeLessThanOrEqual(8);
    expect(passes.flatMap((p) => p.payloads).sort((a, b) => a - b)).toEqual(results.flat().map((v) => v / 10).sort((a, b) => a - b));
  });

  it('sorts a pass by length, longest first, and keeps count × longest within the token budget', async () => {
    const { batcher, passes, reports } = recordingBatcher({ maxBatchTokens: 40, maxBatchSize: 100, passOverheadTokens: 10 });
    const lengths = [3, 20, 5, 5, 19, 4, 2, 10];
    const ticket = batcher.submit(lengths.map((tokens, i) => ({ key: 'k', tokens, payload: i })));
    expect(await ticket.results).toEqual(lengths.map((_, i) => i * 10));
    // Sum 68 > 40: the first cycle takes the oldest inputs up to 40 real tokens (3+20+5+5 = 33, then
    // 19 does not fit but 4 and 2 do), sorted [20, 5, 5, 4, 3, 2]: [20, 5] would pad 5 to 20 (15
    // tokens wasted, more than a pass costs), so [20] then [5, 5, 4, 3, 2] (2 × 20 = 40 would also
    // fit the budget). Then [19, 10] (9 padded tokens < 10 for another pass).
    expect(passes.map((p) => p.payloads)).toEqual([[1], [2, 3, 5, 0, 6], [4, 7]]);
    expect(reports.map((r) => r.paddedTokens)).toEqual([20, 25, 38]);
    for (const r of reports) expect(r.paddedTokens).toBeLessThanOrEqual(40);
  });

  it('planPasses: few passes when a pass is expensive, length groups when padding costs more', () => {
    const plan = (lengths: number[], passOverheadTokens: number, maxBatchTokens = 16384, maxBatchSize = 256) => planPasses(lengths, { maxBatchTokens, maxBatchSize, passOverheadTokens });
    expect(plan(new Array(8).fill(10), 64)).toEqual([8]);
    expect(plan([128, 120, 16, 12, 10], 64)).toEqual([2, 5]); // 64 + 256 + 64 + 48 < 64 + 640
    expect(plan([128, 120, 16, 12, 10], 4096)).toEqual([5]); // a GPU-like price per pass: one pass
    expect(plan([100, 100, 100, 100], 1, 250)).toEqual([2, 4]); // the token budget: 2 × 100 per pass
    const capped = plan(new Array(5).fill(10), 64, 16384, 2);
    expect(capped).toHaveLength(3);
    capped.forEach((end, i) => expect(end - (capped[i - 1] ?? 0)).toBeLessThanOrEqual(2));
    expect(plan([], 64)).toEqual([]);
  });

  it('an input longer than the budget runs alone', async () => {
    const { batcher, reports } = recordingBatcher({ maxBatchTokens: 10 });
    expect(await batcher.submit([{ key: 'k', tokens: 50, payload: 1 }, { key: 'k', tokens: 2, payload: 2 }]).results).toEqual([10, 20]);
    expect(reports.map((r) => [r.size, r.paddedTokens])).toEqual([[1, 50], [1, 2]]);
  });

  it('never mixes keys in a pass, and runs passes one at a time', async () => {
    let running = 0;
    let overlapped = false;
    const passes: string[][] = [];
    const batcher = new Batcher<string, string>({
      maxBatchTokens: 1000,
      maxBatchSize: 100,
      maxWaitMs: 1,
      maxQueue: 100,
      run: async (key, payloads) => {
        if (running++) overlapped = true;
        passes.push(payloads.map((p) => `${key}:${p}`));
        await new Promise((r) => setTimeout(r, 3));
        running--;
        return payloads.map((p) => `${key}/${p}`);
      },
    });
    const tickets = ['a', 'b', 'a', 'b', 'c'].map((key, i) => batcher.submit([{ key, tokens: 1, payload: String(i) }]));
    expect(await Promise.all(tickets.map((t) => t.results))).toEqual([['a/0'], ['b/1'], ['a/2'], ['b/3'], ['c/4']]);
    expect(overlapped).toBe(false);
    for (const p of passes) expect(new Set(p.map((s) => s.split(':')[0])).size).toBe(1);
    expect(passes.length).toBe(3);
  });

  it('waits up to maxWaitMs for a lone input, but not when the budget is full', async () => {
    const { batcher, passes } = recordingBatcher({ maxWaitMs: 60_000, maxBatchTokens: 10 });
    const lone = batcher.submit([{ key: 'k', tokens: 5, payload: 1 }]);
    await new Promise((r) => setTimeout(r, 20));
    expect(passes.length).toBe(0); // still gathering
    const filler = batcher.submit([{ key: 'k', tokens: 5, payload: 2 }]); // 10 tokens: the budget is full
    expect(await lone.results).toEqual([10]);
    expect(await filler.results).toEqual([20]);
    expect(passes).toEqual([{ key: 'k', payloads: [1, 2] }]);
  });

  it('drain() runs a gathering queue at once and idle() resolves when everything is done', async () => {
    const { batcher } = recordingBatcher({ maxWaitMs: 60_000 });
    const ticket = batcher.submit([{ key: 'k', tokens: 1, payload: 3 }]);
    batcher.drain();
    await batcher.idle();
    expect(await ticket.results).toEqual([30]);
    expect(batcher.queueDepth).toBe(0);
  });

  it('refuses a request that does not fit in the queue (nothing of it is queued) and recovers', async () => {
    const { batcher } = recordingBatcher({ maxQueue: 4, maxWaitMs: 60_000 });
    const first = batcher.submit([1, 2, 3].map((payload) => ({ key: 'k', tokens: 1, payload })));
    expect(() => batcher.submit([4, 5].map((payload) => ({ key: 'k', tokens: 1, payload })))).toThrow(QueueFullError);
    expect(batcher.queueDepth).toBe(3);
    batcher.drain();
    expect(await first.results).toEqual([10, 20, 30]);
    expect(await batcher.submit([4, 5, 6, 7].map((payload) => ({ key: 'k', tokens: 1, payload }))).results).toEqual([40, 50, 60, 70]);
  });

  it('cancel() takes queued inputs out, drops results of a running pass, and rejects with the reason', async () => {
    const { batcher, passes } = recordingBatcher({ maxBatchSize: 1 });
    const a = batcher.submit([{ key: 'k', tokens: 1, payload: 1 }]);
    const b = batcher.submit([{ key: 'k', tokens: 1, payload: 2 }, { key: 'k', tokens: 1, payload: 3 }]);
    await new Promise((r) => setImmediate(r)); // the first pass (payload 1) has started
    a.cancel(new Error('gone'));
    b.cancel(new Error('timeout'));
    await expect(a.results).rejects.toThrow('gone');
    await expect(b.results).rejects.toThrow('timeout');
    await batcher.idle();
    expect(passes.flatMap((p) => p.payloads)).toEqual([1]);
    expect(batcher.queuedTokens).toBe(0);
  });

  it('a failed pass rejects the requests in it; the next requests still run', async () => {
    let calls = 0;
    const batcher = new Batcher<number, number>({
      maxBatchTokens: 100,
      maxBatchSize: 100,
      maxWaitMs: 0,
      maxQueue: 100,
      run: async (_key, payloads) => {
        if (calls++ === 0) throw new Error('device lost');
        return payloads;
      },
    });
    await expect(batcher.submit([{ key: 'k', tokens: 1, payload: 1 }]).results).rejects.toThrow('device lost');
    expect(await batcher.submit([{ key: 'k', tokens: 1, payload: 2 }]).results).toEqual([2]);
  });
});

describe('body schemas', () => {
  const fault = (schema: Parameters<typeof validate>[0], body: unknown): string | undefined => {
    const e = validate(schema, body);
    return e && formatSchemaError(e);
  };

  it('accept the shapes OpenAI and TEI clients send', () => {
    for (const input of ['a', ['a', 'b'], [1, 2, 3], [[1, 2], [3]], ['a', [1, 2]]]) expect(fault(OPENAI_EMBEDDINGS, { input, model: 'm' })).toBeUndefined();
    expect(fault(OPENAI_EMBEDDINGS, { input: 'a', encoding_format: 'base64', dimensions: 8, user: 'u', extra: 1 })).toBeUndefined();
    expect(fault(TEI_EMBED, { inputs: ['a'], normalize: false, truncate: true, truncation_direction: 'Right', prompt_name: null })).toBeUndefined();
    expect(fault(TEI_RERANK, { query: 'q', texts: ['a'], return_text: true, raw_scores: false })).toBeUndefined();
  });

  it('name the field and the fault', () => {
    expect(fault(OPENAI_EMBEDDINGS, [])).toBe('expected an object, got an array');
    expect(fault(OPENAI_EMBEDDINGS, {})).toBe('missing required field "input"');
    expect(fault(OPENAI_EMBEDDINGS, { input: 5 })).toBe('input: expected a string, an array of strings, an array of token ids, or an array of token-id arrays, got the number 5');
    expect(fault(OPENAI_EMBEDDINGS, { input: [] })).toBe('input: must not be an empty array');
    expect(fault(OPENAI_EMBEDDINGS, { input: ['a', null] })).toBe('input[1]: expected a string, a token id, or an array of token ids, got null');
    expect(fault(OPENAI_EMBEDDINGS, { input: [1.5] })).toBe('input[0]: expected a string, a token id, or an array of token ids, got the number 1.5');
    expect(fault(OPENAI_EMBEDDINGS, { input: [[1, -2]] })).toBe('input[0][1]: must be at least 0, got -2');
    expect(fault(OPENAI_EMBEDDINGS, { input: 'a', dimensions: 0 })).toBe('dimensions: must be at least 1, got 0');
    expect(fault(OPENAI_EMBEDDINGS, { input: 'a', encoding_format: 'binary' })).toBe('encoding_format: expected one of "float", "base64", got "binary"');
    expect(fault(TEI_EMBED, { inputs: 'a', normalize: 'yes' })).toBe('normalize: expected a boolean, got a string');
    expect(fault(TEI_EMBED, { inputs: 'a', truncation_direction: 'Left' })).toBe('truncation_direction: expected "Right" (dualbert truncates at the end of the text only), got "Left"');
    expect(fault(TEI_RERANK, { query: 'q', texts: [] })).toBe('texts: must not be an empty array');
    expect(fault(TEI_RERANK, { texts: ['a'] })).toBe('missing required field "query"');
  });
});

describe('Prometheus text', () => {
  it('renders counters with labels and cumulative histogram buckets', () => {
    const registry = new Registry();
    const c = registry.add(new Counter('x_total', 'Things.'));
    const h = registry.add(new Histogram('x_seconds', 'Time.', [0.1, 1]));
    c.inc({ route: 'a"b' }, 2);
    h.observe(0.05);
    h.observe(0.5);
    h.observe(5);
    expect(registry.render()).toBe(
      [
        '# HELP x_total Things.',
        '# TYPE x_total counter',
        'x_total{route="a\\"b"} 2',
        '# HELP x_seconds Time.',
        '# TYPE x_seconds histogram',
        'x_seconds_bucket{le="0.1"} 1',
        'x_seconds_bucket{le="1"} 2',
        'x_seconds_bucket{le="+Inf"} 3',
        'x_seconds_sum 5.55',
        'x_seconds_count 3',
        '',
      ].join('\n'),
    );
  });
});

describe('truncateDimensions (Matryoshka)', () => {
  it('keeps the first n values and renormalizes only when asked', () => {
    expect(Array.from(truncateDimensions(new Float32Array([0.6, 0.8, 0]), 1, true))).toEqual([1]);
    expect(Array.from(truncateDimensions(new Float32Array([3, 4, 12]), 2, true))).toEqual([0.6000000238418579, 0.800000011920929]);
    expect(Array.from(truncateDimensions(new Float32Array([3, 4, 12]), 2, false))).toEqual([3, 4]);
    const row = new Float32Array([1, 2]);
    expect(truncateDimensions(row, 2, true)).toBe(row);
  });
});

describe('dualbert serve arguments', () => {
  it('has loopback defaults and reads the API key from the environment', () => {
    const args = parseServeArgs(['--model', 'synthetic:tiny'], { DUALBERT_API_KEY: 'k' });
    if (args === 'help') throw new Error('unexpected help');
    expect(args.server.host).toBe('127.0.0.1');
    expect(args.server.port).toBe(8080);
    expect(args.server.apiKey).toBe('k');
    expect(args.device).toBe('auto');
    const flags = parseServeArgs(['-m', 'm', '-p', '0', '--api-key', 'x', '--max-wait-ms', '0', '--host', '0.0.0.0'], { DUALBERT_API_KEY: 'k' });
    if (flags === 'help') throw new Error('unexpected help');
    expect([flags.server.port, flags.server.apiKey, flags.server.maxWaitMs, flags.server.host]).toEqual([0, 'x', 0, '0.0.0.0']);
    const small = parseServeArgs(['-m', 'm', '--max-queue', '16'], {});
    if (small === 'help') throw new Error('unexpected help');
    expect([small.server.maxQueue, small.server.maxInputs]).toEqual([16, 16]);
    expect(parseServeArgs(['--help'], {})).toBe('help');
  });

  it('names the bad flag', () => {
    expect(() => parseServeArgs([], {})).toThrow('--model is required');
    expect(() => parseServeArgs(['-m', 'x', '--device', 'tpu'], {})).toThrow('--device must be one of auto, webgpu, wasm, reference');
    expect(() => parseServeArgs(['-m', 'x', '--port', '70000'], {})).toThrow('--port must be at most 65535');
    expect(() => parseServeArgs(['-m', 'x', '--max-batch-tokens', '0'], {})).toThrow('--max-batch-tokens must be an integer ≥ 1, got "0"');
    expect(() => parseServeArgs(['-m', 'x', '--max-inputs', '10', '--max-queue', '5'], {})).toThrow('--max-inputs (10) cannot be more than --max-queue (5)');
    expect(() => parseServeArgs(['-m', 'x', '--bogus'], {})).toThrow(/bogus/);
  });
});
