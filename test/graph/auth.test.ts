import { describe, expect, it } from "vitest";
import { DEMO_PROJECT_ID, useStack } from "../helpers/stack.js";

const stack = useStack();

describe("credentials", () => {
  it("answers a request without credentials UNAUTHENTICATED (401) before any vendor call", async () => {
    const res = await stack.gql(`query($p: ID!) { project(projectId: $p) { accounts { totalCount } } }`, { p: DEMO_PROJECT_ID }, null);
    expect(res.status).toBe(401);
    expect(res.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
    expect(res.data ?? null).toBeNull();
    expect(stack.sim.received()).toHaveLength(0);
  });

  it("treats a non-Bearer Authorization header as no credentials", async () => {
    const res = await fetch(stack.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Basic dXNlcjpwYXNz" },
      body: JSON.stringify({ query: `{ projects { projectId } }` }),
    });
    expect(res.status).toBe(401);
    expect(stack.sim.received()).toHaveLength(0);
  });

  it("keeps introspection open without credentials, for Sandbox", async () => {
    const res = await stack.gql(`{ __schema { queryType { name } } }`, undefined, null);
    expect(res.errors).toBeUndefined();
    expect(res.data.__schema.queryType.name).toBe("Query");
  });

  it("forwards the caller's token as it came, and maps the vendor's 401 to UNAUTHENTICATED without echoing it", async () => {
    const res = await stack.gql(`query($p: ID!) { project(projectId: $p) { devices { name } } }`, { p: DEMO_PROJECT_ID }, "expired-token-123");
    expect(res.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
    // Refused by the proof an unknown token gets before anything is answered (BEARER_VERIFY_SECONDS).
    expect(res.status).toBe(401);
    expect(res.errors?.[0].extensions?.upstream).toMatchObject({ vendor: "akubela", command: "get_user_list", status: 401 });
    expect(JSON.stringify(res)).not.toContain("expired-token-123");
    expect(stack.logText()).not.toContain("expired-token-123");
    const calls = stack.sim.received();
    expect(calls).toHaveLength(1);
    expect(calls[0].authorization).toBe("Bearer expired-token-123");
  });
});

describe("bad input", () => {
  it("rejects an empty vendor id naming the argument, before any vendor call", async () => {
    const res = await stack.gql(`{ residence(projectId: "${DEMO_PROJECT_ID}", residenceId: " ") { devices { name } } }`);
    expect(res.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    expect(res.errors?.[0].extensions?.field).toBe("residenceId");
    expect(stack.sim.received()).toHaveLength(0);
  });

  it("rejects a bad cursor and a negative page size naming the argument", async () => {
    const bad = await stack.gql(`{ project(projectId: "${DEMO_PROJECT_ID}") { accounts(after: "zzz") { totalCount } } }`);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
    const negative = await stack.gql(`{ project(projectId: "${DEMO_PROJECT_ID}") { accounts(first: -1) { totalCount } } }`);
    expect(negative.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "first" });
    expect(stack.sim.received()).toHaveLength(0);
  });

  it("answers a GraphQL validation error for an unknown field, with no vendor call", async () => {
    const res = await stack.gql(`{ project(projectId: "x") { nonsense } }`);
    expect(res.status).toBe(400);
    expect(res.errors?.[0].extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(stack.sim.received()).toHaveLength(0);
  });
});
