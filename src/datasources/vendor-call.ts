import type { Vendor } from "../errors.js";

/** One finished vendor call, for metrics, logs and tests. Never carries params, tokens or secrets. */
export interface VendorCallEvent {
  vendor: Vendor;
  /** Akubela command name or Aliyun gateway path. */
  command: string;
  outcome: "success" | "vendor_error" | "http_error" | "timeout" | "network_error" | "malformed";
  status?: number;
  durationMs: number;
  attempts: number;
}

/**
 * Times one vendor call and reports it once finished: a debug log line (with the correlation id, never params)
 * and the `onCall` hook (metrics, tests). `attempts` is read when the call finishes.
 */
export function callReporter(
  base: { vendor: Vendor; command: string; requestId: string },
  sinks: { logger: { debug(msg: string, fields?: Record<string, unknown>): void }; onCall?: (event: VendorCallEvent) => void },
  attempts: () => number,
) {
  const started = performance.now();
  return (outcome: VendorCallEvent["outcome"], status?: number) => {
    const event: VendorCallEvent = {
      vendor: base.vendor,
      command: base.command,
      outcome,
      status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      attempts: attempts(),
    };
    sinks.logger.debug("vendor call", { ...event, requestId: base.requestId });
    sinks.onCall?.(event);
  };
}
