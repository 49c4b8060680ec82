import { chunks } from "../../lib/chunks.js";
import { formatVendorDateTimeAt } from "../../lib/time.js";
import { isVendorRejection } from "../base.js";
import type { UpstreamError } from "../../errors.js";
import { expectArray } from "./mappers.js";
import type { AliyunPersonRecord } from "./model.js";
import { ALIYUN_READS, AliyunReads, type PersonInput, type VerifiedPerson } from "./reads.js";

export { ALIYUN_IOT_IDS_PER_QUERY, ALIYUN_PAGE_SIZE, ALIYUN_READS, type AccountDirectory, type AliyunDataSourceOptions, type PersonInput } from "./reads.js";

/** The write paths of `003_d332e758188ea47b.txt` with their `apiVer`. */
export const ALIYUN_WRITES = {
  userModify: { path: "/entrance/paas/user/modify", apiVer: "1.0.0" },
  userDelete: { path: "/entrance/paas/user/delete", apiVer: "1.0.0" },
  cardBatchModify: { path: "/entrance/paas/perm/card/batchmodify", apiVer: "1.0.2" },
  cardBatchDelete: { path: "/entrance/paas/perm/card/batchdelete", apiVer: "1.0.1" },
  keepOpenSet: { path: "/entrance/paas/keepopen/set", apiVer: "1.0.0" },
  qrGenerate: { path: "/homelink/common/qrcode/generate", apiVer: "1.0.1" },
  qrConfig: { path: "/entrance/paas/perm/qrcode/config", apiVer: "1.0.1" },
  qrRemove: { path: "/entrance/paas/perm/qrcode/remove", apiVer: "1.0.1" },
  qrLegacyGenerate: { path: "/entrance/paas/perm/qrcode/generate", apiVer: "1.0.1" },
  passwordModify: { path: "/entrance/paas/perm/passwd/modify", apiVer: "1.0.0" },
  serviceInvoke: { path: "/cloud/thing/service/invoke", apiVer: "1.0.1" },
} as const;

/** Documented batch limits (003): cards a batchmodify, passwords a passwd/modify, devices a legacy QR call. */
export const ALIYUN_LIMITS = { cards: 1000, passwords: 100, legacyQrDevices: 500 } as const;

/** A reason part of a batch was not carried out, pinned to the input it concerns (a mutation's user error). */
export interface BatchFailure {
  field: string[] | null;
  message: string;
  code: string;
}

/** A record the gateway refused, by its index in the input, with the gateway's reason. */
export interface BatchRefusal {
  item: number;
  reason: string;
  code: string;
}

/**
 * What became of a batch cut into calls, record by record (indexes into the input): `applied` (the call answered
 * and did not list the record as failed), `refused` (listed as failed, or its call refused as a whole), `unknown`
 * (its call failed without an answer — 5xx, timeout, reset: the gateway may or may not have applied it) and
 * `notSent` (after such a failure the rest of the batch is not sent). `complete` when every record is applied or
 * refused.
 */
export interface BatchOutcome {
  succeeded: number;
  failed: number;
  calls: number;
  failures: BatchFailure[];
  applied: number[];
  refused: BatchRefusal[];
  unknown: number[];
  notSent: number[];
  complete: boolean;
}

/** What an earlier attempt of the same batch (same idempotency key) already knows: these records are not sent again. */
export interface BatchPrior {
  applied: readonly number[];
  refused: readonly BatchRefusal[];
  /** Records whose earlier call failed without an answer: sent again. */
  unknown?: readonly number[];
}

/** One card permission to grant or revoke. */
export interface CardGrant {
  person: PersonInput;
  iotId: string;
  cardId: string;
  /** Grants only; default never. */
  expiresAt?: Date | null;
}

/** One door password. */
export interface DoorPassword {
  person: PersonInput;
  iotId: string;
  number: number;
  password: string;
  expiresAt?: Date | null;
}

/** A QR code's window and scan limits (003 二维码权限配置). */
export interface QrWindow {
  effectiveAt?: Date | null;
  expiresAt: Date;
  maxScanTimes?: number | null;
  maxScanScope?: "SHARE" | "DEVICE" | null;
}

