import { createRequire } from "node:module";
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import type * as OtlpHttp from "@opentelemetry/exporter-trace-otlp-http";
import type * as GraphQLInstr from "@opentelemetry/instrumentation-graphql";
import type * as HttpInstr from "@opentelemetry/instrumentation-http";
import type * as SdkNode from "@opentelemetry/sdk-node";
import type * as SdkTrace from "@opentelemetry/sdk-trace";
import type { SpanProcessor } from "@opentelemetry/sdk-trace";

/**
 * OpenTelemetry tracing (`@opentelemetry/sdk-node`): HTTP server and client spans (instrumentation-http), GraphQL
 * parse / validate / execute and resolver spans (instrumentation-graphql), and a span of our own per vendor call
 * ({@link startVendorSpan}) whose context goes to the vendor as a W3C `traceparent` header.
 *
 * Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set (then spans go over OTLP/HTTP, configured by the standard
 * `OTEL_*` variables: `OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_TRACES_SAMPLER`, …) or a test passes
 * its own span processor (an in-memory exporter). Off, no SDK is started and the API's tracer is a no-op: the
 * vendor-call spans cost nothing and no `traceparent` is sent.
 *
 * The instrumentations patch `http` and `graphql` as they are loaded, so tracing starts before the service is
 * imported: `src/instrument.ts`, loaded with `node --import` (`npm start`, `npm run start:prod`).
 */
let sdk: SdkNode.NodeSDK | undefined;

// The SDK is loaded only when tracing is on (synchronously, so it still starts before http and graphql load):
// off, a start pays for nothing but @opentelemetry/api. The API's global registry is shared by its CommonJS and
// ESM copies, so the vendor-call spans below reach this SDK.
const load = createRequire(import.meta.url);

export function startTracing(options: { env?: NodeJS.ProcessEnv; spanProcessors?: SpanProcessor[] } = {}): boolean {
  const env = options.env ?? process.env;
  if (sdk) return true;
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const otlp = () => {
    const { BatchSpanProcessor } = load("@opentelemetry/sdk-trace") as typeof SdkTrace;
    const { OTLPTraceExporter } = load("@opentelemetry/exporter-trace-otlp-http") as typeof OtlpHttp;
    return [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })];
  };
  const spanProcessors = options.spanProcessors ?? (endpoint ? otlp() : undefined);
  if (!spanProcessors) return false;
  const { NodeSDK } = load("@opentelemetry/sdk-node") as typeof SdkNode;
  const { HttpInstrumentation } = load("@opentelemetry/instrumentation-http") as typeof HttpInstr;
  const { GraphQLInstrumentation } = load("@opentelemetry/instrumentation-graphql") as typeof GraphQLInstr;
  sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME?.trim() || "access-control-graph",
    spanProcessors,
    // Traces only: metrics are prom-client's (/metrics), logs are the JSON lines on stdout.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes are not traced: they would bury the requests.
        ignoreIncomingRequestHook: (req) => /^\/(healthz|readyz|metrics)\b/.test(req.url ?? ""),
      }),
      // Resolver spans only for fields that resolve themselves (not every scalar of every row).
      new GraphQLInstrumentation({ ignoreTrivialResolveSpans: true, mergeItems: true }),
    ],
  });
  sdk.start();
  return true;
}

/** Flushes and stops the SDK (shutdown, tests), waiting at most `timeoutMs`; nothing when tracing is off. */
export async function stopTracing(timeoutMs = 5_000): Promise<void> {
  const running = sdk;
  sdk = undefined;
  if (!running) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    running.shutdown().catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs).unref())),
  ]);
  clearTimeout(timer);
}

const tracer = () => trace.getTracer("access-control-graph");

/**
 * A client span for one vendor call (all its attempts), child of the active span (the GraphQL resolver's), with
 * `vendor` and `command`; and the headers that carry its context to the vendor (`traceparent`, empty when tracing
 * is off). {@link endVendorSpan} adds the outcome. Never params, tokens or secrets.
 */
export function startVendorSpan(vendor: string, command: string): { span: Span; headers: Record<string, string> } {
  const span = tracer().startSpan(`${vendor} ${command}`, { kind: SpanKind.CLIENT, attributes: { "vendor": vendor, "vendor.command": command } });
  const headers: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), headers);
  return { span, headers };
}

export function endVendorSpan(span: Span, outcome: string, failed: boolean, details: { status?: number; vendorCode?: string; attempts: number }): void {
  span.setAttribute("vendor.outcome", outcome);
  span.setAttribute("vendor.attempts", details.attempts);
  if (details.status !== undefined) span.setAttribute("http.response.status_code", details.status);
  if (details.vendorCode !== undefined) span.setAttribute("vendor.code", details.vendorCode);
  if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
  span.end();
}
