/**
 * Worker threads for the wasm backend: N − 1 workers instantiate the same compiled module over
 * the same shared memory; the calling thread is thread 0. A job is started by writing its
 * arguments into the control block and publishing a new generation in GEN; every thread runs
 * `runJob(ctrl, tid, gen)`, claiming tasks tagged with that generation, and the job is over when
 * FINISHED counts all of its tasks. The calling thread never waits for a worker that has not
 * woken up yet: on a busy machine (or a browser with other tabs) a descheduled worker simply
 * takes no part in that job (assembly/layout.ts).
 *
 * Workers start from a self-contained source string (worker_threads `eval` in Node, a Blob URL
 * in browsers), so the same code works from TypeScript sources under vitest, from the compiled
 * dist/, and from bundles. Workers never allocate: all their memory is the host's.
 */
import { isNode } from '../../env.js';
import { CTRL } from './abi.js';

/** Iterations a waiting thread polls before it sleeps (Atomics.wait): jobs come back to back within a batch. */
const SPIN = 20_000;
/** The TASK word between jobs: tag 0xffff (no generation uses it), no index left to claim. */
const CLOSED = -1;
/** How long to wait for workers to instantiate before giving up on threads. */
const START_TIMEOUT_MS = 30_000;

/** What a worker's ERR word can say (index + 2; 1 is unused, so any non-zero value is a failure). */
const WORKER_FAILURES: { pattern: RegExp; text: string }[] = [
  { pattern: /out of bounds/i, text: 'a memory access out of bounds' },
  { pattern: /divi(de|sion) by zero|integer overflow/i, text: 'an integer division trap' },
  { pattern: /unreachable/i, text: 'an unreachable instruction (a kernel assertion)' },
  { pattern: /stack/i, text: 'a stack overflow' },
  { pattern: /memory/i, text: 'out of memory' },
];

/** The sentence for an ERR word set by a worker. */
function workerFailure(err: number): string {
  return WORKER_FAILURES[err - 2]?.text ?? 'an unexpected exception';
}

// The worker: one message {module, memory, ctrl, tid, spin}, then the job loop until QUIT.
// Words of the control block as Int32Array indices: GEN 0, QUIT 2, ERR 3, FINISHED 18.
const WORKER_SOURCE = `'use strict';
(async () => {
  const isNode = typeof process === 'object' && process.versions != null && typeof process.versions.node === 'string';
  // import(), not require(): eval'd worker code is CommonJS or ESM depending on the parent's flags.
  const port = isNode ? (await import('node:worker_threads')).parentPort : self;
  const start = async (msg) => {
    try {
      const { module, memory, ctrl, tid, spin } = msg;
      const instance = await WebAssembly.instantiate(module, { env: { memory } });
      const runJob = instance.exports.runJob;
      const w = new Int32Array(memory.buffer, ctrl, 32);
      let seen = Atomics.load(w, 0);
      port.postMessage({ ready: true });
      for (;;) {
        let spins = 0;
        while (Atomics.load(w, 0) === seen) {
          // A bounded wait: a thread blocked in Atomics.wait cannot be terminated, and an
          // embedder that is never disposed must not keep its process from exiting.
          if (++spins > spin) { Atomics.wait(w, 0, seen, 100); spins = 0; }
        }
        seen = Atomics.load(w, 0);
        if (Atomics.load(w, 2) !== 0) break;
        try { runJob(ctrl, tid, seen); } catch (e) {
          // The ERR word says what went wrong (the host cannot receive a message mid-job).
          const m = String((e && e.message) || e);
          const kind = ${JSON.stringify(WORKER_FAILURES.map((f) => f.pattern.source))}.findIndex((p) => new RegExp(p, 'i').test(m));
          Atomics.store(w, 3, kind + 2); Atomics.notify(w, 18);
        }
      }
    } catch (e) {
      port.postMessage({ error: String((e && e.message) || e) });
    }
    if (!isNode) self.close();
  };
  if (isNode) port.once('message', start); else self.onmessage = (e) => { self.onmessage = null; start(e.data); };
})();
`;

interface WorkerHandle {
  terminate(): void;
}


