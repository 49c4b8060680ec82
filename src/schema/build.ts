import "reflect-metadata";
import { buildSubgraphSchema } from "@apollo/subgraph";
import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper/index.js";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import { graphql, lexicographicSortSchema, parse, printSchema, visit, type DocumentNode, type GraphQLSchema } from "graphql";
import { buildSchema, createResolversMap, getMetadataStorage } from "type-graphql";
import type { Scope } from "../auth/api-keys.js";
import { declaredScope } from "../auth/scope.js";
import type { GraphContext } from "../context.js";
import { BadUserInputError } from "../errors.js";
import { MAX_NODES, nodeFetcher } from "../resolvers/common/node.resolver.js";
import "../resolvers/common/enums.js";
import { AccessGroupResolver, AccountResolver, FaceResolver, FloorAccessResolver, PinCodeResolver, RfCardResolver } from "../resolvers/account/account.resolver.js";
import { AccountAliyunResolver, AliyunDeviceResolver, AliyunPersonResolver, AliyunQueryResolver, CardPermissionResolver } from "../resolvers/aliyun/aliyun.resolver.js";
import { AccountMutationResolver } from "../resolvers/account/account.mutation.js";
import { AliyunMutationResolver } from "../resolvers/aliyun/aliyun.mutation.js";
import { DeviceMutationResolver } from "../resolvers/device/device.mutation.js";
import { ResidenceMutationResolver } from "../resolvers/residence/residence.mutation.js";
import { VisitorTempKeyMutationResolver } from "../resolvers/visitor-key/visitor-temp-key.mutation.js";
import { AccessEventResolver } from "../resolvers/events/access-event.resolver.js";
import { WebhookEndpointResolver } from "../resolvers/events/webhook.resolver.js";
import { ReportResolver } from "../resolvers/report/report.resolver.js";
import { NodeResolver } from "../resolvers/common/node.resolver.js";
import { AkuvoxDeviceResolver, RelayResolver } from "../resolvers/device/device.resolver.js";
import { BuildingResolver, ProjectResolver } from "../resolvers/project/project.resolver.js";
import { OpenDoorConfigResolver, ResidenceResolver, ResidenceTempKeyResolver } from "../resolvers/residence/residence.resolver.js";
import { VisitorTempKeyResolver } from "../resolvers/visitor-key/visitor-temp-key.resolver.js";

export const RESOLVERS = [
  NodeResolver,
  ProjectResolver,
  BuildingResolver,
  ResidenceResolver,
  OpenDoorConfigResolver,
  ResidenceTempKeyResolver,
  AccountResolver,
  PinCodeResolver,
  RfCardResolver,
  FaceResolver,
  AccessGroupResolver,
  FloorAccessResolver,
  AkuvoxDeviceResolver,
  RelayResolver,
  VisitorTempKeyResolver,
  AliyunQueryResolver,
  AliyunDeviceResolver,
  AliyunPersonResolver,
  CardPermissionResolver,
  AccountAliyunResolver,
  VisitorTempKeyMutationResolver,
  ResidenceMutationResolver,
  AccountMutationResolver,
  AliyunMutationResolver,
  DeviceMutationResolver,
  ReportResolver,
  AccessEventResolver,
  WebhookEndpointResolver,
] as const;

let built: Promise<GraphQLSchema> | undefined;

/** The schema as type-graphql builds it from the resolver classes (the code is the schema's source). */
export function buildGraphSchema(): Promise<GraphQLSchema> {
  built ??= simpleFields().then(() => buildSchema({
    resolvers: [...RESOLVERS],
    validate: false,
    emitSchemaFile: false,
    // type-graphql asks for a PubSub once a Subscription exists; ours subscribe to the event log (src/events) instead.
    pubSub: {
      publish: () => {
        throw new Error("subscriptions read the access-event log; nothing publishes through type-graphql");
      },
      subscribe: () => {
        throw new Error("subscriptions read the access-event log; nothing subscribes through type-graphql");
      },
    },
  }).then((schema) => {
    const query = schema.getQueryType();
    if (query) {
      query.description =
        "Entry points of the access-control graph. Start from `projects`, `project(projectId:)` or `node(id:)`; every field makes only the vendor calls it needs.";
    }
    const mutation = schema.getMutationType();
    if (mutation) mutation.description = "Changes to keys, people, credentials and permissions, and door opening.";
    const subscription = schema.getSubscriptionType();
    if (subscription) subscription.description = "Live access events, over graphql-ws (WebSocket on /graphql) and graphql-sse (/graphql/stream).";
    return schema;
  }));
  return built;
}

