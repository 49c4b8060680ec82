import DataLoader from "dataloader";
import { ForbiddenError, UpstreamError } from "../../errors.js";
import { chunks } from "../../lib/chunks.js";
import { paramsKey, stableStringify } from "../../lib/stable-stringify.js";
import type { SiteMap } from "../../site-map.js";
import { KEY_PREFIX } from "../../cache/read-through.js";
import { VendorDataSource, type VendorDataSourceOptions } from "../base.js";
import { CountedPagedList } from "../paging.js";
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

/** Documented limits: pageSize ≤ 100 (user/query, device/perm/query), ≤ 100 iotIds a user/perm/query. */
export const ALIYUN_PAGE_SIZE = 100;
export const ALIYUN_IOT_IDS_PER_QUERY = 100;

/** The gateway body code for "identityId does not exist" (aliyun-gateway.md, "Body codes"). */
export const IDENTITY_NOT_FOUND = "2062";
/** The gateway body code for "iotId does not exist" (aliyun-gateway.md, "Body codes"). */
export const DEVICE_NOT_FOUND = "2063";

/**
 * The gateway said the one person or device a read names does not exist: body code 2062 (identityId) or 2063
 * (iotId), as /work/shared/vendor-docs/aliyun-gateway.md "Body codes" lists them. Nothing else is "not found":
 * the gateway's body code / HTTP 404 means "service not found (wrong path or apiVer)", a fault of ours that must
 * stay an error, as must 2065 (not bound) and 2066 (not a manager).
 */
export function isAliyunNotFound(error: unknown, what: "person" | "device"): boolean {
  return error instanceof UpstreamError && error.upstream.vendor === "aliyun" && error.upstream.vendorCode === (what === "person" ? IDENTITY_NOT_FOUND : DEVICE_NOT_FOUND);
}

/**
 * What the Aliyun side needs to know of Akubela accounts: whether one is in a project (the project's user list),
 * and in which of some projects an account lives. The request's Akubela data source answers.
 */
export interface AccountDirectory {
  verifyAccount(projectId: string, residenceId: string, accountId: string): Promise<void>;
  accountHome(accountId: string, projects: readonly string[]): Promise<{ projectId: string; residenceId: string } | undefined>;
  account(projectId: string, residenceId: string, accountId: string): Promise<{ firstName: string | null; lastName: string | null } | null>;
}

export interface AliyunDataSourceOptions extends VendorDataSourceOptions {
  /** Whether this caller may make the server call the gateway (with its app key): API-key callers only. */
  gatewayAllowed: boolean;
  /** Offset of the gateway's zone-less times. */
  timeZone: string;
  /** Cache scope (a hash of the app key that fetches) and each cacheable read's TTL, ms. */
  scope: string;
  ttlMs: Partial<Record<keyof typeof ALIYUN_READS, number>>;
  /** The accounts persons are linked to. */
  accounts: AccountDirectory;
}

/** A gateway read or write, with the name of its path (which sets a read's cache TTL). */
export type AliyunCall = AliyunRequest & { which: string };

/** A permission key for the person-view loader: one person on one device. */
interface PermKey {
  identityId: string;
  iotId: string;
}

/** A person as the graph addresses one: an Akubela account (linked by the site map) or an identityId. */
export type PersonInput = { account: { projectId: string; residenceId: string; accountId: string } } | { identityId: string };

/** A person once its project is established. */
export interface VerifiedPerson {
  identityId: string;
  projectId: string | null;
  account?: { projectId: string; residenceId: string; accountId: string };
}

/**
 * The reads of the Aliyun IoT access-control API (`003_*.txt`) and the checks every gateway call is preceded by.
 *
 * A device is in the project the site map puts it in (the gateway has no device list); a person is in the
 * project of the Akubela account it is linked to (site map identity rules, the project's user list). A caller
 * limited to some projects reaches only those devices and persons; an unmapped device or an unlinked person is
 * refused to it, as is every site-wide list.
 *
 * Reads go through the base's loader keyed by path + stable-stringified params. Card permissions of people on
 * devices go through a second loader keyed by (identityId, iotId): a batch is grouped by person and cut into
 * chunks of 100 iotIds, so the card permissions of many accounts over many devices cost one
 * `/entrance/paas/user/perm/query` per (person, 100-device chunk), however the query is shaped.
 */
