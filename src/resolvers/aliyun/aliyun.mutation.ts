import { PublishesAccessEvent } from "../../events/publish.js";
import type { GraphQLResolveInfo } from "graphql";
import { Arg, Ctx, Field, ID, Info, InputType, Int, Mutation, ObjectType, registerEnumType, Resolver, UseMiddleware } from "type-graphql";
import type { GraphContext } from "../../context.js";
import { Idempotent, IDEMPOTENCY_KEY_DESCRIPTION, priorAttempt } from "../common/idempotency.js";
import type { BatchOutcome, BatchPrior, BatchRefusal, CardGrant, PersonInput } from "../../datasources/aliyun/datasource.js";
import type { AliyunPersonRecord } from "../../datasources/aliyun/model.js";
import { fromGlobalId } from "../../lib/global-id.js";
import { attempt, idKey, InputErrors, MutationPayload, type UserError } from "../common/mutation.js";
import { DateTimeScalar } from "../common/scalars.js";
import { AliyunPerson } from "./aliyun.type.js";
import { RequiresScope } from "../../auth/scope.js";
import type { SiteMap } from "../../site-map.js";

export enum QrScanScope {
  SHARE = "SHARE",
  DEVICE = "DEVICE",
}
registerEnumType(QrScanScope, {
  name: "QrScanScope",
  description: "How `maxScanTimes` counts (`maxScanScope`).",
  valuesConfig: {
    SHARE: { description: "One count shared by every device." },
    DEVICE: { description: "A count per device (the gateway's default)." },
  },
});

const PERSON_DESCRIPTION =
  "The person: an `Account` ID (its linked identityId, per the site map) or an `AliyunPerson` ID.";

@InputType({ description: "An Aliyun person to create or update (`/entrance/paas/user/modify`)." })
export class AliyunPersonUpsertInput {
  @Field(() => ID, { description: PERSON_DESCRIPTION })
  person!: string;

  @Field(() => String, { nullable: true, description: "How the person is addressed; required to create. Default for an account: its display name." })
  name?: string | null;

  @Field(() => String, { nullable: true, description: "Custom information, stored as given." })
  extInfo?: string | null;
}

@InputType({ description: "An Aliyun person to delete (`/entrance/paas/user/delete`)." })
export class AliyunPersonDeleteInput {
  @Field(() => ID, { description: PERSON_DESCRIPTION })
  person!: string;
}

@InputType({ description: "One card permission." })
export class CardPermissionInput {
  @Field(() => ID, { description: PERSON_DESCRIPTION + " An account with no Aliyun person yet gets one first." })
  person!: string;

  @Field(() => ID, { description: "The device (an `AliyunAccessControlDevice` ID)." })
  device!: string;

  @Field(() => String, { description: "The card id (at most 255 characters)." })
  cardId!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: "When the permission ends; default never (as the gateway decides). Revocations ignore it." })
  expiresAt?: Date | null;
}

@InputType({ description: "Card permissions to grant or revoke, any number: the facade sends them 1000 a call." })
export class CardPermissionsInput {
  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;

  @Field(() => [CardPermissionInput], { description: "The permissions (1 to 10,000)." })
  permissions!: CardPermissionInput[];
}

@InputType({ description: "A QR code to generate for a person (`/homelink/common/qrcode/generate`)." })
export class QrCodeGenerateInput {
  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;

  @Field(() => ID, { description: PERSON_DESCRIPTION })
  person!: string;

  @Field(() => Int, { nullable: true, description: "Length of the code (8 to 64); default 16." })
  length?: number | null;
}

@InputType({ description: "Permissions of a QR code on devices (`/entrance/paas/perm/qrcode/config`)." })
export class QrCodePermissionsSetInput {
  @Field(() => String, { description: "The QR code (from `qrCodeGenerate`)." })
  qrCode!: string;

  @Field(() => ID, { description: PERSON_DESCRIPTION })
  person!: string;

  @Field(() => [ID], { description: "Devices (1 to 500, `AliyunAccessControlDevice` IDs)." })
  devices!: string[];

  @Field(() => DateTimeScalar, { nullable: true, description: "When the code starts to work; default now." })
  effectiveAt?: Date | null;

  @Field(() => DateTimeScalar, { description: "When it stops working; later than `effectiveAt`." })
  expiresAt!: Date;

  @Field(() => Int, { nullable: true, description: "How many scans it allows (-1 or nothing: no limit)." })
  maxScanTimes?: number | null;