/**
 * Plain data fields (no resolver method, no middleware of their own) resolve as graphql-js does by default, the
 * property of the same name: type-graphql otherwise wraps each in a resolver of its own, which a cached query paid
 * for on every field of every object (issue 16's profile). A field given a middleware keeps type-graphql's wrapper.
 */
async function simpleFields(): Promise<void> {
  const storage = getMetadataStorage();
  for (const field of storage.fields) {
    const hasMiddleware = storage.middlewares.some((m) => m.target === field.target && m.fieldName === field.name);
    if (field.simple === undefined && !hasMiddleware && field.schemaName === field.name) field.simple = true;
  }
}

/** The Federation 2 link: which spec version, and the directives this subgraph uses. */
export const FEDERATION_LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])';

/** Entities other subgraphs can join on, with their keys (set on the classes with `@Directive('@key(...)')`). */
export const ENTITIES = ["Project", "Building", "Residence", "Account", "AkuvoxDevice", "AliyunAccessControlDevice", "AliyunPerson", "VisitorTempKey", "Device"] as const;

/** The subgraph SDL (`_service { sdl }`): the schema with its `@key`s and the federation link. */
export async function subgraphSdl(): Promise<string> {
  return `${FEDERATION_LINK}\n\n${printSchemaWithDirectives(lexicographicSortSchema(await buildGraphSchema()))}\n`;
}

type Reference = { __typename: string; id?: string; projectId?: string; iotId?: string };

/**
 * Resolves an entity reference from the gateway through the request's loaders, exactly as `node(id:)` does: a
 * gateway asking for 500 Devices costs the same vendor calls as one query selecting them.
 */
async function resolveReference(ref: Reference, ctx: GraphContext): Promise<object | null> {
  if (ref.id) {
    const found = (await nodeFetcher(ref.id, "representations.id")(ctx)) as { __typename?: string } | null;
    // An id of another type is no reference to this one (a Device reference accepts either device type).
    const devices = ["AkuvoxDevice", "AliyunAccessControlDevice"];
    const matches = found && (found.__typename === ref.__typename || (ref.__typename === "Device" && devices.includes(found.__typename ?? "")));
    return matches ? found : null;
  }
  if (ref.__typename === "Project" && ref.projectId) return ctx.akubela.project(ref.projectId);
  if (ref.__typename === "AliyunAccessControlDevice" && ref.iotId) return ctx.aliyun.device(ref.iotId);
  return null;
}

const subgraphs = new Map<boolean, Promise<GraphQLSchema>>();

/**
 * `_entities` takes at most {@link MAX_NODES} representations, as `nodes` takes at most as many IDs: refused,
 * naming `representations`, before any is resolved (the query cost counts each one too: src/auth/limits.ts).
 */
function limitRepresentations(served: GraphQLSchema): void {
  const entities = served.getQueryType()?.getFields()._entities;
  const resolve = entities?.resolve;
  if (!entities || !resolve) return;
  entities.resolve = (source, args: { representations?: unknown[] }, context, info) => {
    const count = args.representations?.length ?? 0;
    if (count > MAX_NODES) throw new BadUserInputError(`representations takes at most ${MAX_NODES} references (got ${count})`, "representations");
    return resolve(source, args, context, info);
  };
}

/** Federation's own root fields: `_entities` reads objects as `node` does, `_service` reads the SDL. */
const FEDERATION_SCOPES: Record<string, Scope> = { _entities: "read", _service: "read" };

