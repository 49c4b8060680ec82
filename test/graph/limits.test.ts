import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_PROJECT_ID, startStack, useStack, TEST_API_KEYS, type Stack } from "../helpers/stack.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";

const stack = useStack({ env: { QUERY_MAX_DEPTH: "6", QUERY_MAX_ALIASES: "3", QUERY_MAX_COST: "5000", QUERY_MAX_BATCH: "3" } });

const noVendorCall = () => expect(stack.sim.received()).toHaveLength(0);

describe("query limits, with clear errors and no vendor call", () => {
  it("depth: a query deeper than QUERY_MAX_DEPTH", async () => {
    const deep = `query($p: ID!) { project(projectId: $p) { buildings { residences { accounts { residence { building { project { projectId } } } } } } } }`;
    const res = await stack.gql(deep, { p: DEMO_PROJECT_ID });
    expect(res.status).toBe(400);
    expect(res.errors?.[0]).toMatchObject({ message: "The query is 8 levels deep; at most 6 are allowed", extensions: { code: "QUERY_TOO_DEEP" } });
    noVendorCall();
  });

  it("aliases: more than QUERY_MAX_ALIASES", async () => {
    const res = await stack.gql(`query($p: ID!) { a: project(projectId: $p) { projectId } b: project(projectId: $p) { projectId } c: project(projectId: $p) { projectId } d: project(projectId: $p) { projectId } }`, { p: DEMO_PROJECT_ID });
    expect(res.errors?.[0]).toMatchObject({ message: "The query uses 4 aliases; at most 3 are allowed", extensions: { code: "TOO_MANY_ALIASES" } });
    noVendorCall();
  });

  it("cost: lists multiply by their `first` (or the assumed size); too costly is refused, a smaller page is answered", async () => {
    const q = (first: number) => `query($p: ID!) { project(projectId: $p) { accounts(first: ${first}) { nodes { credentials { pinCodes { pinCodeId } rfCards { rfCardId } faces { faceId } } } } } }`;
    const costly = await stack.gql(q(100), { p: DEMO_PROJECT_ID });
    expect(costly.status).toBe(400);
    expect(costly.errors?.[0].extensions?.code).toBe("QUERY_TOO_COMPLEX");
    expect(costly.errors?.[0].message).toMatch(/^The query's estimated cost is 620\d; at most 5000 is allowed/);
    noVendorCall();
    const cheap = await stack.gql(q(10), { p: DEMO_PROJECT_ID });
    expect(cheap.errors).toBeUndefined();
  });

  it("introspection is not counted against the depth limit (tools need it whole)", async () => {
    const res = await stack.gql(`{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }`);
    expect(res.errors).toBeUndefined();
  });

  it("batches: several operations in one request are answered, more than QUERY_MAX_BATCH refused", async () => {
    const post = (n: number) =>
      fetch(stack.url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": TEST_API_KEYS.admin.key },
        body: JSON.stringify(Array.from({ length: n }, (_, i) => ({ query: `query Q${i}($p: ID!) { project(projectId: $p) { projectId } }`, variables: { p: `p${i}` } }))),
      });
    const ok = await post(3);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as any[]).map((r) => r.data.project.projectId)).toEqual(["p0", "p1", "p2"]);
    const tooMany = await post(4);
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toEqual({ errors: [{ message: "The request batches 4 operations; at most 3 are allowed", extensions: { code: "BATCH_TOO_LARGE" } }] });
  });
});

describe("rate limit per API key, shared across instances through Redis", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.stop());

  it("the limit counts both instances' requests; past it: 429, RATE_LIMITED and Retry-After", async () => {
    const env = { REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: "5" };
    const a = await startStack({ env });
    const b = await startStack({ env, shareSimulatorsWith: a });
    try {
      const ask = (s: Stack) => fetch(s.url, { method: "POST", headers: { "content-type": "application/json", "x-api-key": TEST_API_KEYS.reader.key }, body: JSON.stringify({ query: "{ projects { projectId } }" }) });
      const statuses = [];
      for (const s of [a, b, a, b, a]) statuses.push((await ask(s)).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200]);
      const limited = await ask(b);
      expect(limited.status).toBe(429);
      const retryAfter = Number(limited.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      const body = (await limited.json()) as any;
      expect(body.errors[0]).toMatchObject({ extensions: { code: "RATE_LIMITED" } });
      expect(body.errors[0].message).toMatch(/^Too many requests for key:reader: 5 per 60 s; retry in \d+ s$/);
      // Another key has its own budget.
      const other = await fetch(a.url, { method: "POST", headers: { "content-type": "application/json", "x-api-key": TEST_API_KEYS.admin.key }, body: JSON.stringify({ query: "{ projects { projectId } }" }) });
      expect(other.status).toBe(200);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it("with Redis down, each instance still limits on its own (fail-open, not unlimited)", async () => {
    await redis.kill();
    const s = await startStack({ env: { REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: "2" } });
    try {
      const ask = () => fetch(s.url, { method: "POST", headers: { "content-type": "application/json", "x-api-key": TEST_API_KEYS.reader.key }, body: JSON.stringify({ query: "{ projects { projectId } }" }) });
      expect([(await ask()).status, (await ask()).status, (await ask()).status]).toEqual([200, 200, 429]);
    } finally {
      await s.close();
      await redis.restart();
    }
  });
});
