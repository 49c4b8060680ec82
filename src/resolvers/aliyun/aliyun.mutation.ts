import { Arg, Ctx, Field, ID, InputType, Int, Mutation, ObjectType, registerEnumType, Resolver, UseMiddleware } from "type-graphql";
import type { GraphContext } from "../../context.js";
import { Idempotent, IDEMPOTENCY_KEY_DESCRIPTION } from "../common/idempotency.js";
import { ALIYUN_LIMITS } from "../../datasources/aliyun/datasource.js";
import type { AliyunPersonRecord } from "../../datasources/aliyun/model.js";
import { chunks } from "../../lib/chunks.js";
import { formatVendorDateTimeAt } from "../../lib/time.js";
import { attempt, InputErrors, MutationPayload, type UserError } from "../common/mutation.js";
import { DateTimeScalar } from "../common/scalars.js";
import { AliyunPerson } from "./aliyun.type.js";

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
  @Field(() => [DoorPasswordInput], { description: "The passwords (1 to 10,000)." })
  passwords!: DoorPasswordInput[];
}

@ObjectType({ description: "The result of a mutation on a person." })
export class AliyunPersonPayload extends MutationPayload {
  @Field(() => AliyunPerson, { nullable: true, description: "The person as the gateway now has it (null after a delete)." })
  person!: AliyunPersonRecord | null;
}

@ObjectType({ description: "The result of a batch of card permissions." })
export class CardPermissionsPayload extends MutationPayload {
  @Field(() => Int, { description: "How many permissions were carried out." })
  succeeded!: number;

  @Field(() => Int, { description: "How many the gateway reported as failed (each in `userErrors`, naming its index)." })
  failed!: number;

  @Field(() => Int, { description: "Gateway calls made (the batch is cut 1000 a call)." })
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

@ObjectType({ description: "The result of `doorPasswordsSet`." })
export class DoorPasswordsPayload extends MutationPayload {
  @Field(() => Int, { description: "Passwords set." })
  succeeded!: number;

  @Field(() => Int, { description: "Passwords the gateway reported as not set (each in `userErrors`)." })
  failed!: number;

  @Field(() => Int, { description: "Gateway calls made (100 passwords a call)." })
  calls!: number;
}

interface PersonRef {
  identityId: string;
  /** The account, when the input named one (a person can be created for it). */
  account?: { projectId: string; residenceId: string; accountId: string };
}

@Resolver()
export class AliyunMutationResolver {
  private person(ctx: GraphContext, check: InputErrors, id: string, field: string): PersonRef | undefined {
    const decoded = check.id(id, field, "Account", "AliyunPerson");
    if (!decoded) return undefined;
    if (decoded.type === "AliyunPerson") return { identityId: decoded.parts[0] };
    const [projectId, residenceId, accountId] = decoded.parts;
    return { identityId: ctx.aliyun.siteMap.identityIdOf(accountId), account: { projectId, residenceId, accountId } };
  }

  private device(check: InputErrors, id: string, field: string): string | undefined {
    return check.id(id, field, "AliyunAccessControlDevice")?.parts[0];
  }

  /** Creates, for each account without one, its Aliyun person (named after the account) before permissions. */
  private async ensurePersons(ctx: GraphContext, refs: PersonRef[]): Promise<{ created: AliyunPersonRecord[]; errors: UserError[] }> {
    const byIdentity = new Map(refs.filter((r) => r.account).map((r) => [r.identityId, r]));
    const created: AliyunPersonRecord[] = [];
    const errors: UserError[] = [];
    await Promise.all(
      [...byIdentity.values()].map(async (ref) => {
        if (await ctx.aliyun.person(ref.identityId, { fresh: true })) return;
        const account = await ctx.akubela.account(ref.account!.projectId, ref.account!.residenceId, ref.account!.accountId);
        const name = [account?.firstName, account?.lastName].filter(Boolean).join(" ") || ref.account!.accountId;
        const done = await attempt(() => ctx.aliyun.upsertPerson(ref.identityId, name));
        if (done.ok) created.push({ __typename: "AliyunPerson", identityId: ref.identityId, name, extInfo: null });
        else errors.push(...done.errors);
      }),
    );
    return { created, errors };
  }

