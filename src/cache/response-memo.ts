import { createHash } from "node:crypto";
import type { ApolloServerPlugin } from "@apollo/server";
import { Kind, type OperationDefinitionNode } from "graphql";
import type { ApiKey } from "../auth/api-keys.js";
import type { GraphContext } from "../context.js";
import { deepFreeze } from "../lib/derived.js";
import { stableStringify } from "../lib/stable-stringify.js";
import type { Metrics } from "../metrics.js";
import type { Cache } from "./cache.js";

/** Shared-cache reads one answer may depend on and still be kept (a bigger answer is executed every time). */
export const MAX_DEPENDENCIES = 256;

/**
 * What one GraphQL request read from the shared cache, for {@link ResponseMemo}: each key and the exact string the
 * store held, and until when that value was fresh. Any read the memo could not check again later taints it: a vendor
 * call (a miss, a command that is never cached, a write), a value served stale or bypassed, a read joined to another
 * request's flight (whose cache reads are recorded there), the same key seen holding two strings.
 */
export class ReadRecord {
  private readonly seen = new Map<string, string | undefined>();
  private tainted = false;
  /** The earliest time one of the values read stops being fresh (epoch ms). */
  freshUntil = Number.POSITIVE_INFINITY;

  /** A value served from the store: `raw` as the store held it, fresh until `freshUntil`; `also`: read with it. */
  track(key: string, raw: string, freshUntil: number, also?: readonly [key: string, raw: string | undefined]): void {
    if (this.tainted) return;
    this.note(key, raw);
    if (also) this.note(also[0], also[1]);
    if (freshUntil < this.freshUntil) this.freshUntil = freshUntil;
    if (this.seen.size > MAX_DEPENDENCIES) this.taint();
  }

  /** Something was read that the memo cannot check again: the request's answer is not kept. */
  taint(): void {
    this.tainted = true;
    this.seen.clear();
  }

  /** The reads, when every one of them can be checked again; `undefined` when tainted or nothing was read. */
  dependencies(): { key: string; raw: string | undefined }[] | undefined {
    if (this.tainted || this.seen.size === 0) return undefined;
    return [...this.seen].map(([key, raw]) => ({ key, raw }));
  }

  private note(key: string, raw: string | undefined): void {
    if (this.seen.has(key) && this.seen.get(key) !== raw) this.taint();
    else this.seen.set(key, raw);
  }
}

interface MemoEntry {
  /** The API key the answer was computed for (the very object: a reloaded key file starts afresh). */
  owner: ApiKey;
  /**
   * What is checked on a hit: for a store that compares on its side ({@link Cache.sameValues}) each key and its
   * value's SHA-1 (the values themselves are not kept); otherwise each key and the exact string it held.
   */
  check: { digests: { key: string; sha1: string }[] } | { values: { key: string; raw: string | undefined }[] };
  freshUntil: number;
  data: Record<string, unknown>;
  /** Characters of the values it was built from: a stand-in for its size. */
  weight: number;
}

/**
 * Answers of fully cached queries, kept per API key and operation (issue 16's cached-query overhead): a query whose
 * every read came fresh from the shared cache is answered again without executing it, as long as the store still
 * holds each value it was built from, byte for byte, and none is past its TTL. The store is asked on every hit (in
 * memory and on a Redis Cluster one read per dependency, as execution would; on a single Redis one script comparing
 * each value's SHA-1 there), so a write on any instance (a version bump and a delete, a group's new generation) and an
 * expiry are seen at once; nothing is answered that executing the query would not answer.
 * In this process's memory only, bounded by entries and by the size of the values it was built from.
 */
export class ResponseMemo {
  private readonly entries = new Map<string, MemoEntry>();
  private weight = 0;

