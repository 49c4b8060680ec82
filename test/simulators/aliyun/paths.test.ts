import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AliyunClient } from "../../../src/datasources/aliyun/client.js";
import { UpstreamError } from "../../../src/errors.js";
import { createLogger } from "../../../src/logger.js";
import {
  cardKey,
  DEMO_ALIYUN_APP_KEY,
  DEMO_ALIYUN_APP_SECRET,
  PATHS,
  startAliyunSimulator,
  type AliyunSimulator,
} from "../../../src/simulators/aliyun/index.js";

let sim: AliyunSimulator;
let gw: AliyunClient;
beforeAll(async () => {
  sim = await startAliyunSimulator({ quiet: true });
  gw = new AliyunClient({ baseUrl: sim.url, appKey: DEMO_ALIYUN_APP_KEY, appSecret: DEMO_ALIYUN_APP_SECRET, timeoutMs: 2000, readRetries: 0, logger: createLogger("silent") });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const apiVer = (path: string) => PATHS.find((p) => p.path === path)!.apiVer;
const call = (path: string, params: Record<string, unknown>) => gw.send({ path, apiVer: apiVer(path), params, kind: "write" });
async function rejected(path: string, params: Record<string, unknown>) {
  const error = await call(path, params).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return (error as UpstreamError).upstream;
}
const persons = () => [...sim.state.persons.keys()];
const devices = () => [...sim.state.devices.keys()];
/** The gateway's zone-less time format, at the simulator's UTC+08:00. */
const fmt = (ms: number) => new Date(ms + 8 * 3600 * 1000).toISOString().replace("T", " ").slice(0, 19);

describe("Aliyun simulator: the 16 paths as 003 documents them", () => {
  it("answers all 16 paths with the document's apiVer", () => {
    expect(PATHS).toHaveLength(16);
    expect(Object.fromEntries(PATHS.map((p) => [p.path, p.apiVer]))).toMatchObject({
      "/entrance/paas/perm/card/batchmodify": "1.0.2",
      "/entrance/paas/perm/card/batchdelete": "1.0.1",
      "/homelink/common/qrcode/generate": "1.0.1",
      "/cloud/thing/service/invoke": "1.0.1",
      "/entrance/paas/user/get": "1.0.0",
    });
  });

  it("refuses a wrong apiVer as 'service not found' (404)", async () => {
    const error = await gw.send({ path: "/entrance/paas/user/get", apiVer: "1.0.2", params: { identityId: persons()[0] }, kind: "read" }).catch((e: UpstreamError) => e);
    expect((error as UpstreamError).upstream.vendorCode).toBe("404");
  });

  it("persons: modify creates then updates, get reads, query pages with total, delete removes", async () => {
    await call("/entrance/paas/user/modify", { identityId: "new-1", name: "Ada Lovelace", extInfo: { floor: 3 } });
    await call("/entrance/paas/user/modify", { identityId: "new-1", extInfo: "vip" });
    expect(await call("/entrance/paas/user/get", { identityId: "new-1" })).toEqual({ identityId: "new-1", name: "Ada Lovelace", extInfo: "vip" });
    const page = (await call("/entrance/paas/user/query", { pageSize: 100, pageNo: 1 })) as { total: number; data: unknown[] };
    expect(page.total).toBe(61);
    expect(page.data).toHaveLength(61);
    await call("/entrance/paas/user/delete", { identityId: "new-1" });
    expect((await rejected("/entrance/paas/user/get", { identityId: "new-1" })).vendorCode).toBe("2062");
    expect((await rejected("/entrance/paas/user/modify", { identityId: "new-2" })).vendorMessage).toBe("name is required");
  });

  it("enforces pageSize ≤ 100, naming the parameter", async () => {
    expect(await rejected("/entrance/paas/user/query", { pageSize: 101, pageNo: 1 })).toMatchObject({ vendorCode: "460", vendorMessage: "pageSize must be at most 100" });
    expect((await rejected("/entrance/paas/device/perm/query", { iotId: devices()[0], pageSize: 101, pageNo: 1 })).vendorCode).toBe("460");
    expect((await rejected("/entrance/paas/user/query", { pageSize: 10 })).vendorMessage).toBe("pageNo is required");
  });

  it("cards: ≤ 1000 a call, unknown persons or devices answered as failed records, delete answers what it could not", async () => {
    const cards = Array.from({ length: 1001 }, (_, i) => ({ identityId: persons()[0], iotId: devices()[0], cardId: `C${i}` }));
    expect((await rejected("/entrance/paas/perm/card/batchmodify", { cards })).vendorMessage).toMatch(/^cards has more than 1000 entries/);
    const failed = await call("/entrance/paas/perm/card/batchmodify", {
      cards: [
        { identityId: persons()[1], iotId: devices()[1], cardId: "AB12", expiryTime: "2027-01-02 03:04:05" },
        { identityId: "nobody", iotId: devices()[1], cardId: "AB13" },
      ],
    });
    expect(failed).toEqual([{ identityId: "nobody", iotId: devices()[1], cardId: "AB13" }]);
    expect(sim.state.cards.get(cardKey(persons()[1], devices()[1], "AB12"))?.expiryTime).toBe("2027-01-02 03:04:05");
    const notDeleted = await call("/entrance/paas/perm/card/batchdelete", {
      list: [
        { identityId: persons()[1], iotId: devices()[1], cardId: "AB12" },
        { identityId: persons()[1], iotId: devices()[1], cardId: "gone" },
      ],
    });
    expect(notDeleted).toEqual([{ identityId: persons()[1], iotId: devices()[1], cardId: "gone" }]);
    expect(sim.state.cards.has(cardKey(persons()[1], devices()[1], "AB12"))).toBe(false);
  });

  it("user/perm/query: ≤ 100 iotIds, answers the person's cards on those devices", async () => {
    const iotIds = Array.from({ length: 101 }, (_, i) => `d${i}`);
    expect((await rejected("/entrance/paas/user/perm/query", { identityId: persons()[0], iotIds })).vendorMessage).toMatch(/^iotIds has more than 100/);
    const holder = [...sim.state.cards.values()][0];
    const data = (await call("/entrance/paas/user/perm/query", { identityId: holder.identityId, iotIds: devices() })) as { identityId: string; data: { iotId: string }[] };
    expect(data.identityId).toBe(holder.identityId);
    expect(data.data.map((c) => c.iotId).sort()).toEqual(
      [...sim.state.cards.values()].filter((c) => c.identityId === holder.identityId).map((c) => c.iotId).sort(),
    );
  });

  it("legacy QR: ≤ 500 devices, expiry ≤ effective + 24 h, effective not in the past", async () => {
    const now = Date.now();
    const base = { identityId: persons()[0], iotIds: [devices()[0]], effectiveTime: fmt(now + 60_000) };
    const tooMany = { ...base, iotIds: Array.from({ length: 501 }, (_, i) => `d${i}`), expiryTime: fmt(now + 3_600_000) };
    expect((await rejected("/entrance/paas/perm/qrcode/generate", tooMany)).vendorMessage).toMatch(/^iotIds has more than 500/);
    expect((await rejected("/entrance/paas/perm/qrcode/generate", { ...base, expiryTime: fmt(now + 60_000 + 25 * 3_600_000) })).vendorMessage).toBe(
      "expiryTime must not be later than effectiveTime + 24h",
    );
    expect((await rejected("/entrance/paas/perm/qrcode/generate", { ...base, effectiveTime: fmt(now - 3_600_000), expiryTime: fmt(now + 3_600_000) })).vendorMessage).toBe(
      "effectiveTime must not be earlier than the current time",
    );
    const code = await call("/entrance/paas/perm/qrcode/generate", { ...base, expiryTime: fmt(now + 3_600_000) });
    expect(code).toMatch(/^[0-9A-F]{12}$/);
    expect(sim.state.qrPermissions.get(`${code}|${devices()[0]}`)?.identityId).toBe(persons()[0]);
  });

  it("QR codes: generate, configure per device (unknown devices answered per record), remove", async () => {
    const qrCode = (await call("/homelink/common/qrcode/generate", { identityId: persons()[0] })) as string;
    expect(qrCode).toMatch(/^[0-9A-F]{16}$/);
    const result = await call("/entrance/paas/perm/qrcode/config", {
      qrCode,
      identityId: persons()[0],
      iotIds: [devices()[0], "nope"],
      expiryTime: "2030-01-01 00:00:00",
      maxScanTimes: 5,
      maxScanScope: "SHARE",
    });
    expect(result).toEqual([
      { iotId: devices()[0], code: "200" },
      { iotId: "nope", code: "2063", message: "iotId does not exist" },
    ]);
    expect(sim.state.qrPermissions.get(`${qrCode}|${devices()[0]}`)).toMatchObject({ maxScanTimes: 5, maxScanScope: "SHARE" });
    expect(await call("/entrance/paas/perm/qrcode/remove", { qrCode, identityId: persons()[0], iotIds: [devices()[0]] })).toEqual([{ iotId: devices()[0], code: "200" }]);
    expect(sim.state.qrPermissions.size).toBe(0);
  });

  it("passwords: ≤ 100, the identityId beside or inside, `number` as a string or integer", async () => {
    const many = Array.from({ length: 101 }, (_, i) => ({ iotId: devices()[0], password: "x", number: i }));
    expect((await rejected("/entrance/paas/perm/passwd/modify", { identityId: persons()[0], passwords: many })).vendorMessage).toMatch(/^passwords has more than 100/);
    const failed = await call("/entrance/paas/perm/passwd/modify", {
      identityId: persons()[0],
      passwords: [
        { iotId: devices()[0], password: "a2d34f84dfafe", number: "030", expiryDate: "2030-03-04 18:00:00" },
        { identityId: persons()[1], iotId: devices()[1], password: "77", number: 2, expiredDate: "2030-03-04 18:00:00" },
        { iotId: "nope", password: "1", number: 1 },
      ],
    });
    expect(failed).toEqual([{ iotId: "nope" }]);
    expect(sim.state.passwords.get(`${persons()[0]}|${devices()[0]}|030`)?.expiryDate).toBe("2030-03-04 18:00:00");
    expect(sim.state.passwords.has(`${persons()[1]}|${devices()[1]}|2`)).toBe(true);
  });

  it("keep-open and remote open: state changes, an offline device answers 6205", async () => {
    const [first] = devices();
    await call("/entrance/paas/keepopen/set", { iotId: first, keepOpen: true });
    expect(await gw.send({ path: "/entrance/paas/keepopen/get", apiVer: "1.0.0", params: { iotId: first }, kind: "read" })).toBe(true);
    expect((await rejected("/entrance/paas/keepopen/set", { iotId: first, keepOpen: "yes" })).vendorMessage).toBe("keepOpen must be a boolean");
    await call("/cloud/thing/service/invoke", { iotId: first, identifier: "remoteOpen", args: {} });
    expect(sim.state.remoteOpens.map((o) => o.iotId)).toEqual([first]);
    const offline = [...sim.state.devices.values()].find((d) => !d.online)!;
    expect((await rejected("/cloud/thing/service/invoke", { iotId: offline.iotId, identifier: "remoteOpen", args: {} })).vendorCode).toBe("6205");
    expect((await rejected("/cloud/thing/service/invoke", { iotId: first, identifier: "open", args: {} })).vendorMessage).toBe('identifier must be "remoteOpen"');
  });

  it("seeds persons linked to the Akubela demo accounts and devices with cards, deterministically", async () => {
    const { createAkubelaSeed, DEMO_PROJECT_ID } = await import("../../../src/simulators/akubela/index.js");
    const accounts = [...createAkubelaSeed().projects.get(DEMO_PROJECT_ID)!.accounts.values()];
    expect(persons()).toEqual(accounts.slice(0, 60).map((a) => a.account_id));
    expect(sim.state.devices.size).toBe(6);
    expect(sim.state.cards.size).toBeGreaterThan(40);
    const again = await startAliyunSimulator({ quiet: true });
    try {
      expect([...again.state.devices.keys()]).toEqual(devices());
      expect([...again.state.cards.keys()]).toEqual([...sim.state.cards.keys()]);
    } finally {
      await again.close();
    }
  });
});
