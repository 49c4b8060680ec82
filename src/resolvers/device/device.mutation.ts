import { PublishesAccessEvent } from "../../events/publish.js";
import { randomUUID } from "node:crypto";
import { Arg, Ctx, Field, ID, InputType, Mutation, ObjectType, registerEnumType, Resolver, UseMiddleware } from "type-graphql";
import type { GraphContext } from "../../context.js";
import { Idempotent, IDEMPOTENCY_KEY_DESCRIPTION } from "../common/idempotency.js";
import type { AkuvoxDeviceRecord } from "../../datasources/akubela/model.js";
import type { AliyunDeviceRecord } from "../../datasources/aliyun/model.js";
import { ForbiddenError, UpstreamError } from "../../errors.js";
import { AliyunAccessControlDevice } from "../aliyun/aliyun.type.js";
import { InputErrors, isVendorRejection, MAC, MutationPayload, normaliseMac, rejectionError, attempt } from "../common/mutation.js";
import { Device } from "./device.type.js";
import { RequiresScope } from "../../auth/scope.js";

export enum DoorOpenOutcome {
  OPENED = "OPENED",
  REJECTED = "REJECTED",
  UNKNOWN = "UNKNOWN",
}
registerEnumType(DoorOpenOutcome, {
  name: "DoorOpenOutcome",
  description: "What became of a door opening.",
  valuesConfig: {
    OPENED: { description: "The vendor accepted the command: the door was opened." },
    REJECTED: { description: "The vendor refused it (offline device, unknown relay…): `userErrors` says why. The door did not open." },
    UNKNOWN: {
      description:
        "The vendor did not answer in time or the connection failed after sending: the door may or may not have opened. Not retried; look at the door, or at `openDoorHistory`, before trying again.",
    },
  },
});

@InputType({ description: "A door to open." })
export class DoorOpenInput {
  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;

  @Field(() => ID, { description: "The device: an `AkuvoxDevice` or an `AliyunAccessControlDevice` ID." })
  device!: string;

  @Field(() => ID, { nullable: true, description: "Which door of an Akuvox device (a `Relay` ID of it); default its first relay. Aliyun devices open as a whole." })
  relay?: string | null;

  @Field(() => ID, {
    nullable: true,
    description: "For an Akuvox shared device: the residence on whose behalf it is opened (a `Residence` ID). A residence's own device carries it already.",
  })
  residence?: string | null;
}

@InputType({ description: "Keep an Aliyun door open, or stop keeping it open." })
export class KeepOpenSetInput {
  @Field(() => ID, { description: "An `AliyunAccessControlDevice` ID." })
  device!: string;

  @Field(() => Boolean, { description: "True keeps the door open until set false." })
  keepOpen!: boolean;
}

@InputType({ description: "Devices to check a residence's permission on (`check_akuvox_device_permission`)." })
export class DevicePermissionCheckInput {
  @Field(() => ID, { description: "The residence (a `Residence` ID)." })
  residence!: string;

  @Field(() => [String], { description: "MAC addresses (1 to 100): 12 hex digits, optionally separated by `:` or `-`." })
  macs!: string[];
}

@ObjectType({ description: "The result of `doorOpen`." })
export class DoorOpenPayload extends MutationPayload {
  @Field(() => DoorOpenOutcome, { description: "Whether the door opened. Check it: `UNKNOWN` is not `OPENED`." })
  outcome!: DoorOpenOutcome;

  @Field(() => Device, { nullable: true, description: "The device." })
  device!: AkuvoxDeviceRecord | AliyunDeviceRecord | null;

  @Field(() => ID, { nullable: true, description: "The vendor relay id opened (Akuvox)." })
  relayId!: string | null;

  @Field(() => String, { nullable: true, description: "The correlation id sent to the vendor, to quote to its support." })
  vendorRequestId!: string | null;
}

