import { randomUUID } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import { Breaker, BreakerOpenError } from "../cache/breaker.js";
import { createRedisClient } from "../cache/redis-cache.js";
import type { Logger } from "../logger.js";
import type { BudgetLimits, SharedBudget, SharedGrant, SharedTenantBudget } from "./budget.js";

/** Every key of the shared vendor budget starts with this: its own namespace, apart from the cache's. */
export const SHARED_BUDGET_PREFIX = "acg:budget:v1";

/**
 * The rate window the deployment's budget counts starts in: one second, plus a guard. A start is counted when Redis
 * grants it; the vendor counts arrivals, later by each instance's path to it (a reused or a new connection, a busy
 * event loop). Counted over a 1 s window only, the 6th call of a bound of 5 could leave an instance exactly 1 s after
 * the 1st left another, and arrive within the same vendor second; the guard absorbs that spread.
 */
export const SHARED_WINDOW_MS = 1_100;

/** How soon a tenant asks again while the deployment's in-flight bound is full (other instances' releases are not announced). */
const POLL_MS = 20;

/** How long a queued write (a door opening) waits on one Redis answer before it goes by the local budget. */
const WRITE_WAIT_MS = 50;

/** Releases kept for a Redis that could not take them, at most (past it they run out with their lease). */
const MAX_UNSENT = 10_000;

/**
 * The two keys of one tenant: its starts in the rate window (ZSET: lease → grant time) and its leases in flight (ZSET:
 * lease → expiry). Named by the vendor and the tenant scope (a keyed hash: `serverScope` / `bearerScope`), never a
 * credential; one hash tag, so a script touching both runs on one cluster slot.
 */
function tenantKeys(vendor: string, scope: string): TenantKeys {
  const tag = `{${vendor}:${scope}}`;
  return { starts: `${SHARED_BUDGET_PREFIX}:${tag}:starts`, leases: `${SHARED_BUDGET_PREFIX}:${tag}:leases` };
}

interface TenantKeys {
  starts: string;
  leases: string;
}

/** Redis's own clock, in ms: every instance measures the window and the leases on the same clock. */
const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS: starts, leases. ARGV: max in flight, max per second (0: none), window ms, lease ms, then one new lease name
 * per call asking. Drops expired leases and starts past the window, grants as many as both bounds leave room for
 * (each granted lease is added to both sets), and answers {granted, ms until the oldest start leaves the window when
 * the rate bound is what refused the rest, else 0}.
 */
const ACQUIRE = `${NOW}
local maxInFlight, perSecond, window, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local want = #ARGV - 4
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local room = maxInFlight - redis.call('ZCARD', KEYS[2])
local rateRoom = want
if perSecond > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  rateRoom = perSecond - redis.call('ZCARD', KEYS[1])
end
local granted = math.max(0, math.min(want, room, rateRoom))
for i = 1, granted do
  redis.call('ZADD', KEYS[2], now + lease, ARGV[4 + i])
  if perSecond > 0 then redis.call('ZADD', KEYS[1], now, ARGV[4 + i]) end
end
if granted > 0 then
  redis.call('PEXPIRE', KEYS[2], lease + 1000)
  if perSecond > 0 then redis.call('PEXPIRE', KEYS[1], window + 1000) end
end
local wait = 0
if granted < want and perSecond > 0 and rateRoom <= granted then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if oldest[2] then wait = math.max(1, tonumber(oldest[2]) + window - now) end
end
return {granted, wait}`;

/** KEYS: leases. ARGV: lease ms, then the leases of calls still running here. Extends those still held (XX: none re-created). */
const RENEW = `${NOW}
local expiry = now + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) + 1000)
return 1`;

/**
 * KEYS: starts, leases. ARGV: leases. Undoes a grant this instance never used (its answer timed out): frees the
 * slots and the starts. Sent on the same connection right after the grant, so a stalled Redis runs it after the grant.
 */
const CANCEL = `redis.call('ZREM', KEYS[2], unpack(ARGV)) redis.call('ZREM', KEYS[1], unpack(ARGV)) return 1`;

export interface RedisSharedBudgetOptions {
  /** Upper bound of one Redis command, ms (REDIS_COMMAND_TIMEOUT_MS). */
  commandTimeoutMs: number;
  /**
   * How long a lease holds its slot without renewal, ms: longer than one vendor attempt, renewed every third of it
   * while the call runs, so only a dead instance's leases run out, and they do within it.
   */
  leaseMs: number;
  logger: Logger;
  /** Test hooks; production uses the constants above. */
  windowMs?: number;
  pollMs?: number;
  writeWaitMs?: number;
}

