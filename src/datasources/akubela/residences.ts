import { derive } from "../../lib/derived.js";
import { formatVendorDateTime } from "../../lib/time.js";
import { MANAGER, USER } from "./core.js";
import { expectObject, expectRows, mapAccessEvent, mapCall, mapDevice, mapResidenceTempKey, mapToggle, str } from "./mappers.js";
import type { AccessEventRecord, AkuvoxDeviceRecord, CallRecord, ResidenceRecord, ResidenceTempKeyRecord, ToggleCodeRecord } from "./model.js";
import { AkubelaUsers, residenceOf } from "./users.js";

/** What a query will read below a project's residences (`readAhead`), as the resolver's selection says. */
export interface ReadAheadPlan {
  /** Each reached account's `credentials` (`get_user_access_info`). */
  credentials: boolean;
  /** Each reached residence's `devices` (`get_akuvox_device_list`). */
  devices: boolean;
  /** Which residences the query reaches (a building's, those of the `buildingId` argument…). */
  residences: (residence: ResidenceRecord) => boolean;
}

/** A residence as the graph names it: the project it is addressed in, and its id. */
export interface ResidenceKey {
  projectId: string;
  residenceId: string;
}

/**
 * The residences document (`001_*.txt`): a residence's devices, open-door settings, temp keys, histories and
 * remote opening. These `user-commands` take only `residence_id`, and the vendor answers for any residence the
 * credential sees, so every one is preceded by the check that the residence is in the project it is addressed in
 * (the project's user list, {@link AkubelaCore.verifyResidence}); a device is the residence's when the
 * residence's own device list has it.
 */
export abstract class AkubelaResidences extends AkubelaUsers {
  /**
   * A read of one residence, after the residence is proved to be the project's. `residence_id` is always the
   * residence checked (a param placing it first keeps its place in the envelope).
   */
  private async residenceRead(r: ResidenceKey, command: string, param: Record<string, unknown> = { residence_id: r.residenceId }): Promise<unknown> {
    await this.verifyResidence(r.projectId, r.residenceId);
    return this.command(USER, command, { ...param, residence_id: r.residenceId });
  }

  /** A write to one residence, after the same check. */
  private async residenceWrite(r: ResidenceKey, command: string, param: Record<string, unknown>, id?: string): Promise<unknown> {
    await this.verifyResidence(r.projectId, r.residenceId);
    return this.order(USER, command, { ...param, residence_id: r.residenceId }, id);
  }

  /**
   * Starts, as each page of the project's user list arrives, the reads a query will make for its accounts and
   * residences (issue 16): the dashboard's access info (`get_user_access_info`) and device lists
   * (`get_akuvox_device_list`) no longer wait for the pages they do not depend on, so the user list's pages, which
   * must come one after another, overlap with the rest. The resolver says which reads its selection will make and
   * which residences it reaches ({@link ReadAheadPlan}); they go through this request's loaders with the keys the
   * fields use, so each is sent once and answered to the field that asks. The page itself, the project's own
   * `get_user_list`, is what places each account and residence in the project. A read that fails is reported by the
   * field that asks for it, as without read-ahead.
   */
  readAhead(projectId: string, plan: ReadAheadPlan): void {
    if ((!plan.credentials && !plan.devices) || this.base.naive) return;
    this.guard.project(projectId);
    const residences = new Map<string, ResidenceRecord>();
    const quietly = (read: Promise<unknown>) => void read.catch(() => {});
    this.onUserListPage(projectId, (accounts) => {
      for (const a of accounts) {
        let residence = residences.get(a.residenceId);
        const first = residence === undefined;
        if (!residence) residences.set(a.residenceId, (residence = residenceOf(a)!));
        if (!plan.residences(residence)) continue;
        if (first && plan.devices) quietly(this.command(USER, "get_akuvox_device_list", { residence_id: a.residenceId }));
        if (plan.credentials) quietly(this.command(MANAGER, "get_user_access_info", { project_id: projectId, residence_id: a.residenceId, account_id: a.accountId }));
      }
    });
  }

  /** The devices a residence sees: `get_akuvox_device_list` (001 获取Akuvox设备列表). */
  async residenceDevices(projectId: string, residenceId: string): Promise<AkuvoxDeviceRecord[]> {
    const result = await this.residenceRead({ projectId, residenceId }, "get_akuvox_device_list");
    return derive(result, `devices|${projectId}|${residenceId}`, () => expectRows(result, "get_akuvox_device_list").flatMap((row) => mapDevice(row, projectId, residenceId) ?? []));
  }