@ObjectType({ description: "The result of `keepOpenSet`." })
export class KeepOpenSetPayload extends MutationPayload {
  @Field(() => AliyunAccessControlDevice, { nullable: true, description: "The device; `keepOpen` reads the state anew." })
  device!: AliyunDeviceRecord | null;
}

@ObjectType({ description: "Whether a residence may use one device." })
export class DevicePermission {
  @Field(() => String, { description: "The MAC as sent." })
  mac!: string;

  @Field(() => Boolean, { description: "True when the residence may use the device." })
  permitted!: boolean;
}

@ObjectType({ description: "The result of `devicePermissionCheck`." })
export class DevicePermissionCheckPayload extends MutationPayload {
  @Field(() => [DevicePermission], { description: "One answer per MAC, in the order asked." })
  permissions!: DevicePermission[];
}

/** The id as sent: Akubela command ids are 32 hex digits, Aliyun envelope ids UUIDs. */
const vendor_id = (type: string, uuid: string) => (type === "AkuvoxDevice" ? uuid.replace(/-/g, "") : uuid);

@Resolver()
export class DeviceMutationResolver {
  @RequiresScope("door:open")
  @Mutation(() => DoorOpenPayload, {
    nullable: true,
    description:
      "Opens a door now: `trigger_akuvox_remote_open_door` for an Akuvox device, the gateway's `remoteOpen` for an Aliyun one. Never retried; every call writes one audit log line.",
  })
  @UseMiddleware(Idempotent)
  @UseMiddleware(PublishesAccessEvent)
  async doorOpen(@Arg("input", () => DoorOpenInput, { description: "The door." }) input: DoorOpenInput, @Ctx() ctx: GraphContext): Promise<DoorOpenPayload> {
    const check = new InputErrors();
    const device = check.id(input.device, "input.device", "AkuvoxDevice", "AliyunAccessControlDevice");
    const relay = input.relay ? check.id(input.relay, "input.relay", "Relay") : undefined;
    const residence = input.residence ? check.id(input.residence, "input.residence", "Residence") : undefined;
    if (device?.type === "AliyunAccessControlDevice" && input.relay) check.add("input.relay", "input.relay does not apply to an Aliyun device: it opens as a whole");
    if (device?.type === "AkuvoxDevice" && relay && relay.parts[1] !== device.parts[1]) check.add("input.relay", "input.relay is not a relay of input.device");
    if (device?.type === "AkuvoxDevice" && residence && residence.parts[0] !== device.parts[0]) check.add("input.residence", "input.residence belongs to another project");
    const residenceId = device?.type === "AkuvoxDevice" ? (device.parts[2] ?? residence?.parts[1]) : undefined;
    if (device?.type === "AkuvoxDevice" && !residenceId) {
      check.add("input.residence", "input.residence is required to open a shared Akuvox device (the vendor opens on behalf of a residence)", "REQUIRED");
    }
    const none = { outcome: DoorOpenOutcome.REJECTED, device: null, relayId: null, vendorRequestId: null };
    if (!check.ok || !device) return { userErrors: check.errors, ...none };

    const audit = (fields: Record<string, unknown>) =>
      ctx.logger.info("door open", { audit: "door_open", caller: ctx.caller.id, deviceId: input.device, ...fields });

    const requestId = randomUUID();
    let record: AkuvoxDeviceRecord | AliyunDeviceRecord;
    let relayId: string | null = null;
    let send: () => Promise<unknown>;
    if (device.type === "AliyunAccessControlDevice") {
      record = ctx.aliyun.device(device.parts[0]);
      send = () => ctx.aliyun.remoteOpen(device.parts[0], requestId);
    } else {
      const [projectId, mac] = device.parts;
      // The data source refuses a residence its project's user list does not have, or a device its list lacks.
      const found = await ctx.akubela.residenceDevice({ projectId, residenceId: residenceId! }, mac).catch((error: unknown) => {
        if (error instanceof ForbiddenError) audit({ vendor: "akubela", outcome: "REFUSED", reason: error.message });
        throw error;
      });
      record = found;
      relayId = relay ? relay.parts[relay.parts.length - 1] : (found.relays[0]?.relayId ?? null);
      if (!relayId) return { userErrors: [{ field: ["input", "relay"], message: "input.relay is required: the device has no ordinary relay", code: "REQUIRED" }], ...none, device: record };
      const rid = relayId;
      send = () => ctx.akubela.openDoor({ projectId, residenceId: residenceId! }, mac, rid, requestId.replace(/-/g, ""));
    }
    const vendorRequestId = vendor_id(device.type, requestId);
    const vendor = device.type === "AliyunAccessControlDevice" ? "aliyun" : "akubela";
    try {
      await send();
      audit({ vendor, relayId, outcome: DoorOpenOutcome.OPENED, vendorRequestId });
      return { userErrors: [], outcome: DoorOpenOutcome.OPENED, device: record, relayId, vendorRequestId };
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      if (isVendorRejection(error)) {
        audit({ vendor, relayId, outcome: DoorOpenOutcome.REJECTED, vendorRequestId, vendorCode: error.upstream.vendorCode });
        return { userErrors: [rejectionError(error)], outcome: DoorOpenOutcome.REJECTED, device: record, relayId, vendorRequestId };
      }
      // No answer, or a failure after the command left: it may have been carried out. Said so, never repeated.
      audit({ vendor, relayId, outcome: DoorOpenOutcome.UNKNOWN, vendorRequestId, errorCode: error.code });
      return {
        userErrors: [{ field: null, message: `${error.message}; the door may or may not have opened`, code: error.code }],
        outcome: DoorOpenOutcome.UNKNOWN,
        device: record,
        relayId,
        vendorRequestId,
      };
    }
  }

