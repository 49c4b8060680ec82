/**
 * The answer fields of the vendor documents' 返回参数 / result说明 tables, copied by hand from
 * `/work/shared/vendor-docs/000_*.txt`, `001_*.txt`, `002_*.txt` (not from the simulator), sorted, so that a test
 * can compare `Object.keys(row)` with them. And the 44 commands of the README's index, with their endpoint.
 */

const sorted = (...fields: string[]) => [...fields].sort();

export const DOC = {
  /** 000 获取访客临时密码列表 */
  visitorKeyListRow: sorted(
    "visitor_temp_key_id", "visitor_temp_key_name", "visitor_temp_key_number", "qr_code_url", "device_validity_count",
    "visitor_identity_number", "repeat_mode", "available_days", "start_time", "finish_time", "created_time", "creator",
  ),
  /** 000 获取访客临时密码信息 (no visitor_temp_key_id in the table nor the example) */
  visitorKeyInfo: sorted(
    "visitor_temp_key_name", "visitor_temp_key_number", "qr_code_url", "device_validity_count", "visitor_identity_number",
    "residence_id", "family_name", "residence_no", "building_id", "building_name", "repeat_mode", "available_days",
    "start_time", "finish_time", "created_time", "creator", "devices",
  ),
  /** 000 device说明 (info and 获取访客临时密码设备列表) */
  visitorDevice: sorted(
    "building_id", "building_name", "device_id", "device_name", "mac", "online", "device_type", "relays", "security_relays",
  ),
  /** relay说明 (000 and 001) */
  relay: sorted("relay_name", "relay_number", "relay_id"),
  /** 000 获取访客临时密码历史记录 */
  visitorKeyHistory: sorted(
    "open_door", "account_name", "device_name", "capture_thumbnail_url", "open_door_type", "capture_picture_url",
    "open_door_time", "residence_no", "building_name", "record_type", "number",
  ),
  /** 001 获取Akuvox设备列表, without the RTSP field (`rtsp_url` in the table, `rtsp` in the example). */
  akuvoxDeviceWithoutRtsp: sorted(
    "ciphertext", "relays", "security_relays", "is_public", "device_name", "sip", "device_type", "mac", "online",
  ),
  privateKey: ["private_key"],
  nfc: sorted("nfc_code", "enable_nfc"),
  nfcUpdate: ["nfc_code"],
  ble: sorted("ble_code", "enable_ble"),
  bleUpdate: ["ble_code"],
  /** 001 获取Akuvox临时密码开门配置 */
  residenceTempKey: sorted("temp_key", "start_time", "finish_time", "count", "qr_code_url"),
  /** 001 创建Akuvox临时密码开门配置 */
  residenceTempKeyCreate: sorted("temp_key", "qr_code_url"),
  faceFile: ["is_uploaded"],
  permission: sorted("permission", "mac"),
  call: sorted("call_name", "call_sip", "call_time"),
  openDoor: sorted(
    "open_door", "account_name", "device_name", "capture_thumbnail_url", "open_door_type", "capture_picture_url", "open_door_time",
  ),
  /** 002 獲取用戶列表 (the nameless 郵箱 row is `email`, as the example) */
  userListRow: sorted(
    "residence_id", "family_name", "residence_no", "building_id", "building_name", "account_id", "account_name",
    "first_name", "last_name", "email", "phone", "auth", "region", "payment_status",
  ),
  /** 002 獲取用戶信息 (no residence_id nor account_id) */
  userInfo: sorted(
    "family_name", "residence_no", "building_id", "building_name", "account_name", "first_name", "last_name", "email",
    "phone", "auth", "region", "payment_status",
  ),
  /** 002 獲取用戶權限信息 */
  access: sorted("faces", "pin_codes", "rf_cards", "access_groups", "floor_accesses"),
  floorAccess: sorted("building_id", "floor"),
  face: sorted("face_id", "created_time", "creator"),
  pinCode: sorted("pin_code_id", "number", "created_time", "creator"),
  rfCard: sorted("rf_card_id", "number", "created_time", "creator"),
  accessGroup: sorted("access_group_id", "access_group_name", "access_group_type"),
} as const;

/** `yyyy-MM-dd HH:mm:ss` (UTC, the documents' date-times). */
export const DATE_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
/** `HH:mm:ss` (visitor temp keys' times of day). */
export const TIME_OF_DAY = /^\d{2}:\d{2}:\d{2}$/;
/** A vendor id: one letter and 32 hex characters, as the documents' examples. */
export const vendorId = (prefix: string) => new RegExp(`^${prefix}[0-9a-f]{32}$`);

/** README rows 1–44: endpoint and command. */
export const README_COMMANDS: readonly (readonly ["manager-commands" | "user-commands", string])[] = [
  ["manager-commands", "get_visitor_temp_key_list"],
  ["manager-commands", "get_visitor_temp_key_info"],
  ["manager-commands", "get_visitor_temp_key_device_list"],
  ["manager-commands", "create_visitor_temp_key_info"],
  ["manager-commands", "delete_visitor_temp_key_info"],
  ["manager-commands", "get_visitor_temp_key_history"],
  ["manager-commands", "batch_delete_visitor_temp_key_info"],
  ["user-commands", "get_akuvox_device_list"],
  ["user-commands", "get_akuvox_open_door_private_key_config"],
  ["user-commands", "update_akuvox_open_door_private_key_config"],
  ["user-commands", "get_akuvox_open_door_nfc_config"],
  ["user-commands", "update_akuvox_open_door_nfc_config"],
  ["user-commands", "get_akuvox_open_door_ble_config"],
  ["user-commands", "update_akuvox_open_door_ble_config"],
  ["user-commands", "get_akuvox_open_door_temp_key_config"],
  ["user-commands", "create_akuvox_open_door_temp_key_config"],
  ["user-commands", "delete_akuvox_open_door_temp_key_config"],
  ["user-commands", "batch_delete_akuvox_open_door_temp_key_config"],
  ["user-commands", "get_akuvox_face_file_info"],
  ["user-commands", "update_akuvox_face_file_info"],
  ["user-commands", "delete_akuvox_face_file_info"],
  ["user-commands", "check_akuvox_device_permission"],
  ["user-commands", "get_akuvox_call_history"],
  ["user-commands", "get_akuvox_open_door_history"],
  ["user-commands", "trigger_akuvox_remote_open_door"],
  ["manager-commands", "get_user_list"],
  ["manager-commands", "get_user_info"],
  ["manager-commands", "create_user_info"],
  ["manager-commands", "batch_create_user_info"],
  ["manager-commands", "update_user_info"],
  ["manager-commands", "update_user_password"],
  ["manager-commands", "delete_user_info"],
  ["manager-commands", "batch_delete_user_info"],
  ["manager-commands", "import_user_info"],
  ["manager-commands", "get_user_access_info"],
  ["manager-commands", "update_user_floor_access_info"],
  ["manager-commands", "create_user_pin_code_access_info"],
  ["manager-commands", "delete_user_pin_code_access_info"],
  ["manager-commands", "create_user_rf_card_access_info"],
  ["manager-commands", "delete_user_rf_card_access_info"],
  ["manager-commands", "create_user_face_access_info"],
  ["manager-commands", "delete_user_face_access_info"],
  ["manager-commands", "import_user_pin_code_and_rf_card_access_info"],
  ["manager-commands", "import_user_face_access_info"],
];
