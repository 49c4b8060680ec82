/**
 * The durable access-event log every delivery reads (house style, "Events"): subscriptions, the cursor feed and
 * webhooks. On Redis a Stream (`XADD … MINID ~` keeps the retention window, default 7 days), shared by every
 * instance; without Redis (demo mode) an in-process ring. Appends are deduplicated by `eventId` for the retention
 * window, so two pollers, a restart or a replayed history never store an event twice.
 */
import type { Cluster, Redis } from "ioredis";
import { Breaker } from "../cache/breaker.js";
import { connectRedis as connect } from "./lease.js";
import type { Logger } from "../logger.js";
import { compareCursors, type AccessEventData, type LoggedAccessEvent } from "./model.js";

export interface EventLogOptions {
  /** How long events are kept (and deduplicated), ms. */
  retentionMs: number;
  /** Upper bound of entries kept (the ring's size; a Stream is also trimmed to about this many). */
  maxEntries: number;
}

/** Redis only: the bound of one command of the log's command connection, ms (a stalled Redis fails it, fast). */
export interface RedisEventLogOptions extends EventLogOptions {
  commandTimeoutMs: number;
  /** Events waiting for a Redis that did not take them, at most (past it the oldest are dropped, logged). */
  backlogMax?: number;
}

export type EventListener = (events: LoggedAccessEvent[]) => void;

export interface EventLog {
  readonly kind: "redis" | "memory";
  /** Appends the events not seen before (by `eventId`); answers those appended, with their cursors, in order. */
  append(events: AccessEventData[]): Promise<LoggedAccessEvent[]>;
  /**
   * Appends, or — when the log does not take them now (Redis down or stalled) — keeps them and appends them when it
   * does, in order. Never waits on a stalled Redis longer than one command's bound; what a mutation publishes is
   * thus not lost to a short outage, and the mutation's answer is not held by it.
   */
  publish(events: AccessEventData[]): Promise<void>;
  /** Up to `count` events after `after` (exclusive; null: from the oldest kept), oldest first. */
  read(after: string | null, count: number): Promise<LoggedAccessEvent[]>;
  /** The cursor of the newest event, or `0-0` when the log is empty. */
  head(): Promise<string>;
  /** Called with every batch appended by any instance, as it arrives. Answers the unsubscribe. */
  listen(listener: EventListener): () => void;
  close(): Promise<void>;
}

/** The stream key and the dedup keys share a hash tag, so the append script runs on one Redis Cluster slot. */
const STREAM_KEY = "{access-events}:log";
const DEDUP_PREFIX = "{access-events}:seen:";

const APPEND_SCRIPT = `
local out = {}
for i = 4, #ARGV, 2 do
  if redis.call('SET', KEYS[2] .. ARGV[i], '1', 'NX', 'PX', ARGV[2]) then
    local id = redis.call('XADD', KEYS[1], 'MINID', '~', ARGV[1], '*', 'e', ARGV[i + 1])
    table.insert(out, id)
    table.insert(out, ARGV[i])
  end
end
if #out > 0 and tonumber(ARGV[3]) > 0 then redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', ARGV[3]) end
return out
`;

function toEvent(id: string, fields: string[]): LoggedAccessEvent | null {
  const at = fields.indexOf("e");
  if (at < 0) return null;
  try {
    return { ...(JSON.parse(fields[at + 1]!) as AccessEventData), cursor: id };
  } catch {
    return null;
  }
}

/** The log on a Redis Stream: one command connection, one blocking `XREAD` connection tailing for listeners. */
export class RedisEventLog implements EventLog {
  readonly kind = "redis" as const;
  private readonly client: Redis | Cluster;
  private readonly tail: Redis | Cluster;
  private readonly listeners = new Set<EventListener>();
  private closed = false;
  private tailing?: Promise<void>;
  /** Opens after consecutive timeouts of the command connection; appends then go to the backlog at once. */
  readonly breaker: Breaker;
  /** Published events Redis did not take yet, oldest first (appends are deduplicated, so a retry is harmless). */
  private backlog: AccessEventData[] = [];
  private flushing: NodeJS.Timeout | undefined;
  /** Events dropped from a full backlog (for tests and operators). */
  dropped = 0;

