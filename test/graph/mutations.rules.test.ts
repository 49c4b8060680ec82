import { describe, expect, it } from "vitest";
import { toGlobalId } from "../../src/lib/global-id.js";
import { residenceDevices } from "../../src/simulators/akubela/index.js";
import { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, useStack } from "../helpers/stack.js";

const stack = useStack();

const project = () => stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
const account = () => [...project().accounts.values()][0];
const R = () => toGlobalId("Residence", DEMO_PROJECT_ID, account().residence_id);
const A = () => toGlobalId("Account", DEMO_PROJECT_ID, account().residence_id, account().account_id);
const D = (iotId: string) => toGlobalId("AliyunAccessControlDevice", iotId);
const iotIds = () => [...stack.aliyun.state.devices.keys()];
const noVendorCall = () => {
  expect(stack.sim.received()).toHaveLength(0);
  expect(stack.aliyun.received()).toHaveLength(0);
};

async function userErrors(mutation: string, inputType: string, input: unknown) {
  const res = await stack.gql(`mutation($input: ${inputType}!) { ${mutation}(input: $input) { userErrors { field message code } } }`, { input });
  expect(res.errors).toBeUndefined();
  return res.data[mutation].userErrors as { field: string[] | null; message: string; code: string }[];
}

const visitorKey = (overrides: Record<string, unknown>) => ({
  residence: R(),
  name: "Guest",
  repeatMode: "DAILY",
  startTime: "08:00",
  finishTime: "18:00",
  devices: [{ device: toGlobalId("AkuvoxDevice", DEMO_PROJECT_ID, "0A0B0C0D0E0F") }],
  ...overrides,
});

