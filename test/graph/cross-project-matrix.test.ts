import { readFileSync } from "node:fs";
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  print,
  astFromValue,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
} from "graphql";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEMO_SITE_MAP_PATH } from "../../src/app.js";
import { ALIYUN_WRITES } from "../../src/datasources/aliyun/datasource.js";
import { fromGlobalId, toGlobalId, type NodeTypeName } from "../../src/lib/global-id.js";
import { tempKeyDigest } from "../../src/resolvers/residence/residence.resolver.js";
import { buildServedSchema } from "../../src/schema/build.js";
import type { Project } from "../../src/simulators/akubela/state.js";
import { cardKey } from "../../src/simulators/aliyun/seed.js";
import { DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID, TEST_API_KEYS, useStack, type GraphResult } from "../helpers/stack.js";

/**
 * The cross-project matrix of issue 12, generated from the served schema: for every Query root field and every
 * Mutation, a key limited to one project ("own", the demo's second project) tries the objects of another ("other",
 * the demo project, "P2") by every path that applies:
 *
 * - `direct`: the argument written in the operation;
 * - `variables`: the same sent as variables;
 * - `defaulted`: a variable whose default names P2, the operation sent with no variables;
 * - `omitted`: the variables naming own objects sent, the one naming P2 left out so its default (a nullable
 *   variable in a non-null position; for mutations, nested inside the input literal) executes;
 * - `forged:<Type>`: a global ID of every kind with an own project part and P2's residence, device, account…;
 * - `nested`: from an own object out along relations towards P2's objects;
 * - `entities`: `_entities` representations of P2's objects.
 *
 * Each case is refused (403, or null and FORBIDDEN at a path under the field), answers no P2 data the request did
 * not itself carry, and the simulators record no command naming a P2 object; a mutation's case records no write.
 * The table below must name every root field and mutation of the schema: a new one without cases fails the test.
 */
const OWN = DEMO_SECOND_PROJECT_ID;
const OTHER = DEMO_PROJECT_ID;

const demoMap = JSON.parse(readFileSync(DEMO_SITE_MAP_PATH, "utf8")) as { devices: { iotId: string; projectId: string }[] };
const ownIot = demoMap.devices[5].iotId;
const otherIot = demoMap.devices[0].iotId;
const siteMap = { ...demoMap, devices: demoMap.devices.map((d, i) => (i === 5 ? { iotId: d.iotId, name: "Harbour House gate", projectId: OWN } : d)) };
const otherIots = siteMap.devices.filter((d) => d.projectId === OTHER).map((d) => d.iotId);

const stack = useStack({ siteMap });
let schema: GraphQLSchema;
/** An endpoint the admin key registered for the other project: the webhook mutations aim at it. */
let adminEndpointId = "";
beforeAll(async () => {
  schema = await buildServedSchema();
  const res = await stack.gql(`mutation($input: WebhookEndpointRegisterInput!) { webhookEndpointRegister(input: $input) { endpoint { id } userErrors { message } } }`, {
    input: { url: "https://hooks.example.com/admin", projectIds: [OTHER] },
  });
  adminEndpointId = res.data?.webhookEndpointRegister?.endpoint?.id;
  expect(adminEndpointId, JSON.stringify(res)).toBeTruthy();
});
beforeEach(() => {
  stack.sim.clearReceived();
  stack.aliyun.clearReceived();
});

// ---------------------------------------------------------------------------------------------------------------
// The objects of both projects the cases name, read from the seeded simulator state.
// ---------------------------------------------------------------------------------------------------------------

function objectsOf(p: Project) {
  const accounts = [...p.accounts.values()];
  const a = accounts.find((x) => x.pin_codes.length && x.rf_cards.length && x.faces.length && x.access_group_ids.length) ?? accounts[0];
  const residenceWithKey = [...p.residences.values()].find((r) => r.temp_keys.length)!;
  const devices = [...p.devices.values()];
  const privateDevice = devices.find((d) => d.scope === "residence" && d.relays.length > 0) ?? devices.find((d) => d.scope === "residence")!;
  const publicDevice = devices.find((d) => d.scope !== "residence" && d.relays.length > 0)!;
  return {
    project: p.project_id,
    account: a,
    residence: a.residence_id,
    building: [...p.buildings.keys()][0],
    privateDevice,
    publicDevice,
    visitorKey: [...p.visitor_temp_keys.keys()][0],
    residenceWithKey,
  };
}

/** Every id of the other project an attacker could aim at: a command or an answer naming one is a hole. */
function otherIds(p: Project): string[] {
  const ids = new Set<string>([p.project_id, ...p.buildings.keys(), ...p.residences.keys(), ...p.visitor_temp_keys.keys(), ...p.access_groups.keys(), ...otherIots]);
  for (const a of p.accounts.values()) {
    ids.add(a.account_id);
    for (const x of a.pin_codes) ids.add(x.pin_code_id);
    for (const x of a.rf_cards) ids.add(x.rf_card_id);
    for (const x of a.faces) ids.add(x.face_id);
    if (a.email) ids.add(a.email);
  }
  for (const d of p.devices.values()) {
    ids.add(d.mac);
    for (const r of d.relays) ids.add(r.relay_id);
  }
  return [...ids];
}

