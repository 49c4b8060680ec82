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
