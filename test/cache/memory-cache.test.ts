import { describe, expect, it } from "vitest";
import { MemoryCache } from "../../src/cache/memory-cache.js";

describe("MemoryCache", () => {
  it("answers what was stored until its TTL passes, and counts hits and misses", async () => {
    let now = 1_000;
    const cache = new MemoryCache(10, () => now);
    await cache.set("k", "v", 500);
    expect(await cache.get("k")).toBe("v");
    now += 499;
    expect(await cache.get("k")).toBe("v");
    now += 1;
    expect(await cache.get("k")).toBeUndefined();
    expect(await cache.get("other")).toBeUndefined();
    expect(cache.stats()).toEqual({ hits: 2, misses: 2, errors: 0 });
    expect(cache.size).toBe(0);
  });

  it("evicts the least recently used entry beyond its bound", async () => {
    const cache = new MemoryCache(2);
    await cache.set("a", "1", 60_000);
    await cache.set("b", "2", 60_000);
    expect(await cache.get("a")).toBe("1"); // a is now younger than b
    await cache.set("c", "3", 60_000);
    expect(await cache.get("b")).toBeUndefined();
    expect(await cache.get("a")).toBe("1");
    expect(await cache.get("c")).toBe("3");
    expect(cache.size).toBe(2);
  });

  it("deletes keys and ignores a TTL that is not positive", async () => {
    const cache = new MemoryCache();
    await cache.set("a", "1", 60_000);
    await cache.set("z", "1", 0);
    await cache.delete("a", "missing");
    expect(await cache.get("a")).toBeUndefined();
    expect(await cache.get("z")).toBeUndefined();
    expect(() => new MemoryCache(0)).toThrow(RangeError);
  });
});