export abstract class AliyunReads extends VendorDataSource<AliyunCall> {
  private readonly perms: DataLoader<PermKey, CardPermissionRecord[], string>;
  private readonly devicePermLists = new Map<string, CountedPagedList<CardPermissionRecord>>();
  private personList?: CountedPagedList<AliyunPersonRecord>;
  private readonly personChecks = new Map<string, Promise<VerifiedPerson>>();

  constructor(
    private readonly client: AliyunClient,
    readonly siteMap: SiteMap,
    protected readonly options: AliyunDataSourceOptions,
  ) {
    super("aliyun", options);
    this.perms = new DataLoader(
      async (keys) => {
        options.onBatch?.("aliyun.card_permissions", keys.length);
        return this.loadPermissions(keys);
      },
      { cacheKeyFn: (k) => `${k.identityId}\u0000${k.iotId}`, ...this.naiveLoader() },
    );
  }

  /** The gateway uses the server's app key: a caller with only a vendor token of its own may not spend it. */
  protected send(req: AliyunCall): Promise<unknown> {
    if (!this.options.gatewayAllowed) {
      throw new ForbiddenError("Aliyun operations use the server's app key: send an API key (X-API-Key) with the needed scope");
    }
    const { which: _which, ...request } = req;
    return this.client.send(request);
  }

  protected loaderKey(req: AliyunCall): string {
    return `${req.path}|${paramsKey(req.params)}`;
  }

  /** One tenant: the server's app key (its scope is an HMAC of it). */
  protected tenantScope(): string {
    return this.options.scope;
  }

  /**
   * Persons and keep-open states are kept under their key; card permissions (a person's, a device's pages) also in
   * the person's or device's group, which card grants and revokes bump, and never past their TTL; they hold card
   * ids, so they are sealed in Redis (ReadOptions.secret). Keys hold ids (identityId, iotId, page), never a card id.
   */
  protected sharedCache(req: AliyunCall) {
    const ttlMs = this.options.ttlMs[req.which as keyof typeof ALIYUN_READS];
    if (!ttlMs) return undefined;
    const key = this.cacheKey(req.path, req.params);
    if (req.which === "userPermQuery") return { key, ttlMs, staleMs: 0, group: this.permissionsGroup("person", String(req.params.identityId)), secret: true };
    if (req.which === "devicePermQuery") return { key, ttlMs, staleMs: 0, group: this.permissionsGroup("device", String(req.params.iotId)), secret: true };
    return { key, ttlMs };
  }

  /** The shared-cache group of a person's (identityId) or a device's (iotId) card permissions. */
  protected permissionsGroup(of: "person" | "device", id: string): string {
    return `${KEY_PREFIX}:${this.options.scope}:aliyun:group:card-permissions:${of}:${stableStringify({ id })}`;
  }

  protected forgetLists(): void {
    this.perms.clearAll();
    this.devicePermLists.clear();
    this.personList = undefined;
  }

  protected cacheKey(path: string, params: Record<string, unknown>): string {
    return `${KEY_PREFIX}:${this.options.scope}:aliyun:${path}:${paramsKey(params)}`;
  }

  private gatewayRead(which: keyof typeof ALIYUN_READS, params: Record<string, unknown>): Promise<unknown> {
    return this.read({ ...ALIYUN_READS[which], which, params, kind: "read" });
  }

  // ---- what a caller may reach ----

  /** The project the site map puts a device in, refused when the caller may not see it (or it is unmapped). */
  protected verifyDevice(iotId: string): string | null {
    const projectId = this.siteMap.device(iotId)?.projectId ?? null;
    if (!this.guard.sees(projectId)) {
      this.guard.refuse(
        projectId === null
          ? `Aliyun device ${iotId} is not in the site map: it belongs to no project this caller may see`
          : `Aliyun device ${iotId} is not in a project this caller may see (site map)`,
      );
    }
    return projectId;
  }