/**
 * The per-tenant vendor budget of the whole deployment (VENDOR_BUDGET_SHARED), on Redis: a counting semaphore of
 * expiring leases (VENDOR_MAX_IN_FLIGHT) and a sliding window of starts (VENDOR_MAX_PER_SECOND), both per tenant,
 * taken and checked in one Lua script on Redis's clock. Over its own connection (a cache flood never queues ahead of
 * it), in its own `acg:budget:v1:` namespace.
 *
 * A read-path helper, built to fail open: no offline queue, a bounded command timeout, a {@link Breaker} that stops
 * asking a stalled Redis. While Redis is unreachable or stalled, {@link available} is false and each instance goes by
 * its local budget (the same bounds, per instance); one log line per change of state, and each call started so is
 * counted by vendor ({@link fallbacks}). Releases are never awaited by a call; one Redis could not take is kept and
 * sent again when it answers (removing a lease twice is harmless).
 */
export class RedisSharedBudget implements SharedBudget {
  readonly breaker: Breaker;
  private readonly client: Redis | Cluster;
  private healthy = false;
  /** The state last logged (undefined: none yet). */
  private logged: boolean | undefined;
  private readonly instance = randomUUID().replace(/-/g, "").slice(0, 16);
  private sequence = 0;
  /** Leases of calls running on this instance, by tenant: renewed until released. */
  private readonly held = new Map<string, { keys: TenantKeys; leases: Set<string> }>();
  /** Releases and cancels Redis did not confirm, by tenant: sent again when it answers. */
  private readonly unsent = new Map<string, { keys: TenantKeys; release: Set<string>; cancel: Set<string> }>();
  private unsentCount = 0;
  private readonly sending = new Set<Promise<void>>();
  private readonly fallbackCounts: Record<string, number> = {};
  private readonly renewTimer: NodeJS.Timeout;
  private scriptRefusalLogged = false;
  private closed = false;
  private readonly windowMs: number;
  private readonly pollMs: number;
  private readonly writeWaitMs: number;

  constructor(
    url: string,
    private readonly options: RedisSharedBudgetOptions,
  ) {
    this.windowMs = options.windowMs ?? SHARED_WINDOW_MS;
    this.pollMs = options.pollMs ?? POLL_MS;
    this.writeWaitMs = Math.min(options.writeWaitMs ?? WRITE_WAIT_MS, options.commandTimeoutMs);
    this.client = createRedisClient(url, options.commandTimeoutMs);
    this.breaker = new Breaker({ probe: () => this.client.ping(), onChange: () => this.stateChanged("stalled") });
    this.client.on("ready", () => {
      this.healthy = true;
      this.breaker.close();
      this.stateChanged("unreachable");
    });
    const down = () => {
      this.healthy = false;
      this.stateChanged("unreachable");
    };
    this.client.on("end", down);
    this.client.on("close", down);
    // ioredis emits every connection error; the change of state is what an operator needs, logged once.
    this.client.on("error", down);
    this.renewTimer = setInterval(() => this.renew(), Math.max(options.leaseMs / 3, 10));
    this.renewTimer.unref();
  }

  /** True while Redis answers: calls then start only within the deployment's budget. */
  available(): boolean {
    return this.healthy && !this.breaker.isOpen;
  }

  /** `ok`, or why each instance goes by its local budget. */
  health(): string {
    if (!this.healthy) return "unreachable (each instance applies its local budget)";
    return this.breaker.isOpen ? "degraded (breaker open: each instance applies its local budget)" : "ok";
  }

  /** Calls started by the local budget because the shared one could not answer, by vendor (metrics). */
  fallbacks(): Record<string, number> {
    return { ...this.fallbackCounts };
  }

  private stateChanged(reason: "unreachable" | "stalled"): void {
    const up = this.available();
    if (up === this.logged || this.closed) return;
    this.logged = up;
    if (up) {
      this.options.logger.info("shared vendor budget on: VENDOR_MAX_IN_FLIGHT and VENDOR_MAX_PER_SECOND bound each tenant across every instance");
      this.flushUnsent();
    } else {
      this.options.logger.warn("shared vendor budget unavailable: each instance applies VENDOR_MAX_IN_FLIGHT and VENDOR_MAX_PER_SECOND alone until Redis answers again", {
        reason: reason === "stalled" ? "Redis does not answer in time" : "Redis is unreachable",
      });
    }
  }

