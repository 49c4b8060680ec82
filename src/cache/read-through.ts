import { createHash, createHmac } from "node:crypto";
import { deepFreeze } from "../lib/derived.js";
import type { Sealer } from "../lib/sealed.js";
import type { Logger } from "../logger.js";
import type { Cache } from "./cache.js";
import type { ReadRecord } from "./response-memo.js";

/** Where cache keys live, and the version of what they hold (bump it when a cached shape changes). */
export const KEY_PREFIX = "acg:v1";

/**
 * A hash of a string, for keys that must not show it (the facade's own token storage). Not a tenant scope of cached
 * vendor data: use {@link serverScope} or {@link bearerScope}, whose key spaces cannot meet.
 */
export const tenantScope = (credential: string) => createHash("sha256").update(credential).digest("hex").slice(0, 32);

/**
 * The tenant scope of what the server's own credential fetched: `srv-` and an HMAC of the credential's identity
 * (base URL, client id, user name) keyed with its secret (client secret, password, app secret). A caller cannot
 * compute it, whatever token it sends.
 */
export const serverScope = (identity: string, secret: string) =>
  `srv-${createHmac("sha256", `acg-server-scope\0${secret}`).update(identity).digest("hex").slice(0, 32)}`;

/**
 * The tenant scope of what a caller's own vendor token fetched: `bearer-` and a hash of the token. Never equal to a
 * server scope (the prefixes differ), never the token.
 */
export const bearerScope = (token: string) => `bearer-${createHash("sha256").update(`acg-bearer-scope\0${token}`).digest("hex").slice(0, 32)}`;

export interface ReadThroughStats {
  /** Served while older than its TTL, refreshed in the background. */
  stale: number;
  /** Fetched from the vendor because the caller asked to bypass the cache. */
  bypassed: number;
  /** Vendor fetches saved by joining one already in flight (stampede protection). */
  joined: number;
}

interface Entry {
  /** When the value was fetched (epoch ms). */
  t: number;
  v: unknown;
  /** The generation of the entry's group when it was fetched (`null`: none yet); absent for ungrouped keys. */
  g?: string | null;
}

export interface ReadOptions {
  ttlMs: number;
  /** How long past the TTL a value may still be served while it is refreshed (0: never). */
  staleMs: number;
  /** Skip the cached value (the fresh one is still stored). */
  bypass?: boolean;
  /**
   * A group of keys invalidated together ({@link ReadThrough.invalidateGroups}): a project's user-list pages, whose
   * number a write cannot know. The entry is valid only while the group's generation is the one it was fetched under.
   */
  group?: string;
  /**
   * The value holds secrets (PIN and card numbers): kept in process memory as is, in a shared store (Redis) only
   * sealed with TOKEN_ENCRYPTION_KEY (AES-256-GCM, bound to its key), and not kept there at all without that key.
   */
  secret?: boolean;
  /** The request's record of what it read (the response memo): a fresh value is noted, anything else taints it. */
  record?: ReadRecord;
}

/** Where a key's write version lives (bumped by every invalidation; see {@link ReadThrough}). */
const versionKey = (key: string) => `${key}#ver`;
/** How long a version counter lives: longer than any read can take, so a read never sees it vanish and reappear. */
const VERSION_WINDOW_MS = 24 * 3600 * 1000;
/** Where a group's generation lives (bumped by {@link ReadThrough.invalidateGroups}). */
const generationKey = (group: string) => `${group}#gen`;

/**
 * Read-through over a {@link Cache}, shared by all requests of an instance:
 *
 * - **Stampede**: concurrent misses of one key on this instance send one vendor call (a per-key in-flight map).
 * - **Stale-while-revalidate**: a value past its TTL but within `staleMs` is served at once and refreshed in the
 *   background; past that it is a miss.
 * - **Fail-open**: the cache answering nothing (down, slow, broken) is a miss; a failed store is ignored.
 * - **Versioned invalidation**: a write bumps the key's version, then deletes the value. A fetch notes the version
 *   before it asks the vendor and checks it again after storing its answer: if a write bumped it meanwhile, the
 *   answer may predate the write, and the fetch deletes what it stored. Either the write's delete comes after the
 *   store or the fetch's check sees the bump, so a read started before a write (on any instance sharing the cache)
 *   cannot leave the old value behind the write's invalidation. Fetches of the key in flight on this instance are
 *   forgotten, so a read after the write does not join one started before it.
 * - **Group invalidation**: a grouped key's entry carries the generation of its group it was fetched under, read
 *   with the value (one round trip); bumping the generation makes every entry of the group a miss at once on every
 *   instance sharing the cache, and an answer fetched before the bump is stored under the old generation, so it is
 *   never served after it. Reads in flight under the old generation are not joined by reads after the bump.
 */
