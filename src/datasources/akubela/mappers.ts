import { UpstreamError } from "../../errors.js";
import { parseVendorDateTime, parseVendorTimeOfDay } from "../../lib/time.js";
import {
  AccessGroupType,
  AccountRole,
  DeviceType,
  DeviceVendor,
  PaymentStatus,
  RepeatMode,
  Weekday,
  type AccessEventRecord,
  type AccountRecord,
  type AkuvoxDeviceRecord,
  type CallRecord,
  type CredentialsRecord,
  type RelayRecord,
  type ResidenceTempKeyRecord,
  type ToggleCodeRecord,
  type VisitorTempKeyDetailRecord,
  type VisitorTempKeyRecord,
} from "./model.js";

/**
 * Vendor DTO → domain record, one function per answer shape of `000_*.txt`, `001_*.txt`, `002_*.txt`.
 * Missing or empty strings become `null`; an answer of the wrong overall shape is an `UPSTREAM_ERROR`.
 */

type Row = Record<string, unknown>;

export function expectRows(result: unknown, command: string): Row[] {
  if (!Array.isArray(result)) throw shapeError(command, "a list");
  return result.filter((r): r is Row => r !== null && typeof r === "object");
}

export function expectObject(result: unknown, command: string): Row {
  if (result === null || typeof result !== "object" || Array.isArray(result)) throw shapeError(command, "an object");
  return result as Row;
}

function shapeError(command: string, expected: string): UpstreamError {
  return new UpstreamError(`Akubela answered ${command} with a result that is not ${expected}`, "UPSTREAM_ERROR", {
    vendor: "akubela",
    command,
    vendorCode: "unexpected_shape",
  });
}

export const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : null);
const bool = (v: unknown): boolean | null => (typeof v === "boolean" ? v : null);
const int = (v: unknown): number | null => {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isInteger(n) ? n : null;
};
const list = (v: unknown): Row[] => (Array.isArray(v) ? v.filter((r): r is Row => r !== null && typeof r === "object") : []);

function enumOf<E extends string>(table: Record<string, E>, value: unknown): E | null {
  return typeof value === "string" ? (table[value.trim().toLowerCase()] ?? null) : null;
}

/** `auth` of 002 get_user_list: admin (owner), user (family admin), guest (family member). */
const ROLES: Record<string, AccountRole> = { admin: AccountRole.ADMIN, user: AccountRole.USER, guest: AccountRole.GUEST };
const PAYMENT: Record<string, PaymentStatus> = {
  inactivated: PaymentStatus.INACTIVATED,
  normal: PaymentStatus.NORMAL,
  expired: PaymentStatus.EXPIRED,
};
/** `device_type` of 000/001: the five documented values. */
const DEVICE_TYPES: Record<string, DeviceType> = {
  "multi-tenants doorphone": DeviceType.MULTI_TENANT_DOORPHONE,
  "single-tenant doorphone": DeviceType.SINGLE_TENANT_DOORPHONE,
  "indoor monitor": DeviceType.INDOOR_MONITOR,
  "guard phone": DeviceType.GUARD_PHONE,
  "access control": DeviceType.ACCESS_CONTROL,
};
const REPEAT: Record<string, RepeatMode> = { never: RepeatMode.NEVER, daily: RepeatMode.DAILY, weekly: RepeatMode.WEEKLY };
const WEEKDAYS: Record<string, Weekday> = Object.fromEntries(Object.values(Weekday).map((d) => [d.toLowerCase(), d]));
const GROUP_TYPES: Record<string, AccessGroupType> = { system: AccessGroupType.SYSTEM, customized: AccessGroupType.CUSTOMIZED };

/** The graph's enums back to the vendor's words, for writes and filters. */
export const vendorRole = (role: AccountRole): string => role.toLowerCase();
export const vendorRepeatMode = (mode: RepeatMode): string => mode.toLowerCase();
export const vendorWeekday = (day: Weekday): string => day.charAt(0) + day.slice(1).toLowerCase();

/**
 * A row of `get_user_list` (002), or the object of `get_user_info` (002) completed with the ids that were asked
 * for (that answer carries neither account_id nor residence_id).
 */
