import type { GraphQLResolveInfo } from "graphql";
import { Arg, Args, Ctx, FieldResolver, ID, Info, Query, Resolver, Root } from "type-graphql";
import { GLOBAL_ID_DESCRIPTION } from "../common/node.type.js";
import type { AccountRecord, AkuvoxDeviceRecord, BuildingRecord, ProjectRecord } from "../../datasources/akubela/model.js";
import type { AliyunDeviceRecord } from "../../datasources/aliyun/model.js";
import type { GraphContext } from "../../context.js";
import { groupedBy } from "../../lib/derived.js";
import { toGlobalId } from "../../lib/global-id.js";
import { AccountRole } from "../common/enums.js";
import { buildConnection, connectionOfList, PageArgs } from "../common/connection.js";
import { requireVendorId, residenceRef, type BuildingRef, type ResidenceRef } from "../common/refs.js";
import { Account, AccountConnection } from "../account/account.type.js";
import { Device } from "../device/device.type.js";
import { Residence } from "../residence/residence.type.js";
import { VisitorTempKey, VisitorTempKeyConnection } from "../visitor-key/visitor-temp-key.type.js";
import { selects } from "../common/lookahead.js";
import { Building } from "./building.type.js";
import { Project } from "./project.type.js";
import { RequiresScope } from "../../auth/scope.js";

@Resolver(() => Project)
export class ProjectResolver {
  @RequiresScope("read")
  @Query(() => Project, {
    description:
      "A project by its vendor id; FORBIDDEN for a project the caller may not see. Costs no vendor call by itself; each field fetches what it needs.",
  })
  project(@Arg("projectId", () => ID, { description: "The vendor's project id (`project_id`)." }) projectId: string, @Ctx() ctx: GraphContext): ProjectRecord {
    return ctx.akubela.project(requireVendorId(projectId, "projectId"));
  }

  @RequiresScope("read")
  @Query(() => [Project], {
    description:
      "The projects this server is configured for (`AKUBELA_PROJECT_IDS`; in demo mode, the demo projects) that the caller may see: an API key's own projects.",
  })
  projects(@Ctx() ctx: GraphContext): ProjectRecord[] {
    return ctx.akubela.visibleProjects(ctx.config.akubela.projectIds);
  }

  @FieldResolver(() => ID, { description: GLOBAL_ID_DESCRIPTION })
  id(@Root() project: ProjectRecord): string {
    return toGlobalId("Project", project.projectId);
  }

  @FieldResolver(() => [Building], {
    nullable: true,
    description: "The project's buildings, gathered from its accounts and devices.",
  })
  buildings(@Root() project: ProjectRecord, @Ctx() ctx: GraphContext, @Info() info: GraphQLResolveInfo): Promise<BuildingRecord[]> {
    // Every residence placed in a building is reached (the buildings are gathered from the same accounts).
    ctx.akubela.readAhead(project.projectId, {
      credentials: selects(info, "residences", "accounts", "credentials"),
      devices: selects(info, "residences", "devices"),
      residences: (r) => r.buildingId !== null,
    });
    return ctx.akubela.projectBuildings(project.projectId);
  }

  @FieldResolver(() => Building, { nullable: true, description: "One building of the project; null when the project shows none with that id." })
  async building(
    @Root() project: ProjectRecord,
    @Arg("buildingId", () => ID, { description: "The vendor's building id." }) buildingId: string,
    @Ctx() ctx: GraphContext,
  ): Promise<BuildingRecord | null> {
    requireVendorId(buildingId, "buildingId");
    return (await ctx.akubela.projectBuildings(project.projectId)).find((b) => b.buildingId === buildingId) ?? null;
  }

  @FieldResolver(() => [Residence], {
    nullable: true,
    description: "The project's residences (those with at least one account), optionally of one building.",
  })
  async residences(
    @Root() project: ProjectRecord,
    @Arg("buildingId", () => ID, { nullable: true, description: "Only the residences of this building." }) buildingId: string | null,
    @Ctx() ctx: GraphContext,
    @Info() info: GraphQLResolveInfo,
  ) {
    ctx.akubela.readAhead(project.projectId, {
      credentials: selects(info, "accounts", "credentials"),
      devices: selects(info, "devices"),
      residences: (r) => !buildingId || r.buildingId === buildingId,
    });
    const all = await ctx.akubela.projectResidences(project.projectId);
    return buildingId ? all.filter((r) => r.buildingId === buildingId) : all;
  }

  @FieldResolver(() => Residence, {
    description: "One residence by its vendor id. Costs no vendor call until a field needs one.",
  })
  residence(
    @Root() project: ProjectRecord,
    @Arg("residenceId", () => ID, { description: "The vendor's residence id." }) residenceId: string,
  ): ResidenceRef {
    return residenceRef(project.projectId, requireVendorId(residenceId, "residenceId"));
  }

