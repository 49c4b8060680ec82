import { readFileSync } from "node:fs";
import { beforeEach, describe, expect, it } from "vitest";
import { toGlobalId } from "../../src/lib/global-id.js";
import { DEMO_SITE_MAP_PATH } from "../../src/app.js";
import { residenceDevices, type Project } from "../../src/simulators/akubela/state.js";
import { cardKey } from "../../src/simulators/aliyun/seed.js";
import { ALIYUN_WRITES } from "../../src/datasources/aliyun/datasource.js";
import { DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID, TEST_API_KEYS, useStack, userListPages } from "../helpers/stack.js";

/**
 * Authorization where the data is touched: a key limited to one project ("own", the demo's second project) tries
 * the objects of another ("other", the demo project) by every way of addressing them. The data sources check each
 * object against the project it is addressed in, from the vendor's own data, before any command names it; the
 * simulators say what they received.
 *
 * The Akubela `user-commands` take only `residence_id` and the simulator, like the vendor, answers for any
 * residence the server's credential sees: a forged global ID (own project part, other residence) is what only the
 * data layer can refuse, since the request's surface shows nothing but the caller's own project.
 */
const OWN = DEMO_SECOND_PROJECT_ID;
const OTHER = DEMO_PROJECT_ID;

// One Aliyun device of the demo site map is moved into the own project; the rest stay in the other one.
const demoMap = JSON.parse(readFileSync(DEMO_SITE_MAP_PATH, "utf8")) as { devices: { iotId: string; projectId: string; buildingId?: string }[] };
const ownIot = demoMap.devices[5].iotId;
const siteMap = {
  ...demoMap,
  devices: demoMap.devices.map((d, i) => (i === 5 ? { iotId: d.iotId, name: "Harbour House gate", projectId: OWN } : d)),
};
const otherIot = demoMap.devices[0].iotId;

const stack = useStack({ siteMap });

const own = () => stack.sim.state.projects.get(OWN)!;
const other = () => stack.sim.state.projects.get(OTHER)!;
const firstAccount = (p: Project) => [...p.accounts.values()][0];
const privateDevice = (p: Project) => [...p.devices.values()].find((d) => d.scope === "residence" && d.relays.length > 0)!;
/** The edge's first line (policy) may refuse a request naming the other project before the data layer sees it. */
const EDGE = /may not touch|site-wide data/;
const either = (dataLayer: string) => new RegExp(`^${dataLayer.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$|${EDGE.source}`);

const limited = (query: string, variables?: Record<string, unknown>) =>
  stack.gql(query, variables, null, { "x-api-key": TEST_API_KEYS.secondProject.key });

/** The Akubela commands and Aliyun requests received, as text, to search for an id. */
const everythingReceived = () => [
  ...stack.sim.received().map((c) => `${c.command} ${JSON.stringify(c.param)}`),
  ...stack.aliyun.received().map((r) => `${r.path} ${JSON.stringify(r.params ?? {})}`),
];

/** No command or gateway request named any of these ids (or the other project). */
function nothingSentAbout(...ids: string[]) {
  for (const text of everythingReceived()) {
    for (const id of [OTHER, ...ids]) expect(text, `a command named ${id}`).not.toContain(id);
  }
}

/** Only reads were sent: no Akubela write command, no Aliyun write path. */
function noWrites() {
  const writes = new Set<string>(Object.values(ALIYUN_WRITES).map((w) => w.path));
  expect(stack.sim.received().filter((c) => !/^(get_|check_)/.test(String(c.command))).map((c) => c.command)).toEqual([]);
  expect(stack.aliyun.received().filter((r) => writes.has(r.path)).map((r) => r.path)).toEqual([]);
}

function refused(res: { errors?: { message: string; extensions?: Record<string, any> }[] }, message: string | RegExp) {
  const forbidden = (res.errors ?? []).filter((e) => e.extensions?.code === "FORBIDDEN");
  expect(forbidden.length, JSON.stringify(res.errors)).toBeGreaterThan(0);
  expect(forbidden.map((e) => e.message).some((m) => (typeof message === "string" ? m === message : message.test(m))), JSON.stringify(forbidden)).toBe(true);
}

beforeEach(() => {
  stack.sim.clearReceived();
  stack.aliyun.clearReceived();
});