const rejection = (error: unknown, field: string[] | null = null): BatchFailure => ({
  field,
  message: (error as UpstreamError).upstream.vendorMessage ?? (error as UpstreamError).message,
  code: String((error as UpstreamError).upstream.vendorCode),
});

/**
 * The Aliyun IoT access-control API in the graph's terms, built once per GraphQL request: the writes of
 * `003_*.txt` over the reads and checks of {@link AliyunReads}. Every write checks each person and device it
 * names before the first call is sent; a batch is cut at the document's limits here, not by the caller.
 */
export class AliyunDataSource extends AliyunReads {
  private call(which: keyof typeof ALIYUN_WRITES, params: Record<string, unknown>, id?: string): Promise<unknown> {
    return this.write({ ...ALIYUN_WRITES[which], which, params, kind: "write", id });
  }

  private userGetKey(identityId: string): string {
    return this.cacheKey(ALIYUN_READS.userGet.path, { identityId });
  }

  /** After card grants or revokes: the card permissions of those persons and devices, on every instance. */
  private async cardPermissionsChanged(cards: readonly { identityId: string; iotId: string }[]): Promise<void> {
    const groups = new Set(cards.flatMap((c) => [this.permissionsGroup("person", c.identityId), this.permissionsGroup("device", c.iotId)]));
    await this.invalidateGroups(...groups);
  }

  /** Every person of a write, checked (and its identity derived) before anything is sent. */
  private async verifyAll<T extends { person: PersonInput }>(rows: readonly T[]): Promise<(T & { who: VerifiedPerson })[]> {
    return Promise.all(rows.map(async (r) => ({ ...r, who: await this.verifyPerson(r.person) })));
  }

  private async accountName(who: VerifiedPerson): Promise<string | undefined> {
    if (!who.account) return undefined;
    const { projectId, residenceId, accountId } = who.account;
    const account = await this.options.accounts.account(projectId, residenceId, accountId);
    return [account?.firstName, account?.lastName].filter(Boolean).join(" ") || undefined;
  }

  /**
   * `/entrance/paas/user/modify` (003 添加或更新人员信息): creates or updates; `name` is required to create, and
   * defaults to the linked account's display name when the person does not exist yet. Answers the identityId.
   */
  async upsertPerson(person: PersonInput, fields: { name?: string; extInfo?: string } = {}): Promise<string> {
    const who = await this.verifyPerson(person);
    let name = fields.name;
    if (name === undefined && who.account && !(await this.personOf(who.identityId, who.projectId, true))) name = await this.accountName(who);
    try {
      await this.call("userModify", { identityId: who.identityId, ...(name !== undefined ? { name } : {}), ...(fields.extInfo !== undefined ? { extInfo: fields.extInfo } : {}) });
      return who.identityId;
    } finally {
      await this.invalidate(this.userGetKey(who.identityId));
    }
  }

  /** `/entrance/paas/user/delete` (003 删除人员信息). */
  async deletePerson(person: PersonInput) {
    const who = await this.verifyPerson(person);
    try {
      return await this.call("userDelete", { identityId: who.identityId });
    } finally {
      await this.invalidate(this.userGetKey(who.identityId));
      await this.invalidateGroups(this.permissionsGroup("person", who.identityId));
    }
  }

  /** Creates, for each account without one, its Aliyun person (named after the account) before permissions. */
  private async ensurePersons(persons: readonly VerifiedPerson[]): Promise<{ created: AliyunPersonRecord[]; failures: BatchFailure[] }> {
    const byIdentity = new Map(persons.filter((p) => p.account).map((p) => [p.identityId, p]));
    const created: AliyunPersonRecord[] = [];
    const failures: BatchFailure[] = [];
    await Promise.all(
      [...byIdentity.values()].map(async (who) => {
        if (await this.personOf(who.identityId, who.projectId, true)) return;
        const name = (await this.accountName(who)) ?? who.account!.accountId;
        try {
          await this.call("userModify", { identityId: who.identityId, name });
          created.push({ __typename: "AliyunPerson", identityId: who.identityId, name, extInfo: null, projectId: who.projectId });
        } catch (error) {
          if (!isVendorRejection(error)) throw error;
          failures.push(rejection(error));
        } finally {
          await this.invalidate(this.userGetKey(who.identityId));
        }
      }),
    );
    return { created, failures };
  }

