import { readdir, readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KNOWN_OPERATIONS } from "../../src/metrics.js";
import { DEMO_PROJECT_ID, startStack, useStack, type Stack } from "../helpers/stack.js";

const METRICS_TOKEN = "metrics-test-token-3f9a";
// "Dashboard" is a deployment's own operation name, added to the label's allow-list.
const stack = useStack({ env: { METRICS_OPERATIONS: "Dashboard", METRICS_TOKEN, RATE_LIMIT_PER_MINUTE: "100000" } });

const metricsUrl = () => stack.url.replace(/\/graphql$/, "/metrics");
const scrape = async () => {
  const res = await fetch(metricsUrl(), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return res.text();
};
/** Sample lines (not HELP/TYPE comments): one per series. */
const series = (text: string) => text.split("\n").filter((l) => l && !l.startsWith("#"));
/** The value of one sample line, by metric name and exact labels. */
const sample = (text: string, name: string, labels: Record<string, string>) => {
  // prom-client writes labels in its own order (`le` first): compare them as a set.
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(",");
  for (const line of text.split("\n")) {
    const m = /^([a-z_:]+)\{(.*)\} (\S+)$/.exec(line);
    if (m && m[1] === name && m[2].split(/,(?=[a-z_]+=")/).sort().join(",") === wanted) return Number(m[3]);
  }
  return undefined;
};

describe("/metrics", () => {
  it("counts the vendor calls of a known query, its duration by operation, loader batches and cache lookups", async () => {
    const res = await stack.gql(
      `query Dashboard($p: ID!) { project(projectId: $p) { buildings { residences { accounts { credentials { pinCodes { pinCodeId } } } devices { mac } } } } }`,
      { p: DEMO_PROJECT_ID },
    );
    expect(res.errors).toBeUndefined();
    const project = stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
    const accounts = project.accounts.size;
    const residences = new Set([...project.accounts.values()].map((a) => a.residence_id)).size;
    const text = await scrape();
    const calls = (command: string) => sample(text, "vendor_calls_total", { vendor: "akubela", command, outcome: "success" });
    expect(calls("get_user_list")).toBe(Math.floor(accounts / 100) + 1);
    expect(calls("get_user_access_info")).toBe(accounts);
    expect(calls("get_akuvox_device_list")).toBe(residences);
    expect(calls("get_visitor_temp_key_device_list")).toBe(1);
    expect(sample(text, "vendor_call_duration_seconds_count", { vendor: "akubela", command: "get_user_access_info" })).toBe(accounts);
    expect(sample(text, "graphql_request_duration_seconds_count", { operation: "Dashboard", outcome: "ok" })).toBe(1);
    expect(sample(text, "graphql_request_duration_seconds_bucket", { operation: "Dashboard", outcome: "ok", le: "+Inf" })).toBe(1);
    // The accounts' credentials were asked in one batch of `accounts` keys.
    expect(sample(text, "dataloader_batch_size_bucket", { loader: "akubela.reads", le: "1000" })).toBeGreaterThan(0);
    expect(sample(text, "dataloader_batch_size_sum", { loader: "akubela.reads" })).toBeGreaterThanOrEqual(accounts + residences);
    for (const result of ["hits", "misses", "errors"]) expect(sample(text, "cache_operations_total", { result })).toBeGreaterThanOrEqual(0);
    expect(text).toContain("# TYPE vendor_calls_total counter");
  });

  it("counts failures by outcome", async () => {
    const r = [...stack.sim.state.projects.get(DEMO_PROJECT_ID)!.accounts.values()][3].residence_id;
    stack.sim.injectFault({ kind: "vendor_error", command: "get_akuvox_call_history", times: 1 });
    await stack.gql(`query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { callHistory { totalCount } } }`, { p: DEMO_PROJECT_ID, r });
    expect(sample(await scrape(), "vendor_calls_total", { vendor: "akubela", command: "get_akuvox_call_history", outcome: "vendor_error" })).toBe(1);
  });
});

describe("/metrics: bounded and guarded", () => {
  it("keeps 1,000 random operation names out of the label: they add no series, and count as `other`", async () => {
    await stack.gql(`query Warmup { __typename }`);
    const before = series(await scrape());
    const names = Array.from({ length: 1000 }, (_, i) => `Op${i}_${Math.random().toString(36).slice(2, 10)}`);
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((n) => stack.gql(`query ${n} { __typename }`)));
    }
    const text = await scrape();
    const after = series(text);
    const labelled = (lines: string[]) => lines.filter((l) => l.startsWith("graphql_request_duration_seconds")).map((l) => l.replace(/ .*$/, ""));
    // The same request series before and after (values move, names do not).
    expect(labelled(after).sort()).toEqual(labelled(before).sort());
    // The service's own series, all metrics (the default process metrics come and go with GC kinds and handle
    // types, whatever clients send).
    const own = (lines: string[]) => lines.filter((l) => !/^(nodejs|process)_/.test(l)).length;
    expect(own(after)).toBe(own(before));
    for (const n of names.slice(0, 20)) expect(text).not.toContain(n);
    expect(sample(text, "graphql_request_duration_seconds_count", { operation: "other", outcome: "ok" })).toBeGreaterThanOrEqual(1001);
    // __typename reaches no vendor.
    expect(stack.vendorCalls.filter((c) => c.command === "__typename")).toEqual([]);
  });

  it("includes the default process metrics: event-loop lag, heap, GC", async () => {
    const text = await scrape();
    for (const name of ["nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes", "nodejs_gc_duration_seconds", "process_resident_memory_bytes"]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it("refuses a scrape without the token, or with another one, and does not echo it", async () => {
    for (const headers of [{}, { authorization: "Bearer wrong" }, { authorization: METRICS_TOKEN }] as Record<string, string>[]) {
      const res = await fetch(metricsUrl(), { headers });
      expect(res.status).toBe(401);
      const body = await res.text();
      expect(body).toContain("METRICS_TOKEN");
      expect(body).not.toContain(METRICS_TOKEN);
      expect(body).not.toContain("vendor_calls_total");
    }
  });

  it("knows the documented operations (docs/operations) by name", async () => {
    const dir = new URL("../../docs/operations/", import.meta.url);
    const names: string[] = [];
    for (const file of await readdir(dir)) {
      const text = await readFile(new URL(file, dir), "utf8");
      names.push(...[...text.matchAll(/^(?:query|mutation|subscription)\s+([A-Za-z_][A-Za-z0-9_]*)/gm)].map((m) => m[1]));
    }
    expect([...KNOWN_OPERATIONS].sort()).toEqual([...new Set(names)].sort());
  });
});

describe("/metrics on its own port (METRICS_PORT)", () => {
  let own: Stack;
  beforeAll(async () => {
    own = await startStack({ env: { METRICS_PORT: "0" }, shareSimulatorsWith: stack });
  });
  afterAll(() => own?.close());

  it("serves metrics there and not on the API port", async () => {
    const url = own.app.server.metricsUrl!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(url).not.toContain(new URL(own.url).port);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("# TYPE vendor_calls_total counter");
    expect((await fetch(own.url.replace(/\/graphql$/, "/metrics"))).status).toBe(404);
    expect((await fetch(url.replace(/\/metrics$/, "/graphql"))).status).toBe(404);
  });
});
