/**
 * Where idempotency records live: a store of their own, never the read cache (whose entries may be evicted, and
 * which answers "absent" when it fails). Every operation either succeeds with a confirmed answer or throws
 * {@link IdempotencyUnavailableError}: an idempotent mutation whose record cannot be written and confirmed does not
 * run (fail closed).
 *
 * A record is `pending` while its first call runs, under a short lease the running call renews; `done` with the
 * payload once it finished. A pending record whose lease expired (its instance died mid-call) tells a retry that
 * the outcome is unknown: the command may have reached the vendor.
 */
import { HeaderMap } from "@apollo/server";
import { LimitError } from "../errors.js";

export interface IdempotencyRecord {
  /** Who holds the lease (a random token of the claiming call). */
  owner: string;
  state: "pending" | "done";
  /** HMAC of the input the key was first used with (keyed by the caller's idempotency key: no brute force of a PIN). */
  input: string;
  /** The payload, sealed with a key derived from the caller's idempotency key (never in clear). */
  payload?: string;
}

export interface IdempotencyLook {
  record: IdempotencyRecord;
  /** Whether the pending call's lease is still held (meaningless once done). */
  leased: boolean;
}

export interface IdempotencyStore {
  /** `memory` or `redis` / `redis-cluster`. */
  readonly kind: string;
  /** Writes `record` (pending) under `key` only if absent, with its lease; true when written, false when present. */
  claim(key: string, record: IdempotencyRecord, ttlMs: number, leaseMs: number): Promise<boolean>;
  /** The record under `key` and whether its lease is held; `undefined` when absent. */
  look(key: string): Promise<IdempotencyLook | undefined>;
  /** Extends the lease of `owner`'s pending call. */
  renew(key: string, owner: string, leaseMs: number): Promise<void>;
  /** Replaces the record by the finished one and drops the lease. */
  finish(key: string, record: IdempotencyRecord, ttlMs: number): Promise<void>;
  /** Removes `owner`'s record (its call failed before reaching the vendor); another owner's is left alone. */
  release(key: string, owner: string): Promise<void>;
  /** For `/readyz`: `ok`, or why idempotent mutations are refused now (`degraded (…)`). */
  health(): string;
  close(): Promise<void>;
}

/** The key prefix of idempotency records: a namespace of their own, apart from the read cache's `acg:v1:`. */
export const IDEMPOTENCY_PREFIX = "acg:idem:v1";

/** `IDEMPOTENCY_UNAVAILABLE` (HTTP 503, `Retry-After`): the record could not be written and confirmed; nothing ran. */
export class IdempotencyUnavailableError extends LimitError {
  constructor(reason: string, retryAfterSeconds = 5) {
    super(
      `Idempotency records cannot be kept now (${reason}): the mutation was not run. Retry with the same idempotencyKey shortly.`,
      "IDEMPOTENCY_UNAVAILABLE",
      503,
      new HeaderMap([["retry-after", String(retryAfterSeconds)]]),
    );
  }
}

/**
 * The store without Redis: this process only, bounded by count. Nothing else lives in it, so nothing evicts a
 * record; expired records are dropped to make room, and when it is still full a claim is refused.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly kind = "memory";
  private readonly records = new Map<string, { record: IdempotencyRecord; expiresAt: number; leaseUntil: number }>();

  constructor(
    private readonly maxRecords = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  private live(key: string) {
    const entry = this.records.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      this.records.delete(key);
      return undefined;
    }
    return entry;
  }

  async claim(key: string, record: IdempotencyRecord, ttlMs: number, leaseMs: number): Promise<boolean> {
    if (this.live(key)) return false;
    if (this.records.size >= this.maxRecords) {
      const now = this.now();
      for (const [k, v] of this.records) if (v.expiresAt <= now) this.records.delete(k);
      if (this.records.size >= this.maxRecords) throw new IdempotencyUnavailableError(`the in-process store holds its maximum of ${this.maxRecords} records`, 60);
    }
    const now = this.now();
    this.records.set(key, { record, expiresAt: now + ttlMs, leaseUntil: now + leaseMs });
    return true;
  }

  async look(key: string): Promise<IdempotencyLook | undefined> {
    const entry = this.live(key);
    return entry ? { record: entry.record, leased: entry.leaseUntil > this.now() } : undefined;
  }

  async renew(key: string, owner: string, leaseMs: number): Promise<void> {
    const entry = this.live(key);
    if (entry && entry.record.owner === owner && entry.record.state === "pending") entry.leaseUntil = this.now() + leaseMs;
  }

  async finish(key: string, record: IdempotencyRecord, ttlMs: number): Promise<void> {
    this.records.set(key, { record, expiresAt: this.now() + ttlMs, leaseUntil: 0 });
  }

  async release(key: string, owner: string): Promise<void> {
    if (this.live(key)?.record.owner === owner) this.records.delete(key);
  }

  /** Forgets every record (a fresh store without a restart). */
  clear(): void {
    this.records.clear();
  }

  get size(): number {
    return this.records.size;
  }

  health(): string {
    return this.records.size >= this.maxRecords ? "degraded (in-process idempotency store full)" : "ok";
  }

  async close(): Promise<void> {
    this.records.clear();
  }
}