describe("residence: a residence is the project's only when the project's user list has an account there", () => {
  it("a forged global ID (own project, other residence) is refused for every residence read, and only the own user list is read", async () => {
    const r = firstAccount(other()).residence_id;
    const res = await limited(
      `query($id: ID!) { node(id: $id) { ... on Residence { residenceNo devices { mac } openDoorConfig { privateKey nfc { code } } tempKeys { tempKey: id } openDoorHistory(first: 5) { totalCount } } } }`,
      { id: toGlobalId("Residence", OWN, r) },
    );
    expect(res.data.node).toBeNull();
    refused(res, `residence ${r} is not in project ${OWN} (the project's user list has no account there)`);
    expect(everythingReceived()).toEqual(userListPages(stack.sim, OWN));
  });

  it("the root field with the own project and another's residence: refused before get_akuvox_device_list or any config read", async () => {
    const r = firstAccount(other()).residence_id;
    const res = await limited(`query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { devices { mac rtspUrl } openDoorConfig { privateKey } } }`, { p: OWN, r });
    expect(res.data?.residence ?? null).toBeNull();
    refused(res, `residence ${r} is not in project ${OWN} (the project's user list has no account there)`);
    nothingSentAbout(r);
  });

  it("the other project by direct argument is refused with no command at all", async () => {
    const r = firstAccount(other()).residence_id;
    const res = await limited(`query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { devices { mac } } }`, { p: OTHER, r });
    refused(res, /project/);
    expect(everythingReceived()).toEqual([]);
  });

  it("writes addressed by a forged residence ID send nothing: private key, temp key, device permission check", async () => {
    const r = firstAccount(other()).residence_id;
    const residence = toGlobalId("Residence", OWN, r);
    const update = await limited(`mutation($input: OpenDoorConfigUpdateInput!) { openDoorConfigUpdate(input: $input) { changed } }`, {
      input: { residence, privateKey: "123456", nfcEnabled: true },
    });
    refused(update, `residence ${r} is not in project ${OWN} (the project's user list has no account there)`);
    const create = await limited(`mutation($input: ResidenceTempKeyCreateInput!) { residenceTempKeyCreate(input: $input) { residenceTempKey { id } } }`, {
      input: { residence, startsAt: "2030-01-01T00:00:00Z", endsAt: "2030-01-02T00:00:00Z", count: 99 },
    });
    refused(create, `residence ${r} is not in project ${OWN} (the project's user list has no account there)`);
    const check = await limited(`mutation($input: DevicePermissionCheckInput!) { devicePermissionCheck(input: $input) { permissions { permitted } } }`, {
      input: { residence, macs: [privateDevice(other()).mac] },
    });
    refused(check, `residence ${r} is not in project ${OWN} (the project's user list has no account there)`);
    noWrites();
    nothingSentAbout(r);
  });

  it("the own residence is answered (the check lets the project's own objects through)", async () => {
    const a = firstAccount(own());
    const res = await limited(`query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { devices { mac } } }`, { p: OWN, r: a.residence_id });
    expect(res.errors).toBeUndefined();
    const expected = residenceDevices(own(), own().residences.get(a.residence_id)!).map((d) => d.mac);
    expect(res.data.residence.devices.map((d: { mac: string }) => d.mac)).toEqual(expected);
    expect(stack.sim.calls("get_akuvox_device_list").map((c) => c.param)).toEqual([{ residence_id: a.residence_id }]);
  });
});

describe("device (MAC): a device is the residence's only when the residence's own device list has it", () => {
  it("doorOpen on another project's private device by a forged ID: refused, no remote open sent", async () => {
    const d = privateDevice(other());
    const res = await limited(`mutation($input: DoorOpenInput!) { doorOpen(input: $input) { outcome } }`, {
      input: { device: toGlobalId("AkuvoxDevice", OWN, d.mac, d.residence_id!), relay: toGlobalId("Relay", OWN, d.mac, d.residence_id!, d.relays[0].relay_id) },
    });
    refused(res, `residence ${d.residence_id} is not in project ${OWN} (the project's user list has no account there)`);
    noWrites();
    nothingSentAbout(d.mac, d.residence_id!);
  });

  it("doorOpen on another project's device on behalf of an own residence: refused by the residence's device list, no remote open", async () => {
    const d = privateDevice(other());
    const mine = firstAccount(own()).residence_id;
    const res = await limited(`mutation($input: DoorOpenInput!) { doorOpen(input: $input) { outcome } }`, {
      input: { device: toGlobalId("AkuvoxDevice", OWN, d.mac), residence: toGlobalId("Residence", OWN, mine) },
    });
    refused(res, `device ${d.mac} is not in the device list of residence ${mine} of project ${OWN}`);
    noWrites();
    nothingSentAbout(d.mac);
    expect(stack.sim.calls("get_akuvox_device_list").map((c) => c.param)).toEqual([{ residence_id: mine }]);
    const audit = stack.logs.filter((l) => l.audit === "door_open").at(-1);
    expect(audit).toMatchObject({ outcome: "REFUSED", caller: "key:secondProject" });
  });

  it("node(AkuvoxDevice) with a forged residence part is refused before the residence's device list is read", async () => {
    const d = privateDevice(other());
    const res = await limited(`query($id: ID!) { node(id: $id) { ... on AkuvoxDevice { mac rtspUrl } } }`, { id: toGlobalId("AkuvoxDevice", OWN, d.mac, d.residence_id!) });
    expect(res.data.node).toBeNull();
    refused(res, `residence ${d.residence_id} is not in project ${OWN} (the project's user list has no account there)`);
    nothingSentAbout(d.mac, d.residence_id!);
  });
});

