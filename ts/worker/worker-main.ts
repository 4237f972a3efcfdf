/**
 * The worker side of worker mode: owns one Embedder and answers WorkerRequests. Runs as a module
 * Web Worker in browsers and as a worker_threads Worker in Node.
 */
import { createEmbedder, type Embedder } from '../embedder.js';
import { DualbertError } from '../errors.js';
import type { AnyEmbeddingResult, AnyEmbedOptions } from '../types.js';
import type { WorkerRequest, WorkerResponse } from './protocol.js';

interface Port {
  post(message: WorkerResponse, transfer?: Transferable[]): void;
  listen(handler: (message: WorkerRequest) => void): void;
  close(): void;
}

async function connect(): Promise<Port> {
  const scope = globalThis as unknown as {
    postMessage?: (m: unknown, t?: Transferable[]) => void;
    addEventListener?: (type: 'message', h: (e: MessageEvent) => void) => void;
    close?: () => void;
    document?: unknown;
  };
  if (typeof scope.postMessage === 'function' && typeof scope.addEventListener === 'function' && scope.document === undefined) {
    return {
      post: (m, t) => scope.postMessage!(m, t ?? []),
      listen: (h) => scope.addEventListener!('message', (e) => h(e.data as WorkerRequest)),
      close: () => scope.close?.(),
    };
  }
  const { parentPort } = await import('node:worker_threads');
  if (!parentPort) throw new Error('worker-main: not running in a worker');
  return {
    post: (m, t) => parentPort.postMessage(m, (t ?? []) as never),
    listen: (h) => parentPort.on('message', h),
    close: () => parentPort.close(),
  };
}

function serializeError(e: unknown): { name: string; code?: string; message: string } {
  if (e instanceof DualbertError) return { name: e.name, code: e.code, message: e.message };
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

void connect().then((port) => {
  let embedder: Embedder | undefined;
  port.listen((request) => {
    const reply = async (): Promise<void> => {
      switch (request.type) {
        case 'create': {
          embedder = await createEmbedder(request.model, {
            ...request.options,
            progress_callback: (event) => port.post({ id: request.id, type: 'progress', event }),
            onWarning: (warning) => port.post({ id: 0, type: 'warning', warning }),
          });
          port.post({
            id: request.id,
            type: 'created',
            device: embedder.device,
            threads: embedder.threads,
            dimension: embedder.dimension,
            defaults: embedder.defaults,
          });
          return;
        }
        case 'embed': {
          if (!embedder) throw new DualbertError('DISPOSED', 'worker: no embedder (create failed or disposed)');
          const result = await (embedder.embed as (t: string[], o: AnyEmbedOptions) => Promise<AnyEmbeddingResult>)(request.texts, request.options);
          const transfer: Transferable[] = [result.data.buffer as ArrayBuffer];
          if ('attentionMask' in result) transfer.push(result.attentionMask.buffer as ArrayBuffer);
          port.post({ id: request.id, type: 'embedded', result, device: embedder.device }, transfer);
          return;
        }
        case 'stats':
          if (!embedder) throw new DualbertError('DISPOSED', 'worker: no embedder (create failed or disposed)');
          port.post({ id: request.id, type: 'stats', stats: embedder.stats() });
          return;
        case 'dispose':
          embedder?.dispose();
          embedder = undefined;
          port.post({ id: request.id, type: 'disposed' });
          port.close();
          return;
      }
    };
    reply().catch((e: unknown) => port.post({ id: request.id, type: 'error', error: serializeError(e) }));
  });
});
