import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEMO_MANAGER_PASSWORD,
  DEMO_MANAGER_USERNAME,
  DEMO_OAUTH_CLIENT_ID,
  DEMO_OAUTH_CLIENT_SECRET,
} from "../../src/simulators/akubela/index.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, startStack, useStack, type Stack } from "../helpers/stack.js";

/** The facade's own OAuth client, instead of a static server token. */
const OAUTH = {
  AKUBELA_TOKEN: "",
  AKUBELA_CLIENT_ID: DEMO_OAUTH_CLIENT_ID,
  AKUBELA_CLIENT_SECRET: DEMO_OAUTH_CLIENT_SECRET,
  AKUBELA_USERNAME: DEMO_MANAGER_USERNAME,
  AKUBELA_PASSWORD: DEMO_MANAGER_PASSWORD,
};
const DEVICES = `query($p: ID!) { project(projectId: $p) { devices { name } } }`;
const bearerOf = (stack: Stack) => stack.sim.calls("get_visitor_temp_key_device_list").map((c) => c.authorization);

describe("the facade's own Akubela token", () => {
  // A new stack per test: the facade holds its token in process, and a reseeded simulator no longer knows it.
  const stack = useStack({ env: OAUTH, fresh: true });

  it("is obtained with the manager login and used for API-key callers; secrets never logged", async () => {
    const res = await stack.gql(DEVICES, { p: DEMO_PROJECT_ID });
    expect(res.errors).toBeUndefined();
    expect(stack.sim.oauth.issued()).toBe(1);
    const [login] = stack.sim.calls("oauth2/token");
    expect(login.param).toEqual({ grant_type: "password", scope: "manager", username: DEMO_MANAGER_USERNAME, password: "***", client_id: DEMO_OAUTH_CLIENT_ID, client_secret: "***" });
    const [bearer] = bearerOf(stack);
    expect(bearer).toMatch(/^Bearer \S+$/);
    expect(bearer).not.toBe(`Bearer ${DEMO_AKUBELA_TOKEN}`);
    const logs = stack.logText();
    for (const secret of [DEMO_OAUTH_CLIENT_SECRET, DEMO_MANAGER_PASSWORD, bearer!.slice(7)]) expect(logs).not.toContain(secret);
  });

  it("expired at the vendor: the facade refreshes once and repeats the call; the caller never sees the expiry", async () => {
    // The token the facade holds, obtained here (each test has its own stack).
    expect((await stack.gql(DEVICES, { p: DEMO_PROJECT_ID })).errors).toBeUndefined();
    stack.sim.clearReceived();
    stack.sim.oauth.expireAll();
    const refreshedBefore = stack.sim.oauth.refreshed();
    const res = await stack.gql(DEVICES, { p: DEMO_PROJECT_ID });
    expect(res.errors).toBeUndefined();
    expect(stack.sim.oauth.refreshed()).toBe(refreshedBefore + 1);
    const calls = stack.sim.received().map((c) => [c.command, c.status]);
    expect(calls).toEqual([
      ["get_visitor_temp_key_device_list", 401],
      ["oauth2/token", 200],
      ["get_visitor_temp_key_device_list", 200],
    ]);
    expect(stack.sim.calls("oauth2/token")[0].param).toMatchObject({ grant_type: "refresh_token", refresh_token: "***" });
  });

  it("the token endpoint failing with no usable token: UPSTREAM_UNAVAILABLE (never the caller's 401), no secret, and a later request recovers", async () => {
    stack.sim.oauth.revokeAll();
    stack.sim.injectFault({ kind: "http_error", status: 503, command: "oauth2/token", times: 1 });
    const res = await stack.gql(DEVICES, { p: DEMO_PROJECT_ID });
    expect(res.errors?.[0].extensions?.code).toBe("UPSTREAM_UNAVAILABLE");
    expect(res.errors?.[0].message).toMatch(/could not be renewed.*HTTP 503/);
    expect(stack.sim.calls("oauth2/token").map((c) => c.status)).toContain(503);
    expect(JSON.stringify(res)).not.toContain(DEMO_OAUTH_CLIENT_SECRET);
    await new Promise((r) => setTimeout(r, 2500)); // past the jittered backoff
    const again = await stack.gql(DEVICES, { p: DEMO_PROJECT_ID });
    expect(again.errors).toBeUndefined();
  });
});

describe("refreshed before it expires", () => {
  it("a token near the end of its life is replaced before use: no call meets a 401", async () => {
    const stack = await startStack({ env: OAUTH, sim: { tokenTtlSeconds: 2 } });
    try {
      await stack.gql(DEVICES, { p: DEMO_PROJECT_ID });
      await new Promise((r) => setTimeout(r, 1700)); // past 80 % of the 2-second life
      stack.sim.clearReceived();
      const res = await stack.gql(DEVICES, { p: DEMO_PROJECT_ID });
      expect(res.errors).toBeUndefined();
      expect(stack.sim.received().map((c) => [c.command, c.status])).toEqual([
        ["oauth2/token", 200],
        ["get_visitor_temp_key_device_list", 200],
      ]);
    } finally {
      await stack.close();
    }
  });
});

describe("one refresh shared by all instances (through Redis)", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.stop());

  it("two instances, the vendor expiring the token under both: one refresh between them", async () => {
    const env = { ...OAUTH, REDIS_URL: redis.url, CACHE_DEVICE_LIST_TTL_SECONDS: "0", TOKEN_ENCRYPTION_KEY: "a".repeat(64) };
    const a = await startStack({ env });
    const b = await startStack({ env, shareSimulatorsWith: a });
    try {
      await a.gql(DEVICES, { p: DEMO_PROJECT_ID });
      await b.gql(DEVICES, { p: DEMO_PROJECT_ID });
      expect(a.sim.oauth.issued()).toBe(1); // b found a's token in the shared cache
      a.sim.oauth.expireAll();
      const before = a.sim.oauth.refreshed();
      const answers = await Promise.all([...Array(5)].flatMap(() => [a.gql(DEVICES, { p: DEMO_PROJECT_ID }), b.gql(DEVICES, { p: DEMO_PROJECT_ID })]));
      expect(answers.every((r) => r.errors === undefined)).toBe(true);
      expect(a.sim.oauth.refreshed() - before).toBe(1);
      expect(a.sim.oauth.issued()).toBe(2);
      const keys = await redis.cli("--scan", "--pattern", "acg:v1:*akubela-oauth*");
      expect(keys).not.toContain(DEMO_OAUTH_CLIENT_ID);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
