/**
 * Live access events end to end: two graph instances on one redis-server, the Akubela simulator, a real graphql-ws
 * client (WebSocket) and a real graphql-sse client. Waits are on conditions (the simulator received another poll),
 * never on time.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import { createClient as createSseClient, type Client as SseClient } from "graphql-sse";
import WebSocket from "ws";
import { toGlobalId } from "../../src/lib/global-id.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID, startStack, TEST_API_KEYS, userListPages, type Stack } from "../helpers/stack.js";

const ENV = {
  EVENTS_POLL: "true",
  EVENTS_POLL_MIN_INTERVAL_MS: "100",
  EVENTS_POLL_MAX_INTERVAL_MS: "300",
  EVENTS_POLL_BUDGET_PER_MINUTE: "100000",
  EVENTS_POLL_LEASE_MS: "1500",
};
const SUB = `subscription($p: ID!, $r: ID, $after: String) { accessEvents(projectId: $p, residenceId: $r, after: $after) { eventId cursor kind method vendor projectId residenceId occurredAt accountName } }`;

let redis: RedisServer;
let a: Stack;
let b: Stack;
beforeAll(async () => {
  redis = await startRedis();
  a = await startStack({ env: { ...ENV, REDIS_URL: redis.url } });
  b = await startStack({ env: { ...ENV, REDIS_URL: redis.url }, shareSimulatorsWith: a });
}, 30_000);
afterAll(async () => {
  await b?.close().catch(() => {});
  await a?.close();
  await redis.stop();
});

const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

const residence = (projectId = DEMO_PROJECT_ID) => [...a.sim.state.projects.get(projectId)!.residences.values()][0]!;
const historyPolls = (s: Stack, residenceId: string, command = "get_akuvox_open_door_history") => s.sim.calls(command).filter((c) => (c.param as { residence_id?: string }).residence_id === residenceId).length;

/** Waits until the poller has seen the residence's history at least `extra` more times. */
const polledAgain = async (residenceId: string, extra = 2) => {
  const seen = historyPolls(a, residenceId);
  await until("the residence's history to be polled again", () => historyPolls(a, residenceId) >= seen + extra);
};

type Received = { data?: { accessEvents: Record<string, any> } | null; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] };

function wsSubscribe(stack: Stack, key: string, variables: Record<string, unknown>) {
  const client: WsClient = createWsClient({ url: stack.url.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { "x-api-key": key }, retryAttempts: 0, lazy: false });
  const got: Received[] = [];
  let error: unknown;
  client.subscribe(
    { query: SUB, variables },
    { next: (m) => void got.push(m as Received), error: (e) => void (error = e), complete: () => {} },
  );
  return { got, error: () => error, close: () => client.dispose() };
}

function sseSubscribe(stack: Stack, key: string, variables: Record<string, unknown>) {
  const client: SseClient = createSseClient({ url: stack.url.replace(/\/graphql$/, "/graphql/stream"), headers: { "x-api-key": key }, retryAttempts: 0 });
  const got: Received[] = [];
  let error: unknown;
  client.subscribe({ query: SUB, variables }, { next: (m) => void got.push(m as Received), error: (e) => void (error = e), complete: () => {} });
  return { got, error: () => error, close: () => client.dispose() };
}

const ofResidence = (got: Received[], residenceId: string, kind = "DOOR_OPENED") => got.filter((m) => m.data?.accessEvents.residenceId === residenceId && m.data.accessEvents.kind === kind);

