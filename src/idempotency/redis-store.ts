import { createHash, randomUUID } from "node:crypto";
import { Cluster, type Redis } from "ioredis";
import { Breaker } from "../cache/breaker.js";
import { createRedisClient, parseRedisUrl } from "../cache/redis-cache.js";
import type { Logger } from "../logger.js";
import { IDEMPOTENCY_PREFIX, IdempotencyUnavailableError, type IdempotencyLook, type IdempotencyRecord, type IdempotencyStore } from "./store.js";

export interface RedisIdempotencyStoreOptions {
  commandTimeoutMs: number;
  logger: Logger;
  /**
   * How long idempotent mutations are refused after this store finds that Redis lost its records (a restart
   * without persistence): keys used before the loss cannot be recognised, so none is trusted until they expire.
   */
  lossHoldMs: number;
}

/**
 * Records are spread over SHARDS hash tags (cluster slots). Each shard holds an epoch marker, written when the store
 * starts and never expiring: a claim that finds its shard's marker gone knows that this Redis (or this cluster
 * master) lost what it held, records included.
 */
const SHARDS = 64;
const shardOf = (key: string) => createHash("sha256").update(key).digest().readUInt16BE(0) % SHARDS;
// The record, its lease and its shard's marker share a hash tag, so the scripts below touch one cluster slot.
const recordKey = (key: string) => `${IDEMPOTENCY_PREFIX}:{s${shardOf(key)}}:${key}`;
const leaseKey = (key: string) => `${IDEMPOTENCY_PREFIX}:{s${shardOf(key)}}:${key}:lease`;
const epochKey = (shard: number) => `${IDEMPOTENCY_PREFIX}:{s${shard}}:epoch`;
const HOLD_KEY = `${IDEMPOTENCY_PREFIX}:lost`;

/** A marker rewritten after a loss carries this prefix while the hold lasts: claims in its shard are refused. */
const HELD = "held:";
/**
 * KEYS: record, lease, shard marker. ARGV: record, ttl, owner, lease ms. -1 when the marker is gone (records lost),
 * -2 when it is held (lost earlier, the hold not yet lifted), else SET NX of the record, then its lease. The marker is
 * read in the same script as the write, so no claim can slip in between a loss being found and the hold being set:
 * the lost shard's marker stays held until a claimant sees the global hold gone.
 */
const CLAIM = `local m = redis.call('GET', KEYS[3]) if not m then return -1 end if string.sub(m, 1, ${HELD.length}) == '${HELD}' then return -2 end if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4]) return 1 end return 0`;
/** KEYS: shard marker. Lifts a shard's hold (the global hold has expired or an operator removed it). */
const UNHOLD = `local m = redis.call('GET', KEYS[1]) if m and string.sub(m, 1, ${HELD.length}) == '${HELD}' then redis.call('SET', KEYS[1], string.sub(m, ${HELD.length + 1})) end return 1`;
const LOOK = `return {redis.call('GET', KEYS[1]), redis.call('EXISTS', KEYS[2])}`;
const RENEW = `if redis.call('GET', KEYS[2]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[2], ARGV[2]) end return 0`;
const FINISH = `redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) redis.call('DEL', KEYS[2]) return 1`;
/** Deletes the record only if it is the pending one of ARGV[1] (its JSON starts with the owner). */
const RELEASE = `local v = redis.call('GET', KEYS[1]) if v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then redis.call('DEL', KEYS[1], KEYS[2]) return 1 end return 0`;

