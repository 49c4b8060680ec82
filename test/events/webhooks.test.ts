/**
 * Webhooks end to end: the graph on a real redis-server, the Akubela simulator, and real local HTTP receivers that
 * verify every delivery with `standardwebhooks` `Webhook.verify`. Events are injected through the simulator's
 * control route (`POST /__sim/events`) and reach the graph through its poller. Waits are on conditions (a request
 * arrived, the simulator was polled again), never on time; the retry schedule is scaled down by configuration.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { Webhook } from "standardwebhooks";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID, DEMO_AKUBELA_TOKEN, startStack, TEST_API_KEYS, type Stack } from "../helpers/stack.js";

const ENV = {
  EVENTS_POLL: "true",
  EVENTS_POLL_MIN_INTERVAL_MS: "100",
  EVENTS_POLL_MAX_INTERVAL_MS: "300",
  EVENTS_POLL_BUDGET_PER_MINUTE: "100000",
  WEBHOOK_ALLOW_HTTP_LOOPBACK: "true",
  WEBHOOK_SECRET_KEY: "a".repeat(64),
  WEBHOOK_RETRY_SCHEDULE: "0,100ms,200ms,400ms,800ms,1600ms",
  WEBHOOK_DISABLE_AFTER_MS: "1200",
  WEBHOOK_TICK_MS: "50",
};

interface Received {
  headers: Record<string, string>;
  body: string;
  /** What `Webhook.verify` answered with the secret the receiver knows, or the error it threw. */
  verified: { ok: true; payload: any } | { ok: false; error: string };
}

/** A webhook receiver on a loopback port: answers `statuses` in turn (the last one from then on). */
async function startReceiver(statuses: number[] = [200]) {
  const got: Received[] = [];
  const state = { secret: "", answers: [...statuses] };
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    let verified: Received["verified"];
    try {
      verified = { ok: true, payload: new Webhook(state.secret).verify(body, headers) };
    } catch (error) {
      verified = { ok: false, error: (error as Error).message };
    }
    got.push({ headers, body, verified });
    const status = state.answers.length > 1 ? state.answers.shift()! : state.answers[0]!;
    res.writeHead(status).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    got,
    state,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

let redis: RedisServer;
let s: Stack;
const receivers: Receiver[] = [];
beforeAll(async () => {
  redis = await startRedis();
  s = await startStack({ env: { ...ENV, REDIS_URL: redis.url } });
}, 30_000);
afterAll(async () => {
  await s?.close();
  await Promise.all(receivers.map((r) => r.close()));
  await redis.stop();
});

const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

const residence = (projectId = DEMO_PROJECT_ID) => [...s.sim.state.projects.get(projectId)!.residences.values()][0]!;
const historyPolls = (residenceId: string, command = "get_akuvox_open_door_history") =>
  s.sim.calls(command).filter((c) => (c.param as { residence_id?: string }).residence_id === residenceId).length;
const polledAgain = async (residenceId: string, extra = 2, command?: string) => {
  const seen = historyPolls(residenceId, command);
  await until("the residence's history to be polled again", () => historyPolls(residenceId, command) >= seen + extra);
};

/** Injects an event through the simulator's control route, as a Sandbox user would. */
async function inject(spec: Record<string, unknown>) {
  const res = await fetch(`${s.sim.url}/__sim/events`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(spec) });
  expect(res.status).toBe(200);
}

const REGISTER = `mutation($input: WebhookEndpointRegisterInput!) { webhookEndpointRegister(input: $input) { secret endpoint { id url kinds projectIds enabled } userErrors { field message code } } }`;
const ROTATE = `mutation($input: WebhookEndpointIdInput!) { webhookEndpointSecretRotate(input: $input) { secret endpoint { id secretRotatedAt } userErrors { code } } }`;
const DELETE = `mutation($input: WebhookEndpointIdInput!) { webhookEndpointDelete(input: $input) { deletedId userErrors { field code } } }`;
const LIST = `query { webhookEndpoints { id url kinds projectIds pictures enabled failingSince disabledAt createdAt secretRotatedAt deliveries(first: 50) { deliveryId eventId eventKind projectId cursor state nextAttemptAt attempts { attemptedAt status error durationMs } } } }`;

