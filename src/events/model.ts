/**
 * One normalised access event over both vendors and the graph's own mutations (house style, "Events"): a stable
 * `eventId` for deduplication, a kind, a method, the vendor's time and ours, and references where known.
 *
 * The vendors push nothing; their histories are polled and normalised here:
 * - `get_akuvox_open_door_history` and `get_akuvox_call_history` (001_5b8afc7a7400404b.txt, 获取Akuvox开门历史记录 /
 *   获取Akuvox通话历史记录), per residence, newest first, times `yyyy-MM-dd HH:mm:ss` UTC;
 * - `get_visitor_temp_key_history` (000_ea6fedeba34c96fa.txt, 获取访客临时密码历史记录), per visitor key;
 * - `get_akuvox_device_list` (001, 获取Akuvox设备列表): the `online` flag, compared with the last one seen;
 * - the Aliyun gateway (003_d332e758188ea47b.txt) answers no history: its events are the graph's own (remote
 *   open, keep-open) and device status from the site map's devices.
 */
import { createHash } from "node:crypto";
import { stableStringify } from "../lib/stable-stringify.js";
import type { AccessEventRecord, CallRecord } from "../datasources/akubela/model.js";

export const ACCESS_EVENT_KINDS = [
  "DOOR_OPENED",
  "DOOR_OPEN_DENIED",
  "CALL",
  "DEVICE_ONLINE",
  "DEVICE_OFFLINE",
  "CREDENTIAL_CREATED",
  "CREDENTIAL_DELETED",
  "KEEP_OPEN_CHANGED",
  "PERMISSION_CHANGED",
  "REMOTE_OPEN_REQUESTED",
] as const;
export type AccessEventKind = (typeof ACCESS_EVENT_KINDS)[number];

export const ACCESS_METHODS = ["PIN", "RF_CARD", "FACE", "QR", "TEMP_KEY", "REMOTE", "APP", "CALL", "BLE", "NFC", "OTHER"] as const;
export type AccessMethod = (typeof ACCESS_METHODS)[number];

export type EventVendor = "akubela" | "aliyun" | "graph";

/** An event as produced by a source, before the log gives it a cursor. Times are ISO-8601 UTC strings. */
export interface AccessEventData {
  eventId: string;
  kind: AccessEventKind;
  method: AccessMethod | null;
  occurredAt: string;
  receivedAt: string;
  vendor: EventVendor;
  /** The vendor's own word for the record (`open_door_type`, `record_type`, a command name). */
  vendorEventType: string | null;
  projectId: string;
  buildingId?: string | null;
  residenceId?: string | null;
  /** An Akuvox MAC or an Aliyun iotId. */
  deviceId?: string | null;
  deviceName?: string | null;
  relayId?: string | null;
  accountId?: string | null;
  accountName?: string | null;
  /** A visitor temp key, when the event is its history. */
  visitorTempKeyId?: string | null;
  /** Capture URLs: served only to callers allowed to see them (scope `events:pictures`). */
  thumbnailUrl?: string | null;
  pictureUrl?: string | null;
  /** The credential kind (`pinCode`, `rfCard`, `face`) or permission change (`cardPermissionsGrant`, …). */
  detail?: string | null;
}

/** An event in the log: its cursor is its position (a Redis Stream id, `<ms>-<seq>`). */
export interface LoggedAccessEvent extends AccessEventData {
  cursor: string;
}

/**
 * A stable id: the same vendor record polled twice, by two instances or after a restart, gets the same id, so the
 * log stores it once. Built from what identifies the record at the vendor, never from a secret.
 */
export function eventIdOf(identity: Record<string, unknown>): string {
  return "ev_" + createHash("sha256").update(stableStringify(identity)).digest("base64url").slice(0, 24);
}

/** The vendor's `open_door_type` (e.g. `PIN`, `RF Card`, `temp key`, `Remote`) as a method. */
export function methodOf(vendorType: string | null | undefined): AccessMethod | null {
  const t = (vendorType ?? "").trim().toLowerCase().replace(/[\s_-]+/g, " ");
  if (!t) return null;
  if (t === "pin" || t === "private key" || t === "password") return "PIN";
  if (t === "rf card" || t === "card" || t === "rfcard") return "RF_CARD";
  if (t === "face") return "FACE";
  if (t === "qr" || t === "qr code") return "QR";
  if (t === "temp key" || t === "tempkey") return "TEMP_KEY";
  if (t === "remote") return "REMOTE";
  if (t === "app") return "APP";
  if (t === "call") return "CALL";
  if (t === "ble") return "BLE";
  if (t === "nfc") return "NFC";
  return "OTHER";
}

const iso = (d: Date | null | undefined, fallback: Date) => (d ?? fallback).toISOString();

