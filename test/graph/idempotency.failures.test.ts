/**
 * Idempotency when its store fails (issue 13): a real redis-server killed, stalled (SIGSTOP) and restarted without
 * persistence, two instances racing, an instance killed mid-call, and the in-process store under a flood of
 * made-up Bearer tokens. In every case the vendor (the simulators' records) receives at most one command per key.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { toGlobalId } from "../../src/lib/global-id.js";
import type { RedisCache } from "../../src/cache/redis-cache.js";
import type { RedisIdempotencyStore } from "../../src/idempotency/redis-store.js";
import type { RedisEventLog } from "../../src/events/log.js";
import { startRedis, startRedisCluster, type RedisCluster, type RedisServer } from "../helpers/redis.js";
import { graphql, PROD_API_KEY, spawnService, startProductionVendors, until, type ProductionVendors, type ServiceProcess } from "../helpers/service.js";
import { DEMO_PROJECT_ID, readyz, resetStacks, startStack, TEST_API_KEYS, type Stack } from "../helpers/stack.js";

const OPEN = `mutation($input: DoorOpenInput!) { doorOpen(input: $input) { outcome vendorRequestId userErrors { code } } }`;
const PIN = `mutation($input: CredentialNumberInput!) { pinCodeCreate(input: $input) { pinCode { id number } userErrors { code } } }`;
const CARD = `mutation($input: CredentialNumberInput!) { rfCardCreate(input: $input) { rfCard { id number } userErrors { code } } }`;
const READ = `query($p: ID!) { project(projectId: $p) { projectId devices { name } } }`;

/** One idempotent mutation per case: its query, an input for key `k`, and how many commands the vendor got. */
interface Case {
  name: string;
  query: string;
  input(s: Stack, k: string): Record<string, unknown>;
  sent(s: Stack): number;
}
const accountOf = (s: Stack) => [...s.sim.state.projects.get(DEMO_PROJECT_ID)!.accounts.values()][0];
const accountId = (s: Stack) => {
  const acc = accountOf(s);
  return toGlobalId("Account", DEMO_PROJECT_ID, acc.residence_id, acc.account_id);
};
let serial = 0;
const CASES: Case[] = [
  {
    name: "doorOpen",
    query: OPEN,
    input: (s, k) => ({ device: toGlobalId("AliyunAccessControlDevice", [...s.aliyun.state.devices.keys()][0]), idempotencyKey: k }),
    sent: (s) => s.aliyun.calls("/cloud/thing/service/invoke").length,
  },
  {
    name: "pinCodeCreate",
    query: PIN,
    input: (s, k) => ({ account: accountId(s), number: String(20_000_000 + ++serial), idempotencyKey: k }),
    sent: (s) => s.sim.calls("create_user_pin_code_access_info").length,
  },
  {
    name: "rfCardCreate",
    query: CARD,
    input: (s, k) => ({ account: accountId(s), number: `ABCD${String(1000 + ++serial)}`, idempotencyKey: k }),
    sent: (s) => s.sim.calls("create_user_rf_card_access_info").length,
  },
];

const storeOf = (s: Stack) => s.app.idempotency as RedisIdempotencyStore;