  /**
   * Runs a batch `limit` records a call; a call the gateway refuses as a whole fails all its records, and the
   * records each call reports as not done become failures pinned to their index under `field`.
   *
   * A call that fails without an answer (5xx, timeout, reset) leaves its records `unknown` and stops the batch (the
   * rest `notSent`): the caller gets what was applied instead of an error. Only when nothing at all was applied or
   * refused (and no earlier attempt was) is the error thrown as before, so the idempotency key is freed.
   *
   * With `prior` (a retry with the same idempotency key), the records it applied or refused are not sent again; its
   * unknown records are. That is safe for the batch commands of `003_d332e758188ea47b.txt`: `card/batchmodify`
   * (批量设备门禁卡权限) and `passwd/modify` (设置门禁密码) set a permission to the given value, and
   * `card/batchdelete` (删除刷卡门禁上某用户的权限) removes it — sending one again leaves the same state.
   */
  private async batch<T>(
    rows: readonly T[],
    limit: number,
    field: string,
    send: (part: T[]) => Promise<Record<string, unknown>[]>,
    match: (row: T, failed: Record<string, unknown>) => boolean,
    describe: (failed: Record<string, unknown>) => string,
    prior?: BatchPrior,
    /**
     * For a removal: a record of the earlier attempt's unknown call that the gateway now lists as failed (nothing
     * to remove) was removed by that call — it counts as applied, not refused.
     */
    goneMeansDone = false,
  ): Promise<BatchOutcome> {
    const failures: BatchFailure[] = [];
    const applied: number[] = [];
    const refused: BatchRefusal[] = [];
    const unknown: number[] = [];
    const notSent: number[] = [];
    let calls = 0;
    const known = new Set([...(prior?.applied ?? []), ...(prior?.refused ?? []).map((r) => r.item)]);
    const indexed = rows.map((row, index) => ({ row, index })).filter((r) => !known.has(r.index));
    let stopped: unknown;
    for (const part of chunks(indexed, limit)) {
      if (stopped) {
        notSent.push(...part.map((p) => p.index));
        continue;
      }
      calls++;
      let notDone: Record<string, unknown>[];
      try {
        notDone = await send(part.map((p) => p.row));
      } catch (error) {
        const range = `records ${part[0].index} to ${part[part.length - 1].index}`;
        if (!isVendorRejection(error)) {
          stopped = error;
          unknown.push(...part.map((p) => p.index));
          const message = (error as Error).message;
          failures.push({ field: ["input", field], message: `${range}: the call failed without an answer (${message}); they may or may not be applied, the rest was not sent. Retry with the same idempotencyKey to send what is not known to be applied.`, code: "OUTCOME_UNKNOWN" });
          continue;
        }
        const f = rejection(error);
        for (const p of part) refused.push({ item: p.index, reason: f.message, code: f.code });
        failures.push({ ...f, message: `${f.message} (${range})` });
        continue;
      }
      const failedHere = new Set<number>();
      for (const f of notDone) {
        const found = part.find((p) => !failedHere.has(p.index) && match(p.row, f));
        const reason = describe(f);
        if (found && goneMeansDone && prior?.unknown?.includes(found.index)) {
          failedHere.add(found.index);
          applied.push(found.index);
          continue;
        }
        if (found) {
          failedHere.add(found.index);
          refused.push({ item: found.index, reason, code: "RECORD_FAILED" });
        }
        failures.push({ field: found ? ["input", field, String(found.index)] : null, message: reason, code: "RECORD_FAILED" });
      }
      for (const p of part) if (!failedHere.has(p.index)) applied.push(p.index);
      applied.sort((a, b) => a - b);
    }
    if (stopped && !applied.length && !refused.length && !prior?.applied.length && !prior?.refused.length) throw stopped;
    const failed = refused.length;
    return { failures, failed, calls, succeeded: applied.length, applied, refused, unknown, notSent, complete: !unknown.length && !notSent.length };
  }

