import { describe, expect, it } from "vitest";
import type { ApiKey } from "../../src/auth/api-keys.js";
import { MemoryCache } from "../../src/cache/memory-cache.js";
import { ReadThrough } from "../../src/cache/read-through.js";
import { MAX_DEPENDENCIES, ReadRecord, ResponseMemo } from "../../src/cache/response-memo.js";
import { createLogger } from "../../src/logger.js";

const logger = createLogger("silent");
const key = (name: string): ApiKey => ({ name, scopes: new Set(["read"]), projects: "*" });

/** A request's reads through a real ReadThrough over `store`, recorded; the values fetched are `fetched`. */
async function reads(through: ReadThrough, record: ReadRecord, keys: string[], options: { ttlMs: number; group?: string } = { ttlMs: 1000 }) {
  for (const k of keys) await through.read(k, { ttlMs: options.ttlMs, staleMs: 5000, group: options.group, record }, async () => `value of ${k}`);
}

describe("ReadRecord (through ReadThrough)", () => {
  it("notes fresh values with the string the store held; a miss, a stale value, a bypass taint it", async () => {
    let now = 0;
    const store = new MemoryCache(100, () => now);
    const through = new ReadThrough(store, logger, () => now);
    const missed = new ReadRecord();
    await reads(through, missed, ["a"]);
    expect(missed.dependencies()).toBeUndefined();

    const fresh = new ReadRecord();
    await reads(through, fresh, ["a"]);
    expect(fresh.dependencies()).toEqual([{ key: "a", raw: await store.get("a") }]);
    expect(fresh.freshUntil).toBe(1000);

    now = 1500; // past the TTL, within the stale window: served, but not something to keep
    const stale = new ReadRecord();
    await reads(through, stale, ["a"]);
    expect(stale.dependencies()).toBeUndefined();

    const bypassed = new ReadRecord();
    await through.read("a", { ttlMs: 1000, staleMs: 0, bypass: true, record: bypassed }, async () => "x");
    expect(bypassed.dependencies()).toBeUndefined();
  });

  it("a grouped read notes the group's generation too (absent until the first invalidation)", async () => {
    const store = new MemoryCache(100);
    const through = new ReadThrough(store, logger);
    await reads(through, new ReadRecord(), ["p1"], { ttlMs: 60_000, group: "g" });
    const record = new ReadRecord();
    await reads(through, record, ["p1"], { ttlMs: 60_000, group: "g" });
    expect(record.dependencies()).toEqual([
      { key: "p1", raw: await store.get("p1") },
      { key: "g#gen", raw: undefined },
    ]);
  });

  it("more reads than MAX_DEPENDENCIES: nothing kept", () => {
    const record = new ReadRecord();
    for (let i = 0; i <= MAX_DEPENDENCIES; i++) record.track(`k${i}`, "v", 10);
    expect(record.dependencies()).toBeUndefined();
  });

  it("one key seen holding two strings within a request: nothing kept", () => {
    const record = new ReadRecord();
    record.track("k", "v1", 10);
    record.track("k", "v2", 10);
    expect(record.dependencies()).toBeUndefined();
  });
});