  @FieldResolver(() => AccountConnection, {
    nullable: true,
    description: "The project's accounts in the vendor's order (`get_user_list`), paged.",
  })
  accounts(
    @Root() project: ProjectRecord,
    @Args(() => PageArgs) page: PageArgs,
    @Arg("role", () => AccountRole, { nullable: true, description: "Only accounts with this role." }) role: AccountRole | null,
    @Ctx() ctx: GraphContext,
  ) {
    const { projectId } = project;
    if (role) {
      return connectionOfList<AccountRecord>(page, async () => (await ctx.akubela.projectAccounts(projectId)).filter((a) => a.role === role));
    }
    return buildConnection<AccountRecord>(page, {
      slice: (offset, count) => ctx.akubela.projectAccountsSlice(projectId, offset, count),
      total: async () => (await ctx.akubela.projectAccounts(projectId)).length,
    });
  }

  @FieldResolver(() => [Device], {
    nullable: true,
    description:
      "The project's shared devices: Akuvox building entrances, gates and guard phones (`get_visitor_temp_key_device_list`), then the Aliyun access-control devices the site map puts in the project.",
  })
  async devices(@Root() project: ProjectRecord, @Ctx() ctx: GraphContext): Promise<(AkuvoxDeviceRecord | AliyunDeviceRecord)[]> {
    return [...(await ctx.akubela.projectDevices(project.projectId)), ...ctx.aliyun.devicesOf(project.projectId)];
  }

  @FieldResolver(() => VisitorTempKeyConnection, { nullable: true, description: "Visitor keys of the project, newest as the vendor orders them, paged." })
  visitorTempKeys(@Root() project: ProjectRecord, @Args(() => PageArgs) page: PageArgs, @Ctx() ctx: GraphContext) {
    const list = ctx.akubela.visitorTempKeys(project.projectId);
    return buildConnection(page, { slice: (o, c) => list.slice(o, c), total: async () => (await list.all()).length });
  }

  @FieldResolver(() => VisitorTempKey, { nullable: true, description: "One visitor key by its vendor id (`get_visitor_temp_key_info`); null when unknown." })
  visitorTempKey(
    @Root() project: ProjectRecord,
    @Arg("visitorTempKeyId", () => ID, { description: "The vendor's visitor key id." }) visitorTempKeyId: string,
    @Ctx() ctx: GraphContext,
  ) {
    return ctx.akubela.visitorTempKey(project.projectId, requireVendorId(visitorTempKeyId, "visitorTempKeyId"));
  }
}

@Resolver(() => Building)
export class BuildingResolver {
  @FieldResolver(() => ID, { description: GLOBAL_ID_DESCRIPTION })
  id(@Root() building: BuildingRecord): string {
    return toGlobalId("Building", building.projectId, building.buildingId);
  }

  @FieldResolver(() => String, { nullable: true, description: "Name of the building (`building_name`)." })
  async name(@Root() building: BuildingRef, @Ctx() ctx: GraphContext): Promise<string | null> {
    if (building.name !== undefined) return building.name;
    const found = (await ctx.akubela.projectBuildings(building.projectId)).find((b) => b.buildingId === building.buildingId);
    return found?.name ?? null;
  }

  @FieldResolver(() => Project, { description: "The project the building belongs to." })
  project(@Root() building: BuildingRecord, @Ctx() ctx: GraphContext): ProjectRecord {
    return ctx.akubela.project(building.projectId);
  }

  @FieldResolver(() => [Residence], { nullable: true, description: "Residences of the building that have at least one account." })
  async residences(@Root() building: BuildingRecord, @Ctx() ctx: GraphContext) {
    const residences = await ctx.akubela.projectResidences(building.projectId);
    await ctx.turns.pause();
    return [...(groupedBy(residences, "buildingId").get(building.buildingId) ?? [])];
  }

  @FieldResolver(() => [Device], { nullable: true, description: "The building's shared devices: Akuvox ones, then the Aliyun ones the site map puts in it." })
  async devices(@Root() building: BuildingRecord, @Ctx() ctx: GraphContext): Promise<(AkuvoxDeviceRecord | AliyunDeviceRecord)[]> {
    return [
      ...(await ctx.akubela.projectDevices(building.projectId)).filter((d) => d.buildingId === building.buildingId),
      ...ctx.aliyun.devicesOf(building.projectId, building.buildingId),
    ];
  }

  @FieldResolver(() => [Account], { nullable: true, description: "Accounts of every residence of the building." })
  async accounts(@Root() building: BuildingRecord, @Ctx() ctx: GraphContext) {
    const accounts = await ctx.akubela.projectAccounts(building.projectId);
    await ctx.turns.pause();
    return [...(groupedBy(accounts, "buildingId").get(building.buildingId) ?? [])];
  }
}