describe("with Redis: idempotency fails closed", () => {
  let redis: RedisServer;
  let a: Stack;
  let b: Stack;
  beforeAll(async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: "100" };
    a = await startStack({ env });
    b = await startStack({ env, shareSimulatorsWith: a });
  });
  afterAll(async () => {
    redis.resume();
    await b?.close();
    await a?.close();
    await redis?.stop();
  });
  beforeEach(() => resetStacks(a, b));

  it("start-up warns that Redis persistence is off", () => {
    expect(a.logs.some((l) => l.level === "warn" && String(l.msg).includes("Redis persistence is off"))).toBe(true);
  });

  it.each(CASES)("two instances racing on one key ($name): one vendor command, the same answer everywhere", async (c) => {
    const input = c.input(a, randomUUID());
    a.aliyun.injectFault({ kind: "latency", latencyMs: 200, path: "/cloud/thing/service/invoke", times: 1 });
    const answers = await Promise.all([a.gql(c.query, { input }), b.gql(c.query, { input }), a.gql(c.query, { input }), b.gql(c.query, { input })]);
    for (const r of answers) expect(r.errors).toBeUndefined();
    expect(new Set(answers.map((r) => JSON.stringify(r.data))).size).toBe(1);
    expect(c.sent(a)).toBe(1);
  });

  it.each(CASES)("Redis killed ($name): IDEMPOTENCY_UNAVAILABLE (503, Retry-After), nothing sent; after it is back, one command", async (c) => {
    const input = c.input(a, randomUUID());
    await redis.kill();
    try {
      for (const s of [a, b, a]) {
        const res = await s.gql(c.query, { input });
        expect(res.status).toBe(503);
        expect(res.data?.[c.query.match(/\{ (\w+)\(/)![1]] ?? null).toBeNull();
        expect(res.errors?.[0]?.extensions).toMatchObject({ code: "IDEMPOTENCY_UNAVAILABLE" });
      }
      const raw = await fetch(a.url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": TEST_API_KEYS.admin.key },
        body: JSON.stringify({ query: c.query, variables: { input } }),
      });
      expect(raw.status).toBe(503);
      expect(raw.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
      expect(c.sent(a)).toBe(0);
      // Reads go on (the cache fails open) and /readyz stays ready, saying degraded.
      expect((await a.gql(READ, { p: DEMO_PROJECT_ID })).errors).toBeUndefined();
      const ready = await readyz(a);
      expect(ready.status).toBe(200);
      expect(ready.body.checks.cache).toMatch(/^degraded/);
      expect(ready.body.checks.idempotency).toMatch(/^degraded/);
    } finally {
      await redis.restart();
    }
    // A Redis restarted empty (no persistence) is noticed: the hold refuses keys it can no longer recognise.
    await until("the store to reconnect", async () => storeOf(a)!.health() === "ok" && storeOf(b)!.health() === "ok");
    const held = await a.gql(c.query, { input });
    expect(held.errors?.[0]?.extensions).toMatchObject({ code: "IDEMPOTENCY_UNAVAILABLE" });
    expect(held.errors?.[0]?.message).toMatch(/lost its idempotency records/);
    expect(c.sent(a)).toBe(0);
    await redis.cli("DEL", "acg:idem:v1:lost"); // the operator's way out, once the old keys are known to be settled
    const first = await a.gql(c.query, { input });
    const again = await b.gql(c.query, { input });
    expect(first.errors).toBeUndefined();
    expect(again.data).toEqual(first.data);
    expect(c.sent(a)).toBe(1);
  });

  it.each(CASES)("Redis restarted without persistence ($name): the key used before is not run again", async (c) => {
    const input = c.input(a, randomUUID());
    const first = await a.gql(c.query, { input });
    expect(first.errors).toBeUndefined();
    expect(c.sent(a)).toBe(1);
    await redis.kill();
    await redis.restart();
    await until("both stores to reconnect", async () => storeOf(a)!.health() === "ok" && storeOf(b)!.health() === "ok");
    for (const s of [a, b]) {
      const res = await s.gql(c.query, { input });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: "IDEMPOTENCY_UNAVAILABLE" });
    }
    expect(c.sent(a)).toBe(1);
    await redis.cli("DEL", "acg:idem:v1:lost");
  });

  it.each(CASES)("Redis stalled (SIGSTOP) ($name): the breaker opens, keyed mutations are refused, reads go on, /readyz degraded", async (c) => {
    const input = c.input(a, randomUUID());
    redis.pause();
    try {
      // Enough requests to pass the breaker's threshold of consecutive timeouts, on both connections.
      for (let i = 0; i < 4; i++) {
        const res = await a.gql(c.query, { input });
        expect(res.errors?.[0]?.extensions).toMatchObject({ code: "IDEMPOTENCY_UNAVAILABLE" });
        expect((await a.gql(READ, { p: DEMO_PROJECT_ID })).errors).toBeUndefined();
      }
      expect(((a.app.cache.cache as RedisCache).breaker).isOpen).toBe(true);
      expect(storeOf(a)!.breaker.isOpen).toBe(true);
      const ready = await readyz(a);
      expect(ready.status).toBe(200);
      // Degraded, not failed (the breakers are open, asserted above); a loaded machine may also see the stalled
      // connection dropped meanwhile, which reads "unreachable".
      expect(ready.body.checks.cache).toMatch(/^degraded \((breaker open|unreachable)/);
      expect(ready.body.checks.idempotency).toMatch(/^degraded \((breaker open|unreachable)/);
      expect(c.sent(a)).toBe(0);
    } finally {
      redis.resume();
    }
    // The probe closes both breakers; claims that timed out and landed late were removed by the queued release.
    await until("the breakers to close", async () => !(a.app.cache.cache as RedisCache).breaker.isOpen && !storeOf(a)!.breaker.isOpen);
    const first = await a.gql(c.query, { input });
    const again = await b.gql(c.query, { input });
    expect(first.errors).toBeUndefined();
    expect(again.data).toEqual(first.data);
    expect(c.sent(a)).toBe(1);
  });
  it("Redis stalled (SIGSTOP): writes without a key are not held by it; their access events wait in the process and reach the log after", async () => {
    const device = toGlobalId("AliyunAccessControlDevice", [...a.aliyun.state.devices.keys()][0]);
    const log = a.app.events as RedisEventLog;
    const logged = async () => (await log.read(null, 10_000)).filter((e) => e.vendorEventType === "doorOpen").length;
    const before = await logged();
    redis.pause();
    const ids: string[] = [];
    try {
      // Each answer arrives while Redis still answers nothing: awaited here with Redis stopped, a write that waited
      // on it would never answer (the test's timeout), instead of failing one bounded command and going on.
      for (let i = 0; i < 5; i++) {
        const res = await a.gql(OPEN, { input: { device } });
        expect(res.errors).toBeUndefined();
        expect(res.data.doorOpen.outcome).toBe("OPENED");
        ids.push(res.data.doorOpen.vendorRequestId);
      }
      // The first append failed its bounded command; the later ones queued behind it without trying Redis again.
      expect(log.waiting).toBe(5);
      expect(a.aliyun.calls("/cloud/thing/service/invoke").length).toBe(5);
    } finally {
      redis.resume();
    }
    // Nothing lost: the five openings are in the shared log once each, in the order they happened.
    await until("the kept events to be published", async () => log.waiting === 0 && (await logged()) === before + 5);
    expect(log.dropped).toBe(0);
    const events = (await log.read(null, 10_000)).filter((e) => e.vendorEventType === "doorOpen").slice(-5);
    expect(events.map((e) => e.detail)).toEqual(Array(5).fill("OPENED"));
    // And the other instance, reading the same Stream, sees them too.
    expect((await (b.app.events as RedisEventLog).read(null, 10_000)).filter((e) => e.vendorEventType === "doorOpen").length).toBe(before + 5);
    expect(new Set(ids).size).toBe(5);
  });
});

