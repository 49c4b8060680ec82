import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSiteMap, parseSiteMap, SiteMapError } from "../src/site-map.js";

const problemsOf = (raw: unknown): string[] => {
  try {
    parseSiteMap(raw, "test.json");
  } catch (error) {
    if (error instanceof SiteMapError) return error.problems;
    throw error;
  }
  return [];
};

describe("site map", () => {
  it("links an account to the identityId equal to its account_id by default", () => {
    const map = parseSiteMap({ devices: [] });
    expect(map.identityIdOf("a123")).toBe("a123");
    expect(map.accountIdOf("a123")).toBe("a123");
  });

  it("applies a prefix and per-account overrides both ways", () => {
    const map = parseSiteMap({ identity: { prefix: "ak-", overrides: { a1: "legacy-7" } }, devices: [] });
    expect(map.identityIdOf("a2")).toBe("ak-a2");
    expect(map.identityIdOf("a1")).toBe("legacy-7");
    expect(map.accountIdOf("ak-a2")).toBe("a2");
    expect(map.accountIdOf("legacy-7")).toBe("a1");
    expect(map.accountIdOf("ak-a1")).toBeUndefined(); // a1 is linked to legacy-7, not to the prefixed id
    expect(map.accountIdOf("other")).toBeUndefined();
  });

  it("answers devices by iotId, project and building (project-wide devices belong to no building, as Akuvox ones)", () => {
    const map = parseSiteMap({
      devices: [
        { iotId: "d1", name: "Gate", projectId: "p1" },
        { iotId: "d2", name: "Lobby A", projectId: "p1", buildingId: "bA" },
        { iotId: "d3", name: "Lobby B", projectId: "p1", buildingId: "bB" },
        { iotId: "d4", name: "Elsewhere", projectId: "p2" },
      ],
    });
    expect(map.device("d2")).toEqual({ iotId: "d2", name: "Lobby A", projectId: "p1", buildingId: "bA" });
    expect(map.device("nope")).toBeUndefined();
    expect(map.devicesOf("p1").map((d) => d.iotId)).toEqual(["d1", "d2", "d3"]);
    expect(map.devicesOf("p1", "bA").map((d) => d.iotId)).toEqual(["d2"]);
  });

  it("names every problem by its path", () => {
    expect(
      problemsOf({
        identity: { overrides: { a1: "x", a2: "x", a3: 5 } },
        devices: [{ iotId: "d1", name: "", projectId: "p" }, { iotId: "d1", projectId: "p", name: "n", building: "typo" }, 7],
        extra: true,
      }),
    ).toEqual([
      "extra is not a known field (allowed: devices, identity)",
      "identity.overrides.a2 repeats the identityId of identity.overrides.a1",
      "identity.overrides.a3 must be a non-empty string",
      "devices[0].name must be a non-empty string",
      "devices[1].building is not a known field (allowed: iotId, name, projectId, buildingId)",
      "devices[1].iotId repeats devices[0].iotId",
      "devices[2] must be an object",
    ]);
    expect(problemsOf([])).toEqual(["the file must hold a JSON object with `devices` and `identity`"]);
  });

  it("loads a file and says what is wrong with one that cannot be used", async () => {
    const dir = await mkdtemp(join(tmpdir(), "site-map-"));
    const good = join(dir, "good.json");
    await writeFile(good, JSON.stringify({ devices: [{ iotId: "d1", name: "Gate", projectId: "p1" }] }));
    expect((await loadSiteMap(good)).devices).toHaveLength(1);
    const bad = join(dir, "bad.json");
    await writeFile(bad, "{ devices: ");
    await expect(loadSiteMap(bad)).rejects.toThrow(/is not valid JSON/);
    await expect(loadSiteMap(join(dir, "missing.json"))).rejects.toThrow(/cannot be read \(ENOENT\)/);
  });
});
