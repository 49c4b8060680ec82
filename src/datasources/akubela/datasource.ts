import DataLoader from "dataloader";
import { UnauthenticatedError, UpstreamError } from "../../errors.js";
import { ConcurrencyLimit } from "../../lib/concurrency.js";
import { stableStringify } from "../../lib/stable-stringify.js";
import type { AkubelaCredential } from "../../auth/caller.js";
import { KEY_PREFIX, type ReadThrough } from "../../cache/read-through.js";
import { PagedList } from "../paging.js";
import type { AkubelaClient, AkubelaCommand, AkubelaEndpoint } from "./client.js";
import {
  expectObject,
  expectRows,
  mapAccessEvent,
  mapAccount,
  mapCall,
  mapCredentials,
  mapDevice,
  mapResidenceTempKey,
  mapToggle,
  mapVisitorTempKey,
  mapVisitorTempKeyDetail,
  str,
} from "./mappers.js";
import type {
  AccessEventRecord,
  AccountRecord,
  AkuvoxDeviceRecord,
  BuildingRecord,
  CallRecord,
  CredentialsRecord,
  ResidenceRecord,
  ResidenceTempKeyRecord,
  ToggleCodeRecord,
  VisitorTempKeyDetailRecord,
  VisitorTempKeyRecord,
} from "./model.js";

export type CredentialCommand =
  | "create_user_pin_code_access_info"
  | "delete_user_pin_code_access_info"
  | "create_user_rf_card_access_info"
  | "delete_user_rf_card_access_info"
  | "create_user_face_access_info"
  | "delete_user_face_access_info";

export interface AkubelaDataSourceOptions {
  /** Vendor commands this request may have in flight at once. */
  concurrency: number;
  /** `page_size` of the paged commands. */
  pageSize: number;
  /** Benchmark baseline: no deduplication, no shared pages (see Config.naive). */
  naive?: boolean;
  /** Reports each DataLoader batch's size (metrics). */
  onBatch?: (loader: string, size: number) => void;
  /** The shared cache, and how long each cacheable command's answer lives in it. */
  cache?: { readThrough: ReadThrough; ttlMs: Partial<Record<string, number>>; staleMs: number; bypass: boolean };
}

/** Akubela reads worth caching across requests: the device lists (they change rarely and are asked constantly). */
export const AKUBELA_CACHED_COMMANDS = ["get_akuvox_device_list", "get_visitor_temp_key_device_list"] as const;

const MANAGER: AkubelaEndpoint = "manager-commands";
const USER: AkubelaEndpoint = "user-commands";

/**
 * The Akubela / Akuvox API in the graph's terms, built once per GraphQL request.
 *
 * Every read goes through one DataLoader keyed by endpoint + command + stable-stringified params, so the same
 * command with the same params is sent once per request however many resolvers ask, and all reads of one tick
 * are dispatched together under a concurrency bound (the vendor has no batch read command, so "batching" here
 * is deduplication plus bounded fan-out). The pages of `get_user_list` are fetched once and shared by accounts,
 * buildings and residences.
 */
export class AkubelaDataSource {
  private readonly limit: ConcurrencyLimit;
  private readonly reads: DataLoader<AkubelaCommand, unknown, string>;
  private readonly userLists = new Map<string, PagedList<AccountRecord>>();
  private readonly visitorKeyLists = new Map<string, PagedList<VisitorTempKeyRecord>>();
  private readonly visitorKeyHistories = new Map<string, PagedList<AccessEventRecord>>();

  constructor(
    private readonly client: AkubelaClient,
    private readonly credential: AkubelaCredential | undefined,
    private readonly options: AkubelaDataSourceOptions,
  ) {
    this.limit = new ConcurrencyLimit(options.concurrency);
    this.reads = new DataLoader(
      (commands) => {
        options.onBatch?.("akubela.reads", commands.length);
        return Promise.all(commands.map((cmd) => this.fetch(cmd).catch((error: unknown) => toError(error))));
      },
      { cacheKeyFn: (cmd) => `${cmd.endpoint}|${cmd.command}|${stableStringify(cmd.param)}`, ...(options.naive ? { cache: false, batch: false } : {}) },
    );
  }

