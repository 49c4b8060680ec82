/**
 * Webhooks (issue 17; house style, "Events"): endpoints registered through the graph receive every access event of
 * their projects and kinds, POSTed as JSON and signed per the Standard Webhooks spec with the `standardwebhooks`
 * package (`webhook-id` = the event's `eventId`, `webhook-timestamp`, `webhook-signature: v1,<HMAC-SHA256>`).
 *
 * - At least once: a delivery is stored before the dispatcher's log cursor moves past its event, and retried on
 *   `WEBHOOK_RETRY_SCHEDULE` (default: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h) until a 2xx answer.
 * - An endpoint failing (no 2xx) for `WEBHOOK_DISABLE_AFTER_MS` (default 5 days) is disabled: it gets no new
 *   deliveries and its pending ones stop, until `webhookEndpointEnable`.
 * - Secrets are sealed (AES-256-GCM, src/lib/sealed.ts, bound to the endpoint id) with `WEBHOOK_SECRET_KEY` or
 *   `TOKEN_ENCRYPTION_KEY`; the plaintext leaves the process only in the register / rotate answer and as the HMAC key.
 * - Storage: Redis hashes (`{webhooks}:endpoints`, `{webhooks}:deliveries`) when configured, else this process.
 *   One dispatcher across instances holds a lease (src/events/lease.ts).
 */
import { createHash, randomBytes } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import { Webhook } from "standardwebhooks";
import type { WebhooksConfig } from "../config.js";
import type { Logger } from "../logger.js";
import type { Sealer } from "../lib/sealed.js";
import { connectRedis, Lease } from "./lease.js";
import type { EventLog } from "./log.js";
import type { AccessEventKind, LoggedAccessEvent } from "./model.js";

export interface WebhookEndpointRecord {
  id: string;
  /** The API key that registered it (`key:<name>`): only it lists, rotates or deletes it. */
  owner: string;
  url: string;
  kinds: AccessEventKind[];
  projectIds: string[];
  /** Capture pictures are sent only when the registering key had `events:pictures`. */
  pictures: boolean;
  /** The secret, sealed: never answered, never logged. */
  sealedSecret: string;
  createdAt: string;
  secretRotatedAt: string;
  /** Since when every attempt failed (null after a success). */
  failingSince: string | null;
  disabledAt: string | null;
}

export type DeliveryState = "PENDING" | "SUCCEEDED" | "FAILED" | "CANCELLED";

export interface WebhookAttempt {
  attemptedAt: string;
  /** The receiver's HTTP status; null when none came (timeout, connection refused). */
  status: number | null;
  /** `timeout`, `connection failed`, `HTTP 500`… never the receiver's body. */
  error: string | null;
  durationMs: number;
}

export interface WebhookDeliveryRecord {
  id: string;
  endpointId: string;
  eventId: string;
  eventKind: AccessEventKind;
  projectId: string;
  cursor: string;
  createdAt: string;
  state: DeliveryState;
  attempts: WebhookAttempt[];
  nextAttemptAt: string | null;
  /** The body as signed and sent (the same bytes on every attempt). */
  payload: string;
}

/** Where endpoints, deliveries and the dispatcher's cursor live. */
export interface WebhookStore {
  readonly kind: "redis" | "memory";
  putEndpoint(e: WebhookEndpointRecord): Promise<void>;
  endpoint(id: string): Promise<WebhookEndpointRecord | undefined>;
  endpoints(): Promise<WebhookEndpointRecord[]>;
  deleteEndpoint(id: string): Promise<void>;
  /** Stores a delivery; `onlyNew`: keeps an existing one of the same id (a replayed event). */
  putDelivery(d: WebhookDeliveryRecord, onlyNew?: boolean): Promise<void>;
  deliveries(endpointId: string): Promise<WebhookDeliveryRecord[]>;
  /** Pending deliveries of every endpoint. */
  pending(): Promise<WebhookDeliveryRecord[]>;
  cursor(): Promise<string | null>;
  setCursor(cursor: string): Promise<void>;
  close(): Promise<void>;
}

/** Deliveries kept per endpoint in the log (oldest dropped first). */
export const DELIVERIES_KEPT = 500;

export class MemoryWebhookStore implements WebhookStore {
  readonly kind = "memory" as const;
  private readonly eps = new Map<string, WebhookEndpointRecord>();
  private readonly dels = new Map<string, Map<string, WebhookDeliveryRecord>>();
  private at: string | null = null;

