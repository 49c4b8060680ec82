import { hostname } from "node:os";
import type { LogLevel } from "./config.js";

/**
 * Structured JSON logs, one object a line, each naming the instance that wrote it (`host`, `pid`), audit lines
 * included: several replicas write to one log store. Fields whose name says "secret" are replaced before writing, as a
 * second line of defence: call sites already pass no tokens, PINs, keys or passwords.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Key names whose values are never written (matched case-insensitively on the whole name). */
const SECRET_KEY =
  /^(authorization|token|access_token|refresh_token|server_token|app_?secret|secret|password|new_password|private_?key|pin|pin_?code|number|temp_?key|nfc_?code|ble_?code|ciphertext|rtsp(_url)?|card_?number)$/i;

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    out[key] = SECRET_KEY.test(key) ? "[redacted]" : redact(v, depth + 1);
  }
  return out;
}

/** This process, named on every line. */
const INSTANCE = { host: hostname(), pid: process.pid };

export type LogSink = (line: string) => void;

export function createLogger(level: LogLevel, base: Record<string, unknown> = {}, sink?: LogSink): Logger {
  const threshold = LEVELS[level];
  const write =
    sink ??
    ((line: string) => {
      process.stdout.write(line + "\n");
    });
  // The instance and the logger's own fields, serialised once per logger rather than once per line (a request
  // logs a line; issue 16's profile of a cached query counted the spreads). A field given again by a line comes
  // later in the object, and JSON readers keep the last.
  const fixed = JSON.stringify(redact({ ...INSTANCE, ...base })).slice(1, -1);
  const log = (lvl: Exclude<LogLevel, "silent">, message: string, fields?: Record<string, unknown>) => {
    if (LEVELS[lvl] < threshold) return;
    const own = fields ? JSON.stringify(redact(fields)).slice(1, -1) : "";
    write(`{"time":"${new Date().toISOString()}","level":"${lvl}","msg":${JSON.stringify(message)},${fixed}${own ? `,${own}` : ""}}`);
  };
  return {
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
    child: (fields) => createLogger(level, { ...base, ...fields }, write),
  };
}

export const silentLogger: Logger = createLogger("silent");
