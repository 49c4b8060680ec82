/**
 * The vendors push nothing, so their histories are polled — by one poller per tenant across every instance:
 *
 * - **Lease with fencing.** `SET lease NX PX` elects a leader; it renews at a third of the lease and, on taking the
 *   lease, draws a fencing token (`INCR`). Watermarks are written only while the token is still the newest (a Lua
 *   check), so a paused old leader can never move a watermark back. Another instance takes over within a lease.
 * - **Budget.** Every vendor call takes a slot of a sliding one-minute window of `EVENTS_POLL_BUDGET_PER_MINUTE`;
 *   with none free the poller waits. One attempt per call (its own client, no read retries): the budget counts
 *   what the vendor receives.
 * - **Adaptive.** Each residence has an interval between `EVENTS_POLL_MIN_INTERVAL_MS` (after activity) and
 *   `EVENTS_POLL_MAX_INTERVAL_MS`, doubling while nothing happens; the most overdue residence goes first.
 * - **Backoff.** A vendor failure stops the tenant's polling for an exponentially growing, jittered delay.
 * - **Watermarks per source** (a residence's open-door history, its call history, its device list), persisted
 *   (Redis hash, fenced), so a restart or a new leader neither replays nor misses: a record at or after the
 *   watermark is appended (the log deduplicates by eventId), older ones are already in the log.
 *
 * Commands: `get_user_list` (002, 获取用户列表) to find residences; `get_akuvox_open_door_history`,
 * `get_akuvox_call_history` and `get_akuvox_device_list` (001_5b8afc7a7400404b.txt) per residence; per project,
 * `get_visitor_temp_key_list` then `get_visitor_temp_key_history` per key (000_ea6fedeba34c96fa.txt, 获取访客临时密码
 * 列表 / 获取访客临时密码历史记录), one call a step like every other source, a pass every fair interval.
 */
import type { Cluster, Redis } from "ioredis";
import type { AkubelaCredential } from "../auth/caller.js";
import type { EventsConfig } from "../config.js";
import { AkubelaClient, type VendorCallEvent } from "../datasources/akubela/client.js";
import { expectRows, mapAccessEvent, mapCall, mapDevice } from "../datasources/akubela/mappers.js";
import type { Logger } from "../logger.js";
import { connectRedis, Lease } from "./lease.js";
import type { EventLog } from "./log.js";
import { deviceStatusChange, fromCallRecord, fromOpenDoorRecord, fromVisitorKeyRecord, type AccessEventData } from "./model.js";

export interface PollerOptions {
  tenant: string;
  projectIds: string[];
  baseUrl: string;
  timeoutMs: number;
  credential: AkubelaCredential;
  config: EventsConfig;
  log: EventLog;
  logger: Logger;
  /** Redis for the lease and watermarks; without it this process is the only poller (demo mode). */
  redisUrl?: string;
  onCall?: (e: VendorCallEvent) => void;
}

interface Residence {
  projectId: string;
  residenceId: string;
  buildingId: string | null;
  intervalMs: number;
  dueAt: number;
}

/** A project's visitor-key pass: the keys still to list (next page) and to poll. */
interface VisitorKeyPass {
  projectId: string;
  dueAt: number;
  /** The next page of `get_visitor_temp_key_list` to read; null once the list is read. */
  listPage: number | null;
  keys: string[];
}

/** Watermark of a history source: the newest vendor time seen; of a device list: each device's last flag. */
type Watermark = { since: string } | { devices: Record<string, { online: boolean; generation: number }> };


/** A sliding one-minute window of vendor calls. */
export class CallBudget {
  private readonly calls: number[] = [];
  constructor(private readonly perMinute: number) {}
  /** Milliseconds until a call may be made (0: now). */
  waitMs(now = Date.now()): number {
    while (this.calls.length && this.calls[0]! <= now - 60_000) this.calls.shift();
    return this.calls.length < this.perMinute ? 0 : this.calls[0]! + 60_000 - now;
  }
  take(now = Date.now()): void {
    this.calls.push(now);
  }
  inWindow(now = Date.now()): number {
    this.waitMs(now);
    return this.calls.length;
  }
}