describe("input is checked before any vendor call, and the field is named", () => {
  it("required fields: a blank name", async () => {
    expect(await userErrors("visitorTempKeyCreate", "VisitorTempKeyCreateInput", visitorKey({ name: "  " }))).toEqual([
      { field: ["input", "name"], message: "input.name is required", code: "REQUIRED" },
    ]);
    noVendorCall();
  });

  it("formats: a MAC address", async () => {
    expect(await userErrors("devicePermissionCheck", "DevicePermissionCheckInput", { residence: R(), macs: ["0A0B0C0D0E0F", "not-a-mac"] })).toEqual([
      { field: ["input", "macs", "1"], message: "input.macs.1 must be a MAC address of 12 hex digits", code: "INVALID" },
    ]);
    noVendorCall();
  });

  it("formats: times of day, and their order", async () => {
    expect(await userErrors("visitorTempKeyCreate", "VisitorTempKeyCreateInput", visitorKey({ startTime: "25:00" }))).toEqual([
      { field: ["input", "startTime"], message: "input.startTime must be a UTC time of day HH:mm[:ss]", code: "INVALID" },
    ]);
    expect(await userErrors("visitorTempKeyCreate", "VisitorTempKeyCreateInput", visitorKey({ startTime: "18:00", finishTime: "08:00" }))).toEqual([
      { field: ["input", "finishTime"], message: "input.finishTime must be later than input.startTime", code: "INVALID" },
    ]);
    noVendorCall();
  });

  it("formats: an e-mail address", async () => {
    const errors = await userErrors("accountCreate", "AccountCreateInput", { residence: R(), firstName: "A", lastName: "B", email: "not-an-email", role: "GUEST" });
    expect(errors).toEqual([{ field: ["input", "email"], message: "input.email must be an e-mail address", code: "INVALID" }]);
    noVendorCall();
  });

  it("enums: a value outside the enum is refused by GraphQL itself, naming the field", async () => {
    const res = await stack.gql(`mutation($input: AccountCreateInput!) { accountCreate(input: $input) { userErrors { field } } }`, {
      input: { residence: R(), firstName: "A", lastName: "B", email: "a@example.org", role: "OWNER" },
    });
    expect(res.errors?.[0].message).toMatch(/input\.role.*Value "OWNER" does not exist in "AccountRole" enum/);
    noVendorCall();
  });

  it("list sizes: too many IDs, an empty list", async () => {
    const ids = Array.from({ length: 101 }, (_, i) => toGlobalId("VisitorTempKey", DEMO_PROJECT_ID, `v${i}`));
    expect(await userErrors("visitorTempKeysDelete", "VisitorTempKeysDeleteInput", { ids })).toEqual([
      { field: ["input", "ids"], message: "input.ids lists 101 items; at most 100 are accepted", code: "TOO_MANY" },
    ]);
    expect(await userErrors("cardPermissionsGrant", "CardPermissionsInput", { permissions: [] })).toEqual([
      { field: ["input", "permissions"], message: "input.permissions must list at least one item", code: "REQUIRED" },
    ]);
    noVendorCall();
  });

  it("URLs: a file URL that is not http(s)", async () => {
    const errors = await userErrors("accountsImport", "FileImportInput", { project: toGlobalId("Project", DEMO_PROJECT_ID), fileName: "a.xlsx", fileUrl: "ftp://files.example.org/a.xlsx" });
    expect(errors).toEqual([{ field: ["input", "fileUrl"], message: "input.fileUrl must be an https URL", code: "INVALID" }]);
    noVendorCall();
  });

  it("IDs: an ID of the wrong kind", async () => {
    expect(await userErrors("pinCodeCreate", "CredentialNumberInput", { account: R(), number: "1234" })).toEqual([
      { field: ["input", "account"], message: "input.account must be the ID of a Account", code: "INVALID_ID" },
    ]);
    noVendorCall();
  });

  it("cross-field: a WEEKLY key needs days", async () => {
    expect(await userErrors("visitorTempKeyCreate", "VisitorTempKeyCreateInput", visitorKey({ repeatMode: "WEEKLY" }))).toEqual([
      { field: ["input", "availableDays"], message: "input.availableDays must name at least one day for a WEEKLY key", code: "REQUIRED" },
    ]);
    noVendorCall();
  });

  it("cross-field: the legacy QR call's expiry ≤ effective + 24 h, and effective not in the past", async () => {
    const effective = new Date(Date.now() + 3600_000);
    const person = toGlobalId("AliyunPerson", [...stack.aliyun.state.persons.keys()][0]);
    expect(
      await userErrors("qrCodeGrant", "QrCodeGrantInput", {
        person,
        devices: [D(iotIds()[0])],
        effectiveAt: effective.toISOString(),
        expiresAt: new Date(effective.getTime() + 25 * 3600_000).toISOString(),
      }),
    ).toEqual([
      { field: ["input", "expiresAt"], message: "input.expiresAt must be at most 24 hours after input.effectiveAt (the gateway's limit for this call)", code: "INVALID" },
    ]);
    expect(
      await userErrors("qrCodeGrant", "QrCodeGrantInput", {
        person,
        devices: [D(iotIds()[0])],
        effectiveAt: new Date(Date.now() - 3600_000).toISOString(),
        expiresAt: effective.toISOString(),
      }),
    ).toEqual([{ field: ["input", "effectiveAt"], message: "input.effectiveAt must not be in the past", code: "INVALID" }]);
    noVendorCall();
  });

  it("secrets are never echoed: a bad PIN or password is named, not quoted", async () => {
    const errors = await userErrors("pinCodeCreate", "CredentialNumberInput", { account: A(), number: "12ab" });
    expect(errors).toEqual([{ field: ["input", "number"], message: "input.number must be 4 to 8 digits", code: "INVALID" }]);
    const pw = await userErrors("accountPasswordUpdate", "AccountPasswordUpdateInput", { account: A(), newPassword: "short" });
    expect(JSON.stringify(pw)).not.toContain("short\"");
    noVendorCall();
  });
});

