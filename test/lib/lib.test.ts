import { describe, expect, it } from "vitest";
import { expectGlobalId, fromGlobalId, toGlobalId } from "../../src/lib/global-id.js";
import { stableStringify } from "../../src/lib/stable-stringify.js";
import { formatVendorDateTime, parseVendorDateTime, parseVendorTimeOfDay } from "../../src/lib/time.js";
import { PagedList } from "../../src/datasources/paging.js";
import { groupedBy } from "../../src/lib/derived.js";

describe("global IDs", () => {
  it("round-trip type and parts and are opaque", () => {
    const id = toGlobalId("Account", "pr1", "r2", "a3");
    expect(id).not.toContain("pr1");
    expect(fromGlobalId(id)).toEqual({ type: "Account", parts: ["pr1", "r2", "a3"] });
  });

  it("reject what is not one of ours", () => {
    expect(fromGlobalId("not-an-id")).toBeNull();
    expect(() => expectGlobalId(toGlobalId("Project", "p"), "Account", "accountId")).toThrow(/accountId is not a Account ID/);
  });
});

describe("stableStringify", () => {
  it("gives the same key whatever the order of object keys", () => {
    expect(stableStringify({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(stableStringify({ a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 }));
    expect(stableStringify({ a: 1, b: undefined })).toBe('{"a":1}');
  });
});

describe("vendor times", () => {
  it("read yyyy-MM-dd HH:mm:ss as UTC, or at the given offset", () => {
    expect(parseVendorDateTime("2024-01-25 21:10:16")?.toISOString()).toBe("2024-01-25T21:10:16.000Z");
    expect(parseVendorDateTime("2024-01-25 21:10:16", "+08:00")?.toISOString()).toBe("2024-01-25T13:10:16.000Z");
    expect(parseVendorDateTime("")).toBeNull();
    expect(parseVendorDateTime("yesterday")).toBeNull();
  });

  it("read HH:mm:ss as a UTC time of day", () => {
    expect(parseVendorTimeOfDay("13:14:00")).toBe("13:14:00Z");
    expect(parseVendorTimeOfDay("25:00:00")).toBeNull();
  });

  it("write dates back in the vendor's format", () => {
    expect(formatVendorDateTime(new Date("2020-03-12T13:32:43Z"))).toBe("2020-03-12 13:32:43");
  });
});

describe("PagedList", () => {
  const make = (total: number, pageSize: number) => {
    const asked: number[] = [];
    const list = new PagedList(async (page) => {
      asked.push(page);
      const start = (page - 1) * pageSize;
      return Array.from({ length: Math.max(0, Math.min(pageSize, total - start)) }, (_, i) => start + i);
    }, pageSize);
    return { list, asked };
  };

  it("fetches every page once until a short one", async () => {
    const { list, asked } = make(25, 10);
    expect(await list.all()).toHaveLength(25);
    await list.all();
    expect(asked).toEqual([1, 2, 3]);
  });

  it("needs one page more when the total is a multiple of the page size", async () => {
    const { list, asked } = make(20, 10);
    expect(await list.all()).toHaveLength(20);
    expect(asked).toEqual([1, 2, 3]);
  });

  it("serves a window from the pages covering it only", async () => {
    const { list, asked } = make(95, 10);
    expect(await list.slice(32, 5)).toEqual({ items: [32, 33, 34, 35, 36], hasMore: true });
    expect(asked).toEqual([4]);
    expect(await list.slice(90, 10)).toEqual({ items: [90, 91, 92, 93, 94], hasMore: false });
  });
});

describe("groupedBy", () => {
  it("groups a list by a field in list order, once per list and field", () => {
    const list = [
      { r: "a", b: "x", n: 1 },
      { r: "b", b: "x", n: 2 },
      { r: "a", b: "y", n: 3 },
    ];
    const byR = groupedBy(list, "r");
    expect(byR.get("a")?.map((i) => i.n)).toEqual([1, 3]);
    expect(byR.get("b")?.map((i) => i.n)).toEqual([2]);
    expect(byR.get("c")).toBeUndefined();
    expect(groupedBy(list, "r")).toBe(byR);
    expect(groupedBy(list, "b").get("x")?.map((i) => i.n)).toEqual([1, 2]);
    // Another list (a later request's, or after a write) is grouped anew.
    expect(groupedBy([...list, { r: "c", b: "z", n: 4 }], "r").get("c")?.map((i) => i.n)).toEqual([4]);
  });
});
