/**
 * The deployment's vendor budget (VENDOR_BUDGET_SHARED) against a real redis-server: each "instance" here is what
 * one facade process has — its own RedisSharedBudget (own connection, breaker, leases) and its own VendorBudgets —
 * and two of them share one Redis, as two facade instances do.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { VendorBudgets, type BudgetLimits, type TenantBudget } from "../../src/datasources/budget.js";
import { RedisSharedBudget, SHARED_BUDGET_PREFIX } from "../../src/datasources/shared-budget.js";
import { createLogger } from "../../src/logger.js";
import { flushRedisUrl, startRedis, type RedisServer } from "../helpers/redis.js";

const SCOPE = "srv-0123456789abcdef0123456789abcdef";

let redis: RedisServer;
const open: RedisSharedBudget[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());
beforeEach(() => flushRedisUrl(redis.url));
afterEach(async () => {
  redis.resume(); // a test that failed while Redis was stalled must not stall the next one
  await Promise.all(open.splice(0).map((s) => s.close()));
});

interface Instance {
  shared: RedisSharedBudget;
  budget: TenantBudget;
  /** Log lines of this instance, parsed. */
  logs: { level: string; msg: string }[];
}

/** One facade instance's budget of the tenant, on the test Redis; resolves once it has reached Redis. */
async function instance(limits: BudgetLimits, options: { leaseMs?: number; commandTimeoutMs?: number } = {}): Promise<Instance> {
  const lines: string[] = [];
  const logger = createLogger("debug", {}, (line) => lines.push(line));
  const shared = new RedisSharedBudget(redis.url, { commandTimeoutMs: options.commandTimeoutMs ?? 100, leaseMs: options.leaseMs ?? 10_000, logger });
  open.push(shared);
  await until(() => shared.available());
  const budget = new VendorBudgets(limits, undefined, shared).of("akubela", SCOPE);
  return {
    shared,
    budget,
    get logs() {
      return lines.map((l) => JSON.parse(l) as { level: string; msg: string });
    },
  };
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await sleep(5);
}

/** A task that stays in flight until released, recording when it started. */
function gate(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { task: () => (log.push(name), done), release };
}

/** Counts the calls in flight across instances, and the most ever at once. */
function inFlightCounter() {
  let now = 0;
  const counter = {
    max: 0,
    wrap<T>(task: () => Promise<T>): () => Promise<T> {
      return async () => {
        counter.max = Math.max(counter.max, ++now);
        try {
          return await task();
        } finally {
          now--;
        }
      };
    },
  };
  return counter;
}

/** The most starts that fall in any window of `windowMs` beginning at a start. */
function busiestWindow(starts: number[], windowMs = 1000): number {
  const sorted = [...starts].sort((a, b) => a - b);
  return Math.max(0, ...sorted.map((t) => sorted.filter((s) => s >= t && s < t + windowMs).length));
}

const budgetLogs = (i: Instance, level: "info" | "warn") => i.logs.filter((l) => l.level === level && l.msg.startsWith("shared vendor budget"));