describe("account: an account is the project's only when the project's user list has it in that residence", () => {
  it("a forged Account ID (own project part) is refused for reads and for every write, before get_user_info or any write", async () => {
    const a = firstAccount(other());
    const id = toGlobalId("Account", OWN, a.residence_id, a.account_id);
    const read = await limited(`query($id: ID!) { node(id: $id) { ... on Account { email credentials { pinCodes { number } } } } }`, { id });
    expect(read.data.node).toBeNull();
    refused(read, `account ${a.account_id} is not in residence ${a.residence_id} of project ${OWN}`);
    const update = await limited(`mutation($input: AccountUpdateInput!) { accountUpdate(input: $input) { account { id } } }`, { input: { account: id, firstName: "Eve", lastName: "Mallory" } });
    refused(update, `account ${a.account_id} is not in residence ${a.residence_id} of project ${OWN}`);
    const pin = await limited(`mutation($input: CredentialNumberInput!) { pinCodeCreate(input: $input) { pinCode { id } } }`, { input: { account: id, number: "4242" } });
    refused(pin, `account ${a.account_id} is not in residence ${a.residence_id} of project ${OWN}`);
    const del = await limited(`mutation($input: AccountsDeleteInput!) { accountsDelete(input: $input) { deletedIds } }`, { input: { ids: [id] } });
    refused(del, `account ${a.account_id} is not in residence ${a.residence_id} of project ${OWN}`);
    noWrites();
    nothingSentAbout(a.account_id, a.residence_id);
  });

  it("another project's account placed in an own residence is refused too (the list says where it lives)", async () => {
    const a = firstAccount(other());
    const mine = firstAccount(own()).residence_id;
    const res = await limited(`query($p: ID!, $r: ID!, $a: ID!) { account(projectId: $p, residenceId: $r, accountId: $a) { email } }`, { p: OWN, r: mine, a: a.account_id });
    refused(res, `account ${a.account_id} is not in residence ${mine} of project ${OWN}`);
    nothingSentAbout(a.account_id);
  });
});

describe("visitor key: a key is the project's only when the project's key list has it", () => {
  it("a forged VisitorTempKey ID is refused for the read and the delete; the other key is never named", async () => {
    const k = [...other().visitor_temp_keys.values()][0];
    const id = toGlobalId("VisitorTempKey", OWN, k.visitor_temp_key_id);
    const read = await limited(`query($id: ID!) { node(id: $id) { ... on VisitorTempKey { number history(first: 3) { totalCount } } } }`, { id });
    expect(read.data.node).toBeNull();
    refused(read, `visitor key ${k.visitor_temp_key_id} is not in project ${OWN}`);
    const del = await limited(`mutation($input: VisitorTempKeysDeleteInput!) { visitorTempKeysDelete(input: $input) { deletedIds } }`, { input: { ids: [id] } });
    refused(del, `visitor key ${k.visitor_temp_key_id} is not in project ${OWN}`);
    noWrites();
    nothingSentAbout(k.visitor_temp_key_id);
    expect(stack.sim.calls("get_visitor_temp_key_list").every((c) => (c.param as { project_id: string }).project_id === OWN)).toBe(true);
  });
});

