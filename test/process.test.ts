import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_API_KEY } from "../src/app.js";
import { DEMO_PROJECT_ID } from "../src/simulators/akubela/index.js";
import { startRedis, type RedisServer } from "./helpers/redis.js";
import { graphql, PROD_API_KEY, spawnService, startProductionVendors, until, type ProductionVendors, type ServiceProcess } from "./helpers/service.js";

/**
 * The service as operators run it: `src/index.ts` in its own process, in production mode (against simulators with
 * non-demo credentials) and in development's demo mode (the simulators in-process), each with and without Redis.
 * No `NODE_ENV=test`: Apollo's own signal handlers are active outside it, which is what broke shutdown.
 */
let redis: RedisServer;
let vendors: ProductionVendors;
const started: ServiceProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
  vendors = await startProductionVendors();
}, 60_000);

afterAll(async () => {
  for (const s of started) s.kill();
  await vendors.close();
  await redis.stop();
});

const DEVICES = `query($p: ID!) { project(projectId: $p) { devices { name } } }`;
const SLOW_COMMAND = "get_visitor_temp_key_device_list";

type Mode = "production" | "development";
interface Running {
  service: ServiceProcess;
  apiKey: string;
  /** The Akubela simulator the service talks to: ours in production, its in-process one in demo mode. */
  akubelaUrl: string;
  aliyunUrl: string;
}

async function start(mode: Mode, withRedis: boolean, env: Record<string, string> = {}): Promise<Running> {
  const service = await spawnService({
    env: { NODE_ENV: mode, ...(mode === "production" ? vendors.env : {}), ...(withRedis ? { REDIS_URL: redis.url } : {}), ...env },
  });
  started.push(service);
  if (mode === "production") return { service, apiKey: PROD_API_KEY, akubelaUrl: vendors.akubela.url, aliyunUrl: vendors.aliyun.url };
  const simUrl = (msg: string) => String(service.logs().find((l) => l.msg === msg)?.simulatorUrl);
  return {
    service,
    apiKey: DEMO_API_KEY,
    akubelaUrl: simUrl("demo mode: Akubela simulator started"),
    aliyunUrl: simUrl("demo mode: Aliyun gateway simulator started"),
  };
}

/** Makes the Akubela command slow (over the simulator's control route, which works for the in-process one too). */
async function slowVendor(akubelaUrl: string, latencyMs: number) {
  await fetch(`${akubelaUrl}/__sim/received`, { method: "DELETE" });
  const res = await fetch(`${akubelaUrl}/__sim/faults`, { method: "POST", body: JSON.stringify({ kind: "latency", command: SLOW_COMMAND, latencyMs }) });
  expect(res.status).toBe(200);
}

/** Sends the slow query and resolves once the vendor has received its command: the request is in flight. */
async function requestInFlight(r: Running): Promise<{ response: Promise<Response> }> {
  const inFlight = graphql(r.service.base, r.apiKey, DEVICES, { p: DEMO_PROJECT_ID });
  inFlight.catch(() => {});
  await until("the request to reach the vendor", async () => {
    const received = (await (await fetch(`${r.akubelaUrl}/__sim/received`)).json()) as { command?: string }[];
    return received.some((c) => c.command === SLOW_COMMAND);
  });
  return { response: inFlight };
}

const refused = (url: string) => fetch(url).then(() => false, () => true);