  async putEndpoint(e: WebhookEndpointRecord) {
    this.eps.set(e.id, structuredClone(e));
  }
  async endpoint(id: string) {
    const e = this.eps.get(id);
    return e && structuredClone(e);
  }
  async endpoints() {
    return [...this.eps.values()].map((e) => structuredClone(e));
  }
  async deleteEndpoint(id: string) {
    this.eps.delete(id);
    this.dels.delete(id);
  }
  async putDelivery(d: WebhookDeliveryRecord, onlyNew = false) {
    let m = this.dels.get(d.endpointId);
    if (!m) this.dels.set(d.endpointId, (m = new Map()));
    if (onlyNew && m.has(d.id)) return;
    m.set(d.id, structuredClone(d));
    while (m.size > DELIVERIES_KEPT) m.delete(m.keys().next().value!);
  }
  async deliveries(endpointId: string) {
    return [...(this.dels.get(endpointId)?.values() ?? [])].map((d) => structuredClone(d));
  }
  async pending() {
    return [...this.dels.values()].flatMap((m) => [...m.values()].filter((d) => d.state === "PENDING").map((d) => structuredClone(d)));
  }
  async cursor() {
    return this.at;
  }
  async setCursor(cursor: string) {
    this.at = cursor;
  }
  async close() {}
}

const K = {
  endpoints: "{webhooks}:endpoints",
  deliveries: (endpointId: string) => `{webhooks}:deliveries:${endpointId}`,
  pending: "{webhooks}:pending",
  cursor: "{webhooks}:cursor",
  lease: "{webhooks}:dispatcher",
};

