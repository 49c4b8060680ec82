import { readdir, readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { toGlobalId } from "../../src/lib/global-id.js";
import { residenceDevices } from "../../src/simulators/akubela/index.js";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { DEMO_PROJECT_ID, TEST_API_KEYS, useStack } from "../helpers/stack.js";

const stack = useStack();
const dir = new URL("../../docs/operations/", import.meta.url);
const operation = (name: string) => readFile(new URL(name, dir), "utf8");
const project = () => stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
const account = () => [...project().accounts.values()].find((a) => a.pin_codes.length > 0 && stack.aliyun.state.persons.has(a.account_id))!;

describe("docs/operations: each example runs against the demo data", () => {
  it("covers the common tasks, one file each", async () => {
    expect((await readdir(dir)).sort()).toEqual(["access-events.graphql", "account-credentials.graphql", "browse-project.graphql", "grant-card.graphql", "open-door.graphql", "residence-doors.graphql"]);
  });

  it("browse-project.graphql", async () => {
    const res = await stack.gql(await operation("browse-project.graphql"), { projectId: DEMO_PROJECT_ID });
    expect(res.errors).toBeUndefined();
    expect(res.data.project.accounts.totalCount).toBe(project().accounts.size);
    expect(res.data.project.buildings.length).toBe(project().buildings.size);
    expect(new Set(res.data.project.devices.map((d: any) => d.vendor))).toEqual(new Set(["AKUVOX", "ALIYUN"]));
  });

  it("residence-doors.graphql", async () => {
    const a = account();
    const res = await stack.gql(await operation("residence-doors.graphql"), { projectId: DEMO_PROJECT_ID, residenceId: a.residence_id });
    expect(res.errors).toBeUndefined();
    const expected = residenceDevices(project(), project().residences.get(a.residence_id)!);
    expect(res.data.residence.devices.map((d: any) => d.name)).toEqual(expected.map((d) => d.device_name));
    expect(res.data.residence.devices.some((d: any) => d.relays.length > 0)).toBe(true);
  });

  it("account-credentials.graphql", async () => {
    const a = account();
    const res = await stack.gql(await operation("account-credentials.graphql"), { projectId: DEMO_PROJECT_ID, residenceId: a.residence_id, accountId: a.account_id });
    expect(res.errors).toBeUndefined();
    expect(res.data.account.credentials.pinCodes).toHaveLength(a.pin_codes.length);
    expect(res.data.account.aliyunPerson.identityId).toBe(a.account_id);
  });

  it("grant-card.graphql", async () => {
    const a = [...project().accounts.values()].find((x) => !stack.aliyun.state.persons.has(x.account_id))!;
    const iotId = [...stack.aliyun.state.devices.keys()][1];
    const res = await stack.gql(await operation("grant-card.graphql"), {
      input: { permissions: [{ person: toGlobalId("Account", DEMO_PROJECT_ID, a.residence_id, a.account_id), device: toGlobalId("AliyunAccessControlDevice", iotId), cardId: "DOC-1", expiresAt: "2027-12-31T16:00:00Z" }] },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data.cardPermissionsGrant).toMatchObject({ succeeded: 1, failed: 0, userErrors: [], personsCreated: [{ identityId: a.account_id }] });
    expect(stack.aliyun.state.cards.has(`${a.account_id}|${iotId}|DOC-1`)).toBe(true);
  });

  it("open-door.graphql", async () => {
    const a = account();
    const device = residenceDevices(project(), project().residences.get(a.residence_id)!).find((d) => d.online && d.relays.length > 0)!;
    const res = await stack.gql(await operation("open-door.graphql"), {
      input: { device: toGlobalId("AkuvoxDevice", DEMO_PROJECT_ID, device.mac), residence: toGlobalId("Residence", DEMO_PROJECT_ID, a.residence_id) },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data.doorOpen).toMatchObject({ outcome: "OPENED", relayId: device.relays[0].relay_id, device: { name: device.device_name, vendor: "AKUVOX" } });
    expect(stack.sim.calls("trigger_akuvox_remote_open_door")).toHaveLength(1);
  });

  it("access-events.graphql (a graphql-ws subscription): a door opened through the graph arrives", async () => {
    const a = account();
    const device = residenceDevices(project(), project().residences.get(a.residence_id)!).find((d) => d.online && d.relays.length > 0)!;
    const client = createClient({ url: stack.url.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { "x-api-key": TEST_API_KEYS.admin.key }, retryAttempts: 0 });
    // Resume from where the log stands now (what a reconnecting client does): no race with the subscription's start.
    const head = await stack.gql(`query($p: ID!) { accessEvents(projectId: $p, first: 100) { pageInfo { endCursor } } }`, { p: DEMO_PROJECT_ID });
    const after = head.data.accessEvents.pageInfo.endCursor ?? "0-0";
    const events = client.iterate<{ accessEvents: Record<string, unknown> }>({ query: await operation("access-events.graphql"), variables: { projectId: DEMO_PROJECT_ID, after } });
    const first = events.next();
    const opened = await stack.gql(await operation("open-door.graphql"), {
      input: { device: toGlobalId("AkuvoxDevice", DEMO_PROJECT_ID, device.mac), residence: toGlobalId("Residence", DEMO_PROJECT_ID, a.residence_id) },
    });
    expect(opened.data.doorOpen.outcome).toBe("OPENED");
    const { value } = await first;
    expect(value?.data?.accessEvents).toMatchObject({ kind: "REMOTE_OPEN_REQUESTED", method: "REMOTE", vendor: "graph", residenceId: a.residence_id, deviceId: device.mac, detail: "OPENED" });
    expect(stack.sim.calls("trigger_akuvox_remote_open_door")).toHaveLength(1);
    await events.return?.();
    await client.dispose();
  });
});
