/**
 * A loopback HTTP server that serves model directories the way the Hugging Face hub does, with
 * knobs to misbehave: `/<owner>/<name>/resolve/<revision>/<file>` answers with a 302 to
 * `/lfs/...` carrying `X-Linked-Size` and `X-Linked-Etag` (sha256) like the hub's LFS files;
 * any other path is served as a plain static file under `/plain/...`. Range requests are
 * honoured unless turned off; files can be cut short (the connection is destroyed mid-body),
 * fail with an HTTP status, or advertise a wrong sha256. Every request is logged.
 *
 *   const server = await startModelServer({ 'acme/tiny': dir });
 *   hubSource('acme/tiny', { remote_host: server.url, cache_dir });
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve, sep } from 'node:path';

export interface RequestLog {
  method: string;
  path: string;
  range: string | undefined;
  status: number;
}

/** How to misbehave for one file (matched by the end of the path). */
export interface Fault {
  /** Destroy the connection after this many body bytes. */
  cutAfter?: number;
  /** Apply the fault to this many requests, then behave (default: every request). */
  times?: number;
  /** Answer with this status instead of the file. */
  status?: number;
  /** Advertise this sha256 in X-Linked-Etag instead of the real one. */
  wrongSha256?: boolean;
  /** Advertise a Content-Length bigger than the file and end the body cleanly (a truncated transfer). */
  shortBody?: number;
}

export interface ModelServer {
  /** `http://127.0.0.1:<port>` (no trailing slash): use as `remote_host`. */
  readonly url: string;
  readonly requests: RequestLog[];
  /** Faults by path suffix, e.g. `{ 'model.safetensors': { cutAfter: 1000, times: 1 } }`. */
  faults: Map<string, Fault>;
  /** Honour Range requests (default true). */
  ranges: boolean;
  /** Requests for paths ending with `suffix`. */
  count(suffix: string): number;
  close(): Promise<void>;
}

/** Serves `repos` (repo id → directory) under hub-style URLs, and `plain` directories under `/plain/<key>/`. */
export async function startModelServer(repos: Record<string, string>, plain: Record<string, string> = {}): Promise<ModelServer> {
  const requests: RequestLog[] = [];
  const state = { faults: new Map<string, Fault>(), ranges: true };

  const fileFor = (root: string, rel: string): string | undefined => {
    const r = resolve(root);
    const f = resolve(r, rel);
    return f.startsWith(r + sep) ? f : undefined;
  };

  const faultFor = (path: string): Fault | undefined => {
    for (const [suffix, fault] of state.faults) {
      if (!path.endsWith(suffix)) continue;
      if (fault.times === undefined) return fault;
      if (fault.times > 0) {
        fault.times--;
        return fault;
      }
    }
    return undefined;
  };

  const sendFile = async (req: IncomingMessage, res: ServerResponse, file: string, path: string, log: RequestLog): Promise<void> => {
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) {
      log.status = 404;
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Entry not found');
      return;
    }
    const fault = faultFor(path);
    if (fault?.status) {
      log.status = fault.status;
      res.writeHead(fault.status, { 'Content-Type': 'text/plain' }).end('fault');
      return;
    }
    const data = await readFile(file);
    let start = 0;
    const headers: Record<string, string | number> = { 'Content-Type': 'application/octet-stream', ETag: `"${createHash('md5').update(data).digest('hex')}"` };
    if (state.ranges) headers['Accept-Ranges'] = 'bytes';
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (state.ranges && range) {
      start = Number(range[1]);
      if (start >= data.length) {
        log.status = 416;
        res.writeHead(416, { 'Content-Range': `bytes */${data.length}` }).end();
        return;
      }
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
    }
    const body = data.subarray(start);
    headers['Content-Length'] = fault?.shortBody !== undefined ? body.length + fault.shortBody : body.length;
    log.status = status;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (fault?.cutAfter !== undefined) {
      const n = Math.max(0, fault.cutAfter - start);
      res.write(body.subarray(0, n), () => {
        // Give the bytes a moment to leave, then drop the connection mid-body.
        setTimeout(() => res.destroy(), 20);
      });
      return;
    }
    if (fault?.shortBody !== undefined) {
      res.write(body);
      res.socket?.end(); // close without the promised remaining bytes
      return;
    }
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // CORS, so pages on another loopback origin can fetch (and read the sizes and ranges of) files.
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'Range');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Range, Accept-Ranges, ETag, X-Linked-Size, X-Linked-Etag');
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = decodeURIComponent(url.pathname);
    const log: RequestLog = { method: req.method ?? 'GET', path, range: req.headers.range, status: 0 };
    requests.push(log);
    // Hub: /<owner>/<name>/resolve/<revision>/<file>
    const hub = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (hub) {
      const [, repo, revision, rel] = hub as unknown as [string, string, string, string];
      const dir = repos[`${repo}@${revision}`] ?? (revision === 'main' ? repos[repo] : undefined);
      const file = dir ? fileFor(dir, rel) : undefined;
      if (!dir) {
        log.status = 401;
        res.writeHead(401, { 'Content-Type': 'text/plain' }).end('Repository not found');
        return;
      }
      const st = file ? await stat(file).catch(() => undefined) : undefined;
      if (!file || !st?.isFile()) {
        log.status = 404;
        res.writeHead(404, { 'Content-Type': 'text/plain', 'X-Error-Code': 'EntryNotFound' }).end('Entry not found');
        return;
      }
      const fault = state.faults.get(rel);
      const sha = fault?.wrongSha256 ? '0'.repeat(64) : createHash('sha256').update(await readFile(file)).digest('hex');
      log.status = 302;
      res
        .writeHead(302, {
          Location: `/lfs/${encodeURIComponent(`${repo}@${revision}`)}/${rel}`,
          'X-Linked-Size': String(st.size),
          'X-Linked-Etag': `"${sha}"`,
        })
        .end();
      return;
    }
    const lfs = /^\/lfs\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (lfs) {
      const key = decodeURIComponent(lfs[1]!);
      const dir = repos[key] ?? repos[key.replace(/@main$/, '')];
      const file = dir ? fileFor(dir, decodeURIComponent(lfs[2]!)) : undefined;
      if (!file) {
        log.status = 404;
        res.writeHead(404).end();
        return;
      }
      return sendFile(req, res, file, path, log);
    }
    const plainMatch = /^\/plain\/([^/]+)\/(.+)$/.exec(path);
    const dir = plainMatch ? plain[plainMatch[1]!] : undefined;
    const file = dir ? fileFor(dir, plainMatch![2]!) : undefined;
    if (!file) {
      log.status = 404;
      res.writeHead(404).end();
      return;
    }
    return sendFile(req, res, file, path, log);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get faults() {
      return state.faults;
    },
    set faults(f) {
      state.faults = f;
    },
    get ranges() {
      return state.ranges;
    },
    set ranges(v) {
      state.ranges = v;
    },
    count: (suffix) => requests.filter((r) => r.path.endsWith(suffix)).length,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