  @Mutation(() => AliyunPersonPayload, { description: "Creates or updates an Aliyun person." })
  async aliyunPersonUpsert(@Arg("input", () => AliyunPersonUpsertInput, { description: "The person." }) input: AliyunPersonUpsertInput, @Ctx() ctx: GraphContext): Promise<AliyunPersonPayload> {
    const check = new InputErrors();
    const ref = this.person(ctx, check, input.person, "input.person");
    if (input.name !== null && input.name !== undefined) check.text(input.name, "input.name", { max: 255 });
    if (input.extInfo !== null && input.extInfo !== undefined && input.extInfo.length > 1024) check.add("input.extInfo", "input.extInfo is longer than 1024 characters", "TOO_LONG");
    if (!check.ok || !ref) return { userErrors: check.errors, person: null };
    let name = input.name ?? undefined;
    if (name === undefined && ref.account && !(await ctx.aliyun.person(ref.identityId, { fresh: true }))) {
      const account = await ctx.akubela.account(ref.account.projectId, ref.account.residenceId, ref.account.accountId);
      name = [account?.firstName, account?.lastName].filter(Boolean).join(" ") || undefined;
    }
    const done = await attempt(() => ctx.aliyun.upsertPerson(ref.identityId, name, input.extInfo ?? undefined), "input.person");
    return done.ok ? { userErrors: [], person: await ctx.aliyun.person(ref.identityId) } : { userErrors: done.errors, person: null };
  }

  @Mutation(() => AliyunPersonPayload, { description: "Deletes an Aliyun person and its permissions." })
  async aliyunPersonDelete(@Arg("input", () => AliyunPersonDeleteInput, { description: "The person." }) input: AliyunPersonDeleteInput, @Ctx() ctx: GraphContext): Promise<AliyunPersonPayload> {
    const check = new InputErrors();
    const ref = this.person(ctx, check, input.person, "input.person");
    if (!check.ok || !ref) return { userErrors: check.errors, person: null };
    const done = await attempt(() => ctx.aliyun.deletePerson(ref.identityId), "input.person");
    return { userErrors: done.ok ? [] : done.errors, person: null };
  }

  private checkPermissions(ctx: GraphContext, input: CardPermissionsInput, grant: boolean) {
    const check = new InputErrors();
    const list = check.items(input.permissions, "input.permissions", 10_000) ?? [];
    const rows = list.map((p, i) => {
      const at = `input.permissions.${i}`;
      const ref = this.person(ctx, check, p.person, `${at}.person`);
      const iotId = this.device(check, p.device, `${at}.device`);
      const cardId = check.text(p.cardId, `${at}.cardId`, { max: 255 });
      return {
        ref,
        card: {
          identityId: ref?.identityId ?? "",
          iotId: iotId ?? "",
          cardId: cardId ?? "",
          ...(grant && p.expiresAt ? { expiryTime: formatVendorDateTimeAt(p.expiresAt, ctx.config.aliyun.timeZone) } : {}),
        },
      };
    });
    return { check, rows };
  }