describe.each([
  { mode: "production" as const, withRedis: true, signal: "SIGTERM" as const },
  { mode: "production" as const, withRedis: false, signal: "SIGINT" as const },
  { mode: "development" as const, withRedis: true, signal: "SIGINT" as const },
  { mode: "development" as const, withRedis: false, signal: "SIGTERM" as const },
])("the service process, $mode mode, Redis: $withRedis", ({ mode, withRedis, signal }) => {
  it(`${signal}: the request in flight is finished and answered; the cache${mode === "development" ? " and the in-process simulators" : ""} closed; exit code 0`, async () => {
    const r = await start(mode, withRedis);
    await slowVendor(r.akubelaUrl, 1500);
    const inFlight = (await requestInFlight(r)).response;
    r.service.child.kill(signal);
    const res = await inFlight;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { project: { devices: unknown[] } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data.project.devices.length).toBeGreaterThan(0);
    expect(await r.service.exited).toBe(0);

    const logs = r.service.logs();
    const messages = logs.map((l) => l.msg);
    expect(messages).toEqual(expect.arrayContaining(["shutting down: finishing requests in flight", "cache closed", "stopped"]));
    expect(messages.indexOf("cache closed")).toBeGreaterThan(messages.indexOf("shutting down: finishing requests in flight"));
    expect(logs.find((l) => l.msg === "cache closed")?.kind).toBe(withRedis ? "redis" : "memory");
    expect(logs.find((l) => l.msg === "shutting down: finishing requests in flight")?.signal).toBe(signal);
    expect(await refused(`${r.service.base}/healthz`)).toBe(true);
    if (mode === "development") {
      // Demo mode's simulators were the process's own: they are gone with it.
      expect(await refused(`${r.akubelaUrl}/__sim/received`)).toBe(true);
      expect(await refused(`${r.aliyunUrl}/__sim/received`)).toBe(true);
    } else {
      expect(await refused(`${r.akubelaUrl}/__sim/received`)).toBe(false);
    }
  });
});

describe("the service process, bounded shutdown", () => {
  it("a request slower than SHUTDOWN_GRACE_MS is cut when the grace ends, and the process still exits 0", async () => {
    const r = await start("development", false, { SHUTDOWN_GRACE_MS: "300" });
    await slowVendor(r.akubelaUrl, 15_000);
    const inFlight = (await requestInFlight(r)).response;
    r.service.child.kill("SIGTERM");
    const outcome = await Promise.race([inFlight.then((res) => `answered ${res.status}`, () => "cut"), r.service.exited.then((code) => `exited ${code}`)]);
    // The process is gone (or the connection cut) while the vendor still holds the command.
    expect(["cut", "exited 0"]).toContain(outcome);
    expect(await r.service.exited).toBe(0);
    expect(await inFlight.then(() => "answered", () => "cut")).toBe("cut");
    expect(r.service.logs().find((l) => l.msg === "shutting down: finishing requests in flight")?.graceMs).toBe(300);
  });

  it("a second Ctrl-C exits at once, without waiting for the request in flight", async () => {
    const r = await start("development", false, { SHUTDOWN_GRACE_MS: "60000" });
    await slowVendor(r.akubelaUrl, 15_000);
    const inFlight = (await requestInFlight(r)).response;
    r.service.child.kill("SIGINT");
    await until("the first signal to be taken", async () => r.service.logs().some((l) => l.msg === "shutting down: finishing requests in flight"));
    r.service.child.kill("SIGINT");
    expect(await r.service.exited).toBe(130);
    expect(await inFlight.then(() => "answered", () => "cut")).toBe("cut");
    expect(r.service.logs().some((l) => l.msg === "second signal: exiting at once")).toBe(true);
  });
});

describe("the service process, readiness", () => {
  it("/healthz says alive; /readyz says whether the vendors and Redis answer: Redis gone is degraded, not unready (the cache fails open)", async () => {
    const own = await startRedis();
    const r = await start("production", false, { REDIS_URL: own.url });
    const readyz = async () => {
      const res = await fetch(`${r.service.base}/readyz`);
      return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, string> } };
    };
    try {
      expect((await fetch(`${r.service.base}/healthz`)).status).toBe(200);
      await until("ready", async () => (await readyz()).status === 200 && (await readyz()).body.checks.idempotency === "ok");
      expect((await readyz()).body).toEqual({ status: "ready", checks: { akubela: "ok", aliyun: "ok", cache: "ok", idempotency: "ok" } });
      await own.kill();
      // Readiness is cached for 2 s: wait for a fresh answer that has seen Redis go.
      await until("degraded without Redis", async () => (await readyz()).body.checks.cache !== "ok");
      const without = await readyz();
      expect(without.status).toBe(200); // still taking traffic: reads go to the vendors, keyed mutations are refused
      expect(without.body.checks.cache).toMatch(/^degraded \(unreachable/);
      expect(without.body.checks.idempotency).toMatch(/^degraded \(unreachable/);
      expect((await fetch(`${r.service.base}/healthz`)).status).toBe(200); // alive all the same
      await own.restart();
      await until("ok again", async () => (await readyz()).body.checks.cache === "ok");
    } finally {
      r.service.kill();
      await own.stop();
    }
  });
});
