import type { Config } from "./config.js";
import type { AkubelaClient } from "./datasources/akubela/client.js";
import { AkubelaDataSource } from "./datasources/akubela/datasource.js";
import type { AliyunClient } from "./datasources/aliyun/client.js";
import { AliyunDataSource } from "./datasources/aliyun/datasource.js";
import type { Logger } from "./logger.js";
import type { SiteMap } from "./site-map.js";

/** Who is calling. Only the credential's presence is ever logged, never its value. */
export interface Caller {
  /** The caller's own Akubela Bearer token, forwarded to the vendor as it came. */
  akubelaToken?: string;
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
}

/** Reads `Authorization: Bearer …`; anything else is no credential at all. */
export function callerFromHeaders(authorization: string | undefined): Caller {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  return m ? { akubelaToken: m[1] } : {};
}

export function createContext(deps: ServerDeps, requestId: string, caller: Caller): GraphContext {
  return {
    requestId,
    caller,
    logger: deps.logger.child({ requestId }),
    config: deps.config,
    akubela: new AkubelaDataSource(deps.akubelaClient, caller.akubelaToken, {
      concurrency: deps.config.akubela.concurrency,
      pageSize: deps.config.akubela.pageSize,
    }),
    aliyun: new AliyunDataSource(deps.aliyunClient, deps.siteMap, {
      concurrency: deps.config.aliyun.concurrency,
      timeZone: deps.config.aliyun.timeZone,
    }),
  };
}
