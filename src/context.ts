import type { Config } from "./config.js";
import type { AkubelaClient } from "./datasources/akubela/client.js";
import type { ReadThrough } from "./cache/read-through.js";
import { AKUBELA_CACHED_COMMANDS, AkubelaDataSource } from "./datasources/akubela/datasource.js";
import type { AliyunClient } from "./datasources/aliyun/client.js";
import { AliyunDataSource } from "./datasources/aliyun/datasource.js";
import type { Logger } from "./logger.js";
import type { SiteMap } from "./site-map.js";

/** Who is calling. Only the credential's presence is ever logged, never its value. */
export interface Caller {
  /** The caller's own Akubela Bearer token, forwarded to the vendor as it came. */
  akubelaToken?: string;
  /** The caller asked for fresh data (`Cache-Control: no-cache`): cached entries are skipped and replaced. */
  bypassCache?: boolean;
}

/** Everything one GraphQL request sees: built per request, so loaders never leak data between callers. */
export interface GraphContext {
  requestId: string;
  caller: Caller;
  logger: Logger;
  config: Config;
  akubela: AkubelaDataSource;
  aliyun: AliyunDataSource;
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
}

/**
 * Reads `Authorization: Bearer …` (anything else is no credential at all) and `Cache-Control: no-cache` /
 * `max-age=0`, which asks for data fresh from the vendors.
 */
export function callerFromHeaders(authorization: string | undefined, cacheControl?: string): Caller {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  const bypassCache = /(^|,)\s*(no-cache|max-age=0)\s*(,|$)/i.test(cacheControl ?? "");
  return { ...(m ? { akubelaToken: m[1] } : {}), ...(bypassCache ? { bypassCache } : {}) };
}

export function createContext(deps: ServerDeps, requestId: string, caller: Caller): GraphContext {
  const { cache } = deps.config;
  return {
    requestId,
    caller,
    logger: deps.logger.child({ requestId }),
    config: deps.config,
    akubela: new AkubelaDataSource(deps.akubelaClient, caller.akubelaToken, {
      concurrency: deps.config.akubela.concurrency,
      pageSize: deps.config.akubela.pageSize,
      cache: {
        readThrough: deps.readThrough,
        ttlMs: Object.fromEntries(AKUBELA_CACHED_COMMANDS.map((c) => [c, cache.deviceListTtlMs])),
        staleMs: cache.staleMs,
        bypass: Boolean(caller.bypassCache),
      },
    }),
    aliyun: new AliyunDataSource(deps.aliyunClient, deps.siteMap, {
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
