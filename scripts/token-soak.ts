/**
 * `npm run soak:tokens`: the facade's own Akubela token over many short lifetimes (issue 14). Two graph instances on
 * one real `redis-server` (started here on a free port, sealed tokens with a throwaway TOKEN_ENCRYPTION_KEY) against
 * the Akubela simulator's token endpoint with short-lived tokens; clients query both instances, busy with idle
 * gaps. Prints the token-endpoint calls in each lifetime (from the simulator's record), the mean per lifetime, and
 * what callers got. Bounded: it stops by itself.
 *
 *   TOKEN_SOAK_LIFETIME_SECONDS (default 3)   TOKEN_SOAK_LIFETIMES (default 10)   TOKEN_SOAK_CLIENTS (default 4)
 *   TOKEN_SOAK_GRANT (`password`, the default, or `refresh`: a refresh token only, rotated by the facade)
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { DEMO_API_KEY, DEMO_API_KEYS_PATH, DEMO_SITE_MAP_PATH, startApp, type App } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/logger.js";
import {
  DEMO_MANAGER_PASSWORD,
  DEMO_MANAGER_USERNAME,
  DEMO_OAUTH_CLIENT_ID,
  DEMO_OAUTH_CLIENT_SECRET,
  DEMO_PROJECT_ID,
  TOKEN_PATH,
  startAkubelaSimulator,
} from "../src/simulators/akubela/index.js";
import { freePort } from "./support.js";

const LIFE_S = Number(process.env.TOKEN_SOAK_LIFETIME_SECONDS ?? 3);
const LIFETIMES = Number(process.env.TOKEN_SOAK_LIFETIMES ?? 10);
const CLIENTS = Number(process.env.TOKEN_SOAK_CLIENTS ?? 4);
const GRANT = process.env.TOKEN_SOAK_GRANT ?? "password";
if (!(Number.isInteger(LIFE_S) && LIFE_S >= 1 && LIFE_S <= 600)) throw new Error("TOKEN_SOAK_LIFETIME_SECONDS must be a whole number 1..600");
if (!(LIFETIMES >= 2 && LIFETIMES <= 1000 && CLIENTS >= 1 && CLIENTS <= 64)) throw new Error("TOKEN_SOAK_LIFETIMES must be 2..1000 and TOKEN_SOAK_CLIENTS 1..64");
if (GRANT !== "password" && GRANT !== "refresh") throw new Error("TOKEN_SOAK_GRANT must be password or refresh");
const LIFE_MS = LIFE_S * 1000;

// ---- Redis, the simulator, two instances -----------------------------------------------------------------------
const redisPort = await freePort();
const redis = spawn("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
redis.on("error", (e) => {
  process.stderr.write(`token-soak: redis-server could not start (${e.message}); install it: sudo apt-get install -y redis-server\n`);
  process.exit(1);
});
await sleep(300);

const sim = await startAkubelaSimulator({ quiet: true, tokenTtlSeconds: LIFE_S });
let refreshToken: string | undefined;
if (GRANT === "refresh") {
  const res = await fetch(`${sim.url}${TOKEN_PATH}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "password", scope: "manager", username: DEMO_MANAGER_USERNAME, password: DEMO_MANAGER_PASSWORD, client_id: DEMO_OAUTH_CLIENT_ID, client_secret: DEMO_OAUTH_CLIENT_SECRET }),
  });
  refreshToken = ((await res.json()) as { result: { refresh_token: string } }).result.refresh_token;
}
const soakStart = Date.now();

const instances: App[] = [];
for (let i = 0; i < 2; i++) {
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: "0",
    AKUBELA_BASE_URL: sim.url,
    AKUBELA_PROJECT_IDS: DEMO_PROJECT_ID,
    AKUBELA_CLIENT_ID: DEMO_OAUTH_CLIENT_ID,
    AKUBELA_CLIENT_SECRET: DEMO_OAUTH_CLIENT_SECRET,
    ...(GRANT === "password" ? { AKUBELA_USERNAME: DEMO_MANAGER_USERNAME, AKUBELA_PASSWORD: DEMO_MANAGER_PASSWORD } : { AKUBELA_REFRESH_TOKEN: refreshToken! }),
    AKUBELA_TIMEOUT_MS: "2000",
    SITE_MAP: DEMO_SITE_MAP_PATH,
    API_KEYS_FILE: DEMO_API_KEYS_PATH,
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    TOKEN_ENCRYPTION_KEY: "5".repeat(64),
    CACHE_DEVICE_LIST_TTL_SECONDS: "0",
    RATE_LIMIT_PER_MINUTE: "1000000",
    LOG_LEVEL: "warn",
  });
  instances.push(await startApp(config, createLogger(config.logLevel, {}, () => {})));
}

// ---- the workload: busy, with an idle gap of 1.5 lifetimes in every fourth lifetime ----------------------------
const DEVICES = `query($p: ID!) { project(projectId: $p) { devices { name } } }`;
const outcomes = new Map<string, number>();
const count = (what: string) => outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
const endAt = soakStart + LIFETIMES * LIFE_MS;
const idle = (t: number) => {
  const inLife = Math.floor((t - soakStart) / LIFE_MS);
  const phase = ((t - soakStart) % LIFE_MS) / LIFE_MS;
  return inLife % 4 === 2 || (inLife % 4 === 3 && phase < 0.5);
};

async function client(n: number): Promise<void> {
  for (let i = 0; Date.now() < endAt; i++) {
    if (idle(Date.now())) {
      await sleep(50);
      continue;
    }
    const app = instances[(n + i) % 2]!;
    try {
      const res = await fetch(app.url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": DEMO_API_KEY },
        body: JSON.stringify({ query: DEVICES, variables: { p: DEMO_PROJECT_ID } }),
      });
      const body = (await res.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
      count(body.errors ? `error ${body.errors[0]?.extensions?.code}` : "ok");
    } catch (error) {
      count(`transport ${(error as Error).message}`);
    }
    await sleep(20);
  }
}

process.stderr.write(`token-soak: 2 instances, one Redis, ${LIFE_S} s tokens (${GRANT} grant), ${LIFETIMES} lifetimes, ${CLIENTS} clients\n`);
await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));

// ---- report ------------------------------------------------------------------------------------------------------
const calls = sim.calls("oauth2/token").filter((c) => c.at >= soakStart);
const perLifetime = Array.from({ length: LIFETIMES }, (_, k) => calls.filter((c) => c.at >= soakStart + k * LIFE_MS && c.at < soakStart + (k + 1) * LIFE_MS).length);
const vendor401 = sim.received().filter((c) => c.at >= soakStart && c.command !== "oauth2/token" && c.status === 401).length;
const report = {
  lifetimeSeconds: LIFE_S,
  lifetimes: LIFETIMES,
  grant: GRANT,
  tokenCallsPerLifetime: perLifetime,
  tokenCallsTotal: calls.length,
  tokenCallsMeanPerLifetime: +(calls.length / LIFETIMES).toFixed(2),
  tokenCallsFailed: calls.filter((c) => c.status !== 200).length,
  idleLifetimes: "1.5 of every 4 (3rd and first half of 4th)",
  callers: Object.fromEntries(outcomes),
  vendor401s: vendor401,
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);

for (const app of instances) await app.stop();
await sim.close();
redis.kill("SIGKILL");
await once(redis, "exit");
process.exit(0);
