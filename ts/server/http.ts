/**
 * HTTP plumbing on node:http: a typed error carrying its status, reading a JSON body under a
 * size limit, and writing JSON responses. No stack trace ever reaches a response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Why a request is refused; `status` is the HTTP status, `type` a short machine-readable kind. */
export type HttpErrorType =
  | 'invalid_request' // 400: bad JSON, a body that does not match the schema, a bad value
  | 'unauthorized' // 401
  | 'not_found' // 404
  | 'method_not_allowed' // 405
  | 'too_large' // 413: body, input count, or (TEI, truncate: false) an input longer than the model takes
  | 'overloaded' // 429: the queue is full
  | 'internal' // 500
  | 'not_implemented' // 501: the model lacks what the route needs (a reranker)
  | 'unavailable'; // 503: timed out, or the server is shutting down

/** An error answered as JSON with its status; `headers` are added to the response (Retry-After). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: HttpErrorType,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    /** The request field at fault (OpenAI's `param`). */
    readonly param?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/**
 * Reads the request body as JSON. 413 over `limit` bytes (checked on Content-Length first, then
 * while reading), 400 for text that is not JSON.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const tooLarge = (): HttpError => new HttpError(413, 'too_large', `the body is larger than the limit of ${limit} bytes (--max-body-bytes)`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  // Listeners rather than for-await: leaving a for-await early destroys the socket, and the
  // client would see a reset instead of the 413. Past the limit the rest is read and dropped.
  const chunks: Buffer[] = [];
  let size = 0;
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      chunks.length = 0;
      req.off('data', onData).off('end', resolve).off('error', reject);
      req.on('error', () => undefined);
      req.resume();
      reject(tooLarge());
    };
    req.on('data', onData).once('end', resolve).once('error', reject);
  });
  const text = Buffer.concat(chunks, size).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'invalid_request', 'the body is empty; expected a JSON object');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    // The Content-Type is not checked up front (curl -d sends form-urlencoded); it is named when it explains the failure.
    const type = req.headers['content-type'];
    const hint = type && !/json/i.test(type) ? ` (it was sent as Content-Type "${type}"; send application/json)` : '';
    throw new HttpError(400, 'invalid_request', `the body is not valid JSON: ${(e as Error).message}${hint}`);
  }
}

/** Writes a JSON response (a pre-serialized string is written as is). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Writes a plain-text response. */
export function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