export function mapAccount(row: Row, projectId: string, ids?: { residenceId: string; accountId: string }): AccountRecord | null {
  const accountId = ids?.accountId ?? str(row.account_id);
  const residenceId = ids?.residenceId ?? str(row.residence_id);
  if (!accountId || !residenceId) return null;
  return {
    __typename: "Account",
    projectId,
    residenceId,
    accountId,
    accountName: str(row.account_name),
    firstName: str(row.first_name),
    lastName: str(row.last_name),
    email: str(row.email),
    phone: str(row.phone),
    role: enumOf(ROLES, row.auth),
    region: str(row.region),
    paymentStatus: enumOf(PAYMENT, row.payment_status),
    residenceNo: str(row.residence_no),
    familyName: str(row.family_name),
    buildingId: str(row.building_id),
    buildingName: str(row.building_name),
  };
}

/** `get_user_access_info` (002): faces, pin_codes, rf_cards, access_groups, floor_accesses. */
export function mapCredentials(result: Row, ids: { projectId: string; residenceId: string; accountId: string }): CredentialsRecord {
  const scoped = { projectId: ids.projectId, residenceId: ids.residenceId, accountId: ids.accountId };
  return {
    ...scoped,
    pinCodes: list(result.pin_codes).flatMap((r) => {
      const pinCodeId = str(r.pin_code_id);
      return pinCodeId
        ? [{ __typename: "PinCode" as const, ...scoped, pinCodeId, number: str(r.number), createdAt: parseVendorDateTime(r.created_time), creator: str(r.creator) }]
        : [];
    }),
    rfCards: list(result.rf_cards).flatMap((r) => {
      const rfCardId = str(r.rf_card_id);
      return rfCardId
        ? [{ __typename: "RfCard" as const, ...scoped, rfCardId, number: str(r.number), createdAt: parseVendorDateTime(r.created_time), creator: str(r.creator) }]
        : [];
    }),
    faces: list(result.faces).flatMap((r) => {
      const faceId = str(r.face_id);
      return faceId ? [{ __typename: "Face" as const, ...scoped, faceId, createdAt: parseVendorDateTime(r.created_time), creator: str(r.creator) }] : [];
    }),
    accessGroups: list(result.access_groups).flatMap((r) => {
      const accessGroupId = str(r.access_group_id);
      return accessGroupId
        ? [{ __typename: "AccessGroup" as const, ...scoped, accessGroupId, name: str(r.access_group_name), type: enumOf(GROUP_TYPES, r.access_group_type) }]
        : [];
    }),
    floorAccesses: list(result.floor_accesses).flatMap((r) => {
      const buildingId = str(r.building_id);
      const floor = str(r.floor);
      return buildingId && floor ? [{ projectId: ids.projectId, buildingId, floor }] : [];
    }),
  };
}

function mapRelays(value: unknown, base: { projectId: string; mac: string; residenceId: string | null }, security: boolean): RelayRecord[] {
  return list(value).flatMap((r) => {
    const relayId = str(r.relay_id);
    return relayId
      ? [{ __typename: "Relay" as const, ...base, relayId, name: str(r.relay_name), dialKey: str(r.relay_number), security }]
      : [];
  });
}

/**
 * A device of `get_visitor_temp_key_device_list` / `get_visitor_temp_key_info` (000) or of
 * `get_akuvox_device_list` (001). The latter's RTSP address is `rtsp_url` in its table and `rtsp` in its example:
 * both are read. `residenceId` is kept only for a device private to that residence.
 */
export function mapDevice(row: Row, projectId: string, fromResidenceId: string | null = null): AkuvoxDeviceRecord | null {
  const mac = str(row.mac);
  if (!mac) return null;
  const isPublic = bool(row.is_public);
  const residenceId = fromResidenceId && isPublic === false ? fromResidenceId : null;
  const base = { projectId, mac, residenceId };
  const vendorDeviceType = str(row.device_type);
  return {
    __typename: "AkuvoxDevice",
    vendor: DeviceVendor.AKUVOX,
    projectId,
    mac,
    deviceId: str(row.device_id),
    name: str(row.device_name),
    deviceType: enumOf(DEVICE_TYPES, vendorDeviceType) ?? DeviceType.OTHER,
    vendorDeviceType,
    online: bool(row.online),
    isPublic: fromResidenceId ? isPublic : true,
    sip: str(row.sip),
    rtspUrl: str(row.rtsp_url) ?? str(row.rtsp),
    ciphertext: str(row.ciphertext),
    buildingId: str(row.building_id),
    buildingName: str(row.building_name),
    residenceId,
    relays: mapRelays(row.relays, base, false),
    securityRelays: mapRelays(row.security_relays, base, true),
  };
}

