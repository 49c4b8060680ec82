import { readFileSync } from "node:fs";
import { ApolloServer } from "@apollo/server";
import { buildSchema, parse, type GraphQLSchema, type OperationDefinitionNode } from "graphql";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEMO_SITE_MAP_PATH } from "../../src/app.js";
import { ApiKeyStore, hashApiKey } from "../../src/auth/api-keys.js";
import { identifyCaller } from "../../src/auth/caller.js";
import { measure } from "../../src/auth/limits.js";
import { authorize, EVENT_SCOPES, scopeOf } from "../../src/auth/policy.js";
import { declaredScope } from "../../src/auth/scope.js";
import type { GraphContext } from "../../src/context.js";
import { toGlobalId } from "../../src/lib/global-id.js";
import { buildServedSchema } from "../../src/schema/build.js";
import { EMPTY_SITE_MAP } from "../../src/site-map.js";
import { publicDevices } from "../../src/simulators/akubela/index.js";
import type { Project } from "../../src/simulators/akubela/state.js";
import { cardKey } from "../../src/simulators/aliyun/seed.js";
import { DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID, startStack, TEST_API_KEYS, useStack, userListPages, type GraphResult } from "../helpers/stack.js";

/**
 * The request's surface (issue 12): the edge check reads the argument values that execute, every root field
 * declares its scope, refusals have their HTTP status, `_entities` is bounded and counted, and a key limited to
 * one project ("own", the demo's second project) reaches no other ("other", the demo project) by `projects` or by
 * following relations. Real HTTP; the simulators say what they received.
 */
const OWN = DEMO_SECOND_PROJECT_ID;
const OTHER = DEMO_PROJECT_ID;

// One Aliyun device of the demo site map is moved into the own project; the rest stay in the other one.
const demoMap = JSON.parse(readFileSync(DEMO_SITE_MAP_PATH, "utf8")) as { devices: { iotId: string; projectId: string }[] };
const ownIot = demoMap.devices[5].iotId;
const otherIot = demoMap.devices[0].iotId;
const siteMap = { ...demoMap, devices: demoMap.devices.map((d, i) => (i === 5 ? { iotId: d.iotId, name: "Harbour House gate", projectId: OWN } : d)) };

const stack = useStack({ siteMap });
let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildServedSchema();
});
beforeEach(() => {
  stack.sim.clearReceived();
  stack.aliyun.clearReceived();
});

const own = () => stack.sim.state.projects.get(OWN)!;
const other = () => stack.sim.state.projects.get(OTHER)!;
const firstAccount = (p: Project) => [...p.accounts.values()][0];
const privateDevice = (p: Project) => [...p.devices.values()].find((d) => d.scope === "residence" && d.relays.length > 0)!;

const as = (key: keyof typeof TEST_API_KEYS | null, query: string, variables?: Record<string, unknown>) =>
  stack.gql(query, variables, null, key ? { "x-api-key": TEST_API_KEYS[key].key } : {});
const limited = (query: string, variables?: Record<string, unknown>) => as("secondProject", query, variables);

/** Everything the simulators received, as text. */
const everythingReceived = () => [
  ...stack.sim.received().map((c) => `${c.command} ${JSON.stringify(c.param)}`),
  ...stack.aliyun.received().map((r) => `${r.path} ${JSON.stringify(r.params ?? {})}`),
];
const nothingReceived = () => expect(everythingReceived()).toEqual([]);
/** No command named the other project or any of `ids`. */
function nothingSentAbout(...ids: string[]) {
  for (const text of everythingReceived()) for (const id of [OTHER, ...ids]) expect(text, `a command named ${id}`).not.toContain(id);
}
const codes = (res: GraphResult) => (res.errors ?? []).map((e) => e.extensions?.code);
const otherProjectRefusal = `The API key "secondProject" may not touch project ${OTHER}`;

