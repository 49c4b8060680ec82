/**
 * VENDOR_BUDGET_SHARED: two facade instances on one Redis, against one simulator, with the same server credential
 * (one tenant). What the vendor received is the judge: no second in which it got more than VENDOR_MAX_PER_SECOND
 * calls of that tenant from the two instances together, and every caller still got its answer — also while Redis
 * is stalled, when each instance goes by its own budget.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID, resetStacks, startStack, type Stack } from "../helpers/stack.js";

const PER_SECOND = 5;
const CREDENTIALS = `query($p: ID!, $n: Int!) { project(projectId: $p) { accounts(first: $n) { nodes { accountId credentials { pinCodes { number } } } } } }`;

let redis: RedisServer;
let one: Stack;
let two: Stack;

const sharedOn = (stack: Stack) => stack.logs.filter((l) => String(l.msg).startsWith("shared vendor budget on")).length;

async function until(check: () => boolean): Promise<void> {
  while (!check()) await sleep(10);
}

beforeAll(async () => {
  redis = await startRedis();
  const env = { REDIS_URL: redis.url, VENDOR_BUDGET_SHARED: "true", VENDOR_MAX_PER_SECOND: String(PER_SECOND) };
  one = await startStack({ env });
  two = await startStack({ env, shareSimulatorsWith: one });
});
afterAll(async () => {
  redis.resume();
  await two?.close();
  await one?.close();
  await redis?.stop();
});
beforeEach(async () => {
  await resetStacks(one, two);
  await until(() => sharedOn(one) > 0 && sharedOn(two) > 0);
});
afterEach(() => redis.resume());

/** The most calls the simulator received within any one second (windows starting at each call). */
function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return Math.max(0, ...sorted.map((t) => sorted.filter((s) => s >= t && s < t + 1000).length));
}

async function metric(stack: Stack, line: string): Promise<number> {
  const found = (await stack.app.metrics.render()).split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

describe("the vendor budget shared by two instances through Redis", () => {
  it("keeps both instances together within VENDOR_MAX_PER_SECOND calls of the tenant per second, and answers every caller", async () => {
    const asks = [
      { stack: one, p: DEMO_PROJECT_ID, n: 6 },
      { stack: one, p: DEMO_SECOND_PROJECT_ID, n: 3 },
      { stack: two, p: DEMO_PROJECT_ID, n: 5 },
      { stack: two, p: DEMO_SECOND_PROJECT_ID, n: 4 },
    ];
    const answers = await Promise.all(asks.map((a) => a.stack.gql(CREDENTIALS, { p: a.p, n: a.n })));
    answers.forEach((res, i) => {
      expect(res.errors).toBeUndefined();
      expect(res.data.project.accounts.nodes).toHaveLength(asks[i].n);
    });

    const received = one.sim.received();
    // Both instances sent their share, together well over one second's worth of the bound.
    expect(one.vendorCalls.length).toBeGreaterThan(PER_SECOND);
    expect(two.vendorCalls.length).toBeGreaterThan(PER_SECOND);
    expect(received).toHaveLength(one.vendorCalls.length + two.vendorCalls.length);
    expect(received.every((c) => c.authorization === `Bearer ${DEMO_AKUBELA_TOKEN}`)).toBe(true); // one tenant
    expect(busiestSecond(received.map((c) => c.at))).toBeLessThanOrEqual(PER_SECOND);
    expect(await metric(one, 'vendor_budget_shared_fallback_total{vendor="akubela"}')).toBe(0);
    expect(await metric(two, 'vendor_budget_shared_fallback_total{vendor="akubela"}')).toBe(0);

    // The budget's keys name the vendor and the tenant scope (a keyed hash), never the credential.
    const keys = (await redis.cli("--scan", "--pattern", "acg:budget:*")).split("\n").filter(Boolean);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).toMatch(/^acg:budget:v1:\{akubela:(srv|bearer)-[0-9a-f]{32}\}:(starts|leases)$/);
      expect(key).not.toContain(DEMO_AKUBELA_TOKEN);
    }
  });

  it("still answers every caller while Redis is stalled, each instance going by its own budget", async () => {
    redis.pause();
    const answers = await Promise.all([one.gql(CREDENTIALS, { p: DEMO_PROJECT_ID, n: 3 }), two.gql(CREDENTIALS, { p: DEMO_SECOND_PROJECT_ID, n: 3 })]);
    for (const res of answers) {
      expect(res.errors).toBeUndefined();
      expect(res.data.project.accounts.nodes).toHaveLength(3);
    }
    expect(one.sim.received()).toHaveLength(one.vendorCalls.length + two.vendorCalls.length);
    expect(await metric(one, 'vendor_budget_shared_fallback_total{vendor="akubela"}')).toBeGreaterThan(0);
    expect(await metric(two, 'vendor_budget_shared_fallback_total{vendor="akubela"}')).toBeGreaterThan(0);
  });
});