export class ReadThrough {
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly counters: ReadThroughStats = { stale: 0, bypassed: 0, joined: 0 };
  private readonly parsed: ParsedTier;

  constructor(
    readonly cache: Cache,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    private readonly sealer?: Sealer,
    parsedEntries = PARSED_TIER_ENTRIES,
  ) {
    this.parsed = new ParsedTier(parsedEntries);
  }

  /** Whether values holding secrets may be kept: in process memory, or sealed in a shared store. */
  get holdsSecrets(): boolean {
    return this.cache.kind === "memory" || this.sealer !== undefined;
  }

  private encode(key: string, entry: Entry, secret: boolean | undefined): string {
    const text = JSON.stringify(entry);
    return secret && this.cache.kind !== "memory" ? this.sealer!.seal(text, key) : text;
  }

  /**
   * The entry a stored string holds. The store is still asked every time (so a write on another instance is seen
   * at once); only the work of parsing (and unsealing) a string already seen under that key is saved.
   */
  private decode(key: string, raw: string | undefined, secret: boolean | undefined): Entry | undefined {
    if (raw === undefined) return undefined;
    const known = this.parsed.get(key, raw);
    if (known) return known;
    let entry: Entry | undefined;
    if (!secret || this.cache.kind === "memory") entry = parse(raw);
    else {
      const text = this.sealer!.open(raw, key);
      entry = text === undefined ? undefined : parse(text);
    }
    if (entry) this.parsed.set(key, raw, entry);
    return entry;
  }

  async read<T>(key: string, options: ReadOptions, fetch: () => Promise<T>): Promise<T> {
    const { group, record } = options;
    // A secret value with nowhere safe to keep it: straight to the vendor (reads in flight are still joined above).
    if (options.secret && !this.holdsSecrets) {
      record?.taint();
      return fetch();
    }
    if (options.bypass) {
      record?.taint();
      this.counters.bypassed++;
      const generation = group === undefined ? undefined : ((await this.cache.get(generationKey(group))) ?? null);
      return this.refresh(`${key}#bypass${flightTag(generation)}`, key, options, fetch, generation);
    }
    let raw: string | undefined;
    let generation: string | null | undefined;
    if (group === undefined) raw = await this.cache.get(key);
    else {
      const [value, gen] = await Promise.all([this.cache.get(key), this.cache.get(generationKey(group))]);
      raw = value;
      generation = gen ?? null;
    }
    let entry = this.decode(key, raw, options.secret);
    // An entry of an older generation of its group was invalidated with the group.
    if (entry && group !== undefined && entry.g !== generation) entry = undefined;
    if (entry) {
      const age = this.now() - entry.t;
      if (age <= options.ttlMs) {
        record?.track(key, raw!, entry.t + options.ttlMs, group === undefined ? undefined : [generationKey(group), generation ?? undefined]);
        return entry.v as T;
      }
      record?.taint();
      if (age <= options.ttlMs + options.staleMs) {
        this.counters.stale++;
        this.refresh(`${key}${flightTag(generation)}`, key, options, fetch, generation).catch((error: unknown) =>
          this.logger.warn("background refresh failed; the stale value stays until it expires", { key: redactKey(key), error: String(error) }),
        );
        return entry.v as T;
      }
    }
    record?.taint();
    return this.refresh(`${key}${flightTag(generation)}`, key, options, fetch, generation);
  }

  /** Fetches once per key however many ask at the same time, and stores the result. */
  private refresh<T>(flightKey: string, key: string, options: ReadOptions, fetch: () => Promise<T>, generation?: string | null): Promise<T> {
    const running = this.inFlight.get(flightKey);
    if (running) {
      this.counters.joined++;
      return running as Promise<T>;
    }
    let promise: Promise<T> | undefined = undefined;
    promise = (async () => {
      try {
        const before = await this.cache.get(versionKey(key));
        const value = await fetch();
        const entry: Entry = generation === undefined ? { t: this.now(), v: value } : { t: this.now(), v: value, g: generation };
        await this.cache.set(key, this.encode(key, entry, options.secret), options.ttlMs + options.staleMs);
        if ((await this.cache.get(versionKey(key))) !== before) {
          // A write since the fetch began: its answer may be from before the write, so it does not stay cached.
          await this.cache.delete(key);
        }
        return value;
      } finally {
        if (this.inFlight.get(flightKey) === promise) this.inFlight.delete(flightKey);
      }
    })();
    this.inFlight.set(flightKey, promise);
    return promise;
  }

