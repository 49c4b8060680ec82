import { UnauthenticatedError, UpstreamError } from "../../errors.js";
import { derive } from "../../lib/derived.js";
import { paramsKey, stableStringify } from "../../lib/stable-stringify.js";
import type { AkubelaCredential } from "../../auth/caller.js";
import { KEY_PREFIX } from "../../cache/read-through.js";
import { VendorDataSource, type VendorDataSourceOptions } from "../base.js";
import { MembershipIndex } from "../guard.js";
import { PagedList } from "../paging.js";
import type { AkubelaClient, AkubelaCommand, AkubelaEndpoint } from "./client.js";
import { expectRows, mapAccount, mapDevice } from "./mappers.js";
import type { AccountRecord, AkuvoxDeviceRecord, ProjectRecord } from "./model.js";

export interface AkubelaDataSourceOptions extends VendorDataSourceOptions {
  /** `page_size` of the paged commands. */
  pageSize: number;
  /** How long each cacheable command's answer lives in the shared cache, ms (see {@link AKUBELA_CACHED_COMMANDS}). */
  ttlMs: Partial<Record<string, number>>;
  /** How long a project's membership index (residences and accounts, visitor keys) is shared, ms; 0: per request. */
  membershipTtlMs: number;
}

/** Akubela reads worth caching across requests: the device lists (they change rarely and are asked constantly). */
export const AKUBELA_CACHED_COMMANDS = ["get_akuvox_device_list", "get_visitor_temp_key_device_list"] as const;

/**
 * The user-list reads (002 获取用户列表 `get_user_list` pages, 獲取用戶信息 `get_user_info`), cached for
 * CACHE_USER_LIST_TTL_SECONDS in the project's `users` group: every account write of the facade bumps the group.
 */
export const AKUBELA_USER_LIST_COMMANDS = ["get_user_list", "get_user_info"] as const;
/**
 * An account's access info (002 獲取用戶權限信息 `get_user_access_info`: PIN codes, RF cards, faces, access groups,
 * floors), cached for CACHE_ACCESS_INFO_TTL_SECONDS per account in the project's `access` group: a credential or
 * floor write drops the account's entry, an import or an account deletion the whole group.
 */
export const AKUBELA_ACCESS_INFO_COMMAND = "get_user_access_info";

/** The group of keys each short-lived read is invalidated with; these are never served past their TTL. */
const GROUP_OF: Partial<Record<string, "users" | "access">> = { get_user_list: "users", get_user_info: "users", [AKUBELA_ACCESS_INFO_COMMAND]: "access" };

export const MANAGER: AkubelaEndpoint = "manager-commands";
export const USER: AkubelaEndpoint = "user-commands";

/** The shared-cache key of an Akubela read: prefix, tenant scope (a token hash), command, params. */
export function akubelaCacheKey(scope: string, command: string, param: unknown): string {
  return `${KEY_PREFIX}:${scope}:akubela:${command}:${paramsKey(param)}`;
}

/** The shared-cache group of a project's user list (`users`) or of its accounts' access info (`access`). */
export function akubelaCacheGroup(scope: string, group: "users" | "access", projectId: string): string {
  return `${KEY_PREFIX}:${scope}:akubela:group:${group}:${stableStringify({ project_id: projectId })}`;
}

/** A project's user list as a membership index: residence id → the account ids living there. */
type UsersIndex = Record<string, string[]>;

/**
 * The Akubela base every part of the data source builds on: how a command is sent (the credential, its one
 * refresh), keyed and cached, and the membership checks every command is preceded by.
 *
 * The vendor's residence-scoped `user-commands` take only `residence_id`, and the vendor resolves any residence
 * the credential can see (001, every command's 请求参数), so the project a command acts for is checked here, from
 * the project's own `get_user_list` (002 获取用户列表): a residence is the project's when an account of that list
 * lives in it, an account when the list has it in that residence. The index is shared across requests under the
 * tenant's scope and refreshed when a lookup misses; what it cannot establish is refused before anything is sent.
 */
export abstract class AkubelaCore extends VendorDataSource<AkubelaCommand> {
  private readonly userLists = new Map<string, PagedList<AccountRecord>>();
  private readonly indexes: MembershipIndex<unknown>[] = [];
  private readonly users: MembershipIndex<UsersIndex>;

  constructor(
    private readonly client: AkubelaClient,
    private readonly credential: AkubelaCredential | undefined,
    protected readonly options: AkubelaDataSourceOptions,
  ) {
    super("akubela", options);
    this.users = this.membership<UsersIndex>("users");
  }

  /**
   * One command with the credential's token. When the vendor refuses a token the facade holds (HTTP 401), the
   * token is refreshed once and the command sent again: the vendor refused it, so repeating it is safe, and token
   * expiry never reaches the caller while the refresh works. A caller's own token is never refreshed.
   */
  protected async send(cmd: AkubelaCommand): Promise<unknown> {
    const credential = this.requireCredential();
    const token = await credential.token();
    try {
      return await this.client.send(cmd, token);
    } catch (error) {
      if (!(credential.refresh && error instanceof UpstreamError && error.upstream.status === 401)) throw error;
      return this.client.send(cmd, await credential.refresh(token));
    }
  }