describe("Redis Cluster: a master killed for a while, then restarted empty", () => {
  let cluster: RedisCluster;
  let a: Stack;
  let b: Stack;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    // Some 900 requests a minute from one API key across both instances: above the default rate limit.
    const env = { REDIS_URL: cluster.url, REDIS_COMMAND_TIMEOUT_MS: "100", RATE_LIMIT_PER_MINUTE: "100000" };
    a = await startStack({ env });
    b = await startStack({ env, shareSimulatorsWith: a });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await cluster?.stop();
  });
  beforeEach(() => resetStacks(a, b));
  // The operator's way out after each case, whatever it asserted, so one case's hold does not refuse the next.
  afterEach(() => cluster.cli("DEL", "acg:idem:v1:lost"));

  it.each(CASES)("$name: every key reaches the vendor at most once, before, during and after the outage", async (c) => {
    const inputs = Array.from({ length: 30 }, () => c.input(a, randomUUID()));
    /** Every successful answer per key: a key run twice would show two different payloads (or one vendor call too many). */
    const answers = new Map<unknown, Set<string>>(inputs.map((i) => [i, new Set<string>()]));
    /**
     * Keys answered UNKNOWN: the first call ran while its master was reachable but could not record its outcome once
     * the cluster went down (or could not free the key after an error); a repeat then says so, honestly, instead of
     * running again.
     */
    const unknown = new Set<unknown>();
    const send = async (s: Stack, input: Record<string, unknown>) => {
      const res = await s.gql(c.query, { input });
      const code = (res.errors?.[0]?.extensions as { code?: string } | undefined)?.code;
      if (res.errors) expect(["IDEMPOTENCY_UNAVAILABLE", "IDEMPOTENCY_OUTCOME_UNKNOWN"]).toContain(code);
      if (code === "IDEMPOTENCY_OUTCOME_UNKNOWN" || (res.data?.doorOpen as { outcome?: string } | undefined)?.outcome === "UNKNOWN") unknown.add(input);
      else if (!res.errors) answers.get(input)!.add(JSON.stringify(res.data));
    };
    for (const input of inputs) await send(a, input);
    expect(c.sent(a)).toBe(inputs.length);
    await cluster.killNode(0);
    try {
      // During the outage (and after the cluster marks the master failed): repeats from both instances, and new keys.
      const fresh = Array.from({ length: 5 }, () => c.input(a, randomUUID()));
      for (const input of fresh) answers.set(input, new Set());
      for (const input of [...inputs, ...fresh]) await Promise.all([send(a, input), send(b, input)]);
      await new Promise((r) => setTimeout(r, 2500));
      for (const input of [...inputs, ...fresh]) await Promise.all([send(a, input), send(b, input)]);
      inputs.push(...fresh);
    } finally {
      await cluster.restartNode(0);
    }
    await until("the breakers to close", async () => !storeOf(a).breaker.isOpen && !storeOf(b).breaker.isOpen);
    for (let round = 0; round < 2; round++) for (const input of inputs) await Promise.all([send(a, input), send(b, input)]);
    const ran = [...answers.entries()].filter(([, set]) => set.size > 0);
    for (const [, set] of ran) expect(set.size).toBe(1);
    // Each key that answered ran once; a key only ever answered UNKNOWN may have reached the vendor, once at most.
    expect(c.sent(a)).toBeGreaterThanOrEqual(ran.length);
    expect(c.sent(a)).toBeLessThanOrEqual(new Set([...ran.map(([k]) => k), ...unknown]).size);
    // Credentials name their key by number: no number reached the vendor twice.
    if (c.name !== "doorOpen") {
      const command = c.name === "pinCodeCreate" ? "create_user_pin_code_access_info" : "create_user_rf_card_access_info";
      const sent = a.sim.calls(command).map((call) => JSON.stringify(call));
      for (const input of inputs) expect(sent.filter((call) => call.includes(`"${input.number as string}"`)).length).toBeLessThanOrEqual(1);
      expect(sent.some((call) => call.includes(`"${inputs[0]!.number as string}"`))).toBe(true);
    }
    // The restarted master came back empty: noticed (its shards' markers were gone), and the hold is on.
    expect(await cluster.cli("GET", "acg:idem:v1:lost")).toMatch(/\d{4}-/);
  });
});

