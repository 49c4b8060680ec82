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
