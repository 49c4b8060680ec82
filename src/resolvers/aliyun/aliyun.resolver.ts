import { Arg, Args, Ctx, FieldResolver, ID, Query, Resolver, Root } from "type-graphql";
import type { GraphContext } from "../../context.js";
import type { AccountRecord } from "../../datasources/akubela/model.js";
import type { AliyunDeviceRecord, AliyunPersonRecord, CardPermissionRecord } from "../../datasources/aliyun/model.js";
import { toGlobalId } from "../../lib/global-id.js";
import { Account } from "../account/account.type.js";
import { buildConnection, PageArgs } from "../common/connection.js";
import { GLOBAL_ID_DESCRIPTION } from "../common/node.type.js";
import { buildingRef, requireVendorId } from "../common/refs.js";
import { Building } from "../project/building.type.js";
import { Project } from "../project/project.type.js";
import { AliyunAccessControlDevice, AliyunPerson, AliyunPersonConnection, CardPermission, CardPermissionConnection } from "./aliyun.type.js";
import { RequiresScope } from "../../auth/scope.js";

@Resolver()
export class AliyunQueryResolver {
  @RequiresScope("read")
  @Query(() => AliyunPerson, { nullable: true, description: "An Aliyun person by `identityId` (`/entrance/paas/user/get`); null when the gateway knows none." })
  aliyunPerson(@Arg("identityId", () => ID, { description: "The person's unified identity id." }) identityId: string, @Ctx() ctx: GraphContext) {
    return ctx.aliyun.person(requireVendorId(identityId, "identityId"));
  }

  @RequiresScope("read")
  @Query(() => AliyunPersonConnection, { description: "Every Aliyun person, paged by the gateway (`/entrance/paas/user/query`)." })
  aliyunPersons(@Args(() => PageArgs) page: PageArgs, @Ctx() ctx: GraphContext) {
    const list = ctx.aliyun.persons();
    return buildConnection(page, { slice: (o, c) => list.slice(o, c), total: () => list.total() });
  }

  @RequiresScope("read")
  @Query(() => AliyunAccessControlDevice, {
    description: "An Aliyun access-control device by `iotId`, named by the site map or not. Costs no gateway call by itself.",
  })
  aliyunDevice(@Arg("iotId", () => ID, { description: "The device's IoT id." }) iotId: string, @Ctx() ctx: GraphContext) {
    return ctx.aliyun.device(requireVendorId(iotId, "iotId"));
  }
}

@Resolver(() => AliyunAccessControlDevice)
export class AliyunDeviceResolver {
  @FieldResolver(() => ID, { description: GLOBAL_ID_DESCRIPTION })
  id(@Root() d: AliyunDeviceRecord): string {
    return toGlobalId("AliyunAccessControlDevice", d.iotId);
  }

  @FieldResolver(() => Building, { nullable: true, description: "The building the site map puts the device in; null for a project-wide or unmapped device." })
  building(@Root() d: AliyunDeviceRecord) {
    return d.projectId ? buildingRef(d.projectId, d.buildingId) : null;
  }

  @FieldResolver(() => Project, { nullable: true, description: "The project the site map puts the device in; null for an unmapped device." })
  project(@Root() d: AliyunDeviceRecord, @Ctx() ctx: GraphContext) {
    return d.projectId ? ctx.akubela.project(d.projectId) : null;
  }

  @FieldResolver(() => Boolean, { nullable: true, description: "Whether the door is kept open now (`/entrance/paas/keepopen/get`)." })
  keepOpen(@Root() d: AliyunDeviceRecord, @Ctx() ctx: GraphContext) {
    return ctx.aliyun.keepOpen(d.iotId);
  }

  @FieldResolver(() => CardPermissionConnection, {
    nullable: true,
    description: "Every card permission on this device, paged by the gateway (`/entrance/paas/device/perm/query`).",
  })
  cardPermissions(@Root() d: AliyunDeviceRecord, @Args(() => PageArgs) page: PageArgs, @Ctx() ctx: GraphContext) {
    const list = ctx.aliyun.devicePermissions(d.iotId);
    return buildConnection(page, { slice: (o, c) => list.slice(o, c), total: () => list.total() });
  }
}

@Resolver(() => AliyunPerson)
export class AliyunPersonResolver {
  @FieldResolver(() => ID, { description: GLOBAL_ID_DESCRIPTION })
  id(@Root() p: AliyunPersonRecord): string {
    return toGlobalId("AliyunPerson", p.identityId);
  }

  @FieldResolver(() => [CardPermission], {
    nullable: true,
    description:
      "The person's card permissions on every device of the site map the caller may see (`/entrance/paas/user/perm/query`, 100 devices a call, batched across the query).",
  })
  cardPermissions(@Root() p: AliyunPersonRecord, @Ctx() ctx: GraphContext) {
    return ctx.aliyun.personCardPermissions({ identityId: p.identityId }, ctx.aliyun.visibleDevices().map((d) => d.iotId));
  }
}

@Resolver(() => CardPermission)
export class CardPermissionResolver {
  @FieldResolver(() => ID, { description: GLOBAL_ID_DESCRIPTION })
  id(@Root() c: CardPermissionRecord): string {
    return toGlobalId("CardPermission", c.identityId, c.iotId, c.cardId);
  }

  @FieldResolver(() => AliyunAccessControlDevice, { description: "The device the card opens." })
  device(@Root() c: CardPermissionRecord, @Ctx() ctx: GraphContext) {
    return ctx.aliyun.device(c.iotId);
  }

  @FieldResolver(() => AliyunPerson, { nullable: true, description: "The person holding the card (`/entrance/paas/user/get`)." })
  person(@Root() c: CardPermissionRecord, @Ctx() ctx: GraphContext) {
    return ctx.aliyun.person(c.identityId);
  }
}

/** The Aliyun side of an Akubela account: the linked person and the account's card permissions. */
@Resolver(() => Account)
export class AccountAliyunResolver {
  @FieldResolver(() => ID, { description: "The Aliyun identityId linked to this account by the site map (by default its `accountId`)." })
  aliyunIdentityId(@Root() a: AccountRecord, @Ctx() ctx: GraphContext): string {
    return ctx.aliyun.siteMap.identityIdOf(a.accountId);
  }

  @FieldResolver(() => AliyunPerson, { nullable: true, description: "The linked Aliyun person; null when the gateway has none for this account." })
  aliyunPerson(@Root() a: AccountRecord, @Ctx() ctx: GraphContext) {
    return ctx.aliyun.linkedPerson(a);
  }

  @FieldResolver(() => [CardPermission], {
    nullable: true,
    description:
      "The account's Aliyun card permissions on the site map's devices of its project (`/entrance/paas/user/perm/query`, batched: one call per person and 100 devices).",
  })
  cardPermissions(@Root() a: AccountRecord, @Ctx() ctx: GraphContext) {
    const iotIds = ctx.aliyun.devicesOf(a.projectId).map((d) => d.iotId);
    if (iotIds.length === 0) return [];
    return ctx.aliyun.personCardPermissions({ account: a }, iotIds);
  }
}
