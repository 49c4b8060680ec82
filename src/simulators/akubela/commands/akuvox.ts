/**
 * User commands of `001_5b8afc7a7400404b.txt` (Akuvox服务API): a residence's devices, open-door configs, temp
 * keys, face file, histories and remote door opening. Answered on `user-commands`; every one names only the
 * `residence_id` (residences are looked up over all projects).
 */
import { SIM_FILES_BASE } from "../constants.js";
import { newId, randomHexUpper } from "../random.js";
import { DOORPHONE_TYPES, residenceAccounts, residenceDevices, type Device } from "../state.js";
import { formatDateTime, parseDateTime } from "../time.js";
import { arr, bool, formats, int, obj, str } from "../validate.js";
import { freshKeyNumber } from "./visitor-keys.js";
import { command, invalidParam, notFound, relayRow, requireResidence, residenceId, SimError } from "./common.js";

const DOC = "001_5b8afc7a7400404b.txt";
const U = "user-commands" as const;
const onlyResidence = obj("命令参数", { residence_id: residenceId });

/**
 * A device as `get_akuvox_device_list` answers it. Doc quirk reproduced: the table names the RTSP field `rtsp_url`,
 * the example sends `rtsp`; doorphones answer `rtsp` (as the example, which is a doorphone), other devices
 * `rtsp_url` (as the table).
 */
export function akuvoxDeviceRow(d: Device) {
  const rtsp = DOORPHONE_TYPES.has(d.device_type) ? { rtsp: d.rtsp_url } : { rtsp_url: d.rtsp_url };
  return {
    ciphertext: d.ciphertext,
    security_relays: d.security_relays.map(relayRow),
    relays: d.relays.map(relayRow),
    is_public: d.is_public,
    device_name: d.device_name,
    sip: d.sip,
    device_type: d.device_type,
    mac: d.mac,
    online: d.online,
    ...rtsp,
  };
}

/**
 * `get_akuvox_device_list` — 001_5b8afc7a7400404b.txt, 获取Akuvox设备列表.
 * The public devices of the residence's building, the project-wide ones, then the residence's private devices.
 */
export const getAkuvoxDeviceList = command({
  name: "get_akuvox_device_list",
  endpoint: U,
  doc: `${DOC} 获取Akuvox设备列表`,
  param: onlyResidence,
  handle(p, ctx) {
    const { project, residence } = requireResidence(ctx, p.residence_id);
    return residenceDevices(project, residence).map(akuvoxDeviceRow);
  },
});

/** `get_akuvox_open_door_private_key_config` — 001_5b8afc7a7400404b.txt, 获取Akuvox私钥开门配置. */
export const getAkuvoxOpenDoorPrivateKeyConfig = command({
  name: "get_akuvox_open_door_private_key_config",
  endpoint: U,
  doc: `${DOC} 获取Akuvox私钥开门配置`,
  param: onlyResidence,
  handle(p, ctx) {
    return { private_key: requireResidence(ctx, p.residence_id).residence.private_key };
  },
});

/**
 * `update_akuvox_open_door_private_key_config` — 001_5b8afc7a7400404b.txt, 更新Akuvox私钥开门配置.
 * The private key is a door PIN: 4 to 8 digits (the document is silent; its example is `12345`).
 */
export const updateAkuvoxOpenDoorPrivateKeyConfig = command({
  name: "update_akuvox_open_door_private_key_config",
  endpoint: U,
  doc: `${DOC} 更新Akuvox私钥开门配置`,
  param: obj("命令参数", {
    private_key: str("私钥 / private key (a door PIN)", { format: formats.pinCode }),
    residence_id: residenceId,
  }),
  handle(p, ctx) {
    requireResidence(ctx, p.residence_id).residence.private_key = p.private_key;
    return {};
  },
});

/** `get_akuvox_open_door_nfc_config` — 001_5b8afc7a7400404b.txt, 获取Akuvox NFC开门配置. */
export const getAkuvoxOpenDoorNfcConfig = command({
  name: "get_akuvox_open_door_nfc_config",
  endpoint: U,
  doc: `${DOC} 获取Akuvox NFC开门配置`,
  param: onlyResidence,
  handle(p, ctx) {
    const { nfc } = requireResidence(ctx, p.residence_id).residence;
    return { nfc_code: nfc.nfc_code, enable_nfc: nfc.enable_nfc };
  },
});

