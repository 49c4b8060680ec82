import { KnownGoodTokens } from "./auth/known-tokens.js";
import type { Caller, CallerSources } from "./auth/caller.js";
import type { Config } from "./config.js";
import type { AkubelaClient } from "./datasources/akubela/client.js";
import type { Cache } from "./cache/cache.js";
import type { InFlightReads, ReadThrough } from "./cache/read-through.js";
import { ReadRecord } from "./cache/response-memo.js";
import { OperationBudget } from "./datasources/base.js";
import type { VendorBudgets } from "./datasources/budget.js";
import { AKUBELA_ACCESS_INFO_COMMAND, AKUBELA_CACHED_COMMANDS, AKUBELA_USER_LIST_COMMANDS, AkubelaDataSource } from "./datasources/akubela/datasource.js";
import type { AliyunClient } from "./datasources/aliyun/client.js";
import { AliyunDataSource } from "./datasources/aliyun/datasource.js";
import { ProjectGuard, type ProjectGrant } from "./datasources/guard.js";
import type { IdempotencyStore } from "./idempotency/store.js";
import type { Logger } from "./logger.js";
import type { EventLog } from "./events/log.js";
import type { WebhookService } from "./events/webhooks.js";
import type { Metrics } from "./metrics.js";
import type { SiteMap } from "./site-map.js";
import { TurnSlicer } from "./lib/turns.js";

export type { Caller } from "./auth/caller.js";

/** Everything one GraphQL request sees: built per request, so loaders never leak data between callers. */
export interface GraphContext {
  requestId: string;
  caller: Caller;
  logger: Logger;
  config: Config;
  /** The projects this caller may see: what every data-source command is checked against. */
  projects: ProjectGrant;
  akubela: AkubelaDataSource;
  aliyun: AliyunDataSource;
  /** The shared cache (locks, counters). */
  cache: Cache;
  /** Idempotency records: a store of their own that fails closed (`src/idempotency/`). */
  idempotency: IdempotencyStore;
  /** The access-event log (src/events): mutations publish to it, feeds and subscriptions read it. */
  events?: EventLog;
  /** Webhook endpoints and deliveries; absent when off (production without a sealing key). */
  webhooks?: WebhookService;
  /** The site map (which project an Aliyun device is in). */
  siteMap: SiteMap;
  /** What this request read from the shared cache (the response memo keeps an answer only when all came from it). */
  reads: ReadRecord;
  /**
   * Spreads this request's large bursts of resolution across turns of the event loop: resolvers that fan out under a
   * list (a residence's accounts and devices, a building's residences) ask it first (src/lib/turns.ts).
   */
  turns: TurnSlicer;
  /** Set once a request was counted by the rate limit: the later pages of one export are not counted again. */
  rateLimitCounted?: boolean;
}

/** Long-lived parts shared by every request. */
export interface ServerDeps {
  config: Config;
  logger: Logger;
  akubelaClient: AkubelaClient;
  aliyunClient: AliyunClient;
  siteMap: SiteMap;
  /** The shared cache (Redis, or in-process without one). */
  readThrough: ReadThrough;
  /** The per-tenant vendor budgets of this instance (VENDOR_MAX_IN_FLIGHT, VENDOR_MAX_PER_SECOND). */
  budgets: VendorBudgets;
  /** Identical reads in flight across requests, sent once per tenant. */
  flights: InFlightReads;
  /** Cache scope of the Aliyun reads: an HMAC of the app key that fetches them, keyed with its secret. */
  aliyunCacheScope: string;
  /** Callers' own tokens the vendor accepted lately (BEARER_VERIFY_SECONDS). */
  knownTokens?: KnownGoodTokens;
  /** How callers are recognised: API keys, whether vendor tokens are accepted, the server's Akubela credential. */
  callers: CallerSources;
  metrics: Metrics;
  /** Idempotency records (Redis when configured, else this process's bounded store). */
  idempotency: IdempotencyStore;
  /** The access-event log (src/events). */
  events?: EventLog;
  /** Webhook endpoints and deliveries (src/events/webhooks.ts). */
  webhooks?: WebhookService;
  /** What `/readyz` probes. */
  readiness: { akubelaUrl: string; aliyunUrl: string; /** The server's own Akubela token: `ok` or what stops it. */ akubelaToken?: () => string };
}