/** The exponential, jittered delay after `failures` consecutive vendor failures (full jitter, capped). */
export function backoffMs(failures: number, baseMs = 1000, capMs = 300_000, random = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class EventPoller {
  private readonly redis?: Redis | Cluster;
  private readonly lease: Lease;
  private readonly client: AkubelaClient;
  private readonly budget: CallBudget;
  private readonly watermarksKey: string;
  private readonly memoryWatermarks = new Map<string, string>();
  private residences: Residence[] = [];
  private visitorPasses: VisitorKeyPass[] = [];
  private discoveredAt = 0;
  private failures = 0;
  private pausedUntil = 0;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** Counters for tests, metrics and the benchmark. */
  readonly stats = { calls: 0, failures: 0, appended: 0 };

  constructor(private readonly options: PollerOptions) {
    this.client = new AkubelaClient({ baseUrl: options.baseUrl, timeoutMs: options.timeoutMs, readRetries: 0, logger: options.logger, onCall: options.onCall });
    this.budget = new CallBudget(options.config.pollBudgetPerMinute);
    const t = `{access-events}:poller:${options.tenant}`;
    this.watermarksKey = `${t}:watermarks`;
    this.redis = options.redisUrl ? connectRedis(options.redisUrl) : undefined;
    this.lease = new Lease(this.redis, `${t}:lease`, options.config.pollLeaseMs, options.logger, `event poller ${options.tenant}`);
  }

  get isLeader(): boolean {
    return this.lease.held;
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      let delay = 250;
      try {
        delay = await this.tick();
      } catch (error) {
        this.options.logger.warn("event poller tick failed", { error: error instanceof Error ? error.message : String(error) });
      }
      if (!this.stopped) this.timer = setTimeout(() => void (this.running = loop()), Math.max(20, delay));
    };
    this.running = loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => {});
    await this.lease.release();
    this.redis?.disconnect();
  }

  private async watermark(source: string): Promise<Watermark | undefined> {
    const raw = this.redis ? await this.redis.hget(this.watermarksKey, source) : this.memoryWatermarks.get(source);
    return raw ? (JSON.parse(raw) as Watermark) : undefined;
  }

  /** Writes a watermark if this poller's fence is still the newest; false when it is not (it lost the lead). */
  private async setWatermark(source: string, value: Watermark): Promise<boolean> {
    if (!this.redis) return void this.memoryWatermarks.set(source, JSON.stringify(value)), true;
    return this.lease.fencedHset(this.watermarksKey, source, JSON.stringify(value));
  }

  /** One vendor call within the budget (the caller checked a slot is free). */
  private async call(endpoint: "manager-commands" | "user-commands", command: string, param: Record<string, unknown>): Promise<unknown> {
    this.budget.take();
    this.stats.calls++;
    return this.client.send({ endpoint, command, param, kind: "read" }, await this.options.credential.token());
  }

  /** One step: lead, then at most one vendor call. Answers the delay before the next step. */
  async tick(): Promise<number> {
    if (!(await this.lease.hold())) return Math.max(200, Math.round(this.options.config.pollLeaseMs / 3));
    const now = Date.now();
    if (now < this.pausedUntil) return this.pausedUntil - now;
    const wait = this.budget.waitMs(now);
    if (wait > 0) return wait;
    try {
      if (this.residences.length === 0 || now - this.discoveredAt > 300_000) await this.discover();
      else await this.pollNext(now);
      this.failures = 0;
    } catch (error) {
      this.failures++;
      this.stats.failures++;
      this.pausedUntil = Date.now() + backoffMs(this.failures, 1000, Math.max(5000, this.options.config.pollMaxIntervalMs));
      this.options.logger.warn("event poller: vendor failed; backing off", { tenant: this.options.tenant, failures: this.failures, pauseMs: this.pausedUntil - Date.now(), error: (error as { code?: string }).code ?? "error" });
      return this.pausedUntil - Date.now();
    }
    const next = Math.min(...this.residences.map((r) => r.dueAt), Date.now() + 1000) - Date.now();
    return Math.max(this.budget.waitMs(), next, 0);
  }

  /** The interval the budget allows for `residences` residences (3 calls each), never below the minimum. */
  private fairInterval(count: number): number {
    const perMinute = this.options.config.pollBudgetPerMinute;
    return Math.min(this.options.config.pollMaxIntervalMs, Math.max(this.options.config.pollMinIntervalMs, Math.ceil((count * 3 * 60_000) / perMinute)));
  }

  private async discover(): Promise<void> {
    const found: Residence[] = [];
    for (const projectId of this.options.projectIds) {
      for (let page = 1; ; page++) {
        if (this.budget.waitMs() > 0) return; // the rest next time: the budget comes first
        const rows = expectRows(await this.call("manager-commands", "get_user_list", { project_id: projectId, page_size: 100, page_index: page }), "get_user_list");
        for (const row of rows) {
          const residenceId = typeof row.residence_id === "string" ? row.residence_id : null;
          if (residenceId && !found.some((r) => r.residenceId === residenceId)) {
            found.push({ projectId, residenceId, buildingId: typeof row.building_id === "string" ? row.building_id : null, intervalMs: 0, dueAt: 0 });
          }
        }
        if (rows.length < 100) break;
      }
    }
    const known = new Map(this.residences.map((r) => [r.residenceId, r]));
    const interval = this.fairInterval(found.length);
    this.residences = found.map((r) => known.get(r.residenceId) ?? { ...r, intervalMs: interval, dueAt: Date.now() });
    const passes = new Map(this.visitorPasses.map((v) => [v.projectId, v]));
    this.visitorPasses = this.options.projectIds.map((projectId) => passes.get(projectId) ?? { projectId, dueAt: Date.now(), listPage: 1, keys: [] });
    this.discoveredAt = Date.now();
  }

  private pollCursor = 0;

  /** The most overdue residence: one of its three sources, in turn; or a step of a due visitor-key pass. */
  private async pollNext(now: number): Promise<void> {
    const due = this.residences.filter((r) => r.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt)[0];
    const pass = this.visitorPasses.filter((v) => v.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt)[0];
    if (pass && (!due || pass.dueAt <= due.dueAt)) return this.visitorKeyStep(pass);
    if (!due) return;
    const sources = ["open_door", "call", "devices"] as const;
    const kind = sources[this.pollCursor++ % 3]!;
    const fresh = await this.pollSource(due, kind);
    if (kind === "devices" || fresh > 0) {
      const fair = this.fairInterval(this.residences.length);
      due.intervalMs = fresh > 0 ? fair : Math.min(this.options.config.pollMaxIntervalMs, Math.max(fair, due.intervalMs * 2));
      due.dueAt = Date.now() + due.intervalMs;
    }
    if (fresh > 0) due.dueAt = Date.now(); // active: its other sources right away, then the short interval
  }

  /** Polls one source; answers how many events it appended. */
  private async pollSource(r: Residence, kind: "open_door" | "call" | "devices"): Promise<number> {
    const source = `${kind}:${r.residenceId}`;
    const at = { projectId: r.projectId, residenceId: r.residenceId, buildingId: r.buildingId };
    const received = new Date();
    const mark = await this.watermark(source);
    let events: AccessEventData[] = [];
    let next: Watermark;
    if (kind === "devices") {
      const rows = expectRows(await this.call("user-commands", "get_akuvox_device_list", { residence_id: r.residenceId }), "get_akuvox_device_list");
      const previous = mark && "devices" in mark ? mark.devices : undefined;
      const devices: Record<string, { online: boolean; generation: number }> = {};
      for (const row of rows) {
        const d = mapDevice(row, r.projectId, r.residenceId);
        if (!d || d.online === null) continue;
        const before = previous?.[d.mac];
        const generation = before ? before.generation + (before.online !== d.online ? 1 : 0) : 0;
        devices[d.mac] = { online: d.online, generation };
        if (before && before.online !== d.online) {
          events.push(deviceStatusChange({ projectId: r.projectId, deviceId: d.mac, deviceName: d.name, buildingId: d.buildingId, residenceId: d.isPublic ? null : r.residenceId, vendor: "akubela" }, d.online, generation, received));
        }
      }
      next = { devices };
    } else {
      const command = kind === "open_door" ? "get_akuvox_open_door_history" : "get_akuvox_call_history";
      const rows = expectRows(await this.call("user-commands", command, { residence_id: r.residenceId }), command);
      // First sight of a source: its past is history, not news; from a second before now on it is.
      const since = mark && "since" in mark ? mark.since : new Date(received.getTime() - 1000).toISOString();
      const all = kind === "open_door" ? rows.map((row) => fromOpenDoorRecord(mapAccessEvent(row), at, received)) : rows.map((row) => fromCallRecord(mapCall(row), at, received));
      events = all.filter((e) => e.occurredAt >= since).reverse(); // the vendor answers newest first
      const newest = all.reduce((m, e) => (e.occurredAt > m ? e.occurredAt : m), since);
      next = { since: newest };
    }
    // Append before moving the watermark: a crash in between replays into the log's dedup, never loses.
    const appended = await this.options.log.append(events);
    this.stats.appended += appended.length;
    await this.setWatermark(source, next);
    return appended.length;
  }

  /**
   * One call of a project's visitor-key pass: a page of the key list, else one key's history (newest first, its
   * first page: a key is used a few times a day at most). The pass ends when every key was read; the next starts a
   * fair interval later, sooner after activity.
   */
  private async visitorKeyStep(pass: VisitorKeyPass): Promise<void> {
    if (pass.listPage !== null) {
      const command = "get_visitor_temp_key_list";
      const rows = expectRows(await this.call("manager-commands", command, { project_id: pass.projectId, page_size: 100, page_index: pass.listPage }), command);
      for (const row of rows) if (typeof row.visitor_temp_key_id === "string") pass.keys.push(row.visitor_temp_key_id);
      pass.listPage = rows.length < 100 ? null : pass.listPage + 1;
      if (pass.listPage !== null || pass.keys.length > 0) return;
    } else {
      const keyId = pass.keys.shift()!;
      const source = `visitor_key:${pass.projectId}:${keyId}`;
      const received = new Date();
      const mark = await this.watermark(source);
      const command = "get_visitor_temp_key_history";
      const rows = expectRows(await this.call("manager-commands", command, { project_id: pass.projectId, visitor_temp_key_id: keyId, page_size: 20, page_index: 1 }), command);
      const since = mark && "since" in mark ? mark.since : new Date(received.getTime() - 1000).toISOString();
      const all = rows.map((row) => fromVisitorKeyRecord(mapAccessEvent(row), { projectId: pass.projectId, visitorTempKeyId: keyId }, received));
      const appended = await this.options.log.append(all.filter((e) => e.occurredAt >= since).reverse());
      this.stats.appended += appended.length;
      await this.setWatermark(source, { since: all.reduce((m, e) => (e.occurredAt > m ? e.occurredAt : m), since) });
      if (appended.length > 0) pass.dueAt = 0; // active: the next pass as soon as this one ends
      if (pass.keys.length > 0) return;
    }
    pass.dueAt = pass.dueAt === 0 ? Date.now() + this.options.config.pollMinIntervalMs : Date.now() + this.fairInterval(this.residences.length);
    pass.listPage = 1;
  }

  /** For the benchmark: calls in the last minute against the budget. */
  callsInLastMinute(): number {
    return this.budget.inWindow();
  }
}