  /**
   * Grants card permissions, any number: `/entrance/paas/perm/card/batchmodify` (003 批量设置门禁卡权限), 1000 a
   * call. Every person and device is checked first; accounts without an Aliyun person get one.
   */
  async grantCards(grants: readonly CardGrant[], prior?: BatchPrior): Promise<BatchOutcome & { personsCreated: AliyunPersonRecord[] }> {
    for (const g of grants) this.verifyDevice(g.iotId);
    const rows = await this.verifyAll(grants);
    const persons = await this.ensurePersons(rows.map((r) => r.who));
    if (persons.failures.length) {
      // Nothing was sent for the permissions: they stay to be sent (notSent), the batch is not complete.
      const notSent = grants.map((_, i) => i).filter((i) => !prior?.applied.includes(i) && !prior?.refused.some((r) => r.item === i));
      return { succeeded: 0, failed: 0, calls: 0, failures: persons.failures, personsCreated: persons.created, applied: [], refused: [], unknown: [], notSent, complete: false };
    }
    const zone = this.options.timeZone;
    const cards = rows.map((r) => ({
      identityId: r.who.identityId,
      iotId: r.iotId,
      cardId: r.cardId,
      ...(r.expiresAt ? { expiryTime: formatVendorDateTimeAt(r.expiresAt, zone) } : {}),
    }));
    try {
      const outcome = await this.batch(
        cards,
        ALIYUN_LIMITS.cards,
        "permissions",
        async (part) => expectArray(await this.call("cardBatchModify", { cards: part }), ALIYUN_WRITES.cardBatchModify.path),
        sameCard,
        cardFailure,
        prior,
      );
      return { ...outcome, personsCreated: persons.created };
    } finally {
      await this.cardPermissionsChanged(cards);
    }
  }

  /** Revokes card permissions, any number: `/entrance/paas/perm/card/batchdelete` (003 删除刷卡门禁上某用户的权限), 1000 a call. */
  async revokeCards(grants: readonly CardGrant[], prior?: BatchPrior): Promise<BatchOutcome> {
    for (const g of grants) this.verifyDevice(g.iotId);
    const rows = await this.verifyAll(grants);
    const list = rows.map((r) => ({ identityId: r.who.identityId, iotId: r.iotId, cardId: r.cardId }));
    try {
      return await this.batch(
        list,
        ALIYUN_LIMITS.cards,
        "permissions",
        async (part) => expectArray(await this.call("cardBatchDelete", { list: part }), ALIYUN_WRITES.cardBatchDelete.path),
        sameCard,
        cardFailure,
        prior,
        true,
      );
    } finally {
      await this.cardPermissionsChanged(list);
    }
  }

  /** `/entrance/paas/keepopen/set` (003 设置门禁设备的常开门状态). */
  async setKeepOpen(iotId: string, keepOpen: boolean) {
    this.verifyDevice(iotId);
    try {
      return await this.call("keepOpenSet", { iotId, keepOpen });
    } finally {
      await this.invalidate(this.cacheKey(ALIYUN_READS.keepOpenGet.path, { iotId }));
    }
  }

  /** `/homelink/common/qrcode/generate` (003 生成二维码): a QR code string for a person. */
  async generateQrCode(person: PersonInput, codeLength?: number): Promise<string> {
    const who = await this.verifyPerson(person);
    const data = await this.call("qrGenerate", { identityId: who.identityId, ...(codeLength !== undefined ? { codeLength } : {}) });
    return String(data ?? "");
  }

  /** `/entrance/paas/perm/qrcode/config` (003 二维码权限配置): a result per device (`code` "200" on success). */
  async configureQrCode(qrCode: string, person: PersonInput, iotIds: readonly string[], window: QrWindow): Promise<Record<string, unknown>[]> {
    for (const iotId of iotIds) this.verifyDevice(iotId);
    const who = await this.verifyPerson(person);
    const zone = this.options.timeZone;
    const params = {
      qrCode,
      identityId: who.identityId,
      iotIds: [...iotIds],
      ...(window.effectiveAt ? { effectiveTime: formatVendorDateTimeAt(window.effectiveAt, zone) } : {}),
      expiryTime: formatVendorDateTimeAt(window.expiresAt, zone),
      ...(window.maxScanTimes !== null && window.maxScanTimes !== undefined ? { maxScanTimes: window.maxScanTimes } : {}),
      ...(window.maxScanScope ? { maxScanScope: window.maxScanScope } : {}),
    };
    return expectArray(await this.call("qrConfig", params), ALIYUN_WRITES.qrConfig.path);
  }

