import "reflect-metadata";
// First: tracing (when OTEL_EXPORTER_OTLP_ENDPOINT is set) must patch http and graphql before they are loaded.
import "./instrument.js";
import { existsSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { DEMO_API_KEY, startApp } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { StartupError } from "./startup-error.js";
import { stopTracing } from "./tracing.js";
import { DEMO_AKUBELA_TOKEN } from "./simulators/akubela/constants.js";

/** Bootstrap only: `.env`, config, listen, signals. */

// `.env` in the working directory when present (or the file ENV_FILE names, which must exist). Variables already
// set in the environment win over the file's.
{
  const envFile = process.env.ENV_FILE?.trim();
  try {
    if (envFile) process.loadEnvFile(envFile);
    else if (existsSync(".env")) process.loadEnvFile(".env");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    console.error(new StartupError("ENV_FILE", `${envFile ?? ".env"} could not be read (${code}): fix the file or set ENV_FILE to another one`).message);
    process.exit(1);
  }
}

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
// A heap that grows only so far past its live set before V8 collects (HEAP_GROWING_PERCENT): V8's own factor (up to
// 4× on a large machine) let a 10,000-account dashboard with ~125 MB live reach 540 MB resident (issue 16).
if (config.heapGrowingPercent > 0) setFlagsFromString(`--heap-growing-percent=${config.heapGrowingPercent}`);
const logger = createLogger(config.logLevel);
let app;
try {
  app = await startApp(config, logger);
} catch (error) {
  // A busy port, an unreadable keys file or site map: one line naming the variable, no stack.
  if (error instanceof StartupError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
logger.info("graph ready", { url: app.url, demo: Boolean(app.simulator) });
if (app.simulator) {
  // Printed for the newcomer: the demo credentials are public and open only the built-in simulators.
  console.log(
    `\n  Graph:        ${app.url}  (open it in a browser for Apollo Sandbox)\n  Demo API key: X-API-Key: ${DEMO_API_KEY}\n  (or a vendor token: Authorization: Bearer ${DEMO_AKUBELA_TOKEN}, Akubela data only)\n`,
  );
}

/**
 * The one owner of SIGTERM and SIGINT (Apollo's own handlers are off, `stopOnTerminationSignals: false`): the first
 * signal stops taking connections, lets requests in flight finish for at most `SHUTDOWN_GRACE_MS` (then cuts
 * them), closes WebSockets, Redis and the simulators, and exits 0. A second signal exits at once (a second Ctrl-C).
 * A backstop timer exits 1 should a closer hang past the grace.
 */
const EXIT_CODE = { SIGINT: 130, SIGTERM: 143 } as const;
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) {
      logger.warn("second signal: exiting at once", { signal });
      process.exit(EXIT_CODE[signal]);
    }
    stopping = true;
    logger.info("shutting down: finishing requests in flight", { signal, graceMs: config.shutdownGraceMs });
    setTimeout(() => {
      logger.error("shutdown did not finish within its grace: exiting", { graceMs: config.shutdownGraceMs });
      process.exit(1);
    }, config.shutdownGraceMs + 5_000).unref();
    app.stop().then(
      async () => {
        // The last spans, when tracing: bounded, an unreachable collector must not hold the exit.
        await stopTracing(2_000);
        logger.info("stopped");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error("stop failed", { error: String(error) });
        process.exit(1);
      },
    );
  });
}
