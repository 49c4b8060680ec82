/**
 * Issue 13, "Not found, as vendors say it": an account the vendor says does not exist is `null`, whether it says so
 * with an envelope code `not_found` or `404`, or an HTTP 404; any other failure stays an error.
 */
import { describe, expect, it } from "vitest";
import { DEMO_PROJECT_ID, useStack } from "../helpers/stack.js";

const ACCOUNT = `query($p: ID!, $r: ID!, $a: ID!) { account(projectId: $p, residenceId: $r, accountId: $a) { accountId } }`;

describe("not found, as the vendor says it", () => {
  const stack = useStack();

  const vars = () => {
    const a = [...stack.sim.state.projects.get(DEMO_PROJECT_ID)!.accounts.values()][0];
    return { p: DEMO_PROJECT_ID, r: a.residence_id, a: a.account_id };
  };

  it.each([
    { form: "envelope code not_found", fault: { kind: "vendor_error", code: "not_found", message: "user not found" } },
    { form: "envelope code 404", fault: { kind: "vendor_error", code: "404", message: "not found" } },
    { form: "HTTP 404 with a plain body", fault: { kind: "http_error", status: 404, body: "Not Found" } },
    { form: "HTTP 404 with a failure envelope", fault: { kind: "http_error", status: 404, code: "404" } },
  ] as const)("$form: the account is null, no error; the vendor got the one get_user_info", async ({ fault }) => {
    const v = vars();
    stack.sim.injectFault({ ...fault, command: "get_user_info", times: 1 });
    const res = await stack.gql(ACCOUNT, v);
    expect(res.errors).toBeUndefined();
    expect(res.data.account).toBeNull();
    expect(stack.sim.calls("get_user_info").map((c) => (c.param as { account_id?: string }).account_id)).toEqual([v.a]);
  });

  it.each([
    { form: "HTTP 500", fault: { kind: "http_error", status: 500 }, code: /UPSTREAM/ },
    { form: "another vendor code", fault: { kind: "vendor_error", code: "permission_denied", message: "no" }, code: /UPSTREAM|FORBIDDEN/ },
  ] as const)("$form stays an error", async ({ fault, code }) => {
    stack.sim.injectFault({ ...fault, command: "get_user_info" });
    const res = await stack.gql(ACCOUNT, vars());
    expect(res.data?.account ?? null).toBeNull();
    expect(String(res.errors?.[0]?.extensions?.code)).toMatch(code);
  });
});

/**
 * The Aliyun gateway says "does not exist" with its documented body codes (aliyun-gateway.md, "Body codes"):
 * 2062 for an identityId, 2063 for an iotId. A read naming that one object answers null; its body code 404
 * ("service not found": a wrong path) and every other code stay errors.
 */
describe("not found, as the Aliyun gateway says it", () => {
  const stack = useStack();

  const PERSON = `query($i: ID!) { aliyunPerson(identityId: $i) { identityId name } }`;
  const KEEP_OPEN = `query($i: ID!) { aliyunDevice(iotId: $i) { iotId keepOpen } }`;
  // Each test reads its own person / device, so no answer cached by an earlier test stands in for the gateway's.
  const person = (n: number) => [...stack.aliyun.state.persons.keys()][n];
  const device = (n: number) => [...stack.aliyun.state.devices.keys()][n];
  const asked = (path: string) => stack.aliyun.calls(path).map((c) => c.params);

  it("2062 on /entrance/paas/user/get: the person is null, no error; the gateway got the one read", async () => {
    const identityId = person(0);
    stack.aliyun.injectFault({ kind: "vendor_error", path: "/entrance/paas/user/get", code: 2062, message: "identityId does not exist", times: 1 });
    const res = await stack.gql(PERSON, { i: identityId });
    expect(res.errors).toBeUndefined();
    expect(res.data.aliyunPerson).toBeNull();
    expect(asked("/entrance/paas/user/get")).toEqual([{ identityId }]);
  });

  it("2063 on /entrance/paas/keepopen/get (a device the gateway no longer has): keepOpen is null, no error", async () => {
    const iotId = device(1);
    stack.aliyun.state.devices.delete(iotId);
    const res = await stack.gql(KEEP_OPEN, { i: iotId });
    expect(res.errors).toBeUndefined();
    expect(res.data.aliyunDevice).toEqual({ iotId, keepOpen: null });
    expect(asked("/entrance/paas/keepopen/get")).toEqual([{ iotId }]);
    expect(stack.aliyun.calls("/entrance/paas/keepopen/get").map((c) => c.code)).toEqual([2063]);
  });

  it.each([
    { form: "body code 404 (service not found)", fault: { kind: "vendor_error", code: 404, message: "service not found" }, n: 2 },
    { form: "HTTP 404", fault: { kind: "http_error", status: 404 }, n: 3 },
    { form: "2065 (not bound)", fault: { kind: "vendor_error", code: 2065, message: "identityId and iotId not bound" }, n: 4 },
    { form: "2063, a device's code, for a person", fault: { kind: "vendor_error", code: 2063, message: "iotId does not exist" }, n: 5 },
  ] as const)("$form on /entrance/paas/user/get stays an error", async ({ fault, n }) => {
    const identityId = person(n);
    stack.aliyun.injectFault({ ...fault, path: "/entrance/paas/user/get" });
    const res = await stack.gql(PERSON, { i: identityId });
    expect(res.data?.aliyunPerson ?? null).toBeNull();
    expect(res.errors?.[0]?.path).toEqual(["aliyunPerson"]);
    expect(String(res.errors?.[0]?.extensions?.code)).toMatch(/UPSTREAM/);
    expect(asked("/entrance/paas/user/get").length).toBeGreaterThan(0);
    expect(asked("/entrance/paas/user/get").every((p) => (p as { identityId: string }).identityId === identityId)).toBe(true);
  });

  it("2062, a person's code, for a device's keep-open state stays an error", async () => {
    const iotId = device(2);
    stack.aliyun.injectFault({ kind: "vendor_error", path: "/entrance/paas/keepopen/get", code: 2062, message: "identityId does not exist" });
    const res = await stack.gql(KEEP_OPEN, { i: iotId });
    expect(res.data.aliyunDevice).toEqual({ iotId, keepOpen: null });
    expect(res.errors?.[0]?.path).toEqual(["aliyunDevice", "keepOpen"]);
    expect(String(res.errors?.[0]?.extensions?.code)).toMatch(/UPSTREAM/);
    expect(asked("/entrance/paas/keepopen/get")).toEqual([{ iotId }]);
  });
});
