/**
 * The routes' logic, between a validated body and the response body: OpenAI's /v1/embeddings,
 * TEI's /embed and /rerank, and /info. HTTP concerns (auth, limits, errors) are in server.ts.
 */
import type { WorkInput } from './batcher.js';
import { truncateDimensions } from './dimensions.js';
import type { EmbedInput, Engine, PassResult, Payload } from './engine.js';
import { HttpError } from './http.js';

/** What a route handler can use. */
export interface RouteContext {
  engine: Engine;
  /** The name answered as `model` (what the server was started with). */
  modelName: string;
  /** Inputs one request may carry (413 above). */
  maxInputs: number;
  /** Queues work in the batcher and waits for its results (429, 503 and client aborts handled there). */
  submit(work: WorkInput<Payload>[]): Promise<PassResult[]>;
}

/** The inputs of a validated `input`/`inputs` field as a list (a bare token-id array is one input). */
export function readInputs(value: unknown, field: string, maxInputs: number): EmbedInput[] {
  let list: EmbedInput[];
  if (typeof value === 'string') list = [value];
  else {
    const items = value as (string | number | number[])[];
    const ints = items.filter((v) => typeof v === 'number').length;
    if (ints === items.length) list = [items as number[]];
    else if (ints > 0) throw new HttpError(400, 'invalid_request', `${field}: mixes token ids with other inputs; send one array of token ids, or an array of strings and token-id arrays`, {}, field);
    else list = items as EmbedInput[];
  }
  if (list.length > maxInputs) throw new HttpError(413, 'too_large', `${field} has ${list.length} inputs; the limit is ${maxInputs} per request (--max-inputs)`, {}, field);
  return list;
}

/** Float32 values printed with 9 significant digits: enough to give back each float32 exactly. */
function vectorJson(row: Float32Array): string {
  let s = '[';
  for (let i = 0; i < row.length; i++) s += (i ? ',' : '') + String(Number(row[i]!.toPrecision(9)));
  return `${s}]`;
}

/** Little-endian float32 bytes in base64 (OpenAI's encoding_format "base64"). */
function vectorBase64(row: Float32Array): string {
  const bytes = Buffer.from(row.buffer, row.byteOffset, row.byteLength);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) return bytes.toString('base64');
  const le = Buffer.alloc(row.byteLength);
  for (const [i, v] of row.entries()) le.writeFloatLE(v, i * 4);
  return le.toString('base64');
}

function checkDimensions(ctx: RouteContext, dimensions: number | null | undefined): number | undefined {
  if (dimensions === undefined || dimensions === null) return undefined;
  const width = ctx.engine.embedder.dimension;
  if (dimensions > width) throw new HttpError(400, 'invalid_request', `dimensions: ${dimensions} is more than the model's ${width}`, {}, 'dimensions');
  return dimensions;
}

/** POST /v1/embeddings: returns the response as JSON text (vectors are written by hand, compactly). */
export async function openaiEmbeddings(ctx: RouteContext, body: { input: unknown; dimensions?: number; encoding_format?: 'float' | 'base64' }): Promise<string> {
  const inputs = readInputs(body.input, 'input', ctx.maxInputs);
  const dimensions = checkDimensions(ctx, body.dimensions);
  const normalize = ctx.engine.embedder.defaults.normalize;
  const { work, tokens } = await ctx.engine.prepareEmbed(inputs, { normalize, truncate: true, field: 'input' });
  const rows = (await ctx.submit(work)) as Float32Array[];
  const base64 = body.encoding_format === 'base64';
  const data = rows.map((row, i) => {
    const vector = dimensions ? truncateDimensions(row, dimensions, normalize) : row;
    const embedding = base64 ? JSON.stringify(vectorBase64(vector)) : vectorJson(vector);
    return `{"object":"embedding","index":${i},"embedding":${embedding}}`;
  });
  const used = tokens.reduce((a, b) => a + b, 0);
  return `{"object":"list","data":[${data.join(',')}],"model":${JSON.stringify(ctx.modelName)},"usage":{"prompt_tokens":${used},"total_tokens":${used}}}`;
}

/** POST /embed (TEI): an array of vectors. */
export async function teiEmbed(
  ctx: RouteContext,
  body: { inputs: unknown; normalize?: boolean; truncate?: boolean; prompt_name?: string | null; dimensions?: number | null },
): Promise<string> {
  const inputs = readInputs(body.inputs, 'inputs', ctx.maxInputs);
  const dimensions = checkDimensions(ctx, body.dimensions);
  const normalize = body.normalize ?? true;
  const { work } = await ctx.engine.prepareEmbed(inputs, { normalize, truncate: body.truncate ?? false, promptName: body.prompt_name ?? undefined, field: 'inputs' });
  const rows = (await ctx.submit(work)) as Float32Array[];
  return `[${rows.map((row) => vectorJson(dimensions ? truncateDimensions(row, dimensions, normalize) : row)).join(',')}]`;
}

/** POST /rerank (TEI): `{index, score, text?}` per text, best first. */
export async function teiRerank(
  ctx: RouteContext,
  body: { query: string; texts: string[]; raw_scores?: boolean; return_text?: boolean; truncate?: boolean },
): Promise<{ index: number; score: number; text?: string }[]> {
  if (body.texts.length > ctx.maxInputs) throw new HttpError(413, 'too_large', `texts has ${body.texts.length} inputs; the limit is ${ctx.maxInputs} per request (--max-inputs)`, {}, 'texts');
  const work = await ctx.engine.prepareRerank(body.query, body.texts, { raw: body.raw_scores ?? false, truncate: body.truncate ?? false });
  const scores = (await ctx.submit(work)) as number[];
  return scores
    .map((score, index) => (body.return_text ? { index, score, text: body.texts[index]! } : { index, score }))
    .sort((a, b) => b.score - a.score || a.index - b.index);
}
