/**
 * Runs the vendor simulators on their own, for exploring the vendor APIs with curl or pointing a facade at them:
 * `npm run simulator` (AKUBELA_SIM_PORT, default 4010; SIM_LATENCY_MS; SIM_ACCOUNTS).
 */
import { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, startAkubelaSimulator } from "../src/simulators/akubela/index.js";

const sim = await startAkubelaSimulator({
  port: Number(process.env.AKUBELA_SIM_PORT ?? 4010),
  latencyMs: Number(process.env.SIM_LATENCY_MS ?? 0),
  seed: { accounts: process.env.SIM_ACCOUNTS ? Number(process.env.SIM_ACCOUNTS) : undefined },
});
process.stderr.write(
  `Akubela simulator on ${sim.url} — token "${DEMO_AKUBELA_TOKEN}" (demo only), project ${DEMO_PROJECT_ID}\n`,
);
const stop = () => void sim.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