  tenant(vendor: string, scope: string, limits: BudgetLimits): SharedTenantBudget {
    const keys = tenantKeys(vendor, scope);
    const id = `${vendor}|${scope}`;
    return {
      available: () => this.available(),
      acquire: (want) => this.acquire(id, keys, limits, want),
      release: (lease) => this.release(id, keys, lease),
      fellBack: (calls) => void (this.fallbackCounts[vendor] = (this.fallbackCounts[vendor] ?? 0) + calls),
      writeWaitMs: this.writeWaitMs,
      pollMs: this.pollMs,
    };
  }

  private async acquire(id: string, keys: TenantKeys, limits: BudgetLimits, want: number): Promise<SharedGrant> {
    if (!this.healthy) throw new Error("Redis is unreachable");
    const names = Array.from({ length: want }, () => `${this.instance}:${(++this.sequence).toString(36)}`);
    let answer: [number, number];
    try {
      answer = (await this.breaker.run(() =>
        this.client.eval(ACQUIRE, 2, keys.starts, keys.leases, limits.maxInFlight, limits.maxPerSecond, this.windowMs, this.options.leaseMs, ...names),
      )) as [number, number];
    } catch (error) {
      if (error instanceof BreakerOpenError) throw error;
      // It may still run on a Redis that resumes: undo it then, queued behind it.
      this.send(id, keys, "cancel", names);
      if (error instanceof Error && error.name === "ReplyError" && !this.scriptRefusalLogged) {
        this.scriptRefusalLogged = true;
        this.options.logger.error("shared vendor budget: Redis refused the budget script (Redis 5 or later is needed); calls go by the local budget", {
          error: error.message.slice(0, 200),
        });
      }
      throw error;
    }
    const leases = names.slice(0, answer[0]);
    if (leases.length > 0) {
      let tenant = this.held.get(id);
      if (!tenant) this.held.set(id, (tenant = { keys, leases: new Set() }));
      for (const lease of leases) tenant.leases.add(lease);
    }
    return { leases, retryInMs: answer[1] };
  }

  private release(id: string, keys: TenantKeys, lease: string): void {
    const tenant = this.held.get(id);
    tenant?.leases.delete(lease);
    if (tenant?.leases.size === 0) this.held.delete(id);
    this.send(id, keys, "release", [lease]);
  }

  /**
   * Sends a release (the call ended: its slot is free, its start stays in the window) or a cancel (a grant never
   * used: both go). Past the breaker on purpose: nobody waits on it, and on a stalled Redis it must queue behind the
   * grant it undoes. What Redis does not confirm is kept for {@link flushUnsent}.
   */
  private send(id: string, keys: TenantKeys, kind: "release" | "cancel", leases: string[]): void {
    if (!this.healthy) return this.keepUnsent(id, keys, kind, leases);
    const sent: Promise<void> = (kind === "release" ? this.client.zrem(keys.leases, ...leases) : this.client.eval(CANCEL, 2, keys.starts, keys.leases, ...leases)).then(
      () => undefined,
      () => this.keepUnsent(id, keys, kind, leases),
    );
    this.sending.add(sent);
    void sent.finally(() => this.sending.delete(sent));
  }

  private keepUnsent(id: string, keys: TenantKeys, kind: "release" | "cancel", leases: string[]): void {
    let tenant = this.unsent.get(id);
    if (!tenant) this.unsent.set(id, (tenant = { keys, release: new Set(), cancel: new Set() }));
    for (const lease of leases) {
      if (this.unsentCount >= MAX_UNSENT) return;
      if (!tenant[kind].has(lease)) this.unsentCount++;
      tenant[kind].add(lease);
    }
  }

  private flushUnsent(): void {
    const pending = [...this.unsent.entries()];
    this.unsent.clear();
    this.unsentCount = 0;
    for (const [id, tenant] of pending) {
      if (tenant.release.size > 0) this.send(id, tenant.keys, "release", [...tenant.release]);
      if (tenant.cancel.size > 0) this.send(id, tenant.keys, "cancel", [...tenant.cancel]);
    }
  }

  /** Extends the leases of the calls running here (a call with read retries can outlast one lease). */
  private renew(): void {
    if (!this.available()) return;
    for (const { keys, leases } of this.held.values()) {
      if (leases.size > 0) this.client.eval(RENEW, 1, keys.leases, this.options.leaseMs, ...leases).catch(() => {});
    }
  }

  /**
   * Stops renewing and closes the connection, after the releases already sent are answered (each bounded by the
   * command timeout). The server has drained its requests first, so no call of this instance still holds a lease.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.renewTimer);
    this.breaker.stop();
    await Promise.allSettled([...this.sending]);
    this.client.removeAllListeners("error");
    this.client.on("error", () => {});
    this.client.disconnect();
  }
}
