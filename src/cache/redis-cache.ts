import { Cluster, Redis, type ClusterNode } from "ioredis";
import type { Logger } from "../logger.js";
import { Breaker } from "./breaker.js";
import type { Cache, CacheStats } from "./cache.js";

export interface RedisCacheOptions {
  /** Upper bound of one cache command (ms): past it the command counts as an error and the caller goes on. */
  commandTimeoutMs: number;
  logger: Logger;
}

/** The ioredis client a Redis URL names (one server or a cluster), built to fail fast (see {@link RedisCache}). */
export function createRedisClient(url: string, commandTimeoutMs: number): Redis | Cluster {
  const parsed = parseRedisUrl(url);
  const common = {
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(commandTimeoutMs * 5, 1000),
    maxRetriesPerRequest: 0,
  };
  if (parsed.cluster) {
    return new Cluster(parsed.nodes, {
      enableOfflineQueue: false,
      clusterRetryStrategy: reconnectDelay,
      slotsRefreshTimeout: Math.max(commandTimeoutMs * 5, 1000),
      redisOptions: { ...common, ...(parsed.password ? { password: parsed.password } : {}) },
    });
  }
  return new Redis(parsed.url, { ...common, enableOfflineQueue: false, retryStrategy: reconnectDelay });
}

/** KEYS: the keys; ARGV: the SHA-1 (hex) each must hold, `-` for absent. 1 when all hold theirs, else 0. */
const SAME_VALUES_SCRIPT = `for i, key in ipairs(KEYS) do
  local value = redis.call('GET', key)
  if value == false then
    if ARGV[i] ~= '-' then return 0 end
  elseif redis.sha1hex(value) ~= ARGV[i] then
    return 0
  end
end
return 1`;

/** Reconnect delay: grows with the attempts, capped, so a Redis that comes back is found within two seconds. */
const reconnectDelay = (attempt: number) => Math.min(100 * attempt, 2000);

/**
 * `REDIS_URL` → nodes. `redis+cluster://h1:p1,h2:p2` or a bare `h1:p1,h2:p2` list names a Redis Cluster; a
 * `redis://` / `rediss://` URL one server. Credentials in the URL are passed to ioredis, never logged.
 */
export function parseRedisUrl(url: string): { cluster: false; url: string } | { cluster: true; nodes: ClusterNode[]; password?: string; tls: boolean } {
  const list = /^redis\+cluster:\/\//.test(url) ? url.replace(/^redis\+cluster:\/\//, "") : /^[^/,\s]+:\d+(,[^/,\s]+:\d+)+$/.test(url) ? url : null;
  if (list === null) return { cluster: false, url };
  const at = list.lastIndexOf("@");
  const auth = at >= 0 ? list.slice(0, at) : "";
  const password = auth ? decodeURIComponent(auth.includes(":") ? auth.slice(auth.indexOf(":") + 1) : auth) : undefined;
  const nodes = (at >= 0 ? list.slice(at + 1) : list)
    .replace(/\/.*$/, "")
    .split(",")
    .map((hp) => {
      const i = hp.lastIndexOf(":");
      return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
    });
  return { cluster: true, nodes, password, tls: false };
}

/**
 * The cache on Redis or Redis Cluster (ioredis), built to fail open: no offline queue (a command while
 * disconnected fails at once instead of piling up), a bounded command timeout, no per-command retries, and a
 * capped reconnect backoff so the cache comes back by itself. Every failure is counted and answered as a miss.
 */
export class RedisCache implements Cache {
  readonly kind: string;
  private readonly client: Redis | Cluster;
  private readonly counters: CacheStats = { hits: 0, misses: 0, errors: 0 };
  private healthy = false;

  /** Opens after consecutive timeouts (a stalled Redis), so requests stop waiting on it; a probe closes it. */
  readonly breaker: Breaker;
  /** See {@link Cache.sameValues}: on a single server only. */
  readonly sameValues?: (expected: readonly { key: string; sha1: string }[]) => Promise<boolean>;