  @Field(() => QrScanScope, { nullable: true, description: "How scans are counted; default per device." })
  maxScanScope?: QrScanScope | null;
}

@InputType({ description: "A QR code's permissions to remove (`/entrance/paas/perm/qrcode/remove`)." })
export class QrCodePermissionsRemoveInput {
  @Field(() => String, { description: "The QR code." })
  qrCode!: string;

  @Field(() => ID, { description: PERSON_DESCRIPTION })
  person!: string;

  @Field(() => [ID], { description: "Devices (1 to 500)." })
  devices!: string[];
}

@InputType({
  description:
    "A QR code generated and configured in one call (the gateway's legacy `/entrance/paas/perm/qrcode/generate`, not recommended, 500 devices a call): more devices get one code per 500.",
})
export class QrCodeGrantInput {
  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;

  @Field(() => ID, { description: PERSON_DESCRIPTION })
  person!: string;

  @Field(() => [ID], { description: "Devices (1 to 5,000)." })
  devices!: string[];

  @Field(() => DateTimeScalar, { nullable: true, description: "When the code starts to work: not in the past; default now." })
  effectiveAt?: Date | null;

  @Field(() => DateTimeScalar, { description: "When it stops: later than `effectiveAt` and at most 24 hours after it." })
  expiresAt!: Date;
}

@InputType({ description: "One door password." })
export class DoorPasswordInput {
  @Field(() => ID, { description: PERSON_DESCRIPTION })
  person!: string;

  @Field(() => ID, { description: "The device (an `AliyunAccessControlDevice` ID)." })
  device!: string;

  @Field(() => Int, { description: "Which of the device's passwords (0 to 999)." })
  number!: number;

  @Field(() => String, { description: "The password (at most 255 characters). A secret: never logged nor echoed." })
  password!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: "When it stops working." })
  expiresAt?: Date | null;
}

@InputType({ description: "Door passwords to set, any number: the facade sends them 100 a call." })
export class DoorPasswordsSetInput {
  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;

  @Field(() => [DoorPasswordInput], { description: "The passwords (1 to 10,000)." })
  passwords!: DoorPasswordInput[];
}

@ObjectType({ description: "The result of a mutation on a person." })
export class AliyunPersonPayload extends MutationPayload {
  @Field(() => AliyunPerson, { nullable: true, description: "The person as the gateway now has it (null after a delete)." })
  person!: AliyunPersonRecord | null;
}

@ObjectType("BatchRefusal", { description: "A record of a batch the gateway refused." })
export class BatchRefusalType {
  @Field(() => Int, { description: "Its index in the input list." })
  item!: number;

  @Field(() => String, { description: "Why, as the gateway says it." })
  reason!: string;

  @Field(() => String, { description: "The gateway's code (`RECORD_FAILED` for a record it listed as not done)." })
  code!: string;
}

/** What a batch cut into gateway calls did, record by record (indexes into the input list). */
@ObjectType({ description: "Base of batch payloads." })
export abstract class BatchPayload extends MutationPayload {
  @Field(() => [Int], { description: "Indexes of the records the gateway applied." })
  applied!: number[];

  @Field(() => [BatchRefusalType], { description: "Records the gateway refused, with its reasons: a retry with the same `idempotencyKey` does not send them again." })
  refused!: BatchRefusal[];

  @Field(() => [Int], {
    description:
      "Indexes whose outcome is unknown: their call failed without an answer (5xx, timeout), so the gateway may or may not have applied them. A retry with the same `idempotencyKey` sends them again (setting or removing a permission twice leaves the same state).",
  })
  unknown!: number[];

  @Field(() => [Int], { description: "Indexes not sent: after a call failed without an answer the rest of the batch is not sent. A retry with the same `idempotencyKey` sends them." })
  notSent!: number[];

  @Field(() => Boolean, { description: "True when every record was applied or refused; false when some are `unknown` or `notSent` (a retry with the same `idempotencyKey` sends only those)." })
  complete!: boolean;
}

@ObjectType({ description: "The result of a batch of card permissions, record by record (indexes into `input.permissions`)." })
export class CardPermissionsPayload extends BatchPayload {
  @Field(() => Int, { description: "How many permissions were carried out." })
  succeeded!: number;

  @Field(() => Int, { description: "How many the gateway reported as failed (each in `userErrors`, naming its index)." })
  failed!: number;

