import { describe, expect, it } from "vitest";
import { toGlobalId } from "../../src/lib/global-id.js";
import { cardKey, createAliyunSeed, demoSiteMap } from "../../src/simulators/aliyun/index.js";
import { DEMO_PROJECT_ID, mutate as mutateWith, startStack, useStack } from "../helpers/stack.js";

const stack = useStack();

const accounts = () => [...stack.sim.state.projects.get(DEMO_PROJECT_ID)!.accounts.values()];
const iotIds = () => [...stack.aliyun.state.devices.keys()];
const D = (iotId: string) => toGlobalId("AliyunAccessControlDevice", iotId);
const PERSON = (identityId: string) => toGlobalId("AliyunPerson", identityId);
const ACCOUNT = (a: { residence_id: string; account_id: string }) => toGlobalId("Account", DEMO_PROJECT_ID, a.residence_id, a.account_id);
const calls = (path: string) => stack.aliyun.calls(path);
/** `yyyy-MM-dd HH:mm:ss` at the gateway's +08:00 for an ISO instant. */
const gw = (iso: string) => new Date(new Date(iso).getTime() + 8 * 3600_000).toISOString().replace("T", " ").slice(0, 19);

const mutate = (query: string, input: unknown) => mutateWith(stack, query, input);

describe("persons", () => {
  it("aliyunPersonUpsert → /entrance/paas/user/modify; for an account without a person, named after it", async () => {
    const a = accounts().find((x) => !stack.aliyun.state.persons.has(x.account_id))!;
    const payload = await mutate(`mutation($input: AliyunPersonUpsertInput!) { aliyunPersonUpsert(input: $input) { userErrors { code } person { identityId name extInfo } } }`, {
      person: ACCOUNT(a),
      extInfo: "{\"floor\":3}",
    });
    expect(payload.person).toEqual({ identityId: a.account_id, name: `${a.first_name} ${a.last_name}`, extInfo: "{\"floor\":3}" });
    expect(calls("/entrance/paas/user/modify").map((c) => [c.apiVer, c.params])).toEqual([
      ["1.0.0", { identityId: a.account_id, name: `${a.first_name} ${a.last_name}`, extInfo: "{\"floor\":3}" }],
    ]);
    const read = await stack.gql(`query($i: ID!) { aliyunPerson(identityId: $i) { name } }`, { i: a.account_id });
    expect(read.data.aliyunPerson.name).toBe(`${a.first_name} ${a.last_name}`);
  });

  it("aliyunPersonDelete → /entrance/paas/user/delete; the person is gone", async () => {
    const identityId = [...stack.aliyun.state.persons.keys()][0];
    const payload = await mutate(`mutation($input: AliyunPersonDeleteInput!) { aliyunPersonDelete(input: $input) { userErrors { code } person { identityId } } }`, { person: PERSON(identityId) });
    expect(payload).toEqual({ userErrors: [], person: null });
    expect(calls("/entrance/paas/user/delete").map((c) => c.params)).toEqual([{ identityId }]);
    const read = await stack.gql(`query($i: ID!) { aliyunPerson(identityId: $i) { name } }`, { i: identityId });
    expect(read.data.aliyunPerson).toBeNull();
  });
});