/**
 * `update_akuvox_open_door_nfc_config` — 001_5b8afc7a7400404b.txt, 更新Akuvox NFC开门配置.
 * Enabling generates a 16-hex-digit code (kept when already enabled); disabling clears it (`nfc_code: ""`).
 */
export const updateAkuvoxOpenDoorNfcConfig = command({
  name: "update_akuvox_open_door_nfc_config",
  endpoint: U,
  doc: `${DOC} 更新Akuvox NFC开门配置`,
  param: obj("命令参数", { enable_nfc: bool("是否启用NFC / enable NFC"), residence_id: residenceId }),
  handle(p, ctx) {
    const { residence } = requireResidence(ctx, p.residence_id);
    const code = p.enable_nfc ? (residence.nfc.enable_nfc && residence.nfc.nfc_code) || randomHexUpper(16) : "";
    residence.nfc = { enable_nfc: p.enable_nfc, nfc_code: code };
    return { nfc_code: code };
  },
});

/** `get_akuvox_open_door_ble_config` — 001_5b8afc7a7400404b.txt, 获取Akuvox蓝牙开门配置. */
export const getAkuvoxOpenDoorBleConfig = command({
  name: "get_akuvox_open_door_ble_config",
  endpoint: U,
  doc: `${DOC} 获取Akuvox蓝牙开门配置`,
  param: onlyResidence,
  handle(p, ctx) {
    const { ble } = requireResidence(ctx, p.residence_id).residence;
    return { ble_code: ble.ble_code, enable_ble: ble.enable_ble };
  },
});

/**
 * `update_akuvox_open_door_ble_config` — 001_5b8afc7a7400404b.txt, 更新Akuvox蓝牙开门配置.
 * Enabling generates a 16-hex-digit code (kept when already enabled); disabling clears it (`ble_code: ""`).
 */
export const updateAkuvoxOpenDoorBleConfig = command({
  name: "update_akuvox_open_door_ble_config",
  endpoint: U,
  doc: `${DOC} 更新Akuvox蓝牙开门配置`,
  param: obj("命令参数", { enable_ble: bool("是否启用蓝牙 / enable BLE"), residence_id: residenceId }),
  handle(p, ctx) {
    const { residence } = requireResidence(ctx, p.residence_id);
    const code = p.enable_ble ? (residence.ble.enable_ble && residence.ble.ble_code) || randomHexUpper(16) : "";
    residence.ble = { enable_ble: p.enable_ble, ble_code: code };
    return { ble_code: code };
  },
});

/** `get_akuvox_open_door_temp_key_config` — 001_5b8afc7a7400404b.txt, 获取Akuvox临时密码开门配置. */
export const getAkuvoxOpenDoorTempKeyConfig = command({
  name: "get_akuvox_open_door_temp_key_config",
  endpoint: U,
  doc: `${DOC} 获取Akuvox临时密码开门配置`,
  param: onlyResidence,
  handle(p, ctx) {
    return requireResidence(ctx, p.residence_id).residence.temp_keys.map((t) => ({
      start_time: t.start_time,
      finish_time: t.finish_time,
      temp_key: t.temp_key,
      qr_code_url: t.qr_code_url,
      count: t.count,
    }));
  },
});

/**
 * `create_akuvox_open_door_temp_key_config` — 001_5b8afc7a7400404b.txt, 创建Akuvox临时密码开门配置.
 * start/finish are `yyyy-MM-dd HH:mm:ss` (UTC), finish after start; count ≥ 1. Answers a fresh 8-digit temp key
 * (unique in the project) and its QR code URL.
 */
export const createAkuvoxOpenDoorTempKeyConfig = command({
  name: "create_akuvox_open_door_temp_key_config",
  endpoint: U,
  doc: `${DOC} 创建Akuvox临时密码开门配置`,
  param: obj("命令参数", {
    residence_id: residenceId,
    start_time: str("开始时间,UTC / start", { format: formats.dateTime }),
    finish_time: str("结束时间,UTC / finish", { format: formats.dateTime }),
    count: int("使用次数 / number of uses", { min: 1 }),
  }),
  handle(p, ctx) {
    const { project, residence } = requireResidence(ctx, p.residence_id);
    if (parseDateTime(p.finish_time)! <= parseDateTime(p.start_time)!) {
      invalidParam("param.finish_time must be later than param.start_time");
    }
    const temp_key = freshKeyNumber(project);
    const qr_code_url = `${SIM_FILES_BASE}/qr/${newId("", 32)}.png`;
    residence.temp_keys.push({ temp_key, start_time: p.start_time, finish_time: p.finish_time, count: p.count, qr_code_url });
    return { temp_key, qr_code_url };
  },
});

