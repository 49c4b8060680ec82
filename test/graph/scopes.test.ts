import { beforeAll, describe, expect, it } from "vitest";
import { getNamedType, isNonNullType, type GraphQLSchema } from "graphql";
import { scopeOf } from "../../src/auth/policy.js";
import { toGlobalId } from "../../src/lib/global-id.js";
import { buildServedSchema } from "../../src/schema/build.js";
import { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID, startStack, useStack, TEST_API_KEYS } from "../helpers/stack.js";

const stack = useStack();
let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildServedSchema();
});

const asKey = (key: keyof typeof TEST_API_KEYS, query: string, variables?: Record<string, unknown>) =>
  stack.gql(query, variables, null, { "x-api-key": TEST_API_KEYS[key].key });
const noVendorCall = () => {
  expect(stack.sim.received()).toHaveLength(0);
  expect(stack.aliyun.received()).toHaveLength(0);
};

/** Every mutation of the schema as an operation taking its input as a variable. */
function mutationOperations(): { name: string; query: string }[] {
  const fields = Object.values(schema.getMutationType()!.getFields());
  return fields.map((f) => {
    const arg = f.args[0];
    const type = `${getNamedType(arg.type).name}${isNonNullType(arg.type) ? "!" : ""}`;
    return { name: f.name, query: `mutation($input: ${type}) { ${f.name}(input: $input) { __typename } }` };
  });
}

describe("the scope matrix: every API key against every mutation", () => {
  it("covers all the mutations, each needing exactly one scope", () => {
    const names = mutationOperations().map((m) => m.name);
    expect(names.length).toBeGreaterThanOrEqual(29);
    expect(names.filter((n) => scopeOf(schema, "mutation", n) === "door:open").sort()).toEqual(["doorOpen", "keepOpenSet"]);
    expect(names.filter((n) => scopeOf(schema, "mutation", n) === "read")).toEqual(["devicePermissionCheck"]);
  });

  for (const key of ["reader", "writer", "opener", "admin"] as const) {
    it(`${key}: FORBIDDEN before any vendor call for each mutation outside its scopes, let through otherwise`, async () => {
      const scopes: readonly string[] = TEST_API_KEYS[key].scopes;
      for (const { name, query } of mutationOperations()) {
        stack.sim.clearReceived();
        stack.aliyun.clearReceived();
        // An empty input: a mutation let through fails on the input (never FORBIDDEN); one refused never gets there.
        const res = await asKey(key, query, { input: {} });
        const codes = (res.errors ?? []).map((e) => e.extensions?.code);
        if (scopes.includes(scopeOf(schema, "mutation", name)!)) expect(codes, `${key} ${name}`).not.toContain("FORBIDDEN");
        else {
          expect(codes, `${key} ${name}`).toEqual(["FORBIDDEN"]);
          expect(res.errors![0].message).toContain(`lacks the "${scopeOf(schema, "mutation", name)}" scope`);
        }
        noVendorCall();
      }
    });
  }

  it("queries need read: the opener key may open doors but not read", async () => {
    const res = await asKey("opener", `query($p: ID!) { project(projectId: $p) { buildings { name } } }`, { p: DEMO_PROJECT_ID });
    expect(res.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    noVendorCall();
    const ok = await asKey("reader", `query($p: ID!) { project(projectId: $p) { buildings { name } } }`, { p: DEMO_PROJECT_ID });
    expect(ok.errors).toBeUndefined();
    expect(stack.sim.received().length).toBeGreaterThan(0);
  });
});

describe("projects an API key may touch", () => {
  const RESIDENCE = `query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { devices { name } } }`;

  it("another project, by argument or inside a global ID or a mutation input: FORBIDDEN before any vendor call", async () => {
    const a = [...stack.sim.state.projects.get(DEMO_PROJECT_ID)!.accounts.values()][0];
    const byArg = await asKey("secondProject", RESIDENCE, { p: DEMO_PROJECT_ID, r: a.residence_id });
    expect(byArg.errors?.[0]).toMatchObject({ extensions: { code: "FORBIDDEN" }, message: `The API key "secondProject" may not touch project ${DEMO_PROJECT_ID}` });
    const byId = await asKey("secondProject", `query($id: ID!) { node(id: $id) { id } }`, { id: toGlobalId("Account", DEMO_PROJECT_ID, a.residence_id, a.account_id) });
    expect(byId.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const byInput = await asKey("secondProject", `mutation($input: DoorOpenInput!) { doorOpen(input: $input) { outcome } }`, {
      input: { device: toGlobalId("AkuvoxDevice", DEMO_PROJECT_ID, "0A0B0C0D0E0F"), residence: toGlobalId("Residence", DEMO_SECOND_PROJECT_ID, "r1") },
    });
    expect(byInput.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const siteWide = await asKey("secondProject", `{ aliyunPersons(first: 1) { totalCount } }`);
    expect(siteWide.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    noVendorCall();
  });

  it("its own project is answered", async () => {
    const second = stack.sim.state.projects.get(DEMO_SECOND_PROJECT_ID)!;
    const a = [...second.accounts.values()][0];
    const res = await asKey("secondProject", RESIDENCE, { p: DEMO_SECOND_PROJECT_ID, r: a.residence_id });
    expect(res.errors).toBeUndefined();
    expect(stack.sim.calls("get_akuvox_device_list")).toHaveLength(1);
  });
});

describe("who gets in", () => {
  it("a wrong API key: UNAUTHENTICATED, whatever the operation, before any vendor call", async () => {
    const res = await stack.gql(`{ projects { projectId } }`, undefined, null, { "x-api-key": "not-a-key" });
    expect(res.status).toBe(401);
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: "UNAUTHENTICATED" }, message: "Authentication failed: the API key is not valid" });
    noVendorCall();
  });

  it("a caller with its own vendor token reaches Akubela, but the Aliyun gateway (the server's app key) needs an API key", async () => {
    const iotId = [...stack.aliyun.state.devices.keys()][0];
    const res = await stack.gql(`query($i: ID!) { aliyunDevice(iotId: $i) { name keepOpen } }`, { i: iotId }, DEMO_AKUBELA_TOKEN);
    expect(res.data.aliyunDevice.name).toBeTruthy();
    expect(res.errors?.[0]).toMatchObject({ path: ["aliyunDevice", "keepOpen"], extensions: { code: "FORBIDDEN" } });
    expect(stack.aliyun.received()).toHaveLength(0);
  });

  it("AUTH_MODES=apikey refuses vendor Bearer tokens", async () => {
    const strict = await startStack({ env: { AUTH_MODES: "apikey" } });
    try {
      const res = await strict.gql(`{ projects { projectId } }`, undefined, DEMO_AKUBELA_TOKEN);
      expect(res.errors?.[0]).toMatchObject({ extensions: { code: "UNAUTHENTICATED" }, message: "Authentication failed: vendor Bearer tokens are not accepted here: send an API key" });
      expect((await strict.gql(`{ projects { projectId } }`)).errors).toBeUndefined();
    } finally {
      await strict.close();
    }
  });
});
