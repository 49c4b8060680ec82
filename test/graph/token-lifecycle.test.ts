/**
 * The facade's own Akubela token over many short lifetimes (issue 14): two instances on one real Redis, the
 * simulator's token endpoint with 2–3 s tokens, busy and idle periods, a failing token endpoint, Redis lost during a
 * refresh, an instance (a real child process) killed mid-refresh, and what the shared cache holds.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { hashApiKey } from "../../src/auth/api-keys.js";
import { DEMO_SITE_MAP_PATH } from "../../src/app.js";
import {
  DEMO_MANAGER_PASSWORD,
  DEMO_MANAGER_USERNAME,
  DEMO_OAUTH_CLIENT_ID,
  DEMO_OAUTH_CLIENT_SECRET,
  TOKEN_PATH,
  type AkubelaSimulator,
  type FaultSpec,
  type RecordedCommand,
} from "../../src/simulators/akubela/index.js";
import { flushRedisUrl, startRedis, type RedisServer } from "../helpers/redis.js";
import { graphql, spawnService, until } from "../helpers/service.js";
import { DEMO_PROJECT_ID, readyz, startStack, type Stack } from "../helpers/stack.js";

const KEY = "7".repeat(64);
const DEVICES = `query($p: ID!) { project(projectId: $p) { devices { name } } }`;
const CLIENT = { AKUBELA_TOKEN: "", AKUBELA_CLIENT_ID: DEMO_OAUTH_CLIENT_ID, AKUBELA_CLIENT_SECRET: DEMO_OAUTH_CLIENT_SECRET };
const PASSWORD_GRANT = { ...CLIENT, AKUBELA_USERNAME: DEMO_MANAGER_USERNAME, AKUBELA_PASSWORD: DEMO_MANAGER_PASSWORD };

type Config = "password grant" | "refresh token only";

/** What one caller got. */
interface Outcome {
  instance: number;
  start: number;
  end: number;
  code?: string;
  message?: string;
}
type Caller = () => Promise<{ code?: string; message?: string }>;

const viaStack =
  (stack: Stack): Caller =>
  async () => {
    const res = await stack.gql(DEVICES, { p: DEMO_PROJECT_ID });
    return { code: res.errors?.[0]?.extensions?.code, message: res.errors?.[0]?.message };
  };

/** Every caller in turn, all at once, every `gapMs`, for `ms`. */
async function drive(callers: Caller[], ms: number, gapMs = 100): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const stopAt = Date.now() + ms;
  while (Date.now() < stopAt) {
    await Promise.all(
      callers.map(async (call, instance) => {
        const start = Date.now();
        const got = await call();
        outcomes.push({ instance, start, end: Date.now(), ...got });
      }),
    );
    await sleep(gapMs);
  }
  return outcomes;
}

const failures = (outcomes: Outcome[]) => outcomes.filter((o) => o.code !== undefined).map((o) => `${o.instance} ${o.code} ${o.message}`);
const tokenCalls = (sim: AkubelaSimulator, since = 0): RecordedCommand[] => sim.calls("oauth2/token").filter((c) => c.at >= since);
const grantOf = (c: RecordedCommand) => (c.param as Record<string, string>).grant_type;