/** `delete_akuvox_open_door_temp_key_config` — 001_5b8afc7a7400404b.txt, 删除Akuvox临时密码开门配置. */
export const deleteAkuvoxOpenDoorTempKeyConfig = command({
  name: "delete_akuvox_open_door_temp_key_config",
  endpoint: U,
  doc: `${DOC} 删除Akuvox临时密码开门配置`,
  param: obj("命令参数", { temp_key: str("临时密码 / temp key"), residence_id: residenceId }),
  handle(p, ctx) {
    const { residence } = requireResidence(ctx, p.residence_id);
    const i = residence.temp_keys.findIndex((t) => t.temp_key === p.temp_key);
    if (i < 0) notFound("param.temp_key: no such temp key in the residence");
    residence.temp_keys.splice(i, 1);
    return {};
  },
});

/**
 * `batch_delete_akuvox_open_door_temp_key_config` — 001_5b8afc7a7400404b.txt, 批量删除Akuvox临时密码开门配置.
 * `temp_key` is an array of keys. All or nothing: an unknown key fails the batch and deletes none.
 */
export const batchDeleteAkuvoxOpenDoorTempKeyConfig = command({
  name: "batch_delete_akuvox_open_door_temp_key_config",
  endpoint: U,
  doc: `${DOC} 批量删除Akuvox临时密码开门配置`,
  param: obj("命令参数", {
    temp_key: arr("临时密码 / temp keys", str("临时密码 / temp key"), { minItems: 1 }),
    residence_id: residenceId,
  }),
  handle(p, ctx) {
    const { residence } = requireResidence(ctx, p.residence_id);
    p.temp_key.forEach((k, i) => {
      if (!residence.temp_keys.some((t) => t.temp_key === k)) notFound(`param.temp_key[${i}]: no such temp key in the residence`);
    });
    const doomed = new Set(p.temp_key);
    residence.temp_keys = residence.temp_keys.filter((t) => !doomed.has(t.temp_key));
    return {};
  },
});

/** `get_akuvox_face_file_info` — 001_5b8afc7a7400404b.txt, 获取Akuvox人脸文件信息. */
export const getAkuvoxFaceFileInfo = command({
  name: "get_akuvox_face_file_info",
  endpoint: U,
  doc: `${DOC} 获取Akuvox人脸文件信息`,
  param: onlyResidence,
  handle(p, ctx) {
    return { is_uploaded: requireResidence(ctx, p.residence_id).residence.face_file.is_uploaded };
  },
});

/** `update_akuvox_face_file_info` — 001_5b8afc7a7400404b.txt, 更新Akuvox人脸文件信息. Marks the face file uploaded. */
export const updateAkuvoxFaceFileInfo = command({
  name: "update_akuvox_face_file_info",
  endpoint: U,
  doc: `${DOC} 更新Akuvox人脸文件信息`,
  param: obj("命令参数", { filename: str("文件名 / file name", { nonEmpty: true }), residence_id: residenceId }),
  handle(p, ctx) {
    requireResidence(ctx, p.residence_id).residence.face_file = { is_uploaded: true, filename: p.filename };
    return {};
  },
});

/**
 * `delete_akuvox_face_file_info` — 001_5b8afc7a7400404b.txt, 删除Akuvox人脸文件信息.
 * Idempotent: deleting when nothing is uploaded succeeds.
 */
export const deleteAkuvoxFaceFileInfo = command({
  name: "delete_akuvox_face_file_info",
  endpoint: U,
  doc: `${DOC} 删除Akuvox人脸文件信息`,
  param: onlyResidence,
  handle(p, ctx) {
    requireResidence(ctx, p.residence_id).residence.face_file = { is_uploaded: false, filename: null };
    return {};
  },
});

/**
 * `check_akuvox_device_permission` — 001_5b8afc7a7400404b.txt, 校验Akuvox设备权限.
 * `permission` is true iff the MAC (case-insensitive) is in the residence's device list; answers in request order,
 * echoing each MAC as sent.
 */