  /**
   * A person and its project: an account is checked against its project's user list and linked by the site map;
   * an identityId is linked back to its account, which must live in one of the caller's projects. A caller that
   * may see every project is not asked (the person's project stays unknown).
   */
  verifyPerson(person: PersonInput): Promise<VerifiedPerson> {
    const key = "account" in person ? `a|${stableStringify(person.account)}` : `i|${person.identityId}`;
    let check = this.personChecks.get(key);
    if (!check) {
      check = this.establishPerson(person);
      this.personChecks.set(key, check);
    }
    return check;
  }

  private async establishPerson(person: PersonInput): Promise<VerifiedPerson> {
    if ("account" in person) {
      const { projectId, residenceId, accountId } = person.account;
      await this.options.accounts.verifyAccount(projectId, residenceId, accountId);
      return { identityId: this.siteMap.identityIdOf(accountId), projectId, account: person.account };
    }
    const { identityId } = person;
    if (this.guard.unrestricted) return { identityId, projectId: null };
    const accountId = this.siteMap.accountIdOf(identityId);
    const home = accountId ? await this.options.accounts.accountHome(accountId, this.guard.projects) : undefined;
    if (!home) this.guard.refuse(`Aliyun person ${identityId} is not linked to an account of a project this caller may see`);
    return { identityId, projectId: home.projectId, account: { ...home, accountId: accountId! } };
  }

  // ---- persons ----

  /**
   * A person: `/entrance/paas/user/get` (003 查询人员信息); `null` when the identityId does not exist (2062).
   * `fresh` skips the shared cache: a write deciding on it (create the person first?) must not trust a stale entry.
   */
  async person(identityId: string, options: { fresh?: boolean } = {}): Promise<AliyunPersonRecord | null> {
    const { projectId } = await this.verifyPerson({ identityId });
    return this.personOf(identityId, projectId, options.fresh);
  }

  protected async personOf(identityId: string, projectId: string | null, fresh = false): Promise<AliyunPersonRecord | null> {
    try {
      const data = fresh
        ? await this.fetch({ ...ALIYUN_READS.userGet, which: "userGet", params: { identityId }, kind: "read" }, true)
        : await this.gatewayRead("userGet", { identityId });
      if (data === null || data === undefined) return null;
      return mapPerson(expectObject(data, ALIYUN_READS.userGet.path), identityId, projectId);
    } catch (error) {
      if (isAliyunNotFound(error, "person")) return null;
      throw error;
    }
  }

  /** One page of persons: `/entrance/paas/user/query` (003 查询人员列表), `pageNo` from 1, `pageSize` ≤ 100. Site-wide. */
  async personsPage(pageNo: number): Promise<{ total: number; persons: AliyunPersonRecord[] }> {
    this.guard.siteWide("the list of every Aliyun person");
    const { total, rows } = readPage(await this.gatewayRead("userQuery", { pageSize: ALIYUN_PAGE_SIZE, pageNo }), ALIYUN_READS.userQuery.path);
    return { total, persons: rows.flatMap((r) => mapPerson(r) ?? []) };
  }

  /** Every person, paged by the gateway (site-wide: for callers that may see every project). */
  persons(): CountedPagedList<AliyunPersonRecord> {
    this.guard.siteWide("the list of every Aliyun person");
    this.personList ??= new CountedPagedList(async (pageNo) => {
      const { total, persons } = await this.personsPage(pageNo);
      return { total, items: persons };
    }, ALIYUN_PAGE_SIZE);
    return this.personList;
  }

  /** The person linked to an account (site map identity rules); `null` when the gateway has none. */
  async linkedPerson(account: { projectId: string; residenceId: string; accountId: string }): Promise<AliyunPersonRecord | null> {
    const who = await this.verifyPerson({ account });
    return this.personOf(who.identityId, who.projectId);
  }

