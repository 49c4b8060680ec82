import type { Logger } from "../logger.js";
import type { Vendor } from "../errors.js";
import { endVendorSpan, startVendorSpan } from "../tracing.js";

/** One finished vendor call, for metrics, logs and tests. Never carries params, tokens or secrets. */
export interface VendorCallEvent {
  vendor: Vendor;
  /** Akubela command name or Aliyun gateway path. */
  command: string;
  outcome: "success" | "vendor_error" | "http_error" | "timeout" | "network_error" | "malformed";
  status?: number;
  /** The vendor's own error code (Akubela `code`, Aliyun body code), when it gave one. */
  vendorCode?: string;
  durationMs: number;
  attempts: number;
}

/** Outcomes an operator must see: the vendor is down, slow or answering garbage (not a business refusal). */
const isVendorFailure = (outcome: VendorCallEvent["outcome"], status?: number) =>
  outcome === "timeout" || outcome === "network_error" || outcome === "malformed" || (outcome === "http_error" && (status === undefined || status >= 500 || status === 429));

/**
 * Times one vendor call and reports it once finished: a log line (with the correlation id, never params or
 * credentials) and the `onCall` hook (metrics, tests). A vendor failure (5xx, 429, timeout, unreachable,
 * malformed answer) is a `warn` line with vendor, command, status and vendor code; anything else is `debug`.
 * `attempts` is read when the call finishes. The call is also a trace span (vendor, command, outcome, status,
 * vendor code: src/tracing.ts); `headers` carry its W3C `traceparent` to the vendor (none when tracing is off).
 */
export function callReporter(
  base: { vendor: Vendor; command: string; requestId: string },
  sinks: { logger: Pick<Logger, "debug" | "warn">; onCall?: (event: VendorCallEvent) => void },
  attempts: () => number,
) {
  const started = performance.now();
  const { span, headers } = startVendorSpan(base.vendor, base.command);
  let ended = false;
  const finish = (outcome: VendorCallEvent["outcome"], status?: number, vendorCode?: string) => {
    const event: VendorCallEvent = {
      vendor: base.vendor,
      command: base.command,
      outcome,
      status,
      ...(vendorCode !== undefined ? { vendorCode } : {}),
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      attempts: attempts(),
    };
    if (isVendorFailure(outcome, status)) sinks.logger.warn("vendor call failed", { ...event, status: status ?? null, vendorCode: vendorCode ?? null, requestId: base.requestId });
    else sinks.logger.debug("vendor call", { ...event, requestId: base.requestId });
    if (!ended) endVendorSpan(span, outcome, outcome !== "success", { status, vendorCode, attempts: event.attempts });
    ended = true;
    sinks.onCall?.(event);
  };
  return Object.assign(finish, { headers });
}
