/**
 * JSON with object keys sorted at every level, so that `{a, b}` and `{b, a}` give the same DataLoader key and
 * the same command is sent once per request however its params were built.
 */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) {
    let text = "[";
    for (let i = 0; i < value.length; i++) text += (i > 0 ? "," : "") + stableStringify(value[i]);
    return `${text}]`;
  }
  // Default sort compares UTF-16 code units, as `<` does.
  const record = value as Record<string, unknown>;
  let text = "{";
  let first = true;
  for (const key of Object.keys(record).sort()) {
    const v = record[key];
    if (v === undefined) continue;
    text += `${first ? "" : ","}${JSON.stringify(key)}:${stableStringify(v)}`;
    first = false;
  }
  return `${text}}`;
}

const keyed = new WeakMap<object, string>();

/**
 * {@link stableStringify} of a vendor command's params, kept with the params object: one read keys its params three
 * times (its DataLoader key, its in-flight key, its cache key) and a cached query makes dozens of reads (issue 16's
 * profile). Only for params objects built for one command and never changed after (the data sources hand them to
 * the vendor client as they are).
 */
export function paramsKey(params: unknown): string {
  if (params === null || typeof params !== "object") return stableStringify(params);
  let text = keyed.get(params);
  if (text === undefined) keyed.set(params, (text = stableStringify(params)));
  return text;
}
