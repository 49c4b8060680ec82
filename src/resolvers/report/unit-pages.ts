import { buildConnection, type PageArgs } from "../common/connection.js";

/**
 * A report whose rows come from units read one by one (an account's credentials, a residence's device list or
 * door history), paged without reading every unit for every page (issue 16: an export of 10,000 accounts' credentials
 * held all 10,000 answers for its first page).
 *
 * A window reads the units it covers, in chunks of at most its size in parallel, and one unit further when it must
 * know whether rows follow. Each item's cursor names its unit (index, offset of the unit's first row), so the next
 * page, in another request, starts there without reading the units before it. Within a request (one export's pages
 * share one) each unit's row count and the rows of units read past the window are kept, so the next window neither
 * reads the units before it nor those rows twice. Nothing else stays: an export lets go of the vendor's answers
 * between its pages (see `releaseAnswers`) and its memory does not grow with the project.
 */
export interface UnitRows<U, R> {
  /** The units in report order (the project's accounts or residences: lists the request holds anyway). */
  units(): Promise<readonly U[]>;
  key(unit: U): string;
  /** The rows of one unit (reads the vendor). */
  rows(unit: U): Promise<R[]>;
  /** When every unit has exactly one row (an account's credentials): no read is needed to count. */
  oneRowEach?: boolean;
}

interface Learnt<R> {
  counts: Map<string, number>;
  /** Rows read beyond the window that asked: the next window's. */
  carried: Map<string, R[]>;
}

const learntBy = new WeakMap<object, Map<string, Learnt<unknown>>>();

/** What one request (`scope`, e.g. its data source) has learnt of report `name`'s units. */
function learnt<R>(scope: object, name: string): Learnt<R> {
  let byName = learntBy.get(scope);
  if (!byName) learntBy.set(scope, (byName = new Map()));
  let state = byName.get(name);
  if (!state) byName.set(name, (state = { counts: new Map(), carried: new Map() }));
  return state as Learnt<R>;
}

export function unitConnection<U, R>(args: PageArgs, scope: object, name: string, source: UnitRows<U, R>) {
  const state = learnt<R>(scope, name);
  const read = async (unit: U): Promise<R[]> => {
    const key = source.key(unit);
    const kept = state.carried.get(key);
    if (kept) {
      state.carried.delete(key);
      return kept;
    }
    const rows = await source.rows(unit);
    state.counts.set(key, rows.length);
    return rows;
  };
  const countOf = (unit: U) => (source.oneRowEach ? 1 : state.counts.get(source.key(unit)));

  return buildConnection(args, {
    slice: async (offset, count, hint) => {
      const units = await source.units();
      // Start at the unit the cursor names (its index, the offset of its first row), else skip what is known to lie
      // before the window.
      let position = 0;
      let i = 0;
      if (hint && hint[0] < units.length && hint[1] < offset) [i, position] = hint;
      for (; i < units.length; i++) {
        const known = countOf(units[i]);
        if (known === undefined || position + known > offset) break;
        position += known;
      }
      const items: R[] = [];
      const hints: string[] = [];
      let hasMore = false;
      while (i < units.length && !hasMore) {
        // A chunk of units read at once: as many as rows are still wanted (each unit has one row or more, or none).
        const chunk = units.slice(i, i + Math.max(1, count - items.length));
        const chunkRows = await Promise.all(chunk.map(read));
        for (let c = 0; c < chunk.length; c++) {
          const rows = chunkRows[c];
          if (hasMore) {
            // Read, but past the window: kept for the next one.
            if (rows.length > 0) state.carried.set(source.key(chunk[c]), rows);
            continue;
          }
          const unitStart = position;
          for (const row of rows) {
            if (position >= offset + count) {
              hasMore = true;
              break;
            }
            if (position >= offset) {
              items.push(row);
              hints.push(`${i + c}.${unitStart}`);
            }
            position++;
          }
          if (hasMore) state.carried.set(source.key(chunk[c]), rows);
        }
        i += chunk.length;
        if (source.oneRowEach && items.length >= count) {
          hasMore = i < units.length;
          break;
        }
      }
      return { items, hasMore, hints };
    },
    total: async () => {
      const units = await source.units();
      if (source.oneRowEach) return units.length;
      const counts = await Promise.all(units.map(async (u) => countOf(u) ?? (await read(u)).length));
      // Counted, not kept: the rows read only to count are not carried.
      state.carried.clear();
      return counts.reduce((a, b) => a + b, 0);
    },
  });
}
