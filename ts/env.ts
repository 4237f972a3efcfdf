/**
 * The one place that asks what runs us: Node or a browser (or a worker), and how many cores.
 */

/** True in Node (and in Node's worker threads). */
export const isNode: boolean = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** Which kind of JavaScript environment this is. */
export function environmentKind(): 'node' | 'browser' | 'worker' | 'other' {
  if (isNode) return 'node';
  const g = globalThis as { window?: unknown; importScripts?: unknown };
  if (typeof g.window !== 'undefined') return 'browser';
  if (typeof g.importScripts === 'function') return 'worker';
  return 'other';
}

/** Logical cores the platform reports (navigator.hardwareConcurrency, or Node's os module); 1 when unknown. */
export async function availableCores(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav?.hardwareConcurrency) return nav.hardwareConcurrency;
  if (isNode) {
    const os = await import('node:os');
    return os.availableParallelism?.() ?? os.cpus().length;
  }
  return 1;
}