describe("in-process (no Redis): its own bounded store", () => {
  let s: Stack;
  beforeAll(async () => {
    // A small read cache, so a flood that would once have evicted the record is cheap to send.
    s = await startStack({ env: { CACHE_MEMORY_MAX_ENTRIES: "50", IDEMPOTENCY_MAX_RECORDS: "20" } });
  });
  afterAll(() => s?.close());
  beforeEach(() => s.reset());

  it.each(CASES)("a flood of made-up Bearer tokens creates no counters and evicts nothing ($name)", async (c) => {
    const input = c.input(s, randomUUID());
    const first = await s.gql(c.query, { input });
    expect(first.errors).toBeUndefined();
    const before = (s.app.cache.cache as unknown as { size: number }).size;
    await Promise.all(Array.from({ length: 200 }, (_, i) => s.gql(`{ __typename }`, {}, `made-up-token-${i}-${randomUUID()}`)));
    expect((s.app.cache.cache as unknown as { size: number }).size).toBe(before);
    const again = await s.gql(c.query, { input });
    expect(again.data).toEqual(first.data);
    expect(c.sent(s)).toBe(1);
  });

  it("full: a new key is refused (IDEMPOTENCY_UNAVAILABLE), nothing sent; keys already kept still answer", async () => {
    const c = CASES[0]!;
    const kept = c.input(s, randomUUID());
    const first = await s.gql(c.query, { input: kept });
    expect(first.errors).toBeUndefined();
    for (let i = 0; i < 25; i++) await s.gql(c.query, { input: c.input(s, randomUUID()) });
    const sent = c.sent(s);
    expect(sent).toBeLessThanOrEqual(20);
    const refused = await s.gql(c.query, { input: c.input(s, randomUUID()) });
    expect(refused.status).toBe(503);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "IDEMPOTENCY_UNAVAILABLE" });
    expect(c.sent(s)).toBe(sent);
    expect((await s.gql(c.query, { input: kept })).data).toEqual(first.data);
    expect(c.sent(s)).toBe(sent);
  });
});