describe("ResponseMemo", () => {
  async function setUp(maxEntries = 10, maxWeight = 1e6) {
    let now = 0;
    const store = new MemoryCache(100, () => now);
    const through = new ReadThrough(store, logger, () => now);
    const memo = new ResponseMemo(store, maxEntries, maxWeight, () => now);
    await reads(through, new ReadRecord(), ["a", "b"]);
    const record = new ReadRecord();
    await reads(through, record, ["a", "b"]);
    return { store, through, memo, record, at: (t: number) => (now = t) };
  }

  it("answers while every value is the same and fresh; a changed or deleted value, or an expiry, ends it", async () => {
    const { store, memo, record } = await setUp();
    const owner = key("admin");
    expect(memo.store("q", owner, record, { x: 1 })).toBe(true);
    expect(await memo.lookup("q", owner)).toEqual({ x: 1 });

    await store.set("b", JSON.stringify({ t: 0, v: "changed" }), 1000);
    expect(await memo.lookup("q", owner)).toBeUndefined();
    expect(memo.size).toBe(0);

    const again = await setUp();
    again.memo.store("q", owner, again.record, { x: 1 });
    await again.store.delete("a");
    expect(await again.memo.lookup("q", owner)).toBeUndefined();

    const expiring = await setUp();
    expiring.memo.store("q", owner, expiring.record, { x: 1 });
    expiring.at(1001);
    expect(await expiring.memo.lookup("q", owner)).toBeUndefined();
  });

  it("only for the API key that computed it (the same object: a reloaded key file starts afresh)", async () => {
    const { memo, record } = await setUp();
    const owner = key("admin");
    memo.store("q", owner, record, { x: 1 });
    expect(await memo.lookup("q", key("admin"))).toBeUndefined();
    expect(await memo.lookup("q", owner)).toEqual({ x: 1 });
  });

  it("keeps nothing from a tainted request, and what it keeps is frozen", async () => {
    const { memo, record } = await setUp();
    const tainted = new ReadRecord();
    tainted.taint();
    expect(memo.store("t", key("k"), tainted, { x: 1 })).toBe(false);
    const data = { nested: { list: [1] } };
    memo.store("q", key("k"), record, data);
    expect(Object.isFrozen(data.nested.list)).toBe(true);
  });

  it("bounded by entries and by the size of the values its answers were built from, the oldest going first", async () => {
    const { memo, record } = await setUp(2);
    const owner = key("k");
    for (const q of ["q1", "q2", "q3"]) memo.store(q, owner, record, { q });
    expect(memo.size).toBe(2);
    expect(await memo.lookup("q1", owner)).toBeUndefined();
    expect(await memo.lookup("q3", owner)).toEqual({ q: "q3" });

    const small = await setUp(100, 400);
    const weight = (small.record.dependencies() ?? []).reduce((n, d) => n + 2 + d.key.length + (d.raw?.length ?? 0), 0);
    expect(weight).toBeLessThanOrEqual(100); // one answer fits a quarter of the bound
    for (let i = 0; i < 10; i++) small.memo.store(`q${i}`, owner, small.record, { i });
    expect(small.memo.size).toBe(Math.floor(400 / weight));
  });
});

describe("RedisCache.sameValues (the memo's check on a real redis-server)", () => {
  it("answers in one script whether each key holds the value of that SHA-1 (- for absent); false when Redis is gone", async () => {
    const { startRedis } = await import("../helpers/redis.js");
    const { RedisCache } = await import("../../src/cache/redis-cache.js");
    const { createHash } = await import("node:crypto");
    const sha1 = (v: string) => createHash("sha1").update(v).digest("hex");
    const redis = await startRedis();
    const cache = new RedisCache(redis.url, { commandTimeoutMs: 250, logger });
    try {
      for (let i = 0; i < 50 && !cache.ready(); i++) await new Promise((r) => setTimeout(r, 20));
      const value = JSON.stringify({ t: 1, v: "Zoë's café ✓" }); // not only ASCII: hashed as the bytes Redis holds
      await cache.set("k1", value, 60_000);
      await cache.set("k2", "other", 60_000);
      expect(await cache.sameValues!([{ key: "k1", sha1: sha1(value) }, { key: "k2", sha1: sha1("other") }, { key: "k3", sha1: "-" }])).toBe(true);
      expect(await cache.sameValues!([{ key: "k1", sha1: sha1(value) }, { key: "k2", sha1: sha1("changed") }])).toBe(false);
      expect(await cache.sameValues!([{ key: "k3", sha1: sha1("was there") }])).toBe(false);
      expect(await cache.sameValues!([{ key: "k1", sha1: "-" }])).toBe(false);

      // The memo over it: a value changed on the server ends the entry.
      const through = new ReadThrough(cache, logger);
      await reads(through, new ReadRecord(), ["m1"], { ttlMs: 60_000 });
      const record = new ReadRecord();
      await reads(through, record, ["m1"], { ttlMs: 60_000 });
      const memo = new ResponseMemo(cache, 10, 1e6);
      const owner = key("k");
      memo.store("q", owner, record, { x: 1 });
      expect(await memo.lookup("q", owner)).toEqual({ x: 1 });
      await redis.cli("SET", "m1", JSON.stringify({ t: Date.now(), v: "written elsewhere" }));
      expect(await memo.lookup("q", owner)).toBeUndefined();

      await redis.stop();
      expect(await cache.sameValues!([{ key: "k1", sha1: sha1(value) }])).toBe(false);
    } finally {
      await cache.close();
      await redis.stop();
    }
  });
});
