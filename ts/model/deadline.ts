/**
 * Bounds on one network request: a watchdog that aborts it when the server stays silent too long
 * (no answer, or no bytes of the body), linked to the caller's AbortSignal. Without it, fetch
 * waits for the platform's own limits (Node: 300 s for headers, 300 s between body bytes), so a
 * server that accepts the connection and never answers would hold a load for many minutes.
 */
import { DualbertError } from '../errors.js';

/** Default milliseconds a request may wait for the answer, then for each next piece of the body. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * One request's abort controller: aborted when the caller's signal aborts, or when `touch()` was
 * not called for `timeoutMs`. Always `dispose()` it (clears the timer, unlinks the caller's signal).
 */
export class Watchdog {
  readonly signal: AbortSignal;
  /** True once the watchdog (not the caller) aborted the request. */
  timedOut = false;
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onCallerAbort: () => void;

  constructor(
    private readonly timeoutMs: number,
    private readonly caller: AbortSignal | undefined,
  ) {
    this.signal = this.controller.signal;
    this.onCallerAbort = () => this.controller.abort(caller?.reason);
    if (caller?.aborted) this.controller.abort(caller.reason);
    else caller?.addEventListener('abort', this.onCallerAbort, { once: true });
    this.touch();
  }

  /** Restarts the silence timer (call on every piece of data). */
  touch(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new DualbertError('NETWORK_ERROR', `no data for ${this.timeoutMs} ms`));
    }, this.timeoutMs);
  }

  /** Stops the timer and aborts whatever of the request is still open (a no-op once it finished). */
  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.caller?.removeEventListener('abort', this.onCallerAbort);
    if (!this.signal.aborted) this.controller.abort(new DualbertError('NETWORK_ERROR', 'request released'));
  }
}

/** Checks the `signal` and `timeout` options of a load; throws INVALID_ARGUMENT naming the bad one. */
export function checkRequestOptions(options: { signal?: unknown; timeout?: unknown }): void {
  const { signal, timeout } = options;
  if (signal !== undefined && !isAbortSignal(signal)) {
    throw new DualbertError('INVALID_ARGUMENT', `signal must be an AbortSignal, got ${describe(signal)}`);
  }
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout > 0 && timeout <= 2 ** 31 - 1)) {
    throw new DualbertError('INVALID_ARGUMENT', `timeout must be a positive number of milliseconds (at most 2^31 − 1), got ${describe(timeout)}`);
  }
}

/** An AbortSignal, or anything that behaves as one (signals of another realm, polyfills). */
export function isAbortSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function' &&
    typeof (value as AbortSignal).removeEventListener === 'function'
  );
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return typeof value;
}

/**
 * The reason behind fetch's bare "fetch failed": the system error (ECONNREFUSED, ENOTFOUND,
 * certificate problems...) that Node keeps in `cause`, possibly an AggregateError of several.
 */
export function describeFetchError(e: unknown): string {
  const parts: string[] = [(e as Error)?.message ?? String(e)];
  let cause = (e as { cause?: unknown })?.cause;
  for (let depth = 0; cause && depth < 3; depth++) {
    const c = cause as { code?: unknown; message?: unknown; errors?: unknown[]; cause?: unknown };
    const inner = Array.isArray(c.errors) && c.errors.length ? c.errors : [c];
    const text = inner
      .map((x) => {
        const { code, message } = x as { code?: unknown; message?: unknown };
        const m = typeof message === 'string' ? message : '';
        return typeof code === 'string' && !m.includes(code) ? `${code} ${m}`.trim() : m;
      })
      .filter((t) => t && !parts.includes(t));
    if (text.length) parts.push([...new Set(text)].join('; '));
    cause = c.cause;
  }
  return parts.join(': ');
}
