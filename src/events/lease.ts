/**
 * Leadership of one job across instances: `SET key me NX PX lease` takes it, a Lua check-and-`PEXPIRE` renews it
 * at a third of the lease, and each new leader draws a fencing token (`INCR`). State written under the lease is
 * written with {@link Lease.fencedHset}, which refuses once a newer leader exists, so a paused old leader can never
 * overwrite what the new one did. Without Redis this process is the only instance and always leads.
 */
import { randomUUID } from "node:crypto";
import { Cluster, Redis } from "ioredis";
import { parseRedisUrl } from "../cache/redis-cache.js";
import type { Logger } from "../logger.js";

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const FENCED_HSET = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]); return 1 else return 0 end`;

/** The bound of a background job's command (lease, poller state, webhook store): past it the job's tick fails and retries. */
export const BACKGROUND_COMMAND_TIMEOUT_MS = 2000;

/**
 * A connection for the event jobs. `commandTimeoutMs` bounds each command (a stalled Redis — SIGSTOPped, swapping —
 * keeps its socket open and answers nothing; without a bound, whatever awaits the command waits as long as the
 * stall). `"blocking"` only for a connection that blocks on purpose (`XREAD BLOCK`).
 */
export function connectRedis(url: string, commandTimeoutMs: number | "blocking" = BACKGROUND_COMMAND_TIMEOUT_MS): Redis | Cluster {
  const parsed = parseRedisUrl(url);
  const timeout = commandTimeoutMs === "blocking" ? {} : { commandTimeout: commandTimeoutMs };
  const client = parsed.cluster
    ? new Cluster(parsed.nodes, { redisOptions: { ...timeout, ...(parsed.password ? { password: parsed.password } : {}) } })
    : new Redis(parsed.url, { ...timeout, maxRetriesPerRequest: 1, retryStrategy: (n: number) => Math.min(100 * n, 2000) });
  client.on("error", () => {});
  return client;
}

export class Lease {
  readonly instanceId = randomUUID();
  private fence: string | null = null;
  private until = 0;
  /** How many times this instance took the lease. */
  taken = 0;

  constructor(
    private readonly redis: Redis | Cluster | undefined,
    /** Keys share a hash tag with the state they guard (`{access-events}:…`). */
    private readonly key: string,
    private readonly leaseMs: number,
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  get held(): boolean {
    return this.fence !== null && Date.now() < this.until;
  }

  /** Keeps or takes the lease; true while this instance leads. */
  async hold(): Promise<boolean> {
    const now = Date.now();
    if (!this.redis) {
      if (!this.fence) (this.fence = "1"), this.taken++;
      this.until = now + this.leaseMs;
      return true;
    }
    if (this.fence && now < this.until - (this.leaseMs * 2) / 3) return true;
    if (this.fence) {
      const renewed = await this.redis.eval(RENEW, 1, this.key, this.instanceId, String(this.leaseMs)).catch(() => 0);
      if (renewed === 1) {
        this.until = now + this.leaseMs;
        return true;
      }
      this.fence = null;
      this.logger.info(`${this.what} lost its lease`);
    }
    const taken = await this.redis.set(this.key, this.instanceId, "PX", this.leaseMs, "NX").catch(() => null);
    if (taken !== "OK") return false;
    this.fence = String(await this.redis.incr(`${this.key}:fence`));
    this.until = now + this.leaseMs;
    this.taken++;
    this.logger.info(`${this.what} took the lease`, { fence: this.fence });
    return true;
  }

  /** `HSET hash field value` if this instance's fence is still the newest; false (and the lead is lost) if not. */
  async fencedHset(hash: string, field: string, value: string): Promise<boolean> {
    if (!this.redis) return true;
    const ok = await this.redis.eval(FENCED_HSET, 2, `${this.key}:fence`, hash, this.fence ?? "", field, value);
    if (ok !== 1) this.fence = null;
    return ok === 1;
  }

  /** Hands the lease over at once (a clean stop), instead of making the others wait it out. */
  async release(): Promise<void> {
    if (this.redis && this.fence) await this.redis.eval(RELEASE, 1, this.key, this.instanceId).catch(() => {});
    this.fence = null;
  }
}
