import { describe, expect, it } from "vitest";
import { toGlobalId } from "../../src/lib/global-id.js";
import { residenceDevices } from "../../src/simulators/akubela/index.js";
import type { RecordedCommand } from "../../src/simulators/akubela/server.js";
import { DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID, useStack } from "../helpers/stack.js";

// One call of the tenant in flight at a time: the order the simulator receives is the order the budget chose.
const METRICS_TOKEN = "metrics-budget-token-71c2";
const stack = useStack({ env: { VENDOR_MAX_IN_FLIGHT: "1", METRICS_TOKEN }, sim: { latencyMs: 40 } });

async function scrape(): Promise<string> {
  const res = await fetch(stack.url.replace(/\/graphql$/, "/metrics"), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  return res.text();
}
const metric = (text: string, line: string) => {
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
};

const CREDENTIALS = `query($p: ID!, $n: Int!) { project(projectId: $p) { accounts(first: $n) { nodes { accountId credentials { pinCodes { number } } } } } }`;

/** The project a received command acted for: its `project_id`, or the project of its `residence_id`. */
function projectOf(c: RecordedCommand): string | undefined {
  const param = c.param as Record<string, unknown>;
  if (typeof param.project_id === "string") return param.project_id;
  for (const [id, p] of stack.sim.state.projects) if (typeof param.residence_id === "string" && p.residences.has(param.residence_id)) return id;
  return undefined;
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

describe("the tenant's vendor budget", () => {
  it("sends a door opening before the reads already queued by another request", async () => {
    const project = stack.sim.state.projects.get(DEMO_SECOND_PROJECT_ID)!;
    const account = [...project.accounts.values()][0];
    const residence = project.residences.get(account.residence_id)!;
    const device = residenceDevices(project, residence).find((d) => d.online && d.relays.length > 0)!;
    const dashboard = stack.gql(CREDENTIALS, { p: DEMO_PROJECT_ID, n: 40 });
    await until(() => stack.sim.calls("get_user_access_info").length >= 2);
    const open = await stack.gql(`mutation($input: DoorOpenInput!) { doorOpen(input: $input) { outcome userErrors { code } } }`, {
      input: { device: toGlobalId("AkuvoxDevice", DEMO_SECOND_PROJECT_ID, device.mac), residence: toGlobalId("Residence", DEMO_SECOND_PROJECT_ID, account.residence_id) },
    });
    expect(open.errors).toBeUndefined();
    expect(open.data.doorOpen.userErrors).toEqual([]);
    const read = await dashboard;
    expect(read.errors).toBeUndefined();
    expect(read.data.project.accounts.nodes).toHaveLength(40);

    const received = stack.sim.received();
    const door = received.findIndex((c) => c.command === "trigger_akuvox_remote_open_door");
    expect(door).toBeGreaterThan(0);
    // The dashboard's reads were still queued when the door opened: most of them reached the vendor after it.
    const dashboardAfter = received.slice(door + 1).filter((c) => c.command === "get_user_access_info" && projectOf(c) === DEMO_PROJECT_ID);
    expect(dashboardAfter.length).toBeGreaterThan(20);
    // Ahead of them: between the door request's last read and the opening, only the one call that held the slot.
    const lastDoorRead = received.slice(0, door).findLastIndex((c) => projectOf(c) === DEMO_SECOND_PROJECT_ID);
    expect(door - lastDoorRead).toBeLessThanOrEqual(2);
    expect(stack.sim.received()).toHaveLength(received.length);
  });

  it("serves two concurrent requests in turn: their calls reach the vendor interleaved", async () => {
    const a = stack.gql(CREDENTIALS, { p: DEMO_PROJECT_ID, n: 30 });
    await until(() => stack.sim.calls("get_user_access_info").length >= 1);
    const b = stack.gql(CREDENTIALS, { p: DEMO_SECOND_PROJECT_ID, n: 6 });
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.errors).toBeUndefined();
    expect(rb.errors).toBeUndefined();
    expect(ra.data.project.accounts.nodes).toHaveLength(30);
    expect(rb.data.project.accounts.nodes).toHaveLength(6);

    const access = stack.sim.received().filter((c) => c.command === "get_user_access_info");
    expect(access).toHaveLength(36);
    const order = access.map((c) => (projectOf(c) === DEMO_PROJECT_ID ? "A" : "B"));
    // From B's first credential read to its last, A and B alternate: B waits for one A call at most, never the rest.
    const first = order.indexOf("B");
    const last = order.lastIndexOf("B");
    expect(order.slice(first - 1, last + 1).join("")).toBe("AB".repeat(6));
    expect(order.slice(last + 1).every((o) => o === "A")).toBe(true);
  });

  it("shows the queue and the waits in /metrics, by vendor only", async () => {
    const before = metric(await scrape(), 'vendor_budget_wait_seconds_count{vendor="akubela",kind="read"}') ?? 0;
    const dashboard = stack.gql(CREDENTIALS, { p: DEMO_PROJECT_ID, n: 20 });
    await until(() => stack.sim.calls("get_user_access_info").length >= 2);
    const during = await scrape();
    expect(metric(during, 'vendor_budget_queue_length{vendor="akubela"}')).toBeGreaterThan(0);
    expect((await dashboard).errors).toBeUndefined();
    const after = await scrape();
    expect(metric(after, 'vendor_budget_queue_length{vendor="akubela"}')).toBe(0);
    expect(metric(after, 'vendor_budget_wait_seconds_count{vendor="akubela",kind="read"}')! - before).toBe(stack.sim.received().length);
    expect(after).not.toMatch(/srv-|bearer-/); // no tenant scope in a label
  });
});
