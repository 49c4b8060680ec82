import { Arg, Args, Ctx, FieldResolver, ID, Query, Resolver, Root } from "type-graphql";
import { GLOBAL_ID_DESCRIPTION } from "../common/node.type.js";
import type { GraphContext } from "../../context.js";
import type { VisitorTempKeyDetailRecord, VisitorTempKeyRecord } from "../../datasources/akubela/model.js";
import { toGlobalId } from "../../lib/global-id.js";
import { buildConnection, PageArgs } from "../common/connection.js";
import { buildingRef, requireVendorId, type ResidenceRef } from "../common/refs.js";
import { AkuvoxDevice } from "../device/device.type.js";
import { Building } from "../project/building.type.js";
import { Project } from "../project/project.type.js";
import { AccessEventConnection } from "../residence/history.type.js";
import { Residence } from "../residence/residence.type.js";
import { VisitorTempKey } from "./visitor-temp-key.type.js";
import { RequiresScope } from "../../auth/scope.js";

/** A list row lacks the residence and devices: `get_visitor_temp_key_info` has them. */
async function detail(key: VisitorTempKeyRecord, ctx: GraphContext): Promise<VisitorTempKeyDetailRecord | null> {
  if ("devices" in key) return key as VisitorTempKeyDetailRecord;
  return ctx.akubela.visitorTempKey(key.projectId, key.visitorTempKeyId);
}

@Resolver(() => VisitorTempKey)
export class VisitorTempKeyResolver {
  @RequiresScope("read")
  @Query(() => VisitorTempKey, { nullable: true, description: "One visitor key by its vendor ids (`get_visitor_temp_key_info`); null when unknown." })
  visitorTempKey(
    @Arg("projectId", () => ID, { description: "The vendor's project id." }) projectId: string,
    @Arg("visitorTempKeyId", () => ID, { description: "The vendor's visitor key id." }) visitorTempKeyId: string,
    @Ctx() ctx: GraphContext,
  ) {
    return ctx.akubela.visitorTempKey(requireVendorId(projectId, "projectId"), requireVendorId(visitorTempKeyId, "visitorTempKeyId"));
  }

  @FieldResolver(() => ID, { description: GLOBAL_ID_DESCRIPTION })
  id(@Root() k: VisitorTempKeyRecord): string {
    return toGlobalId("VisitorTempKey", k.projectId, k.visitorTempKeyId);
  }

  @FieldResolver(() => Project, { description: "The project the key belongs to." })
  project(@Root() k: VisitorTempKeyRecord, @Ctx() ctx: GraphContext) {
    return ctx.akubela.project(k.projectId);
  }

  @FieldResolver(() => Residence, { nullable: true, description: "The residence the visitor is coming to." })
  async residence(@Root() k: VisitorTempKeyRecord, @Ctx() ctx: GraphContext): Promise<ResidenceRef | null> {
    const d = await detail(k, ctx);
    if (!d?.residenceId) return null;
    return {
      __typename: "Residence",
      projectId: k.projectId,
      residenceId: d.residenceId,
      residenceNo: d.residenceNo,
      familyName: d.familyName,
      buildingId: d.buildingId,
      buildingName: d.buildingName,
    };
  }

  @FieldResolver(() => Building, { nullable: true, description: "The building of that residence." })
  async building(@Root() k: VisitorTempKeyRecord, @Ctx() ctx: GraphContext) {
    const d = await detail(k, ctx);
    return buildingRef(k.projectId, d?.buildingId ?? null, d?.buildingName ?? null);
  }

  @FieldResolver(() => [AkuvoxDevice], { nullable: true, description: "The devices the key opens, with the relays it may use." })
  async devices(@Root() k: VisitorTempKeyRecord, @Ctx() ctx: GraphContext) {
    return (await detail(k, ctx))?.devices ?? null;
  }

  @FieldResolver(() => AccessEventConnection, { nullable: true, description: "Uses of the key at the doors (`get_visitor_temp_key_history`), paged." })
  history(@Root() k: VisitorTempKeyRecord, @Args(() => PageArgs) page: PageArgs, @Ctx() ctx: GraphContext) {
    const list = ctx.akubela.visitorTempKeyHistory(k.projectId, k.visitorTempKeyId);
    return buildConnection(page, { slice: (o, c) => list.slice(o, c), total: async () => (await list.all()).length });
  }
}