type Fx = ReturnType<typeof fixtures>;
function fixtures() {
  const own = objectsOf(stack.sim.state.projects.get(OWN)!);
  const other = objectsOf(stack.sim.state.projects.get(OTHER)!);
  const t = other.account;
  const g = (type: NodeTypeName, ...parts: string[]) => toGlobalId(type, ...parts);
  const pd = other.privateDevice;
  const tk = other.residenceWithKey;
  const ownAccount = g("Account", OWN, own.residence, own.account.account_id);
  /** Global IDs of every kind naming P2's objects under the own project part (or none, for the Aliyun kinds). */
  const forged: Record<NodeTypeName, string> = {
    Project: g("Project", OTHER),
    Building: g("Building", OWN, other.building),
    Residence: g("Residence", OWN, t.residence_id),
    Account: g("Account", OWN, t.residence_id, t.account_id),
    PinCode: g("PinCode", OWN, t.residence_id, t.account_id, t.pin_codes[0].pin_code_id),
    RfCard: g("RfCard", OWN, t.residence_id, t.account_id, t.rf_cards[0].rf_card_id),
    Face: g("Face", OWN, t.residence_id, t.account_id, t.faces[0].face_id),
    AccessGroup: g("AccessGroup", OWN, t.residence_id, t.account_id, t.access_group_ids[0]),
    AkuvoxDevice: g("AkuvoxDevice", OWN, pd.mac, pd.residence_id!),
    Relay: g("Relay", OWN, other.publicDevice.mac, other.publicDevice.relays[0].relay_id),
    VisitorTempKey: g("VisitorTempKey", OWN, other.visitorKey),
    ResidenceTempKey: g("ResidenceTempKey", OWN, tk.residence_id, tempKeyDigest(tk.temp_keys[0].temp_key)),
    AliyunAccessControlDevice: g("AliyunAccessControlDevice", otherIot),
    AliyunPerson: g("AliyunPerson", t.account_id),
    CardPermission: g("CardPermission", own.account.account_id, otherIot, "C1"),
  };
  return {
    own,
    other,
    forged,
    ownAccount,
    /** Another project's account placed in an own residence (the list says where it lives). */
    accountInOwnResidence: g("Account", OWN, own.residence, t.account_id),
    /** Honest IDs of P2's objects (the other project's part): the edge's first line refuses these. */
    honestAccount: g("Account", OTHER, t.residence_id, t.account_id),
    honestResidence: g("Residence", OTHER, t.residence_id),
    publicDeviceForged: g("AkuvoxDevice", OWN, other.publicDevice.mac),
    ownResidence: g("Residence", OWN, own.residence),
    ownIotId: g("AliyunAccessControlDevice", ownIot),
    otherIotId: g("AliyunAccessControlDevice", otherIot),
    ownBuilding: g("Building", OWN, own.building),
    ownPublicDevice: g("AkuvoxDevice", OWN, own.publicDevice.mac),
    /** A relay ID naming an own shared device and another project's relay. */
    ownDeviceOtherRelay: g("Relay", OWN, own.publicDevice.mac, other.publicDevice.relays[0].relay_id),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The table: every root field and mutation, with the targets its paths are generated from.
// ---------------------------------------------------------------------------------------------------------------

/** One way of naming P2 through a field's arguments: `args` are its argument values, `p2` the argument (or, for a
 * mutation, the path inside `input`, dots between) that names P2: those become defaulted variables. */
interface Target {
  label: string;
  args: Record<string, unknown>;
  p2: string[];
}
interface Custom {
  path: string;
  query: string;
  variables?: Record<string, unknown>;
  /** Arranges simulator state the case needs. */
  setup?: (fx: Fx) => void;
  /** Not refused but filtered (nothing of P2 answered or sent): why. */
  filtered?: string;
}
interface Entry {
  /** The selection set asked of the field. */
  select: string;
  targets?: (fx: Fx) => Target[];
  custom?: (fx: Fx) => Custom[];
  /** For an entry with no P2 argument at all: why, and how the field is covered. */
  why?: string;
  /**
   * Refused in the payload rather than by FORBIDDEN: why. The case then needs a `userErrors` entry at the P2
   * input path (the webhook mutations answer another key's endpoint as one that does not exist, NOT_FOUND).
   */
  payloadRefusal?: string;
}

const T = (label: string, args: Record<string, unknown>, ...p2: string[]): Target => ({ label, args, p2 });
const page = { first: 5 };
const report = (select: string): Entry => ({
  select,
  targets: () => [T("other project", { projectId: OTHER, ...page }, "projectId")],
});
const NODE_SELECT = `{ id ... on Residence { openDoorConfig { privateKey } } ... on Account { email } ... on AkuvoxDevice { rtspUrl } ... on VisitorTempKey { number } }`;

const QUERIES: Record<string, Entry> = {
  accessEvents: {
    select: `{ nodes { kind } }`,
    targets: (fx) => [T("other project", { projectId: OTHER, first: 5 }, "projectId"), T("own project, other residence", { projectId: OWN, residenceId: fx.other.residence, first: 5 }, "residenceId")],
  },
  accessEventsReport: report(`{ nodes { deviceName } }`),
  accountsReport: report(`{ nodes { email } }`),
  credentialsReport: report(`{ nodes { accountId } }`),
  devicesReport: report(`{ nodes { name } }`),
  account: {
    select: `{ email credentials { pinCodes { number } } }`,
    targets: (fx) => {
      const a = fx.other.account;
      return [
        T("other project", { projectId: OTHER, residenceId: a.residence_id, accountId: a.account_id }, "projectId", "residenceId", "accountId"),
        T("own project, other residence", { projectId: OWN, residenceId: a.residence_id, accountId: a.account_id }, "residenceId", "accountId"),
        T("own residence, other account", { projectId: OWN, residenceId: fx.own.residence, accountId: a.account_id }, "accountId"),
      ];
    },
    custom: (fx) => [
      {
        path: "nested",
        filtered: "an own account's Aliyun person leads to devices and people of the caller's projects only",
        setup: () => seedCrossCards(fx),
        query: `query($p: ID!, $r: ID!, $a: ID!) { account(projectId: $p, residenceId: $r, accountId: $a) { email aliyunPerson { cardPermissions { device { iotId project { accounts(first: 50) { nodes { email } } } } } } } }`,
        variables: { p: OWN, r: fx.own.residence, a: fx.own.account.account_id },
      },
    ],
  },
  aliyunDevice: {
    select: `{ name keepOpen }`,
    targets: () => [T("other project's device", { iotId: otherIot }, "iotId")],
    custom: (fx) => [
      {
        path: "nested",
        setup: () => seedCrossCards(fx),
        query: `query($i: ID!) { aliyunDevice(iotId: $i) { cardPermissions(first: 10) { nodes { cardId person { name cardPermissions { device { iotId project { accounts(first: 50) { nodes { email } } } } } } device { project { projectId accounts(first: 50) { nodes { email } } } } } } } }`,
        variables: { i: ownIot },
      },
    ],
  },
  aliyunPerson: {
    select: `{ name }`,
    targets: (fx) => [T("other project's person", { identityId: fx.other.account.account_id }, "identityId")],
    custom: (fx) => [
      {
        path: "nested",
        filtered: "an own person's card permissions are asked only on devices of the caller's projects",
        setup: () => seedCrossCards(fx),
        query: `query($i: ID!) { aliyunPerson(identityId: $i) { name cardPermissions { cardId device { iotId name project { projectId accounts(first: 50) { nodes { email } } } } } } }`,
        variables: { i: fx.own.account.account_id },
      },
    ],
  },
  aliyunPersons: {
    select: `{ totalCount nodes { name } }`,
    why: "site-wide (no project argument): a key limited to some projects is refused it as a whole",
    targets: () => [T("site-wide list", { first: 5 }, "first")],
  },
  node: {
    select: NODE_SELECT,
    targets: (fx) => [
      ...Object.entries(fx.forged).map(([type, id]) => T(`forged:${type}`, { id }, "id")),
      T("forged:Account (other account in own residence)", { id: fx.accountInOwnResidence }, "id"),
      T("forged:AkuvoxDevice (public)", { id: fx.publicDeviceForged }, "id"),
      T("forged:CardPermission (other person, own device)", { id: toGlobalId("CardPermission", fx.other.account.account_id, ownIot, "C1") }, "id"),
      T("honest:Account", { id: fx.honestAccount }, "id"),
      T("honest:Residence", { id: fx.honestResidence }, "id"),
    ],
    custom: (fx) => [
      {
        path: "nested",
        filtered: "an own account's Aliyun person lists card permissions only on devices of the caller's projects",
        setup: () => seedCrossCards(fx),
        query: `query($id: ID!) { node(id: $id) { ... on Account { aliyunPerson { name cardPermissions { cardId device { iotId project { accounts(first: 50) { nodes { email } } } } } } } } }`,
        variables: { id: fx.ownAccount },
      },
    ],
  },
  nodes: {
    select: NODE_SELECT,
    targets: (fx) => [T("every forged kind at once", { ids: Object.values(fx.forged) }, "ids"), ...Object.entries(fx.forged).map(([type, id]) => T(`forged:${type}`, { ids: [id] }, "ids"))],
  },
  project: {
    select: `{ projectId accounts(first: 5) { nodes { email } } devices { name } }`,
    targets: () => [T("other project", { projectId: OTHER }, "projectId")],
    custom: (fx) => [
      {
        path: "nested",
        query: `query($p: ID!, $r: ID!, $b: ID!) { project(projectId: $p) { projectId residence(residenceId: $r) { devices { mac rtspUrl } openDoorConfig { privateKey } tempKeys { count } } building(buildingId: $b) { name } } }`,
        variables: { p: OWN, r: fx.other.residence, b: fx.other.building },
      },
    ],
  },
  projects: {
    select: `{ projectId }`,
    why: "no arguments: it lists only the caller's projects, and what hangs off them stays in them",
    custom: () => [
      { path: "direct", filtered: "lists the own project only", query: `{ projects { projectId accounts(first: 50) { nodes { email } } devices { name } } }` },
      { path: "nested", filtered: "the own project's residences lead to own accounts only", query: `{ projects { residences(first: 5) { nodes { accounts { email } devices { mac } } } } }` },
    ],
  },
  residence: {
    select: `{ devices { mac rtspUrl } openDoorConfig { privateKey nfc { code } } tempKeys { count } openDoorHistory(first: 3) { totalCount } }`,
    targets: (fx) => [
      T("other project", { projectId: OTHER, residenceId: fx.other.residence }, "projectId", "residenceId"),
      T("own project, other residence", { projectId: OWN, residenceId: fx.other.residence }, "residenceId"),
    ],
  },
  visitorTempKey: {
    select: `{ number history(first: 3) { totalCount } }`,
    targets: (fx) => [
      T("other project", { projectId: OTHER, visitorTempKeyId: fx.other.visitorKey }, "projectId", "visitorTempKeyId"),
      T("own project, other key", { projectId: OWN, visitorTempKeyId: fx.other.visitorKey }, "visitorTempKeyId"),
    ],
  },
  _entities: {
    select: `{ __typename ... on Project { projectId accounts(first: 5) { nodes { email } } } ... on Residence { openDoorConfig { privateKey } } ... on Account { email } ... on AkuvoxDevice { rtspUrl } ... on AliyunAccessControlDevice { name keepOpen } ... on AliyunPerson { name } }`,
    targets: (fx) => [
      T("entities: other project", { representations: [{ __typename: "Project", projectId: OTHER }] }, "representations"),
      T("entities: other Aliyun device", { representations: [{ __typename: "AliyunAccessControlDevice", iotId: otherIot }] }, "representations"),
      ...(["Residence", "Account", "AkuvoxDevice", "VisitorTempKey", "AliyunPerson", "AliyunAccessControlDevice", "Building"] as const).map((type) =>
        T(`entities: forged:${type}`, { representations: [{ __typename: type, id: fx.forged[type] }] }, "representations"),
      ),
      T("entities: honest Account", { representations: [{ __typename: "Account", id: fx.honestAccount }] }, "representations"),
    ],
  },
  webhookEndpoints: {
    select: `{ id url projectIds }`,
    why: "no arguments: an API key's own endpoints; another key's endpoint for the other project is not listed",
    custom: () => [{ path: "direct", filtered: "lists only this key's endpoints (the admin's one for the other project is not among them)", query: `{ webhookEndpoints { id url projectIds kinds } }` }],
  },
  _service: {
    select: `{ sdl }`,
    why: "federation metadata: the schema's SDL, the same for every caller and with no vendor call; checked here to name no P2 object and send nothing",
    custom: () => [{ path: "meta", filtered: "no project data", query: `{ _service { sdl } }` }],
  },
};

const at = "2031-01-01T00:00:00Z";
const later = "2031-01-02T00:00:00Z";
const M = (select = `{ userErrors { code message } }`) => select;
const MUTATIONS: Record<string, Entry & { select: string }> = {
  accountCreate: {
    select: M(),
    targets: (fx) => [
      T("forged residence", { input: { residence: fx.forged.Residence, email: "eve@example.com", firstName: "Eve", lastName: "M", role: "USER" } }, "input.residence"),
      T("own residence, forged building", { input: { residence: fx.ownResidence, building: fx.forged.Building, email: "eve@example.com", firstName: "Eve", lastName: "M", role: "USER" } }, "input.building"),
    ],
  },
  accountPasswordUpdate: { select: M(), targets: (fx) => accountTargets(fx, { newPassword: "Sup3r-secret!" }) },
  accountUpdate: { select: M(), targets: (fx) => accountTargets(fx, { firstName: "Eve", lastName: "Mallory" }) },
  accountsCreate: {
    select: M(),
    targets: (fx) => [
      T("forged residence in a batch", { input: { accounts: [{ residence: fx.forged.Residence, email: "eve@example.com", firstName: "Eve", lastName: "M", role: "USER" }] } }, "input.accounts.0.residence"),
    ],
  },
  accountsDelete: {
    select: M(),
    targets: (fx) => [
      T("forged account", { input: { ids: [fx.forged.Account] } }, "input.ids.0"),
      T("own and other account", { input: { ids: [fx.ownAccount, fx.accountInOwnResidence] } }, "input.ids.1"),
    ],
  },
  accountsImport: { select: M(), targets: () => [T("other project", { input: { project: toGlobalId("Project", OTHER), fileName: "a.xlsx", fileUrl: "https://files.example/a.xlsx" } }, "input.project")] },
  aliyunPersonDelete: { select: M(), targets: (fx) => personTargets(fx, {}) },
  aliyunPersonUpsert: { select: M(), targets: (fx) => personTargets(fx, { name: "Renamed" }) },
  cardPermissionsGrant: { select: M(), targets: (fx) => cardTargets(fx) },
  cardPermissionsRevoke: { select: M(), targets: (fx) => cardTargets(fx) },
  credentialDelete: {
    select: M(),
    targets: (fx) => (["PinCode", "RfCard", "Face"] as const).map((type) => T(`forged ${type}`, { input: { id: fx.forged[type] } }, "input.id")),
  },
  credentialsImport: {
    select: M(),
    targets: () => [T("other project", { input: { project: toGlobalId("Project", OTHER), kind: "FACES", fileName: "f.zip", fileUrl: "https://files.example/f.zip" } }, "input.project")],
  },
  devicePermissionCheck: {
    select: M(),
    targets: (fx) => [
      T("forged residence", { input: { residence: fx.forged.Residence, macs: [fx.other.privateDevice.mac] } }, "input.residence"),
      T("own residence, other device", { input: { residence: fx.ownResidence, macs: [fx.other.privateDevice.mac] } }, "input.macs.0"),
    ],
  },
  doorOpen: {
    select: M(`{ outcome userErrors { code message } }`),
    targets: (fx) => [
      T("forged device", { input: { device: fx.forged.AkuvoxDevice } }, "input.device"),
      T("forged shared device and relay for an own residence", { input: { device: fx.publicDeviceForged, relay: fx.forged.Relay, residence: fx.ownResidence } }, "input.device", "input.relay"),
      T("other device for an own residence", { input: { device: toGlobalId("AkuvoxDevice", OWN, fx.other.privateDevice.mac), residence: fx.ownResidence } }, "input.device"),
      T("own device for a forged residence", { input: { device: fx.ownPublicDevice, residence: fx.forged.Residence } }, "input.residence"),
      T("other Aliyun device", { input: { device: fx.otherIotId } }, "input.device"),
    ],
  },
  doorPasswordsSet: {
    select: M(),
    targets: (fx) => [
      T("other device", { input: { passwords: [{ device: fx.otherIotId, person: fx.ownAccount, number: 1, password: "123456" }] } }, "input.passwords.0.device"),
      T("forged person", { input: { passwords: [{ device: fx.ownIotId, person: fx.forged.Account, number: 1, password: "123456" }] } }, "input.passwords.0.person"),
    ],
  },
  faceCreate: { select: M(), targets: (fx) => accountTargets(fx, { pictureUrl: "https://files.example/face.jpg" }) },
  floorAccessUpdate: {
    select: M(),
    targets: (fx) => [
      ...accountTargets(fx, { floors: [{ building: fx.ownBuilding, floor: "1" }] }),
      T("own account, forged building", { input: { account: fx.ownAccount, floors: [{ building: fx.forged.Building, floor: "1" }] } }, "input.floors.0.building"),
    ],
  },
  keepOpenSet: { select: M(), targets: (fx) => [T("other Aliyun device", { input: { device: fx.otherIotId, keepOpen: true } }, "input.device")] },
  openDoorConfigUpdate: {
    select: M(),
    targets: (fx) => [
      T("forged residence", { input: { residence: fx.forged.Residence, privateKey: "123456", nfcEnabled: true } }, "input.residence"),
      T("honest other residence", { input: { residence: fx.honestResidence, privateKey: "123456" } }, "input.residence"),
    ],
  },
  pinCodeCreate: { select: M(), targets: (fx) => accountTargets(fx, { number: "4242" }) },
  rfCardCreate: { select: M(), targets: (fx) => accountTargets(fx, { number: "A1B2C3D4" }) },
  qrCodeGenerate: { select: M(), targets: (fx) => personTargets(fx, {}) },
  qrCodeGrant: {
    select: M(),
    targets: (fx) => [
      T("own person, other device", { input: { person: fx.ownAccount, devices: [fx.otherIotId], expiresAt: "2031-01-01T10:00:00Z", effectiveAt: at } }, "input.devices.0"),
      T("forged person, own device", { input: { person: fx.forged.Account, devices: [fx.ownIotId], expiresAt: "2031-01-01T10:00:00Z", effectiveAt: at } }, "input.person"),
    ],
  },
  qrCodePermissionsRemove: {
    select: M(),
    targets: (fx) => [
      T("own person, other device", { input: { person: fx.ownAccount, devices: [fx.otherIotId], qrCode: "QR1" } }, "input.devices.0"),
      T("forged person", { input: { person: fx.forged.AliyunPerson, devices: [fx.ownIotId], qrCode: "QR1" } }, "input.person"),
    ],
  },
  qrCodePermissionsSet: {
    select: M(),
    targets: (fx) => [
      T("own person, other device", { input: { person: fx.ownAccount, devices: [fx.otherIotId], qrCode: "QR1", expiresAt: later } }, "input.devices.0"),
      T("forged person", { input: { person: fx.forged.Account, devices: [fx.ownIotId], qrCode: "QR1", expiresAt: later } }, "input.person"),
    ],
  },
  residenceTempKeyCreate: {
    select: M(),
    targets: (fx) => [T("forged residence", { input: { residence: fx.forged.Residence, startsAt: at, endsAt: later, count: 99 } }, "input.residence")],
  },
  residenceTempKeysDelete: { select: M(), targets: (fx) => [T("forged temp key", { input: { ids: [fx.forged.ResidenceTempKey] } }, "input.ids.0")] },
  visitorTempKeyCreate: {
    select: M(),
    targets: (fx) => {
      const key = { name: "Eve", repeatMode: "NEVER", startTime: "08:00:00", finishTime: "18:00:00" };
      return [
        T("forged residence", { input: { ...key, residence: fx.forged.Residence, devices: [{ device: fx.ownPublicDevice }] } }, "input.residence"),
        T("own residence, forged device", { input: { ...key, residence: fx.ownResidence, devices: [{ device: fx.publicDeviceForged }] } }, "input.devices.0.device"),
        T("own residence and device, forged relay", { input: { ...key, residence: fx.ownResidence, devices: [{ device: fx.ownPublicDevice, relays: [fx.ownDeviceOtherRelay] }] } }, "input.devices.0.relays.0"),
      ];
    },
  },
  visitorTempKeysDelete: { select: M(), targets: (fx) => [T("forged visitor key", { input: { ids: [fx.forged.VisitorTempKey] } }, "input.ids.0")] },
  webhookEndpointRegister: {
    select: M(`{ userErrors { field code message } }`),
    payloadRefusal: "a project not the key's is a userError on input.projectIds (nothing registered)",
    targets: () => [T("other project", { input: { url: "https://hooks.example.com/in", projectIds: [OTHER] } }, "input.projectIds.0")],
  },
  ...Object.fromEntries(
    (["webhookEndpointDelete", "webhookEndpointEnable", "webhookEndpointSecretRotate"] as const).map((name) => [
      name,
      {
        select: M(`{ userErrors { field code message } }`),
        payloadRefusal: "another key's endpoint (one for the other project) is answered as one that does not exist, NOT_FOUND on input.id",
        targets: () => [T("another key's endpoint for the other project", { input: { id: adminEndpointId } }, "input.id")],
      },
    ]),
  ),
};

function accountTargets(fx: Fx, rest: Record<string, unknown>): Target[] {
  return [
    T("forged account", { input: { account: fx.forged.Account, ...rest } }, "input.account"),
    T("other account in own residence", { input: { account: fx.accountInOwnResidence, ...rest } }, "input.account"),
    T("honest other account", { input: { account: fx.honestAccount, ...rest } }, "input.account"),
  ];
}
function personTargets(fx: Fx, rest: Record<string, unknown>): Target[] {
  return [
    T("forged account as person", { input: { person: fx.forged.Account, ...rest } }, "input.person"),
    T("other account in own residence as person", { input: { person: fx.accountInOwnResidence, ...rest } }, "input.person"),
    T("other Aliyun person", { input: { person: fx.forged.AliyunPerson, ...rest } }, "input.person"),
  ];
}
function cardTargets(fx: Fx): Target[] {
  return [
    T("own person, other device", { input: { permissions: [{ person: fx.ownAccount, device: fx.otherIotId, cardId: "C9" }] } }, "input.permissions.0.device"),
    T("forged person, own device", { input: { permissions: [{ person: fx.forged.Account, device: fx.ownIotId, cardId: "C9" }] } }, "input.permissions.0.person"),
  ];
}

/** An own Aliyun person with a card on the other project's device, and another project's person on an own device. */
function seedCrossCards(fx: Fx) {
  const mine = fx.own.account.account_id;
  const theirs = fx.other.account.account_id;
  stack.aliyun.state.persons.set(mine, { identityId: mine, name: "Own Person", extInfo: null });
  stack.aliyun.state.cards.set(cardKey(mine, ownIot, "C-own"), { identityId: mine, iotId: ownIot, cardId: "C-own", expiryTime: "2030-12-31 23:59:59" });
  stack.aliyun.state.cards.set(cardKey(mine, otherIot, "C-other"), { identityId: mine, iotId: otherIot, cardId: "C-other", expiryTime: "2030-12-31 23:59:59" });
  stack.aliyun.state.cards.set(cardKey(theirs, ownIot, "C-theirs"), { identityId: theirs, iotId: ownIot, cardId: "C-theirs", expiryTime: "2030-12-31 23:59:59" });
}

// ---------------------------------------------------------------------------------------------------------------
// Generating the cases from the schema.
// ---------------------------------------------------------------------------------------------------------------

interface Case {
  payloadRefusal?: string;
  p2Paths?: string[];
  field: string;
  path: string;
  label: string;
  query: string;
  variables?: Record<string, unknown>;
  setup?: (fx: Fx) => void;
  filtered?: string;
}

/** The input type at a dotted path inside an argument (list indexes are digits). */
function typeAt(type: GraphQLInputType, path: string[]): GraphQLInputType {
  let t: GraphQLInputType = type;
  for (const step of path) {
    const bare = getNullableType(t) as GraphQLInputType;
    if (isListType(bare)) t = bare.ofType;
    else if (isInputObjectType(bare)) t = bare.getFields()[step].type;
    else throw new Error(`no ${step} in ${String(t)}`);
  }
  return t;
}

/** A value printed as a GraphQL literal of `type`, with the values at `holes` (dotted paths) replaced by variables. */
function literal(value: unknown, type: GraphQLInputType, at: string, holes: Map<string, string>): string {
  if (holes.has(at)) return `$${holes.get(at)}`;
  const bare = getNullableType(type) as GraphQLInputType;
  if (isListType(bare) && Array.isArray(value)) return `[${value.map((v, i) => literal(v, bare.ofType, `${at}.${i}`, holes)).join(", ")}]`;
  if (isInputObjectType(bare) && value && typeof value === "object") {
    const fields = bare.getFields();
    return `{ ${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}: ${literal(v, fields[k].type, `${at}.${k}`, holes)}`)
      .join(", ")} }`;
  }
  if (getNamedType(bare).name === "_Any") return JSON.stringify(value) === undefined ? "null" : anyLiteral(value);
  // Custom scalars (DateTime…) take their literal as the string a client would send.
  if (typeof value === "string" && !isEnumType(getNamedType(bare)) && !["ID", "String"].includes(getNamedType(bare).name)) return JSON.stringify(value);
  const ast = astFromValue(value, bare);
  if (!ast) throw new Error(`cannot print ${JSON.stringify(value)} as ${String(type)}`);
  return print(ast);
}
/** `_Any` is a scalar that takes objects: printed as an object literal. */
function anyLiteral(value: unknown): string {
  if (value && typeof value === "object" && !Array.isArray(value)) return `{ ${Object.entries(value).map(([k, v]) => `${k}: ${anyLiteral(v)}`).join(", ")} }`;
  if (Array.isArray(value)) return `[${value.map(anyLiteral).join(", ")}]`;
  return JSON.stringify(value);
}
const get = (value: unknown, path: string[]): unknown => path.reduce((v: any, k) => v?.[k], value);
const nullable = (type: GraphQLInputType) => String(isNonNullType(type) ? type.ofType : type);

/** The four argument paths of one target: direct, variables, defaulted, omitted. */
function argumentCases(operation: "query" | "mutation", field: GraphQLField<unknown, unknown>, entry: Entry, t: Target): Case[] {
  const argType = (name: string) => field.args.find((a) => a.name === name)!.type;
  const call = (args: string) => `${field.name}${args ? `(${args})` : ""} ${entry.select}`;
  const names = Object.keys(t.args);
  const direct = names.map((n) => `${n}: ${literal(t.args[n], argType(n), n, new Map())}`).join(", ");
  const asVars = names.map((n) => `${n}: $${n}`).join(", ");
  const decl = (defaults: boolean) => names.map((n) => `$${n}: ${String(argType(n))}${defaults ? ` = ${literal(t.args[n], argType(n), n, new Map())}` : ""}`).join(", ");
  const cases: Case[] = [
    { field: field.name, path: "direct", label: t.label, query: `${operation} { ${call(direct)} }` },
    { field: field.name, path: "variables", label: t.label, query: `${operation}(${decl(false)}) { ${call(asVars)} }`, variables: t.args },
    { field: field.name, path: "defaulted", label: t.label, query: `${operation}(${decl(true)}) { ${call(asVars)} }`, variables: {} },
  ];
  // Omitted: the P2-naming values are nullable variables with defaults, left out; everything else is sent.
  const holes = new Map(t.p2.map((p, i) => [p, `p2_${i}`]));
  const holeDecls = t.p2.map((p, i) => {
    const [arg, ...rest] = p.split(".");
    const type = typeAt(argType(arg), rest);
    return `$p2_${i}: ${nullable(type)} = ${literal(get(t.args, p.split(".")), type, p, new Map())}`;
  });
  const sent = names.filter((n) => !holes.has(n));
  const sentDecls = sent.map((n) => `$${n}: ${String(argType(n))}`);
  const args = names.map((n) => `${n}: ${holes.has(n) ? `$${holes.get(n)}` : sent.includes(n) && !t.p2.some((p) => p.startsWith(`${n}.`)) ? `$${n}` : literal(t.args[n], argType(n), n, holes)}`).join(", ");
  const usedSent = sent.filter((n) => !t.p2.some((p) => p.startsWith(`${n}.`)));
  const variables: Record<string, unknown> = Object.fromEntries(usedSent.map((n) => [n, t.args[n]]));
  const extra = operation === "query" && usedSent.length === 0 ? [`$own: ID!`] : [];
  if (extra.length) variables.own = OWN;
  const decls = [...holeDecls, ...sentDecls.filter((d) => usedSent.some((n) => d.startsWith(`$${n}:`))), ...extra].join(", ");
  const mine = extra.length ? ` mine: project(projectId: $own) { projectId }` : "";
  cases.push({ field: field.name, path: "omitted", label: t.label, query: `${operation}(${decls}) { ${call(args)}${mine} }`, variables });
  return cases;
}

function casesOf(operation: "query" | "mutation", field: GraphQLField<unknown, unknown>, entry: Entry, fx: Fx): Case[] {
  const fromTargets = (entry.targets?.(fx) ?? []).flatMap((t) =>
    argumentCases(operation, field, entry, t).map((c) => ({ ...c, path: t.label.startsWith("forged:") ? `${t.label.split(" ")[0]} (${c.path})` : t.label.startsWith("entities:") ? `entities (${c.path})` : c.path })),
  );
  const custom = (entry.custom?.(fx) ?? []).map((c) => ({ field: field.name, label: c.path, ...c }));
  const targets = entry.targets?.(fx) ?? [];
  return [...fromTargets.map((c, i) => ({ ...c, payloadRefusal: entry.payloadRefusal, p2Paths: targets[Math.floor(i / 4)].p2 })), ...custom];
}

// ---------------------------------------------------------------------------------------------------------------
// What every case must show.
// ---------------------------------------------------------------------------------------------------------------

const limited = (query: string, variables?: Record<string, unknown>) => stack.gql(query, variables, null, { "x-api-key": TEST_API_KEYS.secondProject.key });
const received = () => [
  ...stack.sim.received().map((c) => `${c.command} ${JSON.stringify(c.param)}`),
  ...stack.aliyun.received().map((r) => `${r.path} ${JSON.stringify(r.params ?? {})}`),
];
function writesReceived(): string[] {
  const writes = new Set<string>(Object.values(ALIYUN_WRITES).map((w) => w.path));
  return [...stack.sim.received().filter((c) => !/^(get_|check_)/.test(String(c.command))).map((c) => String(c.command)), ...stack.aliyun.received().filter((r) => writes.has(r.path)).map((r) => r.path)];
}
/** The raw ids a request carries, its global IDs decoded. */
function carried(query: string, variables?: Record<string, unknown>): string {
  const text = query + JSON.stringify(variables ?? {});
  const decoded = (text.match(/[A-Za-z0-9_-]{12,}/g) ?? []).map((token) => fromGlobalId(token)?.parts.join(" ") ?? "");
  return text + decoded.join(" ");
}

/** What is wrong with one case's outcome (empty when it is refused and nothing of P2 was sent or answered). */
function problems(c: Case, operation: "query" | "mutation", res: GraphResult, p2: string[]): string[] {
  const out: string[] = [];
  const forbidden = (res.errors ?? []).filter((e) => e.extensions?.code === "FORBIDDEN");
  if (res.status === 500) out.push("HTTP 500");
  if (!c.filtered) {
    const whole = res.status === 403 && forbidden.length > 0;
    const atPath = res.status === 200 && forbidden.some((e) => e.path?.[0] === c.field);
    const payload = (res.data?.[c.field] ?? null) as { userErrors?: { field?: string[] | null; code: string }[] } | null;
    const inPayload =
      Boolean(c.payloadRefusal) && res.status === 200 && (payload?.userErrors ?? []).some((e) => c.p2Paths!.some((p) => (e.field ?? []).join(".").startsWith(p.replace(/\.\d+$/, ""))));
    if (!whole && !atPath && !inPayload) out.push(`not refused: ${res.status} ${JSON.stringify(res.errors ?? res.data).slice(0, 300)}`);
  }
  const inRequest = carried(c.query, c.variables);
  const answered = JSON.stringify(res.data ?? null);
  const leaked = p2.filter((id) => answered.includes(id) && !inRequest.includes(id));
  if (leaked.length) out.push(`answered P2 data: ${leaked.slice(0, 5).join(", ")}`);
  const sent = received().filter((text) => p2.some((id) => text.includes(id)));
  if (sent.length) out.push(`sent commands naming P2: ${sent.slice(0, 3).join(" | ")}`);
  if (operation === "mutation" && writesReceived().length) out.push(`writes sent: ${writesReceived().join(", ")}`);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------------------------------

const rootFields = (operation: "query" | "mutation") => Object.values((operation === "query" ? schema.getQueryType() : schema.getMutationType())!.getFields());
const tableOf = (operation: "query" | "mutation"): Record<string, Entry> => (operation === "query" ? QUERIES : MUTATIONS);

describe("cross-project matrix, generated from the served schema", () => {
  it("names every Query root field and every Mutation of the schema, and nothing the schema lacks", () => {
    for (const operation of ["query", "mutation"] as const) {
      const names = rootFields(operation).map((f) => f.name);
      expect(names.filter((n) => !Object.hasOwn(tableOf(operation), n)), `${operation} fields with no cases`).toEqual([]);
      expect(Object.keys(tableOf(operation)).filter((n) => !names.includes(n)), `${operation} table entries the schema lacks`).toEqual([]);
      for (const name of names) {
        const entry = tableOf(operation)[name];
        expect(Boolean(entry.targets || entry.custom), `${name} has cases`).toBe(true);
        if (!entry.targets) expect(entry.why, `${name} says why it has no P2 argument`).toBeTruthy();
      }
    }
    expect(schema.getSubscriptionType()?.getFields() ?? {}).toHaveProperty("accessEvents"); // covered by test/events (same scope and project check as the query)
  });

  for (const operation of ["query", "mutation"] as const) {
    const table = operation === "query" ? QUERIES : MUTATIONS;
    describe(`${operation} fields`, () => {
      for (const name of Object.keys(table)) {
        it(`${name}: every path to the other project is refused and sends nothing about it`, async () => {
          const field = rootFields(operation).find((f) => f.name === name);
          expect(field, `${name} is in the schema`).toBeDefined();
          const fx = fixtures();
          const p2 = otherIds(stack.sim.state.projects.get(OTHER)!);
          const cases = casesOf(operation, field!, table[name], fx);
          const failures: string[] = [];
          for (const c of cases) {
            stack.sim.clearReceived();
            stack.aliyun.clearReceived();
            c.setup?.(fx);
            const res = await limited(c.query, c.variables);
            const wrong = problems(c, operation, res, p2);
            if (wrong.length) failures.push(`[${c.path}] ${c.label}: ${wrong.join("; ")}\n    ${c.query} ${JSON.stringify(c.variables ?? {})}`);
          }
          expect(failures, failures.join("\n")).toEqual([]);
        });
      }
    });
  }

  it("after the webhook cases, the admin's endpoint for the other project is still there, unchanged", async () => {
    const res = await stack.gql(`{ webhookEndpoints { id enabled projectIds } }`);
    expect(res.data.webhookEndpoints.filter((e: { id: string }) => e.id === adminEndpointId)).toEqual([{ id: adminEndpointId, enabled: true, projectIds: [OTHER] }]);
  });

  it("matrix size: fields × paths and cases, printed", () => {
    const fx = fixtures();
    const tally = (["query", "mutation"] as const).flatMap((operation) =>
      rootFields(operation).map((field) => {
        const cases = casesOf(operation, field, tableOf(operation)[field.name], fx);
        return { field: field.name, paths: new Set(cases.map((c) => c.path.replace(/ \(.*\)$/, ""))).size, cases: cases.length, kinds: cases.map((c) => c.path.replace(/ \(.*\)$/, "").replace(/^forged:.*/, "forged")) };
      }),
    );
    const fields = tally.length;
    const cases = tally.reduce((n, t) => n + t.cases, 0);
    const cells = tally.reduce((n, t) => n + t.paths, 0);
    const byKind: Record<string, number> = {};
    for (const kind of tally.flatMap((t) => t.kinds)) byKind[kind] = (byKind[kind] ?? 0) + 1;
    console.log(`cross-project matrix: ${fields} fields × paths = ${cells} field/path cells, ${cases} cases; cases by path: ${JSON.stringify(byKind)}`);
    expect(fields).toBe(rootFields("query").length + rootFields("mutation").length);
    expect(tally.filter((t) => t.cases === 0).map((t) => t.field)).toEqual([]);
  });
});