  /**
   * A device by MAC: through the residence's list for a private device, else the project's list. `null` when
   * neither has it.
   */
  async device(projectId: string, mac: string, residenceId?: string | null): Promise<AkuvoxDeviceRecord | null> {
    const devices = residenceId ? await this.residenceDevices(projectId, residenceId) : await this.projectDevices(projectId);
    return devices.find((d) => d.mac === mac) ?? null;
  }

  /**
   * A device by MAC as the list it is addressed in has it: the residence's own device list for a private device,
   * else the project's shared devices (`get_visitor_temp_key_device_list`); refused when that list does not, so a
   * forged ID naming another project's MAC is refused, not answered as unknown.
   */
  async listedDevice(projectId: string, mac: string, residenceId?: string | null): Promise<AkuvoxDeviceRecord> {
    if (residenceId) return this.residenceDevice({ projectId, residenceId }, mac);
    const device = (await this.projectDevices(projectId)).find((d) => d.mac === mac);
    return device ?? this.guard.refuse(`device ${mac} is not a shared device of project ${projectId}`);
  }

  /** A device of the residence, as the residence's own device list has it; refused when that list does not. */
  async residenceDevice(r: ResidenceKey, mac: string): Promise<AkuvoxDeviceRecord> {
    const device = (await this.residenceDevices(r.projectId, r.residenceId)).find((d) => d.mac === mac);
    return device ?? this.guard.refuse(`device ${mac} is not in the device list of residence ${r.residenceId} of project ${r.projectId}`);
  }

  /** `get_akuvox_open_door_private_key_config` (001 获取Akuvox私钥开门配置). */
  async privateKey(r: ResidenceKey): Promise<string | null> {
    const command = "get_akuvox_open_door_private_key_config";
    return str(expectObject(await this.residenceRead(r, command), command).private_key);
  }

  /** `get_akuvox_open_door_nfc_config` (001 获取Akuvox NFC开门配置). */
  async nfcConfig(r: ResidenceKey): Promise<ToggleCodeRecord> {
    const command = "get_akuvox_open_door_nfc_config";
    return mapToggle(expectObject(await this.residenceRead(r, command), command), "enable_nfc", "nfc_code");
  }

  /** `get_akuvox_open_door_ble_config` (001 获取Akuvox蓝牙开门配置). */
  async bleConfig(r: ResidenceKey): Promise<ToggleCodeRecord> {
    const command = "get_akuvox_open_door_ble_config";
    return mapToggle(expectObject(await this.residenceRead(r, command), command), "enable_ble", "ble_code");
  }

  /** `get_akuvox_face_file_info` (001 获取Akuvox人脸文件信息). */
  async faceFileUploaded(r: ResidenceKey): Promise<boolean | null> {
    const command = "get_akuvox_face_file_info";
    const uploaded = expectObject(await this.residenceRead(r, command), command).is_uploaded;
    return typeof uploaded === "boolean" ? uploaded : null;
  }

  /** `get_akuvox_open_door_temp_key_config` (001 获取Akuvox临时密码开门配置). */
  async residenceTempKeys(projectId: string, residenceId: string): Promise<ResidenceTempKeyRecord[]> {
    const command = "get_akuvox_open_door_temp_key_config";
    const result = await this.residenceRead({ projectId, residenceId }, command);
    return expectRows(result, command).flatMap((row) => mapResidenceTempKey(row, projectId, residenceId) ?? []);
  }

  /** `get_akuvox_call_history` (001 获取Akuvox通话历史记录): the whole history, unpaged by the vendor. */
  async callHistory(r: ResidenceKey): Promise<CallRecord[]> {
    return expectRows(await this.residenceRead(r, "get_akuvox_call_history"), "get_akuvox_call_history").map(mapCall);
  }

  /** `get_akuvox_open_door_history` (001 获取Akuvox开门历史记录): the whole history, unpaged by the vendor. */
  async openDoorHistory(r: ResidenceKey): Promise<AccessEventRecord[]> {
    return expectRows(await this.residenceRead(r, "get_akuvox_open_door_history"), "get_akuvox_open_door_history").map(mapAccessEvent);
  }

