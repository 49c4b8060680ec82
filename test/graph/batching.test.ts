import { describe, expect, it } from "vitest";
import { commandsReceived, DEMO_PROJECT_ID, startStack, useStack } from "../helpers/stack.js";

const stack = useStack();

const DASHBOARD = `query($p: ID!) {
  project(projectId: $p) {
    projectId
    buildings {
      name
      residences {
        residenceNo
        accounts { accountId displayName residence { residenceNo } building { name } credentials { pinCodes { number } rfCards { number } faces { faceId } } }
        devices { mac name relays { relayId name } securityRelays { relayId } }
      }
      devices { name }
    }
    accounts(first: 100) { totalCount nodes { accountId } }
    devices { name }
  }
}`;

describe("batching and deduplication per request", () => {
  it("sends each (command, params) once for a whole project dashboard, and no more commands than the answer needs", async () => {
    stack.sim.clearReceived();
    const res = await stack.gql(DASHBOARD, { p: DEMO_PROJECT_ID });
    expect(res.errors).toBeUndefined();

    const project = stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
    const accounts = [...project.accounts.values()];
    const residencesWithAccounts = new Set(accounts.map((a) => a.residence_id));

    // What the caller got: every account under its residence, every residence under its building.
    const gotAccounts = res.data.project.buildings.flatMap((b: any) => b.residences.flatMap((r: any) => r.accounts));
    expect(gotAccounts.map((a: any) => a.accountId).sort()).toEqual(accounts.map((a) => a.account_id).sort());
    const gotResidences = res.data.project.buildings.flatMap((b: any) => b.residences);
    expect(gotResidences).toHaveLength(residencesWithAccounts.size);
    const anyAccount = accounts.find((a) => a.pin_codes.length > 0)!;
    const got = gotAccounts.find((a: any) => a.accountId === anyAccount.account_id);
    expect(got.credentials.pinCodes.map((p: any) => p.number)).toEqual(anyAccount.pin_codes.map((p) => p.number));
    expect(res.data.project.accounts.totalCount).toBe(accounts.length);

    // What the vendor received: no (command, params) twice, and exactly the lower bound of distinct commands.
    const received = commandsReceived(stack.sim);
    expect(new Set(received).size).toBe(received.length);
    const count = (command: string) => stack.sim.calls(command).length;
    expect(count("get_user_list")).toBe(Math.floor(accounts.length / 100) + 1);
    expect(count("get_user_access_info")).toBe(accounts.length);
    expect(count("get_akuvox_device_list")).toBe(residencesWithAccounts.size);
    expect(count("get_visitor_temp_key_device_list")).toBe(1);
    expect(stack.sim.received()).toHaveLength(
      Math.floor(accounts.length / 100) + 1 + accounts.length + residencesWithAccounts.size + 1,
    );
  });

  it("bounds the fan-out: at most VENDOR_MAX_IN_FLIGHT commands of the tenant in flight at once", async () => {
    const limited = await startStack({ env: { VENDOR_MAX_IN_FLIGHT: "3" }, sim: { latencyMs: 15 } });
    try {
      let inFlight = 0;
      let peak = 0;
      const res = await limited.gql(
        `query($p: ID!) { project(projectId: $p) { accounts(first: 40) { nodes { credentials { pinCodes { number } } } } } }`,
        { p: DEMO_PROJECT_ID },
      );
      expect(res.errors).toBeUndefined();
      const calls = limited.sim.calls("get_user_access_info");
      expect(calls).toHaveLength(40);
      // Each command is busy from its arrival to its answer at the simulator; count the overlap.
      const events = calls.flatMap((c) => [
        { t: c.at, d: 1 },
        { t: c.answeredAt!, d: -1 },
      ]);
      events.sort((a, b) => a.t - b.t || a.d - b.d);
      for (const e of events) {
        inFlight += e.d;
        peak = Math.max(peak, inFlight);
      }
      expect(peak).toBeLessThanOrEqual(3);
      expect(peak).toBeGreaterThan(1); // concurrent, not sequential
    } finally {
      await limited.close();
    }
  });

  it("shares the get_user_list pages between every field derived from them in one request", async () => {
    stack.sim.clearReceived();
    const res = await stack.gql(
      `query($p: ID!) { project(projectId: $p) {
         a: accounts(first: 5) { totalCount } b: accounts(first: 100, role: ADMIN) { totalCount }
         residences { residenceNo } buildings { buildingId } } }`,
      { p: DEMO_PROJECT_ID },
    );
    expect(res.errors).toBeUndefined();
    const project = stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
    const accounts = [...project.accounts.values()];
    expect(res.data.project.b.totalCount).toBe(accounts.filter((a) => a.auth === "admin").length);
    expect(stack.sim.calls("get_user_list")).toHaveLength(Math.floor(accounts.length / 100) + 1);
  });

  it("a residence's devices need no user-list page once the project's membership index is kept; its number reads one", async () => {
    const kept = await startStack({ env: { CACHE_MEMBERSHIP_TTL_SECONDS: "300" } });
    try {
      const residenceId = [...kept.sim.state.projects.get(DEMO_PROJECT_ID)!.accounts.values()][0].residence_id;
      const DEVICES = `query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { residenceId devices { mac } } }`;
      expect((await kept.gql(DEVICES, { p: DEMO_PROJECT_ID, r: residenceId })).errors).toBeUndefined(); // builds the index
      kept.sim.clearReceived();
      const res = await kept.gql(DEVICES, { p: DEMO_PROJECT_ID, r: residenceId });
      expect(res.errors).toBeUndefined();
      expect(res.data.residence.devices.length).toBeGreaterThan(0);
      expect(kept.sim.received().map((c) => c.command)).toEqual(["get_akuvox_device_list"]);
      kept.sim.clearReceived();
      const numbered = await kept.gql(`query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { residenceNo } }`, { p: DEMO_PROJECT_ID, r: residenceId });
      expect(numbered.data.residence.residenceNo).toBe(kept.sim.state.projects.get(DEMO_PROJECT_ID)!.residences.get(residenceId)!.residence_no);
      expect(kept.sim.received().every((c) => c.command === "get_user_list")).toBe(true);
    } finally {
      await kept.close();
    }
  });

  it("the naive baseline switch (NAIVE_NO_LOADERS, for the benchmark) really turns deduplication off", async () => {
    const naive = await startStack({ env: { NAIVE_NO_LOADERS: "true" } });
    try {
      const res = await naive.gql(`query($p: ID!) { project(projectId: $p) { a: accounts(first: 5) { totalCount } b: accounts(first: 5) { totalCount } } }`, { p: DEMO_PROJECT_ID });
      expect(res.errors).toBeUndefined();
      const pages = Math.floor(naive.sim.state.projects.get(DEMO_PROJECT_ID)!.accounts.size / 100) + 1;
      // Each field pages the whole list itself: nothing shared (the optimized graph sends `pages` calls in all).
      expect(naive.sim.calls("get_user_list")).toHaveLength(2 * pages);
    } finally {
      await naive.close();
    }
  });
});