/** Starts one worker and resolves when its instance is ready. */
async function startWorker(init: { module: WebAssembly.Module; memory: WebAssembly.Memory; ctrl: number; tid: number; spin: number }): Promise<WorkerHandle> {
  if (isNode) {
    const { Worker } = await import('node:worker_threads');
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    await handshake(
      (onMessage, onError) => {
        worker.on('message', onMessage);
        worker.on('error', onError);
      },
      () => worker.postMessage(init),
      () => void worker.terminate(),
    );
    // An embedder that is never disposed must not keep the process alive. Listeners re-ref
    // the worker's port, so they go first.
    worker.removeAllListeners('message');
    worker.removeAllListeners('error');
    worker.on('error', () => undefined); // a dying worker is reported by the job's ERR word, not as an uncaught error
    worker.unref();
    return { terminate: () => void worker.terminate() };
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  try {
    const worker = new Worker(url);
    await handshake(
      (onMessage, onError) => {
        worker.onmessage = (e: MessageEvent) => onMessage(e.data);
        worker.onerror = (e: ErrorEvent) => onError(new Error(e.message));
      },
      () => worker.postMessage(init),
      () => worker.terminate(),
    );
    return { terminate: () => worker.terminate() };
  } finally {
    URL.revokeObjectURL(url);
  }
}

function handshake(
  listen: (onMessage: (m: unknown) => void, onError: (e: unknown) => void) => void,
  send: () => void,
  kill: () => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`worker did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    const fail = (e: unknown): void => {
      clearTimeout(timer);
      kill();
      reject(e instanceof Error ? e : new Error(String(e)));
    };
    listen((m) => {
      const msg = m as { ready?: boolean; error?: string };
      if (msg.ready) {
        clearTimeout(timer);
        resolve();
      } else if (msg.error) fail(new Error(msg.error));
    }, fail);
    send();
  });
}

/**
 * The calling thread plus N − 1 workers over one shared memory.
 * `run()` is synchronous: it returns when every thread has finished the job.
 */
export class ThreadPool {
  private readonly words: Int32Array;
  /** Whether this thread may block in Atomics.wait (not a browser's main thread). */
  private readonly canBlock: boolean;
  private disposed = false;

  private constructor(
    memory: WebAssembly.Memory,
    ctrl: number,
    private readonly workers: WorkerHandle[],
  ) {
    this.words = new Int32Array(memory.buffer, ctrl, CTRL.BYTES / 4);
    Atomics.store(this.words, CTRL.TASK / 4, CLOSED);
    let canBlock = true;
    try {
      Atomics.wait(this.words, CTRL.QUIT / 4, 1, 0); // QUIT is 0: returns "not-equal" where waiting is allowed
    } catch {
      canBlock = false;
    }
    this.canBlock = canBlock;
  }

  /**
   * Starts `threads − 1` workers. Returns undefined when they cannot be started (no Worker,
   * an engine that refuses the module or the memory): the caller then computes alone.
   */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, ctrl: number, threads: number): Promise<ThreadPool | undefined> {
    const started = await Promise.allSettled(
      Array.from({ length: threads - 1 }, (_, i) => startWorker({ module, memory, ctrl, tid: i + 1, spin: SPIN })),
    );
    const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    if (workers.length !== threads - 1) {
      for (const w of workers) w.terminate();
      return undefined;
    }
    return new ThreadPool(memory, ctrl, workers);
  }

  /** Threads computing, the calling one included. */
  get size(): number {
    return this.workers.length + 1;
  }

  /**
   * Runs the job whose arguments are already in the control block (with `tasks` tasks) on every
   * thread; `self` is the calling thread's share (runJob(ctrl, 0, gen)). Returns when all tasks
   * are finished. Throws when a worker's share failed; the pool is then stopped.
   */
  run(tasks: number, self: (gen: number) => void): void {
    if (this.disposed) throw new Error('wasm worker threads were stopped');
    const w = this.words;
    let gen = (Atomics.load(w, CTRL.GEN / 4) + 1) | 0;
    if ((gen & 0xffff) === 0xffff) gen = (gen + 1) | 0; // tag 0xffff is CLOSED's
    Atomics.store(w, CTRL.FINISHED / 4, 0);
    Atomics.store(w, CTRL.ERR / 4, 0);
    Atomics.store(w, CTRL.TASKS / 4, tasks);
    Atomics.store(w, CTRL.TASK / 4, (gen & 0xffff) << 16);
    Atomics.store(w, CTRL.GEN / 4, gen);
    if (tasks > 1) Atomics.notify(w, CTRL.GEN / 4);
    try {
      self(gen);
    } catch (e) {
      this.dispose(); // its unfinished task would keep the job open forever
      throw e;
    }
    let spins = 0;
    for (let done = Atomics.load(w, CTRL.FINISHED / 4); done < tasks; done = Atomics.load(w, CTRL.FINISHED / 4)) {
      if (Atomics.load(w, CTRL.ERR / 4) !== 0) {
        const err = Atomics.load(w, CTRL.ERR / 4);
        this.dispose();
        throw new Error(`a wasm worker thread failed while running its share of a job: ${workerFailure(err)}`);
      }
      if (++spins > SPIN && this.canBlock) {
        Atomics.wait(w, CTRL.FINISHED / 4, done, 5);
        spins = 0;
      }
    }
    // Close the job before the caller writes the next one's arguments: a worker that woke up
    // late with this generation must not claim anything once they change.
    Atomics.store(w, CTRL.TASK / 4, CLOSED);
  }

  /** Stops the workers (they leave their loop, then are terminated). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const w = this.words;
    Atomics.store(w, CTRL.QUIT / 4, 1);
    Atomics.add(w, CTRL.GEN / 4, 1);
    Atomics.notify(w, CTRL.GEN / 4);
    for (const worker of this.workers) worker.terminate();
  }
}