  /** Runs a batch 1000 a call and merges the failed records each call reports into user errors by index. */
  private async batch(
    rows: { card: { identityId: string; iotId: string; cardId: string } }[],
    send: (cards: (typeof rows)[number]["card"][]) => Promise<Record<string, unknown>[]>,
  ) {
    const errors: UserError[] = [];
    let failed = 0;
    let calls = 0;
    const indexed = rows.map((r, index) => ({ ...r, index }));
    for (const part of chunks(indexed, ALIYUN_LIMITS.cards)) {
      calls++;
      const done = await attempt(() => send(part.map((r) => r.card)));
      if (!done.ok) {
        // The whole call was refused: every record of it failed, with the gateway's reason.
        failed += part.length;
        errors.push(...done.errors.map((e) => ({ ...e, message: `${e.message} (records ${part[0].index} to ${part[part.length - 1].index})` })));
        continue;
      }
      for (const f of done.value) {
        const match = part.find((r) => r.card.identityId === f.identityId && r.card.iotId === f.iotId && r.card.cardId === f.cardId);
        failed++;
        errors.push({
          field: match ? ["input", "permissions", String(match.index)] : null,
          message: `the gateway did not apply the permission of card ${String(f.cardId)} on device ${String(f.iotId)}`,
          code: "RECORD_FAILED",
        });
      }
    }
    return { errors, failed, calls, succeeded: rows.length - failed };
  }

  @Mutation(() => CardPermissionsPayload, {
    description:
      "Grants card permissions, any number (`/entrance/paas/perm/card/batchmodify`, 1000 a call). Accounts without an Aliyun person get one first. Records the gateway could not apply are in `userErrors`.",
  })
  @UseMiddleware(Idempotent)
  async cardPermissionsGrant(@Arg("input", () => CardPermissionsInput, { description: "The permissions." }) input: CardPermissionsInput, @Ctx() ctx: GraphContext): Promise<CardPermissionsPayload> {
    const { check, rows } = this.checkPermissions(ctx, input, true);
    if (!check.ok) return { userErrors: check.errors, succeeded: 0, failed: 0, calls: 0, personsCreated: [] };
    const persons = await this.ensurePersons(ctx, rows.map((r) => r.ref!));
    if (persons.errors.length) return { userErrors: persons.errors, succeeded: 0, failed: 0, calls: 0, personsCreated: persons.created };
    const result = await this.batch(rows, (cards) => ctx.aliyun.grantCards(cards));
    return { userErrors: result.errors, succeeded: result.succeeded, failed: result.failed, calls: result.calls, personsCreated: persons.created };
  }

  @Mutation(() => CardPermissionsPayload, { description: "Revokes card permissions, any number (`/entrance/paas/perm/card/batchdelete`, 1000 a call)." })
  @UseMiddleware(Idempotent)
  async cardPermissionsRevoke(@Arg("input", () => CardPermissionsInput, { description: "The permissions." }) input: CardPermissionsInput, @Ctx() ctx: GraphContext): Promise<CardPermissionsPayload> {
    const { check, rows } = this.checkPermissions(ctx, input, false);
    if (!check.ok) return { userErrors: check.errors, succeeded: 0, failed: 0, calls: 0, personsCreated: [] };
    const result = await this.batch(rows, (list) => ctx.aliyun.revokeCards(list));
    return { userErrors: result.errors, succeeded: result.succeeded, failed: result.failed, calls: result.calls, personsCreated: [] };
  }

