/**
 * Prometheus metrics in the text exposition format (version 0.0.4): counters, gauges and
 * histograms with labels, rendered on GET /metrics. Small on purpose: no client library needed.
 */

type Labels = Readonly<Record<string, string>>;

const labelKey = (labels: Labels): string =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]!.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');

const sample = (name: string, key: string, value: number): string => `${name}${key ? `{${key}}` : ''} ${formatValue(value)}`;

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

interface Metric {
  render(): string[];
}

/** A monotonically increasing count. */
export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    private readonly name: string,
    private readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  /** The current value for these labels (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(sample(this.name, '', 0));
    for (const [key, v] of this.values) lines.push(sample(this.name, key, v));
    return lines;
  }
}

/** A value read when scraped. */
export class Gauge implements Metric {
  constructor(
    private readonly name: string,
    private readonly help: string,
    private readonly read: () => number,
  ) {}

  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, sample(this.name, '', this.read())];
  }
}

/** Observations counted into cumulative buckets, with their sum and count. */
export class Histogram implements Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    private readonly name: string,
    private readonly help: string,
    private readonly buckets: readonly number[],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    const series = this.series.size ? this.series : new Map([['', { counts: this.buckets.map(() => 0), sum: 0, count: 0 }]]);
    for (const [key, s] of series) {
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += s.counts[i]!;
        lines.push(sample(`${this.name}_bucket`, key ? `${key},le="${b}"` : `le="${b}"`, cumulative));
      });
      lines.push(sample(`${this.name}_bucket`, key ? `${key},le="+Inf"` : 'le="+Inf"', s.count));
      lines.push(sample(`${this.name}_sum`, key, s.sum), sample(`${this.name}_count`, key, s.count));
    }
    return lines;
  }
}

/** Tokens per second over a sliding window of recent passes. */
export class RateWindow {
  private events: { at: number; tokens: number }[] = [];
  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  add(tokens: number): void {
    this.events.push({ at: this.now(), tokens });
    this.prune();
  }

  /** Tokens per second over the window (0 when nothing ran in it). */
  perSecond(): number {
    this.prune();
    const total = this.events.reduce((s, e) => s + e.tokens, 0);
    return total / (this.windowMs / 1000);
  }

  private prune(): void {
    const cutoff = this.now() - this.windowMs;
    let i = 0;
    while (i < this.events.length && this.events[i]!.at < cutoff) i++;
    if (i) this.events = this.events.slice(i);
  }
}

/** A set of metrics rendered together. */
export class Registry {
  private readonly metrics: Metric[] = [];

  add<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }

  /** The exposition text (Content-Type `text/plain; version=0.0.4`). */
  render(): string {
    return `${this.metrics.flatMap((m) => m.render()).join('\n')}\n`;
  }
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
const TOKEN_BUCKETS = [16, 64, 256, 1024, 2048, 4096, 8192, 16384, 32768, 65536];

/** The server's metrics. `queueDepth` and `inflight` are read when scraped. */
export function serverMetrics(read: { queueDepth: () => number; queuedTokens: () => number; inflight: () => number }) {
  const registry = new Registry();
  const rate = new RateWindow(10_000);
  return {
    registry,
    rate,
    requests: registry.add(new Counter('dualbert_requests_total', 'HTTP requests answered, by route and status code.')),
    requestSeconds: registry.add(new Histogram('dualbert_request_duration_seconds', 'Time from request to response, by route.', LATENCY_BUCKETS)),
    queueSeconds: registry.add(new Histogram('dualbert_queue_wait_seconds', 'Time an input waited in the queue before its pass started.', LATENCY_BUCKETS)),
    passSeconds: registry.add(new Histogram('dualbert_batch_duration_seconds', 'Wall time of one forward pass.', LATENCY_BUCKETS)),
    batchSize: registry.add(new Histogram('dualbert_batch_size', 'Inputs per forward pass.', SIZE_BUCKETS)),
    batchTokens: registry.add(new Histogram('dualbert_batch_tokens', 'Padded tokens (inputs x longest) per forward pass.', TOKEN_BUCKETS)),
    inputs: registry.add(new Counter('dualbert_inputs_total', 'Inputs computed, by kind (embed, rerank).')),
    tokens: registry.add(new Counter('dualbert_tokens_total', 'Real tokens computed (special tokens included, padding not).')),
    rejected: registry.add(new Counter('dualbert_rejected_total', 'Requests refused or abandoned, by reason (queue_full, timeout, too_large, unauthorized, client_closed, draining).')),
    queueDepth: registry.add(new Gauge('dualbert_queue_depth', 'Inputs waiting for a forward pass.', read.queueDepth)),
    queueTokens: registry.add(new Gauge('dualbert_queue_tokens', 'Tokens of the inputs waiting for a forward pass.', read.queuedTokens)),
    inflight: registry.add(new Gauge('dualbert_inflight_requests', 'Requests being handled.', read.inflight)),
    tokensPerSecond: registry.add(new Gauge('dualbert_tokens_per_second', 'Tokens computed per second over the last 10 s.', () => rate.perSecond())),
  };
}

/** The metrics object of {@link serverMetrics}. */
export type ServerMetrics = ReturnType<typeof serverMetrics>;
