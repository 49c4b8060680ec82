import { readFile } from "node:fs/promises";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { composeServices } from "@apollo/composition";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse, type DocumentNode, type GraphQLSchema } from "graphql";
import { GraphQLClient } from "graphql-request";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { toGlobalId } from "../../src/lib/global-id.js";
import { printSubgraphSchema } from "../../src/schema/build.js";
import { publicDevices } from "../../src/simulators/akubela/index.js";
import { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, startStack, TEST_API_KEYS, userListPages, type Stack } from "../helpers/stack.js";

/** A small subgraph of another team: it extends Device (an entity interface) and Account with fields of its own. */
const MAINTENANCE_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@interfaceObject"])
  type Device @key(fields: "id") @interfaceObject {
    id: ID!
    maintenanceTicket: String!
  }
  type Account @key(fields: "id") {
    id: ID!
    loyaltyPoints: Int!
  }
  type Query {
    maintenanceDue: [Device!]!
  }
`;

let stack: Stack;
let maintenance: { server: ApolloServer; url: string };
let gateway: { server: ApolloServer; url: string };
let dueIds: string[] = [];

beforeAll(async () => {
  stack = await startStack();
  const project = stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
  const devices = publicDevices(project).map((d) => toGlobalId("AkuvoxDevice", DEMO_PROJECT_ID, d.mac));
  const aliyun = [...stack.aliyun.state.devices.keys()].map((iotId) => toGlobalId("AliyunAccessControlDevice", iotId));
  // 100 references to the project's devices (the most one _entities call takes, issue 12), as a gateway batching a big list sends them.
  dueIds = Array.from({ length: 100 }, (_, i) => [...devices, ...aliyun][i % (devices.length + aliyun.length)]);

  const server = new ApolloServer({
    schema: buildSubgraphSchema({
      typeDefs: parse(MAINTENANCE_SDL),
      resolvers: {
        Query: { maintenanceDue: () => dueIds.map((id) => ({ id })) },
        Device: { __resolveReference: (ref: { id: string }) => ref, maintenanceTicket: (d: { id: string }) => `T-${d.id.slice(-6)}` },
        Account: { __resolveReference: (ref: { id: string }) => ref, loyaltyPoints: (a: { id: string }) => a.id.length },
      } as never,
    }),
  });
  maintenance = { server, url: (await startStandaloneServer(server, { listen: { port: 0 } })).url };

  // Compose from what our subgraph serves (`_service { sdl }`), over real HTTP.
  const sdl = (await new GraphQLClient(stack.url, { headers: { authorization: `Bearer ${DEMO_AKUBELA_TOKEN}` } }).request<{ _service: { sdl: string } }>(`{ _service { sdl } }`))._service.sdl;
  const composed = composeServices([
    { name: "access", typeDefs: parse(sdl), url: stack.url },
    { name: "maintenance", typeDefs: parse(MAINTENANCE_SDL), url: maintenance.url },
  ]);
  if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join("\n"));

  const gw = new ApolloServer({
    gateway: new ApolloGateway({
      supergraphSdl: composed.supergraphSdl,
      buildService: ({ url }) =>
        new RemoteGraphQLDataSource({
          url,
          willSendRequest({ request, context }) {
            const { authorization, apiKey } = context as { authorization?: string; apiKey?: string };
            if (authorization) request.http?.headers.set("authorization", authorization);
            if (apiKey) request.http?.headers.set("x-api-key", apiKey);
          },
        }),
    }),
  });
  gateway = {
    server: gw,
    url: (await startStandaloneServer(gw, { listen: { port: 0 }, context: async ({ req }) => ({ authorization: req.headers.authorization, apiKey: req.headers["x-api-key"] }) })).url,
  };
}, 60_000);

beforeEach(() => stack.reset());
afterAll(async () => {
  await gateway?.server.stop();
  await maintenance?.server.stop();
  await stack?.close();
});

describe("Apollo Federation 2", () => {
  it("serves _service { sdl } equal to the committed schema/subgraph.graphql, with @key on the entities", async () => {
    const committed = await readFile(new URL("../../schema/subgraph.graphql", import.meta.url), "utf8");
    expect(committed).toBe(await printSubgraphSchema());
    const res = await stack.gql(`{ _service { sdl } }`);
    expect(committed.slice(committed.indexOf("\n\n") + 2)).toBe(`${res.data._service.sdl}\n`);
    for (const entity of ["Project", "Building", "Residence", "Account", "AkuvoxDevice", "AliyunAccessControlDevice", "VisitorTempKey"]) {
      expect(res.data._service.sdl).toMatch(new RegExp(`type ${entity} implements [^{]*@key\\(fields: "id"\\)`));
    }
    expect(res.data._service.sdl).toMatch(/interface Device implements Node\s+@key\(fields: "id"\)/);
  });

  it("runs a query across both subgraphs through a real gateway; 100 Device references cost what a direct query costs", async () => {
    // The gateway forwards the caller's credential (here an API key: the Aliyun fields need one) to each subgraph.
    const client = new GraphQLClient(gateway.url, { headers: { "x-api-key": TEST_API_KEYS.admin.key } });
    stack.sim.clearReceived();
    const data = await client.request<any>(
      `query($p: ID!) {
         maintenanceDue { id maintenanceTicket name vendor ... on AkuvoxDevice { mac } ... on AliyunAccessControlDevice { iotId keepOpen } }
         project(projectId: $p) { accounts(first: 3) { nodes { accountId displayName loyaltyPoints } } }
       }`,
      { p: DEMO_PROJECT_ID },
    );
    expect(data.maintenanceDue).toHaveLength(100);
    const project = stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
    const first = publicDevices(project)[0];
    expect(data.maintenanceDue[0]).toEqual({ id: dueIds[0], maintenanceTicket: `T-${dueIds[0].slice(-6)}`, name: first.device_name, vendor: "AKUVOX", mac: first.mac });
    const aliyunDevice = data.maintenanceDue.find((d: any) => d.vendor === "ALIYUN");
    expect(aliyunDevice).toMatchObject({ name: expect.any(String), keepOpen: expect.any(Boolean) });
    expect(data.project.accounts.nodes.map((n: any) => n.loyaltyPoints)).toEqual(data.project.accounts.nodes.map((n: any) => toGlobalId("Account", DEMO_PROJECT_ID, [...project.accounts.values()].find((a) => a.account_id === n.accountId)!.residence_id, n.accountId).length));

    const viaGateway = stack.sim.received().map((c) => `${c.command} ${JSON.stringify(c.param)}`);
    const viaGatewayAliyun = stack.aliyun.calls().length;
    // The same objects asked for directly, in one query.
    stack.sim.clearReceived();
    stack.aliyun.clearReceived();
    const direct = await stack.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Device { name } ... on AliyunAccessControlDevice { keepOpen } } }`, { ids: [...new Set(dueIds)].slice(0, 100) });
    expect(direct.errors).toBeUndefined();
    const directCalls = stack.sim.received().map((c) => `${c.command} ${JSON.stringify(c.param)}`);
    expect(viaGateway.filter((c) => c.startsWith("get_visitor_temp_key_device_list"))).toEqual(directCalls.filter((c) => c.startsWith("get_visitor_temp_key_device_list")));
    expect(viaGateway.filter((c) => c.startsWith("get_visitor_temp_key_device_list"))).toHaveLength(1);
    expect(viaGatewayAliyun).toBe(stack.aliyun.calls().length);
  });

  it("resolves entity references through _entities with the request's loaders, and null for an unknown id", async () => {
    const project = stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
    const account = [...project.accounts.values()][0];
    const accountId = toGlobalId("Account", DEMO_PROJECT_ID, account.residence_id, account.account_id);
    stack.sim.clearReceived();
    const res = await stack.gql(
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on Account { accountId firstName } ... on Project { projectId } } }`,
      {
        r: [
          { __typename: "Account", id: accountId },
          { __typename: "Project", projectId: DEMO_PROJECT_ID },
          { __typename: "Account", id: toGlobalId("Project", DEMO_PROJECT_ID) },
        ],
      },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data._entities).toEqual([{ accountId: account.account_id, firstName: account.first_name }, { projectId: DEMO_PROJECT_ID }, null]);
    // The project's user list proves the account is the project's before get_user_info names it.
    expect(stack.sim.received().map((c) => c.command)).toEqual([...userListPages(stack.sim, DEMO_PROJECT_ID).map(() => "get_user_list"), "get_user_info"]);
  });
});

describe("composition with another team's subgraph that defines its own PageInfo, UserError, Node and node(id:)", () => {
  let notes: { server: ApolloServer; url: string };
  let omitting: Stack;
  let notesGateway: { server: ApolloServer; url: string };
  const notesSdl = async () => (await import("../../deploy/site-notes-subgraph/subgraph.mjs")) as { typeDefs: DocumentNode; createSiteNotesSchema(): GraphQLSchema };
  const servedSdl = async (s: Stack) => (await s.gql<{ _service: { sdl: string } }>(`{ _service { sdl } }`)).data!._service.sdl;

  beforeAll(async () => {
    const { createSiteNotesSchema } = await notesSdl();
    const server = new ApolloServer({ schema: createSiteNotesSchema() });
    notes = { server, url: (await startStandaloneServer(server, { listen: { port: 0 } })).url };
    omitting = await startStack({ shareSimulatorsWith: stack, env: { FEDERATION_OMIT_NODE: "true" } });
  }, 60_000);

  afterAll(async () => {
    await notesGateway?.server.stop();
    await notes?.server.stop();
    await omitting?.close();
  });

  it("deploy/supergraph.graphql (compose.yaml's Apollo Router) is the composition of the code as it stands", async () => {
    const { printDeploySupergraph } = await import("../../scripts/supergraph.js");
    expect(await readFile(new URL("../../deploy/supergraph.graphql", import.meta.url), "utf8")).toBe(await printDeploySupergraph());
  });

  it("composes once node/nodes are left out (FEDERATION_OMIT_NODE=true); with them, the two node fields collide", async () => {
    const { typeDefs } = await notesSdl();
    const withNode = composeServices([
      { name: "access", typeDefs: parse(await servedSdl(stack)), url: stack.url },
      { name: "notes", typeDefs, url: notes.url },
    ]);
    expect(withNode.errors?.map((e) => e.message).join("\n")).toMatch(/Query\.node/);
    // PageInfo, UserError and the connection shapes are @shareable: they are not among the conflicts.
    expect(withNode.errors?.map((e) => e.message).join("\n")).not.toMatch(/PageInfo|UserError/);

    const sdl = await servedSdl(omitting);
    expect(sdl).not.toMatch(/^\s+nodes?\(/m);
    expect(sdl).toMatch(/type PageInfo\s+@shareable/);
    expect(sdl).toMatch(/type UserError\s+@shareable/);
    const composed = composeServices([
      { name: "access", typeDefs: parse(sdl), url: omitting.url },
      { name: "notes", typeDefs, url: notes.url },
    ]);
    expect(composed.errors).toBeUndefined();
  });

  it("a query through @apollo/gateway joins both: the other team's node(id:) and mutation, our project and devices", async () => {
    const { typeDefs } = await notesSdl();
    const composed = composeServices([
      { name: "access", typeDefs: parse(await servedSdl(omitting)), url: omitting.url },
      { name: "notes", typeDefs, url: notes.url },
    ]);
    const gw = new ApolloServer({
      gateway: new ApolloGateway({
        supergraphSdl: composed.supergraphSdl!,
        buildService: ({ url }) =>
          new RemoteGraphQLDataSource({
            url,
            willSendRequest({ request, context }) {
              const { apiKey } = context as { apiKey?: string };
              if (apiKey) request.http?.headers.set("x-api-key", apiKey);
            },
          }),
      }),
    });
    notesGateway = { server: gw, url: (await startStandaloneServer(gw, { listen: { port: 0 }, context: async ({ req }) => ({ apiKey: req.headers["x-api-key"] }) })).url };
    const client = new GraphQLClient(notesGateway.url, { headers: { "x-api-key": TEST_API_KEYS.admin.key } });

    const added = await client.request<any>(`mutation($p: ID!) { siteNoteAdd(projectId: $p, text: "Lift B out of order") { note { id } userErrors { code field message } } }`, { p: DEMO_PROJECT_ID });
    expect(added.siteNoteAdd.userErrors).toEqual([]);
    const refused = await client.request<any>(`mutation($p: ID!) { siteNoteAdd(projectId: $p, text: " ") { note { id } userErrors { code field } } }`, { p: DEMO_PROJECT_ID });
    expect(refused.siteNoteAdd).toEqual({ note: null, userErrors: [{ code: "REQUIRED", field: ["text"] }] });

    stack.sim.clearReceived();
    const data = await client.request<any>(
      `query($id: ID!, $p: ID!) {
         node(id: $id) { id ... on SiteNote { text project { projectId devices { name } } } }
         project(projectId: $p) { siteNotes { nodes { text } pageInfo { hasNextPage endCursor } } buildings { name } }
       }`,
      { id: added.siteNoteAdd.note.id, p: DEMO_PROJECT_ID },
    );
    const project = stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
    expect(data.node).toEqual({ id: added.siteNoteAdd.note.id, text: "Lift B out of order", project: { projectId: DEMO_PROJECT_ID, devices: expect.any(Array) } });
    expect(data.node.project.devices.map((d: { name: string }) => d.name)).toEqual(expect.arrayContaining([publicDevices(project)[0].device_name]));
    expect(data.project.siteNotes).toEqual({ nodes: [{ text: "Lift B out of order" }], pageInfo: { hasNextPage: false, endCursor: null } });
    expect(data.project.buildings.length).toBeGreaterThan(0);
    // Our part of the plan reached the vendor: the devices came from the simulator.
    expect(stack.sim.received().map((c) => c.command)).toContain("get_visitor_temp_key_device_list");
  });
});
