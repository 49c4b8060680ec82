import DataLoader from "dataloader";
import type { ReadThrough } from "../cache/read-through.js";
import { UpstreamError } from "../errors.js";
import { ConcurrencyLimit } from "../lib/concurrency.js";
import type { ProjectGuard } from "./guard.js";

/** What both vendors' data sources are built with. */
export interface VendorDataSourceOptions {
  /** Vendor commands this request may have in flight at once. */
  concurrency: number;
  /** Benchmark baseline: no deduplication, no shared pages (see Config.naive). */
  naive?: boolean;
  /** Reports each DataLoader batch's size (metrics). */
  onBatch?: (loader: string, size: number) => void;
  /** The shared cache; `bypass` when the caller asked for fresh data (`Cache-Control: no-cache`). */
  cache?: { readThrough: ReadThrough; staleMs: number; bypass: boolean };
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
}

/**
 * The part of a data source both vendors share (modelled on `datasource-rest`'s abstract class with protected
 * hooks): the per-request reads loader (one send per distinct read, all reads of a tick dispatched together under
 * a concurrency bound), the read-through of the shared cache, the naive switch, the write path (never retried;
 * whatever its outcome, this request's answers are dropped so later fields read the vendor again) and the guard.
 * Each vendor supplies how to send a request, how to key it in the loader, and which reads the shared cache keeps.
 */
export abstract class VendorDataSource<R extends VendorRequest> {
  protected readonly guard: ProjectGuard;
  private readonly limit: ConcurrencyLimit;
  private readonly reads: DataLoader<R, unknown, string>;

  protected constructor(
    /** Loader name in the metrics (`akubela.reads`). */
    loaderName: string,
    protected readonly base: VendorDataSourceOptions,
  ) {
    this.guard = base.guard;
    this.limit = new ConcurrencyLimit(base.concurrency);
    this.reads = new DataLoader(
      (requests) => {
        base.onBatch?.(loaderName, requests.length);
        return Promise.all(requests.map((r) => this.fetch(r).catch((error: unknown) => toError(error))));
      },
      { cacheKeyFn: (r) => this.loaderKey(r), ...this.naiveLoader() },
    );
  }

  /** Sends one request to the vendor (credential, signing and envelope are the vendor's). */
  protected abstract send(request: R): Promise<unknown>;

  /** The identity of a read within the request: same key, one send. */
  protected abstract loaderKey(request: R): string;

  /** Where the shared cache keeps this read's answer and for how long; `undefined`: not kept. */
  protected abstract sharedCache(request: R): { key: string; ttlMs: number } | undefined;

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

  /** Sends through the concurrency bound, telling the credential check what the vendor said of the token. */
  private checkedSend(request: R): Promise<unknown> {
    const check = this.base.credentialCheck;
    const sent = this.limit.run(() => this.send(request));
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

  /** One read from the vendor, through the shared cache when the read is kept there. */
  protected fetch(request: R, bypass = this.base.cache?.bypass ?? false): Promise<unknown> {
    const send = () => this.checkedSend(request);
    const cache = this.base.cache;
    const kept = cache ? this.sharedCache(request) : undefined;
    if (!cache || !kept || !kept.ttlMs) return send();
    return cache.readThrough.read(kept.key, { ttlMs: kept.ttlMs, staleMs: cache.staleMs, bypass }, send);
  }

  /** One write: sent once, never retried; this request's answers are dropped whatever the outcome. */
  protected async write(request: R): Promise<unknown> {
    try {
      return await this.checkedSend(request);
    } finally {
      this.forget();
    }
  }

  /** Removes shared-cache entries a write made stale. */
  protected async invalidate(...keys: string[]): Promise<void> {
    await this.base.cache?.readThrough.invalidate(...keys);
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
