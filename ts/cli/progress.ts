/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal (never into a pipe or
 * a log file), redrawn at most every 100 ms.
 */
export class ProgressBar {
  private readonly start = performance.now();
  private lastDraw = 0;
  private readonly enabled: boolean;

  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = stream.isTTY === true && total > 0;
  }

  update(done: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (done < this.total && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = 30;
    const filled = Math.round((done / this.total) * width);
    const seconds = (now - this.start) / 1000;
    const rate = done / Math.max(seconds, 1e-3);
    const eta = rate > 0 ? (this.total - done) / rate : 0;
    this.stream.write(
      `\r${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${this.total}  ${rate.toFixed(1)}/s  ETA ${eta.toFixed(0)}s `,
    );
  }

  finish(): void {
    if (this.enabled) this.stream.write('\n');
  }
}