describe("the shared vendor budget (two instances, one Redis)", () => {
  it("never starts more than VENDOR_MAX_PER_SECOND calls of a tenant in any second across both instances", async () => {
    const limits = { maxInFlight: 10, maxPerSecond: 3 };
    const [a, b] = [await instance(limits), await instance(limits)];
    const starts: { at: number; by: string }[] = [];
    const call = (by: string) => async () => void starts.push({ at: Date.now(), by });
    const runs = [...Array.from({ length: 5 }, () => a.budget.run({}, "read", call("a"))), ...Array.from({ length: 5 }, () => b.budget.run({}, "read", call("b")))];
    await Promise.all(runs);

    expect(starts).toHaveLength(10);
    // Alone, each instance would have started its five within a second; together they kept to three per second.
    expect(busiestWindow(starts.map((s) => s.at))).toBe(3);
    expect(new Set(starts.map((s) => s.by))).toEqual(new Set(["a", "b"]));
    expect(a.shared.fallbacks()).toEqual({});
    expect(b.shared.fallbacks()).toEqual({});
    // The keys name the vendor and the tenant scope only.
    const keys = (await redis.cli("--scan")).split("\n").filter(Boolean);
    expect(keys).toContain(`${SHARED_BUDGET_PREFIX}:{akubela:${SCOPE}}:starts`);
    for (const key of keys) expect(key).toMatch(/^acg:budget:v1:\{akubela:srv-[0-9a-f]{32}\}:(starts|leases)$/);
  });

  it("shares the calls in flight: the two instances together never hold more than VENDOR_MAX_IN_FLIGHT", async () => {
    const limits = { maxInFlight: 2, maxPerSecond: 0 };
    const [a, b] = [await instance(limits), await instance(limits)];
    const counter = inFlightCounter();
    const log: string[] = [];
    const held = [gate(log, "a1"), gate(log, "a2")];
    const aRuns = held.map((g) => a.budget.run({}, "read", counter.wrap(g.task)));
    await until(() => a.budget.running === 2);
    const bRuns = ["b1", "b2", "b3"].map((name) => b.budget.run({}, "read", counter.wrap(async () => void log.push(name))));
    // B asks Redis again and again (every 20 ms) while A holds both slots: none of its calls starts.
    await sleep(200);
    expect(log).toEqual(["a1", "a2"]);
    expect(b.budget.queued).toBe(3);

    held[0].release();
    await until(() => log.length >= 3);
    held[1].release();
    await Promise.all([...aRuns, ...bRuns]);
    expect(log.slice(0, 2)).toEqual(["a1", "a2"]);
    expect(log.slice(2).sort()).toEqual(["b1", "b2", "b3"]);
    expect(counter.max).toBe(2);
    expect(a.shared.fallbacks()).toEqual({});
    expect(b.shared.fallbacks()).toEqual({});
  });

  it("sends a queued write before the reads queued ahead of it when a shared slot frees", async () => {
    const limits = { maxInFlight: 1, maxPerSecond: 0 };
    const [a, b] = [await instance(limits), await instance(limits)];
    const log: string[] = [];
    const holder = gate(log, "a-read");
    const aRun = a.budget.run({}, "read", holder.task);
    await until(() => a.budget.running === 1);
    const dashboard = {};
    const runs = [
      b.budget.run(dashboard, "read", async () => void log.push("b-read-1")),
      b.budget.run(dashboard, "read", async () => void log.push("b-read-2")),
    ];
    await sleep(50);
    runs.push(b.budget.run({}, "write", async () => void log.push("b-door-open")));
    holder.release();
    await Promise.all([aRun, ...runs]);
    expect(log).toEqual(["a-read", "b-door-open", "b-read-1", "b-read-2"]);
  });

  it("keeps a running call's lease past its term, and gives a dead instance's slots back when its leases run out", async () => {
    const limits = { maxInFlight: 2, maxPerSecond: 0 };
    const a = await instance(limits, { leaseMs: 300 });
    const b = await instance(limits, { leaseMs: 300 });
    const log: string[] = [];
    const held = [gate(log, "a1"), gate(log, "a2")];
    const aRuns = held.map((g) => a.budget.run({}, "read", g.task));
    await until(() => a.budget.running === 2);
    const bRuns = ["b1", "b2"].map((name) => b.budget.run({}, "read", async () => void log.push(name)));
    // A is alive: it renews its leases (every 100 ms), so three lease terms later they still hold both slots.
    await sleep(900);
    expect(log).toEqual(["a1", "a2"]);

    // A dies holding both slots: no release, no renewal (its connection is gone). Its leases run out; B goes on.
    await a.shared.close();
    await Promise.all(bRuns);
    expect(log).toEqual(["a1", "a2", "b1", "b2"]);
    held.forEach((g) => g.release());
    await Promise.all(aRuns);
  });

  it("falls back to each instance's own bounds while Redis is stalled, and shares again once it answers", async () => {
    const limits = { maxInFlight: 2, maxPerSecond: 0 };
    const [a, b] = [await instance(limits), await instance(limits)];
    redis.pause();
    const counters = { a: inFlightCounter(), b: inFlightCounter() };
    const call = (c: ReturnType<typeof inFlightCounter>) => c.wrap(() => sleep(20));
    const runs = [
      ...Array.from({ length: 8 }, () => a.budget.run({}, "read", call(counters.a))),
      ...Array.from({ length: 8 }, () => b.budget.run({}, "read", call(counters.b))),
    ];
    await Promise.all(runs);
    // Every call went out, each instance within its own VENDOR_MAX_IN_FLIGHT (two instances: up to twice the bound).
    expect(counters.a.max).toBe(2);
    expect(counters.b.max).toBe(2);
    expect(a.shared.fallbacks().akubela).toBe(8);
    expect(b.shared.fallbacks().akubela).toBe(8);
    expect(a.shared.available()).toBe(false); // the breaker opened: later calls do not wait on Redis at all
    expect(budgetLogs(a, "warn")).toHaveLength(1);

    redis.resume();
    await until(() => a.shared.available() && b.shared.available());
    const counter = inFlightCounter();
    await Promise.all([...Array.from({ length: 4 }, () => a.budget.run({}, "read", counter.wrap(() => sleep(20)))), ...Array.from({ length: 4 }, () => b.budget.run({}, "read", counter.wrap(() => sleep(20))))]);
    expect(counter.max).toBe(2); // shared again: two across both instances
    expect(a.shared.fallbacks().akubela).toBe(8);
    // One line per change of state: on at start, unavailable, on again.
    expect(budgetLogs(a, "warn")).toHaveLength(1);
    expect(budgetLogs(a, "info")).toHaveLength(2);
  });

  it("sends a door opening without waiting on a stalled Redis while the reads wait for its answer", async () => {
    // A long command timeout: a read waits for Redis's answer for up to 5 s; the write waits 50 ms at most.
    const a = await instance({ maxInFlight: 4, maxPerSecond: 0 }, { commandTimeoutMs: 5_000 });
    redis.pause();
    const log: string[] = [];
    const read = a.budget.run({}, "read", async () => void log.push("read"));
    const write = a.budget.run({}, "write", async () => void log.push("door-open"));
    await write;
    expect(log).toEqual(["door-open"]);
    expect(a.shared.fallbacks().akubela).toBe(1);

    redis.resume();
    await read; // Redis answers once resumed: the read goes out with the lease it asked for
    expect(log).toEqual(["door-open", "read"]);
    expect(a.shared.fallbacks().akubela).toBe(1);
    // Its lease is given back when it ends: nothing left holding a slot.
    let leases = "";
    while (leases !== "0") leases = (await redis.cli("ZCARD", `${SHARED_BUDGET_PREFIX}:{akubela:${SCOPE}}:leases`)).trim();
  });

  it("falls back while Redis is down, and shares the budget again once it is back", async () => {
    const limits = { maxInFlight: 1, maxPerSecond: 2 };
    const [a, b] = [await instance(limits), await instance(limits)];
    await redis.kill();
    await until(() => !a.shared.available() && !b.shared.available());
    const starts: number[] = [];
    const call = async () => void starts.push(Date.now());
    await Promise.all([a, b].flatMap((i) => [i.budget.run({}, "read", call), i.budget.run({}, "write", call)]));
    // Each instance alone: both of its calls started at once (its own two per second), so four in that second.
    expect(starts).toHaveLength(4);
    expect(busiestWindow(starts)).toBe(4);
    expect(a.shared.fallbacks().akubela).toBe(2);
    expect(b.shared.fallbacks().akubela).toBe(2);

    await redis.restart();
    await until(() => a.shared.available() && b.shared.available());
    const again: number[] = [];
    await Promise.all([a, b].flatMap((i) => [0, 1, 2].map(() => i.budget.run({}, "read", async () => void again.push(Date.now())))));
    expect(again).toHaveLength(6);
    expect(busiestWindow(again)).toBe(2);
    expect(a.shared.fallbacks().akubela).toBe(2);
    expect(budgetLogs(a, "warn")).toHaveLength(1);
    expect(budgetLogs(a, "info")).toHaveLength(2);
  });
});