  /** The person's card permissions on these devices (batched: see the class comment); each device is checked. */
  async personCardPermissions(person: PersonInput, iotIds: readonly string[]): Promise<CardPermissionRecord[]> {
    for (const iotId of iotIds) this.verifyDevice(iotId);
    const { identityId } = await this.verifyPerson(person);
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
          const unknown = isAliyunNotFound(error, "person");
          for (const iotId of iotIds) answers.set(key(iotId), unknown ? [] : (error as Error));
        }
      }),
    );
    return keys.map((k) => answers.get(`${k.identityId}\u0000${k.iotId}`) ?? []);
  }

  private readonly projectOfDevice = (iotId: string) => this.siteMap.device(iotId)?.projectId ?? null;

  /**
   * `/entrance/paas/user/perm/query` (003 查询用户的门禁卡权限信息): a person's card permissions on ≤ 100 devices.
   * Answers `{identityId, data: CardDTO[]}`. The document's example swaps `iotId` and `identityId`; a row is
   * attributed to whichever of its two ids is one of the devices asked for.
   */
  private async userPermQuery(identityId: string, iotIds: string[]): Promise<CardPermissionRecord[]> {
    const data = await this.gatewayRead("userPermQuery", { identityId, iotIds });
    const asked = new Set(iotIds);
    const page = expectObject(data ?? {}, ALIYUN_READS.userPermQuery.path);
    return expectArray(page.data, ALIYUN_READS.userPermQuery.path).flatMap((row) => {
      const iotId = asked.has(String(row.iotId)) ? String(row.iotId) : asked.has(String(row.identityId)) ? String(row.identityId) : undefined;
      return (iotId && mapCardPermission(row, this.options.timeZone, { identityId, iotId }, this.projectOfDevice)) || [];
    });
  }

  /** A device's card permissions as a list paged by the gateway (pages shared within the request). */
  devicePermissions(iotId: string): CountedPagedList<CardPermissionRecord> {
    this.verifyDevice(iotId);
    return this.shared(this.devicePermLists, iotId, () => new CountedPagedList(async (pageNo) => {
      const { total, permissions } = await this.devicePermissionsPage(iotId, pageNo);
      return { total, items: permissions };
    }, ALIYUN_PAGE_SIZE));
  }

  /** One page of a device's card permissions: `/entrance/paas/device/perm/query` (003 查询门禁设备上的权限信息). */
  async devicePermissionsPage(iotId: string, pageNo: number): Promise<{ total: number; permissions: CardPermissionRecord[] }> {
    this.verifyDevice(iotId);
    const { total, rows } = readPage(
      await this.gatewayRead("devicePermQuery", { iotId, pageSize: ALIYUN_PAGE_SIZE, pageNo }),
      ALIYUN_READS.devicePermQuery.path,
    );
    return { total, permissions: rows.flatMap((r) => mapCardPermission(r, this.options.timeZone, { iotId }, this.projectOfDevice) ?? []) };
  }

  /**
   * Is the door kept open: `/entrance/paas/keepopen/get` (003 查询门禁设备的常开门状态); `data` is a Boolean.
   * `null` when the gateway does not know the device (2063, e.g. a site-map entry for a device since removed).
   */
  async keepOpen(iotId: string): Promise<boolean | null> {
    this.verifyDevice(iotId);
    let data: unknown;
    try {
      data = await this.gatewayRead("keepOpenGet", { iotId });
    } catch (error) {
      if (isAliyunNotFound(error, "device")) return null;
      throw error;
    }
    if (typeof data !== "boolean") {
      throw new UpstreamError(`Aliyun answered ${ALIYUN_READS.keepOpenGet.path} with data that is not a Boolean`, "UPSTREAM_ERROR", {
        vendor: "aliyun",
        command: ALIYUN_READS.keepOpenGet.path,
      });
    }
    return data;
  }

  // ---- devices (the site map) ----

  /** The device with this iotId: from the site map, or bare (`mapped: false`) for a caller that may see all. */
  device(iotId: string): AliyunDeviceRecord {
    this.verifyDevice(iotId);
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
    this.guard.project(projectId);
    return this.siteMap.devicesOf(projectId, buildingId).map((d) => this.device(d.iotId));
  }

  /** Every site-map device the caller may see. */
  visibleDevices(): AliyunDeviceRecord[] {
    return this.siteMap.devices.filter((d) => this.guard.sees(d.projectId)).map((d) => this.device(d.iotId));
  }
}