  @Mutation(() => QrCodePayload, { description: "Generates a QR code for a person; give it permissions with `qrCodePermissionsSet`." })
  @UseMiddleware(Idempotent)
  async qrCodeGenerate(@Arg("input", () => QrCodeGenerateInput, { description: "The person." }) input: QrCodeGenerateInput, @Ctx() ctx: GraphContext): Promise<QrCodePayload> {
    const check = new InputErrors();
    const ref = this.person(ctx, check, input.person, "input.person");
    if (input.length !== null && input.length !== undefined) check.int(input.length, "input.length", 8, 64);
    if (!check.ok || !ref) return { userErrors: check.errors, qrCodes: [], devices: [] };
    const done = await attempt(() => ctx.aliyun.generateQrCode(ref.identityId, input.length ?? undefined), "input.person");
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

  @Mutation(() => QrCodePayload, { description: "Gives a QR code permissions on devices, with validity and scan limits." })
  async qrCodePermissionsSet(@Arg("input", () => QrCodePermissionsSetInput, { description: "The code and devices." }) input: QrCodePermissionsSetInput, @Ctx() ctx: GraphContext): Promise<QrCodePayload> {
    const check = new InputErrors();
    const qrCode = check.text(input.qrCode, "input.qrCode", { max: 255 });
    const ref = this.person(ctx, check, input.person, "input.person");
    const iotIds = (check.items(input.devices, "input.devices", 500) ?? []).map((d, i) => this.device(check, d, `input.devices.${i}`) ?? "");
    const effective = input.effectiveAt ?? new Date();
    if (input.expiresAt <= effective) check.add("input.expiresAt", "input.expiresAt must be later than input.effectiveAt");
    if (input.maxScanTimes !== null && input.maxScanTimes !== undefined && input.maxScanTimes !== -1) check.int(input.maxScanTimes, "input.maxScanTimes", 1);
    if (!check.ok || !ref || !qrCode) return { userErrors: check.errors, qrCodes: [], devices: [] };
    const zone = ctx.config.aliyun.timeZone;
    const done = await attempt(() =>
      ctx.aliyun.configureQrCode({
        qrCode,
        identityId: ref.identityId,
        iotIds,
        ...(input.effectiveAt ? { effectiveTime: formatVendorDateTimeAt(input.effectiveAt, zone) } : {}),
        expiryTime: formatVendorDateTimeAt(input.expiresAt, zone),
        ...(input.maxScanTimes !== null && input.maxScanTimes !== undefined ? { maxScanTimes: input.maxScanTimes } : {}),
        ...(input.maxScanScope ? { maxScanScope: input.maxScanScope } : {}),
      }),
    );
    if (!done.ok) return { userErrors: done.errors, qrCodes: [], devices: [] };
    const { ok, errors } = this.perDevice(done.value, input.devices, iotIds);
    return { userErrors: errors, qrCodes: [qrCode], devices: ok };
  }

  @Mutation(() => QrCodePayload, { description: "Removes a QR code's permissions on devices." })
  async qrCodePermissionsRemove(@Arg("input", () => QrCodePermissionsRemoveInput, { description: "The code and devices." }) input: QrCodePermissionsRemoveInput, @Ctx() ctx: GraphContext): Promise<QrCodePayload> {
    const check = new InputErrors();
    const qrCode = check.text(input.qrCode, "input.qrCode", { max: 255 });
    const ref = this.person(ctx, check, input.person, "input.person");
    const iotIds = (check.items(input.devices, "input.devices", 500) ?? []).map((d, i) => this.device(check, d, `input.devices.${i}`) ?? "");
    if (!check.ok || !ref || !qrCode) return { userErrors: check.errors, qrCodes: [], devices: [] };
    const done = await attempt(() => ctx.aliyun.removeQrCode(qrCode, ref.identityId, iotIds));
    if (!done.ok) return { userErrors: done.errors, qrCodes: [], devices: [] };
    const { ok, errors } = this.perDevice(done.value, input.devices, iotIds);
    return { userErrors: errors, qrCodes: [qrCode], devices: ok };
  }

  @Mutation(() => QrCodePayload, {
    description:
      "Generates a QR code and gives it permissions in one call (the gateway's legacy path): at most 24 hours of validity, starting now or later. More than 500 devices get one code per 500.",
  })
  @UseMiddleware(Idempotent)
  async qrCodeGrant(@Arg("input", () => QrCodeGrantInput, { description: "The person, devices and validity." }) input: QrCodeGrantInput, @Ctx() ctx: GraphContext): Promise<QrCodePayload> {
    const check = new InputErrors();
    const ref = this.person(ctx, check, input.person, "input.person");
    const iotIds = (check.items(input.devices, "input.devices", 5000) ?? []).map((d, i) => this.device(check, d, `input.devices.${i}`) ?? "");
    const now = Date.now();
    const effective = input.effectiveAt ?? new Date(now);
    if (input.effectiveAt && input.effectiveAt.getTime() < now - 60_000) check.add("input.effectiveAt", "input.effectiveAt must not be in the past");
    if (input.expiresAt <= effective) check.add("input.expiresAt", "input.expiresAt must be later than input.effectiveAt");
    else if (input.expiresAt.getTime() > effective.getTime() + 24 * 3600 * 1000) {
      check.add("input.expiresAt", "input.expiresAt must be at most 24 hours after input.effectiveAt (the gateway's limit for this call)");
    }
    if (!check.ok || !ref) return { userErrors: check.errors, qrCodes: [], devices: [] };
    const zone = ctx.config.aliyun.timeZone;
    const qrCodes: string[] = [];
    const devices: string[] = [];
    const ids = input.devices.map((id, i) => ({ id, iotId: iotIds[i] }));
    for (const part of chunks(ids, ALIYUN_LIMITS.legacyQrDevices)) {
      const done = await attempt(() =>
        ctx.aliyun.legacyQrCode({
          iotIds: part.map((p) => p.iotId),
          identityId: ref.identityId,
          ...(input.effectiveAt ? { effectiveTime: formatVendorDateTimeAt(input.effectiveAt, zone) } : {}),
          expiryTime: formatVendorDateTimeAt(input.expiresAt, zone),
        }),
      );
      // A refused part stops the rest: what was done so far is reported, nothing more is sent.
      if (!done.ok) return { userErrors: done.errors, qrCodes, devices };
      qrCodes.push(done.value);
      devices.push(...part.map((p) => p.id));
    }
    return { userErrors: [], qrCodes, devices };
  }

  @Mutation(() => DoorPasswordsPayload, { description: "Sets door passwords, any number (`/entrance/paas/perm/passwd/modify`, 100 a call)." })
  async doorPasswordsSet(@Arg("input", () => DoorPasswordsSetInput, { description: "The passwords." }) input: DoorPasswordsSetInput, @Ctx() ctx: GraphContext): Promise<DoorPasswordsPayload> {
    const check = new InputErrors();
    const list = check.items(input.passwords, "input.passwords", 10_000) ?? [];
    const zone = ctx.config.aliyun.timeZone;
    const rows = list.map((p, i) => {
      const at = `input.passwords.${i}`;
      const ref = this.person(ctx, check, p.person, `${at}.person`);
      const iotId = this.device(check, p.device, `${at}.device`);
      check.int(p.number, `${at}.number`, 0, 999);
      if (!p.password || p.password.length > 255) check.add(`${at}.password`, `${at}.password must be 1 to 255 characters`, p.password ? "TOO_LONG" : "REQUIRED");
      return {
        index: i,
        dto: {
          identityId: ref?.identityId ?? "",
          iotId: iotId ?? "",
          password: p.password,
          number: p.number,
          ...(p.expiresAt ? { expiredDate: formatVendorDateTimeAt(p.expiresAt, zone) } : {}),
        },
      };
    });
    if (!check.ok) return { userErrors: check.errors, succeeded: 0, failed: 0, calls: 0 };
    const errors: UserError[] = [];
    let failed = 0;
    let calls = 0;
    for (const part of chunks(rows, ALIYUN_LIMITS.passwords)) {
      calls++;
      const done = await attempt(() => ctx.aliyun.setPasswords(part.map((r) => r.dto)));
      if (!done.ok) {
        failed += part.length;
        errors.push(...done.errors);
        continue;
      }
      // The gateway names a failed record by its device only.
      for (const f of done.value) {
        const match = part.find((r) => r.dto.iotId === f.iotId);
        failed++;
        errors.push({ field: match ? ["input", "passwords", String(match.index)] : null, message: `the gateway did not set a password on device ${String(f.iotId)}`, code: "RECORD_FAILED" });
      }
    }
    return { userErrors: errors, succeeded: rows.length - failed, failed, calls };
  }
}
