import { connect } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, startStack, type Stack } from "../helpers/stack.js";
import { until } from "../helpers/service.js";
import { freePort, startRedis, startRedisCluster, type RedisCluster, type RedisServer } from "../helpers/redis.js";

const ON = { CACHE_DEVICE_LIST_TTL_SECONDS: "300", CACHE_PERSON_TTL_SECONDS: "300", CACHE_KEEP_OPEN_TTL_SECONDS: "60" };
const OTHER_TOKEN = "second-tenant-token-5150";
const DEVICE_LISTS = ["get_akuvox_device_list", "get_visitor_temp_key_device_list"];

/** The batching query of the first issue: every residence's accounts with credentials, and devices. */
const DASHBOARD = `query($p: ID!) { project(projectId: $p) { devices { name } buildings { devices { name } residences {
  accounts { accountId credentials { pinCodes { number } } } devices { mac relays { relayId } } } } } }`;

const deviceListCalls = (stack: Stack) => stack.sim.received().filter((c) => DEVICE_LISTS.includes(c.command ?? "")).length;
const residenceWithAccounts = (stack: Stack) => [...stack.sim.state.projects.get(DEMO_PROJECT_ID)!.accounts.values()][0].residence_id;
const DEVICES = `query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { devices { mac name } } }`;

async function health(stack: Stack): Promise<{ cache: { kind: string; ready: boolean; hits: number; misses: number; errors: number; joined: number } }> {
  return (await fetch(stack.url.replace(/\/graphql$/, "/healthz"))).json() as never;
}

/** Whether Redis answers a PING within `ms` (false while it is blocked by DEBUG SLEEP). */
function answersWithin(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, ms);
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}


describe("device lists cached in a real Redis", () => {
  let redis: RedisServer;
  let stack: Stack;
  beforeAll(async () => {
    redis = await startRedis();
    stack = await startStack({ env: { ...ON, REDIS_URL: redis.url }, sim: { tokens: [DEMO_AKUBELA_TOKEN, OTHER_TOKEN] } });
    await until("the cache to connect", async () => (await health(stack)).cache.ready);
  });
  afterAll(async () => {
    await stack.close();
    await redis.stop();
  });
  beforeEach(() => stack.reset());

  it("warm cache: the batching query run twice sends zero device-list calls the second time", async () => {
    const first = await stack.gql(DASHBOARD, { p: DEMO_PROJECT_ID });
    expect(first.errors).toBeUndefined();
    const cold = deviceListCalls(stack);
    expect(cold).toBeGreaterThan(10);
    stack.sim.clearReceived();
    const second = await stack.gql(DASHBOARD, { p: DEMO_PROJECT_ID });
    expect(second.data).toEqual(first.data);
    expect(deviceListCalls(stack)).toBe(0);
    // What is not cached is still asked for: the accounts and their credentials.
    expect(stack.sim.calls("get_user_access_info").length).toBeGreaterThan(0);
    const keys = (await redis.cli("--scan", "--pattern", "acg:v1:*:akubela:*")).trim().split("\n");
    expect(keys).toHaveLength(cold);
    expect(keys.join("\n")).not.toContain(DEMO_AKUBELA_TOKEN);
  });

  it("two server instances on one Redis: the second instance's first query hits the cache", async () => {
    await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r: residenceWithAccounts(stack) });
    expect(deviceListCalls(stack)).toBe(1);
    const second = await startStack({ env: { ...ON, REDIS_URL: redis.url }, shareSimulatorsWith: stack });
    try {
      await until("the second instance's cache", async () => (await health(second)).cache.ready);
      stack.sim.clearReceived();
      const res = await second.gql(DEVICES, { p: DEMO_PROJECT_ID, r: residenceWithAccounts(stack) });
      expect(res.errors).toBeUndefined();
      expect(res.data.residence.devices.length).toBeGreaterThan(0);
      expect(deviceListCalls(stack)).toBe(0);
      expect((await health(second)).cache.hits).toBe(1);
    } finally {
      await second.close();
    }
  });

  it("two callers with different credentials: separate entries, no cross-over, no token in any key", async () => {
    const r = residenceWithAccounts(stack);
    await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r });
    await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r }, OTHER_TOKEN);
    const calls = stack.sim.calls("get_akuvox_device_list");
    expect(calls.map((c) => c.authorization)).toEqual([`Bearer ${DEMO_AKUBELA_TOKEN}`, `Bearer ${OTHER_TOKEN}`]);
    stack.sim.clearReceived();
    await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r }, OTHER_TOKEN);
    await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r });
    expect(deviceListCalls(stack)).toBe(0);
    const keys = (await redis.cli("--scan", "--pattern", "acg:v1:*:akubela:get_akuvox_device_list:*")).trim().split("\n").sort();
    expect(keys).toHaveLength(2);
    const scopes = keys.map((k) => k.split(":")[2]);
    expect(new Set(scopes).size).toBe(2);
    expect(scopes.every((s) => /^(srv|bearer)-[0-9a-f]{32}$/.test(s))).toBe(true);
    expect(keys.join("\n")).not.toMatch(new RegExp(`${DEMO_AKUBELA_TOKEN}|${OTHER_TOKEN}`));
  });

  it("stampede: 20 concurrent requests missing the same key send one vendor call", async () => {
    stack.sim.clearReceived();
    const r = residenceWithAccounts(stack);
    const answers = await Promise.all(Array.from({ length: 20 }, () => stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r })));
    expect(answers.every((a) => a.errors === undefined && a.data.residence.devices.length > 0)).toBe(true);
    expect(stack.sim.calls("get_akuvox_device_list")).toHaveLength(1);
  });

  it("Cache-Control: no-cache bypasses the cache and stores the fresh answer", async () => {
    const r = residenceWithAccounts(stack);
    await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r });
    await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r }, DEMO_AKUBELA_TOKEN, { "cache-control": "no-cache" });
    await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r });
    expect(stack.sim.calls("get_akuvox_device_list")).toHaveLength(2);
  });

  it("a mutation removes what it made stale: keepOpenSet, then keepOpen reads the gateway again", async () => {
    const iotId = [...stack.aliyun.state.devices.keys()][0];
    const KEEP = `query($i: ID!) { aliyunDevice(iotId: $i) { keepOpen } }`;
    expect((await stack.gql(KEEP, { i: iotId })).data.aliyunDevice.keepOpen).toBe(false);
    expect((await stack.gql(KEEP, { i: iotId })).data.aliyunDevice.keepOpen).toBe(false);
    expect(stack.aliyun.calls("/entrance/paas/keepopen/get").length).toBe(1);
    const set = await stack.gql(`mutation($input: KeepOpenSetInput!) { keepOpenSet(input: $input) { userErrors { code } } }`, {
      input: { device: Buffer.from(JSON.stringify(["AliyunAccessControlDevice", iotId])).toString("base64url"), keepOpen: true },
    });
    expect(set.data.keepOpenSet.userErrors).toEqual([]);
    expect((await stack.gql(KEEP, { i: iotId })).data.aliyunDevice.keepOpen).toBe(true);
    expect(stack.aliyun.calls("/entrance/paas/keepopen/get").length).toBe(2);
    stack.aliyun.reset();
  });

  it("Redis slow (paused longer than the command timeout): requests are answered from the vendor, errors counted", async () => {
    const r = residenceWithAccounts(stack);
    const errorsBefore = (await health(stack)).cache.errors;
    // CLIENT PAUSE holds every client's commands, as an overloaded Redis would.
    await redis.cli("client", "pause", "2000", "ALL");
    expect(await answersWithin(redis.port, 150)).toBe(false);
    const started = Date.now();
    const res = await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r });
    const took = Date.now() - started;
    expect(res.errors).toBeUndefined();
    expect(res.data.residence.devices.length).toBeGreaterThan(0);
    expect(stack.sim.calls("get_akuvox_device_list")).toHaveLength(1);
    expect((await health(stack)).cache.errors).toBeGreaterThan(errorsBefore);
    // A bound, not a speed target: the answer did not wait for Redis to wake up.
    expect(took).toBeLessThan(1500);
    await until("Redis to answer again", () => answersWithin(redis.port, 500));
  });

  it("Redis killed mid-run: every request still answered; restarted: the cache comes back by itself and hits resume", async () => {
    const r = residenceWithAccounts(stack);
    await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r });
    const expected = (await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r })).data;
    await redis.kill();
    stack.sim.clearReceived();
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      const res = await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r });
      expect(res.errors).toBeUndefined();
      expect(res.data).toEqual(expected);
      expect(Date.now() - started).toBeLessThan(1500);
    }
    expect(stack.sim.calls("get_akuvox_device_list")).toHaveLength(5);
    await redis.restart();
    await until("the cache to reconnect", async () => (await health(stack)).cache.ready);
    stack.sim.clearReceived();
    await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r });
    await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r });
    expect(stack.sim.calls("get_akuvox_device_list")).toHaveLength(1);
  });
});

