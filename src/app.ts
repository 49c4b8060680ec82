import type { Config } from "./config.js";
import type { ServerDeps } from "./context.js";
import { fileURLToPath } from "node:url";
import { AkubelaClient, type VendorCallEvent } from "./datasources/akubela/client.js";
import { AliyunClient } from "./datasources/aliyun/client.js";
import type { Cache } from "./cache/cache.js";
import { MemoryCache } from "./cache/memory-cache.js";
import { ReadThrough, tenantScope } from "./cache/read-through.js";
import { RedisCache } from "./cache/redis-cache.js";
import { EMPTY_SITE_MAP, loadSiteMap, type SiteMap } from "./site-map.js";
import {
  DEMO_ALIYUN_APP_KEY,
  DEMO_ALIYUN_APP_SECRET,
  startAliyunSimulator,
  type AliyunSimulator,
} from "./simulators/aliyun/index.js";
import type { Logger } from "./logger.js";
import { createServer, type GraphServer, type ServerOptions } from "./server.js";
import {
  DEMO_AKUBELA_TOKEN,
  DEMO_PROJECT_ID,
  DEMO_SECOND_PROJECT_ID,
  startAkubelaSimulator,
  type AkubelaSimulator,
} from "./simulators/akubela/index.js";

export interface App {
  server: GraphServer;
  url: string;
  /** The in-process simulators, in demo mode. */
  simulator?: AkubelaSimulator;
  aliyunSimulator?: AliyunSimulator;
  siteMap: SiteMap;
  /** The shared cache with its counters. */
  cache: ReadThrough;
  stop(): Promise<void>;
}

export const DEMO_QUERY = `# Demo mode: the Authorization header is already set to the demo token.
query ProjectOverview {
  projects {
    projectId
    devices { name vendor online ... on AliyunAccessControlDevice { keepOpen } }
    buildings {
      name
      residences {
        residenceNo
        familyName
        accounts { displayName role credentials { pinCodes { number } rfCards { number } } cardPermissions { cardId expiresAt device { name } } }
        devices { name deviceType online relays { name } }
      }
    }
  }
}
`;

/** The site map demo mode ships: it names the devices of the built-in Aliyun simulator. */
export const DEMO_SITE_MAP_PATH = fileURLToPath(new URL("../config/demo-site-map.json", import.meta.url));

/**
 * Wires config → vendor clients → server. A vendor with no base URL configured is replaced by its built-in
 * simulator, started in-process, and the graph talks to it over real HTTP (demo mode).
 */
export async function startApp(config: Config, logger: Logger, hooks: { onVendorCall?: (e: VendorCallEvent) => void } = {}): Promise<App> {
  let simulator: AkubelaSimulator | undefined;
  let aliyunSimulator: AliyunSimulator | undefined;
  let cache: Cache | undefined;
  let effective = config;
  const options: ServerOptions = {};
  try {
    let akubelaBaseUrl: string;
    if (config.akubela.target.mode === "simulator") {
      simulator = await startAkubelaSimulator({ quiet: true });
      akubelaBaseUrl = simulator.url;
      effective = {
        ...effective,
        akubela: {
          ...config.akubela,
          projectIds: config.akubela.projectIds.length ? config.akubela.projectIds : [DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID],
        },
      };
      options.sandboxInitialState = { headers: { Authorization: `Bearer ${DEMO_AKUBELA_TOKEN}` }, document: DEMO_QUERY };
      logger.info("demo mode: Akubela simulator started", { simulatorUrl: simulator.url, demoProjectId: DEMO_PROJECT_ID });
    } else {
      akubelaBaseUrl = config.akubela.target.baseUrl;
    }

    let aliyun = { baseUrl: config.aliyun.baseUrl, appKey: config.aliyun.appKey, appSecret: config.aliyun.appSecret };
    if (!aliyun.baseUrl) {
      aliyunSimulator = await startAliyunSimulator({ quiet: true });
      aliyun = { baseUrl: aliyunSimulator.url, appKey: DEMO_ALIYUN_APP_KEY, appSecret: DEMO_ALIYUN_APP_SECRET };
      logger.info("demo mode: Aliyun gateway simulator started", { simulatorUrl: aliyunSimulator.url });
    }
    const siteMapPath = config.siteMapPath ?? (aliyunSimulator ? DEMO_SITE_MAP_PATH : undefined);
    const siteMap = siteMapPath ? await loadSiteMap(siteMapPath) : EMPTY_SITE_MAP;
    logger.info("site map loaded", { devices: siteMap.devices.length, demo: !config.siteMapPath && Boolean(aliyunSimulator) });

    cache = config.redisUrl
      ? new RedisCache(config.redisUrl, { commandTimeoutMs: config.cache.redisCommandTimeoutMs, logger })
      : new MemoryCache(config.cache.memoryMaxEntries);
    logger.info("cache", { kind: cache.kind });
    const deps: ServerDeps = {
      config: effective,
      logger,
      akubelaClient: new AkubelaClient({
        baseUrl: akubelaBaseUrl,
        timeoutMs: config.akubela.timeoutMs,
        readRetries: config.akubela.readRetries,
        logger,
        onCall: hooks.onVendorCall,
      }),
      aliyunClient: new AliyunClient({
        baseUrl: aliyun.baseUrl!,
        appKey: aliyun.appKey!,
        appSecret: aliyun.appSecret!,
        timeoutMs: config.aliyun.timeoutMs,
        readRetries: config.aliyun.readRetries,
        logger,
        onCall: hooks.onVendorCall,
      }),
      siteMap,
      readThrough: new ReadThrough(cache, logger),
      aliyunCacheScope: tenantScope(`${aliyun.baseUrl}|${aliyun.appKey}`),
    };
    const server = await createServer(deps, options);
    const url = await server.listen(config.port, config.host);
    return {
      server,
      url,
      simulator,
      aliyunSimulator,
      siteMap,
      cache: deps.readThrough,
      async stop() {
        await server.stop();
        await cache?.close();
        await simulator?.close();
        await aliyunSimulator?.close();
      },
    };
  } catch (error) {
    await cache?.close();
    await simulator?.close();
    await aliyunSimulator?.close();
    throw error;
  }
}
