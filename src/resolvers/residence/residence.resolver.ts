import { Args, Ctx, Field, FieldResolver, ID, ObjectType, Query, Resolver, Root, Arg } from "type-graphql";
import { GLOBAL_ID_DESCRIPTION } from "../common/node.type.js";
import type { GraphContext } from "../../context.js";
import type { ResidenceRecord, ResidenceTempKeyRecord } from "../../datasources/akubela/model.js";
import { groupedBy } from "../../lib/derived.js";
import { toGlobalId } from "../../lib/global-id.js";
import { connectionOfList, PageArgs } from "../common/connection.js";
import { buildingRef, requireVendorId, residenceRef, type ResidenceRef } from "../common/refs.js";
import { Account } from "../account/account.type.js";
import { AkuvoxDevice } from "../device/device.type.js";
import { Building } from "../project/building.type.js";
import { Project } from "../project/project.type.js";
import { AccessEventConnection, CallRecordConnection } from "./history.type.js";
import { OpenDoorConfig, ToggleCode } from "./open-door-config.type.js";
import { ResidenceTempKey } from "./residence-temp-key.type.js";
import { Residence } from "./residence.type.js";
import { createHash } from "node:crypto";
import { RequiresScope } from "../../auth/scope.js";

/** The user-list facts of a residence, fetched only when a reference lacks them. */
async function details(ref: ResidenceRef, ctx: GraphContext): Promise<Partial<ResidenceRecord>> {
  if (ref.residenceNo !== undefined) return ref;
  return ctx.akubela.residence(ref.projectId, ref.residenceId);
}

@Resolver(() => Residence)
export class ResidenceResolver {
  @RequiresScope("read")
  @Query(() => Residence, {
    description:
      "A residence by its vendor ids, once the project's user list (`get_user_list`) places it in the project: FORBIDDEN otherwise. Each field fetches what it needs.",
  })
  async residence(
    @Arg("projectId", () => ID, { description: "The vendor's project id." }) projectId: string,
    @Arg("residenceId", () => ID, { description: "The vendor's residence id." }) residenceId: string,
    @Ctx() ctx: GraphContext,
  ): Promise<ResidenceRef> {
    const [p, r] = [requireVendorId(projectId, "projectId"), requireVendorId(residenceId, "residenceId")];
    // Placed in the project by its membership index (from the project's user list); the user-list facts (number,
    // family, building) are read by the fields that show them, so a residence's devices or doors need no page.
    await ctx.akubela.verifyResidence(p, r);
    return residenceRef(p, r);
  }

  @FieldResolver(() => ID, { description: GLOBAL_ID_DESCRIPTION })
  id(@Root() r: ResidenceRef): string {
    return toGlobalId("Residence", r.projectId, r.residenceId);
  }

  @FieldResolver(() => String, { nullable: true, description: "Number of the residence in its building (`residence_no`, e.g. `101`)." })
  async residenceNo(@Root() r: ResidenceRef, @Ctx() ctx: GraphContext) {
    return (await details(r, ctx)).residenceNo ?? null;
  }

  @FieldResolver(() => String, { nullable: true, description: "Name of the family living there (`family_name`)." })
  async familyName(@Root() r: ResidenceRef, @Ctx() ctx: GraphContext) {
    return (await details(r, ctx)).familyName ?? null;
  }

  @FieldResolver(() => Building, { nullable: true, description: "The building the residence is in." })
  async building(@Root() r: ResidenceRef, @Ctx() ctx: GraphContext) {
    const d = await details(r, ctx);
    return buildingRef(r.projectId, d.buildingId ?? null, d.buildingName ?? null);
  }

  @FieldResolver(() => Project, { description: "The project the residence belongs to." })
  project(@Root() r: ResidenceRef, @Ctx() ctx: GraphContext) {
    return ctx.akubela.project(r.projectId);
  }

  @FieldResolver(() => [Account], { nullable: true, description: "Accounts of the residence (from the project's `get_user_list`)." })
  async accounts(@Root() r: ResidenceRef, @Ctx() ctx: GraphContext) {
    const accounts = await ctx.akubela.projectAccounts(r.projectId);
    // Thousands of residences resolve here at once when a large user list lands: their accounts go on in slices.
    await ctx.turns.pause();
    return [...(groupedBy(accounts, "residenceId").get(r.residenceId) ?? [])];
  }