  /**
   * `check_akuvox_device_permission` (001 校验Akuvox设备权限): whether the residence may use each MAC. Not a
   * write, but its answer is about this moment: sent as a read, never cached beyond the request.
   */
  async checkDevicePermission(r: ResidenceKey, macs: readonly string[]): Promise<{ mac: string; permission: boolean }[]> {
    // The command names each MAC: one neither the residence's device list nor the project's shared devices have
    // (another project's device) is refused before it is sent.
    const [own, shared] = await Promise.all([this.residenceDevices(r.projectId, r.residenceId), this.projectDevices(r.projectId)]);
    const known = new Set([...own, ...shared].map((d) => d.mac));
    const foreign = macs.find((mac) => !known.has(mac));
    if (foreign) this.guard.refuse(`device ${foreign} is not in the device list of residence ${r.residenceId} nor a shared device of project ${r.projectId}`);
    const result = await this.residenceRead(r, "check_akuvox_device_permission", { devices: macs.map((mac) => ({ mac })) });
    return expectRows(result, "check_akuvox_device_permission").map((row) => ({ mac: String(row.mac ?? ""), permission: row.permission === true }));
  }

  // ---- writes ----

  /** `update_akuvox_open_door_private_key_config` (001 更新Akuvox私钥开门配置). */
  updatePrivateKey(r: ResidenceKey, privateKey: string) {
    return this.residenceWrite(r, "update_akuvox_open_door_private_key_config", { private_key: privateKey });
  }

  /** `update_akuvox_open_door_nfc_config` (001 更新Akuvox NFC开门配置): answers the NFC code. */
  async updateNfc(r: ResidenceKey, enabled: boolean): Promise<string | null> {
    const command = "update_akuvox_open_door_nfc_config";
    return str(expectObject(await this.residenceWrite(r, command, { enable_nfc: enabled }), command).nfc_code);
  }

  /** `update_akuvox_open_door_ble_config` (001 更新Akuvox蓝牙开门配置): answers the BLE code. */
  async updateBle(r: ResidenceKey, enabled: boolean): Promise<string | null> {
    const command = "update_akuvox_open_door_ble_config";
    return str(expectObject(await this.residenceWrite(r, command, { enable_ble: enabled }), command).ble_code);
  }

  /**
   * `create_akuvox_open_door_temp_key_config` (001 创建Akuvox临时密码开门配置), times in the vendor's UTC format:
   * answers the new code (its number), or `null` when the vendor gave none.
   */
  async createResidenceTempKey(r: ResidenceKey, startsAt: Date, endsAt: Date, count: number): Promise<string | null> {
    const command = "create_akuvox_open_door_temp_key_config";
    const result = await this.residenceWrite(r, command, { residence_id: r.residenceId, start_time: formatVendorDateTime(startsAt), finish_time: formatVendorDateTime(endsAt), count });
    const tempKey = expectObject(result, command).temp_key;
    return typeof tempKey === "string" ? tempKey : null;
  }

  /**
   * Deletes codes of one residence: one with `delete_akuvox_open_door_temp_key_config` (001 删除Akuvox临时密码开门配置),
   * more with `batch_delete_akuvox_open_door_temp_key_config` (001 批量删除Akuvox临时密码开门配置).
   */
  deleteResidenceTempKeys(r: ResidenceKey, tempKeys: readonly string[]) {
    return tempKeys.length === 1
      ? this.residenceWrite(r, "delete_akuvox_open_door_temp_key_config", { temp_key: tempKeys[0] })
      : this.residenceWrite(r, "batch_delete_akuvox_open_door_temp_key_config", { temp_key: [...tempKeys] });
  }

  /** `update_akuvox_face_file_info` (001 更新Akuvox人脸文件信息). */
  updateFaceFile(r: ResidenceKey, filename: string) {
    return this.residenceWrite(r, "update_akuvox_face_file_info", { filename });
  }

  /** `delete_akuvox_face_file_info` (001 删除Akuvox人脸文件信息). */
  deleteFaceFile(r: ResidenceKey) {
    return this.residenceWrite(r, "delete_akuvox_face_file_info", {});
  }

  /**
   * `trigger_akuvox_remote_open_door` (001 触发Akuvox远程开门) with the command `id` `requestId`. Never retried.
   * Refused unless the residence is the project's and its own device list has the MAC.
   */
  async openDoor(r: ResidenceKey, mac: string, relayId: string, requestId: string) {
    await this.residenceDevice(r, mac);
    return this.residenceWrite(r, "trigger_akuvox_remote_open_door", { residence_id: r.residenceId, mac, relay_id: relayId }, requestId);
  }
}