describe("card permissions", () => {
  const GRANT = `mutation($input: CardPermissionsInput!) { cardPermissionsGrant(input: $input) { userErrors { field code message } succeeded failed calls personsCreated { identityId name } } }`;

  it("cardPermissionsGrant → /entrance/paas/perm/card/batchmodify (1.0.2), creating the person first for an account without one", async () => {
    const a = accounts().find((x) => !stack.aliyun.state.persons.has(x.account_id))!;
    const [first, second] = iotIds();
    const payload = await mutate(GRANT, {
      permissions: [
        { person: ACCOUNT(a), device: D(first), cardId: "CARD-77", expiresAt: "2027-06-30T16:00:00Z" },
        { person: ACCOUNT(a), device: D(second), cardId: "CARD-77" },
      ],
    });
    expect(payload).toEqual({ userErrors: [], succeeded: 2, failed: 0, calls: 1, personsCreated: [{ identityId: a.account_id, name: `${a.first_name} ${a.last_name}` }] });
    const order = stack.aliyun.calls().map((c) => c.path);
    expect(order.indexOf("/entrance/paas/user/modify")).toBeLessThan(order.indexOf("/entrance/paas/perm/card/batchmodify"));
    expect(calls("/entrance/paas/perm/card/batchmodify").map((c) => [c.apiVer, c.params])).toEqual([
      [
        "1.0.2",
        {
          cards: [
            { identityId: a.account_id, iotId: first, cardId: "CARD-77", expiryTime: gw("2027-06-30T16:00:00Z") },
            { identityId: a.account_id, iotId: second, cardId: "CARD-77" },
          ],
        },
      ],
    ]);
    expect(gw("2027-06-30T16:00:00Z")).toBe("2027-07-01 00:00:00");
    const read = await stack.gql(`query($p: ID!, $r: ID!, $a: ID!) { account(projectId: $p, residenceId: $r, accountId: $a) { cardPermissions { cardId iotId expiresAt } } }`, {
      p: DEMO_PROJECT_ID,
      r: a.residence_id,
      a: a.account_id,
    });
    expect(read.data.account.cardPermissions).toEqual(
      expect.arrayContaining([{ cardId: "CARD-77", iotId: first, expiresAt: "2027-06-30T16:00:00.000Z" }]),
    );
  });

  it("2,500 permissions in one mutation: three gateway calls (1000, 1000, 500), the vendor's failed records merged by index", async () => {
    const persons = [...stack.aliyun.state.persons.keys()];
    const devices = iotIds();
    const permissions = Array.from({ length: 2500 }, (_, i) => ({
      person: PERSON(persons[i % persons.length]),
      device: D(devices[i % devices.length]),
      cardId: `BULK-${i}`,
    }));
    // Two records name a device the gateway does not know: it answers them as failed.
    permissions[1500] = { ...permissions[1500], device: D("unknown-device-1") };
    permissions[2499] = { ...permissions[2499], device: D("unknown-device-2") };
    const payload = await mutate(GRANT, { permissions });
    expect(payload).toMatchObject({ succeeded: 2498, failed: 2, calls: 3, personsCreated: [] });
    expect(payload.userErrors).toEqual([
      { field: ["input", "permissions", "1500"], code: "RECORD_FAILED", message: "the gateway did not apply the permission of card BULK-1500 on device unknown-device-1" },
      { field: ["input", "permissions", "2499"], code: "RECORD_FAILED", message: "the gateway did not apply the permission of card BULK-2499 on device unknown-device-2" },
    ]);
    expect(calls("/entrance/paas/perm/card/batchmodify").map((c) => (c.params!.cards as unknown[]).length)).toEqual([1000, 1000, 500]);
    expect(stack.aliyun.state.cards.has(cardKey(persons[0], devices[0], "BULK-0"))).toBe(true);
    expect(calls("/entrance/paas/user/modify")).toHaveLength(0);
  });

  it("cardPermissionsRevoke → /entrance/paas/perm/card/batchdelete (1.0.1); the device no longer lists the card", async () => {
    const card = [...stack.aliyun.state.cards.values()][0];
    const payload = await mutate(`mutation($input: CardPermissionsInput!) { cardPermissionsRevoke(input: $input) { userErrors { code } succeeded failed calls } }`, {
      permissions: [{ person: PERSON(card.identityId), device: D(card.iotId), cardId: card.cardId }],
    });
    expect(payload).toEqual({ userErrors: [], succeeded: 1, failed: 0, calls: 1 });
    expect(calls("/entrance/paas/perm/card/batchdelete").map((c) => [c.apiVer, c.params])).toEqual([
      ["1.0.1", { list: [{ identityId: card.identityId, iotId: card.iotId, cardId: card.cardId }] }],
    ]);
    const read = await stack.gql(`query($i: ID!) { aliyunDevice(iotId: $i) { cardPermissions(first: 100) { nodes { cardId identityId } } } }`, { i: card.iotId });
    expect(read.data.aliyunDevice.cardPermissions.nodes).not.toContainEqual({ cardId: card.cardId, identityId: card.identityId });
  });
});