describe("access events from the simulator to subscribers", () => {
  it("a graphql-ws and an SSE client, on two instances, each receive an injected door opening exactly once; one instance polls", async () => {
    const r = residence();
    await until("the poller to have seen the residence", () => historyPolls(a, r.residence_id) >= 1);
    const viaWs = wsSubscribe(a, TEST_API_KEYS.events.key, { p: DEMO_PROJECT_ID, r: r.residence_id });
    const viaSse = sseSubscribe(b, TEST_API_KEYS.events.key, { p: DEMO_PROJECT_ID, r: r.residence_id });
    await polledAgain(r.residence_id, 1); // both subscriptions are open by now (they are set up before a poll ends)

    a.sim.injectEvent({ type: "open_door", residenceId: r.residence_id, method: "Face", accountName: "Ada Lovelace" });
    await until("both clients to receive the door opening", () => ofResidence(viaWs.got, r.residence_id).length > 0 && ofResidence(viaSse.got, r.residence_id).length > 0);
    await polledAgain(r.residence_id, 3);

    for (const got of [viaWs.got, viaSse.got]) {
      const opened = ofResidence(got, r.residence_id);
      expect(opened).toHaveLength(1);
      expect(opened[0]!.data!.accessEvents).toMatchObject({ kind: "DOOR_OPENED", method: "FACE", vendor: "akubela", projectId: DEMO_PROJECT_ID, accountName: "Ada Lovelace" });
    }
    expect(viaWs.got[0]!.data!.accessEvents.eventId).toBe(viaSse.got.find((m) => m.data?.accessEvents.kind === "DOOR_OPENED")!.data!.accessEvents.eventId);
    // The simulator's record shows one poller: every history call came from one instance.
    const pollers = [a.app.poller!, b.app.poller!];
    expect(pollers.filter((p) => p.isLeader)).toHaveLength(1);
    expect(pollers.filter((p) => p.stats.calls > 0)).toHaveLength(1);
    // Besides the poller's calls: each subscription's residence filter was proved the project's (its user list) once.
    const proofs = 2 * userListPages(a.sim, DEMO_PROJECT_ID).length;
    const polled = ["get_user_list", "get_akuvox_open_door_history", "get_akuvox_call_history", "get_akuvox_device_list"].reduce((n, c) => n + a.sim.calls(c).length, 0) - proofs;
    // Counted as they are sent: at most one may still be on its way to the simulator.
    const sent = pollers[0]!.stats.calls + pollers[1]!.stats.calls;
    expect(polled).toBeGreaterThanOrEqual(sent - 1);
    expect(polled).toBeLessThanOrEqual(sent);
    await viaWs.close();
    await viaSse.close();
  }, 60_000);

  it("a key of the second project is refused the first project's events, and sees only its own", async () => {
    const refused = wsSubscribe(a, TEST_API_KEYS.secondProject.key, { p: DEMO_PROJECT_ID });
    await until("the refusal", () => refused.got.length > 0 || refused.error() !== undefined);
    expect(refused.got[0]?.errors?.[0]?.extensions?.code ?? refused.error()).toBe("FORBIDDEN");
    await refused.close();

    const p1 = residence(DEMO_PROJECT_ID);
    const p2 = residence(DEMO_SECOND_PROJECT_ID);
    const own = sseSubscribe(b, TEST_API_KEYS.secondProject.key, { p: DEMO_SECOND_PROJECT_ID });
    await until("the poller to have seen both residences", () => historyPolls(a, p1.residence_id) >= 1 && historyPolls(a, p2.residence_id) >= 1);
    await polledAgain(p2.residence_id, 1);
    a.sim.injectEvent({ type: "open_door", residenceId: p1.residence_id });
    a.sim.injectEvent({ type: "call", residenceId: p2.residence_id, callerName: "Lobby" });
    await until("the second project's call", () => ofResidence(own.got, p2.residence_id, "CALL").length > 0);
    await polledAgain(p1.residence_id, 2);
    expect(own.got.every((m) => m.data?.accessEvents.projectId === DEMO_SECOND_PROJECT_ID)).toBe(true);
    await own.close();
  }, 60_000);

  it("the feed lists events in log order with cursors; doorOpen publishes at once; after a cursor nothing repeats", async () => {
    const r = residence();
    const device = [...a.sim.state.projects.get(DEMO_PROJECT_ID)!.devices.values()].find((d) => d.scope === "building" && d.building_id === r.building_id && d.online)!;
    const OPEN = `mutation($input: DoorOpenInput!) { doorOpen(input: $input) { outcome vendorRequestId } }`;
    const opened = await a.gql(OPEN, { input: { device: toGlobalId("AkuvoxDevice", DEMO_PROJECT_ID, device.mac), residence: toGlobalId("Residence", DEMO_PROJECT_ID, r.residence_id) } });
    expect(opened.data.doorOpen.outcome).toBe("OPENED");
    expect(a.sim.calls("trigger_akuvox_remote_open_door")).toHaveLength(1);
    const FEED = `query($p: ID!, $after: String, $kinds: [AccessEventKind!]) { accessEvents(projectId: $p, after: $after, kinds: $kinds, first: 50) { edges { cursor node { kind vendor deviceId residenceId method } } pageInfo { endCursor hasNextPage } } }`;
    const feed = await b.gql(FEED, { p: DEMO_PROJECT_ID, kinds: ["REMOTE_OPEN_REQUESTED"] });
    expect(feed.errors).toBeUndefined();
    expect(feed.data.accessEvents.edges.map((e: any) => e.node)).toEqual([{ kind: "REMOTE_OPEN_REQUESTED", vendor: "graph", deviceId: device.mac, residenceId: r.residence_id, method: "REMOTE" }]);
    // The vendor's own history now has a "Remote" entry: the poller brings it as a door opening.
    await until("the remote opening from the vendor's history", async () => {
      const res = await b.gql(FEED, { p: DEMO_PROJECT_ID, kinds: ["DOOR_OPENED"] });
      return res.data.accessEvents.edges.some((e: any) => e.node.residenceId === r.residence_id && e.node.method === "REMOTE");
    });
    const all = await a.gql(FEED, { p: DEMO_PROJECT_ID });
    const cursors = all.data.accessEvents.edges.map((e: any) => e.cursor);
    expect([...cursors].sort((x: string, y: string) => (x.split("-")[0]! === y.split("-")[0]! ? Number(x.split("-")[1]) - Number(y.split("-")[1]) : Number(x.split("-")[0]) - Number(y.split("-")[0])))).toEqual(cursors);
    const after = await a.gql(FEED, { p: DEMO_PROJECT_ID, after: all.data.accessEvents.pageInfo.endCursor });
    expect(after.data.accessEvents.edges).toEqual([]);
    const bad = await a.gql(FEED, { p: DEMO_PROJECT_ID, after: "not-a-cursor" });
    expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const other = await a.gql(FEED, { p: DEMO_PROJECT_ID }, null, { "x-api-key": TEST_API_KEYS.secondProject.key });
    expect(other.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  }, 60_000);

  it("the leader stops: the other instance takes over within the lease; a resumed subscriber misses nothing and gets nothing twice", async () => {
    const r = residence();
    const leader = a.app.poller!.isLeader ? a : b;
    const survivor = leader === a ? b : a;
    const first = wsSubscribe(survivor, TEST_API_KEYS.events.key, { p: DEMO_PROJECT_ID, r: r.residence_id });
    await polledAgain(r.residence_id, 1);
    a.sim.injectEvent({ type: "open_door", residenceId: r.residence_id, method: "PIN", accountName: "Before Failover" });
    await until("the first event", () => first.got.some((m) => m.data?.accessEvents.accountName === "Before Failover"));
    const cursor = first.got.find((m) => m.data?.accessEvents.accountName === "Before Failover")!.data!.accessEvents.cursor;
    await first.close();

    await leader.app.poller!.stop();
    a.sim.injectEvent({ type: "open_door", residenceId: r.residence_id, method: "RF Card", accountName: "After Failover" });
    await until("the survivor to lead", () => survivor.app.poller!.isLeader);
    const resumed = sseSubscribe(survivor, TEST_API_KEYS.events.key, { p: DEMO_PROJECT_ID, r: r.residence_id, after: cursor });
    await until("the event after failover", () => resumed.got.some((m) => m.data?.accessEvents.accountName === "After Failover"));
    await polledAgain(r.residence_id, 3);
    const names = resumed.got.map((m) => m.data?.accessEvents.accountName);
    expect(names.filter((n) => n === "After Failover")).toHaveLength(1);
    expect(names).not.toContain("Before Failover");
    await resumed.close();
  }, 60_000);

  it("a failing vendor: the poller backs off (few calls in the simulator's record), then recovers", async () => {
    const r = residence();
    const poller = (a.app.poller!.isLeader ? a : b).app.poller!;
    await polledAgain(r.residence_id, 1);
    a.sim.clearReceived();
    a.sim.injectFault({ kind: "http_error", status: 503 });
    await until("three failures", () => poller.stats.failures >= 3);
    const failedCalls = a.sim.received().filter((c) => c.command).length;
    // 3 failures with a doubling pause: the record holds those calls only (no retries, no hammering).
    expect(failedCalls).toBeLessThanOrEqual(4);
    a.sim.clearFaults();
    a.sim.injectEvent({ type: "open_door", residenceId: r.residence_id, accountName: "After Recovery" });
    await until("the event after recovery", async () => {
      const res = await a.gql(`query($p: ID!) { accessEvents(projectId: $p, first: 100, kinds: [DOOR_OPENED]) { nodes { accountName } pageInfo { endCursor } } }`, { p: DEMO_PROJECT_ID });
      return res.data.accessEvents.nodes.some((n: any) => n.accountName === "After Recovery");
    }, 40_000);
  }, 60_000);
});
