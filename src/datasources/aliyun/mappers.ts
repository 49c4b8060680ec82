import { UpstreamError } from "../../errors.js";
import { parseVendorDateTime } from "../../lib/time.js";
import type { AliyunPersonRecord, CardPermissionRecord } from "./model.js";

const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : null);

function shapeError(path: string, what: string): UpstreamError {
  return new UpstreamError(`Aliyun answered ${path} with ${what}`, "UPSTREAM_ERROR", { vendor: "aliyun", command: path });
}

export function expectObject(data: unknown, path: string): Record<string, unknown> {
  if (!data || typeof data !== "object" || Array.isArray(data)) throw shapeError(path, "data that is not an object");
  return data as Record<string, unknown>;
}

export function expectArray(data: unknown, path: string): Record<string, unknown>[] {
  if (data === null || data === undefined) return [];
  if (!Array.isArray(data)) throw shapeError(path, "data that is not a list");
  return data.filter((row): row is Record<string, unknown> => !!row && typeof row === "object");
}

/** A `PageDTO` (`pageSize`, `pageNo`, `total`, `data`) of `003` user/query and device/perm/query. */
export function readPage(data: unknown, path: string): { total: number; rows: Record<string, unknown>[] } {
  const page = expectObject(data, path);
  const rows = expectArray(page.data, path);
  const total = typeof page.total === "number" ? page.total : Number(page.total);
  return { total: Number.isFinite(total) ? total : rows.length, rows };
}

/** `UserDTO` → a person; `extInfo` (a String in the table, an object in the examples) is kept as a string. */
export function mapPerson(row: Record<string, unknown>, fallbackIdentityId?: string, projectId: string | null = null): AliyunPersonRecord | null {
  const identityId = text(row.identityId) ?? fallbackIdentityId;
  if (!identityId) return null;
  const ext = row.extInfo;
  return {
    __typename: "AliyunPerson",
    identityId,
    name: text(row.name),
    extInfo: ext === undefined || ext === null || ext === "" ? null : typeof ext === "string" ? ext : JSON.stringify(ext),
    projectId,
  };
}

/**
 * `CardDTO` → a card permission. `expiryTime` is `yyyy-MM-dd HH:mm:ss` with no zone: read at `timeZone`.
 * The user/perm/query example swaps `iotId` and `identityId` (vendor-docs README); the caller passes the ids it
 * asked for, so a row is attributed by what was asked, not by the example's swapped fields.
 */
export function mapCardPermission(
  row: Record<string, unknown>,
  timeZone: string,
  known: { identityId?: string; iotId?: string } = {},
  projectOf: (iotId: string) => string | null = () => null,
): CardPermissionRecord | null {
  const cardId = text(row.cardId);
  const identityId = known.identityId ?? text(row.identityId);
  const iotId = known.iotId ?? text(row.iotId);
  if (!cardId || !identityId || !iotId) return null;
  return { __typename: "CardPermission", identityId, iotId, cardId, expiresAt: parseVendorDateTime(row.expiryTime, timeZone), projectId: projectOf(iotId) };
}
