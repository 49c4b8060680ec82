import DataLoader from "dataloader";
import type { InFlightReads, ReadThrough } from "../cache/read-through.js";
import type { ReadRecord } from "../cache/response-memo.js";
import { RequestLimitError, UpstreamError, type Vendor } from "../errors.js";
import type { TenantBudget, VendorBudgets } from "./budget.js";
import type { ProjectGuard } from "./guard.js";

/** The vendor calls one GraphQL operation may still send (MAX_VENDOR_CALLS_PER_OPERATION), shared by its data sources. */
export class OperationBudget {
  used = 0;
  constructor(readonly limit: number) {}

  /** Counts one call, or throws REQUEST_LIMIT_EXCEEDED when the operation has none left. */
  spend(): void {
    if (this.used >= this.limit) throw new RequestLimitError(this.limit);
    this.used++;
  }
}

/** What both vendors' data sources are built with. */
export interface VendorDataSourceOptions {
  /** The instance's per-tenant vendor budgets (calls in flight, per second), shared by every request. */
  budgets: VendorBudgets;
  /** Identical reads in flight across requests of the instance, sent once (not in the naive baseline). */
  flights?: InFlightReads;
  /** The vendor calls left to this GraphQL operation (both vendors together). */
  operation?: OperationBudget;
  /** Benchmark baseline: no deduplication, no shared pages (see Config.naive). */
  naive?: boolean;
  /** Reports each DataLoader batch's size (metrics). */
  onBatch?: (loader: string, size: number) => void;
  /** The shared cache; `bypass` when the caller asked for fresh data (`Cache-Control: no-cache`). */
  cache?: { readThrough: ReadThrough; staleMs: number; bypass: boolean; /** The request's reads, for the response memo. */ record?: ReadRecord };
  /** What the caller may see: asked before every command is sent. */
  guard: ProjectGuard;
  /**
   * A caller's own vendor token (not the server's credential): told when the vendor accepts it (any command
   * answered) or refuses it (UNAUTHENTICATED), so the facade knows whether it may answer that token from the cache.
   */
  credentialCheck?: { known(): boolean; accepted(): void; refused(): void };
}

/** A vendor request: a read (deduplicated, maybe cached, retried by the client) or a write (never). */
export interface VendorRequest {
  kind: "read" | "write";
  /**
   * A read that must come from the vendor, past the shared cache (its answer is still stored): a membership index
   * rebuilt because a lookup missed. Part of the read's identity within the request.
   */
  fresh?: boolean;
  /** A read that later reads of the request wait for (a list's next page): first of its request's queued reads. */
  lead?: boolean;
}

/**
 * The part of a data source both vendors share (modelled on `datasource-rest`'s abstract class with protected
 * hooks): the per-request reads loader (one send per distinct read, all reads of a tick dispatched together), the
 * coalescing of identical reads in flight across requests of the same tenant, the tenant's vendor budget (shared by
 * every request; writes ahead of queued reads, requests served in turn), the operation's call budget, the
 * read-through of the shared cache, the naive switch, the write path (never retried, never coalesced; whatever its
 * outcome, this request's answers are dropped so later fields read the vendor again) and the guard.
 * Each vendor supplies how to send a request, how to key it in the loader, its tenant scope, and which reads the
 * shared cache keeps.
 */
export abstract class VendorDataSource<R extends VendorRequest> {
  protected readonly guard: ProjectGuard;
  private readonly reads: DataLoader<R, unknown, string>;

  protected constructor(
    private readonly vendor: Vendor,
    protected readonly base: VendorDataSourceOptions,
  ) {
    const loaderName = `${vendor}.reads`;
    this.guard = base.guard;
    this.reads = new DataLoader(
      (requests) => {
        base.onBatch?.(loaderName, requests.length);
        return Promise.all(requests.map((r) => (r.fresh ? this.fetch(r, true) : this.fetch(r)).catch(toError)));
      },
      { cacheKeyFn: (r) => this.loaderKey(r), ...this.naiveLoader() },
    );
  }

  /** Sends one request to the vendor (credential, signing and envelope are the vendor's). */
  protected abstract send(request: R): Promise<unknown>;

  /** The identity of a read within the request: same key, one send. */
  protected abstract loaderKey(request: R): string;

  /**
   * The tenant the credential of this data source is (`serverScope` / `bearerScope`): what the vendor budget and the
   * cross-request coalescing are keyed by, so two tenants never share a call.
   */
  protected abstract tenantScope(): string;

  /**
   * Where the shared cache keeps this read's answer and for how long; `undefined`: not kept. `staleMs` overrides
   * CACHE_STALE_SECONDS (0: never served past its TTL); `group` is invalidated as a whole by {@link invalidateGroups};
   * `secret`: the value holds PIN or card numbers (sealed in Redis, see ReadOptions.secret).
   */
  protected abstract sharedCache(request: R): { key: string; ttlMs: number; staleMs?: number; group?: string; secret?: boolean } | undefined;

