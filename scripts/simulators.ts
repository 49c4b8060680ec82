/**
 * Runs the vendor simulators on their own, for exploring the vendor APIs with curl or pointing a facade at them:
 * `npm run simulator` (AKUBELA_SIM_PORT, default 4010; ALIYUN_SIM_PORT, default 4011; SIM_LATENCY_MS; SIM_ACCOUNTS;
 * AKUBELA_SIM_TOKEN_TTL_SECONDS, the lifetime of issued OAuth tokens, default 3600: short to exercise expiry).
 */
import { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, startAkubelaSimulator } from "../src/simulators/akubela/index.js";
import { DEMO_ALIYUN_APP_KEY, startAliyunSimulator } from "../src/simulators/aliyun/index.js";

const ttl = process.env.AKUBELA_SIM_TOKEN_TTL_SECONDS;
if (ttl !== undefined && !/^[1-9]\d{0,4}$/.test(ttl)) throw new Error("AKUBELA_SIM_TOKEN_TTL_SECONDS must be a whole number of seconds from 1 to 99999");
const sim = await startAkubelaSimulator({
  tokenTtlSeconds: ttl === undefined ? undefined : Number(ttl),
  port: Number(process.env.AKUBELA_SIM_PORT ?? 4010),
  latencyMs: Number(process.env.SIM_LATENCY_MS ?? 0),
  seed: { accounts: process.env.SIM_ACCOUNTS ? Number(process.env.SIM_ACCOUNTS) : undefined },
});
const aliyun = await startAliyunSimulator({
  port: Number(process.env.ALIYUN_SIM_PORT ?? 4011),
  latencyMs: Number(process.env.SIM_LATENCY_MS ?? 0),
});
process.stderr.write(
  `Akubela simulator on ${sim.url} — token "${DEMO_AKUBELA_TOKEN}" (demo only), project ${DEMO_PROJECT_ID}, OAuth tokens live ${ttl ?? 3600} s\n` +
    `Aliyun gateway simulator on ${aliyun.url} — app key ${DEMO_ALIYUN_APP_KEY} (secret: DEMO_ALIYUN_APP_SECRET in src/simulators/aliyun/constants.ts)\n`,
);
const stop = () => void Promise.all([sim.close(), aliyun.close()]).then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
