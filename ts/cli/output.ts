/**
 * Writing results to stdout, and what to do when that fails. A reader that goes away (`| head -1`
 * closes the pipe: EPIPE) is not an error: the command stops quietly with exit code 0. Any other
 * write error (a full disk: ENOSPC, an I/O error) is reported in one line with exit code 3, so it
 * is never mistaken for a bad input line (exit code 1). Without a listener, Node would throw the
 * stream's 'error' event as an uncaught exception with a stack trace.
 */

/** The reader of the output went away: stop quietly. */
export class OutputClosed extends Error {}

/** Writing the output failed for another reason (disk full, I/O error). */
export class OutputFailed extends Error {}

/** Exit code for an output that could not be written. */
export const EXIT_WRITE_FAILED = 3;

function classify(e: NodeJS.ErrnoException): Error {
  if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return new OutputClosed(e.message);
  return new OutputFailed(`cannot write the output: ${e.code ? `${e.code}: ` : ''}${e.message.replace(/^\w+: /, '')}`);
}

/** A stream whose write errors become OutputClosed / OutputFailed rejections (and never crash the process). */
export class Output {
  private failure: Error | undefined;

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      this.failure ??= classify(e);
    });
  }

  /** Resolves once the text is handed to the system; rejects with OutputClosed / OutputFailed. */
  write(text: string | Uint8Array): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const fail = (e: unknown): void => {
        this.failure ??= classify(e as NodeJS.ErrnoException);
        reject(this.failure);
      };
      try {
        this.stream.write(text, (e) => (e ? fail(e) : resolve()));
      } catch (e) {
        fail(e);
      }
    });
  }
}