describe("an instance killed mid-call", () => {
  let redis: RedisServer;
  let vendors: ProductionVendors;
  let services: ServiceProcess[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    vendors = await startProductionVendors();
  });
  afterAll(async () => {
    for (const p of services) p.kill();
    await vendors?.close();
    await redis?.stop();
  });

  const start = () =>
    spawnService({
      env: { ...vendors.env, REDIS_URL: redis.url, ALIYUN_TIMEOUT_MS: "1000", AKUBELA_TIMEOUT_MS: "1000", IDEMPOTENCY_LEASE_MS: "1500" },
    }).then((p) => (services.push(p), p));

  it("doorOpen: the retry on another instance answers UNKNOWN once the lease expires, and the door opened once", async () => {
    const [first, second] = await Promise.all([start(), start()]);
    const iotId = [...vendors.aliyun.state.devices.keys()][0];
    const input = { device: toGlobalId("AliyunAccessControlDevice", iotId), idempotencyKey: randomUUID() };
    vendors.aliyun.injectFault({ kind: "latency", latencyMs: 800, path: "/cloud/thing/service/invoke", times: 1 });
    const pending = graphql(first.base, PROD_API_KEY, OPEN, { input }).catch(() => undefined);
    await until("the command to reach the vendor", async () => vendors.aliyun.calls("/cloud/thing/service/invoke").length === 1, 10_000);
    first.kill();
    await first.exited;
    await pending;
    const res = await graphql(second.base, PROD_API_KEY, OPEN, { input });
    const body = (await res.json()) as { data: { doorOpen: { outcome: string; userErrors: { code: string }[] } } };
    expect(body.data.doorOpen.outcome).toBe("UNKNOWN");
    expect(body.data.doorOpen.userErrors[0]!.code).toBe("IDEMPOTENCY_OUTCOME_UNKNOWN");
    await until("the vendor to finish the command", async () => vendors.aliyun.state.remoteOpens.length === 1);
    expect(vendors.aliyun.calls("/cloud/thing/service/invoke")).toHaveLength(1);
    // The record kept nothing of the input in clear.
    const keys = (await redis.cli("--scan", "--pattern", "acg:idem:v1:{*")).trim().split("\n");
    const raw = (await Promise.all(keys.map((k) => redis.cli("GET", k)))).join("\n");
    expect(raw).not.toContain(iotId);
  });

  it("pinCodeCreate: the retry answers IDEMPOTENCY_OUTCOME_UNKNOWN, no second PIN", async () => {
    const [first, second] = await Promise.all([start(), start()]);
    const acc = [...vendors.akubela.state.projects.get(DEMO_PROJECT_ID)!.accounts.values()][0];
    const input = { account: toGlobalId("Account", DEMO_PROJECT_ID, acc.residence_id, acc.account_id), number: "31415926", idempotencyKey: randomUUID() };
    vendors.akubela.injectFault({ kind: "latency", latencyMs: 800, command: "create_user_pin_code_access_info", times: 1 });
    const pending = graphql(first.base, PROD_API_KEY, PIN, { input }).catch(() => undefined);
    await until("the command to reach the vendor", async () => vendors.akubela.calls("create_user_pin_code_access_info").length === 1, 10_000);
    first.kill();
    await first.exited;
    await pending;
    const res = await graphql(second.base, PROD_API_KEY, PIN, { input });
    const body = (await res.json()) as { errors?: { extensions: { code: string } }[] };
    expect(body.errors?.[0]?.extensions.code).toBe("IDEMPOTENCY_OUTCOME_UNKNOWN");
    expect(vendors.akubela.calls("create_user_pin_code_access_info")).toHaveLength(1);
    const keys = (await redis.cli("--scan", "--pattern", "acg:idem:v1:{*")).trim().split("\n");
    const raw = (await Promise.all(keys.map((k) => redis.cli("GET", k)))).join("\n");
    expect(raw).not.toContain("31415926");
  });
});