  @FieldResolver(() => [AkuvoxDevice], {
    nullable: true,
    description: "Devices the residence sees: its building's and the project's shared ones, and its own (`get_akuvox_device_list`).",
  })
  async devices(@Root() r: ResidenceRef, @Ctx() ctx: GraphContext) {
    await ctx.turns.pause();
    return ctx.akubela.residenceDevices(r.projectId, r.residenceId);
  }

  @FieldResolver(() => OpenDoorConfig, { description: "How the residence's doors open without a key; each part is fetched only when selected." })
  openDoorConfig(@Root() r: ResidenceRef): OpenDoorConfig {
    return { projectId: r.projectId, residenceId: r.residenceId };
  }

  @FieldResolver(() => [ResidenceTempKey], { nullable: true, description: "Temporary door codes of the residence." })
  tempKeys(@Root() r: ResidenceRef, @Ctx() ctx: GraphContext) {
    return ctx.akubela.residenceTempKeys(r.projectId, r.residenceId);
  }

  @FieldResolver(() => CallRecordConnection, { nullable: true, description: "Calls received by the residence, paged (the vendor sends the whole history at once)." })
  callHistory(@Root() r: ResidenceRef, @Args(() => PageArgs) page: PageArgs, @Ctx() ctx: GraphContext) {
    return connectionOfList(page, () => ctx.akubela.callHistory(r));
  }

  @FieldResolver(() => AccessEventConnection, { nullable: true, description: "Door openings at the residence's devices, paged (the vendor sends the whole history at once)." })
  openDoorHistory(@Root() r: ResidenceRef, @Args(() => PageArgs) page: PageArgs, @Ctx() ctx: GraphContext) {
    return connectionOfList(page, () => ctx.akubela.openDoorHistory(r));
  }
}

@Resolver(() => OpenDoorConfig)
export class OpenDoorConfigResolver {
  @FieldResolver(() => String, {
    nullable: true,
    description: "Private key for opening doors from the resident's phone (`get_akuvox_open_door_private_key_config`). A secret.",
  })
  privateKey(@Root() c: OpenDoorConfig, @Ctx() ctx: GraphContext) {
    return ctx.akubela.privateKey(c);
  }

  @FieldResolver(() => ToggleCode, { nullable: true, description: "Opening by NFC (`get_akuvox_open_door_nfc_config`)." })
  nfc(@Root() c: OpenDoorConfig, @Ctx() ctx: GraphContext) {
    return ctx.akubela.nfcConfig(c);
  }

  @FieldResolver(() => ToggleCode, { nullable: true, description: "Opening by Bluetooth (`get_akuvox_open_door_ble_config`)." })
  ble(@Root() c: OpenDoorConfig, @Ctx() ctx: GraphContext) {
    return ctx.akubela.bleConfig(c);
  }

  @FieldResolver(() => Boolean, { nullable: true, description: "Whether a face file has been uploaded for the residence (`get_akuvox_face_file_info`)." })
  faceFileUploaded(@Root() c: OpenDoorConfig, @Ctx() ctx: GraphContext) {
    return ctx.akubela.faceFileUploaded(c);
  }
}

/** A residence temp key's id must not carry the code itself: it holds a hash of it. */
export const tempKeyDigest = (tempKey: string) => createHash("sha256").update(tempKey).digest("base64url").slice(0, 16);

@Resolver(() => ResidenceTempKey)
export class ResidenceTempKeyResolver {
  @FieldResolver(() => ID, { description: GLOBAL_ID_DESCRIPTION })
  id(@Root() k: ResidenceTempKeyRecord): string {
    return toGlobalId("ResidenceTempKey", k.projectId, k.residenceId, tempKeyDigest(k.tempKey));
  }

  @FieldResolver(() => Residence, { description: "The residence the code belongs to." })
  residence(@Root() k: ResidenceTempKeyRecord): ResidenceRef {
    return residenceRef(k.projectId, k.residenceId);
  }
}
