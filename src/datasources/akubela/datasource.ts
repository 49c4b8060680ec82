import type { AkubelaCredential } from "../../auth/caller.js";
import type { MembershipIndex } from "../guard.js";
import { PagedList } from "../paging.js";
import type { AkubelaClient } from "./client.js";
import { isNotFound, MANAGER, type AkubelaDataSourceOptions } from "./core.js";
import { expectObject, expectRows, mapAccessEvent, mapVisitorTempKey, mapVisitorTempKeyDetail, vendorRepeatMode, vendorWeekday } from "./mappers.js";
import { RepeatMode, type AccessEventRecord, type AkuvoxDeviceRecord, type ResidenceRecord, type VisitorTempKeyDetailRecord, type VisitorTempKeyRecord, type Weekday } from "./model.js";
import { AkubelaResidences } from "./residences.js";

export { AKUBELA_ACCESS_INFO_COMMAND, AKUBELA_CACHED_COMMANDS, AKUBELA_USER_LIST_COMMANDS, akubelaCacheGroup, akubelaCacheKey, type AkubelaDataSourceOptions } from "./core.js";
export type { AccountKey, CredentialKind, ImportKind, NewAccount } from "./users.js";
export type { ResidenceKey } from "./residences.js";

/** A new visitor key (000 创建访客临时密码信息), in the graph's terms. */
export interface NewVisitorKey {
  residence: ResidenceRecord;
  name: string;
  repeatMode: RepeatMode;
  /** Read for `WEEKLY` only. */
  availableDays: readonly Weekday[];
  /** Times of day, UTC, `HH:mm:ss`. */
  startTime: string;
  finishTime: string;
  /** Shared devices of the project (from {@link AkubelaDataSource.projectDevices}) and the relays opened on each. */
  devices: readonly { device: AkuvoxDeviceRecord; relays: readonly string[] | null; securityRelays: readonly string[] }[];
  deviceValidityCount?: number | null;
  visitorIdentityNumber?: string | null;
  noticeEmail?: string | null;
}

/**
 * The Akubela / Akuvox API in the graph's terms, built once per GraphQL request: the visitor keys document
 * (`000_*.txt`) on top of the residences (`001`) and users (`002`) parts.
 *
 * Every read goes through one DataLoader keyed by endpoint + command + stable-stringified params, so the same
 * command with the same params is sent once per request however many resolvers ask, and all reads of one tick
 * are dispatched together under a concurrency bound (the vendor has no batch read command, so "batching" here
 * is deduplication plus bounded fan-out). The pages of `get_user_list` are fetched once and shared by accounts,
 * buildings, residences and the membership checks.
 */
export class AkubelaDataSource extends AkubelaResidences {
  private readonly visitorKeyLists = new Map<string, PagedList<VisitorTempKeyRecord>>();
  private readonly visitorKeyHistories = new Map<string, PagedList<AccessEventRecord>>();
  private readonly visitorKeyIndex: MembershipIndex<string[]>;

  constructor(client: AkubelaClient, credential: AkubelaCredential | undefined, options: AkubelaDataSourceOptions) {
    super(client, credential, options);
    this.visitorKeyIndex = this.membership<string[]>("visitor-keys");
  }

  protected override forgetLists(): void {
    super.forgetLists();
    this.visitorKeyLists.clear();
    this.visitorKeyHistories.clear();
  }

  /** `get_visitor_temp_key_list` (000 获取访客临时密码列表), paged. */
  visitorTempKeys(projectId: string): PagedList<VisitorTempKeyRecord> {
    this.guard.project(projectId);
    return this.shared(this.visitorKeyLists, projectId, () => new PagedList(async (pageIndex) => {
      const result = await this.command(MANAGER, "get_visitor_temp_key_list", { project_id: projectId, page_size: this.options.pageSize, page_index: pageIndex });
      return expectRows(result, "get_visitor_temp_key_list").flatMap((row) => mapVisitorTempKey(row, projectId) ?? []);
    }, this.options.pageSize));
  }

  /** Refuses a visitor key the project's key list does not have: no command names it before that. */
  private async verifyVisitorKey(projectId: string, visitorTempKeyId: string): Promise<void> {
    this.guard.project(projectId);
    const build = async () => (await this.visitorTempKeys(projectId).all()).map((k) => k.visitorTempKeyId);
    const found = await this.visitorKeyIndex.lookup(projectId, build, (ids) => (ids.includes(visitorTempKeyId) ? true : undefined));
    if (!found) this.guard.refuse(`visitor key ${visitorTempKeyId} is not in project ${projectId}`);
  }

