#!/usr/bin/env node
// The parity/benchmark dashboard: builds what the page needs (dist/, the browser bundles) when it
// is missing, then serves the repository root on localhost with COOP/COEP (cross-origin
// isolation, so wasm threads work) and prints the page's URL.
//
//   npm run dashboard                      http://localhost:8787/bench/dashboard/
//   options: --port N (default 8787; 0 = any free port)  --host H (default 127.0.0.1)  --no-build
//
// The page imports /dist/browser/dualbert.js, /node_modules/onnxruntime-web/dist/ort.all.min.mjs,
// /bench/onnx/bert-onnx.mjs and the golden vectors under /test/fixtures/golden/.
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const DASHBOARD_PATH = 'bench/dashboard/';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'application/jsonl; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
};

/** Newest mtime (ms) of a file or of the files below a directory. */
function newest(path) {
  const st = statSync(path);
  return st.isDirectory() ? Math.max(0, ...readdirSync(path).map((e) => newest(join(path, e)))) : st.mtimeMs;
}

/** Builds dist/ and the browser bundles when they are missing or older than ts/ (a fresh clone's `npm install` builds both). */
export function ensureBuilt({ log = console.log } = {}) {
  const npm = (script) => execFileSync('npm', ['run', script, '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (!existsSync(resolve(ROOT, 'build/dualbert-simd.wasm'))) {
    log('[dashboard] building the wasm modules');
    npm('build:wasm');
  }
  const bundle = resolve(ROOT, 'dist/browser/dualbert.js');
  const stale = existsSync(bundle) && newest(resolve(ROOT, 'ts')) > statSync(bundle).mtimeMs;
  if (!existsSync(resolve(ROOT, 'dist/index.js')) || stale) {
    log(`[dashboard] building dist/${stale ? ' (ts/ is newer than the bundle)' : ''}`);
    npm('build:ts');
  }
  if (!existsSync(bundle)) {
    log('[dashboard] building the browser bundles');
    npm('build:bundles');
  }
}

/**
 * Serves the repository root (read-only, GET/HEAD) with cross-origin isolation headers.
 * @param {{ port?: number, host?: string }} [options]
 * @returns {Promise<{ url: string, dashboardUrl: string, port: number, close(): Promise<void> }>}
 */
export async function startDashboardServer({ port = 8787, host = '127.0.0.1' } = {}) {
  const root = resolve(ROOT);
  const handle = async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return void res.writeHead(400).end();
    }
    if (pathname === '/') return void res.writeHead(302, { Location: `/${DASHBOARD_PATH}` }).end();
    if (pathname.endsWith('/')) pathname += 'index.html';
    const file = resolve(root, `.${pathname}`);
    if (!file.startsWith(root.endsWith(sep) ? root : root + sep)) return void res.writeHead(403).end();
    const st = await stat(file).catch(() => null);
    if (!st?.isFile()) return void res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
    res.writeHead(200, { 'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream', 'Content-Length': st.size });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => ok());
  });
  const actual = server.address().port;
  const url = `http://${host === '127.0.0.1' ? 'localhost' : host}:${actual}/`;
  return {
    url,
    dashboardUrl: `${url}${DASHBOARD_PATH}`,
    port: actual,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '8787' }, host: { type: 'string', default: '127.0.0.1' }, 'no-build': { type: 'boolean', default: false } },
  });
  if (!values['no-build']) ensureBuilt();
  const s = await startDashboardServer({ port: Number(values.port), host: values.host });
  console.log(`dualbert dashboard: ${s.dashboardUrl}  (cross-origin isolated; Ctrl+C to stop)`);
}
