import { existsSync } from "node:fs";
import { startTracing } from "./tracing.js";

/**
 * Starts OpenTelemetry tracing when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (src/tracing.ts). Imported first by
 * src/index.ts, so it runs before any module of the service is evaluated: the HTTP and GraphQL instrumentations
 * must patch `http` and `graphql` before they are required (both are loaded as CommonJS, which the SDK's require
 * hook patches; also usable alone as `node --import ./dist/instrument.js`).
 *
 * The OTEL_* variables may come from `.env` (or ENV_FILE): read here too, quietly; a variable already set wins,
 * and src/index.ts reports an unreadable file.
 */
try {
  const envFile = process.env.ENV_FILE?.trim();
  if (envFile) process.loadEnvFile(envFile);
  else if (existsSync(".env")) process.loadEnvFile(".env");
} catch {
  // src/index.ts says which file and exits 1.
}
startTracing();