  /** `get_visitor_temp_key_info` (000 获取访客临时密码信息); `null` when the vendor does not know the key. */
  async visitorTempKey(projectId: string, visitorTempKeyId: string): Promise<VisitorTempKeyDetailRecord | null> {
    await this.verifyVisitorKey(projectId, visitorTempKeyId);
    try {
      const result = await this.command(MANAGER, "get_visitor_temp_key_info", { project_id: projectId, visitor_temp_key_id: visitorTempKeyId });
      return mapVisitorTempKeyDetail(result, projectId, visitorTempKeyId);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** `get_visitor_temp_key_history` (000 获取访客临时密码历史记录), paged; the key is checked before the first page. */
  visitorTempKeyHistory(projectId: string, visitorTempKeyId: string): PagedList<AccessEventRecord> {
    this.guard.project(projectId);
    return this.shared(this.visitorKeyHistories, `${projectId}|${visitorTempKeyId}`, () => new PagedList(async (pageIndex) => {
      await this.verifyVisitorKey(projectId, visitorTempKeyId);
      const result = await this.command(MANAGER, "get_visitor_temp_key_history", {
        project_id: projectId,
        page_size: this.options.pageSize,
        page_index: pageIndex,
        visitor_temp_key_id: visitorTempKeyId,
      });
      return expectRows(result, "get_visitor_temp_key_history").map(mapAccessEvent);
    }, this.options.pageSize));
  }

  // ---- writes ----

  /**
   * `create_visitor_temp_key_info` (000 创建访客临时密码信息): the vendor wants the residence's numbers and names and
   * each device's id and building echoed back. Refused unless the residence is the project's and every device is
   * in the project's shared device list. Answers the new key's id.
   */
  async createVisitorTempKey(key: NewVisitorKey): Promise<string | null> {
    const { projectId, residenceId } = key.residence;
    await this.verifyResidence(projectId, residenceId);
    const shared = new Set((await this.projectDevices(projectId)).map((d) => d.mac));
    const foreign = key.devices.find((d) => d.device.projectId !== projectId || !shared.has(d.device.mac));
    if (foreign) this.guard.refuse(`device ${foreign.device.mac} is not a shared device of project ${projectId}`);
    // Each relay is named to the vendor: it must be one of its device's, as the project's device list has it.
    for (const { device, relays, securityRelays } of key.devices) {
      const own = new Set([...device.relays, ...device.securityRelays].map((r) => r.relayId));
      const stranger = [...(relays ?? []), ...securityRelays].find((relayId) => !own.has(relayId));
      if (stranger) this.guard.refuse(`relay ${stranger} is not a relay of device ${device.mac} of project ${projectId}`);
    }
    const home = key.residence;
    const result = await this.order(MANAGER, "create_visitor_temp_key_info", {
      project_id: projectId,
      visitor_temp_key_name: key.name,
      ...(key.deviceValidityCount ? { device_validity_count: String(key.deviceValidityCount) } : {}),
      ...(key.visitorIdentityNumber ? { visitor_identity_number: key.visitorIdentityNumber } : {}),
      ...(key.noticeEmail ? { notice_email: key.noticeEmail } : {}),
      residence_id: residenceId,
      family_name: home.familyName ?? "",
      residence_no: home.residenceNo ?? "",
      building_id: home.buildingId ?? "",
      building_name: home.buildingName ?? "",
      repeat_mode: vendorRepeatMode(key.repeatMode),
      ...(key.repeatMode === RepeatMode.WEEKLY ? { available_days: key.availableDays.map(vendorWeekday) } : {}),
      start_time: key.startTime,
      finish_time: key.finishTime,
      devices: key.devices.map(({ device: d, relays, securityRelays }) => ({
        building_id: d.buildingId || home.buildingId || "",
        device_id: d.deviceId,
        mac: d.mac,
        relays: (relays ?? d.relays.map((r) => r.relayId)).map((relay_id) => ({ relay_id })),
        security_relays: securityRelays.map((relay_id) => ({ relay_id })),
      })),
    });
    const id = expectObject(result, "create_visitor_temp_key_info").visitor_temp_key_id;
    return typeof id === "string" ? id : null;
  }

  /**
   * Deletes visitor keys of one project: one with `delete_visitor_temp_key_info` (000 删除访客临时密码信息), more
   * with `batch_delete_visitor_temp_key_info` (000 批量删除访客临时密码信息). Every key is checked first.
   */
  async deleteVisitorTempKeys(projectId: string, ids: readonly string[]) {
    for (const id of ids) await this.verifyVisitorKey(projectId, id);
    if (ids.length === 1) return this.order(MANAGER, "delete_visitor_temp_key_info", { project_id: projectId, visitor_temp_key_id: ids[0] });
    return this.order(MANAGER, "batch_delete_visitor_temp_key_info", { project_id: projectId, visitor_temp_keys: ids.map((id) => ({ visitor_temp_key_id: id })) });
  }
}
