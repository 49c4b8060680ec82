import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_API_KEY, DEMO_API_KEYS_PATH, DEMO_SITE_MAP_PATH } from "../src/app.js";
import { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, startAkubelaSimulator, type AkubelaSimulator } from "../src/simulators/akubela/index.js";
import { DEMO_ALIYUN_APP_KEY, DEMO_ALIYUN_APP_SECRET, startAliyunSimulator, type AliyunSimulator } from "../src/simulators/aliyun/index.js";
import { freePort, startRedis, type RedisServer } from "./helpers/redis.js";

/** The service as operators run it: `src/index.ts` in its own process, against the simulators and a real Redis. */
let akubela: AkubelaSimulator;
let aliyun: AliyunSimulator;
let redis: RedisServer;
let server: ChildProcess;
let url: string;
const output: string[] = [];

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${output.join("")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  akubela = await startAkubelaSimulator({ quiet: true });
  aliyun = await startAliyunSimulator({ quiet: true });
  redis = await startRedis();
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("../src/index.ts", import.meta.url))], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      PORT: String(port),
      AKUBELA_BASE_URL: akubela.url,
      AKUBELA_TOKEN: DEMO_AKUBELA_TOKEN,
      AKUBELA_PROJECT_IDS: DEMO_PROJECT_ID,
      ALIYUN_BASE_URL: aliyun.url,
      ALIYUN_APP_KEY: DEMO_ALIYUN_APP_KEY,
      ALIYUN_APP_SECRET: DEMO_ALIYUN_APP_SECRET,
      SITE_MAP: DEMO_SITE_MAP_PATH,
      API_KEYS_FILE: DEMO_API_KEYS_PATH,
      REDIS_URL: redis.url,
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout!.on("data", (d) => output.push(String(d)));
  server.stderr!.on("data", (d) => output.push(String(d)));
  await until("the server to listen", async () => (await fetch(`${url}/healthz`)).ok);
}, 60_000);

afterAll(async () => {
  if (server.exitCode === null) server.kill("SIGKILL");
  await akubela.close();
  await aliyun.close();
  await redis.stop();
});

const readyz = async () => {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, string> } };
};

describe("the service process", () => {
  it("/healthz says alive; /readyz says whether the vendors and Redis answer, and follows Redis going and coming back", async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await until("ready", async () => (await readyz()).status === 200);
    expect((await readyz()).body).toEqual({ status: "ready", checks: { akubela: "ok", aliyun: "ok", cache: "ok" } });
    await redis.kill();
    await until("not ready without Redis", async () => (await readyz()).status === 503);
    expect((await readyz()).body.checks.cache).toBe("unreachable");
    expect((await fetch(`${url}/healthz`)).status).toBe(200); // alive all the same
    await redis.restart();
    await until("ready again", async () => (await readyz()).status === 200);
  });

  it("SIGTERM: the request in flight is finished and answered, Redis closed, exit code 0", async () => {
    akubela.injectFault({ kind: "latency", command: "get_visitor_temp_key_device_list", latencyMs: 1500 });
    const inFlight = fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": DEMO_API_KEY },
      body: JSON.stringify({ query: `query($p: ID!) { project(projectId: $p) { devices { name } } }`, variables: { p: DEMO_PROJECT_ID } }),
    });
    await until("the request to reach the vendor", async () => akubela.calls("get_visitor_temp_key_device_list").length > 0);
    const exited = once(server, "exit");
    server.kill("SIGTERM");
    const res = await inFlight;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { project: { devices: unknown[] } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data.project.devices.length).toBeGreaterThan(0);
    const [code] = await exited;
    expect(code).toBe(0);
    const lines = output.join("").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { msg: string });
    const messages = lines.map((l) => l.msg);
    expect(messages).toEqual(expect.arrayContaining(["shutting down: finishing requests in flight", "cache closed", "stopped"]));
    expect(messages.indexOf("cache closed")).toBeGreaterThan(messages.indexOf("shutting down: finishing requests in flight"));
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
