import DataLoader from "dataloader";
import { ForbiddenError, UpstreamError } from "../../errors.js";
import { chunks } from "../../lib/chunks.js";
import { ConcurrencyLimit } from "../../lib/concurrency.js";
import { stableStringify } from "../../lib/stable-stringify.js";
import type { SiteMap } from "../../site-map.js";
import { CountedPagedList } from "../paging.js";
import { KEY_PREFIX, type ReadThrough } from "../../cache/read-through.js";
import { DeviceVendor } from "../akubela/model.js";
import type { AliyunClient, AliyunRequest } from "./client.js";
import { expectArray, expectObject, mapCardPermission, mapPerson, readPage } from "./mappers.js";
import type { AliyunDeviceRecord, AliyunPersonRecord, CardPermissionRecord } from "./model.js";

/** The read paths of `003_d332e758188ea47b.txt` with the `apiVer` the document gives each. */
export const ALIYUN_READS = {
  userGet: { path: "/entrance/paas/user/get", apiVer: "1.0.0" },
  userQuery: { path: "/entrance/paas/user/query", apiVer: "1.0.0" },
  userPermQuery: { path: "/entrance/paas/user/perm/query", apiVer: "1.0.0" },
  devicePermQuery: { path: "/entrance/paas/device/perm/query", apiVer: "1.0.0" },
  keepOpenGet: { path: "/entrance/paas/keepopen/get", apiVer: "1.0.0" },
} as const;

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

/** Documented limits: pageSize ≤ 100 (user/query, device/perm/query), ≤ 100 iotIds a user/perm/query. */
export const ALIYUN_PAGE_SIZE = 100;
export const ALIYUN_IOT_IDS_PER_QUERY = 100;

/** The gateway body code for "identityId does not exist" (aliyun-gateway.md, "Body codes"). */
const IDENTITY_NOT_FOUND = "2062";

export interface AliyunDataSourceOptions {
  /** Whether this caller may make the server call the gateway (with its app key): API-key callers only. */
  gatewayAllowed: boolean;
  concurrency: number;
  /** Offset of the gateway's zone-less times. */
  timeZone: string;
  /** Benchmark baseline: no deduplication or batching (see Config.naive). */
  naive?: boolean;
  /** Reports each DataLoader batch's size (metrics). */
  onBatch?: (loader: string, size: number) => void;
  /** The shared cache; `scope` is a hash of the app key that fetches (the gateway credential). */
  cache?: { readThrough: ReadThrough; scope: string; ttlMs: Partial<Record<keyof typeof ALIYUN_READS, number>>; staleMs: number; bypass: boolean };
}

/** A gateway read, with the name of its path (which sets its cache TTL). */
type AliyunRead = AliyunRequest & { which: keyof typeof ALIYUN_READS };

/** A permission key for the person-view loader: one person on one device. */
interface PermKey {
  identityId: string;
  iotId: string;
}

/**
 * The Aliyun IoT access-control API in the graph's terms, built once per GraphQL request.
 *
 * Reads go through one DataLoader keyed by path + stable-stringified params (sent once per request). Card
 * permissions of people on devices go through a second loader keyed by (identityId, iotId): a batch is grouped by
 * person and cut into chunks of 100 iotIds, so the card permissions of many accounts over many devices cost one
 * `/entrance/paas/user/perm/query` per (person, 100-device chunk), however the query is shaped.
 */
export class AliyunDataSource {
  private readonly limit: ConcurrencyLimit;
  private readonly reads: DataLoader<AliyunRead, unknown, string>;
  private readonly perms: DataLoader<PermKey, CardPermissionRecord[], string>;
  private readonly devicePermLists = new Map<string, CountedPagedList<CardPermissionRecord>>();
  private personList?: CountedPagedList<AliyunPersonRecord>;