describe("the edge check reads the values that execute: variables coerced, defaults included", () => {
  it("a variable defaulted to the other project, sent with no variables at all: 403 FORBIDDEN, no command", async () => {
    const res = await limited(`query($p: ID! = "${OTHER}") { project(projectId: $p) { accounts { totalCount } devices { name } } }`);
    expect(res.status).toBe(403);
    expect(res.errors).toMatchObject([{ message: otherProjectRefusal, extensions: { code: "FORBIDDEN" } }]);
    expect(res.data ?? null).toBeNull();
    nothingReceived();
  });

  it("a defaulted variable omitted while others are sent (a nullable one in a non-null position): refused, nothing sent for the other project", async () => {
    const r = firstAccount(other()).residence_id;
    const res = await limited(
      `query($own: ID!, $p: ID = "${OTHER}", $r: ID!) { mine: project(projectId: $own) { projectId } theirs: residence(projectId: $p, residenceId: $r) { devices { mac rtspUrl } openDoorConfig { privateKey } } }`,
      { own: OWN, r },
    );
    expect(res.status).toBe(403);
    expect(res.errors).toMatchObject([{ message: otherProjectRefusal, extensions: { code: "FORBIDDEN" } }]);
    nothingReceived();
  });

  it("a mutation input defaulted to the other project's door: refused before any command, no remote open", async () => {
    const device = toGlobalId("AkuvoxDevice", OTHER, privateDevice(other()).mac, privateDevice(other()).residence_id!);
    const res = await limited(`mutation($input: DoorOpenInput! = { device: "${device}" }) { doorOpen(input: $input) { outcome } }`, {});
    expect(res.status).toBe(403);
    expect(res.errors).toMatchObject([{ message: otherProjectRefusal, extensions: { code: "FORBIDDEN" } }]);
    expect(stack.sim.calls("trigger_akuvox_remote_open_door")).toEqual([]);
    nothingReceived();
  });

  it("a variable sent explicitly wins over its default: the other project sent over an own default is refused", async () => {
    const res = await limited(`query($p: ID! = "${OWN}") { project(projectId: $p) { accounts { totalCount } } }`, { p: OTHER });
    expect(res.status).toBe(403);
    expect(res.errors?.[0].message).toBe(otherProjectRefusal);
    nothingReceived();
  });

  it("a variable defaulted to the own project is answered, from the own user list only", async () => {
    const res = await limited(`query($p: ID! = "${OWN}") { project(projectId: $p) { accounts { totalCount } } }`);
    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
    expect(res.data.project.accounts.totalCount).toBe(own().accounts.size);
    expect(everythingReceived()).toEqual(userListPages(stack.sim, OWN));
  });

  it("variables that cannot be coerced are answered as bad input, still before any command", async () => {
    const res = await limited(`query($p: ID!) { project(projectId: $p) { projectId } }`, { p: { not: "an id" } });
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    nothingReceived();
  });
});

