/**
 * Metrics for operators, in the Prometheus text format (`GET /metrics`): a small registry of counters and
 * histograms with labels, written out at scrape time. Labels carry names only (operation, vendor, command,
 * outcome, loader), never ids or parameters, so their number stays bounded and nothing sensitive is exposed.
 */

type Labels = Record<string, string>;

const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const labelText = (labels: Labels) => {
  const entries = Object.entries(labels);
  return entries.length ? `{${entries.map(([k, v]) => `${k}="${escape(v)}"`).join(",")}}` : "";
};
const key = (labels: Labels) => JSON.stringify(Object.entries(labels).sort());

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  abstract render(): string[];
}

export class Counter extends Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    const entry = this.values.get(k) ?? { labels, value: 0 };
    entry.value += by;
    this.values.set(k, entry);
  }
  get(labels: Labels = {}): number {
    return this.values.get(key(labels))?.value ?? 0;
  }
  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`, ...[...this.values.values()].map((e) => `${this.name}${labelText(e.labels)} ${e.value}`)];
  }
}

/** A value read at scrape time (counters kept elsewhere, e.g. the cache's). */
export class CollectedCounter extends Metric {
  constructor(
    name: string,
    help: string,
    private readonly collect: () => { labels: Labels; value: number }[],
  ) {
    super(name, help);
  }
  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`, ...this.collect().map((e) => `${this.name}${labelText(e.labels)} ${e.value}`)];
  }
}

export class Histogram extends Metric {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    name: string,
    help: string,
    private readonly buckets: number[],
  ) {
    super(name, help);
  }
  observe(labels: Labels, value: number): void {
    const k = key(labels);
    const s = this.series.get(k) ?? { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
    this.buckets.forEach((b, i) => {
      if (value <= b) s.counts[i]++;
    });
    s.sum += value;
    s.count++;
    this.series.set(k, s);
  }
  count(labels: Labels): number {
    return this.series.get(key(labels))?.count ?? 0;
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: "+Inf" })} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${+s.sum.toFixed(6)}`);
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines;
  }
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SIZES = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000];

/** The service's metrics. One registry per server. */
export class Metrics {
  readonly requestDuration = new Histogram("graphql_request_duration_seconds", "GraphQL requests by operation name and outcome.", SECONDS);
  readonly vendorCalls = new Counter("vendor_calls_total", "Vendor calls by vendor, command (Akubela command or Aliyun path) and outcome.");
  readonly vendorCallDuration = new Histogram("vendor_call_duration_seconds", "Vendor call durations (all attempts) by vendor and command.", SECONDS);
  readonly loaderBatchSize = new Histogram("dataloader_batch_size", "Keys per DataLoader batch, by loader.", SIZES);
  private readonly collected: Metric[] = [];

  /** Adds counters read at scrape time (the cache's hits, misses, errors). */
  collect(metric: CollectedCounter): void {
    this.collected.push(metric);
  }

  render(): string {
    return [this.requestDuration, this.vendorCalls, this.vendorCallDuration, this.loaderBatchSize, ...this.collected].flatMap((m) => m.render()).join("\n") + "\n";
  }
}