  @RequiresScope("door:open")
  @Mutation(() => KeepOpenSetPayload, { nullable: true, description: "Keeps an Aliyun door open, or stops (`/entrance/paas/keepopen/set`)." })
  @UseMiddleware(PublishesAccessEvent)
  async keepOpenSet(@Arg("input", () => KeepOpenSetInput, { description: "The door and the state." }) input: KeepOpenSetInput, @Ctx() ctx: GraphContext): Promise<KeepOpenSetPayload> {
    const check = new InputErrors();
    const device = check.id(input.device, "input.device", "AliyunAccessControlDevice");
    if (!check.ok || !device) return { userErrors: check.errors, device: null };
    const done = await attempt(() => ctx.aliyun.setKeepOpen(device.parts[0], input.keepOpen));
    return done.ok ? { userErrors: [], device: ctx.aliyun.device(device.parts[0]) } : { userErrors: done.errors, device: null };
  }

  @RequiresScope("read")
  @Mutation(() => DevicePermissionCheckPayload, { nullable: true, description: "Asks the vendor whether a residence may use devices, by MAC (`check_akuvox_device_permission`)." })
  async devicePermissionCheck(
    @Arg("input", () => DevicePermissionCheckInput, { description: "The residence and the MACs." }) input: DevicePermissionCheckInput,
    @Ctx() ctx: GraphContext,
  ): Promise<DevicePermissionCheckPayload> {
    const check = new InputErrors();
    const residence = check.id(input.residence, "input.residence", "Residence");
    const macs = (check.items(input.macs, "input.macs", 100) ?? []).map((m, i) => check.format(m, `input.macs.${i}`, MAC, "be a MAC address of 12 hex digits"));
    check.unique(macs, (m) => (m ? normaliseMac(m) : null), (i) => `input.macs.${i}`);
    if (!check.ok || !residence) return { userErrors: check.errors, permissions: [] };
    const done = await attempt(() => ctx.akubela.checkDevicePermission({ projectId: residence.parts[0], residenceId: residence.parts[1] }, macs.map((m) => normaliseMac(m!))));
    if (!done.ok) return { userErrors: done.errors, permissions: [] };
    return { userErrors: [], permissions: done.value.map((p, i) => ({ mac: input.macs[i] ?? p.mac, permitted: p.permission })) };
  }
}
