import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { startTracing, stopTracing } from "../../src/tracing.js";
import type { Stack } from "../helpers/stack.js";

// Tracing starts before the service's modules are loaded (as src/instrument.ts does with `node --import`): the HTTP
// and GraphQL instrumentations patch `http` and `graphql` as they are required.
const exporter = new InMemorySpanExporter();
startTracing({ env: {}, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const { DEMO_PROJECT_ID, startStack } = await import("../helpers/stack.js");

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack.close();
  await stopTracing();
});

const spanId = (s: ReadableSpan) => s.spanContext().spanId;
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe("OpenTelemetry: one trace from the caller's request to the vendors", () => {
  it("a GraphQL query: an HTTP server span, GraphQL spans, a child span per vendor call; the vendor gets the traceparent", async () => {
    stack.sim.clearReceived();
    stack.aliyun.clearReceived?.();
    exporter.reset();
    const res = await stack.gql(`query($p: ID!) { accountsReport(projectId: $p, first: 3) { nodes { accountId } } }`, { p: DEMO_PROJECT_ID });
    expect(res.errors).toBeUndefined();
    expect(res.data.accountsReport.nodes).toHaveLength(3);

    const spans = exporter.getFinishedSpans();
    // The simulators run in this process too: the graph's server span is the one of POST /graphql.
    const servers = spans.filter((s) => s.instrumentationScope.name === "@opentelemetry/instrumentation-http" && s.kind === 1 /* SERVER */);
    const server = servers.find((s) => String(s.attributes["http.target"] ?? s.attributes["url.path"]).startsWith("/graphql"));
    expect(server).toBeDefined();
    const traceId = server!.spanContext().traceId;
    const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);
    const graphql = inTrace.filter((s) => s.instrumentationScope.name === "@opentelemetry/instrumentation-graphql");
    expect(graphql.map((s) => s.name)).toEqual(expect.arrayContaining(["graphql.parse", "graphql.validate"]));
    const execute = graphql.find((s) => s.name.startsWith("query"));
    expect(execute).toBeDefined();

    const vendor = inTrace.filter((s) => s.instrumentationScope.name === "access-control-graph");
    expect(vendor.length).toBeGreaterThan(0);
    const pages = stack.sim.calls("get_user_list");
    expect(vendor.filter((s) => s.attributes["vendor.command"] === "get_user_list")).toHaveLength(pages.length);
    for (const span of vendor) {
      expect(span.kind).toBe(2); // CLIENT
      expect(span.attributes).toMatchObject({ vendor: "akubela", "vendor.command": "get_user_list", "vendor.outcome": "success", "http.response.status_code": 200, "vendor.attempts": 1 });
      // Inside the GraphQL execution (its resolver's span or the execute span), under the server span.
      const ancestors = new Set<string>();
      for (let p = parentOf(span); p; p = parentOf(inTrace.find((s) => spanId(s) === p)!)) ancestors.add(p);
      expect(ancestors.has(spanId(execute!))).toBe(true);
      expect(ancestors.has(spanId(server!))).toBe(true);
    }
    // What the vendor received: a traceparent of the same trace, naming our vendor-call span or its HTTP child.
    for (const call of pages) {
      expect(call.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`));
    }
    // The simulator (in this process, so traced too) continued the same trace from that header.
    const vendorSide = servers.filter((s) => String(s.attributes["url.path"]).includes("/open-ability/method/"));
    expect(vendorSide).toHaveLength(pages.length);
    expect(vendorSide.every((s) => s.spanContext().traceId === traceId)).toBe(true);
    // No secret in any attribute.
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toMatch(/demo-|Bearer|secret/i);
  });

  it("a vendor failure is an error span with outcome, HTTP status and vendor code", async () => {
    stack.sim.clearReceived();
    exporter.reset();
    stack.sim.injectFault({ kind: "http_error", status: 403, code: "permission_denied", command: "get_user_list", times: 1 });
    const res = await stack.gql(`query($p: ID!) { accountsReport(projectId: $p, first: 1) { nodes { accountId } } }`, { p: DEMO_PROJECT_ID });
    expect(res.errors?.[0].extensions?.code).toBeDefined();
    const failed = exporter.getFinishedSpans().filter((s) => s.instrumentationScope.name === "access-control-graph" && s.attributes["vendor.outcome"] !== "success");
    expect(failed).toHaveLength(1);
    expect(failed[0].attributes).toMatchObject({ vendor: "akubela", "vendor.command": "get_user_list", "vendor.outcome": "http_error", "http.response.status_code": 403, "vendor.code": "permission_denied" });
    expect(failed[0].status.code).toBe(2); // ERROR
    expect(stack.sim.calls("get_user_list")[0]).toMatchObject({ status: 403, fault: "http_error" });
  });
});