export const checkAkuvoxDevicePermission = command({
  name: "check_akuvox_device_permission",
  endpoint: U,
  doc: `${DOC} 校验Akuvox设备权限`,
  param: obj("命令参数", {
    devices: arr("设备信息 / devices", obj("设备", { mac: str("MAC地址 / MAC address") })),
    residence_id: residenceId,
  }),
  handle(p, ctx) {
    const { project, residence } = requireResidence(ctx, p.residence_id);
    const macs = new Set(residenceDevices(project, residence).map((d) => d.mac));
    return p.devices.map((d) => ({ permission: macs.has(d.mac.toUpperCase()), mac: d.mac }));
  },
});

/** `get_akuvox_call_history` — 001_5b8afc7a7400404b.txt, 获取Akuvox通话历史记录. Newest first. */
export const getAkuvoxCallHistory = command({
  name: "get_akuvox_call_history",
  endpoint: U,
  doc: `${DOC} 获取Akuvox通话历史记录`,
  param: onlyResidence,
  handle(p, ctx) {
    return requireResidence(ctx, p.residence_id).residence.call_history.map((c) => ({ ...c }));
  },
});

/** `get_akuvox_open_door_history` — 001_5b8afc7a7400404b.txt, 获取Akuvox开门历史记录. Newest first. */
export const getAkuvoxOpenDoorHistory = command({
  name: "get_akuvox_open_door_history",
  endpoint: U,
  doc: `${DOC} 获取Akuvox开门历史记录`,
  param: onlyResidence,
  handle(p, ctx) {
    return requireResidence(ctx, p.residence_id).residence.open_door_history.map((h) => ({ ...h }));
  },
});

/**
 * `trigger_akuvox_remote_open_door` — 001_5b8afc7a7400404b.txt, 触发Akuvox远程开门.
 * The MAC must be in the residence's device list and the relay among the device's relays or security relays;
 * an offline device fails with `device_offline`. A success adds an open-door history entry (type `Remote`).
 */
export const triggerAkuvoxRemoteOpenDoor = command({
  name: "trigger_akuvox_remote_open_door",
  endpoint: U,
  doc: `${DOC} 触发Akuvox远程开门`,
  param: obj("命令参数", {
    residence_id: residenceId,
    mac: str("MAC地址 / MAC address"),
    relay_id: str("门控ID / relay id"),
  }),
  handle(p, ctx) {
    const { project, residence } = requireResidence(ctx, p.residence_id);
    const wanted = p.mac.toUpperCase();
    const device =
      residenceDevices(project, residence).find((d) => d.mac === wanted) ??
      notFound("param.mac: no such device for the residence");
    const relay = [...device.relays, ...device.security_relays].find((r) => r.relay_id === p.relay_id);
    if (!relay) notFound("param.relay_id: no such relay on the device");
    if (!device.online) throw new SimError("device_offline", "The device is offline");
    const admin = residenceAccounts(project, residence.residence_id).find((a) => a.auth === "admin");
    residence.open_door_history.unshift({
      open_door: true,
      account_name: admin ? `${admin.first_name} ${admin.last_name}` : residence.family_name,
      device_name: device.device_name,
      capture_thumbnail_url: "",
      open_door_type: "Remote",
      capture_picture_url: "",
      open_door_time: formatDateTime(ctx.now),
    });
    return {};
  },
});

export const akuvoxCommands = [
  getAkuvoxDeviceList,
  getAkuvoxOpenDoorPrivateKeyConfig,
  updateAkuvoxOpenDoorPrivateKeyConfig,
  getAkuvoxOpenDoorNfcConfig,
  updateAkuvoxOpenDoorNfcConfig,
  getAkuvoxOpenDoorBleConfig,
  updateAkuvoxOpenDoorBleConfig,
  getAkuvoxOpenDoorTempKeyConfig,
  createAkuvoxOpenDoorTempKeyConfig,
  deleteAkuvoxOpenDoorTempKeyConfig,
  batchDeleteAkuvoxOpenDoorTempKeyConfig,
  getAkuvoxFaceFileInfo,
  updateAkuvoxFaceFileInfo,
  deleteAkuvoxFaceFileInfo,
  checkAkuvoxDevicePermission,
  getAkuvoxCallHistory,
  getAkuvoxOpenDoorHistory,
  triggerAkuvoxRemoteOpenDoor,
];
