/**
 * The vendor's time formats (all UTC): date-times `yyyy-MM-dd HH:mm:ss` and, for visitor temp keys, times of day
 * `HH:mm:ss`.
 */

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** `yyyy-MM-dd HH:mm:ss` in UTC. */
export function formatDateTime(at: Date | number): string {
  const d = typeof at === "number" ? new Date(at) : at;
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  );
}

/** `HH:mm:ss` from seconds since midnight. */
export function formatTimeOfDay(secondsOfDay: number): string {
  const h = Math.floor(secondsOfDay / 3600);
  const m = Math.floor((secondsOfDay % 3600) / 60);
  const s = secondsOfDay % 60;
  return `${pad(h)}:${pad(m)}:${pad(s)}`;
}

const TIME_OF_DAY = /^(\d{2}):(\d{2}):(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Seconds since midnight, or null when `s` is not a valid `HH:mm:ss`. */
export function parseTimeOfDay(s: string): number | null {
  const m = TIME_OF_DAY.exec(s);
  if (!m) return null;
  const [h, min, sec] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (h > 23 || min > 59 || sec > 59) return null;
  return h * 3600 + min * 60 + sec;
}

/** Epoch milliseconds, or null when `s` is not a valid `yyyy-MM-dd HH:mm:ss` (calendar-checked). */
export function parseDateTime(s: string): number | null {
  const m = DATE_TIME.exec(s);
  if (!m) return null;
  const [y, mo, d, h, min, sec] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || min > 59 || sec > 59) return null;
  const ms = Date.UTC(y, mo - 1, d, h, min, sec);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return ms;
}