/**
 * The projects a caller may see: an API key's own list (or `*`); everything for a caller with its own vendor token
 * (the vendor decides what the token reaches, and the data sources still check each object against the project it
 * is addressed in, from that token's own view of the vendor's data); nothing for anyone else.
 */
export function grantOf(caller: Caller): ProjectGrant {
  if (caller.kind === "api-key" && caller.apiKey) return caller.apiKey.projects;
  if (caller.kind === "vendor-token") return "*";
  return new Set();
}

const ttlsOf = new WeakMap<Config, Partial<Record<string, number>>>();

/** How long each cached Akubela command lives, from the configuration (worked out once, not per request). */
function akubelaTtls(config: Config): Partial<Record<string, number>> {
  let ttls = ttlsOf.get(config);
  if (!ttls) {
    const { cache } = config;
    ttls = {
      ...Object.fromEntries(AKUBELA_CACHED_COMMANDS.map((c) => [c, cache.deviceListTtlMs])),
      ...Object.fromEntries(AKUBELA_USER_LIST_COMMANDS.map((c) => [c, cache.userListTtlMs])),
      [AKUBELA_ACCESS_INFO_COMMAND]: cache.accessInfoTtlMs,
    };
    ttlsOf.set(config, ttls);
  }
  return ttls;
}

/**
 * How long a request's resolution may hold the event loop before its waiting resolvers go on at a later turn: a
 * vendor answer that arrives meanwhile waits at most about this long to be read, and so does every other request.
 */
const TURN_SLICE_MS = 8;

/** Used when the deps carry none (a test building its own): every token is proven on each request. */
const fallbackKnownTokens = new KnownGoodTokens(0);

export function createContext(deps: ServerDeps, requestId: string, caller: Caller): GraphContext {
  const { cache } = deps.config;
  const projects = grantOf(caller);
  const guard = new ProjectGuard(projects, caller.apiKey ? `the API key "${caller.apiKey.name}"` : "this caller");
  const bearer = caller.kind === "vendor-token" && caller.akubela ? caller.akubela.scope : undefined;
  const known = deps.knownTokens ?? fallbackKnownTokens;
  const reads = new ReadRecord();
  const common = {
    guard,
    ...(bearer ? { credentialCheck: { known: () => known.isGood(bearer), accepted: () => known.mark(bearer), refused: () => known.forget(bearer) } } : {}),
    naive: deps.config.naive,
    budgets: deps.budgets,
    flights: deps.flights,
    operation: new OperationBudget(deps.config.limits.maxVendorCallsPerOperation),
    onBatch: (loader: string, size: number) => deps.metrics.loaderBatchSize.observe({ loader }, size),
    cache: { readThrough: deps.readThrough, staleMs: cache.staleMs, bypass: Boolean(caller.bypassCache), record: reads },
  };
  const akubela = new AkubelaDataSource(deps.akubelaClient, caller.akubela, {
    ...common,
    pageSize: deps.config.akubela.pageSize,
    ttlMs: akubelaTtls(deps.config),
    membershipTtlMs: cache.membershipTtlMs,
  });
  // Built on first use: most operations touch one vendor, and a data source with its loaders is not free.
  let aliyun: AliyunDataSource | undefined;
  const aliyunSource = () =>
    new AliyunDataSource(deps.aliyunClient, deps.siteMap, {
      ...common,
      // The gateway is called with the server's app key: only for callers the facade itself authenticated.
      gatewayAllowed: caller.kind === "api-key",
      timeZone: deps.config.aliyun.timeZone,
      scope: deps.aliyunCacheScope,
      ttlMs: { userGet: cache.personTtlMs, keepOpenGet: cache.keepOpenTtlMs, userPermQuery: cache.cardPermissionsTtlMs, devicePermQuery: cache.cardPermissionsTtlMs },
      // Persons are linked to Akubela accounts: their project is the account's, as its project's user list says.
      accounts: akubela,
    });
  return {
    requestId,
    caller,
    projects,
    reads,
    turns: new TurnSlicer(TURN_SLICE_MS),
    cache: deps.readThrough.cache,
    idempotency: deps.idempotency,
    logger: deps.logger.child({ requestId }),
    config: deps.config,
    events: deps.events,
    webhooks: deps.webhooks,
    siteMap: deps.siteMap,
    akubela,
    get aliyun() {
      return (aliyun ??= aliyunSource());
    },
  };
}