  /** `/entrance/paas/perm/qrcode/remove` (003 二维码权限删除): a result per device. */
  async removeQrCode(qrCode: string, person: PersonInput, iotIds: readonly string[]): Promise<Record<string, unknown>[]> {
    for (const iotId of iotIds) this.verifyDevice(iotId);
    const who = await this.verifyPerson(person);
    return expectArray(await this.call("qrRemove", { qrCode, identityId: who.identityId, iotIds: [...iotIds] }), ALIYUN_WRITES.qrRemove.path);
  }

  /**
   * `/entrance/paas/perm/qrcode/generate` (003 生成二维码并配置权限(旧)), 500 devices a call: one code per call.
   * A refused call stops the rest; what was done so far is answered with the rejection. A call that fails without
   * an answer after codes were generated is answered the same way (`OUTCOME_UNKNOWN`), not as an error.
   */
  async grantQrCodes(person: PersonInput, iotIds: readonly string[], window: { effectiveAt?: Date | null; expiresAt: Date }) {
    for (const iotId of iotIds) this.verifyDevice(iotId);
    const who = await this.verifyPerson(person);
    const zone = this.options.timeZone;
    const qrCodes: string[] = [];
    let devicesDone = 0;
    for (const part of chunks(iotIds, ALIYUN_LIMITS.legacyQrDevices)) {
      try {
        const data = await this.call("qrLegacyGenerate", {
          iotIds: part,
          identityId: who.identityId,
          ...(window.effectiveAt ? { effectiveTime: formatVendorDateTimeAt(window.effectiveAt, zone) } : {}),
          expiryTime: formatVendorDateTimeAt(window.expiresAt, zone),
        });
        qrCodes.push(String(data ?? ""));
        devicesDone += part.length;
      } catch (error) {
        if (isVendorRejection(error)) return { qrCodes, devicesDone, failure: rejection(error) };
        if (!qrCodes.length) throw error;
        // Codes were generated already: they are answered, with this part unknown. Not re-sent on a retry with
        // the same key (each call generates a new code: sending it again is not the same command).
        const range = `devices ${devicesDone} to ${devicesDone + part.length - 1}`;
        return { qrCodes, devicesDone, failure: { field: ["input", "devices"], message: `${range}: the call failed without an answer (${(error as Error).message}); a code may or may not have been generated for them, the rest was not sent.`, code: "OUTCOME_UNKNOWN" } };
      }
    }
    return { qrCodes, devicesDone, failure: null };
  }

  /**
   * Sets door passwords, any number: `/entrance/paas/perm/passwd/modify` (003 设置门禁密码), 100 a call. With
   * `prior` (a retry with the same idempotency key) only the records not known to be set are sent again.
   */
  async setPasswords(passwords: readonly DoorPassword[], prior?: BatchPrior): Promise<BatchOutcome> {
    for (const p of passwords) this.verifyDevice(p.iotId);
    const rows = await this.verifyAll(passwords);
    const zone = this.options.timeZone;
    const dtos = rows.map((r) => ({
      identityId: r.who.identityId,
      iotId: r.iotId,
      password: r.password,
      number: r.number,
      ...(r.expiresAt ? { expiredDate: formatVendorDateTimeAt(r.expiresAt, zone) } : {}),
    }));
    return this.batch(
      dtos,
      ALIYUN_LIMITS.passwords,
      "passwords",
      async (part) => expectArray(await this.call("passwordModify", { passwords: part }), ALIYUN_WRITES.passwordModify.path),
      // The gateway names a failed record by its device only.
      (row, f) => row.iotId === f.iotId,
      (f) => `the gateway did not set a password on device ${String(f.iotId)}`,
      prior,
    );
  }

  /** `/cloud/thing/service/invoke` with `remoteOpen` (003 远程控制开门), envelope `id` `requestId`. Never retried. */
  async remoteOpen(iotId: string, requestId: string) {
    this.verifyDevice(iotId);
    return this.call("serviceInvoke", { iotId, identifier: "remoteOpen", args: {} }, requestId);
  }
}

const sameCard = (row: { identityId: string; iotId: string; cardId: string }, f: Record<string, unknown>) =>
  row.identityId === f.identityId && row.iotId === f.iotId && row.cardId === f.cardId;
const cardFailure = (f: Record<string, unknown>) => `the gateway did not apply the permission of card ${String(f.cardId)} on device ${String(f.iotId)}`;