describe("scopes declared on the fields themselves", () => {
  const roots = () =>
    (["query", "mutation", "subscription"] as const).flatMap((operation) => {
      const type = operation === "query" ? schema.getQueryType() : operation === "mutation" ? schema.getMutationType() : schema.getSubscriptionType();
      return Object.values(type?.getFields() ?? {}).map((field) => ({ operation, field }));
    });

  it("every Query, Mutation and Subscription root field of the served schema declares a scope", () => {
    const all = roots();
    expect(all.length).toBeGreaterThanOrEqual(45);
    expect(all.filter(({ field }) => !declaredScope(field)).map(({ operation, field }) => `${operation} ${field.name}`)).toEqual([]);
  });

  it("door mutations need door:open, devicePermissionCheck read, other mutations write, reads read; federation's fields read", () => {
    const of = (operation: "query" | "mutation" | "subscription", name: string) => scopeOf(schema, operation, name);
    const mutations = Object.keys(schema.getMutationType()!.getFields());
    expect(mutations.filter((m) => of("mutation", m) === "door:open").sort()).toEqual(["doorOpen", "keepOpenSet"]);
    expect(mutations.filter((m) => of("mutation", m) === "read")).toEqual(["devicePermissionCheck"]);
    expect(mutations.filter((m) => !["doorOpen", "keepOpenSet", "devicePermissionCheck"].includes(m)).every((m) => of("mutation", m) === "write")).toBe(true);
    expect(Object.keys(schema.getQueryType()!.getFields()).filter((q) => of("query", q) !== "read")).toEqual([]);
    expect([of("query", "_entities"), of("query", "_service")]).toEqual(["read", "read"]);
    expect([of("query", "accessEvents"), of("subscription", "accessEvents")]).toEqual([EVENT_SCOPES.accessEvents, EVENT_SCOPES.accessEvents]);
  });

  it("a root field that declares no scope is refused (403, naming the field) to every caller; a declared one beside it is not", async () => {
    const bare = buildSchema(`type Query { declared: String undeclared: String } type Mutation { openTheGate: String }`);
    Object.assign(bare.getQueryType()!.getFields().declared, { extensions: { scope: "read" }, resolve: () => "ok" });
    const server = new ApolloServer<GraphContext>({ schema: bare, plugins: [authorize(EMPTY_SITE_MAP)] });
    await server.start();
    try {
      const keys = ApiKeyStore.parse({ keys: [{ name: "all", sha256: hashApiKey("k"), scopes: ["read", "write", "door:open"], projects: ["*"] }] });
      const callers = {
        admin: identifyCaller({ "x-api-key": "k" }, { apiKeys: keys, acceptBearer: true }),
        bearer: identifyCaller({ authorization: "Bearer some-vendor-token" }, { apiKeys: keys, acceptBearer: true }),
      };
      for (const [who, caller] of Object.entries(callers)) {
        const run = (query: string) => server.executeOperation({ query }, { contextValue: { caller } as GraphContext });
        for (const [query, field] of [
          ["{ declared undeclared }", "undeclared"],
          ["mutation { openTheGate }", "openTheGate"],
        ]) {
          const res = await run(query);
          expect(res.http.status, `${who} ${field}`).toBe(403);
          const body = res.body.kind === "single" ? res.body.singleResult : undefined;
          expect(body?.errors, `${who} ${field}`).toMatchObject([{ message: `${field} declares no scope: it is refused until it does`, extensions: { code: "FORBIDDEN" } }]);
        }
        const ok = await run("{ declared }");
        expect(ok.body.kind === "single" && ok.body.singleResult.data).toEqual({ declared: "ok" });
      }
    } finally {
      await server.stop();
    }
  });
});

describe("HTTP status: a refusal of the whole operation is 401 or 403, one in part is 200, never 500", () => {
  const PROJECT = `query($p: ID!) { project(projectId: $p) { accounts { totalCount } } }`;

  it("no credential: 401 UNAUTHENTICATED", async () => {
    const res = await as(null, PROJECT, { p: OWN });
    expect([res.status, codes(res)]).toEqual([401, ["UNAUTHENTICATED"]]);
    nothingReceived();
  });

  it("a wrong API key: 401 UNAUTHENTICATED", async () => {
    const res = await stack.gql(PROJECT, { p: OWN }, null, { "x-api-key": "not-a-key-at-all" });
    expect([res.status, codes(res)]).toEqual([401, ["UNAUTHENTICATED"]]);
    nothingReceived();
  });

  it("a missing scope: 403 FORBIDDEN (reader opening a door, opener reading)", async () => {
    const device = toGlobalId("AkuvoxDevice", OWN, privateDevice(own()).mac, privateDevice(own()).residence_id!);
    const open = await as("reader", `mutation($input: DoorOpenInput!) { doorOpen(input: $input) { outcome } }`, { input: { device } });
    expect([open.status, codes(open)]).toEqual([403, ["FORBIDDEN"]]);
    expect(open.errors?.[0].message).toBe(`The API key "reader" lacks the "door:open" scope needed by doorOpen`);
    const read = await as("opener", PROJECT, { p: OWN });
    expect([read.status, codes(read)]).toEqual([403, ["FORBIDDEN"]]);
    nothingReceived();
  });

  it("another project: 403 FORBIDDEN (it was a 500)", async () => {
    const res = await limited(PROJECT, { p: OTHER });
    expect([res.status, codes(res)]).toEqual([403, ["FORBIDDEN"]]);
    expect(res.errors?.[0].message).toBe(otherProjectRefusal);
    nothingReceived();
  });

  it("refused as a whole by the data layer (a forged global ID, the operation's only field): 403", async () => {
    const r = firstAccount(other()).residence_id;
    const res = await limited(`query($id: ID!) { node(id: $id) { ... on Residence { openDoorConfig { privateKey } } } }`, { id: toGlobalId("Residence", OWN, r) });
    expect([res.status, codes(res)]).toEqual([403, ["FORBIDDEN"]]);
    expect(res.data).toEqual({ node: null });
    nothingSentAbout(r);
  });

  it("refused in part: 200, the own data answered, null and FORBIDDEN at the refused path", async () => {
    const r = firstAccount(other()).residence_id;
    const res = await limited(`query($p: ID!, $id: ID!) { mine: project(projectId: $p) { accounts { totalCount } } forged: node(id: $id) { id } }`, {
      p: OWN,
      id: toGlobalId("Residence", OWN, r),
    });
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ mine: { accounts: { totalCount: own().accounts.size } }, forged: null });
    expect(res.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[["forged"], "FORBIDDEN"]]);
    nothingSentAbout(r);
  });
});

