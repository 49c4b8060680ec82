/**
 * The small cache interface the data sources use (house-style: "Redis / in-process cache behind one small
 * interface"). Values are JSON strings; keys are built by the caller and never contain a credential.
 *
 * A cache never fails a request: implementations answer `undefined` / do nothing when their store misbehaves
 * and count it, so a caller can always fall back to the vendor.
 */
export interface Cache {
  /** `memory` or `redis` / `redis-cluster`. */
  readonly kind: string;
  /** The value stored under `key`, or `undefined` when absent, expired, or the store failed. */
  get(key: string): Promise<string | undefined>;
  /** Stores `value` under `key` for `ttlMs` milliseconds. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /**
   * Stores `value` only when `key` is absent (a lock or a once-only marker); true when it was stored. A store that
   * cannot be reached answers true: without it there is nothing to coordinate, and the caller goes ahead alone.
   */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /**
   * Gives `key` a new expiry of `ttlMs` when it still holds `value`, in one step (a lock's owner keeping its lease);
   * true when it did. False when the key is gone or holds another value, or the store cannot be reached.
   */
  extendIfEquals(key: string, value: string, ttlMs: number): Promise<boolean>;
  /**
   * Adds one to the counter `key`, which lives `windowMs` from its first increment; answers the new count and the
   * milliseconds left in its window, or undefined when the store cannot be reached.
   */
  increment(key: string, windowMs: number): Promise<{ count: number; resetMs: number } | undefined>;
  /**
   * Whether every key still holds the value whose SHA-1 (hex) is given (`-`: absent), asked in one round trip (the
   * response memo's check); false when any differs or the store failed. Absent where the store cannot answer it in
   * one step (a Redis Cluster: the keys live in many slots): the caller reads each key instead.
   */
  sameValues?(expected: readonly { key: string; sha1: string }[]): Promise<boolean>;
  /** Removes the keys (absent keys are ignored). */
  delete(...keys: string[]): Promise<void>;
  /** Counters for operators: hits, misses, errors. */
  stats(): CacheStats;
  /** Whether the store can be used now (always true in memory). */
  ready(): boolean;
  /** For `/readyz`: `ok`, `degraded (…)` (answering as misses, e.g. a breaker open) or `unreachable`. */
  health?(): string;
  close(): Promise<void>;
}

export interface CacheStats {
  hits: number;
  misses: number;
  errors: number;
}
