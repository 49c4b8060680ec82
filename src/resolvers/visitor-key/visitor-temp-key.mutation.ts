import { Arg, Ctx, Field, ID, InputType, Int, Mutation, ObjectType, Resolver, UseMiddleware } from "type-graphql";
import type { GraphContext } from "../../context.js";
import { ForbiddenError } from "../../errors.js";
import { Idempotent, IDEMPOTENCY_KEY_DESCRIPTION } from "../common/idempotency.js";
import { RepeatMode, Weekday, type VisitorTempKeyDetailRecord } from "../../datasources/akubela/model.js";
import { attempt, idKey, InputErrors, MutationPayload } from "../common/mutation.js";
import { VisitorTempKey } from "./visitor-temp-key.type.js";
import { RequiresScope } from "../../auth/scope.js";

const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?Z?$/;
/** `13:14`, `13:14:00` or `13:14:00Z` → the vendor's `13:14:00` (UTC, 000 says). */
const vendorTime = (t: string) => {
  const [h, m, s = "00"] = t.replace(/Z$/, "").split(":");
  return `${h}:${m}:${s}`;
};

@InputType({ description: "One device a visitor key opens, and which of its doors." })
export class VisitorKeyDeviceInput {
  @Field(() => ID, { description: "A shared Akuvox device of the project (an `AkuvoxDevice` ID from `Project.devices`)." })
  device!: string;

  @Field(() => [ID], { nullable: true, description: "Relays (`Relay` IDs of this device) the key opens; default: all its relays." })
  relays?: string[] | null;

  @Field(() => [ID], { nullable: true, description: "Security relays (`Relay` IDs) the key opens; default: none." })
  securityRelays?: string[] | null;
}

@InputType({ description: "A visitor key to create for a residence (`create_visitor_temp_key_info`)." })
export class VisitorTempKeyCreateInput {
  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;

  @Field(() => ID, { description: "The residence the visitor comes to (a `Residence` ID)." })
  residence!: string;

  @Field(() => String, { description: "Name of the key, usually the visitor's (at most 64 characters)." })
  name!: string;

  @Field(() => RepeatMode, { description: "How the daily window repeats. `WEEKLY` needs `availableDays`." })
  repeatMode!: RepeatMode;

  @Field(() => [Weekday], { nullable: true, description: "Days the key works on; required, and only read, for `WEEKLY`." })
  availableDays?: Weekday[] | null;

  @Field(() => String, { description: "Start of the daily window, UTC: `HH:mm`, `HH:mm:ss` or `HH:mm:ssZ`." })
  startTime!: string;

  @Field(() => String, { description: "End of the daily window, UTC, later than `startTime`." })
  finishTime!: string;

  @Field(() => [VisitorKeyDeviceInput], { description: "The devices (1 to 50) the key opens." })
  devices!: VisitorKeyDeviceInput[];

  @Field(() => Int, { nullable: true, description: "How many times each device accepts the key (1 to 999); default no limit." })
  deviceValidityCount?: number | null;

  @Field(() => String, { nullable: true, description: "Identity document number of the visitor." })
  visitorIdentityNumber?: string | null;

  @Field(() => String, { nullable: true, description: "E-mail address the vendor sends the key to." })
  noticeEmail?: string | null;
}

@InputType({ description: "Visitor keys to delete." })
export class VisitorTempKeysDeleteInput {
  @Field(() => [ID], { description: "`VisitorTempKey` IDs (1 to 100), all of one project. One ID deletes with `delete_visitor_temp_key_info`, more with the batch command." })
  ids!: string[];
}

@ObjectType({ description: "The result of `visitorTempKeyCreate`." })
export class VisitorTempKeyCreatePayload extends MutationPayload {
  @Field(() => VisitorTempKey, { nullable: true, description: "The new key, as the vendor now shows it; null when not created." })
  visitorTempKey!: VisitorTempKeyDetailRecord | null;
}

@ObjectType({ description: "The result of `visitorTempKeysDelete`." })
export class VisitorTempKeysDeletePayload extends MutationPayload {
  @Field(() => [ID], { description: "IDs of the keys deleted (all or none: the vendor deletes a batch as a whole)." })
  deletedIds!: string[];
}