/**
 * Idempotency records on Redis, in their own `acg:idem:v1:` namespace and over their own connection (a read-cache
 * flood never queues ahead of them). Writes are `SET NX` in a script whose answer confirms them; a command that
 * fails, times out or meets the open breaker throws {@link IdempotencyUnavailableError}, so the mutation does not
 * run. A claim that timed out may still land once a stalled Redis resumes: a compare-and-delete queued behind it
 * removes it again.
 *
 * Loss detection: an epoch marker per shard. Written at start-up (first connection); when a claim, or the check on
 * reconnecting, finds one gone, Redis (or one cluster master) restarted without its data (persistence off): the
 * store sets a hold for `lossHoldMs`, during which every instance refuses idempotent mutations instead of running
 * keys it can no longer recognise.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  readonly kind: string;
  private readonly client: Redis | Cluster;
  readonly breaker: Breaker;
  private healthy = false;
  private epoch: string | undefined;
  /** Set once this instance has checked the markers: from then on, a marker gone is a loss. */
  private startedWith: string | undefined;
  private checked: Promise<void> = Promise.resolve();

  constructor(url: string, private readonly options: RedisIdempotencyStoreOptions) {
    this.kind = parseRedisUrl(url).cluster ? "redis-cluster" : "redis";
    this.client = createRedisClient(url, options.commandTimeoutMs);
    this.breaker = new Breaker({
      probe: () => this.client.ping(),
      onChange: (open) =>
        open
          ? options.logger.warn("idempotency breaker open: Redis does not answer in time; idempotent mutations are refused until a probe answers")
          : options.logger.info("idempotency breaker closed: Redis answers again"),
    });
    this.client.on("ready", () => {
      this.breaker.close();
      this.checked = this.checkEpoch().then(
        () => void (this.healthy = true),
        () => void (this.healthy = false),
      );
    });
    const down = () => void (this.healthy = false);
    this.client.on("end", down);
    this.client.on("close", down);
    this.client.on("error", down);
  }

  /** Resolves once connected and checked (or after `timeoutMs`); start-up uses it to warn about persistence. */
  async connected(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.healthy && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await this.checked;
    return this.healthy;
  }

  private async checkEpoch(): Promise<void> {
    const read = () => Promise.all(Array.from({ length: SHARDS }, (_, i) => this.client.get(epochKey(i))));
    let markers = await read();
    // At first start, some markers only: perhaps another instance writing them now; read again once it is done.
    if (this.startedWith === undefined && markers.some((m) => m === null) && markers.some((m) => m !== null)) {
      await new Promise((r) => setTimeout(r, 500));
      markers = await read();
    }
    const present = markers.filter((m): m is string => m !== null);
    this.epoch ??= present[0]?.replace(HELD, "") ?? randomUUID();
    // Markers gone that this instance saw, or gone beside others still there (one cluster master back empty): a loss.
    if (present.length < SHARDS && (this.startedWith !== undefined || present.length > 0)) await this.lost();
    else await Promise.all(markers.map((m, i) => (m === null ? this.client.set(epochKey(i), this.epoch!, "NX") : undefined)));
    this.startedWith = this.epoch;
  }

  /**
   * Redis lost records: hold keyed mutations off everywhere for `lossHoldMs` (the global key, readable by operators),
   * then rewrite the missing markers as held, in that order, so a claimant that meets a held marker finds the global
   * hold set. With no hold configured (0) the markers are rewritten plain.
   */
  private async lost(): Promise<void> {
    const hold = this.options.lossHoldMs > 0;
    if (hold) await this.client.set(HOLD_KEY, new Date(Date.now() + this.options.lossHoldMs).toISOString(), "PX", this.options.lossHoldMs, "NX");
    this.options.logger.error("idempotency records lost: Redis came back empty (restarted without persistence?); idempotent mutations are refused for the hold", {
      holdSeconds: Math.round(this.options.lossHoldMs / 1000),
    });
    const marker = `${hold ? HELD : ""}${this.epoch ?? randomUUID()}`;
    await Promise.all(Array.from({ length: SHARDS }, (_, i) => this.client.set(epochKey(i), marker, "NX")));
  }

  /** Redis persistence as `CONFIG GET` reports it (`undefined` where CONFIG is not allowed). */
  async persistence(): Promise<{ appendonly?: string; save?: string } | undefined> {
    try {
      const nodes: Redis[] = this.client instanceof Cluster ? this.client.nodes("master") : [this.client];
      const answers = await Promise.all(
        nodes.map(async (n) => {
          const [, appendonly] = (await n.config("GET", "appendonly")) as string[];
          const [, save] = (await n.config("GET", "save")) as string[];
          return { appendonly, save };
        }),
      );
      // The weakest node decides.
      return answers.find((a) => a.appendonly !== "yes" && !a.save) ?? answers[0];
    } catch {
      return undefined;
    }
  }

  private async command<T>(what: string, op: () => Promise<T>): Promise<T> {
    if (!this.healthy) throw new IdempotencyUnavailableError("Redis is unreachable");
    try {
      return await this.breaker.run(op);
    } catch (error) {
      if (error instanceof IdempotencyUnavailableError) throw error;
      this.options.logger.warn("idempotency store command failed", { command: what, error: error instanceof Error ? error.name : "error" });
      throw new IdempotencyUnavailableError(this.breaker.isOpen ? "Redis does not answer in time" : "Redis did not confirm the write");
    }
  }

  async claim(key: string, record: IdempotencyRecord, ttlMs: number, leaseMs: number, lifted = false): Promise<boolean> {
    const hold = await this.command("hold", () => this.client.get(HOLD_KEY));
    if (hold) {
      // A record that survived still answers its repeat; a key without one is not trusted during the hold.
      if (await this.look(key)) return false;
      throw new IdempotencyUnavailableError(`Redis lost its idempotency records; keys are not trusted until ${hold}`, 60);
    }
    let answer: unknown;
    try {
      answer = await this.command("claim", () =>
        this.client.eval(CLAIM, 3, recordKey(key), leaseKey(key), epochKey(shardOf(key)), JSON.stringify(record), Math.ceil(ttlMs), record.owner, Math.ceil(leaseMs)),
      );
    } catch (error) {
      // The claim may still be carried out by a Redis that resumes: remove it then (queued behind it, in order).
      this.client.eval(RELEASE, 2, recordKey(key), leaseKey(key), `{"owner":"${record.owner}"`).catch(() => {});
      throw error;
    }
    if (answer === -1) {
      await this.command("hold", () => this.lost());
      throw new IdempotencyUnavailableError("Redis lost its idempotency records; keys are not trusted for the hold", 60);
    }
    if (answer === -2) {
      // Held shard: the global hold was set before the marker was; if it is still there, refuse.
      const still = await this.command("hold", () => this.client.get(HOLD_KEY));
      if (still || lifted) throw new IdempotencyUnavailableError(`Redis lost its idempotency records; keys are not trusted until ${still ?? "the hold is lifted"}`, 60);
      await this.command("unhold", () => this.client.eval(UNHOLD, 1, epochKey(shardOf(key))));
      return this.claim(key, record, ttlMs, leaseMs, true);
    }
    return answer === 1;
  }

  async look(key: string): Promise<IdempotencyLook | undefined> {
    const [raw, leased] = (await this.command("look", () => this.client.eval(LOOK, 2, recordKey(key), leaseKey(key)))) as [string | null, number];
    return raw ? { record: JSON.parse(raw) as IdempotencyRecord, leased: leased === 1 } : undefined;
  }

  async renew(key: string, owner: string, leaseMs: number): Promise<void> {
    await this.command("renew", () => this.client.eval(RENEW, 2, recordKey(key), leaseKey(key), owner, Math.ceil(leaseMs)));
  }

  async finish(key: string, record: IdempotencyRecord, ttlMs: number): Promise<void> {
    await this.command("finish", () => this.client.eval(FINISH, 2, recordKey(key), leaseKey(key), JSON.stringify(record), Math.ceil(ttlMs)));
  }

  async release(key: string, owner: string): Promise<void> {
    await this.command("release", () => this.client.eval(RELEASE, 2, recordKey(key), leaseKey(key), `{"owner":"${owner}"`));
  }

  health(): string {
    if (!this.healthy) return "unreachable (idempotent mutations refused)";
    return this.breaker.isOpen ? "degraded (breaker open: idempotent mutations refused)" : "ok";
  }

  async close(): Promise<void> {
    this.breaker.stop();
    this.client.removeAllListeners("error");
    this.client.on("error", () => {});
    this.client.disconnect();
  }
}