  constructor(
    url: string,
    private readonly options: RedisEventLogOptions,
    private readonly logger: Logger,
  ) {
    this.client = connect(url, options.commandTimeoutMs);
    this.tail = connect(url, "blocking");
    this.breaker = new Breaker({
      probe: () => this.client.ping(),
      onChange: (open) =>
        open
          ? logger.warn("event log breaker open: Redis does not answer in time; published events wait in this process until it does")
          : logger.info("event log breaker closed: Redis answers again"),
    });
  }

  /** Events waiting in this process for Redis. */
  get waiting(): number {
    return this.backlog.length;
  }

  async publish(events: AccessEventData[]): Promise<void> {
    if (events.length === 0) return;
    if (this.backlog.length === 0) {
      try {
        await this.append(events);
        return;
      } catch (error) {
        this.logger.warn("access events kept to publish later: Redis did not take them", { events: events.length, error: error instanceof Error ? error.message : String(error) });
      }
    }
    // Behind earlier ones still waiting, so the log keeps the order they happened in.
    this.backlog.push(...events);
    const max = this.options.backlogMax ?? 10_000;
    if (this.backlog.length > max) {
      const drop = this.backlog.length - max;
      this.backlog.splice(0, drop);
      this.dropped += drop;
      this.logger.error("access events dropped: Redis has not taken them and the backlog is full", { dropped: drop, backlogMax: max });
    }
    this.flushing ??= setInterval(() => void this.flush(), 500);
    this.flushing.unref();
  }

  private flushBusy = false;
  private async flush(): Promise<void> {
    if (this.flushBusy || this.breaker.isOpen) return;
    this.flushBusy = true;
    try {
      while (this.backlog.length > 0) {
        const batch = this.backlog.slice(0, 200);
        await this.append(batch);
        this.backlog.splice(0, batch.length);
      }
      clearInterval(this.flushing);
      this.flushing = undefined;
      this.logger.info("access events kept during a Redis outage published");
    } catch {
      // still not taken: the next tick tries again
    } finally {
      this.flushBusy = false;
    }
  }

  async append(events: AccessEventData[]): Promise<LoggedAccessEvent[]> {
    if (events.length === 0) return [];
    return this.breaker.run(() => this.appendNow(events));
  }

  private async appendNow(events: AccessEventData[]): Promise<LoggedAccessEvent[]> {
    const minId = String(Math.max(0, Date.now() - this.options.retentionMs));
    const args = events.flatMap((e) => [e.eventId, JSON.stringify(e)]);
    const out = (await this.client.eval(APPEND_SCRIPT, 2, STREAM_KEY, DEDUP_PREFIX, minId, String(this.options.retentionMs), String(this.options.maxEntries), ...args)) as string[];
    const byId = new Map(events.map((e) => [e.eventId, e]));
    const appended: LoggedAccessEvent[] = [];
    for (let i = 0; i < out.length; i += 2) appended.push({ ...byId.get(out[i + 1]!)!, cursor: out[i]! });
    return appended;
  }

  async read(after: string | null, count: number): Promise<LoggedAccessEvent[]> {
    const rows = (await this.breaker.run(() => this.client.xrange(STREAM_KEY, after ? `(${after}` : "-", "+", "COUNT", count))) as [string, string[]][];
    return rows.flatMap(([id, fields]) => toEvent(id, fields) ?? []);
  }

  async head(): Promise<string> {
    const rows = (await this.breaker.run(() => this.client.xrevrange(STREAM_KEY, "+", "-", "COUNT", 1))) as [string, string[]][];
    return rows[0]?.[0] ?? "0-0";
  }

  listen(listener: EventListener): () => void {
    this.listeners.add(listener);
    this.tailing ??= this.follow();
    return () => void this.listeners.delete(listener);
  }

