import { afterEach, describe, expect, it, vi } from "vitest";
import { TenantBudget, VendorBudgets } from "../../src/datasources/budget.js";

/** A task that stays in flight until released, recording when it started. */
function gate(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { task: () => (log.push(name), done), release };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("TenantBudget", () => {
  afterEach(() => vi.useRealTimers());

  it("starts at most maxInFlight calls and the next one only when a slot frees", async () => {
    const budget = new TenantBudget("akubela", { maxInFlight: 2, maxPerSecond: 0 });
    const log: string[] = [];
    const gates = ["a", "b", "c"].map((n) => gate(log, n));
    const request = {};
    const runs = gates.map((g) => budget.run(request, "read", g.task));
    await tick();
    expect(log).toEqual(["a", "b"]);
    expect(budget.queued).toBe(1);
    gates[0].release();
    await tick();
    expect(log).toEqual(["a", "b", "c"]);
    gates.forEach((g) => g.release());
    await Promise.all(runs);
    expect(budget.running).toBe(0);
  });

  it("sends a write before every queued read", async () => {
    const budget = new TenantBudget("akubela", { maxInFlight: 1, maxPerSecond: 0 });
    const log: string[] = [];
    const first = gate(log, "read-0");
    const reader = {};
    const runs = [budget.run(reader, "read", first.task)];
    for (let i = 1; i <= 3; i++) runs.push(budget.run(reader, "read", async () => void log.push(`read-${i}`)));
    runs.push(budget.run({}, "write", async () => void log.push("write")));
    await tick();
    first.release();
    await Promise.all(runs);
    expect(log).toEqual(["read-0", "write", "read-1", "read-2", "read-3"]);
  });

  it("serves concurrent requests in turn, one call each", async () => {
    const budget = new TenantBudget("akubela", { maxInFlight: 1, maxPerSecond: 0 });
    const log: string[] = [];
    const first = gate(log, "A0");
    const a = {};
    const b = {};
    const runs = [budget.run(a, "read", first.task)];
    for (let i = 1; i <= 3; i++) runs.push(budget.run(a, "read", async () => void log.push(`A${i}`)));
    for (let i = 0; i < 3; i++) runs.push(budget.run(b, "read", async () => void log.push(`B${i}`)));
    await tick();
    first.release();
    await Promise.all(runs);
    expect(log).toEqual(["A0", "A1", "B0", "A2", "B1", "A3", "B2"]);
  });

  it("starts at most maxPerSecond calls per rolling second", async () => {
    vi.useFakeTimers();
    const budget = new TenantBudget("aliyun", { maxInFlight: 10, maxPerSecond: 2 });
    const log: string[] = [];
    const runs = ["a", "b", "c", "d", "e"].map((n) => budget.run({}, "read", async () => void log.push(n)));
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toEqual(["a", "b"]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(log).toEqual(["a", "b", "c", "d"]);
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(runs);
    expect(log).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("keeps one budget per vendor and tenant scope", () => {
    const budgets = new VendorBudgets({ maxInFlight: 1, maxPerSecond: 0 });
    expect(budgets.of("akubela", "srv-1")).toBe(budgets.of("akubela", "srv-1"));
    expect(budgets.of("akubela", "srv-1")).not.toBe(budgets.of("akubela", "bearer-1"));
    expect(budgets.of("akubela", "srv-1")).not.toBe(budgets.of("aliyun", "srv-1"));
  });
});
