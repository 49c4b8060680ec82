import DataLoader from "dataloader";
import { UnauthenticatedError, UpstreamError } from "../../errors.js";
import { ConcurrencyLimit } from "../../lib/concurrency.js";
import { stableStringify } from "../../lib/stable-stringify.js";
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

export interface AkubelaDataSourceOptions {
  /** Vendor commands this request may have in flight at once. */
  concurrency: number;
  /** `page_size` of the paged commands. */
  pageSize: number;
}

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
    private readonly token: string | undefined,
    private readonly options: AkubelaDataSourceOptions,
  ) {
    this.limit = new ConcurrencyLimit(options.concurrency);
    this.reads = new DataLoader(
      (commands) =>
        Promise.all(
          commands.map((cmd) =>
            this.limit.run(() => this.client.send(cmd, this.requireToken())).catch((error: unknown) => toError(error)),
          ),
        ),
      { cacheKeyFn: (cmd) => `${cmd.endpoint}|${cmd.command}|${stableStringify(cmd.param)}` },
    );
  }

  private requireToken(): string {
    if (!this.token) throw new UnauthenticatedError();
    return this.token;
  }

  /** One read command, deduplicated within the request. */
  private read(endpoint: AkubelaEndpoint, command: string, param: Record<string, unknown>): Promise<unknown> {
    this.requireToken();
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
      this.userLists.set(projectId, list);
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
      this.visitorKeyLists.set(projectId, list);
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
      this.visitorKeyHistories.set(key, list);
    }
    return list;
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The vendor said the thing asked for does not exist (the simulator's `not_found`). */
function isNotFound(error: unknown): boolean {
  return error instanceof UpstreamError && error.upstream.vendorCode === "not_found";
}