describe("QR codes, passwords, keep-open", () => {
  const QR = `userErrors { field code message } qrCodes devices`;

  it("qrCodeGenerate → /homelink/common/qrcode/generate; qrCodePermissionsSet → …/qrcode/config; qrCodePermissionsRemove → …/qrcode/remove", async () => {
    const identityId = [...stack.aliyun.state.persons.keys()][0];
    const generated = await mutate(`mutation($input: QrCodeGenerateInput!) { qrCodeGenerate(input: $input) { ${QR} } }`, { person: PERSON(identityId), length: 12 });
    const [qrCode] = generated.qrCodes;
    expect(qrCode).toMatch(/^[0-9A-F]{12}$/);
    expect(calls("/homelink/common/qrcode/generate").map((c) => [c.apiVer, c.params])).toEqual([["1.0.1", { identityId, codeLength: 12 }]]);

    const [first, second] = iotIds();
    const set = await mutate(`mutation($input: QrCodePermissionsSetInput!) { qrCodePermissionsSet(input: $input) { ${QR} } }`, {
      qrCode,
      person: PERSON(identityId),
      devices: [D(first), D("unknown-device")],
      effectiveAt: "2027-01-01T00:00:00Z",
      expiresAt: "2027-02-01T00:00:00Z",
      maxScanTimes: 10,
      maxScanScope: "SHARE",
    });
    expect(set.devices).toEqual([D(first)]);
    expect(set.userErrors).toEqual([{ field: ["input", "devices", "1"], code: "2063", message: "iotId does not exist" }]);
    expect(calls("/entrance/paas/perm/qrcode/config").map((c) => [c.apiVer, c.params])).toEqual([
      [
        "1.0.1",
        {
          qrCode,
          identityId,
          iotIds: [first, "unknown-device"],
          effectiveTime: "2027-01-01 08:00:00",
          expiryTime: "2027-02-01 08:00:00",
          maxScanTimes: 10,
          maxScanScope: "SHARE",
        },
      ],
    ]);
    expect(stack.aliyun.state.qrPermissions.get(`${qrCode}|${first}`)).toMatchObject({ maxScanTimes: 10, maxScanScope: "SHARE" });

    const removed = await mutate(`mutation($input: QrCodePermissionsRemoveInput!) { qrCodePermissionsRemove(input: $input) { ${QR} } }`, {
      qrCode,
      person: PERSON(identityId),
      devices: [D(first), D(second)],
    });
    expect(removed.devices).toEqual([D(first)]);
    expect(removed.userErrors.map((e: any) => e.code)).toEqual(["2065"]);
    expect(calls("/entrance/paas/perm/qrcode/remove").map((c) => c.params)).toEqual([{ qrCode, identityId, iotIds: [first, second] }]);
    expect(stack.aliyun.state.qrPermissions.size).toBe(0);
  });

  it("qrCodeGrant → the legacy /entrance/paas/perm/qrcode/generate, split 500 devices a call", async () => {
    // 600 distinct devices (a device twice is refused): a stack whose gateway and site map have that many.
    const big = await startStack({ aliyun: { seed: { devices: 600 } }, siteMap: demoSiteMap(createAliyunSeed({ devices: 600 })) });
    try {
      const identityId = [...big.aliyun.state.persons.keys()][0];
      const devices = [...big.aliyun.state.devices.keys()];
      expect(devices).toHaveLength(600);
      const effective = new Date(Date.now() + 3600_000);
      const expires = new Date(effective.getTime() + 12 * 3600_000);
      const payload = await mutateWith(big, `mutation($input: QrCodeGrantInput!) { qrCodeGrant(input: $input) { ${QR} } }`, {
        person: PERSON(identityId),
        devices: devices.map(D),
        effectiveAt: effective.toISOString(),
        expiresAt: expires.toISOString(),
      });
      expect(payload.userErrors).toEqual([]);
      expect(payload.qrCodes).toHaveLength(2);
      expect(payload.devices).toEqual(devices.map(D));
      const sent = big.aliyun.calls("/entrance/paas/perm/qrcode/generate");
      expect(sent.map((c) => c.params!.iotIds)).toEqual([devices.slice(0, 500), devices.slice(500)]);
      expect(sent[0].params).toMatchObject({ identityId, effectiveTime: gw(effective.toISOString()), expiryTime: gw(expires.toISOString()) });
      expect(big.aliyun.state.qrPermissions.get(`${payload.qrCodes[1]}|${devices[599]}`)?.identityId).toBe(identityId);
    } finally {
      await big.close();
    }
  });

  it("doorPasswordsSet → /entrance/paas/perm/passwd/modify, 100 a call, identityId inside each password", async () => {
    const identityId = [...stack.aliyun.state.persons.keys()][1];
    const passwords = Array.from({ length: 150 }, (_, i) => ({ person: PERSON(identityId), device: D(iotIds()[i % 6]), number: i, password: `pw-${i}-secret` }));
    passwords[120] = { ...passwords[120], device: D("unknown-device") };
    const payload = await mutate(`mutation($input: DoorPasswordsSetInput!) { doorPasswordsSet(input: $input) { userErrors { field code } succeeded failed calls } }`, { passwords });
    expect(payload).toEqual({ userErrors: [{ field: ["input", "passwords", "120"], code: "RECORD_FAILED" }], succeeded: 149, failed: 1, calls: 2 });
    const sent = calls("/entrance/paas/perm/passwd/modify");
    expect(sent.map((c) => (c.params!.passwords as unknown[]).length)).toEqual([100, 50]);
    expect((sent[0].params!.passwords as any[])[3]).toEqual({ identityId, iotId: iotIds()[3], password: "pw-3-secret", number: 3 });
    expect(stack.aliyun.state.passwords.get(`${identityId}|${iotIds()[3]}|3`)?.password).toBe("pw-3-secret");
    expect(stack.logText()).not.toContain("pw-3-secret");
  });

  it("keepOpenSet → /entrance/paas/keepopen/set; keepOpen reads the new state", async () => {
    const iotId = iotIds()[0];
    const payload = await mutate(`mutation($input: KeepOpenSetInput!) { keepOpenSet(input: $input) { userErrors { code } device { iotId keepOpen } } }`, { device: D(iotId), keepOpen: true });
    expect(payload).toEqual({ userErrors: [], device: { iotId, keepOpen: true } });
    expect(calls("/entrance/paas/keepopen/set").map((c) => [c.apiVer, c.params])).toEqual([["1.0.0", { iotId, keepOpen: true }]]);
    expect(calls("/entrance/paas/keepopen/get")).toHaveLength(1);
  });
});
