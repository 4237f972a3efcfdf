/**
 * A loopback HTTP server that serves a model directory under `/<file>` and misbehaves on
 * request, one fault kind per file: never answer, stall mid-body, cut the connection, lie about
 * the length (smaller or bigger than the file), end a body without a length early, drop the
 * connection at once, answer with an error status, redirect in a loop, or drip bytes slowly.
 * Faults apply to the next `times` requests of a file (default: all), then it is served well.
 *
 *   const server = await startFaultServer(dir);
 *   server.fault('model.safetensors', { kind: 'lie-short', length: 1000, times: 1 });
 *   await createEmbedder(server.url, { cache_dir, timeout: 200 });
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, relative } from 'node:path';

export type FaultKind =
  /** Accept the connection and the request, never answer. */
  | { kind: 'stall' }
  /** Send the headers and `after` body bytes, then go silent (the connection stays open). */
  | { kind: 'stall-body'; after: number }
  /** Announce the full length, send `after` bytes, then destroy the connection. */
  | { kind: 'truncate'; after: number }
  /** Announce (and send) only `length` bytes as if that were the whole file, ending cleanly. */
  | { kind: 'lie-short'; length: number }
  /** Announce `extra` bytes more than the file has, send the file, close the connection. */
  | { kind: 'lie-long'; extra: number }
  /** No Content-Length (chunked): send `after` bytes and end the body cleanly. */
  | { kind: 'chunked-short'; after: number }
  /** No Content-Length (chunked): send the whole file. */
  | { kind: 'chunked' }
  /** Destroy the connection as soon as the request arrives. */
  | { kind: 'drop' }
  /** Answer with this HTTP status. */
  | { kind: 'status'; status: number }
  /** Redirect to itself forever. */
  | { kind: 'redirect-loop' }
  /** Send `bytes` bytes every `everyMs` ms (with the full Content-Length). */
  | { kind: 'drip'; bytes: number; everyMs: number }
  /** Serve these bytes instead of the file (with their own correct length). */
  | { kind: 'replace'; body: Uint8Array };

export type Fault = FaultKind & { times?: number };

export interface FaultServer {
  /** `http://127.0.0.1:<port>/` (trailing slash): a URL base for createEmbedder. */
  readonly url: string;
  /** Paths requested, in order, with their Range header. */
  readonly requests: { path: string; range: string | undefined }[];
  fault(file: string, fault: Fault): void;
  /** One fault per request of `file`, in order (undefined: serve that request well), then served well. */
  faultSequence(file: string, faults: (FaultKind | undefined)[]): void;
  clearFaults(): void;
  /** Requests of one file. */
  count(file: string): number;
  close(): Promise<void>;
}

export async function startFaultServer(dir: string): Promise<FaultServer> {
  const files = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else files.set(relative(dir, p).split('\\').join('/'), readFileSync(p));
    }
  };
  walk(dir);
  const faults = new Map<string, Fault>();
  const sequences = new Map<string, (FaultKind | undefined)[]>();
  const requests: FaultServer['requests'] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setInterval>>();

  const take = (file: string): Fault | undefined => {
    const queue = sequences.get(file);
    if (queue?.length) return queue.shift();
    const f = faults.get(file);
    if (!f) return undefined;
    if (f.times !== undefined) {
      if (f.times <= 0) return undefined;
      f.times--;
    }
    return f;
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const file = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
    requests.push({ path: file, range: req.headers.range });
    const data = files.get(file);
    if (!data) {
      res.writeHead(404).end('not found');
      return;
    }
    const fault = take(file);
    switch (fault?.kind) {
      case 'stall':
        return; // never answer
      case 'drop':
        req.socket.destroy();
        return;
      case 'status':
        res.writeHead(fault.status).end('fault');
        return;
      case 'redirect-loop':
        res.writeHead(302, { Location: `/${file}` }).end();
        return;
      case 'replace':
        res.writeHead(200, { 'Content-Length': fault.body.byteLength }).end(fault.body);
        return;
      case 'chunked':
        res.writeHead(200);
        res.end(data);
        return;
      case 'chunked-short':
        res.writeHead(200);
        res.end(data.subarray(0, fault.after));
        return;
      case 'lie-short':
        res.writeHead(200, { 'Content-Length': fault.length });
        res.end(data.subarray(0, fault.length));
        return;
      case 'lie-long':
        res.writeHead(200, { 'Content-Length': data.length + fault.extra });
        res.write(data, () => res.socket?.end());
        return;
      case 'truncate':
        res.writeHead(200, { 'Content-Length': data.length });
        res.write(data.subarray(0, fault.after), () => setTimeout(() => res.destroy(), 10));
        return;
      case 'stall-body':
        res.writeHead(200, { 'Content-Length': data.length });
        res.write(data.subarray(0, fault.after));
        return; // never more
      case 'drip': {
        res.writeHead(200, { 'Content-Length': data.length });
        let pos = 0;
        const timer = setInterval(() => {
          const next = Math.min(data.length, pos + fault.bytes);
          res.write(data.subarray(pos, next));
          pos = next;
          if (pos >= data.length) {
            clearInterval(timer);
            timers.delete(timer);
            res.end();
          }
        }, fault.everyMs);
        timers.add(timer);
        return;
      }
      case undefined:
        break;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && Number(range[1]) < data.length) {
      const start = Number(range[1]);
      res.writeHead(206, {
        'Content-Length': data.length - start,
        'Content-Range': `bytes ${start}-${data.length - 1}/${data.length}`,
        'Accept-Ranges': 'bytes',
      });
      res.end(data.subarray(start));
      return;
    }
    res.writeHead(200, { 'Content-Length': data.length, 'Accept-Ranges': 'bytes' });
    res.end(data);
  };

  const server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    fault: (file, f) => void faults.set(file, { ...f }),
    faultSequence: (file, list) => void sequences.set(file, [...list]),
    clearFaults: () => {
      faults.clear();
      sequences.clear();
    },
    count: (file) => requests.filter((r) => r.path === file).length,
    close: async () => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
