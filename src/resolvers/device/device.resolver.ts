import { Ctx, FieldResolver, ID, Resolver, Root } from "type-graphql";
import { GLOBAL_ID_DESCRIPTION } from "../common/node.type.js";
import type { GraphContext } from "../../context.js";
import type { AkuvoxDeviceRecord, RelayRecord } from "../../datasources/akubela/model.js";
import { toGlobalId } from "../../lib/global-id.js";
import { buildingRef, residenceRef } from "../common/refs.js";
import { Building } from "../project/building.type.js";
import { Project } from "../project/project.type.js";
import { Residence } from "../residence/residence.type.js";
import { AkuvoxDevice, Device, Relay } from "./device.type.js";

/** Global ID parts of an Akuvox device: project and MAC, plus the residence for a device private to one. */
export const akuvoxDeviceIdParts = (d: { projectId: string; mac: string; residenceId: string | null }) =>
  d.residenceId ? [d.projectId, d.mac, d.residenceId] : [d.projectId, d.mac];

@Resolver(() => AkuvoxDevice)
export class AkuvoxDeviceResolver {
  @FieldResolver(() => ID, { description: GLOBAL_ID_DESCRIPTION })
  id(@Root() d: AkuvoxDeviceRecord): string {
    return toGlobalId("AkuvoxDevice", ...akuvoxDeviceIdParts(d));
  }

  @FieldResolver(() => Building, {
    nullable: true,
    description: "The building the device is in; null for project-wide devices. For a residence's own device, that residence's building.",
  })
  async building(@Root() d: AkuvoxDeviceRecord, @Ctx() ctx: GraphContext) {
    if (d.buildingId) return buildingRef(d.projectId, d.buildingId, d.buildingName);
    if (d.residenceId) {
      const residence = await ctx.akubela.residence(d.projectId, d.residenceId);
      return buildingRef(d.projectId, residence?.buildingId ?? null, residence?.buildingName ?? null);
    }
    // A public device seen in a residence's list: the project's list knows its building.
    const shared = await ctx.akubela.device(d.projectId, d.mac);
    return buildingRef(d.projectId, shared?.buildingId ?? null, shared?.buildingName ?? null);
  }

  @FieldResolver(() => Residence, { nullable: true, description: "The residence the device is private to; null for a shared device." })
  residence(@Root() d: AkuvoxDeviceRecord) {
    return d.residenceId ? residenceRef(d.projectId, d.residenceId) : null;
  }

  @FieldResolver(() => Project, { description: "The project the device belongs to." })
  project(@Root() d: AkuvoxDeviceRecord, @Ctx() ctx: GraphContext) {
    return ctx.akubela.project(d.projectId);
  }
}

@Resolver(() => Relay)
export class RelayResolver {
  @FieldResolver(() => ID, { description: GLOBAL_ID_DESCRIPTION })
  id(@Root() r: RelayRecord): string {
    return toGlobalId("Relay", ...akuvoxDeviceIdParts(r), r.relayId);
  }

  @FieldResolver(() => Device, { nullable: true, description: "The device the relay belongs to." })
  device(@Root() r: RelayRecord, @Ctx() ctx: GraphContext) {
    return ctx.akubela.device(r.projectId, r.mac, r.residenceId);
  }
}