  protected loaderKey(cmd: AkubelaCommand): string {
    return `${cmd.endpoint}|${cmd.command}|${paramsKey(cmd.param)}${cmd.fresh ? "|fresh" : ""}`;
  }

  protected tenantScope(): string {
    return this.requireCredential().scope;
  }

  /**
   * The device lists, user-list pages and access info are kept, scoped by a hash of the caller's credential (never
   * the token); keys hold only ids (project, residence, account, page), never a PIN, card number or token.
   */
  protected sharedCache(cmd: AkubelaCommand) {
    const ttlMs = this.options.ttlMs[cmd.command];
    if (!ttlMs) return undefined;
    const scope = this.requireCredential().scope;
    const key = akubelaCacheKey(scope, cmd.command, cmd.param);
    const group = GROUP_OF[cmd.command];
    const projectId = (cmd.param as { project_id?: unknown } | null)?.project_id;
    if (!group || typeof projectId !== "string") return { key, ttlMs };
    // Access info holds PIN and RF card numbers: sealed in a shared cache (see ReadOptions.secret).
    return { key, ttlMs, staleMs: 0, group: akubelaCacheGroup(scope, group, projectId), ...(group === "access" ? { secret: true } : {}) };
  }

  /**
   * After an account write (create, update, delete, import) in a project: its user-list pages and accounts, and its
   * membership index, are stale on every instance.
   */
  protected async usersChanged(projectId: string): Promise<void> {
    const scope = this.requireCredential().scope;
    await this.invalidateGroups(akubelaCacheGroup(scope, "users", projectId));
    await this.invalidate(akubelaCacheKey(scope, "index:users", { project_id: projectId }));
  }

  /** After a write of some accounts' access info: theirs (or, with none named, every account's of the project). */
  protected async accessChanged(projectId: string, accounts?: readonly { residenceId: string; accountId: string }[]): Promise<void> {
    const scope = this.requireCredential().scope;
    if (!accounts) return this.invalidateGroups(akubelaCacheGroup(scope, "access", projectId));
    await this.invalidate(
      ...accounts.map((a) => akubelaCacheKey(scope, AKUBELA_ACCESS_INFO_COMMAND, { project_id: projectId, residence_id: a.residenceId, account_id: a.accountId })),
    );
  }

  /** Whether `get_user_list` pages may come from the shared cache (a membership lookup that misses reads them fresh). */
  private get userListCached(): boolean {
    return Boolean(this.options.cache && this.options.ttlMs.get_user_list);
  }

  protected forgetLists(): void {
    this.userLists.clear();
    for (const index of this.indexes) index.forget();
  }

  private requireCredential(): AkubelaCredential {
    if (!this.credential) throw new UnauthenticatedError("No Akubela credential for this caller: send a vendor Bearer token, or configure the server's (AKUBELA_TOKEN or AKUBELA_CLIENT_ID…)");
    return this.credential;
  }

  /** A membership index of this tenant, kept in the shared cache under its scope. */
  protected membership<T>(kind: string): MembershipIndex<T> {
    const index = new MembershipIndex<T>({
      readThrough: this.options.cache?.readThrough,
      ttlMs: this.options.membershipTtlMs,
      staleMs: 0,
      sourcesCached: kind === "users" && this.userListCached,
      cacheKey: (projectId) => akubelaCacheKey(this.requireCredential().scope, `index:${kind}`, { project_id: projectId }),
      record: this.options.cache?.record,
    });
    this.indexes.push(index as MembershipIndex<unknown>);
    return index;
  }

  /**
   * One read command, deduplicated within the request; `fresh`: past the shared cache; `lead`: later reads wait for
   * it (see VendorRequest.lead).
   */
  protected command(endpoint: AkubelaEndpoint, command: string, param: Record<string, unknown>, fresh = false, lead = false): Promise<unknown> {
    this.requireCredential();
    return this.read({ endpoint, command, param, kind: "read", ...(fresh ? { fresh } : {}), ...(lead ? { lead } : {}) });
  }

  /** One write command: never retried; this request's answers are dropped whatever the outcome. */
  protected order(endpoint: AkubelaEndpoint, command: string, param: unknown, id?: string): Promise<unknown> {
    this.requireCredential();
    return this.write({ endpoint, command, param, kind: "write", id });
  }

  /**
   * A caller's own token that the vendor has not accepted within BEARER_VERIFY_SECONDS is proven first, by one
   * `get_user_list` of one row (002 获取用户列表, manager-commands; the cheapest read the documents list), sent past
   * the cache: until then nothing is answered to it, neither from the cache nor from fields that make no vendor
   * call. A refusal is the vendor's UNAUTHENTICATED. Nothing to prove for the server's own credential.
   */
  async proveCaller(projectId: string | undefined): Promise<void> {
    const check = this.options.credentialCheck;
    if (!check || check.known() || projectId === undefined) return;
    this.requireCredential();
    await this.fetch({ endpoint: MANAGER, command: "get_user_list", param: { project_id: projectId, page_size: 1, page_index: 1 }, kind: "read" }, true);
  }

