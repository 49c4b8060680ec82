import { describe, expect, it } from "vitest";
import { DEMO_PROJECT_ID, useStack, TEST_API_KEYS } from "../helpers/stack.js";

const stack = useStack({ env: { ANONYMOUS_RATE_LIMIT_PER_MINUTE: "20", ANONYMOUS_MAX_BODY_BYTES: "4096", QUERY_MAX_TOKENS: "2000", QUERY_MAX_DIRECTIVES: "5" } });

const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(stack.url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
const admin = { "x-api-key": TEST_API_KEYS.admin.key };

describe("anonymous and bad-credential traffic", () => {
  it("refuses a wrong API key 401 before the body is parsed (a body that is not even JSON)", async () => {
    const res = await post("{ this is not json", { "x-api-key": "not-a-key" });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).errors[0].extensions.code).toBe("UNAUTHENTICATED");
    expect(stack.sim.received()).toHaveLength(0);
  });

  it("refuses a large anonymous document 413 by its size, while a caller with a key may send it", async () => {
    const big = JSON.stringify({ query: `{ __typename ${" ".repeat(10_000)} }` });
    const anonymous = await post(big);
    expect(anonymous.status).toBe(413);
    expect(((await anonymous.json()) as any).errors[0].message).toMatch(/without credentials.*4096 bytes/);
    const keyed = await post(big, admin);
    expect(keyed.status).toBe(200);
    expect(((await keyed.json()) as any).data).toEqual({ __typename: "Query" });
    expect(stack.sim.received()).toHaveLength(0);
  });

  it("bounds every document's tokens and directives, keyed callers too", async () => {
    const many = await post(JSON.stringify({ query: `{ ${Array.from({ length: 1500 }, (_, i) => `a${i}: __typename`).join(" ")} }` }), admin);
    const body = (await many.json()) as any;
    expect(body.errors[0].message).toMatch(/more that 2000 tokens/);
    const directives = await post(JSON.stringify({ query: `{ ${Array.from({ length: 6 }, (_, i) => `d${i}: __typename @skip(if: false)`).join(" ")} }` }), admin);
    const refused = (await directives.json()) as any;
    expect(refused.errors.map((e: { message: string }) => e.message)).toEqual(["The document uses more than 5 directives"]);
    expect(refused.data).toBeUndefined();
    expect(stack.sim.received()).toHaveLength(0);
  });

  it("keeps introspection open anonymously but rate limits it per address (429 with Retry-After); keyed callers go on", async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 25; i++) {
      const res = await post(JSON.stringify({ query: `{ __schema { queryType { name } } }` }));
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get("retry-after");
        expect(((await res.json()) as any).errors[0].extensions.code).toBe("RATE_LIMITED");
      } else await res.text();
    }
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(20);
    expect(statuses.at(-1)).toBe(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    const keyed = await stack.gql(`query($p: ID!) { project(projectId: $p) { projectId } }`, { p: DEMO_PROJECT_ID });
    expect(keyed.errors).toBeUndefined();
  });
});