/**
 * The served schema is rebuilt from SDL, which carries no extensions: the scope each root field declares on its
 * resolver (`@RequiresScope`, src/auth/scope.ts) is copied onto the served field, where the policy reads it.
 */
function withDeclaredScopes(served: GraphQLSchema, source: GraphQLSchema): GraphQLSchema {
  const pairs = [
    [served.getQueryType(), source.getQueryType()],
    [served.getMutationType(), source.getMutationType()],
    [served.getSubscriptionType(), source.getSubscriptionType()],
  ] as const;
  for (const [to, from] of pairs) {
    if (!to) continue;
    const declared = from?.getFields() ?? {};
    for (const field of Object.values(to.getFields())) {
      const scope = declaredScope(declared[field.name]) ?? FEDERATION_SCOPES[field.name];
      if (scope) (field as { extensions: Record<string, unknown> }).extensions = { ...field.extensions, scope };
    }
  }
  return served;
}

/** `Query.node` / `Query.nodes` left out of a document (a supergraph usually has one owner of `node`). */
function withoutNodeFields(document: DocumentNode): DocumentNode {
  return visit(document, {
    ObjectTypeDefinition: (type) =>
      type.name.value === "Query" ? { ...type, fields: type.fields?.filter((f) => f.name.value !== "node" && f.name.value !== "nodes") } : undefined,
  });
}

/**
 * The executable schema served: an Apollo Federation 2 subgraph (`_service`, `_entities`) built from the
 * type-graphql schema's SDL with its directives and resolvers, plus `__resolveReference` for every entity.
 * `omitNode` (`FEDERATION_OMIT_NODE=true`) leaves `node`/`nodes` out, for a supergraph where another subgraph owns them.
 */
export function buildServedSchema(options: { omitNode?: boolean } = {}): Promise<GraphQLSchema> {
  const omitNode = options.omitNode ?? false;
  let subgraph = subgraphs.get(omitNode);
  if (!subgraph) {
    subgraph = (async () => {
      const schema = await buildGraphSchema();
      const resolvers = createResolversMap(schema) as Record<string, Record<string, unknown>>;
      for (const entity of ENTITIES) resolvers[entity] = { ...resolvers[entity], __resolveReference: resolveReference };
      if (omitNode) for (const field of ["node", "nodes"]) delete resolvers.Query?.[field];
      const typeDefs = parse(await subgraphSdl());
      const served = buildSubgraphSchema({ typeDefs: omitNode ? withoutNodeFields(typeDefs) : typeDefs, resolvers: resolvers as GraphQLResolverMap<unknown> });
      limitRepresentations(served);
      return withDeclaredScopes(served, schema);
    })();
    subgraphs.set(omitNode, subgraph);
  }
  return subgraph;
}

export const SCHEMA_HEADER =
  "# Emitted from the code by `npm run schema:emit`; do not edit. A test fails when this file differs from the code.\n\n";

export const SUBGRAPH_HEADER =
  "# The Federation 2 subgraph SDL (`_service { sdl }`), emitted by `npm run schema:emit`; publish it with `rover subgraph publish`.\n\n";

/** The SDL committed as `schema/subgraph.graphql`: exactly what `_service { sdl }` answers. */
export async function printSubgraphSchema(): Promise<string> {
  const result = await graphql({ schema: await buildServedSchema(), source: "{ _service { sdl } }" });
  const sdl = (result.data as { _service?: { sdl?: string } } | null)?._service?.sdl;
  if (!sdl) throw new Error(`_service { sdl } failed: ${JSON.stringify(result.errors)}`);
  return SUBGRAPH_HEADER + sdl + "\n";
}

/** The SDL committed as `schema/schema.graphql`: sorted, so a diff shows what changed and nothing else. */
export async function printGraphSchema(): Promise<string> {
  return SCHEMA_HEADER + printSchema(lexicographicSortSchema(await buildGraphSchema())) + "\n";
}
