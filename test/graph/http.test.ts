import { serverAudits } from "graphql-http";
import { describe, expect, it } from "vitest";
import { DEMO_AKUBELA_TOKEN, useStack } from "../helpers/stack.js";

/** The SHOULDs this server does not meet, each explained in the README. */
const KNOWN_SHOULD_FAILURES = [
  "SHOULD use 200 status code on document parsing failure when accepting application/json",
  "SHOULD use 200 status code on document validation failure when accepting application/json",
  "SHOULD use a status code of 200 on variable coercion failure when accepting application/json",
];

const stack = useStack();

describe("GraphQL over HTTP: the graphql-http audit suite against the live server", () => {
  it("passes every MUST; the SHOULDs that fail are the ones the README lists", async () => {
    const audits = serverAudits({
      url: stack.url,
      // Authenticated like any caller: the graph answers 401 before anything else without a credential.
      fetchFn: (input: string | URL | Request, init?: RequestInit) =>
        fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${DEMO_AKUBELA_TOKEN}` } }),
    });
    const results = await Promise.all(audits.map(async (audit) => ({ ...(await audit.fn()), name: audit.name })));
    const failed = (level: string) => results.filter((r) => r.name.startsWith(level) && r.status !== "ok").map((r) => `${r.name}: ${"reason" in r ? r.reason : ""}`);
    expect(failed("MUST")).toEqual([]);
    // Apollo Server answers 400 to a document that cannot run, whatever the Accept (see README, "GraphQL over HTTP").
    expect(failed("SHOULD").map((f) => f.split(":")[0]).sort()).toEqual(KNOWN_SHOULD_FAILURES);
  });
});

describe("GET and automatic persisted queries", () => {
  const query = `query Devices($p: ID!) { project(projectId: $p) { projectId } }`;
  const get = (params: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${stack.url}?${new URLSearchParams(params)}`, { headers: { authorization: `Bearer ${DEMO_AKUBELA_TOKEN}`, ...headers } });

  it("answers a query over GET when the client sends the CSRF preflight header, and refuses it otherwise", async () => {
    const params = { query, variables: JSON.stringify({ p: "pr1" }) };
    const refused = await get(params);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/CSRF/i);
    const ok = await get(params, { "apollo-require-preflight": "true" });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ data: { project: { projectId: "pr1" } } });
  });

  it("refuses a mutation over GET", async () => {
    const res = await get({ query: `mutation { doorOpen(input: { device: "x" }) { outcome } }` }, { "apollo-require-preflight": "true" });
    expect(res.status).toBe(405);
  });

  it("automatic persisted queries: the hash alone is not found, then registered, then answered by hash over GET", async () => {
    const { createHash } = await import("node:crypto");
    const sha256Hash = createHash("sha256").update(query).digest("hex");
    const extensions = JSON.stringify({ persistedQuery: { version: 1, sha256Hash } });
    const variables = JSON.stringify({ p: "pr2" });
    const missing = (await (await get({ extensions, variables }, { "apollo-require-preflight": "true" })).json()) as any;
    expect(missing.errors[0].extensions.code).toBe("PERSISTED_QUERY_NOT_FOUND");
    const register = await fetch(stack.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${DEMO_AKUBELA_TOKEN}` },
      body: JSON.stringify({ query, variables: { p: "pr2" }, extensions: { persistedQuery: { version: 1, sha256Hash } } }),
    });
    expect(((await register.json()) as any).data).toEqual({ project: { projectId: "pr2" } });
    const byHash = await (await get({ extensions, variables }, { "apollo-require-preflight": "true" })).json();
    expect(byHash).toEqual({ data: { project: { projectId: "pr2" } } });
  });
});
