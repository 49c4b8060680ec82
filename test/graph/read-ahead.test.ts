import { describe, expect, it } from "vitest";
import type { RecordedCommand } from "../../src/simulators/akubela/server.js";
import { commandsReceived, DEMO_PROJECT_ID, useStack } from "../helpers/stack.js";

/**
 * Read-ahead (issue 16): the reads a query makes below a project's residences start as each page of the project's
 * user list arrives, not after the last. 250 accounts: three pages, which must come one after another.
 */
const stack = useStack({ sim: { latencyMs: 25, seed: { accounts: 250 } } });

const DASHBOARD = `query($p: ID!) { project(projectId: $p) { buildings { name
  residences { residenceNo accounts { accountId credentials { pinCodes { pinCodeId } } } devices { mac } } } } }`;

const seeded = () => [...stack.sim.state.projects.get(DEMO_PROJECT_ID)!.accounts.values()];
const param = (c: RecordedCommand) => c.param as Record<string, unknown>;

/** The user-list page that has `accountId`, as the simulator pages it (100 a page, in its order). */
const pageOf = (accountId: string) => Math.floor(seeded().findIndex((a) => a.account_id === accountId) / 100) + 1;

describe("read-ahead below a project's residences", () => {
  it("the dashboard's access info and device lists start before the user list's last page is asked for, and each is sent once", async () => {
    const res = await stack.gql(DASHBOARD, { p: DEMO_PROJECT_ID });
    expect(res.errors).toBeUndefined();
    const accounts = seeded();
    const got = res.data.project.buildings.flatMap((b: any) => b.residences.flatMap((r: any) => r.accounts));
    expect(got.map((a: any) => a.accountId).sort()).toEqual(accounts.map((a) => a.account_id).sort());

    // What the vendor received: the same calls as without read-ahead, each once.
    const received = commandsReceived(stack.sim);
    expect(new Set(received).size).toBe(received.length);
    const residences = new Set(accounts.map((a) => a.residence_id));
    expect(stack.sim.calls("get_user_list")).toHaveLength(3);
    expect(stack.sim.calls("get_user_access_info")).toHaveLength(accounts.length);
    expect(stack.sim.calls("get_akuvox_device_list")).toHaveLength(residences.size);
    expect(received).toHaveLength(3 + accounts.length + residences.size + 1);

    // When: the first page's accounts were read while the later pages were still being fetched.
    const lastPage = stack.sim.calls("get_user_list").find((c) => param(c).page_index === 3)!;
    const firstPageInfo = stack.sim.calls("get_user_access_info").filter((c) => pageOf(String(param(c).account_id)) === 1);
    expect(firstPageInfo).toHaveLength(100);
    expect(firstPageInfo.some((c) => c.at < lastPage.at)).toBe(true);
    const firstDeviceList = Math.min(...stack.sim.calls("get_akuvox_device_list").map((c) => c.at));
    expect(firstDeviceList).toBeLessThan(lastPage.at);
  });

  it("reads nothing ahead that the query does not select, nor what @skip leaves out", async () => {
    const names = await stack.gql(`query($p: ID!) { project(projectId: $p) { buildings { residences { accounts { displayName } } } } }`, { p: DEMO_PROJECT_ID });
    expect(names.errors).toBeUndefined();
    expect(stack.sim.calls("get_user_access_info")).toHaveLength(0);
    expect(stack.sim.calls("get_akuvox_device_list")).toHaveLength(0);

    stack.sim.clearReceived();
    const skipped = await stack.gql(
      `query($p: ID!, $s: Boolean!) { project(projectId: $p) { buildings { residences { accounts { displayName credentials @skip(if: $s) { pinCodes { pinCodeId } } } } } } }`,
      { p: DEMO_PROJECT_ID, s: true },
    );
    expect(skipped.errors).toBeUndefined();
    expect(stack.sim.calls("get_user_access_info")).toHaveLength(0);
    expect(stack.sim.received().map((c) => c.command).sort()).toEqual(["get_user_list", "get_user_list", "get_user_list", "get_visitor_temp_key_device_list"]);
  });

  it("follows fragments, and reads ahead only the residences a buildingId argument keeps", async () => {
    const building = seeded()[0].building_id;
    const inBuilding = seeded().filter((a) => a.building_id === building);
    const res = await stack.gql(
      `query($p: ID!, $b: ID) { project(projectId: $p) { residences(buildingId: $b) { ...R } } }
       fragment R on Residence { residenceNo ... on Residence { accounts { accountId credentials { faces { faceId } } } } }`,
      { p: DEMO_PROJECT_ID, b: building },
    );
    expect(res.errors).toBeUndefined();
    const got = res.data.project.residences.flatMap((r: any) => r.accounts.map((a: any) => a.accountId));
    expect(got.sort()).toEqual(inBuilding.map((a) => a.account_id).sort());
    // Exactly the accounts the answer has, each once; none of another building's.
    const asked = stack.sim.calls("get_user_access_info").map((c) => String(param(c).account_id));
    expect(asked.sort()).toEqual(inBuilding.map((a) => a.account_id).sort());
    expect(stack.sim.calls("get_akuvox_device_list")).toHaveLength(0);
    // Read ahead: some of the building's first-page accounts were asked for before the last page was.
    const lastPage = stack.sim.calls("get_user_list").find((c) => param(c).page_index === 3)!;
    expect(stack.sim.calls("get_user_access_info").some((c) => c.at < lastPage.at)).toBe(true);
  });
});