  /** Called by {@link forget}: drop the vendor's own per-request lists. */
  protected abstract forgetLists(): void;

  /** DataLoader options of the naive baseline (no cache, no batch). */
  protected naiveLoader(): { cache?: false; batch?: false } {
    return this.base.naive ? { cache: false, batch: false } : {};
  }

  /** A per-request list shared by every field asking for it (not kept in the naive baseline). */
  protected shared<K, V>(lists: Map<K, V>, key: K, create: () => V): V {
    let list = lists.get(key);
    if (!list) {
      list = create();
      if (!this.base.naive) lists.set(key, list);
    }
    return list;
  }

  /** One read, deduplicated within the request. */
  protected read(request: R): Promise<unknown> {
    return this.reads.load(request);
  }

  private budget(): TenantBudget {
    return this.base.budgets.of(this.vendor, this.tenantScope());
  }

  /**
   * Sends within the operation's call budget and the tenant's vendor budget (this data source is the request's turn
   * in it), telling the credential check what the vendor said of the token. Not `async`: a read queued in the budget
   * holds no frame of its own here.
   */
  private checkedSend(request: R): Promise<unknown> {
    // What the vendor answers now is nothing the response memo can check again later.
    this.base.cache?.record?.taint();
    try {
      this.base.operation?.spend();
    } catch (error) {
      return Promise.reject(error);
    }
    const check = this.base.credentialCheck;
    const sent = this.budget().run(this, request.kind, () => this.send(request), request.lead === true);
    if (!check) return sent;
    return sent.then(
      (value) => {
        check.accepted();
        return value;
      },
      (error: unknown) => {
        if (error instanceof UpstreamError && error.extensions.code === "UNAUTHENTICATED") check.refused();
        else if (isVendorRejection(error)) check.accepted(); // the vendor answered the token: it was accepted
        throw error;
      },
    );
  }

  /**
   * One read from the vendor, through the shared cache when the read is kept there; joined to the same read of the
   * same tenant when one is in flight for any request of the instance (a fresh read only joins a fresh one).
   */
  protected fetch(request: R, bypass = this.base.cache?.bypass ?? false): Promise<unknown> {
    const flights = this.base.naive ? undefined : this.base.flights;
    if (!flights) return this.cachedFetch(request, bypass);
    const key = `${this.tenantScope()}|${this.vendor}|${bypass ? "fresh" : "any"}|${this.loaderKey(request)}`;
    let ran = false;
    const answer = flights.run(key, () => {
      ran = true;
      return this.cachedFetch(request, bypass);
    });
    // Joined to another request's read: its cache reads were recorded there, not here.
    if (!ran) this.base.cache?.record?.taint();
    return answer;
  }

  private cachedFetch(request: R, bypass: boolean): Promise<unknown> {
    const send = () => this.checkedSend(request);
    const cache = this.base.cache;
    const kept = cache ? this.sharedCache(request) : undefined;
    if (!cache || !kept || !kept.ttlMs) return send();
    return cache.readThrough.read(kept.key, { ttlMs: kept.ttlMs, staleMs: kept.staleMs ?? cache.staleMs, bypass, group: kept.group, secret: kept.secret, record: cache.record }, send);
  }

  /** One write: sent once, never retried; this request's answers are dropped whatever the outcome. */
  protected async write(request: R): Promise<unknown> {
    try {
      return await this.checkedSend(request);
    } finally {
      this.forget();
      this.base.flights?.detach(this.tenantScope());
    }
  }

  /** Removes shared-cache entries a write made stale. */
  protected async invalidate(...keys: string[]): Promise<void> {
    await this.base.cache?.readThrough.invalidate(...keys);
  }

  /** Makes whole groups of shared-cache entries stale (on every instance sharing the cache). */
  protected async invalidateGroups(...groups: string[]): Promise<void> {
    await this.base.cache?.readThrough.invalidateGroups(...groups);
  }

  /**
   * Lets go of the vendor answers this request's loader holds, keeping its lists (user-list pages, residences): an
   * export between its pages, whose next page needs none of the previous page's answers (src/reports/export.ts).
   */
  releaseAnswers(): void {
    this.reads.clearAll();
  }

  /** Drops every answer this request holds (after a write). */
  forget(): void {
    this.reads.clearAll();
    this.forgetLists();
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** True for a failure that is the vendor saying no (a `userErrors` case), not an infrastructure failure. */
export function isVendorRejection(error: unknown): boolean {
  return error instanceof UpstreamError && error.isVendorRejection && !String(error.upstream.vendorCode).startsWith("GATEWAY_");
}