  /** A project the caller may see, as a record (no vendor call); refused otherwise. */
  project(projectId: string): ProjectRecord {
    this.guard.project(projectId);
    return { __typename: "Project", projectId };
  }

  /** Of `projectIds`, those the caller may see. */
  visibleProjects(projectIds: readonly string[]): ProjectRecord[] {
    return projectIds.filter((p) => this.guard.sees(p)).map((p) => this.project(p));
  }

  // ---- the project's user list (002 get_user_list) and what it proves ----

  /** `get_user_list` of a project, paged (002 获取用户列表); `fresh`: every page from the vendor, past the cache. */
  private userList(projectId: string, fresh = false): PagedList<AccountRecord> {
    this.guard.project(projectId);
    return this.shared(this.userLists, `${fresh ? "fresh" : "any"}|${projectId}`, () => new PagedList(async (pageIndex) => {
      // Every later page and what the accounts' fields read wait for this one.
      const result = await this.command(MANAGER, "get_user_list", { project_id: projectId, page_size: this.options.pageSize, page_index: pageIndex }, fresh, true);
      return derive(result, `accounts|${projectId}`, () => expectRows(result, "get_user_list").flatMap((row) => mapAccount(row, projectId) ?? []));
    }, this.options.pageSize));
  }

  /** Calls `observe` with each page of the project's user list this request reads, as it arrives (see PagedList.onPage). */
  protected onUserListPage(projectId: string, observe: (accounts: readonly AccountRecord[]) => void): void {
    this.userList(projectId).onPage(observe);
  }

  /** Every account of the project (all pages of `get_user_list`). */
  async projectAccounts(projectId: string): Promise<AccountRecord[]> {
    return this.userList(projectId).all();
  }

  /** A window of the project's accounts without fetching every page. */
  async projectAccountsSlice(projectId: string, offset: number, count: number) {
    return this.userList(projectId).slice(offset, count);
  }

  /** The membership index from the user list: `fresh` when a lookup missed, so the pages come from the vendor. */
  private async usersIndex(projectId: string, fresh: boolean): Promise<UsersIndex> {
    const index: UsersIndex = {};
    for (const a of await this.userList(projectId, fresh && this.userListCached).all()) (index[a.residenceId] ??= []).push(a.accountId);
    return index;
  }

  /** Refuses, before anything is sent, a residence the project's user list does not place in the project. */
  async verifyResidence(projectId: string, residenceId: string): Promise<void> {
    this.guard.project(projectId);
    const found = await this.users.lookup(projectId, (fresh) => this.usersIndex(projectId, fresh), (index) => (Object.hasOwn(index, residenceId) ? true : undefined));
    if (!found) this.guard.refuse(`residence ${residenceId} is not in project ${projectId} (the project's user list has no account there)`);
  }

  /** Refuses an account the project's user list does not have in that residence. */
  async verifyAccount(projectId: string, residenceId: string, accountId: string): Promise<void> {
    this.guard.project(projectId);
    const found = await this.users.lookup(projectId, (fresh) => this.usersIndex(projectId, fresh), (index) =>
      Object.hasOwn(index, residenceId) && index[residenceId].includes(accountId) ? true : undefined,
    );
    if (!found) this.guard.refuse(`account ${accountId} is not in residence ${residenceId} of project ${projectId}`);
  }

  /**
   * Where an account lives, among `projects` (the caller's): the first whose user list has it; `undefined` when
   * none does. An Aliyun person linked to an account belongs to that account's project.
   */
  async accountHome(accountId: string, projects: readonly string[]): Promise<{ projectId: string; residenceId: string } | undefined> {
    for (const projectId of projects) {
      const residenceId = await this.users.lookup(projectId, (fresh) => this.usersIndex(projectId, fresh), (index) =>
        Object.keys(index).find((r) => index[r].includes(accountId)),
      );
      if (residenceId) return { projectId, residenceId };
    }
    return undefined;
  }

  // ---- the project's shared devices (000 get_visitor_temp_key_device_list) ----

  /** The project's public devices: `get_visitor_temp_key_device_list` (000 获取访客临时密码设备列表). */
  async projectDevices(projectId: string): Promise<AkuvoxDeviceRecord[]> {
    this.guard.project(projectId);
    const result = await this.command(MANAGER, "get_visitor_temp_key_device_list", { project_id: projectId });
    return derive(result, `devices|${projectId}`, () => expectRows(result, "get_visitor_temp_key_device_list").flatMap((row) => mapDevice(row, projectId) ?? []));
  }
}

/**
 * The vendor said the thing asked for does not exist, however it says it: an envelope code `not_found` or `404`, or
 * an HTTP 404 answer (a gateway or another deployment of the API in front of the command). Anything else stays an
 * error: a 404 is only "not found" for a read that names one object (the callers of this function).
 */
export function isNotFound(error: unknown): boolean {
  if (!(error instanceof UpstreamError)) return false;
  const { vendorCode, status } = error.upstream;
  return vendorCode === "not_found" || vendorCode === "404" || status === 404;
}
