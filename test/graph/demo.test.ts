import { expect, it } from "vitest";
import { DEMO_QUERY } from "../../src/app.js";
import { DEMO_PROJECT_ID, useStack } from "../helpers/stack.js";

const stack = useStack();

it("the query Sandbox opens with in demo mode answers without errors, with both vendors' data", async () => {
  const res = await stack.gql(DEMO_QUERY);
  expect(res.errors).toBeUndefined();
  const demo = res.data.project;
  expect(demo.projectId).toBe(DEMO_PROJECT_ID);
  expect(new Set(demo.devices.map((d: any) => d.vendor))).toEqual(new Set(["AKUVOX", "ALIYUN"]));
  const accounts = demo.buildings.flatMap((b: any) => b.residences.flatMap((r: any) => r.accounts));
  expect(accounts).toHaveLength(stack.sim.state.projects.get(DEMO_PROJECT_ID)!.accounts.size);
  expect(accounts.some((a: any) => a.cardPermissions.length > 0)).toBe(true);
  expect(stack.sim.received().length).toBeGreaterThan(0);
  expect(stack.aliyun.calls("/entrance/paas/user/perm/query").length).toBeGreaterThan(0);
});
