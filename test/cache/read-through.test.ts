import { describe, expect, it } from "vitest";
import { MemoryCache } from "../../src/cache/memory-cache.js";
import { ReadThrough, bearerScope, serverScope, tenantScope } from "../../src/cache/read-through.js";
import { RedisCache, parseRedisUrl } from "../../src/cache/redis-cache.js";
import { createLogger } from "../../src/logger.js";
import { freePort } from "../helpers/redis.js";

const logger = createLogger("silent");
const options = { ttlMs: 1000, staleMs: 500 };

describe("ReadThrough", () => {
  it("serves fresh values, serves a stale one while refreshing it, and misses past the stale window", async () => {
    let now = 0;
    const cache = new ReadThrough(new MemoryCache(100, () => now), logger, () => now);
    let version = 0;
    const fetch = async () => ++version;
    expect(await cache.read("k", options, fetch)).toBe(1);
    now = 900;
    expect(await cache.read("k", options, fetch)).toBe(1);
    now = 1200; // stale: answered at once with 1, refreshed to 2 behind the caller
    expect(await cache.read("k", options, fetch)).toBe(1);
    await new Promise((r) => setTimeout(r, 0));
    expect(version).toBe(2);
    expect(await cache.read("k", options, fetch)).toBe(2);
    now = 1200 + 1600; // past TTL + stale window of the refreshed value
    expect(await cache.read("k", options, fetch)).toBe(3);
    expect(cache.stats()).toMatchObject({ stale: 1, kind: "memory", ready: true });
  });

  it("joins concurrent misses of one key into one fetch, and does not cache failures", async () => {
    const cache = new ReadThrough(new MemoryCache(), logger);
    let calls = 0;
    const slow = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return "v";
    };
    expect(await Promise.all(Array.from({ length: 10 }, () => cache.read("k", options, slow)))).toEqual(Array(10).fill("v"));
    expect(calls).toBe(1);
    expect(cache.stats().joined).toBe(9);
    await expect(cache.read("bad", options, async () => Promise.reject(new Error("vendor down")))).rejects.toThrow("vendor down");
    expect(await cache.read("bad", options, async () => "ok")).toBe("ok");
  });

  it("group invalidation: every entry of the group is a miss after the bump, and a fetch begun before it is not kept", async () => {
    const cache = new ReadThrough(new MemoryCache(), logger);
    const grouped = { ttlMs: 60_000, staleMs: 0, group: "g" };
    let n = 0;
    expect(await cache.read("page1", grouped, async () => `p1-${++n}`)).toBe("p1-1");
    expect(await cache.read("page2", grouped, async () => `p2-${++n}`)).toBe("p2-2");
    expect(await cache.read("page1", grouped, async () => "unused")).toBe("p1-1");
    // A fetch held across the bump: it answers its caller, but what it stores carries the old generation.
    let release!: () => void;
    const held = cache.read("page3", grouped, () => new Promise<string>((r) => (release = () => r("p3-old"))));
    await new Promise((r) => setTimeout(r, 0));
    await cache.invalidateGroups("g");
    release();
    expect(await held).toBe("p3-old");
    expect(await cache.read("page1", grouped, async () => "p1-new")).toBe("p1-new");
    expect(await cache.read("page2", grouped, async () => "p2-new")).toBe("p2-new");
    expect(await cache.read("page3", grouped, async () => "p3-new")).toBe("p3-new");
    // Another group, and ungrouped keys, are untouched.
    expect(await cache.read("other", { ...grouped, group: "h" }, async () => "h1")).toBe("h1");
    await cache.invalidateGroups("g");
    expect(await cache.read("other", { ...grouped, group: "h" }, async () => "unused")).toBe("h1");
  });

  it("a secret value is kept in process memory, but never in a shared store without a sealing key", async () => {
    const memory = new ReadThrough(new MemoryCache(), logger);
    let n = 0;
    const secret = { ttlMs: 60_000, staleMs: 0, secret: true };
    expect(await memory.read("s", secret, async () => ++n)).toBe(1);
    expect(await memory.read("s", secret, async () => ++n)).toBe(1);
    // A store that is not process memory (its kind says so) and no sealer: every read fetches, nothing is stored.
    const shared = new MemoryCache();
    const sets: string[] = [];
    const store = Object.assign(Object.create(shared) as MemoryCache, { kind: "redis", set: async (key: string) => void sets.push(key) });
    const unsealed = new ReadThrough(store, logger);
    expect(await unsealed.read("s", secret, async () => ++n)).toBe(2);
    expect(await unsealed.read("s", secret, async () => ++n)).toBe(3);
    expect(sets).toEqual([]);
  });

  it("fails open on a Redis that is not there: a miss, the value from the vendor, errors counted, no wait", async () => {
    const redis = new RedisCache(`redis://127.0.0.1:${await freePort()}`, { commandTimeoutMs: 100, logger });
    try {
      const cache = new ReadThrough(redis, logger);
      const started = Date.now();
      expect(await cache.read("k", options, async () => 42)).toBe(42);
      expect(await cache.read("k", options, async () => 43)).toBe(43);
      await cache.invalidate("k");
      expect(Date.now() - started).toBeLessThan(500);
      expect(redis.ready()).toBe(false);
      // Each read: its value's miss, and the key's write version read before and after the fetch (both misses too).
      expect(redis.stats()).toMatchObject({ hits: 0, misses: 6 });
      expect(redis.stats().errors).toBeGreaterThanOrEqual(4);
    } finally {
      await redis.close();
    }
  });

  it("scopes by a hash of the credential, never the credential", () => {
    const scope = bearerScope("secret-token");
    expect(scope).toMatch(/^bearer-[0-9a-f]{32}$/);
    expect(scope).not.toContain("secret");
    expect(bearerScope("other")).not.toBe(scope);
  });

  it("the server's scope and a caller's cannot collide: separate key spaces, the server's keyed with its secret", () => {
    const identity = "http://127.0.0.1:4010|client-id|manager";
    const server = serverScope(identity, "client-secret\0password");
    expect(server).toMatch(/^srv-[0-9a-f]{32}$/);
    // A Bearer "token" equal to the readable identity (the old scope's input), or to the old scope itself, or to the
    // server scope: never the server's key space.
    for (const token of [identity, tenantScope(identity), server, server.slice(4)]) expect(bearerScope(token)).not.toBe(server);
    expect(bearerScope(identity).startsWith("bearer-")).toBe(true);
    // Without the secret the server scope cannot be computed from the identity.
    expect(serverScope(identity, "")).not.toBe(server);
    expect(server).not.toContain(tenantScope(identity));
  });

  it("reads REDIS_URL: one server, or a cluster by scheme or by a list of nodes", () => {
    expect(parseRedisUrl("redis://:pw@cache:6379/0")).toEqual({ cluster: false, url: "redis://:pw@cache:6379/0" });
    expect(parseRedisUrl("redis+cluster://:s3cret@a:7000,b:7001")).toEqual({
      cluster: true,
      nodes: [{ host: "a", port: 7000 }, { host: "b", port: 7001 }],
      password: "s3cret",
      tls: false,
    });
    expect(parseRedisUrl("a:7000,b:7001,c:7002")).toMatchObject({ cluster: true, nodes: [{ host: "a" }, { host: "b" }, { host: "c" }] });
  });
});
