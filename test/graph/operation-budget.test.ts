import { describe, expect, it } from "vitest";
import { DEMO_PROJECT_ID, useStack } from "../helpers/stack.js";

const LIMIT = 10;
// One call in flight keeps the order of the sends fixed: the first fields spend the budget, the later ones find it spent.
const stack = useStack({ env: { MAX_VENDOR_CALLS_PER_OPERATION: String(LIMIT), VENDOR_MAX_IN_FLIGHT: "1" } });

describe("the per-operation vendor call budget (MAX_VENDOR_CALLS_PER_OPERATION)", () => {
  it("answers the fields past the budget null with REQUEST_LIMIT_EXCEEDED and keeps the data fetched before", async () => {
    const project = stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
    const pages = Math.floor(project.accounts.size / 100) + 1;
    const res = await stack.gql(
      `query($p: ID!) { project(projectId: $p) { accounts(first: 30) { totalCount nodes { accountId credentials { pinCodes { number } } } } } }`,
      { p: DEMO_PROJECT_ID },
    );
    expect(res.status).toBe(200);
    // The vendor received exactly the budget: the user list pages, then credential reads until it ran out.
    expect(stack.sim.received()).toHaveLength(LIMIT);
    expect(stack.sim.calls("get_user_list")).toHaveLength(pages);
    expect(stack.sim.calls("get_user_access_info")).toHaveLength(LIMIT - pages);

    const nodes = res.data.project.accounts.nodes as any[];
    expect(res.data.project.accounts.totalCount).toBe(project.accounts.size);
    expect(nodes).toHaveLength(30);
    for (const n of nodes) expect(n.accountId).toEqual(expect.any(String));
    const answered = nodes.filter((n) => n.credentials !== null);
    expect(answered).toHaveLength(LIMIT - pages);
    const sent = new Set(stack.sim.calls("get_user_access_info").map((c) => (c.param as { account_id: string }).account_id));
    for (const n of answered) expect(sent.has(n.accountId)).toBe(true);

    expect(res.errors).toHaveLength(30 - (LIMIT - pages));
    for (const e of res.errors!) {
      expect(e.extensions?.code).toBe("REQUEST_LIMIT_EXCEEDED");
      expect(e.path?.slice(-1)).toEqual(["credentials"]);
    }
  });

  it("gives every operation its own budget", async () => {
    const q = `query($p: ID!) { project(projectId: $p) { accounts(first: 2) { nodes { credentials { pinCodes { number } } } } } }`;
    for (let i = 0; i < 3; i++) {
      const res = await stack.gql(q, { p: DEMO_PROJECT_ID });
      expect(res.errors).toBeUndefined();
    }
    // Together the three sent more than one operation may: each counted only its own.
    const pages = Math.floor(stack.sim.state.projects.get(DEMO_PROJECT_ID)!.accounts.size / 100) + 1;
    expect(stack.sim.received()).toHaveLength(3 * (pages + 2));
    expect(3 * (pages + 2)).toBeGreaterThan(LIMIT);
  });
});