async function register(receiver: Receiver, input: Record<string, unknown>, key: string = TEST_API_KEYS.admin.key) {
  const res = await s.gql(REGISTER, { input: { url: receiver.url, ...input } }, null, { "x-api-key": key });
  expect(res.errors).toBeUndefined();
  const payload = res.data.webhookEndpointRegister;
  expect(payload.userErrors).toEqual([]);
  receiver.state.secret = payload.secret;
  return payload as { secret: string; endpoint: { id: string } };
}

async function listed(id: string, key: string = TEST_API_KEYS.admin.key) {
  const res = await s.gql(LIST, {}, null, { "x-api-key": key });
  expect(res.errors).toBeUndefined();
  return { endpoint: res.data.webhookEndpoints.find((e: any) => e.id === id), text: JSON.stringify(res.data) };
}

const eventsOf = (r: Receiver) => r.got.map((g) => JSON.parse(g.body));

describe("webhooks", () => {
  it("an injected door opening arrives once, signed per Standard Webhooks; the secret is in no list, log or store", async () => {
    const receiver = await startReceiver([200]);
    receivers.push(receiver);
    const r = residence();
    const { secret, endpoint } = await register(receiver, { projectIds: [DEMO_PROJECT_ID], kinds: ["DOOR_OPENED"] });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await until("the poller to have seen the residence", () => historyPolls(r.residence_id) >= 1);

    await inject({ type: "open_door", residenceId: r.residence_id, method: "PIN", accountName: "Grace Hopper" });
    await until("the delivery", () => receiver.got.length > 0);
    await polledAgain(r.residence_id, 3);

    expect(receiver.got).toHaveLength(1);
    const [hit] = receiver.got;
    expect(hit!.verified).toMatchObject({ ok: true });
    const body = JSON.parse(hit!.body);
    expect(body).toMatchObject({ type: "access_event.door_opened", data: { kind: "DOOR_OPENED", method: "PIN", projectId: DEMO_PROJECT_ID, residenceId: r.residence_id, accountName: "Grace Hopper" } });
    expect(hit!.headers["webhook-id"]).toBe(body.data.eventId);
    expect(hit!.headers["webhook-signature"]).toMatch(/^v1,/);
    expect(Number(hit!.headers["webhook-timestamp"])).toBeGreaterThan(0);
    // The same event in the graph's feed, by its id.
    const feed = await s.gql(`query($p: ID!) { accessEvents(projectId: $p, kinds: [DOOR_OPENED], first: 100) { nodes { eventId } } }`, { p: DEMO_PROJECT_ID });
    expect(feed.data.accessEvents.nodes.map((n: any) => n.eventId)).toContain(body.data.eventId);
    // A signature with another secret does not verify.
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString("base64")}`).verify(hit!.body, hit!.headers)).toThrow();

    const { endpoint: seen, text } = await listed(endpoint.id);
    expect(seen).toMatchObject({ url: receiver.url, kinds: ["DOOR_OPENED"], projectIds: [DEMO_PROJECT_ID], enabled: true, pictures: false });
    expect(seen.deliveries).toHaveLength(1);
    expect(seen.deliveries[0]).toMatchObject({ eventId: body.data.eventId, state: "SUCCEEDED", nextAttemptAt: null, attempts: [{ status: 200, error: null }] });
    expect(text).not.toContain(secret);
    expect(text).not.toContain(secret.slice("whsec_".length));
    expect(s.logText()).not.toContain(secret.slice("whsec_".length));
    expect(s.app.webhooks!.store.kind).toBe("redis");
    const store = new Redis(redis.url);
    const raw = JSON.stringify(await store.hgetall("{webhooks}:endpoints"));
    await store.quit();
    expect(raw).toContain(endpoint.id);
    expect(raw).not.toContain(secret.slice("whsec_".length));
  }, 60_000);

  it("a receiver answering 500 gets retries on the schedule, then the event; the delivery log shows every attempt", async () => {
    const receiver = await startReceiver([500, 500, 200]);
    receivers.push(receiver);
    const r = residence();
    const { endpoint } = await register(receiver, { projectIds: [DEMO_PROJECT_ID], kinds: ["CALL"] });
    await until("the poller to have seen the residence's calls", () => historyPolls(r.residence_id, "get_akuvox_call_history") >= 1);

    await inject({ type: "call", residenceId: r.residence_id, callerName: "Front gate" });
    await until("three attempts", () => receiver.got.length >= 3);
    await until("the delivery log to record the success", async () => (await listed(endpoint.id)).endpoint.deliveries[0]?.state === "SUCCEEDED");
    await polledAgain(r.residence_id, 3, "get_akuvox_call_history");

    expect(receiver.got).toHaveLength(3);
    expect(receiver.got.every((g) => g.verified.ok)).toBe(true);
    expect(new Set(receiver.got.map((g) => g.headers["webhook-id"])).size).toBe(1);
    expect(new Set(receiver.got.map((g) => g.body)).size).toBe(1);
    expect(eventsOf(receiver)[0]).toMatchObject({ type: "access_event.call", data: { kind: "CALL", residenceId: r.residence_id, deviceName: "Front gate" } });
    const { endpoint: seen } = await listed(endpoint.id);
    expect(seen.deliveries).toHaveLength(1);
    const [d] = seen.deliveries;
    expect(d.attempts.map((a: any) => [a.status, a.error])).toEqual([
      [500, "HTTP 500"],
      [500, "HTTP 500"],
      [200, null],
    ]);
    const at = d.attempts.map((a: any) => Date.parse(a.attemptedAt));
    // Each retry waited at least its place in the schedule (100 ms, then 200 ms).
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(100);
    expect(at[2] - at[1]).toBeGreaterThanOrEqual(200);
    expect(seen).toMatchObject({ enabled: true, failingSince: null });
  }, 60_000);

  it("an endpoint of project P1 never gets a P2 event; a P2 endpoint gets it", async () => {
    const p1 = await startReceiver();
    const p2 = await startReceiver();
    receivers.push(p1, p2);
    await register(p1, { projectIds: [DEMO_PROJECT_ID] });
    await register(p2, { projectIds: [DEMO_SECOND_PROJECT_ID] }, TEST_API_KEYS.secondProject.key);
    const r1 = residence(DEMO_PROJECT_ID);
    const r2 = residence(DEMO_SECOND_PROJECT_ID);
    await until("the poller to have seen both residences", () => historyPolls(r1.residence_id) >= 1 && historyPolls(r2.residence_id) >= 1);

    await inject({ type: "open_door", residenceId: r2.residence_id, accountName: "Second Project" });
    await inject({ type: "open_door", residenceId: r1.residence_id, accountName: "First Project" });
    await until("both deliveries", () => eventsOf(p1).some((e) => e.data.residenceId === r1.residence_id) && eventsOf(p2).some((e) => e.data.residenceId === r2.residence_id));
    await polledAgain(r2.residence_id, 3);

    expect(eventsOf(p1).length).toBeGreaterThan(0);
    expect(eventsOf(p1).every((e) => e.data.projectId === DEMO_PROJECT_ID)).toBe(true);
    expect(eventsOf(p2).every((e) => e.data.projectId === DEMO_SECOND_PROJECT_ID)).toBe(true);
    expect([...p1.got, ...p2.got].every((g) => g.verified.ok)).toBe(true);
  }, 60_000);

  it("refuses projects outside the key, other keys' endpoints, unsafe URLs, vendor tokens and keys without write", async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const outside = await s.gql(REGISTER, { input: { url: receiver.url, projectIds: [DEMO_PROJECT_ID] } }, null, { "x-api-key": TEST_API_KEYS.secondProject.key });
    expect(outside.data.webhookEndpointRegister).toMatchObject({ secret: null, endpoint: null, userErrors: [{ field: ["input", "projectIds", "0"], code: "NOT_FOUND" }] });
    for (const url of ["http://example.com/hooks", "https://user:pw@example.com/hooks", "ftp://127.0.0.1/x", "not a url", "http://10.0.0.1/hooks"]) {
      const bad = await s.gql(REGISTER, { input: { url, projectIds: [DEMO_PROJECT_ID] } });
      expect(bad.data.webhookEndpointRegister.userErrors[0]).toMatchObject({ field: ["input", "url"], code: "INVALID" });
      expect(JSON.stringify(bad)).not.toContain("pw@");
    }
    const reader = await s.gql(REGISTER, { input: { url: receiver.url, projectIds: [DEMO_PROJECT_ID] } }, null, { "x-api-key": TEST_API_KEYS.reader.key });
    expect(reader.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const token = await s.gql(`query { webhookEndpoints { id } }`, {}, DEMO_AKUBELA_TOKEN);
    expect(token.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");

    const { endpoint } = await register(receiver, { projectIds: [DEMO_PROJECT_ID] });
    const theirs = await s.gql(`query { webhookEndpoints { id } }`, {}, null, { "x-api-key": TEST_API_KEYS.secondProject.key });
    expect(theirs.data.webhookEndpoints.map((e: any) => e.id)).not.toContain(endpoint.id);
    const stolen = await s.gql(DELETE, { input: { id: endpoint.id } }, null, { "x-api-key": TEST_API_KEYS.secondProject.key });
    expect(stolen.data.webhookEndpointDelete).toEqual({ deletedId: null, userErrors: [{ field: ["input", "id"], code: "NOT_FOUND" }] });
    const deleted = await s.gql(DELETE, { input: { id: endpoint.id } });
    expect(deleted.data.webhookEndpointDelete).toEqual({ deletedId: endpoint.id, userErrors: [] });
    expect((await listed(endpoint.id)).endpoint).toBeUndefined();
  }, 60_000);

  it("after a rotation deliveries verify with the new secret only", async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const r = residence();
    const first = await register(receiver, { projectIds: [DEMO_PROJECT_ID], kinds: ["DOOR_OPENED"] });
    const rotated = await s.gql(ROTATE, { input: { id: first.endpoint.id } });
    const secret = rotated.data.webhookEndpointSecretRotate.secret as string;
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(first.secret);
    receiver.state.secret = secret;
    await until("the poller to have seen the residence", () => historyPolls(r.residence_id) >= 1);
    await inject({ type: "open_door", residenceId: r.residence_id, accountName: "After Rotation" });
    await until("the delivery", () => eventsOf(receiver).some((e) => e.data.accountName === "After Rotation"));
    const hit = receiver.got.find((g) => JSON.parse(g.body).data.accountName === "After Rotation")!;
    expect(hit.verified.ok).toBe(true);
    expect(() => new Webhook(first.secret).verify(hit.body, hit.headers)).toThrow();
    expect(s.logText()).not.toContain(secret.slice("whsec_".length));
    await s.gql(DELETE, { input: { id: first.endpoint.id } });
  }, 60_000);

  it("an endpoint failing for WEBHOOK_DISABLE_AFTER_MS is disabled and gets nothing more until enabled", async () => {
    const receiver = await startReceiver([503]);
    receivers.push(receiver);
    const r = residence();
    const { endpoint } = await register(receiver, { projectIds: [DEMO_PROJECT_ID], kinds: ["DEVICE_OFFLINE", "DOOR_OPENED"] });
    await until("the poller to have seen the residence", () => historyPolls(r.residence_id) >= 1);
    await inject({ type: "open_door", residenceId: r.residence_id, accountName: "Nobody Home" });
    await until("the endpoint to be disabled", async () => (await listed(endpoint.id)).endpoint.enabled === false);
    const { endpoint: seen } = await listed(endpoint.id);
    expect(seen.disabledAt).not.toBeNull();
    expect(seen.failingSince).not.toBeNull();
    const tried = receiver.got.length;
    expect(tried).toBeGreaterThanOrEqual(2);
    expect(receiver.got.every((g) => g.verified.ok)).toBe(true);
    await until("the pending delivery to stop", async () => (await listed(endpoint.id)).endpoint.deliveries.every((d: any) => d.state !== "PENDING"));

    await inject({ type: "open_door", residenceId: r.residence_id, accountName: "While Disabled" });
    await polledAgain(r.residence_id, 3);
    expect(eventsOf(receiver).some((e) => e.data.accountName === "While Disabled")).toBe(false);

    const enabled = await s.gql(`mutation($input: WebhookEndpointIdInput!) { webhookEndpointEnable(input: $input) { endpoint { enabled failingSince } userErrors { code } } }`, { input: { id: endpoint.id } });
    expect(enabled.data.webhookEndpointEnable).toEqual({ endpoint: { enabled: true, failingSince: null }, userErrors: [] });
    receiver.state.answers = [200];
    await inject({ type: "open_door", residenceId: r.residence_id, accountName: "Back Again" });
    await until("the delivery after enabling", () => eventsOf(receiver).some((e) => e.data.accountName === "Back Again"));
  }, 60_000);

  it("without a sealing key outside production, endpoints live in this process only (nothing in Redis) and still deliver", async () => {
    const { WEBHOOK_SECRET_KEY: _none, ...env } = ENV;
    const local = await startStack({ env: { ...env, EVENTS_POLL: "false", REDIS_URL: redis.url }, shareSimulatorsWith: s });
    try {
      expect(local.app.webhooks!.store.kind).toBe("memory");
      const receiver = await startReceiver();
      receivers.push(receiver);
      const res = await local.gql(REGISTER, { input: { url: receiver.url, projectIds: [DEMO_PROJECT_ID], kinds: ["REMOTE_OPEN_REQUESTED"] } });
      const { secret, endpoint } = res.data.webhookEndpointRegister;
      receiver.state.secret = secret;
      const store = new Redis(redis.url);
      expect(await store.hexists("{webhooks}:endpoints", endpoint.id)).toBe(0);
      await store.quit();
      // The graph's own door opening is published at once (no poller here) and delivered.
      const r = residence();
      const device = [...s.sim.state.projects.get(DEMO_PROJECT_ID)!.devices.values()].find((d) => d.scope === "building" && d.building_id === r.building_id && d.online)!;
      const { toGlobalId } = await import("../../src/lib/global-id.js");
      const opened = await local.gql(`mutation($input: DoorOpenInput!) { doorOpen(input: $input) { outcome } }`, {
        input: { device: toGlobalId("AkuvoxDevice", DEMO_PROJECT_ID, device.mac), residence: toGlobalId("Residence", DEMO_PROJECT_ID, r.residence_id) },
      });
      expect(opened.data.doorOpen.outcome).toBe("OPENED");
      expect(s.sim.calls("trigger_akuvox_remote_open_door").some((c) => (c.param as { mac?: string }).mac === device.mac)).toBe(true);
      await until("the delivery", () => eventsOf(receiver).some((e) => e.type === "access_event.remote_open_requested"));
      expect(receiver.got.every((g) => g.verified.ok)).toBe(true);
      expect(eventsOf(receiver)[0].data).toMatchObject({ kind: "REMOTE_OPEN_REQUESTED", deviceId: device.mac, projectId: DEMO_PROJECT_ID });
    } finally {
      await local.close();
    }
  }, 60_000);

  it("in production without WEBHOOK_SECRET_KEY or TOKEN_ENCRYPTION_KEY webhooks are off and the mutations say why", async () => {
    const prod = await startStack({ env: { NODE_ENV: "production", AKUBELA_TOKEN: "a-production-token-not-the-demo", ALIYUN_APP_KEY: "prod-app-key", ALIYUN_APP_SECRET: "prod-app-secret", REDIS_URL: redis.url }, shareSimulatorsWith: s });
    try {
      expect(prod.app.webhooks).toBeUndefined();
      const res = await prod.gql(REGISTER, { input: { url: "https://hooks.example.test/in", projectIds: [DEMO_PROJECT_ID] } });
      expect(res.errors?.[0]).toMatchObject({ extensions: { code: "FORBIDDEN" } });
      expect(res.errors?.[0]?.message).toContain("WEBHOOK_SECRET_KEY");
      expect(prod.logText()).toContain("webhooks are off");
    } finally {
      await prod.close();
    }
  }, 60_000);
});
