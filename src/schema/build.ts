import "reflect-metadata";
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import "../resolvers/common/enums.js";
import { AccessGroupResolver, AccountResolver, FaceResolver, FloorAccessResolver, PinCodeResolver, RfCardResolver } from "../resolvers/account/account.resolver.js";
import { AccountAliyunResolver, AliyunDeviceResolver, AliyunPersonResolver, AliyunQueryResolver, CardPermissionResolver } from "../resolvers/aliyun/aliyun.resolver.js";
import { AccountMutationResolver } from "../resolvers/account/account.mutation.js";
import { AliyunMutationResolver } from "../resolvers/aliyun/aliyun.mutation.js";
import { DeviceMutationResolver } from "../resolvers/device/device.mutation.js";
import { ResidenceMutationResolver } from "../resolvers/residence/residence.mutation.js";
import { VisitorTempKeyMutationResolver } from "../resolvers/visitor-key/visitor-temp-key.mutation.js";
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
] as const;

let built: Promise<GraphQLSchema> | undefined;

/** The executable schema, built once per process from the resolver classes (the code is the schema's source). */
export function buildGraphSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({
    resolvers: [...RESOLVERS],
    validate: false,
    emitSchemaFile: false,
  }).then((schema) => {
    const query = schema.getQueryType();
    if (query) {
      query.description =
        "Entry points of the access-control graph. Start from `projects`, `project(projectId:)` or `node(id:)`; every field makes only the vendor calls it needs.";
    }
    const mutation = schema.getMutationType();
    if (mutation) mutation.description = "Changes to keys, people, credentials and permissions, and door opening.";
    return schema;
  });
  return built;
}

export const SCHEMA_HEADER =
  "# Emitted from the code by `npm run schema:emit`; do not edit. A test fails when this file differs from the code.\n\n";

/** The SDL committed as `schema/schema.graphql`: sorted, so a diff shows what changed and nothing else. */
export async function printGraphSchema(): Promise<string> {
  return SCHEMA_HEADER + printSchema(lexicographicSortSchema(await buildGraphSchema())) + "\n";
}