describe("doorOpen", () => {
  const OPEN = `mutation($input: DoorOpenInput!) { doorOpen(input: $input) { userErrors { field code message } outcome relayId vendorRequestId device { id name vendor } } }`;
  const auditLines = () => stack.logs.filter((l) => l.audit === "door_open");

  it("an Akuvox door: trigger_akuvox_remote_open_door with the residence, MAC and relay; history shows it; one audit line", async () => {
    const a = account();
    const residence = project().residences.get(a.residence_id)!;
    const device = residenceDevices(project(), residence).find((d) => d.scope === "building" && d.online && d.relays.length > 1)!;
    const relay = device.relays[1];
    const before = auditLines().length;
    const res = await stack.gql(OPEN, {
      input: {
        device: toGlobalId("AkuvoxDevice", DEMO_PROJECT_ID, device.mac),
        relay: toGlobalId("Relay", DEMO_PROJECT_ID, device.mac, relay.relay_id),
        residence: R(),
      },
    });
    const payload = res.data.doorOpen;
    expect(payload).toMatchObject({ userErrors: [], outcome: "OPENED", relayId: relay.relay_id, device: { name: device.device_name, vendor: "AKUVOX" } });
    const [sent] = stack.sim.calls("trigger_akuvox_remote_open_door");
    expect(sent.param).toEqual({ residence_id: a.residence_id, mac: device.mac, relay_id: relay.relay_id });
    expect(sent.id).toBe(payload.vendorRequestId);
    const history = await stack.gql(`query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { openDoorHistory(first: 1) { nodes { method deviceName } } } }`, {
      p: DEMO_PROJECT_ID,
      r: a.residence_id,
    });
    expect(history.data.residence.openDoorHistory.nodes).toEqual([{ method: "Remote", deviceName: device.device_name }]);
    const audit = auditLines().slice(before);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ vendor: "akubela", outcome: "OPENED", relayId: relay.relay_id, vendorRequestId: payload.vendorRequestId });
    expect(audit[0].caller).toBe("key:admin");
    expect(stack.logText()).not.toContain(DEMO_AKUBELA_TOKEN);
  });

  it("an Aliyun door: /cloud/thing/service/invoke with remoteOpen (1.0.1), the envelope id reported", async () => {
    const iotId = iotIds()[0];
    const res = await stack.gql(OPEN, { input: { device: D(iotId) } });
    expect(res.data.doorOpen).toMatchObject({ userErrors: [], outcome: "OPENED", relayId: null, device: { vendor: "ALIYUN" } });
    const [sent] = stack.aliyun.calls("/cloud/thing/service/invoke");
    expect([sent.apiVer, sent.params]).toEqual(["1.0.1", { iotId, identifier: "remoteOpen", args: {} }]);
    expect(sent.id).toBe(res.data.doorOpen.vendorRequestId);
    expect(stack.aliyun.state.remoteOpens.map((o) => o.iotId)).toEqual([iotId]);
  });

  it("a refusal (an offline device) is REJECTED with the vendor's code", async () => {
    const offline = [...stack.aliyun.state.devices.values()].find((d) => !d.online)!;
    const res = await stack.gql(OPEN, { input: { device: D(offline.iotId) } });
    expect(res.data.doorOpen).toMatchObject({ outcome: "REJECTED", userErrors: [{ field: null, code: "6205", message: "device offline" }] });
  });

  it("a timeout is an UNKNOWN outcome, sent once and never repeated (both vendors)", async () => {
    const a = account();
    const residence = project().residences.get(a.residence_id)!;
    const device = residenceDevices(project(), residence).find((d) => d.online && d.relays.length > 0)!;
    stack.sim.injectFault({ kind: "latency", command: "trigger_akuvox_remote_open_door", latencyMs: 2500 });
    const akuvox = await stack.gql(OPEN, { input: { device: toGlobalId("AkuvoxDevice", DEMO_PROJECT_ID, device.mac), residence: R() } });
    expect(akuvox.errors).toBeUndefined();
    expect(akuvox.data.doorOpen).toMatchObject({ outcome: "UNKNOWN", userErrors: [{ code: "UPSTREAM_TIMEOUT" }] });
    expect(akuvox.data.doorOpen.userErrors[0].message).toMatch(/may or may not have opened/);
    expect(stack.sim.calls("trigger_akuvox_remote_open_door")).toHaveLength(1);

    stack.aliyun.injectFault({ kind: "no_answer", path: "/cloud/thing/service/invoke" });
    const aliyun = await stack.gql(OPEN, { input: { device: D(iotIds()[0]) } });
    expect(aliyun.data.doorOpen).toMatchObject({ outcome: "UNKNOWN", userErrors: [{ code: "UPSTREAM_TIMEOUT" }] });
    expect(stack.aliyun.calls("/cloud/thing/service/invoke")).toHaveLength(1);
    expect(auditLines().slice(-2).map((l) => l.outcome)).toEqual(["UNKNOWN", "UNKNOWN"]);
  });

  it("an Akuvox shared device needs the residence it is opened for; an Aliyun device takes no relay", async () => {
    const shared = [...project().devices.values()].find((d) => d.scope === "building")!;
    const res = await stack.gql(OPEN, { input: { device: toGlobalId("AkuvoxDevice", DEMO_PROJECT_ID, shared.mac) } });
    expect(res.data.doorOpen.userErrors).toEqual([
      { field: ["input", "residence"], code: "REQUIRED", message: "input.residence is required to open a shared Akuvox device (the vendor opens on behalf of a residence)" },
    ]);
    const relay = toGlobalId("Relay", DEMO_PROJECT_ID, shared.mac, shared.relays[0].relay_id);
    const aliyun = await stack.gql(OPEN, { input: { device: D(iotIds()[0]), relay } });
    expect(aliyun.data.doorOpen.userErrors.map((e: any) => e.field)).toEqual([["input", "relay"]]);
    noVendorCall();
  });
});