  /**
   * One read from the vendor, through the shared cache when the command is cacheable. The cache key is scoped by
   * a hash of the caller's token (never the token), so no caller reads what another's credentials fetched.
   */
  private async fetch(cmd: AkubelaCommand): Promise<unknown> {
    const credential = this.requireCredential();
    const send = () => this.limit.run(() => this.send(cmd, credential));
    const cache = this.options.cache;
    const ttlMs = cache?.ttlMs[cmd.command];
    if (!cache || !ttlMs) return send();
    return cache.readThrough.read(akubelaCacheKey(credential.scope, cmd.command, cmd.param), { ttlMs, staleMs: cache.staleMs, bypass: cache.bypass }, send);
  }

  /**
   * One command with the credential's token. When the vendor refuses a token the facade holds (HTTP 401), the
   * token is refreshed once and the command sent again: the vendor refused it, so repeating it is safe, and token
   * expiry never reaches the caller while the refresh works. A caller's own token is never refreshed.
   */
  private async send(cmd: AkubelaCommand, credential: AkubelaCredential): Promise<unknown> {
    const token = await credential.token();
    try {
      return await this.client.send(cmd, token);
    } catch (error) {
      if (!(credential.refresh && error instanceof UpstreamError && error.upstream.status === 401)) throw error;
      return this.client.send(cmd, await credential.refresh(token));
    }
  }

  private requireCredential(): AkubelaCredential {
    if (!this.credential) throw new UnauthenticatedError("No Akubela credential for this caller: send a vendor Bearer token, or configure the server's (AKUBELA_TOKEN or AKUBELA_CLIENT_ID…)");
    return this.credential;
  }

  /** One read command, deduplicated within the request. */
  private read(endpoint: AkubelaEndpoint, command: string, param: Record<string, unknown>): Promise<unknown> {
    this.requireCredential();
    return this.reads.load({ endpoint, command, param, kind: "read" });
  }

  // ---- project: accounts, buildings, residences (002 get_user_list, get_user_info) ----

  /** `get_user_list` of a project, paged (002 获取用户列表). */
  private userList(projectId: string): PagedList<AccountRecord> {
    let list = this.userLists.get(projectId);
    if (!list) {
      list = new PagedList(async (pageIndex) => {
        const result = await this.read(MANAGER, "get_user_list", { project_id: projectId, page_size: this.options.pageSize, page_index: pageIndex });
        return expectRows(result, "get_user_list").flatMap((row) => mapAccount(row, projectId) ?? []);
      }, this.options.pageSize);
      if (!this.options.naive) this.userLists.set(projectId, list);
    }
    return list;
  }

  /** Every account of the project (all pages of `get_user_list`). */
  projectAccounts(projectId: string): Promise<AccountRecord[]> {
    return this.userList(projectId).all();
  }

  /** A window of the project's accounts without fetching every page. */
  projectAccountsSlice(projectId: string, offset: number, count: number) {
    return this.userList(projectId).slice(offset, count);
  }