  constructor(
    private readonly client: AliyunClient,
    readonly siteMap: SiteMap,
    private readonly options: AliyunDataSourceOptions,
  ) {
    this.limit = new ConcurrencyLimit(options.concurrency);
    const naive = options.naive ? { cache: false, batch: false } : {};
    this.reads = new DataLoader(
      (requests) => {
        options.onBatch?.("aliyun.reads", requests.length);
        return Promise.all(requests.map((r) => this.fetch(r).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))))));
      },
      { cacheKeyFn: (r) => `${r.path}|${stableStringify(r.params)}`, ...naive },
    );
    this.perms = new DataLoader(
      async (keys) => {
        options.onBatch?.("aliyun.card_permissions", keys.length);
        return this.loadPermissions(keys);
      },
      { cacheKeyFn: (k) => `${k.identityId}\u0000${k.iotId}`, ...naive },
    );
  }

  /** The gateway uses the server's app key: a caller with only a vendor token of its own may not spend it. */
  private requireGateway(): void {
    if (!this.options.gatewayAllowed) {
      throw new ForbiddenError("Aliyun operations use the server's app key: send an API key (X-API-Key) with the needed scope");
    }
  }

  /** One gateway read, through the shared cache for the cacheable paths (persons, keep-open states). */
  private async fetch(req: AliyunRead, bypass = this.options.cache?.bypass ?? false): Promise<unknown> {
    this.requireGateway();
    const send = () => this.limit.run(() => this.client.send(req));
    const cache = this.options.cache;
    const ttlMs = cache?.ttlMs[req.which];
    if (!cache || !ttlMs) return send();
    return cache.readThrough.read(this.cacheKey(req.path, req.params), { ttlMs, staleMs: cache.staleMs, bypass }, send);
  }

  private cacheKey(path: string, params: Record<string, unknown>): string {
    return `${KEY_PREFIX}:${this.options.cache?.scope ?? "-"}:aliyun:${path}:${stableStringify(params)}`;
  }

  /** Removes the shared-cache entries a write made stale. */
  private async invalidate(which: keyof typeof ALIYUN_READS, params: Record<string, unknown>): Promise<void> {
    await this.options.cache?.readThrough.invalidate(this.cacheKey(ALIYUN_READS[which].path, params));
  }

  private read(which: keyof typeof ALIYUN_READS, params: Record<string, unknown>): Promise<unknown> {
    return this.reads.load({ ...ALIYUN_READS[which], which, params, kind: "read" });
  }

  /**
   * A person: `/entrance/paas/user/get` (003 查询人员信息); `null` when the identityId does not exist (2062).
   * `fresh` skips the shared cache: a write deciding on it (create the person first?) must not trust a stale entry.
   */
  async person(identityId: string, options: { fresh?: boolean } = {}): Promise<AliyunPersonRecord | null> {
    try {
      const data = options.fresh
        ? await this.fetch({ ...ALIYUN_READS.userGet, which: "userGet", params: { identityId }, kind: "read" }, true)
        : await this.read("userGet", { identityId });
      if (data === null || data === undefined) return null;
      return mapPerson(expectObject(data, ALIYUN_READS.userGet.path), identityId);
    } catch (error) {
      if (error instanceof UpstreamError && error.upstream.vendorCode === IDENTITY_NOT_FOUND) return null;
      throw error;
    }
  }

  /** One page of persons: `/entrance/paas/user/query` (003 查询人员列表), `pageNo` from 1, `pageSize` ≤ 100. */
  async personsPage(pageNo: number): Promise<{ total: number; persons: AliyunPersonRecord[] }> {
    const { total, rows } = readPage(await this.read("userQuery", { pageSize: ALIYUN_PAGE_SIZE, pageNo }), ALIYUN_READS.userQuery.path);
    return { total, persons: rows.flatMap((r) => mapPerson(r) ?? []) };
  }

  /** The person's card permissions on these devices (batched: see the class comment). */
  async personCardPermissions(identityId: string, iotIds: readonly string[]): Promise<CardPermissionRecord[]> {
    const lists = await this.perms.loadMany(iotIds.map((iotId) => ({ identityId, iotId })));
    return lists.flatMap((l) => {
      if (l instanceof Error) throw l;
      return l;
    });
  }

  private async loadPermissions(keys: readonly PermKey[]): Promise<(CardPermissionRecord[] | Error)[]> {
    const byPerson = new Map<string, string[]>();
    for (const k of keys) {
      const list = byPerson.get(k.identityId) ?? [];
      if (!list.includes(k.iotId)) list.push(k.iotId);
      byPerson.set(k.identityId, list);
    }
    const answers = new Map<string, CardPermissionRecord[] | Error>();
    const parts = [...byPerson].flatMap(([identityId, iotIds]) => chunks(iotIds, ALIYUN_IOT_IDS_PER_QUERY).map((part) => ({ identityId, iotIds: part })));
    await Promise.all(
      parts.map(async ({ identityId, iotIds }) => {
        const key = (iotId: string) => `${identityId}\u0000${iotId}`;
        try {
          const rows = await this.userPermQuery(identityId, iotIds);
          for (const iotId of iotIds) answers.set(key(iotId), rows.filter((r) => r.iotId === iotId));
        } catch (error) {
          // A person the gateway does not know has no permissions; anything else fails this chunk only.
          const unknown = error instanceof UpstreamError && error.upstream.vendorCode === IDENTITY_NOT_FOUND;
          for (const iotId of iotIds) answers.set(key(iotId), unknown ? [] : (error as Error));
        }
      }),
    );
    return keys.map((k) => answers.get(`${k.identityId}\u0000${k.iotId}`) ?? []);
  }

  /**
   * `/entrance/paas/user/perm/query` (003 查询用户的门禁卡权限信息): a person's card permissions on ≤ 100 devices.
   * Answers `{identityId, data: CardDTO[]}`. The document's example swaps `iotId` and `identityId`; a row is
   * attributed to whichever of its two ids is one of the devices asked for.
   */
  private async userPermQuery(identityId: string, iotIds: string[]): Promise<CardPermissionRecord[]> {
    const data = await this.read("userPermQuery", { identityId, iotIds });
    const asked = new Set(iotIds);
    const page = expectObject(data ?? {}, ALIYUN_READS.userPermQuery.path);
    return expectArray(page.data, ALIYUN_READS.userPermQuery.path).flatMap((row) => {
      const iotId = asked.has(String(row.iotId)) ? String(row.iotId) : asked.has(String(row.identityId)) ? String(row.identityId) : undefined;
      return (iotId && mapCardPermission(row, this.options.timeZone, { identityId, iotId })) || [];
    });
  }

  /** A device's card permissions as a list paged by the gateway (pages shared within the request). */
  devicePermissions(iotId: string): CountedPagedList<CardPermissionRecord> {
    let list = this.devicePermLists.get(iotId);
    if (!list) {
      list = new CountedPagedList(async (pageNo) => {
        const { total, permissions } = await this.devicePermissionsPage(iotId, pageNo);
        return { total, items: permissions };
      }, ALIYUN_PAGE_SIZE);
      if (!this.options.naive) this.devicePermLists.set(iotId, list);
    }
    return list;
  }

  /** Every person, paged by the gateway. */
  persons(): CountedPagedList<AliyunPersonRecord> {
    this.personList ??= new CountedPagedList(async (pageNo) => {
      const { total, persons } = await this.personsPage(pageNo);
      return { total, items: persons };
    }, ALIYUN_PAGE_SIZE);
    return this.personList;
  }

  /** One page of a device's card permissions: `/entrance/paas/device/perm/query` (003 查询门禁设备上的权限信息). */
  async devicePermissionsPage(iotId: string, pageNo: number): Promise<{ total: number; permissions: CardPermissionRecord[] }> {
    const { total, rows } = readPage(
      await this.read("devicePermQuery", { iotId, pageSize: ALIYUN_PAGE_SIZE, pageNo }),
      ALIYUN_READS.devicePermQuery.path,
    );
    return { total, permissions: rows.flatMap((r) => mapCardPermission(r, this.options.timeZone, { iotId }) ?? []) };
  }

  /** Is the door kept open: `/entrance/paas/keepopen/get` (003 查询门禁设备的常开门状态); `data` is a Boolean. */
  async keepOpen(iotId: string): Promise<boolean> {
    const data = await this.read("keepOpenGet", { iotId });
    if (typeof data !== "boolean") {
      throw new UpstreamError(`Aliyun answered ${ALIYUN_READS.keepOpenGet.path} with data that is not a Boolean`, "UPSTREAM_ERROR", {
        vendor: "aliyun",
        command: ALIYUN_READS.keepOpenGet.path,
      });
    }
    return data;
  }

  /** The device with this iotId: from the site map, or bare (`mapped: false`) when the map does not name it. */
  device(iotId: string): AliyunDeviceRecord {
    const mapped = this.siteMap.device(iotId);
    return {
      __typename: "AliyunAccessControlDevice",
      vendor: DeviceVendor.ALIYUN,
      iotId,
      name: mapped?.name ?? null,
      projectId: mapped?.projectId ?? null,
      buildingId: mapped?.buildingId ?? null,
      mapped: Boolean(mapped),
      online: null,
      relays: [],
      securityRelays: [],
    };
  }

  /** Site-map devices of a project (and building). */
  devicesOf(projectId: string, buildingId?: string): AliyunDeviceRecord[] {
    return this.siteMap.devicesOf(projectId, buildingId).map((d) => this.device(d.iotId));
  }

  // ---- writes (never retried; each clears this request's loaders) ----

  private async write(which: keyof typeof ALIYUN_WRITES, params: Record<string, unknown>, id?: string): Promise<unknown> {
    this.requireGateway();
    try {
      return await this.limit.run(() => this.client.send({ ...ALIYUN_WRITES[which], params, kind: "write", id }));
    } finally {
      this.forget();
    }
  }

  /** Drops every answer this request holds (after a write). */
  forget(): void {
    this.reads.clearAll();
    this.perms.clearAll();
    this.devicePermLists.clear();
    this.personList = undefined;
  }

  /** `/entrance/paas/user/modify` (003 添加或更新人员信息): creates or updates; `name` is required to create. */
  async upsertPerson(identityId: string, name?: string, extInfo?: string) {
    try {
      return await this.write("userModify", { identityId, ...(name !== undefined ? { name } : {}), ...(extInfo !== undefined ? { extInfo } : {}) });
    } finally {
      await this.invalidate("userGet", { identityId });
    }
  }

  /** `/entrance/paas/user/delete` (003 删除人员信息). */
  async deletePerson(identityId: string) {
    try {
      return await this.write("userDelete", { identityId });
    } finally {
      await this.invalidate("userGet", { identityId });
    }
  }

  /** `/entrance/paas/perm/card/batchmodify` (003 批量设置门禁卡权限, ≤ 1000): answers the records it could not set. */
  async grantCards(cards: { identityId: string; iotId: string; cardId: string; expiryTime?: string }[]): Promise<Record<string, unknown>[]> {
    return expectArray(await this.write("cardBatchModify", { cards }), ALIYUN_WRITES.cardBatchModify.path);
  }

  /** `/entrance/paas/perm/card/batchdelete` (003 删除刷卡门禁上某用户的权限): answers the records it could not remove. */
  async revokeCards(list: { identityId: string; iotId: string; cardId?: string }[]): Promise<Record<string, unknown>[]> {
    return expectArray(await this.write("cardBatchDelete", { list }), ALIYUN_WRITES.cardBatchDelete.path);
  }

  /** `/entrance/paas/keepopen/set` (003 设置门禁设备的常开门状态). */
  async setKeepOpen(iotId: string, keepOpen: boolean) {
    try {
      return await this.write("keepOpenSet", { iotId, keepOpen });
    } finally {
      await this.invalidate("keepOpenGet", { iotId });
    }
  }

  /** `/homelink/common/qrcode/generate` (003 生成二维码): a QR code string for a person. */
  async generateQrCode(identityId: string, codeLength?: number): Promise<string> {
    const data = await this.write("qrGenerate", { identityId, ...(codeLength !== undefined ? { codeLength } : {}) });
    return String(data ?? "");
  }

  /** `/entrance/paas/perm/qrcode/config` (003 二维码权限配置): a result per device (`code` "200" on success). */
  async configureQrCode(params: Record<string, unknown>): Promise<Record<string, unknown>[]> {
    return expectArray(await this.write("qrConfig", params), ALIYUN_WRITES.qrConfig.path);
  }

  /** `/entrance/paas/perm/qrcode/remove` (003 二维码权限删除): a result per device. */
  async removeQrCode(qrCode: string, identityId: string, iotIds: string[]): Promise<Record<string, unknown>[]> {
    return expectArray(await this.write("qrRemove", { qrCode, identityId, iotIds }), ALIYUN_WRITES.qrRemove.path);
  }

  /** `/entrance/paas/perm/qrcode/generate` (003 生成二维码并配置权限(旧), ≤ 500 devices): the QR code. */
  async legacyQrCode(params: Record<string, unknown>): Promise<string> {
    return String((await this.write("qrLegacyGenerate", params)) ?? "");
  }

  /** `/entrance/paas/perm/passwd/modify` (003 设置门禁密码, ≤ 100): answers the records it could not set. */
  async setPasswords(passwords: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
    return expectArray(await this.write("passwordModify", { passwords }), ALIYUN_WRITES.passwordModify.path);
  }

  /** `/cloud/thing/service/invoke` with `remoteOpen` (003 远程控制开门), envelope `id` `requestId`. Never retried. */
  remoteOpen(iotId: string, requestId: string) {
    return this.write("serviceInvoke", { iotId, identifier: "remoteOpen", args: {} }, requestId);
  }
}

