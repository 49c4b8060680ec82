/**
 * The one place where vendor times become ISO-8601 (graph-model.md, "Times"). Akubela speaks
 * `yyyy-MM-dd HH:mm:ss` and `HH:mm:ss` in UTC; the Aliyun gateway gives no zone, so its offset is configured.
 */

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/;
const TIME_OF_DAY = /^(\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * `2024-01-25 21:10:16` at `offset` (`Z`, `+08:00`) → a `Date`; `null` for an empty or unreadable value, so one
 * odd vendor row does not fail a whole list.
 */
export function parseVendorDateTime(value: unknown, offset = "Z"): Date | null {
  if (typeof value !== "string") return null;
  const m = DATE_TIME.exec(value.trim());
  if (!m) return null;
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${offset}`);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** `13:14:00` (UTC) → `13:14:00Z`, an RFC 3339 time of day with its offset. */
export function parseVendorTimeOfDay(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const m = TIME_OF_DAY.exec(value.trim());
  if (!m) return null;
  const [h, min, s] = [Number(m[1]), Number(m[2]), Number(m[3] ?? "0")];
  if (h > 23 || min > 59 || s > 59) return null;
  return `${m[1]}:${m[2]}:${m[3] ?? "00"}Z`;
}

/** A `Date` → the vendor's `yyyy-MM-dd HH:mm:ss` in UTC (for writes). */
export function formatVendorDateTime(date: Date): string {
  return date.toISOString().replace("T", " ").slice(0, 19);
}

/** A `Date` → `yyyy-MM-dd HH:mm:ss` at the zone `offset` (`+08:00`): for the Aliyun gateway, whose times carry none. */
export function formatVendorDateTimeAt(date: Date, offset: string): string {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(offset);
  const minutes = m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  return formatVendorDateTime(new Date(date.getTime() + minutes * 60_000));
}