describe("Redis down at start", () => {
  it("starts, answers from the vendors, and says the cache is not ready", async () => {
    const port = await freePort();
    const stack = await startStack({ env: { ...ON, REDIS_URL: `redis://127.0.0.1:${port}` } });
    try {
      const r = residenceWithAccounts(stack);
      const res = await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r });
      expect(res.errors).toBeUndefined();
      expect(res.data.residence.devices.length).toBeGreaterThan(0);
      expect((await health(stack)).cache).toMatchObject({ kind: "redis", ready: false });
    } finally {
      await stack.close();
    }
  });
});

describe("Redis Cluster", () => {
  let cluster: RedisCluster;
  let stack: Stack;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    stack = await startStack({ env: { ...ON, REDIS_URL: cluster.url } });
    await until("the cluster cache", async () => (await health(stack)).cache.ready);
  }, 60_000);
  beforeEach(() => stack.reset());
  afterAll(async () => {
    await stack?.close();
    await cluster?.stop();
  });

  it("warm cache across the cluster's masters, and a second instance hits it", async () => {
    const first = await stack.gql(DASHBOARD, { p: DEMO_PROJECT_ID });
    expect(first.errors).toBeUndefined();
    expect((await health(stack)).cache.kind).toBe("redis-cluster");
    stack.sim.clearReceived();
    const second = await startStack({ env: { ...ON, REDIS_URL: cluster.url }, shareSimulatorsWith: stack });
    try {
      await until("the second instance's cluster cache", async () => (await health(second)).cache.ready);
      const again = await second.gql(DASHBOARD, { p: DEMO_PROJECT_ID });
      expect(again.data).toEqual(first.data);
      expect(deviceListCalls(stack)).toBe(0);
    } finally {
      await second.close();
    }
    // The entries are spread over the masters, not piled on one.
    const perNode = await Promise.all(cluster.ports.map(async (p) => Number((await cluster.cli("-p", String(p), "dbsize")).trim()) || 0));
    expect(perNode.filter((n) => n > 0).length).toBeGreaterThan(1);
  });
});
