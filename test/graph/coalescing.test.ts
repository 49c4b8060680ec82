import { describe, expect, it } from "vitest";
import { toGlobalId } from "../../src/lib/global-id.js";
import { residenceDevices } from "../../src/simulators/akubela/index.js";
import { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, useStack } from "../helpers/stack.js";

/** A caller's own vendor token the simulator accepts besides the server's (another tenant of the facade). */
const CALLER_TOKEN = "caller-own-token-coalescing-0001";

// The latency keeps the first answer away until every request of a burst has asked (overlap, not timing, is asserted).
const stack = useStack({ sim: { latencyMs: 250, tokens: [DEMO_AKUBELA_TOKEN, CALLER_TOKEN] } });

const ACCOUNT = `query($p: ID!, $r: ID!, $a: ID!) {
  account(projectId: $p, residenceId: $r, accountId: $a) { accountId credentials { pinCodes { number } } residence { devices { name } } }
}`;

function someAccount() {
  const project = stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
  const account = [...project.accounts.values()].find((a) => a.pin_codes.length > 0)!;
  return { p: DEMO_PROJECT_ID, r: account.residence_id, a: account.account_id, pins: account.pin_codes.map((p) => p.number) };
}

/** The commands the simulator received with this Bearer token, as `command param-json`. */
const receivedWith = (token: string) =>
  stack.sim
    .received()
    .filter((c) => c.authorization === `Bearer ${token}`)
    .map((c) => `${c.command} ${JSON.stringify(c.param)}`);

describe("coalescing identical reads across requests", () => {
  it("20 concurrent identical account reads send each distinct command once, and every caller gets the answer", async () => {
    const v = someAccount();
    const results = await Promise.all(Array.from({ length: 20 }, () => stack.gql(ACCOUNT, v)));
    for (const res of results) {
      expect(res.errors).toBeUndefined();
      expect(res.data.account.accountId).toBe(v.a);
      expect(res.data.account.credentials.pinCodes.map((p: any) => p.number)).toEqual(v.pins);
    }
    const received = stack.sim.received().map((c) => `${c.command} ${JSON.stringify(c.param)}`);
    expect(received.length).toBeGreaterThan(2);
    expect(new Set(received).size).toBe(received.length);
    expect(received).toContain(`get_user_access_info ${JSON.stringify({ project_id: v.p, residence_id: v.r, account_id: v.a })}`);
    expect(received.some((c) => c.startsWith("get_user_list "))).toBe(true);
    expect(received.some((c) => c.startsWith("get_akuvox_device_list "))).toBe(true);
  });

  it("never shares a read between two tenants: the server's credential and a caller's own token each send theirs", async () => {
    const v = someAccount();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => stack.gql(ACCOUNT, v, i % 2 === 0 ? undefined : CALLER_TOKEN)));
    for (const res of results) {
      expect(res.errors).toBeUndefined();
      expect(res.data.account.accountId).toBe(v.a);
    }
    const server = receivedWith(DEMO_AKUBELA_TOKEN);
    const caller = receivedWith(CALLER_TOKEN);
    const access = `get_user_access_info ${JSON.stringify({ project_id: v.p, residence_id: v.r, account_id: v.a })}`;
    // Each tenant sent the read itself, once: coalesced within the tenant, never across.
    expect(server.filter((c) => c === access)).toHaveLength(1);
    expect(caller.filter((c) => c === access)).toHaveLength(1);
    expect(new Set(server).size).toBe(server.length);
    expect(new Set(caller).size).toBe(caller.length);
    expect(stack.sim.received()).toHaveLength(server.length + caller.length);
  });

  it("never coalesces writes: concurrent identical door openings are each sent", async () => {
    const project = stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
    const account = [...project.accounts.values()][0];
    const residence = project.residences.get(account.residence_id)!;
    const device = residenceDevices(project, residence).find((d) => d.online && d.relays.length > 0)!;
    const input = { device: toGlobalId("AkuvoxDevice", DEMO_PROJECT_ID, device.mac), residence: toGlobalId("Residence", DEMO_PROJECT_ID, account.residence_id) };
    const open = `mutation($input: DoorOpenInput!) { doorOpen(input: $input) { outcome userErrors { code } } }`;
    const results = await Promise.all(Array.from({ length: 3 }, () => stack.gql(open, { input })));
    for (const res of results) {
      expect(res.errors).toBeUndefined();
      expect(res.data.doorOpen.userErrors).toEqual([]);
    }
    expect(stack.sim.calls("trigger_akuvox_remote_open_door")).toHaveLength(3);
    // The reads that verified the door before each opening were shared.
    const reads = stack.sim.received().filter((c) => c.command !== "trigger_akuvox_remote_open_door").map((c) => `${c.command} ${JSON.stringify(c.param)}`);
    expect(new Set(reads).size).toBe(reads.length);
  });
});