  constructor(
    private readonly cache: Cache,
    private readonly maxEntries: number,
    private readonly maxWeight: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The kept answer for `key`, when `owner` computed it and every value it was built from is still the same. */
  async lookup(key: string, owner: ApiKey): Promise<Record<string, unknown> | undefined> {
    const entry = this.entries.get(key);
    if (!entry || entry.owner !== owner) return undefined;
    if (this.now() > entry.freshUntil) return this.drop(key, entry);
    const { check } = entry;
    if ("digests" in check) {
      // Redis: compared there, one round trip, no value sent back.
      if (!(await this.cache.sameValues!(check.digests))) return this.drop(key, entry);
    } else {
      const raws = await Promise.all(check.values.map((d) => this.cache.get(d.key)));
      for (let i = 0; i < raws.length; i++) if (raws[i] !== check.values[i]!.raw) return this.drop(key, entry);
    }
    // Checked after the reads too: a value may have expired while they were answered.
    if (this.now() > entry.freshUntil) return this.drop(key, entry);
    return entry.data;
  }

  store(key: string, owner: ApiKey, record: ReadRecord, data: Record<string, unknown>): boolean {
    const dependencies = record.dependencies();
    if (!dependencies || this.maxEntries <= 0 || this.now() > record.freshUntil) return false;
    const weight = dependencies.reduce((sum, d) => sum + key.length + d.key.length + (d.raw?.length ?? 0), 0);
    if (weight > this.maxWeight / 4) return false;
    const old = this.entries.get(key);
    if (old) this.drop(key, old);
    const check = this.cache.sameValues
      ? { digests: dependencies.map((d) => ({ key: d.key, sha1: d.raw === undefined ? "-" : createHash("sha1").update(d.raw).digest("hex") })) }
      : { values: dependencies };
    this.entries.set(key, { owner, check, freshUntil: record.freshUntil, data: deepFreeze(data), weight });
    this.weight += weight;
    // The oldest first (Map order is insertion order).
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.weight <= this.maxWeight) break;
      this.drop(k, e);
    }
    return true;
  }

  private drop(key: string, entry: MemoEntry): undefined {
    if (this.entries.get(key) === entry) {
      this.entries.delete(key);
      this.weight -= entry.weight;
    }
    return undefined;
  }
}

/**
 * Root fields whose answers come only from the vendors' data (through the data sources, hence the shared cache).
 * The others read what the memo cannot check: the access-event log, webhook endpoints, `node` and `_entities` (any
 * type, those included).
 */
const MEMO_ROOT_FIELDS = new Set([
  "__typename",
  "project",
  "projects",
  "residence",
  "account",
  "visitorTempKey",
  "accountsReport",
  "devicesReport",
  "credentialsReport",
  "accessEventsReport",
  "aliyunDevice",
  "aliyunPerson",
  "aliyunPersons",
]);

function memoizable(operation: OperationDefinitionNode): boolean {
  if (operation.operation !== "query") return false;
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || !MEMO_ROOT_FIELDS.has(selection.name.value)) return false;
  }
  return true;
}

/**
 * The Apollo plugin over a {@link ResponseMemo}: runs after parsing, validation, the query limits and the
 * authorization policy (all in `didResolveOperation`), so a kept answer is never served past them. Only for
 * callers with an API key (a caller's own vendor token is proven to the vendor, which the memo would skip), never
 * when the caller asked for fresh data (`Cache-Control: no-cache`) or for a federated trace, never for mutations or
 * subscriptions, never for an answer with errors.
 */
export function responseMemoPlugin(memo: ResponseMemo, metrics: Metrics): ApolloServerPlugin<GraphContext> {
  const count = (outcome: "hit" | "miss" | "stored") => metrics.responseMemo.inc({ outcome });
  return {
    async requestDidStart() {
      let memoKey: string | undefined;
      return {
        async responseForOperation({ contextValue, operation, operationName, queryHash, request, response }) {
          const { caller } = contextValue;
          if (caller.kind !== "api-key" || !caller.apiKey || caller.bypassCache || contextValue.config.naive) return null;
          if (request.http?.headers.get("apollo-federation-include-trace") !== undefined || !memoizable(operation)) return null;
          const key = `${caller.id}\0${operationName ?? ""}\0${queryHash}\0${stableStringify(request.variables ?? {})}`;
          const data = await memo.lookup(key, caller.apiKey);
          if (!data) {
            memoKey = key;
            count("miss");
            return null;
          }
          count("hit");
          return { http: response.http, body: { kind: "single", singleResult: { data } } };
        },
        async willSendResponse({ contextValue, response, errors }) {
          if (memoKey === undefined || errors?.length || response.body.kind !== "single") return;
          const { data, errors: resultErrors, extensions } = response.body.singleResult;
          if (!data || resultErrors?.length || extensions !== undefined) return;
          if (contextValue.reads && memo.store(memoKey, contextValue.caller.apiKey!, contextValue.reads, data)) count("stored");
        },
      };
    },
  };
}
