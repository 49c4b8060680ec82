import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEMO_SITE_MAP_PATH } from "../../src/app.js";
import { createAliyunSeed, DEMO_ALIYUN_APP_SECRET, demoSiteMap } from "../../src/simulators/aliyun/index.js";
import { DEMO_PROJECT_ID, startStack, useStack } from "../helpers/stack.js";

const stack = useStack();

const SIGNED = { "x-ca-signature-headers": "x-ca-key,x-ca-nonce,x-ca-stage,x-ca-timestamp", "x-ca-stage": "RELEASE" };
const iso = (vendorTime: string) => new Date(`${vendorTime.replace(" ", "T")}+08:00`).toISOString();

/** A person who holds cards in the seed, with the Akubela ids of the account linked to it. */
function cardHolder() {
  const holder = [...stack.aliyun.state.cards.values()][0];
  const account = stack.sim.state.projects.get(DEMO_PROJECT_ID)!.accounts.get(holder.identityId)!;
  const cards = [...stack.aliyun.state.cards.values()].filter((c) => c.identityId === holder.identityId);
  return { account, cards };
}

describe("the Aliyun part of the graph: one query per read path", () => {
  it("/entrance/paas/user/get: an account's linked person", async () => {
    const { account } = cardHolder();
    const res = await stack.gql(
      `query($p: ID!, $r: ID!, $a: ID!) { account(projectId: $p, residenceId: $r, accountId: $a) { aliyunIdentityId aliyunPerson { id identityId name extInfo } } }`,
      { p: DEMO_PROJECT_ID, r: account.residence_id, a: account.account_id },
    );
    expect(res.errors).toBeUndefined();
    const person = stack.aliyun.state.persons.get(account.account_id)!;
    expect(res.data.account).toMatchObject({
      aliyunIdentityId: account.account_id,
      aliyunPerson: { identityId: account.account_id, name: person.name, extInfo: JSON.stringify(person.extInfo) },
    });
    const calls = stack.aliyun.calls();
    expect(calls.map((c) => [c.path, c.apiVer, c.version, c.params])).toEqual([
      ["/entrance/paas/user/get", "1.0.0", "1.0", { identityId: account.account_id }],
    ]);
    expect(calls[0].headers).toMatchObject(SIGNED);
    expect(calls[0].headers["x-ca-signature"]).toBeTruthy();
  });

  it("/entrance/paas/user/get: an identityId the gateway does not know is null, not an error", async () => {
    const res = await stack.gql(`{ aliyunPerson(identityId: "nobody-here") { name } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.aliyunPerson).toBeNull();
    expect(stack.aliyun.calls().map((c) => c.code)).toEqual([2062]);
  });

  it("/entrance/paas/user/query: persons, paged, totalCount from the gateway's total", async () => {
    const res = await stack.gql(`{ aliyunPersons(first: 5) { totalCount nodes { identityId name } pageInfo { hasNextPage } } }`);
    expect(res.errors).toBeUndefined();
    const persons = [...stack.aliyun.state.persons.values()];
    expect(res.data.aliyunPersons).toEqual({
      totalCount: persons.length,
      nodes: persons.slice(0, 5).map((p) => ({ identityId: p.identityId, name: p.name })),
      pageInfo: { hasNextPage: true },
    });
    expect(stack.aliyun.calls().map((c) => [c.path, c.apiVer, c.params])).toEqual([["/entrance/paas/user/query", "1.0.0", { pageSize: 100, pageNo: 1 }]]);
  });

  it("/entrance/paas/user/perm/query: an account's card permissions on the site's devices, expiry in the gateway's zone", async () => {
    const { account, cards } = cardHolder();
    const res = await stack.gql(
      `query($p: ID!, $r: ID!, $a: ID!) { account(projectId: $p, residenceId: $r, accountId: $a) { cardPermissions { id cardId iotId identityId expiresAt device { iotId name } } } }`,
      { p: DEMO_PROJECT_ID, r: account.residence_id, a: account.account_id },
    );
    expect(res.errors).toBeUndefined();
    const devices = stack.aliyun.state.devices;
    expect(res.data.account.cardPermissions.map(({ id, ...c }: any) => c)).toEqual(
      cards.map((c) => ({
        cardId: c.cardId,
        iotId: c.iotId,
        identityId: c.identityId,
        expiresAt: iso(c.expiryTime),
        device: { iotId: c.iotId, name: devices.get(c.iotId)!.name },
      })),
    );
    const calls = stack.aliyun.calls();
    expect(calls.map((c) => [c.path, c.apiVer, c.params])).toEqual([
      ["/entrance/paas/user/perm/query", "1.0.0", { identityId: account.account_id, iotIds: [...devices.keys()] }],
    ]);
  });

  it("/entrance/paas/device/perm/query and /entrance/paas/keepopen/get: a device's cards, paged, and its keep-open state", async () => {
    const device = [...stack.aliyun.state.devices.values()][2];
    const cards = [...stack.aliyun.state.cards.values()].filter((c) => c.iotId === device.iotId);
    const res = await stack.gql(
      `query($i: ID!) { aliyunDevice(iotId: $i) { id iotId name vendor mapped keepOpen relays { relayId } project { projectId }
         cardPermissions(first: 3) { totalCount nodes { cardId identityId person { name } } } } }`,
      { i: device.iotId },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.aliyunDevice).toMatchObject({ iotId: device.iotId, name: device.name, vendor: "ALIYUN", mapped: true, keepOpen: true, relays: [], project: { projectId: DEMO_PROJECT_ID } });
    expect(res.data.aliyunDevice.cardPermissions.totalCount).toBe(cards.length);
    expect(res.data.aliyunDevice.cardPermissions.nodes).toEqual(
      cards.slice(0, 3).map((c) => ({ cardId: c.cardId, identityId: c.identityId, person: { name: stack.aliyun.state.persons.get(c.identityId)!.name } })),
    );
    const paths = stack.aliyun.calls().map((c) => `${c.path} ${JSON.stringify(c.params)}`);
    expect(paths.filter((p) => !p.startsWith("/entrance/paas/user/get")).sort()).toEqual([
      `/entrance/paas/device/perm/query {"iotId":"${device.iotId}","pageSize":100,"pageNo":1}`,
      `/entrance/paas/keepopen/get {"iotId":"${device.iotId}"}`,
    ]);
    expect(paths.filter((p) => p.startsWith("/entrance/paas/user/get"))).toHaveLength(new Set(cards.slice(0, 3).map((c) => c.identityId)).size);
  });

  it("fetches Aliyun objects again by global ID", async () => {
    const { account, cards } = cardHolder();
    const first = await stack.gql(
      `query($p: ID!, $r: ID!, $a: ID!) { account(projectId: $p, residenceId: $r, accountId: $a) { aliyunPerson { id } cardPermissions { id device { id } } } }`,
      { p: DEMO_PROJECT_ID, r: account.residence_id, a: account.account_id },
    );
    const a = first.data.account;
    const ids = [a.aliyunPerson.id, a.cardPermissions[0].id, a.cardPermissions[0].device.id];
    const res = await stack.gql(
      `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on AliyunPerson { identityId } ... on CardPermission { cardId } ... on AliyunAccessControlDevice { iotId } } }`,
      { ids },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.nodes).toEqual([
      { id: ids[0], identityId: account.account_id },
      { id: ids[1], cardId: cards[0].cardId },
      { id: ids[2], iotId: cards[0].iotId },
    ]);
  });

  it("ships a demo site map that names exactly the simulator's seeded devices", () => {
    expect(JSON.parse(readFileSync(DEMO_SITE_MAP_PATH, "utf8"))).toEqual(demoSiteMap(createAliyunSeed()));
  });
});

describe("gateway refusals reach the caller as coded errors", () => {
  it("a wrong app secret: UPSTREAM_ERROR naming the gateway's reason, partial data kept, no secret anywhere", async () => {
    const wrong = await startStack({ env: { ALIYUN_APP_SECRET: "wrong-secret-4242" } });
    try {
      const device = [...wrong.aliyun.state.devices.values()][0];
      const res = await wrong.gql(`query($i: ID!) { aliyunDevice(iotId: $i) { name keepOpen } }`, { i: device.iotId });
      expect(res.data.aliyunDevice).toEqual({ name: device.name, keepOpen: null });
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0].path).toEqual(["aliyunDevice", "keepOpen"]);
      expect(res.errors![0].extensions).toMatchObject({
        code: "UPSTREAM_ERROR",
        upstream: { vendor: "aliyun", command: "/entrance/paas/keepopen/get", status: 400, vendorCode: "GATEWAY_INVALID_SIGNATURE", vendorMessage: "Invalid Signature" },
      });
      expect(wrong.aliyun.received()[0].gatewayError).toMatch(/^Invalid Signature/);
      const everything = JSON.stringify(res) + wrong.logText();
      expect(everything).not.toContain("wrong-secret-4242");
      expect(everything).not.toContain(DEMO_ALIYUN_APP_SECRET);
    } finally {
      await wrong.close();
    }
  });
});

describe("the person view batches", () => {
  it("30 accounts × 150 devices' card permissions in one query: exactly 30 × 2 gateway calls", async () => {
    const big = await startStack({
      aliyun: { seed: { devices: 150 } },
      siteMap: demoSiteMap(createAliyunSeed({ devices: 150 })),
    });
    try {
      const res = await big.gql(
        `query($p: ID!) { project(projectId: $p) { accounts(first: 30) { nodes { accountId cardPermissions { cardId iotId } } } } }`,
        { p: DEMO_PROJECT_ID },
      );
      expect(res.errors).toBeUndefined();
      const nodes = res.data.project.accounts.nodes;
      expect(nodes).toHaveLength(30);
      const cards = [...big.aliyun.state.cards.values()];
      for (const n of nodes) {
        const expected = cards.filter((c) => c.identityId === n.accountId).map((c) => `${c.iotId}/${c.cardId}`).sort();
        expect(n.cardPermissions.map((c: any) => `${c.iotId}/${c.cardId}`).sort()).toEqual(expected);
      }
      expect(nodes.some((n: any) => n.cardPermissions.length > 2)).toBe(true);

      const calls = big.aliyun.calls();
      expect(calls).toHaveLength(60);
      expect(calls.every((c) => c.path === "/entrance/paas/user/perm/query")).toBe(true);
      const iotIds = [...big.aliyun.state.devices.keys()];
      for (const n of nodes) {
        const mine = calls.filter((c) => c.params?.identityId === n.accountId).map((c) => c.params!.iotIds as string[]);
        expect(mine.map((ids) => ids.length).sort()).toEqual([100, 50]);
        expect(mine.flat().sort()).toEqual([...iotIds].sort());
      }
    } finally {
      await big.close();
    }
  });
});