  @Field(() => Int, { description: "Gateway calls made (the batch is cut 1000 a call; a retry counts its own calls on top of the first's)." })
  calls!: number;

  @Field(() => [AliyunPerson], { description: "Persons created first, for accounts that had none." })
  personsCreated!: AliyunPersonRecord[];
}

@ObjectType({ description: "The result of a QR-code mutation." })
export class QrCodePayload extends MutationPayload {
  @Field(() => [String], { description: "The QR codes generated (one per 500 devices for `qrCodeGrant`)." })
  qrCodes!: string[];

  @Field(() => [ID], { description: "Devices (IDs) where the operation succeeded." })
  devices!: string[];
}

@ObjectType({ description: "The result of `doorPasswordsSet`, record by record (indexes into `input.passwords`)." })
export class DoorPasswordsPayload extends BatchPayload {
  @Field(() => Int, { description: "Passwords set." })
  succeeded!: number;

  @Field(() => Int, { description: "Passwords the gateway reported as not set (each in `userErrors`)." })
  failed!: number;

  @Field(() => Int, { description: "Gateway calls made (100 passwords a call)." })
  calls!: number;
}

/**
 * One record of a batch as person, device and its own key (card id, password slot), the IDs compared decoded. The
 * person is compared as the gateway's identityId: an `Account` ID by the identityId the site map links it to, so
 * an account and the `AliyunPerson` ID of its person are the same person (no vendor call needed to tell).
 */
function permissionKey(siteMap: SiteMap, person: string, device: string, own: string | undefined): string | null {
  const p = fromGlobalId(person ?? "");
  const d = fromGlobalId(device ?? "");
  if (!p || !d || !own) return null;
  const identityId = p.type === "Account" ? siteMap.identityIdOf(p.parts[2] ?? "") : p.type === "AliyunPerson" ? p.parts[0] : idKey(p);
  return `${identityId}|${idKey(d)}|${own}`;
}


/** A card-permissions payload for a batch that sent nothing (its input was refused). */
const emptyBatch = (userErrors: UserError[]): DoorPasswordsPayload => ({ userErrors, succeeded: 0, failed: 0, calls: 0, applied: [], refused: [], unknown: [], notSent: [], complete: true });
const nothingSent = (userErrors: UserError[]): CardPermissionsPayload => ({ ...emptyBatch(userErrors), personsCreated: [] });

/**
 * A batch's payload, merged with the earlier attempt's of the same idempotency key: what it applied or refused
 * stays, with its refusals' user errors; unknown / not sent are this attempt's.
 */
function batchPayload(o: BatchOutcome, prior?: DoorPasswordsPayload & BatchPrior): DoorPasswordsPayload {
  const applied = [...(prior?.applied ?? []), ...o.applied].sort((a, b) => a - b);
  const refused = [...(prior?.refused ?? []), ...o.refused].sort((a, b) => a.item - b.item);
  const kept = (prior?.userErrors ?? []).filter((e) => e.code !== "OUTCOME_UNKNOWN");
  return {
    userErrors: [...kept, ...o.failures],
    succeeded: applied.length,
    failed: refused.length,
    calls: (prior?.calls ?? 0) + o.calls,
    applied,
    refused,
    unknown: o.unknown,
    notSent: o.notSent,
    complete: o.complete,
  };
}

function cardsPayload(o: BatchOutcome & { personsCreated?: AliyunPersonRecord[] }, prior?: CardPermissionsPayload & BatchPrior): CardPermissionsPayload {
  return { ...batchPayload(o, prior), personsCreated: [...(prior?.personsCreated ?? []), ...(o.personsCreated ?? [])] };
}

@Resolver()
export class AliyunMutationResolver {
  /** A person as the input names it: an account (checked and linked by the data source) or an identityId. */
  private person(check: InputErrors, id: string, field: string): PersonInput | undefined {
    const decoded = check.id(id, field, "Account", "AliyunPerson");
    if (!decoded) return undefined;
    if (decoded.type === "AliyunPerson") return { identityId: decoded.parts[0] };
    const [projectId, residenceId, accountId] = decoded.parts;
    return { account: { projectId, residenceId, accountId } };
  }

  private device(check: InputErrors, id: string, field: string): string | undefined {
    return check.id(id, field, "AliyunAccessControlDevice")?.parts[0];
  }