  /**
   * One account: `get_user_info` (002 獲取用戶信息), unless this request already holds the whole user list.
   * `null` when the vendor says it does not exist.
   */
  async account(projectId: string, residenceId: string, accountId: string): Promise<AccountRecord | null> {
    try {
      const result = await this.read(MANAGER, "get_user_info", { project_id: projectId, residence_id: residenceId, account_id: accountId });
      return mapAccount(expectObject(result, "get_user_info"), projectId, { residenceId, accountId });
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** Access credentials of one account: `get_user_access_info` (002 獲取用戶權限信息). */
  async accountCredentials(projectId: string, residenceId: string, accountId: string): Promise<CredentialsRecord> {
    const result = await this.read(MANAGER, "get_user_access_info", { project_id: projectId, residence_id: residenceId, account_id: accountId });
    return mapCredentials(expectObject(result, "get_user_access_info"), { projectId, residenceId, accountId });
  }

  /**
   * Residences of a project, derived from the accounts of `get_user_list` (the vendor has no residence list):
   * a residence without any account is not visible.
   */
  async projectResidences(projectId: string): Promise<ResidenceRecord[]> {
    const byId = new Map<string, ResidenceRecord>();
    for (const a of await this.projectAccounts(projectId)) {
      if (!byId.has(a.residenceId)) {
        byId.set(a.residenceId, {
          __typename: "Residence",
          projectId,
          residenceId: a.residenceId,
          residenceNo: a.residenceNo,
          familyName: a.familyName,
          buildingId: a.buildingId,
          buildingName: a.buildingName,
        });
      }
    }
    return [...byId.values()];
  }

  /** One residence as the user list describes it; `null` when no account lives there. */
  async residence(projectId: string, residenceId: string): Promise<ResidenceRecord | null> {
    return (await this.projectResidences(projectId)).find((r) => r.residenceId === residenceId) ?? null;
  }

  /**
   * Buildings of a project: those of its accounts (`get_user_list`) and of its devices
   * (`get_visitor_temp_key_device_list`), in that order, each once.
   */
  async projectBuildings(projectId: string): Promise<BuildingRecord[]> {
    const [accounts, devices] = await Promise.all([this.projectAccounts(projectId), this.projectDevices(projectId)]);
    const byId = new Map<string, BuildingRecord>();
    for (const { buildingId, buildingName } of [...accounts, ...devices]) {
      if (buildingId && !byId.has(buildingId)) {
        byId.set(buildingId, { __typename: "Building", projectId, buildingId, name: buildingName });
      } else if (buildingId && buildingName && !byId.get(buildingId)!.name) {
        byId.get(buildingId)!.name = buildingName;
      }
    }
    return [...byId.values()];
  }

  // ---- devices (000 get_visitor_temp_key_device_list, 001 get_akuvox_device_list) ----

  /** The project's public devices: `get_visitor_temp_key_device_list` (000 获取访客临时密码设备列表). */
  async projectDevices(projectId: string): Promise<AkuvoxDeviceRecord[]> {
    const result = await this.read(MANAGER, "get_visitor_temp_key_device_list", { project_id: projectId });
    return expectRows(result, "get_visitor_temp_key_device_list").flatMap((row) => mapDevice(row, projectId) ?? []);
  }

  /** The devices a residence sees: `get_akuvox_device_list` (001 获取Akuvox设备列表). */
  async residenceDevices(projectId: string, residenceId: string): Promise<AkuvoxDeviceRecord[]> {
    const result = await this.read(USER, "get_akuvox_device_list", { residence_id: residenceId });
    return expectRows(result, "get_akuvox_device_list").flatMap((row) => mapDevice(row, projectId, residenceId) ?? []);
  }

  /**
   * A device by MAC: through the residence's list for a private device, else the project's list. `null` when
   * neither has it.
   */
  async device(projectId: string, mac: string, residenceId?: string | null): Promise<AkuvoxDeviceRecord | null> {
    const devices = residenceId ? await this.residenceDevices(projectId, residenceId) : await this.projectDevices(projectId);
    return devices.find((d) => d.mac === mac) ?? null;
  }

  // ---- residence configs and histories (001) ----

  /** `get_akuvox_open_door_private_key_config` (001 获取Akuvox私钥开门配置). */
  async privateKey(residenceId: string): Promise<string | null> {
    const result = await this.read(USER, "get_akuvox_open_door_private_key_config", { residence_id: residenceId });
    return str(expectObject(result, "get_akuvox_open_door_private_key_config").private_key);
  }

  /** `get_akuvox_open_door_nfc_config` (001 获取Akuvox NFC开门配置). */
  async nfcConfig(residenceId: string): Promise<ToggleCodeRecord> {
    const result = await this.read(USER, "get_akuvox_open_door_nfc_config", { residence_id: residenceId });
    return mapToggle(expectObject(result, "get_akuvox_open_door_nfc_config"), "enable_nfc", "nfc_code");
  }

  /** `get_akuvox_open_door_ble_config` (001 获取Akuvox蓝牙开门配置). */
  async bleConfig(residenceId: string): Promise<ToggleCodeRecord> {
    const result = await this.read(USER, "get_akuvox_open_door_ble_config", { residence_id: residenceId });
    return mapToggle(expectObject(result, "get_akuvox_open_door_ble_config"), "enable_ble", "ble_code");
  }

  /** `get_akuvox_face_file_info` (001 获取Akuvox人脸文件信息). */
  async faceFileUploaded(residenceId: string): Promise<boolean | null> {
    const result = await this.read(USER, "get_akuvox_face_file_info", { residence_id: residenceId });
    const uploaded = expectObject(result, "get_akuvox_face_file_info").is_uploaded;
    return typeof uploaded === "boolean" ? uploaded : null;
  }

  /** `get_akuvox_open_door_temp_key_config` (001 获取Akuvox临时密码开门配置). */
  async residenceTempKeys(projectId: string, residenceId: string): Promise<ResidenceTempKeyRecord[]> {
    const result = await this.read(USER, "get_akuvox_open_door_temp_key_config", { residence_id: residenceId });
    return expectRows(result, "get_akuvox_open_door_temp_key_config").flatMap((row) => mapResidenceTempKey(row, projectId, residenceId) ?? []);
  }

  /** `get_akuvox_call_history` (001 获取Akuvox通话历史记录): the whole history, unpaged by the vendor. */
  async callHistory(residenceId: string): Promise<CallRecord[]> {
    const result = await this.read(USER, "get_akuvox_call_history", { residence_id: residenceId });
    return expectRows(result, "get_akuvox_call_history").map(mapCall);
  }

  /** `get_akuvox_open_door_history` (001 获取Akuvox开门历史记录): the whole history, unpaged by the vendor. */
  async openDoorHistory(residenceId: string): Promise<AccessEventRecord[]> {
    const result = await this.read(USER, "get_akuvox_open_door_history", { residence_id: residenceId });
    return expectRows(result, "get_akuvox_open_door_history").map(mapAccessEvent);
  }

  // ---- visitor temp keys (000) ----

  /** `get_visitor_temp_key_list` (000 获取访客临时密码列表), paged. */
  visitorTempKeys(projectId: string): PagedList<VisitorTempKeyRecord> {
    let list = this.visitorKeyLists.get(projectId);
    if (!list) {
      list = new PagedList(async (pageIndex) => {
        const result = await this.read(MANAGER, "get_visitor_temp_key_list", { project_id: projectId, page_size: this.options.pageSize, page_index: pageIndex });
        return expectRows(result, "get_visitor_temp_key_list").flatMap((row) => mapVisitorTempKey(row, projectId) ?? []);
      }, this.options.pageSize);
      if (!this.options.naive) this.visitorKeyLists.set(projectId, list);
    }
    return list;
  }

  /** `get_visitor_temp_key_info` (000 获取访客临时密码信息); `null` when the vendor does not know the key. */
  async visitorTempKey(projectId: string, visitorTempKeyId: string): Promise<VisitorTempKeyDetailRecord | null> {
    try {
      const result = await this.read(MANAGER, "get_visitor_temp_key_info", { project_id: projectId, visitor_temp_key_id: visitorTempKeyId });
      return mapVisitorTempKeyDetail(result, projectId, visitorTempKeyId);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** `get_visitor_temp_key_history` (000 获取访客临时密码历史记录), paged. */
  visitorTempKeyHistory(projectId: string, visitorTempKeyId: string): PagedList<AccessEventRecord> {
    const key = `${projectId}|${visitorTempKeyId}`;
    let list = this.visitorKeyHistories.get(key);
    if (!list) {
      list = new PagedList(async (pageIndex) => {
        const result = await this.read(MANAGER, "get_visitor_temp_key_history", {
          project_id: projectId,
          page_size: this.options.pageSize,
          page_index: pageIndex,
          visitor_temp_key_id: visitorTempKeyId,
        });
        return expectRows(result, "get_visitor_temp_key_history").map(mapAccessEvent);
      }, this.options.pageSize);
      if (!this.options.naive) this.visitorKeyHistories.set(key, list);
    }
    return list;
  }

  // ---- writes (never retried; each clears this request's loaders so later fields see the new state) ----

  /**
   * Sends one write command. Whatever the outcome (a timed-out write may have happened), every list and answer
   * this request holds is dropped, so fields resolved after the mutation read the vendor again.
   */
  private async write(endpoint: AkubelaEndpoint, command: string, param: unknown, id?: string): Promise<unknown> {
    const credential = this.requireCredential();
    try {
      return await this.limit.run(() => this.send({ endpoint, command, param, kind: "write", id }, credential));
    } finally {
      this.forget();
    }
  }

  /** Drops every answer this request holds (after a write). */
  forget(): void {
    this.reads.clearAll();
    this.userLists.clear();
    this.visitorKeyLists.clear();
    this.visitorKeyHistories.clear();
  }

  /** `create_visitor_temp_key_info` (000 创建访客临时密码信息): answers the new key's id, number and QR code. */
  async createVisitorTempKey(param: Record<string, unknown>): Promise<Record<string, unknown>> {
    return expectObject(await this.write(MANAGER, "create_visitor_temp_key_info", param), "create_visitor_temp_key_info");
  }

  /** `delete_visitor_temp_key_info` (000 删除访客临时密码信息). */
  deleteVisitorTempKey(projectId: string, visitorTempKeyId: string) {
    return this.write(MANAGER, "delete_visitor_temp_key_info", { project_id: projectId, visitor_temp_key_id: visitorTempKeyId });
  }

  /** `batch_delete_visitor_temp_key_info` (000 批量删除访客临时密码信息). */
  deleteVisitorTempKeys(projectId: string, ids: string[]) {
    return this.write(MANAGER, "batch_delete_visitor_temp_key_info", { project_id: projectId, visitor_temp_keys: ids.map((id) => ({ visitor_temp_key_id: id })) });
  }

  /** `update_akuvox_open_door_private_key_config` (001 更新Akuvox私钥开门配置). */
  updatePrivateKey(residenceId: string, privateKey: string) {
    return this.write(USER, "update_akuvox_open_door_private_key_config", { private_key: privateKey, residence_id: residenceId });
  }

  /** `update_akuvox_open_door_nfc_config` (001 更新Akuvox NFC开门配置): answers the NFC code. */
  async updateNfc(residenceId: string, enabled: boolean): Promise<string | null> {
    const result = await this.write(USER, "update_akuvox_open_door_nfc_config", { enable_nfc: enabled, residence_id: residenceId });
    return str(expectObject(result, "update_akuvox_open_door_nfc_config").nfc_code);
  }

  /** `update_akuvox_open_door_ble_config` (001 更新Akuvox蓝牙开门配置): answers the BLE code. */
  async updateBle(residenceId: string, enabled: boolean): Promise<string | null> {
    const result = await this.write(USER, "update_akuvox_open_door_ble_config", { enable_ble: enabled, residence_id: residenceId });
    return str(expectObject(result, "update_akuvox_open_door_ble_config").ble_code);
  }

  /** `create_akuvox_open_door_temp_key_config` (001 创建Akuvox临时密码开门配置): answers the key and its QR code. */
  async createResidenceTempKey(residenceId: string, startTime: string, finishTime: string, count: number): Promise<Record<string, unknown>> {
    const result = await this.write(USER, "create_akuvox_open_door_temp_key_config", { residence_id: residenceId, start_time: startTime, finish_time: finishTime, count });
    return expectObject(result, "create_akuvox_open_door_temp_key_config");
  }

  /** `delete_akuvox_open_door_temp_key_config` (001 删除Akuvox临时密码开门配置). */
  deleteResidenceTempKey(residenceId: string, tempKey: string) {
    return this.write(USER, "delete_akuvox_open_door_temp_key_config", { temp_key: tempKey, residence_id: residenceId });
  }

  /** `batch_delete_akuvox_open_door_temp_key_config` (001 批量删除Akuvox临时密码开门配置). */
  deleteResidenceTempKeys(residenceId: string, tempKeys: string[]) {
    return this.write(USER, "batch_delete_akuvox_open_door_temp_key_config", { temp_key: tempKeys, residence_id: residenceId });
  }

  /** `update_akuvox_face_file_info` (001 更新Akuvox人脸文件信息). */
  updateFaceFile(residenceId: string, filename: string) {
    return this.write(USER, "update_akuvox_face_file_info", { filename, residence_id: residenceId });
  }

  /** `delete_akuvox_face_file_info` (001 删除Akuvox人脸文件信息). */
  deleteFaceFile(residenceId: string) {
    return this.write(USER, "delete_akuvox_face_file_info", { residence_id: residenceId });
  }

  /**
   * `check_akuvox_device_permission` (001 校验Akuvox设备权限): whether the residence may use each MAC. Not a
   * write, but its answer is about this moment: sent as a read, never cached beyond the request.
   */
  async checkDevicePermission(residenceId: string, macs: string[]): Promise<{ mac: string; permission: boolean }[]> {
    const result = await this.read(USER, "check_akuvox_device_permission", { devices: macs.map((mac) => ({ mac })), residence_id: residenceId });
    return expectRows(result, "check_akuvox_device_permission").map((r) => ({ mac: String(r.mac ?? ""), permission: r.permission === true }));
  }

  /** `trigger_akuvox_remote_open_door` (001 触发Akuvox远程开门) with the command `id` `requestId`. Never retried. */
  openDoor(residenceId: string, mac: string, relayId: string, requestId: string) {
    return this.write(USER, "trigger_akuvox_remote_open_door", { residence_id: residenceId, mac, relay_id: relayId }, requestId);
  }

  /** `create_user_info` (002 創建用戶信息): answers the new account id. */
  async createAccount(param: Record<string, unknown>): Promise<string | null> {
    return str(expectObject(await this.write(MANAGER, "create_user_info", param), "create_user_info").account_id);
  }

  /** `batch_create_user_info` (002 批量創建用戶信息): `param` is an array (vendor-docs README). */
  createAccounts(params: Record<string, unknown>[]) {
    return this.write(MANAGER, "batch_create_user_info", params);
  }

  /** `update_user_info` (002 更新用戶信息). */
  updateAccount(projectId: string, residenceId: string, accountId: string, firstName: string, lastName: string) {
    return this.write(MANAGER, "update_user_info", { project_id: projectId, residence_id: residenceId, account_id: accountId, first_name: firstName, last_name: lastName });
  }

  /** `update_user_password` (002 更新用戶密碼). The password is never logged (the client logs no params). */
  updateAccountPassword(projectId: string, residenceId: string, accountId: string, newPassword: string) {
    return this.write(MANAGER, "update_user_password", { project_id: projectId, residence_id: residenceId, account_id: accountId, new_password: newPassword });
  }

  /** `delete_user_info` (002 刪除用戶信息). */
  deleteAccount(projectId: string, residenceId: string, accountId: string) {
    return this.write(MANAGER, "delete_user_info", { project_id: projectId, account_id: accountId, residence_id: residenceId });
  }

  /** `batch_delete_user_info` (002 批量刪除用戶信息). */
  deleteAccounts(projectId: string, accounts: { residenceId: string; accountId: string }[]) {
    return this.write(MANAGER, "batch_delete_user_info", {
      project_id: projectId,
      accounts: accounts.map((a) => ({ account_id: a.accountId, residence_id: a.residenceId })),
    });
  }

  /**
   * The three imports of 002 (導入用戶信息, 導入用戶PIN碼與射頻卡權限信息, 導入用戶人臉權限信息): the vendor fetches
   * the file and answers a task id.
   */
  async importFile(
    command: "import_user_info" | "import_user_pin_code_and_rf_card_access_info" | "import_user_face_access_info",
    projectId: string,
    fileName: string,
    fileUrl: string,
  ): Promise<string | null> {
    const result = await this.write(MANAGER, command, { project_id: projectId, file_name: fileName, file_url: fileUrl });
    return str(expectObject(result, command).task_id);
  }

  /** `update_user_floor_access_info` (002 更新用戶樓層權限信息): replaces the account's floors. */
  updateFloorAccess(projectId: string, residenceId: string, accountId: string, floors: { buildingId: string; floor: string }[]) {
    return this.write(MANAGER, "update_user_floor_access_info", {
      project_id: projectId,
      residence_id: residenceId,
      account_id: accountId,
      floor_accesses: floors.map((f) => ({ building_id: f.buildingId, floor: f.floor })),
    });
  }

  /**
   * The credential writes of 002 (創建/刪除用戶PIN碼, 射頻卡, 人臉權限信息). A create answers the new id where the
   * vendor gives one (`pin_code_id`, `rf_card_id`; a face create answers none).
   */
  async credentialWrite(command: CredentialCommand, projectId: string, residenceId: string, accountId: string, extra: Record<string, string>): Promise<Record<string, unknown>> {
    const result = await this.write(MANAGER, command, { project_id: projectId, residence_id: residenceId, account_id: accountId, ...extra });
    return result && typeof result === "object" ? (result as Record<string, unknown>) : {};
  }
}

/** The shared-cache key of an Akubela read: prefix, tenant scope (a token hash), command, params. */
export function akubelaCacheKey(scope: string, command: string, param: unknown): string {
  return `${KEY_PREFIX}:${scope}:akubela:${command}:${stableStringify(param)}`;
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The vendor said the thing asked for does not exist (the simulator's `not_found`). */
function isNotFound(error: unknown): boolean {
  return error instanceof UpstreamError && error.upstream.vendorCode === "not_found";
}