/** A refresh token for the refresh-token-only configuration, from the vendor's password grant (as an operator would). */
async function vendorRefreshToken(sim: AkubelaSimulator): Promise<string> {
  const res = await fetch(`${sim.url}${TOKEN_PATH}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "password",
      scope: "manager",
      username: DEMO_MANAGER_USERNAME,
      password: DEMO_MANAGER_PASSWORD,
      client_id: DEMO_OAUTH_CLIENT_ID,
      client_secret: DEMO_OAUTH_CLIENT_SECRET,
    }),
  });
  const body = (await res.json()) as { result: { refresh_token: string } };
  return body.result.refresh_token;
}

async function credentialEnv(config: Config, sim: AkubelaSimulator): Promise<Record<string, string>> {
  return config === "password grant" ? PASSWORD_GRANT : { ...CLIENT, AKUBELA_REFRESH_TOKEN: await vendorRefreshToken(sim) };
}

/**
 * The most calls one instance's backoff allows in `windowMs` (src/auth/akubela-tokens.ts `failed`: from a twentieth
 * of the life, doubling, at most a quarter of it (1–60 s), each delay at least half its step), plus the first call.
 */
function backoffBound(lifeMs: number, windowMs: number): number {
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  const base = clamp(lifeMs / 20, 100, 1000);
  const cap = clamp(lifeMs / 4, 1000, 60_000);
  let calls = 1;
  let elapsed = 0;
  for (let k = 1; ; k++) {
    elapsed += Math.min(base * 2 ** (k - 1), cap) / 2;
    if (elapsed > windowMs) return calls;
    calls++;
  }
}

/** Every key and value in Redis, as text (strings, hashes, lists, sets, sorted sets). */
async function redisDump(redis: RedisServer): Promise<string> {
  const keys = (await redis.cli("--scan")).split("\n").filter(Boolean);
  const parts: string[] = [];
  for (const key of keys) {
    const type = (await redis.cli("TYPE", key)).trim();
    const read: Record<string, string[]> = { string: ["GET"], hash: ["HGETALL"], list: ["LRANGE", key, "0", "-1"], set: ["SMEMBERS"], zset: ["ZRANGE", key, "0", "-1"] };
    const [cmd, ...rest] = read[type] ?? ["TYPE"];
    parts.push(key, await redis.cli(cmd, ...(rest.length ? rest : [key])));
  }
  return parts.join("\n");
}

describe.each<Config>(["password grant", "refresh token only"])("two instances, one Redis, 2-second tokens (%s)", (config) => {
  const life = 2000;
  let redis: RedisServer;
  let a: Stack;
  let b: Stack;
  let close: () => Promise<void>;
  beforeAll(async () => {
    redis = await startRedis();
    ({ a, b, close } = await pair(config, life, redis));
  }, 30_000);
  afterAll(async () => {
    await close?.();
    await redis?.stop();
  });

  it("busy and idle periods of several lifetimes: no caller error, about one token call per lifetime across both, none while idle; no token issued readable in Redis or a log", async () => {
    const t0 = Date.now();
    const busy = await drive([viaStack(a), viaStack(b)], 5 * life);
    expect(failures(busy)).toEqual([]);
    const busyCalls = tokenCalls(a.sim, t0);
    // Renewed from 80 % of the life: 1.25 a lifetime when busy; each instance on its own would make twice that.
    expect(busyCalls.length).toBeGreaterThanOrEqual(4);
    expect(busyCalls.length).toBeLessThanOrEqual(Math.ceil(5 / 0.8) + 2);
    expect(busyCalls.every((c) => c.status === 200)).toBe(true);
    if (config === "refresh token only") expect(busyCalls.every((c) => grantOf(c) === "refresh_token")).toBe(true);

    const idleFrom = Date.now();
    await sleep(3 * life);
    expect(tokenCalls(a.sim, idleFrom)).toEqual([]);

    const back = Date.now();
    const after = await drive([viaStack(a), viaStack(b)], 2 * life);
    expect(failures(after)).toEqual([]);
    const afterCalls = tokenCalls(a.sim, back);
    expect(afterCalls.length).toBeGreaterThanOrEqual(1);
    expect(afterCalls.length).toBeLessThanOrEqual(Math.ceil(2 / 0.8) + 2);
    expect(afterCalls.every((c) => c.status === 200)).toBe(true);
    // After the idle period the refresh-token-only configuration still rotates (the issue: invalid_grant for good).
    if (config === "refresh token only") expect(afterCalls.every((c) => grantOf(c) === "refresh_token")).toBe(true);
    expect((await readyz(a)).checks.akubelaToken).toBe("ok");
    // What those lifetimes left behind: no access or refresh token the simulator issued is readable in Redis (keys
    // or values), nor in a log (checked here, where the tokens were issued, not in a test after this one).
    const issued = a.sim.oauth.issuedTokens();
    expect(issued.length).toBeGreaterThan(4);
    const dump = await redisDump(redis);
    expect(dump).toMatch(/akubela-oauth:sealed/); // the shared set is there, sealed
    for (const secret of [...issued, DEMO_OAUTH_CLIENT_SECRET, DEMO_MANAGER_PASSWORD]) expect(dump).not.toContain(secret);
    const logs = a.logText() + b.logText();
    for (const secret of issued) expect(logs).not.toContain(secret);
  }, 60_000);
});

/** A fresh simulator (tokens of `life` ms) and two instances on one Redis; the first token obtained by `a`. */
async function pair(config: Config, life: number, redis: RedisServer): Promise<{ a: Stack; b: Stack; issuedAt: number; close(): Promise<void> }> {
  const probe = await startStack({ sim: { tokenTtlSeconds: life / 1000 } });
  const env = { ...(await credentialEnv(config, probe.sim)), REDIS_URL: redis.url, TOKEN_ENCRYPTION_KEY: KEY };
  const a = await startStack({ env, shareSimulatorsWith: probe });
  const b = await startStack({ env, shareSimulatorsWith: probe });
  await probe.app.stop();
  await redis.cli("FLUSHALL");
  const since = Date.now();
  expect(failures(await drive([viaStack(a)], 1))).toEqual([]);
  expect(failures(await drive([viaStack(b)], 1))).toEqual([]);
  const [first, ...more] = tokenCalls(a.sim, since);
  expect(more).toEqual([]); // b adopted a's token
  return {
    a,
    b,
    issuedAt: first.at,
    close: async () => {
      await b.close();
      await a.close();
      await probe.sim.close();
      await probe.aliyun.close();
    },
  };
}

describe("the token endpoint failing from 80 % of the token's life (3-second tokens, two instances)", () => {
  const life = 3000;
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.stop());
  // Each case starts its own simulator and instances: the tokens a previous case sealed into Redis go with it.
  beforeEach(() => flushRedisUrl(redis.url));

  const cases: Array<{ name: string; config: Config; fault: FaultSpec; after: { code: string; message: RegExp } | "served"; readyz?: RegExp }> = [
    {
      name: "HTTP 503",
      config: "password grant",
      fault: { kind: "http_error", status: 503, command: "oauth2/token" },
      after: { code: "UPSTREAM_UNAVAILABLE", message: /could not be renewed.*HTTP 503|Another instance is renewing/ },
      readyz: /HTTP 503/,
    },
    {
      name: "no answer (timeout)",
      config: "refresh token only",
      fault: { kind: "no_answer", command: "oauth2/token" },
      after: { code: "UPSTREAM_UNAVAILABLE", message: /did not answer in time|Another instance is renewing/ },
      // The instance that renews learns the timeout; the other, waiting on it, may still say the renewal runs.
      readyz: /did not answer in time|a renewal is running/,
    },
    {
      name: "invalid_grant, refresh token only",
      config: "refresh token only",
      fault: { kind: "http_error", status: 400, code: "invalid_grant", command: "oauth2/token" },
      after: { code: "UPSTREAM_ERROR", message: /needs an operator.*AKUBELA_REFRESH_TOKEN/ },
      readyz: /needs an operator.*invalid_grant/,
    },
    {
      name: "invalid_grant for the refresh token, manager login configured",
      config: "password grant",
      fault: { kind: "http_error", status: 400, code: "invalid_grant", command: "oauth2/token", where: { grant_type: "refresh_token" } },
      after: "served",
    },
  ];

  it.each(cases)("$name ($config): served until the real expiry, bounded token calls, then the right error", async ({ config, fault, after, readyz: ready }) => {
    const { a, b, issuedAt, close } = await pair(config, life, redis);
    try {
      await sleep(issuedAt + 0.8 * life - Date.now());
      const faultAt = Date.now();
      a.sim.injectFault(fault);
      const outcomes = await drive([viaStack(a), viaStack(b)], issuedAt + life + 1500 - Date.now());
      const expiry = issuedAt + life;
      expect(outcomes.filter((o) => o.code === "UNAUTHENTICATED")).toEqual([]);
      if (after === "served") {
        expect(failures(outcomes)).toEqual([]);
        expect(tokenCalls(a.sim, faultAt).some((c) => grantOf(c) === "password" && c.status === 200)).toBe(true);
        expect((await readyz(a)).checks.akubelaToken).toBe("ok");
        return;
      }
      // Every request that ended before the token's last tenth was served with it.
      const early = outcomes.filter((o) => o.end < expiry - 0.1 * life);
      expect(early.length).toBeGreaterThan(0);
      expect(failures(early)).toEqual([]);
      // After the real expiry: the failure, named for what it is.
      const late = outcomes.filter((o) => o.start > expiry + 200);
      expect(late.length).toBeGreaterThan(0);
      for (const o of late) {
        expect(o.code).toBe(after.code);
        expect(o.message).toMatch(after.message);
      }
      const calls = tokenCalls(a.sim, faultAt);
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.length).toBeLessThanOrEqual(2 * backoffBound(life, Date.now() - faultAt));
      // Not ready on either instance, for the reason at hand (an instance that waited on the other's renewal learns
      // the failure when that renewal gives up; /readyz answers are kept 2 s).
      for (const stack of [a, b]) {
        await until("/readyz to say why", async () => {
          const r = await readyz(stack);
          return r.status === 503 && ready!.test(r.checks.akubelaToken ?? "");
        }, 6000);
      }
      if (fault.kind === "http_error" && fault.status === 503) {
        // The endpoint back: the next attempt (within the backoff's cap) renews, and callers are served again.
        a.sim.clearFaults();
        await until("a caller served again", async () => (await viaStack(a)()).code === undefined, 5000);
        expect(failures(await drive([viaStack(a), viaStack(b)], 500))).toEqual([]);
      }
    } finally {
      a.sim.clearFaults();
      await close();
    }
  }, 30_000);
});

describe("Redis lost and back during a refresh (refresh token only, 4-second tokens)", () => {
  it("rotation is kept: served while a valid token is at hand, all served once Redis is back, one chain of refresh tokens", async () => {
    const life = 4000;
    const redis = await startRedis();
    const { a, b, issuedAt, close } = await pair("refresh token only", life, redis);
    try {
      // a's refresh is slow at the vendor; Redis goes away while it runs and comes back (empty) 300 ms later.
      a.sim.injectFault({ kind: "latency", latencyMs: 500, command: "oauth2/token", times: 1 });
      await sleep(issuedAt + 0.8 * life - Date.now());
      const since = Date.now();
      const during = drive([viaStack(a), viaStack(b)], 0.2 * life + 1000);
      await until("a refresh to be under way", async () => tokenCalls(a.sim, since).length > 0, 2000);
      await redis.kill();
      await sleep(300);
      await redis.restart();
      const outcomes = await during;
      expect(outcomes.filter((o) => o.code === "UNAUTHENTICATED")).toEqual([]);
      // While its token was valid, no instance failed a caller (a refresh the other one won is no caller's matter).
      expect(failures(outcomes.filter((o) => o.end < issuedAt + 0.95 * life))).toEqual([]);
      // Redis back: within a sync interval both instances hold the latest set, and every caller is served.
      await sleep(life / 10 + 200);
      const later = await drive([viaStack(a), viaStack(b)], 2 * life);
      expect(failures(later)).toEqual([]);
      const calls = tokenCalls(a.sim, since);
      expect(calls.every((c) => grantOf(c) === "refresh_token")).toBe(true);
      // At most one refresh token spent twice (the instances could not see each other while Redis was down).
      expect(calls.filter((c) => c.status !== 200).length).toBeLessThanOrEqual(1);
      expect(calls.length).toBeLessThanOrEqual(Math.ceil(3 / 0.8) + 3);
      for (const stack of [a, b]) expect((await readyz(stack)).checks.akubelaToken).toBe("ok");
      // The shared copy is back, sealed.
      expect(await redisDump(redis)).toMatch(/akubela-oauth:sealed/);
    } finally {
      await close();
      await redis.stop();
    }
  }, 40_000);
});

describe("an instance killed mid-refresh (a child process, refresh token only, 3-second tokens)", () => {
  it("the other instance renews once the dead one's lock lapses, before its token expires: no caller error, rotation kept", async () => {
    const life = 3000;
    const redis = await startRedis();
    const { a, b, close } = await pair("refresh token only", life, redis);
    await b.app.stop(); // b only served to check the pair; the killed instance is a real process
    const dir = await mkdtemp(join(tmpdir(), "token-kill-"));
    const keysFile = join(dir, "api-keys.json");
    const apiKey = "token-kill-test-key";
    await writeFile(keysFile, JSON.stringify({ keys: [{ name: "ops", sha256: hashApiKey(apiKey), scopes: ["read"], projects: ["*"] }] }));
    const child = await spawnService({
      env: {
        ...CLIENT,
        // Its configured refresh token was spent by the first rotation: it must take the shared set.
        AKUBELA_REFRESH_TOKEN: "spent-long-ago",
        AKUBELA_BASE_URL: a.sim.url,
        AKUBELA_PROJECT_IDS: DEMO_PROJECT_ID,
        AKUBELA_TIMEOUT_MS: "1500",
        API_KEYS_FILE: keysFile,
        SITE_MAP: DEMO_SITE_MAP_PATH,
        REDIS_URL: redis.url,
        TOKEN_ENCRYPTION_KEY: KEY,
        CACHE_DEVICE_LIST_TTL_SECONDS: "0",
      },
    });
    const viaChild: Caller = async () => {
      const body = (await (await graphql(child.base, apiKey, DEVICES, { p: DEMO_PROJECT_ID })).json()) as { errors?: Array<{ message: string; extensions?: { code?: string } }> };
      return { code: body.errors?.[0]?.extensions?.code, message: body.errors?.[0]?.message };
    };
    try {
      expect(await viaChild()).toEqual({ code: undefined, message: undefined });
      await sleep(300); // a renewal the child's first request may have started (its start-up took a while)
      const issuedAt = tokenCalls(a.sim).filter((c) => c.status === 200).at(-1)!.at;
      // The child's renewal hangs at the vendor; it is killed while it holds the renewal lock.
      a.sim.injectFault({ kind: "no_answer", command: "oauth2/token", times: 1 });
      await sleep(issuedAt + 0.8 * life - Date.now());
      const since = Date.now();
      expect(await viaChild()).toEqual({ code: undefined, message: undefined });
      await until("the child's refresh to reach the vendor", async () => tokenCalls(a.sim, since).length > 0, 2000);
      child.kill();
      await child.exited;
      const outcomes = await drive([viaStack(a)], 2 * life);
      expect(failures(outcomes)).toEqual([]);
      const calls = tokenCalls(a.sim, since);
      expect(calls[0].status).toBe(0); // the child's, never answered
      expect(calls.slice(1).every((c) => c.status === 200 && grantOf(c) === "refresh_token")).toBe(true);
      expect(calls.length).toBeLessThanOrEqual(Math.ceil(2 / 0.8) + 3);
    } finally {
      child.kill();
      await close();
      await redis.stop();
    }
  }, 40_000);
});