/** Endpoints in one hash, each endpoint's deliveries in a hash of its own, pending ones indexed in a set. */
export class RedisWebhookStore implements WebhookStore {
  readonly kind = "redis" as const;
  readonly redis: Redis | Cluster;
  constructor(url: string) {
    this.redis = connectRedis(url);
  }
  async putEndpoint(e: WebhookEndpointRecord) {
    await this.redis.hset(K.endpoints, e.id, JSON.stringify(e));
  }
  async endpoint(id: string) {
    const raw = await this.redis.hget(K.endpoints, id);
    return raw ? (JSON.parse(raw) as WebhookEndpointRecord) : undefined;
  }
  async endpoints() {
    return Object.values(await this.redis.hgetall(K.endpoints)).map((raw) => JSON.parse(raw) as WebhookEndpointRecord);
  }
  async deleteEndpoint(id: string) {
    await this.redis.hdel(K.endpoints, id);
    await this.redis.del(K.deliveries(id));
  }
  async putDelivery(d: WebhookDeliveryRecord, onlyNew = false) {
    const key = K.deliveries(d.endpointId);
    if (onlyNew) {
      if (!(await this.redis.hsetnx(key, d.id, JSON.stringify(d)))) return;
    } else await this.redis.hset(key, d.id, JSON.stringify(d));
    const member = `${d.endpointId}|${d.id}`;
    if (d.state === "PENDING") await this.redis.sadd(K.pending, member);
    else await this.redis.srem(K.pending, member);
    if (onlyNew && (await this.redis.hlen(key)) > DELIVERIES_KEPT) {
      const all = (await this.deliveries(d.endpointId)).filter((x) => x.state !== "PENDING").sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      const drop = all.slice(0, Math.max(0, all.length + 1 - DELIVERIES_KEPT)).map((x) => x.id);
      if (drop.length) await this.redis.hdel(key, ...drop);
    }
  }
  async deliveries(endpointId: string) {
    return Object.values(await this.redis.hgetall(K.deliveries(endpointId))).map((raw) => JSON.parse(raw) as WebhookDeliveryRecord);
  }
  async pending() {
    const out: WebhookDeliveryRecord[] = [];
    for (const member of await this.redis.smembers(K.pending)) {
      const [endpointId, id] = member.split("|") as [string, string];
      const raw = await this.redis.hget(K.deliveries(endpointId), id);
      const d = raw ? (JSON.parse(raw) as WebhookDeliveryRecord) : undefined;
      if (d?.state === "PENDING") out.push(d);
      else await this.redis.srem(K.pending, member);
    }
    return out;
  }
  async cursor() {
    return this.redis.get(K.cursor);
  }
  async setCursor(cursor: string) {
    await this.redis.set(K.cursor, cursor);
  }
  async close() {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** A new secret in the Standard Webhooks form: `whsec_` and 32 random bytes, base64. */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString("base64")}`;

const LOOPBACK = new Set(["127.0.0.1", "[::1]", "localhost"]);

/** Why a URL may not be an endpoint, or null when it may: https only (http on loopback when allowed), no credentials. */
export function webhookUrlProblem(text: string, allowHttpLoopback: boolean): string | null {
  if (text.length > 2048) return "url must be at most 2048 characters";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "url must be an absolute URL";
  }
  if (url.username || url.password) return "url must not carry credentials";
  if (url.hash) return "url must not have a fragment";
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:" && allowHttpLoopback && LOOPBACK.has(url.hostname)) return null;
  return allowHttpLoopback ? "url must be https (or http on a loopback address)" : "url must be https";
}

/** The body of a delivery: Standard Webhooks' `{type, timestamp, data}`. */
export function webhookPayload(e: LoggedAccessEvent, pictures: boolean): string {
  const data = { ...e, thumbnailUrl: pictures ? (e.thumbnailUrl ?? null) : null, pictureUrl: pictures ? (e.pictureUrl ?? null) : null };
  return JSON.stringify({ type: `access_event.${e.kind.toLowerCase()}`, timestamp: e.receivedAt, data });
}

export const matches = (ep: WebhookEndpointRecord, e: LoggedAccessEvent) =>
  ep.disabledAt === null && ep.projectIds.includes(e.projectId) && (ep.kinds.length === 0 || ep.kinds.includes(e.kind));

export interface WebhookDispatcherOptions {
  store: WebhookStore;
  log: EventLog;
  sealer: Sealer;
  config: WebhooksConfig;
  logger: Logger;
  /** For the lease (one dispatcher across instances); absent: this process is the only one. */
  redis?: Redis | Cluster;
  /** Called after each attempt (metrics, tests). */
  onAttempt?: (d: WebhookDeliveryRecord, a: WebhookAttempt) => void;
}

/**
 * Reads the log after its stored cursor, makes a delivery per matching endpoint, and attempts deliveries when due.
 * Each tick runs to its end before the next starts, so attempts of one delivery never overlap.
 */
export class WebhookDispatcher {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private again = false;
  private unlisten?: () => void;
  readonly lease: Lease;

  constructor(private readonly o: WebhookDispatcherOptions) {
    this.lease = new Lease(o.redis, K.lease, o.config.leaseMs, o.logger, "webhook dispatcher");
  }

  /**
   * Starts dispatching. It never waits on Redis: an instance that starts while Redis is down serves queries at once,
   * and the dispatcher's first tick (retried like any other) finds or sets the cursor.
   */
  async start(): Promise<void> {
    this.unlisten = this.o.log.listen(() => this.wake());
    this.wake();
  }

  private schedule() {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.wake(), this.o.config.tickMs);
    this.timer.unref?.();
  }

  /** Runs a tick now (or right after the one running). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.tick()
      .catch((error) => this.o.logger.warn("webhook dispatch failed; retrying", { error: error instanceof Error ? error.message : String(error) }))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        } else this.schedule();
      });
  }

  private cursorKnown = false;

  private async tick(): Promise<void> {
    if (!(await this.lease.hold())) return;
    if (!this.cursorKnown) {
      // A new deployment starts from the log's head: endpoints get events from their registration on.
      if ((await this.o.store.cursor()) === null) await this.o.store.setCursor(await this.o.log.head());
      this.cursorKnown = true;
    }
    await this.enqueue();
    const now = Date.now();
    const due = (await this.o.store.pending()).filter((d) => d.nextAttemptAt !== null && Date.parse(d.nextAttemptAt) <= now);
    const endpoints = new Map((await this.o.store.endpoints()).map((e) => [e.id, e]));
    await Promise.all(due.map((d) => this.attempt(d, endpoints.get(d.endpointId))));
  }

  /** New events of the log become deliveries; the cursor moves only after they are stored. */
  private async enqueue(): Promise<void> {
    let cursor = await this.o.store.cursor();
    for (;;) {
      const page = await this.o.log.read(cursor, 200);
      if (page.length === 0) return;
      const endpoints = await this.o.store.endpoints();
      for (const e of page) {
        for (const ep of endpoints) {
          if (!matches(ep, e) || Date.parse(ep.createdAt) > Date.parse(e.receivedAt) + 1000) continue;
          const at = new Date().toISOString();
          await this.o.store.putDelivery(
            {
              id: "dl_" + createHash("sha256").update(`${ep.id}|${e.eventId}`).digest("base64url").slice(0, 22),
              endpointId: ep.id,
              eventId: e.eventId,
              eventKind: e.kind,
              projectId: e.projectId,
              cursor: e.cursor,
              createdAt: at,
              state: "PENDING",
              attempts: [],
              nextAttemptAt: new Date(Date.now() + (this.o.config.scheduleMs[0] ?? 0)).toISOString(),
              payload: webhookPayload(e, ep.pictures),
            },
            true,
          );
        }
        cursor = e.cursor;
      }
      await this.o.store.setCursor(cursor!);
    }
  }

  private async attempt(d: WebhookDeliveryRecord, ep: WebhookEndpointRecord | undefined): Promise<void> {
    if (!ep || ep.disabledAt) {
      await this.o.store.putDelivery({ ...d, state: "CANCELLED", nextAttemptAt: null });
      return;
    }
    const secret = this.o.sealer.open(ep.sealedSecret, ep.id);
    if (!secret) {
      this.o.logger.error("webhook secret does not open with the configured key; delivery cancelled", { endpointId: ep.id });
      await this.o.store.putDelivery({ ...d, state: "CANCELLED", nextAttemptAt: null });
      return;
    }
    const started = Date.now();
    const timestamp = new Date();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(ep.url, {
        method: "POST",
        redirect: "manual",
        signal: AbortSignal.timeout(this.o.config.timeoutMs),
        headers: {
          "content-type": "application/json",
          "user-agent": "access-control-graph-webhooks",
          "webhook-id": d.eventId,
          "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
          "webhook-signature": new Webhook(secret).sign(d.eventId, timestamp, d.payload),
        },
        body: d.payload,
      });
      status = res.status;
      await res.body?.cancel().catch(() => {});
      if (status < 200 || status > 299) error = `HTTP ${status}`;
    } catch (e) {
      error = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError") ? "timeout" : "connection failed";
    }
    const attempt: WebhookAttempt = { attemptedAt: timestamp.toISOString(), status, error, durationMs: Date.now() - started };
    const attempts = [...d.attempts, attempt];
    const delay = this.o.config.scheduleMs[attempts.length];
    const next: WebhookDeliveryRecord =
      error === null
        ? { ...d, attempts, state: "SUCCEEDED", nextAttemptAt: null }
        : delay === undefined
          ? { ...d, attempts, state: "FAILED", nextAttemptAt: null }
          : { ...d, attempts, nextAttemptAt: new Date(Date.now() + delay).toISOString() };
    // The endpoint, re-read: deleted meanwhile (nothing more is stored for it), or changed by another attempt.
    const current = await this.o.store.endpoint(ep.id);
    this.o.onAttempt?.(next, attempt);
    if (!current) return;
    await this.o.store.putDelivery(next);
    if (error === null) {
      if (current.failingSince !== null) await this.o.store.putEndpoint({ ...current, failingSince: null });
      return;
    }
    this.o.logger.info("webhook attempt failed", { endpointId: ep.id, deliveryId: d.id, attempt: attempts.length, error });
    const failingSince = current.failingSince ?? attempt.attemptedAt;
    const disable = current.disabledAt === null && Date.now() - Date.parse(failingSince) >= this.o.config.disableAfterMs;
    if (disable) this.o.logger.warn("webhook endpoint disabled after failing", { endpointId: ep.id, failingSince });
    if (disable || current.failingSince === null) await this.o.store.putEndpoint({ ...current, failingSince, disabledAt: disable ? new Date().toISOString() : current.disabledAt });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unlisten?.();
    await this.running;
    await this.lease.release();
  }
}

/** What the webhook mutations and queries reach (the context's `webhooks`). */
export interface WebhookService {
  store: WebhookStore;
  sealer: Sealer;
  config: WebhooksConfig;
  /** The dispatcher of this instance (it delivers only while it holds the lease). */
  dispatcher: WebhookDispatcher;
}
