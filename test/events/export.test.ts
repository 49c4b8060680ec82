/**
 * The access-event log as a CSV/JSON export (`GET /reports/events.csv|.json?projectId=…&since=…`): the same rows,
 * authorization and project scoping as `Query.accessEvents`. Events come from the graph's own door openings
 * (published at once), which the simulator records as received.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toGlobalId } from "../../src/lib/global-id.js";
import { DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID, startStack, TEST_API_KEYS, type Stack } from "../helpers/stack.js";

let s: Stack;
beforeAll(async () => {
  s = await startStack({ env: { EVENTS_POLL: "false" } });
}, 30_000);
afterAll(async () => {
  await s?.close();
});

const exportOf = (format: "csv" | "json", query: string, key: string = TEST_API_KEYS.admin.key) =>
  fetch(`${s.url.replace(/\/graphql$/, "")}/reports/events.${format}?${query}`, { headers: { "x-api-key": key } });

async function openDoor() {
  const r = [...s.sim.state.projects.get(DEMO_PROJECT_ID)!.residences.values()][0]!;
  const device = [...s.sim.state.projects.get(DEMO_PROJECT_ID)!.devices.values()].find((d) => d.scope === "building" && d.building_id === r.building_id && d.online)!;
  const opened = await s.gql(`mutation($input: DoorOpenInput!) { doorOpen(input: $input) { outcome } }`, {
    input: { device: toGlobalId("AkuvoxDevice", DEMO_PROJECT_ID, device.mac), residence: toGlobalId("Residence", DEMO_PROJECT_ID, r.residence_id) },
  });
  expect(opened.errors).toBeUndefined();
  expect(opened.data.doorOpen.outcome).toBe("OPENED");
  return device.mac;
}

describe("events export", () => {
  it("exports the log as Query.accessEvents reads it; since takes a cursor or an ISO time", async () => {
    const before = s.sim.calls("trigger_akuvox_remote_open_door").length;
    const macs = [await openDoor(), await openDoor(), await openDoor()];
    expect(s.sim.calls("trigger_akuvox_remote_open_door").length - before).toBe(3);

    const all = await exportOf("json", `projectId=${DEMO_PROJECT_ID}`);
    expect(all.status).toBe(200);
    expect(all.headers.get("content-type")).toMatch(/^application\/json/);
    const rows = (await all.json()) as Record<string, any>[];
    const opens = rows.filter((r) => r.kind === "REMOTE_OPEN_REQUESTED");
    expect(opens.map((r) => r.deviceId)).toEqual(macs);
    expect(rows.every((r) => r.projectId === DEMO_PROJECT_ID)).toBe(true);
    // The same events, in the same order, as the graph's feed.
    const feed = await s.gql(`query($p: ID!) { accessEvents(projectId: $p, first: 100) { nodes { eventId cursor } } }`, { p: DEMO_PROJECT_ID });
    expect(rows.map((r) => [r.eventId, r.cursor])).toEqual(feed.data.accessEvents.nodes.map((n: any) => [n.eventId, n.cursor]));

    // since=<cursor>: the rows after it (an incremental export resumes from the last row's cursor).
    const after = (await (await exportOf("json", `projectId=${DEMO_PROJECT_ID}&since=${opens[0]!.cursor}`)).json()) as any[];
    expect(after.map((r) => r.eventId)).toEqual(rows.slice(rows.indexOf(opens[0]!) + 1).map((r) => r.eventId));
    const none = (await (await exportOf("json", `projectId=${DEMO_PROJECT_ID}&since=${rows.at(-1)!.cursor}`)).json()) as any[];
    expect(none).toEqual([]);

    // since=<ISO time>: events received at or after it.
    const t = opens[1]!.receivedAt as string;
    const csv = await exportOf("csv", `projectId=${DEMO_PROJECT_ID}&since=${encodeURIComponent(t)}`);
    expect(csv.status).toBe(200);
    const lines = (await csv.text()).trim().split("\r\n");
    expect(lines[0]).toBe("cursor,eventId,kind,method,occurredAt,receivedAt,projectId,buildingId,residenceId,deviceId,deviceName,relayId,accountId,accountName,visitorTempKeyId,detail,vendor,vendorEventType,thumbnailUrl,pictureUrl");
    const expected = rows.filter((r) => Date.parse(r.receivedAt) >= Date.parse(t)).map((r) => r.eventId);
    expect(lines.slice(1).map((l) => l.split(",")[1])).toEqual(expected);
    expect(expected).toContain(opens[2]!.eventId);
  });

  it("is scoped like Query.accessEvents: another project's key is refused; a bad since is a 400", async () => {
    const other = await exportOf("csv", `projectId=${DEMO_PROJECT_ID}`, TEST_API_KEYS.secondProject.key);
    expect(other.status).toBe(403);
    const body = await other.text();
    expect(body).toMatch(/FORBIDDEN/);
    expect(body).not.toMatch(/REMOTE_OPEN_REQUESTED/);
    // Its own project: allowed, and none of the first project's events.
    const own = await exportOf("json", `projectId=${DEMO_SECOND_PROJECT_ID}`, TEST_API_KEYS.secondProject.key);
    expect(own.status).toBe(200);
    expect(((await own.json()) as any[]).every((r) => r.projectId === DEMO_SECOND_PROJECT_ID)).toBe(true);

    const anonymous = await fetch(`${s.url.replace(/\/graphql$/, "")}/reports/events.json?projectId=${DEMO_PROJECT_ID}`);
    expect(anonymous.status).toBe(401);
    for (const since of ["yesterday", "12", "2026-13-40T00:00:00Z"]) {
      const bad = await exportOf("json", `projectId=${DEMO_PROJECT_ID}&since=${since}`);
      expect(bad.status, since).toBe(400);
    }
    const onAccounts = await fetch(`${s.url.replace(/\/graphql$/, "")}/reports/accounts.json?projectId=${DEMO_PROJECT_ID}&since=0-0`, { headers: { "x-api-key": TEST_API_KEYS.admin.key } });
    expect(onAccounts.status).toBe(400);
  });
});
