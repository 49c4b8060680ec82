import "reflect-metadata";
import { startApp } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { DEMO_AKUBELA_TOKEN } from "./simulators/akubela/index.js";

/** Bootstrap only: config, listen, signals. */
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
const logger = createLogger(config.logLevel);
const app = await startApp(config, logger);
logger.info("graph ready", { url: app.url, demo: Boolean(app.simulator) });
if (app.simulator) {
  // Printed for the newcomer: the demo token is public and opens only the simulator.
  console.log(`\n  Graph:      ${app.url}  (open it in a browser for Apollo Sandbox)\n  Demo token: Authorization: Bearer ${DEMO_AKUBELA_TOKEN}\n`);
}

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    app.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