@Resolver()
export class VisitorTempKeyMutationResolver {
  @RequiresScope("write")
  @Mutation(() => VisitorTempKeyCreatePayload, { nullable: true, description: "Creates a visitor key for a residence on chosen devices and doors." })
  @UseMiddleware(Idempotent)
  async visitorTempKeyCreate(
    @Arg("input", () => VisitorTempKeyCreateInput, { description: "The key to create." }) input: VisitorTempKeyCreateInput,
    @Ctx() ctx: GraphContext,
  ): Promise<VisitorTempKeyCreatePayload> {
    const check = new InputErrors();
    const residence = check.id(input.residence, "input.residence", "Residence");
    const name = check.text(input.name, "input.name", { max: 64 });
    const start = check.format(input.startTime, "input.startTime", TIME_OF_DAY, "be a UTC time of day HH:mm[:ss]");
    const finish = check.format(input.finishTime, "input.finishTime", TIME_OF_DAY, "be a UTC time of day HH:mm[:ss]");
    if (start && finish && vendorTime(finish) <= vendorTime(start)) check.add("input.finishTime", "input.finishTime must be later than input.startTime");
    if (input.repeatMode === RepeatMode.WEEKLY && !input.availableDays?.length) {
      check.add("input.availableDays", "input.availableDays must name at least one day for a WEEKLY key", "REQUIRED");
    }
    if (input.deviceValidityCount !== null && input.deviceValidityCount !== undefined) check.int(input.deviceValidityCount, "input.deviceValidityCount", 1, 999);
    if (input.noticeEmail) check.email(input.noticeEmail, "input.noticeEmail");
    if (input.visitorIdentityNumber !== null && input.visitorIdentityNumber !== undefined) check.text(input.visitorIdentityNumber, "input.visitorIdentityNumber", { max: 64 });
    const devices = check.items(input.devices, "input.devices", 50) ?? [];
    const wanted = devices.map((d, i) => {
      const at = `input.devices.${i}`;
      const device = check.id(d.device, `${at}.device`, "AkuvoxDevice");
      if (device && residence && device.parts[0] !== residence.parts[0]) check.add(`${at}.device`, `${at}.device belongs to another project`);
      const relayOf = (ids: string[] | null | undefined, field: string) =>
        (ids ?? []).flatMap((id, j) => {
          const relay = check.id(id, `${at}.${field}.${j}`, "Relay");
          if (relay && device && relay.parts[1] !== device.parts[1]) check.add(`${at}.${field}.${j}`, `${at}.${field}.${j} is not a relay of ${at}.device`);
          return relay ? [relay.parts[relay.parts.length - 1]] : [];
        });
      return { device, relays: d.relays ? relayOf(d.relays, "relays") : null, securityRelays: relayOf(d.securityRelays, "securityRelays") };
    });
    if (!check.ok || !residence || !name || !start || !finish) return { userErrors: check.errors, visitorTempKey: null };

    // The residence as the project's user list has it (refused when it is not the project's), and the project's
    // shared devices: the vendor wants their numbers, names, ids and buildings echoed back.
    const [projectId, residenceId] = residence.parts;
    const [home, shared] = await Promise.all([ctx.akubela.residence(projectId, residenceId), ctx.akubela.projectDevices(projectId)]);
    // A device the project's shared list lacks (another project's, by a forged ID) is refused, as the data
    // source refuses it: its membership in the project cannot be established.
    const chosen = wanted.map((w) => {
      const device = shared.find((x) => x.mac === w.device!.parts[1] && x.deviceId);
      if (!device) throw new ForbiddenError(`device ${w.device!.parts[1]} is not a shared device of project ${projectId}`);
      return { device, relays: w.relays, securityRelays: w.securityRelays };
    });

    const created = await attempt(() =>
      ctx.akubela.createVisitorTempKey({
        residence: home,
        name,
        repeatMode: input.repeatMode,
        availableDays: input.availableDays ?? [],
        startTime: vendorTime(start),
        finishTime: vendorTime(finish),
        devices: chosen,
        deviceValidityCount: input.deviceValidityCount,
        visitorIdentityNumber: input.visitorIdentityNumber,
        noticeEmail: input.noticeEmail,
      }),
    );
    if (!created.ok) return { userErrors: created.errors, visitorTempKey: null };
    return { userErrors: [], visitorTempKey: created.value ? await ctx.akubela.visitorTempKey(projectId, created.value) : null };
  }

  @RequiresScope("write")
  @Mutation(() => VisitorTempKeysDeletePayload, { nullable: true, description: "Deletes visitor keys: one, or many of one project at once." })
  async visitorTempKeysDelete(
    @Arg("input", () => VisitorTempKeysDeleteInput, { description: "The keys to delete." }) input: VisitorTempKeysDeleteInput,
    @Ctx() ctx: GraphContext,
  ): Promise<VisitorTempKeysDeletePayload> {
    const check = new InputErrors();
    const keys = (check.items(input.ids, "input.ids", 100) ?? []).map((id, i) => check.id(id, `input.ids.${i}`, "VisitorTempKey"));
    check.unique(keys, idKey, (i) => `input.ids.${i}`);
    const projects = new Set(keys.map((k) => k?.parts[0]));
    if (check.ok && projects.size > 1) check.add("input.ids", "input.ids must all be keys of one project");
    if (!check.ok) return { userErrors: check.errors, deletedIds: [] };
    const projectId = keys[0]!.parts[0];
    const ids = [...new Set(keys.map((k) => k!.parts[1]))];
    const done = await attempt(() => ctx.akubela.deleteVisitorTempKeys(projectId, ids));
    return done.ok ? { userErrors: [], deletedIds: input.ids } : { userErrors: done.errors, deletedIds: [] };
  }
}