describe("Aliyun device: a device is in the project the site map puts it in", () => {
  it("reads and writes of another project's device are refused before any gateway call", async () => {
    const read = await limited(`query($i: ID!) { aliyunDevice(iotId: $i) { name keepOpen } }`, { i: otherIot });
    refused(read, either(`Aliyun device ${otherIot} is not in a project this caller may see (site map)`));
    const keep = await limited(`mutation($input: KeepOpenSetInput!) { keepOpenSet(input: $input) { device { id } } }`, {
      input: { device: toGlobalId("AliyunAccessControlDevice", otherIot), keepOpen: true },
    });
    refused(keep, either(`Aliyun device ${otherIot} is not in a project this caller may see (site map)`));
    const open = await limited(`mutation($input: DoorOpenInput!) { doorOpen(input: $input) { outcome } }`, { input: { device: toGlobalId("AliyunAccessControlDevice", otherIot) } });
    refused(open, either(`Aliyun device ${otherIot} is not in a project this caller may see (site map)`));
    expect(stack.aliyun.received()).toEqual([]);
    expect(stack.aliyun.state.remoteOpens).toEqual([]);
  });

  it("a device the site map does not name belongs to no project: refused to a limited key", async () => {
    const res = await limited(`query($id: ID!) { node(id: $id) { ... on AliyunAccessControlDevice { keepOpen } } }`, { id: toGlobalId("AliyunAccessControlDevice", "unmappedIotId000000000001") });
    refused(res, either("Aliyun device unmappedIotId000000000001 is not in the site map: it belongs to no project this caller may see"));
    expect(stack.aliyun.received()).toEqual([]);
  });

  it("the own project's device is answered", async () => {
    const res = await limited(`query($i: ID!) { aliyunDevice(iotId: $i) { name keepOpen project { projectId } } }`, { i: ownIot });
    expect(res.errors).toBeUndefined();
    expect(res.data.aliyunDevice).toMatchObject({ name: "Harbour House gate", project: { projectId: OWN } });
    expect(stack.aliyun.calls(ALIYUN_READS_KEEP_OPEN).map((r) => r.params)).toEqual([{ iotId: ownIot }]);
  });
});

const ALIYUN_READS_KEEP_OPEN = "/entrance/paas/keepopen/get";

describe("Aliyun person: a person is in the project of the account it is linked to", () => {
  it("a person linked to another project's account is refused by identityId", async () => {
    const a = firstAccount(other());
    const res = await limited(`query($id: ID!) { node(id: $id) { ... on AliyunPerson { name } } }`, { id: toGlobalId("AliyunPerson", a.account_id) });
    expect(res.data?.node ?? null).toBeNull();
    refused(res, either(`Aliyun person ${a.account_id} is not linked to an account of a project this caller may see`));
    expect(stack.aliyun.received()).toEqual([]);
  });

  it("Aliyun mutations addressed by an Account ID with a forged project part: the account is checked before the identity is derived, nothing is sent", async () => {
    const a = firstAccount(other());
    const mine = firstAccount(own()).residence_id;
    for (const account of [toGlobalId("Account", OWN, a.residence_id, a.account_id), toGlobalId("Account", OWN, mine, a.account_id)]) {
      const rename = await limited(`mutation($input: AliyunPersonUpsertInput!) { aliyunPersonUpsert(input: $input) { person { name } } }`, { input: { person: account, name: "Renamed" } });
      refused(rename, /^account .* is not in residence .* of project /);
      const qr = await limited(`mutation($input: QrCodeGenerateInput!) { qrCodeGenerate(input: $input) { qrCodes } }`, { input: { person: account } });
      refused(qr, /^account .* is not in residence .* of project /);
    }
    expect(stack.aliyun.received()).toEqual([]);
    expect(stack.aliyun.state.persons.get(a.account_id)!.name).not.toBe("Renamed");
    nothingSentAbout(a.account_id);
  });

  it("the site-wide person list is refused in the data layer as well as at the edge", async () => {
    const res = await limited(`{ aliyunPersons(first: 1) { totalCount } }`);
    refused(res, /site-wide|may not touch/);
    expect(stack.aliyun.received()).toEqual([]);
  });
});

