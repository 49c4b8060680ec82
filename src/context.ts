import type { Caller, CallerSources } from "./auth/caller.js";
import type { Config } from "./config.js";
import type { AkubelaClient } from "./datasources/akubela/client.js";
import type { Cache } from "./cache/cache.js";
import type { ReadThrough } from "./cache/read-through.js";
import { AKUBELA_CACHED_COMMANDS, AkubelaDataSource } from "./datasources/akubela/datasource.js";
import type { AliyunClient } from "./datasources/aliyun/client.js";
import { AliyunDataSource } from "./datasources/aliyun/datasource.js";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";
import type { SiteMap } from "./site-map.js";

export type { Caller } from "./auth/caller.js";

/** Everything one GraphQL request sees: built per request, so loaders never leak data between callers. */
export interface GraphContext {
  requestId: string;
  caller: Caller;
  logger: Logger;
  config: Config;
  akubela: AkubelaDataSource;
  aliyun: AliyunDataSource;
  /** The shared cache (idempotency records, locks). */
  cache: Cache;
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
  /** Cache scope of the Aliyun reads: a hash of the app key that fetches them. */
  aliyunCacheScope: string;
  /** How callers are recognised: API keys, whether vendor tokens are accepted, the server's Akubela credential. */
  callers: CallerSources;
  metrics: Metrics;
  /** What `/readyz` probes. */
  readiness: { akubelaUrl: string; aliyunUrl: string; /** The server's own Akubela token: `ok` or what stops it. */ akubelaToken?: () => string };
}

export function createContext(deps: ServerDeps, requestId: string, caller: Caller): GraphContext {
  const { cache } = deps.config;
  return {
    requestId,
    caller,
    cache: deps.readThrough.cache,
    logger: deps.logger.child({ requestId }),
    config: deps.config,
    akubela: new AkubelaDataSource(deps.akubelaClient, caller.akubela, {
      concurrency: deps.config.akubela.concurrency,
      pageSize: deps.config.akubela.pageSize,
      naive: deps.config.naive,
      onBatch: (loader, size) => deps.metrics.loaderBatchSize.observe({ loader }, size),
      cache: {
        readThrough: deps.readThrough,
        ttlMs: Object.fromEntries(AKUBELA_CACHED_COMMANDS.map((c) => [c, cache.deviceListTtlMs])),
        staleMs: cache.staleMs,
        bypass: Boolean(caller.bypassCache),
      },
    }),
    aliyun: new AliyunDataSource(deps.aliyunClient, deps.siteMap, {
      // The gateway is called with the server's app key: only for callers the facade itself authenticated.
      gatewayAllowed: caller.kind === "api-key",
      naive: deps.config.naive,
      onBatch: (loader, size) => deps.metrics.loaderBatchSize.observe({ loader }, size),
      concurrency: deps.config.aliyun.concurrency,
      timeZone: deps.config.aliyun.timeZone,
      cache: {
        readThrough: deps.readThrough,
        scope: deps.aliyunCacheScope,
        ttlMs: { userGet: cache.personTtlMs, keepOpenGet: cache.keepOpenTtlMs },
        staleMs: cache.staleMs,
        bypass: Boolean(caller.bypassCache),
      },
    }),
  };
}
