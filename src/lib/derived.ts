/**
 * Values derived from cached vendor answers, computed once per answer instead of once per request (issue 16).
 *
 * The read-through's parsed tier hands every request the same frozen object for an answer the cache still holds.
 * What a data source maps from it (its records) is the same for every request too, so it is kept
 * beside the answer, in a WeakMap: it lives exactly as long as the answer object does, and an answer that changes
 * is a new object, mapped anew. Answers fresh from the vendor (not frozen) are mapped as before, nothing kept.
 * What is kept is frozen, as the answer is: it is shared by requests, and a mutation would be a bug.
 */
const derived = new WeakMap<object, Map<string, unknown>>();

/** `compute()` for `source`, kept with `source` under `key` when `source` is a shared (frozen) answer. */
export function derive<T>(source: unknown, key: string, compute: () => T): T {
  if (source === null || typeof source !== "object" || !Object.isFrozen(source)) return compute();
  let byKey = derived.get(source);
  if (!byKey) derived.set(source, (byKey = new Map()));
  if (byKey.has(key)) return byKey.get(key) as T;
  const value = deepFreeze(compute());
  byKey.set(key, value);
  return value;
}

/** Freezes `value` and everything under it (plain data: objects and arrays). */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const groupings = new WeakMap<readonly object[], Map<PropertyKey, Map<unknown, readonly object[]>>>();

/**
 * `list`'s items grouped by `field`, in list order, worked out once per list object: a request's whole user list is
 * one array, and each of its residences (or buildings) asking for its accounts filtered all of it — 4,000 residences
 * × 10,000 accounts in the large-project benchmark. Only for a list that no longer changes.
 */
export function groupedBy<T extends object, K extends keyof T>(list: readonly T[], field: K): ReadonlyMap<T[K], readonly T[]> {
  let byField = groupings.get(list);
  if (!byField) groupings.set(list, (byField = new Map()));
  let groups = byField.get(field) as Map<T[K], T[]> | undefined;
  if (!groups) {
    groups = new Map();
    for (const item of list) {
      const group = groups.get(item[field]);
      if (group) group.push(item);
      else groups.set(item[field], [item]);
    }
    byField.set(field, groups as Map<unknown, readonly object[]>);
  }
  return groups;
}