describe("card permission: the device and the person are both checked", () => {
  it("a forged CardPermission ID (own person, other device) and a grant on another project's device send nothing", async () => {
    const mine = firstAccount(own());
    const byId = await limited(`query($id: ID!) { node(id: $id) { ... on CardPermission { cardId } } }`, { id: toGlobalId("CardPermission", mine.account_id, otherIot, "C1") });
    refused(byId, either(`Aliyun device ${otherIot} is not in a project this caller may see (site map)`));
    const grant = await limited(`mutation($input: CardPermissionsInput!) { cardPermissionsGrant(input: $input) { succeeded } }`, {
      input: {
        permissions: [
          { person: toGlobalId("Account", OWN, mine.residence_id, mine.account_id), device: toGlobalId("AliyunAccessControlDevice", ownIot), cardId: "C1" },
          { person: toGlobalId("Account", OWN, mine.residence_id, mine.account_id), device: toGlobalId("AliyunAccessControlDevice", otherIot), cardId: "C2" },
        ],
      },
    });
    refused(grant, either(`Aliyun device ${otherIot} is not in a project this caller may see (site map)`));
    expect(stack.aliyun.received()).toEqual([]); // one bad record: none of the batch is sent
  });

  it("nested traversal stays in the caller's projects: an own device's permissions do not lead to another project's person", async () => {
    const mine = firstAccount(own());
    const theirs = firstAccount(other());
    stack.aliyun.state.persons.set(mine.account_id, { identityId: mine.account_id, name: "Own Person", extInfo: null });
    stack.aliyun.state.cards.set(cardKey(mine.account_id, ownIot, "C-own"), { identityId: mine.account_id, iotId: ownIot, cardId: "C-own", expiryTime: "2030-12-31 23:59:59" });
    stack.aliyun.state.cards.set(cardKey(theirs.account_id, ownIot, "C-theirs"), { identityId: theirs.account_id, iotId: ownIot, cardId: "C-theirs", expiryTime: "2030-12-31 23:59:59" });
    const res = await limited(
      `query($i: ID!) { aliyunDevice(iotId: $i) { cardPermissions(first: 10) { nodes { cardId person { name } device { project { projectId accounts(first: 1) { totalCount } } } } } } }`,
      { i: ownIot },
    );
    const nodes = res.data.aliyunDevice.cardPermissions.nodes as { cardId: string; person: { name: string } | null; device: unknown }[];
    const byCard = Object.fromEntries(nodes.map((n) => [n.cardId, n]));
    expect(byCard["C-own"].person).toEqual({ name: "Own Person" });
    expect(byCard["C-theirs"].person).toBeNull();
    expect(byCard["C-theirs"].device).toMatchObject({ project: { projectId: OWN } });
    const i = nodes.findIndex((n) => n.cardId === "C-theirs");
    expect(res.errors?.map((e) => [e.path, e.extensions?.code, e.message])).toEqual([
      [["aliyunDevice", "cardPermissions", "nodes", i, "person"], "FORBIDDEN", `Aliyun person ${theirs.account_id} is not linked to an account of a project this caller may see`],
    ]);
    expect(stack.aliyun.calls("/entrance/paas/user/get").map((r) => r.params)).toEqual([{ identityId: mine.account_id }]);
    nothingSentAbout(theirs.account_id);
  });

  it("a person's permissions are asked only on devices of the caller's projects", async () => {
    const mine = firstAccount(own());
    stack.aliyun.state.persons.set(mine.account_id, { identityId: mine.account_id, name: "Own Person", extInfo: null });
    stack.aliyun.state.cards.set(cardKey(mine.account_id, otherIot, "C-elsewhere"), { identityId: mine.account_id, iotId: otherIot, cardId: "C-elsewhere", expiryTime: "2030-12-31 23:59:59" });
    const res = await limited(
      `query($id: ID!) { node(id: $id) { ... on Account { aliyunPerson { name cardPermissions { cardId device { project { accounts(first: 1) { totalCount } } } } } } } }`,
      { id: toGlobalId("Account", OWN, mine.residence_id, mine.account_id) },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.node.aliyunPerson).toEqual({ name: "Own Person", cardPermissions: [] });
    expect(stack.aliyun.calls("/entrance/paas/user/perm/query").map((r) => r.params)).toEqual([{ identityId: mine.account_id, iotIds: [ownIot] }]);
  });
});

describe("projects", () => {
  it("lists only the caller's projects", async () => {
    const res = await limited(`{ projects { projectId } }`);
    expect(res.data.projects).toEqual([{ projectId: OWN }]);
    const all = await stack.gql(`{ projects { projectId } }`);
    expect(all.data.projects.map((p: { projectId: string }) => p.projectId).sort()).toEqual([OTHER, OWN].sort());
    expect(everythingReceived()).toEqual([]);
  });
});