  constructor(url: string, private readonly options: RedisCacheOptions) {
    this.kind = parseRedisUrl(url).cluster ? "redis-cluster" : "redis";
    this.client = createRedisClient(url, options.commandTimeoutMs);
    if (this.kind === "redis") this.sameValues = (expected) => this.compareOnServer(expected);
    this.breaker = new Breaker({
      probe: () => this.client.ping(),
      onChange: (open) =>
        open
          ? options.logger.warn("cache breaker open: Redis does not answer in time; requests skip it until a probe answers", { kind: this.kind })
          : options.logger.info("cache breaker closed: Redis answers again", { kind: this.kind }),
    });
    this.client.on("ready", () => {
      this.breaker.close();
      this.setHealthy(true);
    });
    this.client.on("end", () => this.setHealthy(false));
    this.client.on("close", () => this.setHealthy(false));
    // ioredis emits every connection error; the state change is what an operator needs, logged once.
    this.client.on("error", () => this.setHealthy(false));
  }

  private setHealthy(healthy: boolean): void {
    if (healthy === this.healthy) return;
    this.healthy = healthy;
    if (healthy) this.options.logger.info("cache connected", { kind: this.kind });
    else this.options.logger.warn("cache unavailable: requests go to the vendors until it is back", { kind: this.kind });
  }

  ready(): boolean {
    return this.healthy;
  }

  /** `ok`, `degraded (…)` while the breaker is open, `unreachable` while disconnected. */
  health(): string {
    if (!this.healthy) return "unreachable";
    return this.breaker.isOpen ? "degraded (breaker open: Redis does not answer in time)" : "ok";
  }

  private async run<T>(op: () => Promise<T>, fallback: T): Promise<T> {
    if (!this.healthy) {
      this.counters.errors++;
      return fallback;
    }
    try {
      return await this.breaker.run(op);
    } catch {
      this.counters.errors++;
      return fallback;
    }
  }

  async get(key: string): Promise<string | undefined> {
    const value = await this.run(async () => (await this.client.get(key)) ?? undefined, undefined as string | undefined);
    if (value === undefined) this.counters.misses++;
    else this.counters.hits++;
    return value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (!(ttlMs > 0)) return;
    await this.run(async () => void (await this.client.set(key, value, "PX", Math.ceil(ttlMs))), undefined);
  }

  /**
   * Compares on the server (one script, one round trip): each key's SHA-1 against the one expected. Only on a single
   * server; a cluster has no such method (see the constructor).
   */
  private async compareOnServer(expected: readonly { key: string; sha1: string }[]): Promise<boolean> {
    const keys = expected.map((e) => e.key);
    const same = await this.run(async () => (await this.client.eval(SAME_VALUES_SCRIPT, keys.length, ...keys, ...expected.map((e) => e.sha1))) === 1, false);
    if (same) this.counters.hits += expected.length;
    else this.counters.misses++;
    return same;
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.run(async () => (await this.client.set(key, value, "PX", Math.ceil(ttlMs), "NX")) === "OK", true);
  }

  async extendIfEquals(key: string, value: string, ttlMs: number): Promise<boolean> {
    // Compare and expire in one step: between a GET and a PEXPIRE the key may have passed to another owner.
    const script = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
    return this.run(async () => (await this.client.eval(script, 1, key, value, String(Math.ceil(ttlMs)))) === 1, false);
  }

  async increment(key: string, windowMs: number): Promise<{ count: number; resetMs: number } | undefined> {
    return this.run(async () => {
      const count = await this.client.incr(key);
      if (count === 1) await this.client.pexpire(key, windowMs);
      const left = await this.client.pttl(key);
      // A counter that lost its expiry (a crash between INCR and PEXPIRE) gets one now.
      if (left < 0) await this.client.pexpire(key, windowMs);
      return { count, resetMs: left > 0 ? left : windowMs };
    }, undefined);
  }

  async delete(...keys: string[]): Promise<void> {
    // One DEL per key: in a cluster the keys may live in different slots.
    await this.run(async () => void (await Promise.all(keys.map((k) => this.client.del(k)))), undefined);
  }

  stats(): CacheStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    this.breaker.stop();
    this.client.removeAllListeners("error");
    this.client.on("error", () => {});
    this.client.disconnect();
  }
}