  @RequiresScope("write")
  @Mutation(() => AliyunPersonPayload, { nullable: true, description: "Creates or updates an Aliyun person." })
  async aliyunPersonUpsert(@Arg("input", () => AliyunPersonUpsertInput, { description: "The person." }) input: AliyunPersonUpsertInput, @Ctx() ctx: GraphContext): Promise<AliyunPersonPayload> {
    const check = new InputErrors();
    const person = this.person(check, input.person, "input.person");
    if (input.name !== null && input.name !== undefined) check.text(input.name, "input.name", { max: 255 });
    if (input.extInfo) check.text(input.extInfo, "input.extInfo", { max: 1024, freeText: true });
    if (!check.ok || !person) return { userErrors: check.errors, person: null };
    const done = await attempt(() => ctx.aliyun.upsertPerson(person, { name: input.name ?? undefined, extInfo: input.extInfo ?? undefined }), "input.person");
    return done.ok ? { userErrors: [], person: await ctx.aliyun.person(done.value) } : { userErrors: done.errors, person: null };
  }

  @RequiresScope("write")
  @Mutation(() => AliyunPersonPayload, { nullable: true, description: "Deletes an Aliyun person and its permissions." })
  async aliyunPersonDelete(@Arg("input", () => AliyunPersonDeleteInput, { description: "The person." }) input: AliyunPersonDeleteInput, @Ctx() ctx: GraphContext): Promise<AliyunPersonPayload> {
    const check = new InputErrors();
    const person = this.person(check, input.person, "input.person");
    if (!check.ok || !person) return { userErrors: check.errors, person: null };
    const done = await attempt(() => ctx.aliyun.deletePerson(person), "input.person");
    return { userErrors: done.ok ? [] : done.errors, person: null };
  }

  private checkPermissions(input: CardPermissionsInput, grant: boolean, siteMap: SiteMap): { check: InputErrors; grants: CardGrant[] } {
    const check = new InputErrors();
    const list = check.items(input.permissions, "input.permissions", 10_000) ?? [];
    const grants = list.flatMap((p, i) => {
      const at = `input.permissions.${i}`;
      const person = this.person(check, p.person, `${at}.person`);
      const iotId = this.device(check, p.device, `${at}.device`);
      const cardId = check.text(p.cardId, `${at}.cardId`, { max: 255 });
      if (grant) check.notPast(p.expiresAt, `${at}.expiresAt`);
      return person && iotId && cardId ? [{ person, iotId, cardId, expiresAt: p.expiresAt }] : [];
    });
    // The same person (an account or its AliyunPerson ID), device and card twice: the gateway would apply one and
    // the payload could not say which.
    check.unique(list, (p) => permissionKey(siteMap, p.person, p.device, p.cardId?.trim()), (i) => `input.permissions.${i}`);
    return { check, grants };
  }