describe("_entities: at most 100 representations, each counted in the query cost", () => {
  const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on AkuvoxDevice { name mac } } }`;
  const representations = (n: number) => {
    const devices = publicDevices(other());
    return Array.from({ length: n }, (_, i) => ({ __typename: "AkuvoxDevice", id: toGlobalId("AkuvoxDevice", OTHER, devices[i % devices.length].mac) }));
  };

  it("101 representations: refused naming representations, before any vendor call", async () => {
    const res = await stack.gql(ENTITIES, { r: representations(101) });
    expect(res.errors).toMatchObject([{ message: "representations takes at most 100 references (got 101)", extensions: { code: "BAD_USER_INPUT", field: "representations" } }]);
    expect(res.status).not.toBe(500);
    nothingReceived();
  });

  it("100 representations are answered, from one device list", async () => {
    const res = await stack.gql(ENTITIES, { r: representations(100) });
    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
    expect(res.data._entities).toHaveLength(100);
    expect(res.data._entities[0]).toEqual({ name: publicDevices(other())[0].device_name, mac: publicDevices(other())[0].mac });
    expect(stack.sim.received().map((c) => c.command)).toEqual(["get_visitor_temp_key_device_list"]);
  });

  it("the cost counts each representation (and each ID of nodes), not the default list size", () => {
    const cost = (query: string, variables: Record<string, unknown>) => {
      const document = parse(query);
      return measure(schema, document, document.definitions[0] as OperationDefinitionNode, variables, 10).cost;
    };
    // Each of the n representations costs 1 plus its two fields.
    expect(cost(ENTITIES, { r: representations(100) })).toBe(300);
    expect(cost(ENTITIES, { r: representations(5000) })).toBe(15_000);
    expect(cost(`{ _entities(representations: [{ __typename: "Project", projectId: "p" }, { __typename: "Project", projectId: "q" }]) { __typename } }`, {})).toBe(2);
    expect(cost(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: ["a", "b", "c"] })).toBe(6);
  });

  it("over the configured cost, representations are refused as too complex before any vendor call", async () => {
    const small = await startStack({ shareSimulatorsWith: stack, env: { QUERY_MAX_COST: "150" } });
    try {
      const res = await small.gql(ENTITIES, { r: representations(60) });
      expect(res.status).toBe(400);
      expect(res.errors?.[0]).toMatchObject({ extensions: { code: "QUERY_TOO_COMPLEX" } });
      expect(res.errors?.[0].message).toMatch(/^The query's estimated cost is 180; at most 150 is allowed/);
      nothingReceived();
    } finally {
      await small.close();
    }
  });
});

describe("a key limited to one project reaches nothing else: projects, and following relations out of the project", () => {
  it("projects lists only the own project, and its nested accounts come from the own user list alone", async () => {
    const res = await limited(`{ projects { projectId accounts(first: 1) { totalCount } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.projects).toEqual([{ projectId: OWN, accounts: { totalCount: own().accounts.size } }]);
    expect(everythingReceived()).toEqual(userListPages(stack.sim, OWN));
  });

  it("_entities naming another project (a Project, an Account, an Aliyun device): the edge refuses the whole operation, 403, nothing sent", async () => {
    const theirs = firstAccount(other());
    const res = await limited(
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on Project { projectId accounts { totalCount } } ... on Account { accountId } ... on AliyunAccessControlDevice { iotId name } } }`,
      {
        r: [
          { __typename: "Project", projectId: OWN },
          { __typename: "Project", projectId: OTHER },
          { __typename: "Account", id: toGlobalId("Account", OTHER, theirs.residence_id, theirs.account_id) },
          { __typename: "AliyunAccessControlDevice", iotId: otherIot },
        ],
      },
    );
    expect([res.status, codes(res)]).toEqual([403, ["FORBIDDEN"]]);
    nothingReceived();
  });

  it("_entities with forged IDs (own project part, another's objects): null and FORBIDDEN at each index, the own one answered, 200", async () => {
    const theirs = firstAccount(other());
    const mine = firstAccount(own());
    const res = await limited(
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on Residence { openDoorConfig { privateKey } } ... on Account { accountId } } }`,
      {
        r: [
          { __typename: "Account", id: toGlobalId("Account", OWN, theirs.residence_id, theirs.account_id) },
          { __typename: "Residence", id: toGlobalId("Residence", OWN, theirs.residence_id) },
          { __typename: "Account", id: toGlobalId("Account", OWN, mine.residence_id, mine.account_id) },
        ],
      },
    );
    expect(res.status).toBe(200);
    expect(res.data._entities).toEqual([null, null, { accountId: mine.account_id }]);
    expect(res.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([
      [["_entities", 0], "FORBIDDEN"],
      [["_entities", 1], "FORBIDDEN"],
    ]);
    nothingSentAbout(theirs.account_id, theirs.residence_id);
  });

  it("a card permission's device → project → accounts: the other project's device is never reached, nor its people", async () => {
    const mine = firstAccount(own());
    stack.aliyun.state.persons.set(mine.account_id, { identityId: mine.account_id, name: "Own Person", extInfo: null });
    stack.aliyun.state.cards.set(cardKey(mine.account_id, ownIot, "C-own"), { identityId: mine.account_id, iotId: ownIot, cardId: "C-own", expiryTime: "2030-12-31 23:59:59" });
    stack.aliyun.state.cards.set(cardKey(mine.account_id, otherIot, "C-other"), { identityId: mine.account_id, iotId: otherIot, cardId: "C-other", expiryTime: "2030-12-31 23:59:59" });
    const res = await limited(
      `query($i: ID!) { aliyunDevice(iotId: $i) { cardPermissions(first: 10) { nodes { cardId person { cardPermissions { cardId device { iotId project { projectId accounts(first: 50) { nodes { accountId email } } } } } } } } } }`,
      { i: ownIot },
    );
    expect(res.errors).toBeUndefined();
    const nodes = res.data.aliyunDevice.cardPermissions.nodes;
    expect(nodes.map((n: any) => n.cardId)).toEqual(["C-own"]);
    const reached = nodes[0].person.cardPermissions;
    expect(reached.map((c: any) => [c.cardId, c.device.iotId, c.device.project.projectId])).toEqual([["C-own", ownIot, OWN]]);
    const emails = new Set([...other().accounts.values()].map((a) => a.email).filter(Boolean));
    expect(reached[0].device.project.accounts.nodes.filter((a: any) => emails.has(a.email))).toEqual([]);
    nothingSentAbout(otherIot);
  });

  it("an own project's residence(residenceId:) naming another's residence: each field that reads it is null with FORBIDDEN at its path; 200", async () => {
    const r = firstAccount(other()).residence_id;
    const res = await limited(
      `query($p: ID!, $r: ID!) { project(projectId: $p) { projectId residence(residenceId: $r) { residenceId devices { mac rtspUrl } openDoorConfig { privateKey } accounts { email } } } }`,
      { p: OWN, r },
    );
    expect(res.status).toBe(200);
    // The own user list has no account there (an empty list, not another project's people); what reads the residence is refused.
    expect(res.data.project).toEqual({ projectId: OWN, residence: { residenceId: r, devices: null, openDoorConfig: { privateKey: null }, accounts: [] } });
    const forbidden = `residence ${r} is not in project ${OWN} (the project's user list has no account there)`;
    expect(res.errors?.map((e) => [e.path?.join("."), e.extensions?.code, e.message]).sort()).toEqual(
      ["devices", "openDoorConfig.privateKey"].map((f) => [`project.residence.${f}`, "FORBIDDEN", forbidden]),
    );
    expect(everythingReceived()).toEqual(userListPages(stack.sim, OWN));
  });
});