  /**
   * After a write that changes a whole group (a project's user list): bumps each group's generation, so every
   * entry of it is a miss on every instance from now on, and answers fetched before are never served.
   */
  async invalidateGroups(...groups: string[]): Promise<void> {
    await Promise.all(groups.map((group) => this.cache.increment(generationKey(group), VERSION_WINDOW_MS)));
  }

  /** After a write: bumps each key's version (so a fetch begun earlier does not keep its answer), then deletes it. */
  async invalidate(...keys: string[]): Promise<void> {
    for (const flightKey of this.inFlight.keys()) {
      // Ungrouped keys fly under their own name; grouped ones under `key@generation` (see flightTag).
      if (keys.some((key) => flightKey === key || flightKey.startsWith(`${key}#bypass`) || flightKey.startsWith(`${key}@`))) this.inFlight.delete(flightKey);
    }
    await Promise.all(keys.map((key) => this.cache.increment(versionKey(key), VERSION_WINDOW_MS)));
    await this.cache.delete(...keys);
  }

  stats(): ReadThroughStats & ReturnType<Cache["stats"]> & { kind: string; ready: boolean } {
    return { kind: this.cache.kind, ready: this.cache.ready(), ...this.cache.stats(), ...this.counters };
  }
}

/** What a grouped read's in-flight key adds: the generation it fetches under. */
const flightTag = (generation: string | null | undefined) => (generation === undefined ? "" : `@${generation ?? "-"}`);

function parse(raw: string): Entry | undefined {
  try {
    const e = JSON.parse(raw) as Entry;
    return typeof e === "object" && e !== null && typeof e.t === "number" ? deepFreeze(e) : undefined;
  } catch {
    return undefined;
  }
}

/** Parsed entries the tier keeps by default (the hot keys of a busy instance: device lists, user-list pages…). */
export const PARSED_TIER_ENTRIES = 2000;

/**
 * The small in-process tier of parsed values in front of the store (issue 16): the profile of a fully cached query
 * showed `JSON.parse` of the same user-list pages and access info on every request as the largest single cost.
 * Keyed by the cache key and the exact string the store answered: a string that differs (a new value, another
 * instance's write, a re-seal) is parsed anew, so the tier never answers what the store no longer holds. Values are
 * frozen, since every request that reads the key now shares one object: a mutation would be a bug, and throws.
 */
class ParsedTier {
  private readonly entries = new Map<string, { raw: string; entry: Entry }>();

  constructor(private readonly max: number) {}

  get(key: string, raw: string): Entry | undefined {
    const hit = this.entries.get(key);
    return hit && hit.raw === raw ? hit.entry : undefined;
  }

  set(key: string, raw: string, entry: Entry): void {
    if (this.max <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { raw, entry });
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
  }
}

/** A key for a log line: its scope hash shortened. */
const redactKey = (key: string) => key.replace(/[0-9a-f]{32}/, (h) => `${h.slice(0, 6)}…`); // a scope, shortened

/**
 * Coalescing across requests (issue 16): identical reads in flight at once, on this instance, are sent once and
 * shared by every request waiting for them, cached or not. Keys begin with the tenant scope (`serverScope` /
 * `bearerScope`), so two tenants never share; writes never come here. A write of a tenant detaches that tenant's
 * reads in flight ({@link detach}): they finish for those already waiting, but a read asked after the write is sent
 * anew, so it sees what the write did.
 */
export class InFlightReads {
  private readonly flights = new Map<string, Promise<unknown>>();
  /** Reads answered by joining one already in flight (metrics, bench). */
  joined = 0;

  /** `fetch` once per `key` while one is in flight. `key` must start with the tenant scope and a `|`. */
  run<T>(key: string, fetch: () => Promise<T>): Promise<T> {
    const running = this.flights.get(key);
    if (running) {
      this.joined++;
      return running as Promise<T>;
    }
    const promise = fetch();
    // One handler for both outcomes, on a branch nobody awaits: the answer itself is `promise` (a `.finally` would
    // wrap it in another promise and two closures per read in flight).
    const landed = () => {
      if (this.flights.get(key) === promise) this.flights.delete(key);
    };
    promise.then(landed, landed);
    this.flights.set(key, promise);
    return promise;
  }

  /** After a write of `scope`: later reads of that tenant no longer join the ones in flight. */
  detach(scope: string): void {
    const prefix = `${scope}|`;
    for (const key of this.flights.keys()) if (key.startsWith(prefix)) this.flights.delete(key);
  }

  get size(): number {
    return this.flights.size;
  }
}
