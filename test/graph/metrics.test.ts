import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_PROJECT_ID, startStack, type Stack } from "../helpers/stack.js";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

const scrape = async () => {
  const res = await fetch(stack.url.replace(/\/graphql$/, "/metrics"));
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return res.text();
};
/** The value of one sample line, by metric name and exact labels. */
const sample = (text: string, name: string, labels: Record<string, string>) => {
  const wanted = `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",")}}`;
  const line = text.split("\n").find((l) => l.startsWith(`${wanted} `));
  return line === undefined ? undefined : Number(line.slice(wanted.length + 1));
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
