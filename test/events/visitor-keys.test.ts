/**
 * Visitor temp keys as a polled source (issue 17): a key used at a door in the simulator (control route
 * `POST /__sim/events`, `type: visitor_key`) becomes an access event through `get_visitor_temp_key_list` and
 * `get_visitor_temp_key_history` (000_ea6fedeba34c96fa.txt), once, without the key's number.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { DEMO_PROJECT_ID, startStack, type Stack } from "../helpers/stack.js";

let s: Stack;
beforeAll(async () => {
  s = await startStack({ env: { EVENTS_POLL: "true", EVENTS_POLL_MIN_INTERVAL_MS: "100", EVENTS_POLL_MAX_INTERVAL_MS: "300", EVENTS_POLL_BUDGET_PER_MINUTE: "100000" } });
}, 30_000);
afterAll(async () => {
  await s?.close();
});

const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

const FEED = `query($p: ID!) { accessEvents(projectId: $p, first: 500) { nodes { eventId kind method visitorTempKeyId deviceName accountName vendorEventType projectId } } }`;

it("a visitor-key use in the simulator becomes one DOOR_OPENED event with the key's id", async () => {
  const key = [...s.sim.state.projects.get(DEMO_PROJECT_ID)!.visitor_temp_keys.values()][0]!;
  const historyPolls = () => s.sim.calls("get_visitor_temp_key_history").filter((c) => (c.param as { visitor_temp_key_id?: string }).visitor_temp_key_id === key.visitor_temp_key_id).length;
  await until("the key's history to be polled once", () => historyPolls() >= 1);
  expect(s.sim.calls("get_visitor_temp_key_list").some((c) => (c.param as { project_id?: string }).project_id === DEMO_PROJECT_ID)).toBe(true);

  const res = await fetch(`${s.sim.url}/__sim/events`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "visitor_key", visitorTempKeyId: key.visitor_temp_key_id, deviceName: "Lobby gate" }) });
  expect(res.status).toBe(200);
  expect(key.history[0]).toMatchObject({ device_name: "Lobby gate", open_door_type: "temp key" });

  const ofKey = async () => (await s.gql(FEED, { p: DEMO_PROJECT_ID })).data.accessEvents.nodes.filter((n: any) => n.visitorTempKeyId === key.visitor_temp_key_id);
  await until("the event in the feed", async () => (await ofKey()).length > 0);
  const seen = historyPolls();
  await until("two more polls of the key's history", () => historyPolls() >= seen + 2);
  const events = await ofKey();
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ kind: "DOOR_OPENED", method: "TEMP_KEY", deviceName: "Lobby gate", accountName: key.visitor_temp_key_name, projectId: DEMO_PROJECT_ID });
  // The key's number is a secret: not in the event.
  expect(JSON.stringify(events[0])).not.toContain(key.visitor_temp_key_number);
});