export interface ResidenceScope {
  projectId: string;
  residenceId: string;
  buildingId?: string | null;
}

/** A row of `get_akuvox_open_door_history` (mapped by the data source) as an event. */
export function fromOpenDoorRecord(r: AccessEventRecord, at: ResidenceScope, receivedAt: Date): AccessEventData {
  const occurredAt = iso(r.occurredAt, receivedAt);
  return {
    eventId: eventIdOf({ s: "akubela.open_door", p: at.projectId, r: at.residenceId, t: occurredAt, d: r.deviceName, a: r.accountName, m: r.method, ok: r.success }),
    kind: r.success === false ? "DOOR_OPEN_DENIED" : "DOOR_OPENED",
    method: methodOf(r.method),
    occurredAt,
    receivedAt: receivedAt.toISOString(),
    vendor: "akubela",
    vendorEventType: r.method ?? null,
    projectId: at.projectId,
    buildingId: at.buildingId ?? null,
    residenceId: at.residenceId,
    deviceName: r.deviceName,
    accountName: r.accountName,
    thumbnailUrl: r.thumbnailUrl || null,
    pictureUrl: r.pictureUrl || null,
  };
}

/** A row of `get_akuvox_call_history` as an event. */
export function fromCallRecord(c: CallRecord, at: ResidenceScope, receivedAt: Date): AccessEventData {
  const occurredAt = iso(c.calledAt, receivedAt);
  return {
    eventId: eventIdOf({ s: "akubela.call", p: at.projectId, r: at.residenceId, t: occurredAt, n: c.callerName, sip: c.callerSip }),
    kind: "CALL",
    method: "CALL",
    occurredAt,
    receivedAt: receivedAt.toISOString(),
    vendor: "akubela",
    vendorEventType: "call",
    projectId: at.projectId,
    buildingId: at.buildingId ?? null,
    residenceId: at.residenceId,
    deviceName: c.callerName,
    detail: c.callerSip,
  };
}

/** A row of `get_visitor_temp_key_history` as an event (the key's number is a secret: not kept). */
export function fromVisitorKeyRecord(r: AccessEventRecord, at: { projectId: string; visitorTempKeyId: string; residenceId?: string | null }, receivedAt: Date): AccessEventData {
  const occurredAt = iso(r.occurredAt, receivedAt);
  return {
    eventId: eventIdOf({ s: "akubela.visitor_key", p: at.projectId, k: at.visitorTempKeyId, t: occurredAt, d: r.deviceName, ok: r.success, rt: r.recordType }),
    kind: r.success === false ? "DOOR_OPEN_DENIED" : "DOOR_OPENED",
    method: methodOf(r.method) ?? "TEMP_KEY",
    occurredAt,
    receivedAt: receivedAt.toISOString(),
    vendor: "akubela",
    vendorEventType: r.recordType ?? r.method ?? null,
    projectId: at.projectId,
    residenceId: at.residenceId ?? null,
    visitorTempKeyId: at.visitorTempKeyId,
    deviceName: r.deviceName,
    accountName: r.accountName,
    thumbnailUrl: r.thumbnailUrl || null,
    pictureUrl: r.pictureUrl || null,
  };
}

/**
 * A device's online flag that differs from the last one seen (device lists carry no history: the change is
 * observed, so `occurredAt` is when it was seen). `generation` is the count of changes seen for the device, so the
 * same change seen by two pollers has one id and a later flip back another.
 */
export function deviceStatusChange(
  d: { projectId: string; deviceId: string; deviceName?: string | null; residenceId?: string | null; buildingId?: string | null; vendor: "akubela" | "aliyun" },
  online: boolean,
  generation: number,
  seenAt: Date,
): AccessEventData {
  return {
    eventId: eventIdOf({ s: `${d.vendor}.device_status`, p: d.projectId, d: d.deviceId, online, g: generation }),
    kind: online ? "DEVICE_ONLINE" : "DEVICE_OFFLINE",
    method: null,
    occurredAt: seenAt.toISOString(),
    receivedAt: seenAt.toISOString(),
    vendor: d.vendor,
    vendorEventType: "online",
    projectId: d.projectId,
    buildingId: d.buildingId ?? null,
    residenceId: d.residenceId ?? null,
    deviceId: d.deviceId,
    deviceName: d.deviceName ?? null,
  };
}

/** Compares two stream ids (`<ms>-<seq>`): negative when `a` is earlier. */
export function compareCursors(a: string, b: string): number {
  const [am, as = "0"] = a.split("-");
  const [bm, bs = "0"] = b.split("-");
  const dm = Number(am) - Number(bm);
  return dm !== 0 ? dm : Number(as) - Number(bs);
}

/** Whether a string is a log cursor (a stream id). */
export const isCursor = (s: string) => /^\d{1,16}-\d{1,16}$/.test(s);
