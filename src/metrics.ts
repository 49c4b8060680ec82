/**
 * Metrics for operators, in the Prometheus text format (`GET /metrics`), on prom-client: one registry per server
 * with the library's default process metrics (event-loop lag, heap, GC, handles, CPU) beside the service's own.
 * Labels carry names only (operation, vendor, command, outcome, loader), never ids or parameters, and every label
 * comes from a bounded set: the `operation` label is a known operation name or `other` (see `operationLabel`).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

type Labels = Record<string, string>;

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SIZES = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000];

/**
 * The operation names the `operation` label keeps: the documented operations (docs/operations, kept in step by
 * test/graph/metrics.test.ts). Deployments add their clients' names with `METRICS_OPERATIONS`.
 */
export const KNOWN_OPERATIONS = ["AccessEvents", "AccountCredentials", "BrowseProject", "GrantCard", "OpenDoor", "ResidenceDoors"] as const;

/** A `collect` hook that, at each scrape, replaces a metric's values with what `read` answers now. */
function scraped<M extends { reset(): void }>(read: () => { labels: Labels; value: number }[], put: (metric: M, labels: Labels, value: number) => void) {
  return function (this: M) {
    this.reset();
    for (const { labels, value } of read()) put(this, labels, value);
  };
}

/** The service's metrics. One registry per server. */
export class Metrics {
  readonly registry = new Registry();
  private readonly operations: Set<string>;
  readonly requestDuration: Histogram<"operation" | "outcome">;
  readonly vendorCalls: Counter<"vendor" | "command" | "outcome">;
  readonly vendorCallDuration: Histogram<"vendor" | "command">;
  readonly loaderBatchSize: Histogram<"loader">;
  readonly vendorBudgetWait: Histogram<"vendor" | "kind">;
  readonly webhookAttempts: Counter<"outcome">;
  readonly responseMemo: Counter<"outcome">;

  constructor(options: { operations?: readonly string[] } = {}) {
    this.operations = new Set([...KNOWN_OPERATIONS, ...(options.operations ?? [])]);
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // Durations all share the SECONDS buckets and this registry.
    const seconds = <L extends string>(name: string, help: string, labelNames: L[]) => new Histogram<L>({ name, help, labelNames, buckets: SECONDS, registers });
    this.requestDuration = seconds("graphql_request_duration_seconds", "GraphQL requests by operation name (known names; the rest `other`) and outcome.", ["operation", "outcome"]);
    this.vendorCalls = new Counter({
      name: "vendor_calls_total",
      help: "Vendor calls by vendor, command (Akubela command or Aliyun path) and outcome.",
      labelNames: ["vendor", "command", "outcome"],
      registers,
    });
    this.vendorCallDuration = seconds("vendor_call_duration_seconds", "Vendor call durations (all attempts) by vendor and command.", ["vendor", "command"]);
    this.loaderBatchSize = new Histogram({ name: "dataloader_batch_size", help: "Keys per DataLoader batch, by loader.", labelNames: ["loader"], buckets: SIZES, registers });
    this.vendorBudgetWait = seconds(
      "vendor_budget_wait_seconds",
      "How long vendor calls waited for the tenant's vendor budget (VENDOR_MAX_IN_FLIGHT, VENDOR_MAX_PER_SECOND), by vendor and kind (read, write).",
      ["vendor", "kind"],
    );
    this.responseMemo = new Counter({
      name: "graphql_response_memo_total",
      help: "Fully cached queries and the response memo (RESPONSE_MEMO_ENTRIES): hit (answered without executing), miss (executed), stored (kept).",
      labelNames: ["outcome"],
      registers,
    });
    this.webhookAttempts = new Counter({ name: "webhook_attempts_total", help: "Webhook delivery attempts by outcome (delivered: a 2xx; failed: anything else).", labelNames: ["outcome"], registers });
  }

  /** The `operation` label for a client-sent name: a known name as it is, no name `anonymous`, anything else `other`. */
  operationLabel(name: string | null | undefined): string {
    if (!name) return "anonymous";
    return this.operations.has(name) ? name : "other";
  }

  /** Adds a counter whose values are read at scrape time (the cache's hits, misses, errors). */
  collect(name: string, help: string, labelName: string, read: () => { labels: Labels; value: number }[]): void {
    new Counter({ name, help, labelNames: [labelName], registers: [this.registry], collect: scraped(read, (m, labels, value) => m.inc(labels, value)) });
  }

  /** Adds a gauge whose values are read at scrape time (the vendor budgets' queue lengths). */
  gauge(name: string, help: string, labelName: string, read: () => { labels: Labels; value: number }[]): void {
    new Gauge({ name, help, labelNames: [labelName], registers: [this.registry], collect: scraped(read, (m, labels, value) => m.set(labels, value)) });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