/** A row of `get_visitor_temp_key_list` (000). */
export function mapVisitorTempKey(row: Row, projectId: string, id?: string): VisitorTempKeyRecord | null {
  const visitorTempKeyId = id ?? str(row.visitor_temp_key_id);
  if (!visitorTempKeyId) return null;
  return {
    __typename: "VisitorTempKey",
    projectId,
    visitorTempKeyId,
    name: str(row.visitor_temp_key_name),
    number: str(row.visitor_temp_key_number),
    qrCodeUrl: str(row.qr_code_url),
    deviceValidityCount: int(row.device_validity_count),
    visitorIdentityNumber: str(row.visitor_identity_number),
    repeatMode: enumOf(REPEAT, row.repeat_mode),
    availableDays: Array.isArray(row.available_days)
      ? row.available_days.map((d) => enumOf(WEEKDAYS, d)).filter((d): d is Weekday => d !== null)
      : [],
    startTime: parseVendorTimeOfDay(row.start_time),
    finishTime: parseVendorTimeOfDay(row.finish_time),
    createdAt: parseVendorDateTime(row.created_time),
    creator: str(row.creator),
  };
}

/**
 * `get_visitor_temp_key_info` (000). Its table says `result` is an object; its example shows an array of one
 * (vendor-docs README): both are accepted. The answer carries no id: the one asked for is used.
 */
export function mapVisitorTempKeyDetail(result: unknown, projectId: string, visitorTempKeyId: string): VisitorTempKeyDetailRecord | null {
  const row = Array.isArray(result) ? result[0] : result;
  if (row === undefined) return null;
  const obj = expectObject(row, "get_visitor_temp_key_info");
  const base = mapVisitorTempKey(obj, projectId, visitorTempKeyId)!;
  return {
    ...base,
    residenceId: str(obj.residence_id),
    residenceNo: str(obj.residence_no),
    familyName: str(obj.family_name),
    buildingId: str(obj.building_id),
    buildingName: str(obj.building_name),
    devices: list(obj.devices).flatMap((d) => mapDevice(d, projectId) ?? []),
  };
}

/** `get_visitor_temp_key_history` (000) and `get_akuvox_open_door_history` (001). */
export function mapAccessEvent(row: Row): AccessEventRecord {
  return {
    success: bool(row.open_door),
    accountName: str(row.account_name),
    deviceName: str(row.device_name),
    method: str(row.open_door_type),
    thumbnailUrl: str(row.capture_thumbnail_url),
    pictureUrl: str(row.capture_picture_url),
    occurredAt: parseVendorDateTime(row.open_door_time),
    residenceNo: str(row.residence_no),
    buildingName: str(row.building_name),
    recordType: str(row.record_type),
    number: str(row.number),
  };
}

/** `get_akuvox_call_history` (001). */
export function mapCall(row: Row): CallRecord {
  return { callerName: str(row.call_name), callerSip: str(row.call_sip), calledAt: parseVendorDateTime(row.call_time) };
}

/** `get_akuvox_open_door_temp_key_config` (001): full date-times, UTC. */
export function mapResidenceTempKey(row: Row, projectId: string, residenceId: string): ResidenceTempKeyRecord | null {
  const tempKey = str(row.temp_key);
  if (!tempKey) return null;
  return {
    __typename: "ResidenceTempKey",
    projectId,
    residenceId,
    tempKey,
    startsAt: parseVendorDateTime(row.start_time),
    endsAt: parseVendorDateTime(row.finish_time),
    count: int(row.count),
    qrCodeUrl: str(row.qr_code_url),
  };
}

/** `get_akuvox_open_door_nfc_config` / `_ble_config` (001). */
export function mapToggle(result: Row, enabledKey: string, codeKey: string): ToggleCodeRecord {
  return { enabled: bool(result[enabledKey]), code: str(result[codeKey]) };
}