  /** One `XREAD BLOCK` loop per instance, whatever the number of subscribers. */
  private async follow(): Promise<void> {
    let last: string | undefined;
    while (!this.closed) {
      try {
        last ??= await this.head();
        const res = (await this.tail.xread("COUNT", 500, "BLOCK", 2000, "STREAMS", STREAM_KEY, last)) as [string, [string, string[]][]][] | null;
        const rows = res?.[0]?.[1] ?? [];
        if (rows.length === 0) continue;
        last = rows[rows.length - 1]![0];
        const batch = rows.flatMap(([id, fields]) => toEvent(id, fields) ?? []);
        for (const l of this.listeners) l(batch);
      } catch (error) {
        if (this.closed) return;
        this.logger.warn("event log tail failed; retrying", { error: error instanceof Error ? error.message : String(error) });
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.breaker.stop();
    if (this.flushing) clearInterval(this.flushing);
    if (this.backlog.length > 0) {
      await this.flush();
      if (this.backlog.length > 0) this.logger.error("access events not published at shutdown: Redis did not take them", { events: this.backlog.length });
    }
    this.tail.disconnect();
    await this.tailing?.catch(() => {});
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

/** The log in this process only (demo mode, no Redis): a ring of `maxEntries`, pruned to the retention window. */
export class MemoryEventLog implements EventLog {
  readonly kind = "memory" as const;
  private entries: LoggedAccessEvent[] = [];
  private readonly seen = new Map<string, number>();
  private readonly listeners = new Set<EventListener>();
  private lastMs = 0;
  private seq = 0;

  constructor(private readonly options: EventLogOptions) {}

  private nextCursor(): string {
    const now = Date.now();
    if (now > this.lastMs) {
      this.lastMs = now;
      this.seq = 0;
    } else this.seq += 1;
    return `${this.lastMs}-${this.seq}`;
  }

  private prune(): void {
    const cutoff = Date.now() - this.options.retentionMs;
    let drop = 0;
    while (drop < this.entries.length && (this.entries.length - drop > this.options.maxEntries || Number(this.entries[drop]!.cursor.split("-")[0]) < cutoff)) drop++;
    if (drop > 0) this.entries = this.entries.slice(drop);
    for (const [id, at] of this.seen) {
      if (at >= cutoff && this.seen.size <= this.options.maxEntries * 2) break;
      this.seen.delete(id);
    }
  }

  async append(events: AccessEventData[]): Promise<LoggedAccessEvent[]> {
    const appended: LoggedAccessEvent[] = [];
    for (const e of events) {
      if (this.seen.has(e.eventId)) continue;
      this.seen.set(e.eventId, Date.now());
      const logged = { ...e, cursor: this.nextCursor() };
      this.entries.push(logged);
      appended.push(logged);
    }
    this.prune();
    if (appended.length > 0) for (const l of this.listeners) l(appended);
    return appended;
  }

  async publish(events: AccessEventData[]): Promise<void> {
    await this.append(events);
  }

  async read(after: string | null, count: number): Promise<LoggedAccessEvent[]> {
    const start = after ? this.entries.findIndex((e) => compareCursors(e.cursor, after) > 0) : 0;
    return start < 0 ? [] : this.entries.slice(start, start + count);
  }

  async head(): Promise<string> {
    return this.entries.at(-1)?.cursor ?? "0-0";
  }

  listen(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}

/**
 * Every event after `after` (null: from now on) that `accept` keeps, as an async iterator: the backlog is read
 * from the log, then live batches follow. The listener is registered before the backlog is read and each event is
 * passed on only if it is past the last one delivered, so the seam neither loses nor repeats an event.
 */
export function followLog(log: EventLog, after: string | null, accept: (e: LoggedAccessEvent) => boolean, signal?: AbortSignal): AsyncIterableIterator<LoggedAccessEvent> {
  const queue: LoggedAccessEvent[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  let position: string | null = after;
  let caughtUp = false;
  const pending: LoggedAccessEvent[] = [];
  const push = (e: LoggedAccessEvent) => {
    if (position !== null && compareCursors(e.cursor, position) <= 0) return;
    position = e.cursor;
    if (accept(e)) queue.push(e);
  };
  const unlisten = log.listen((batch) => {
    if (!caughtUp) pending.push(...batch);
    else batch.forEach(push);
    wake?.();
  });
  const finish = () => {
    done = true;
    unlisten();
    wake?.();
  };
  signal?.addEventListener("abort", finish, { once: true });
  const catchUp = (async () => {
    if (position === null) position = await log.head();
    for (;;) {
      const page = await log.read(position, 500);
      page.forEach(push);
      if (page.length < 500) break;
    }
    caughtUp = true;
    pending.splice(0).forEach(push);
  })();

  const iterator: AsyncIterableIterator<LoggedAccessEvent> = {
    async next() {
      await catchUp;
      while (!done && queue.length === 0) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      if (queue.length > 0) return { value: queue.shift()!, done: false };
      return { value: undefined, done: true };
    },
    async return() {
      finish();
      return { value: undefined, done: true };
    },
    async throw(error) {
      finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