  @RequiresScope("write")
  @Mutation(() => CardPermissionsPayload, {
    nullable: true,
    description:
      "Grants card permissions, any number (`/entrance/paas/perm/card/batchmodify`, 1000 a call). Accounts without an Aliyun person get one first. Reports, record by record, what was applied, refused (also in `userErrors`), unknown and not sent; a retry with the same `idempotencyKey` sends only what is not known to be applied.",
  })
  @UseMiddleware(Idempotent)
  @UseMiddleware(PublishesAccessEvent)
  async cardPermissionsGrant(
    @Arg("input", () => CardPermissionsInput, { description: "The permissions." }) input: CardPermissionsInput,
    @Ctx() ctx: GraphContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<CardPermissionsPayload> {
    const { check, grants } = this.checkPermissions(input, true, ctx.aliyun.siteMap);
    if (!check.ok) return nothingSent(check.errors);
    const prior = priorAttempt<CardPermissionsPayload & BatchPrior>(ctx, info);
    return cardsPayload(await ctx.aliyun.grantCards(grants, prior), prior);
  }

  @RequiresScope("write")
  @Mutation(() => CardPermissionsPayload, {
    nullable: true,
    description: "Revokes card permissions, any number (`/entrance/paas/perm/card/batchdelete`, 1000 a call). Reports, record by record, what was applied, refused, unknown and not sent.",
  })
  @UseMiddleware(Idempotent)
  @UseMiddleware(PublishesAccessEvent)
  async cardPermissionsRevoke(
    @Arg("input", () => CardPermissionsInput, { description: "The permissions." }) input: CardPermissionsInput,
    @Ctx() ctx: GraphContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<CardPermissionsPayload> {
    const { check, grants } = this.checkPermissions(input, false, ctx.aliyun.siteMap);
    if (!check.ok) return nothingSent(check.errors);
    const prior = priorAttempt<CardPermissionsPayload & BatchPrior>(ctx, info);
    return cardsPayload(await ctx.aliyun.revokeCards(grants, prior), prior);
  }

  @RequiresScope("write")
  @Mutation(() => QrCodePayload, { nullable: true, description: "Generates a QR code for a person; give it permissions with `qrCodePermissionsSet`." })
  @UseMiddleware(Idempotent)
  async qrCodeGenerate(@Arg("input", () => QrCodeGenerateInput, { description: "The person." }) input: QrCodeGenerateInput, @Ctx() ctx: GraphContext): Promise<QrCodePayload> {
    const check = new InputErrors();
    const person = this.person(check, input.person, "input.person");
    if (input.length !== null && input.length !== undefined) check.int(input.length, "input.length", 8, 64);
    if (!check.ok || !person) return { userErrors: check.errors, qrCodes: [], devices: [] };
    const done = await attempt(() => ctx.aliyun.generateQrCode(person, input.length ?? undefined), "input.person");
    return done.ok ? { userErrors: [], qrCodes: [done.value], devices: [] } : { userErrors: done.errors, qrCodes: [], devices: [] };
  }

  /** Per-device results (`{iotId, code, message}`) → the devices that succeeded and user errors for the rest. */
  private perDevice(results: Record<string, unknown>[], ids: string[], iotIds: string[]) {
    const ok: string[] = [];
    const errors: UserError[] = [];
    for (const r of results) {
      const i = iotIds.indexOf(String(r.iotId));
      if (String(r.code) === "200") ok.push(ids[i] ?? String(r.iotId));
      else errors.push({ field: i >= 0 ? ["input", "devices", String(i)] : null, message: String(r.message ?? "refused"), code: String(r.code) });
    }
    return { ok, errors };
  }

  @RequiresScope("write")
  @Mutation(() => QrCodePayload, { nullable: true, description: "Gives a QR code permissions on devices, with validity and scan limits." })
  @UseMiddleware(PublishesAccessEvent)
  async qrCodePermissionsSet(@Arg("input", () => QrCodePermissionsSetInput, { description: "The code and devices." }) input: QrCodePermissionsSetInput, @Ctx() ctx: GraphContext): Promise<QrCodePayload> {
    const check = new InputErrors();
    const qrCode = check.text(input.qrCode, "input.qrCode", { max: 255 });
    const person = this.person(check, input.person, "input.person");
    const iotIds = (check.items(input.devices, "input.devices", 500) ?? []).map((d, i) => this.device(check, d, `input.devices.${i}`) ?? "");
    check.unique(iotIds, (d) => d || null, (i) => `input.devices.${i}`);
    const effective = input.effectiveAt ?? new Date();
    if (input.expiresAt <= effective) check.add("input.expiresAt", "input.expiresAt must be later than input.effectiveAt");
    else check.notPast(input.expiresAt, "input.expiresAt");
    if (input.maxScanTimes !== null && input.maxScanTimes !== undefined && input.maxScanTimes !== -1) check.int(input.maxScanTimes, "input.maxScanTimes", 1);
    if (!check.ok || !person || !qrCode) return { userErrors: check.errors, qrCodes: [], devices: [] };
    const done = await attempt(() => ctx.aliyun.configureQrCode(qrCode, person, iotIds, input));
    if (!done.ok) return { userErrors: done.errors, qrCodes: [], devices: [] };
    const { ok, errors } = this.perDevice(done.value, input.devices, iotIds);
    return { userErrors: errors, qrCodes: [qrCode], devices: ok };
  }

  @RequiresScope("write")
  @Mutation(() => QrCodePayload, { nullable: true, description: "Removes a QR code's permissions on devices." })
  @UseMiddleware(PublishesAccessEvent)
  async qrCodePermissionsRemove(@Arg("input", () => QrCodePermissionsRemoveInput, { description: "The code and devices." }) input: QrCodePermissionsRemoveInput, @Ctx() ctx: GraphContext): Promise<QrCodePayload> {
    const check = new InputErrors();
    const qrCode = check.text(input.qrCode, "input.qrCode", { max: 255 });
    const person = this.person(check, input.person, "input.person");
    const iotIds = (check.items(input.devices, "input.devices", 500) ?? []).map((d, i) => this.device(check, d, `input.devices.${i}`) ?? "");
    check.unique(iotIds, (d) => d || null, (i) => `input.devices.${i}`);
    if (!check.ok || !person || !qrCode) return { userErrors: check.errors, qrCodes: [], devices: [] };
    const done = await attempt(() => ctx.aliyun.removeQrCode(qrCode, person, iotIds));
    if (!done.ok) return { userErrors: done.errors, qrCodes: [], devices: [] };
    const { ok, errors } = this.perDevice(done.value, input.devices, iotIds);
    return { userErrors: errors, qrCodes: [qrCode], devices: ok };
  }

  @RequiresScope("write")
  @Mutation(() => QrCodePayload, {
    nullable: true,
    description:
      "Generates a QR code and gives it permissions in one call (the gateway's legacy path): at most 24 hours of validity, starting now or later. More than 500 devices get one code per 500.",
  })
  @UseMiddleware(Idempotent)
  @UseMiddleware(PublishesAccessEvent)
  async qrCodeGrant(@Arg("input", () => QrCodeGrantInput, { description: "The person, devices and validity." }) input: QrCodeGrantInput, @Ctx() ctx: GraphContext): Promise<QrCodePayload> {
    const check = new InputErrors();
    const person = this.person(check, input.person, "input.person");
    const iotIds = (check.items(input.devices, "input.devices", 5000) ?? []).map((d, i) => this.device(check, d, `input.devices.${i}`) ?? "");
    // A device twice would be sent twice (in one code or, past 500, in two) and `devices` could not say which.
    check.unique(iotIds, (d) => d || null, (i) => `input.devices.${i}`);
    const now = Date.now();
    const effective = input.effectiveAt ?? new Date(now);
    if (input.effectiveAt && input.effectiveAt.getTime() < now - 60_000) check.add("input.effectiveAt", "input.effectiveAt must not be in the past");
    if (input.expiresAt <= effective) check.add("input.expiresAt", "input.expiresAt must be later than input.effectiveAt");
    else if (input.expiresAt.getTime() > effective.getTime() + 24 * 3600 * 1000) {
      check.add("input.expiresAt", "input.expiresAt must be at most 24 hours after input.effectiveAt (the gateway's limit for this call)");
    }
    if (!check.ok || !person) return { userErrors: check.errors, qrCodes: [], devices: [] };
    // A refused part stops the rest: what was done so far is reported, nothing more is sent.
    const { qrCodes, devicesDone, failure } = await ctx.aliyun.grantQrCodes(person, iotIds, input);
    return { userErrors: failure ? [failure] : [], qrCodes, devices: input.devices.slice(0, devicesDone) };
  }

  @RequiresScope("write")
  @Mutation(() => DoorPasswordsPayload, {
    nullable: true,
    description:
      "Sets door passwords, any number (`/entrance/paas/perm/passwd/modify`, 100 a call). Reports, record by record, what was applied, refused, unknown and not sent; a retry with the same `idempotencyKey` sends only what is not known to be applied. Its record keeps no password.",
  })
  @UseMiddleware(Idempotent)
  @UseMiddleware(PublishesAccessEvent)
  async doorPasswordsSet(
    @Arg("input", () => DoorPasswordsSetInput, { description: "The passwords." }) input: DoorPasswordsSetInput,
    @Ctx() ctx: GraphContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<DoorPasswordsPayload> {
    const check = new InputErrors();
    const list = check.items(input.passwords, "input.passwords", 10_000) ?? [];
    const passwords = list.flatMap((p, i) => {
      const at = `input.passwords.${i}`;
      const person = this.person(check, p.person, `${at}.person`);
      const iotId = this.device(check, p.device, `${at}.device`);
      check.int(p.number, `${at}.number`, 0, 999);
      if (!p.password || p.password.length > 255) check.add(`${at}.password`, `${at}.password must be 1 to 255 characters`, p.password ? "TOO_LONG" : "REQUIRED");
      check.notPast(p.expiresAt, `${at}.expiresAt`);
      return person && iotId ? [{ person, iotId, number: p.number, password: p.password, expiresAt: p.expiresAt }] : [];
    });
    check.unique(list, (p) => permissionKey(ctx.aliyun.siteMap, p.person, p.device, String(p.number)), (i) => `input.passwords.${i}`);
    if (!check.ok) return emptyBatch(check.errors);
    const prior = priorAttempt<DoorPasswordsPayload & BatchPrior>(ctx, info);
    return batchPayload(await ctx.aliyun.setPasswords(passwords, prior), prior);
  }
}
