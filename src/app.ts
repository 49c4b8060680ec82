import { KnownGoodTokens } from "./auth/known-tokens.js";
import type { Config } from "./config.js";
import type { ServerDeps } from "./context.js";
import { fileURLToPath } from "node:url";
import { AkubelaClient, type VendorCallEvent } from "./datasources/akubela/client.js";
import { AliyunClient } from "./datasources/aliyun/client.js";
import { ApiKeyStore } from "./auth/api-keys.js";
import { AkubelaTokenManager } from "./auth/akubela-tokens.js";
import { listenError, StartupError } from "./startup-error.js";
import { createSealer } from "./lib/sealed.js";
import { tokenCredential, type AkubelaCredential } from "./auth/caller.js";
import type { Cache } from "./cache/cache.js";
import { MemoryCache } from "./cache/memory-cache.js";
import { InFlightReads, ReadThrough, serverScope } from "./cache/read-through.js";
import { VendorBudgets } from "./datasources/budget.js";
import { RedisSharedBudget } from "./datasources/shared-budget.js";
import { RedisCache } from "./cache/redis-cache.js";
import { RedisIdempotencyStore } from "./idempotency/redis-store.js";
import { MemoryIdempotencyStore, type IdempotencyStore } from "./idempotency/store.js";
import { EMPTY_SITE_MAP, loadSiteMap, type SiteMap } from "./site-map.js";
// Production loads none of the simulators' code: only their constants (demo credentials, project ids) statically;
// the simulators themselves are imported on demand, in demo mode (see startApp).
import { DEMO_ALIYUN_APP_KEY, DEMO_ALIYUN_APP_SECRET } from "./simulators/aliyun/constants.js";
import type { AliyunSimulator } from "./simulators/aliyun/index.js";
import type { Logger } from "./logger.js";
import { Metrics } from "./metrics.js";
import { MemoryEventLog, RedisEventLog, type EventLog } from "./events/log.js";
import { EventPoller } from "./events/poller.js";
import { MemoryWebhookStore, RedisWebhookStore, WebhookDispatcher, type WebhookService, type WebhookStore } from "./events/webhooks.js";
import { randomBytes } from "node:crypto";
import { createHash } from "node:crypto";
import { createServer, type GraphServer, type ServerOptions } from "./server.js";
import {
  DEMO_AKUBELA_TOKEN,
  DEMO_MANAGER_PASSWORD,
  DEMO_MANAGER_USERNAME,
  DEMO_OAUTH_CLIENT_ID,
  DEMO_OAUTH_CLIENT_SECRET,
  DEMO_PROJECT_ID,
  DEMO_SECOND_PROJECT_ID,
} from "./simulators/akubela/constants.js";
import type { AkubelaSimulator } from "./simulators/akubela/index.js";

export interface App {
  server: GraphServer;
  url: string;
  /** The in-process simulators, in demo mode. */
  simulator?: AkubelaSimulator;
  aliyunSimulator?: AliyunSimulator;
  siteMap: SiteMap;
  /** The shared cache with its counters. */
  cache: ReadThrough;
  /** Where idempotency records live. */
  idempotency: IdempotencyStore;
  metrics: Metrics;
  /** The access-event log (src/events). */
  events: EventLog;
  /** The vendor-history poller (absent with EVENTS_POLL=false or no server Akubela credential). */
  poller?: EventPoller;
  /** Webhook endpoints, deliveries and this instance's dispatcher (absent when off). */
  webhooks?: WebhookService;
  stop(): Promise<void>;
}

export const DEMO_QUERY = `# Demo mode: the X-API-Key header is already set to the demo key.
query DemoProject {
  project(projectId: "${DEMO_PROJECT_ID}") {
    projectId
    devices { name vendor online ... on AliyunAccessControlDevice { keepOpen } }
    buildings {
      name
      residences {
        residenceNo
        familyName
        accounts { displayName role credentials { pinCodes { createdAt } rfCards { createdAt } } cardPermissions { cardId expiresAt device { name } } }
        devices { name deviceType online relays { name } }
      }
    }
  }
}
`;

/** Demo mode's API keys file, and its one key (it opens only the built-in simulators). */
export const DEMO_API_KEYS_PATH = fileURLToPath(new URL("../config/demo-api-keys.json", import.meta.url));
export const DEMO_API_KEY = "demo-api-key";

/** The site map demo mode ships: it names the devices of the built-in Aliyun simulator. */
export const DEMO_SITE_MAP_PATH = fileURLToPath(new URL("../config/demo-site-map.json", import.meta.url));

/**
 * Wires config → vendor clients → server. A vendor with no base URL configured is replaced by its built-in
 * simulator, started in-process, and the graph talks to it over real HTTP (demo mode).
 */
export async function startApp(config: Config, logger: Logger, hooks: { onVendorCall?: (e: VendorCallEvent) => void } = {}): Promise<App> {
  const metrics = new Metrics({ operations: config.metrics.operations });
  const onVendorCall = (e: VendorCallEvent) => {
    metrics.vendorCalls.inc({ vendor: e.vendor, command: e.command, outcome: e.outcome });
    metrics.vendorCallDuration.observe({ vendor: e.vendor, command: e.command }, e.durationMs / 1000);
    hooks.onVendorCall?.(e);
  };
  let simulator: AkubelaSimulator | undefined;
  let aliyunSimulator: AliyunSimulator | undefined;
  let cache: Cache | undefined;
  let idempotency: IdempotencyStore | undefined;
  let tokens: AkubelaTokenManager | undefined;
  let events: EventLog | undefined;
  let poller: EventPoller | undefined;
  let webhookStore: WebhookStore | undefined;
  let webhooks: WebhookService | undefined;
  let sharedBudget: RedisSharedBudget | undefined;
  let stopResidents: (() => void) | undefined;
  let effective = config;
  const options: ServerOptions = {};
  try {
    let akubelaBaseUrl: string;
    if (config.akubela.target.mode === "simulator") {
      simulator = await (await import("./simulators/akubela/index.js")).startAkubelaSimulator({ quiet: true, tokenTtlSeconds: config.akubela.simulatorTokenTtlSeconds });
      akubelaBaseUrl = simulator.url;
      effective = {
        ...effective,
        akubela: {
          ...config.akubela,
          projectIds: config.akubela.projectIds.length ? config.akubela.projectIds : [DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID],
        },
      };
      options.sandboxInitialState = { headers: { "X-API-Key": DEMO_API_KEY }, document: DEMO_QUERY };
      logger.info("demo mode: Akubela simulator started", { simulatorUrl: simulator.url, demoProjectId: DEMO_PROJECT_ID });
    } else {
      akubelaBaseUrl = config.akubela.target.baseUrl;
    }

    let aliyun = { baseUrl: config.aliyun.baseUrl, appKey: config.aliyun.appKey, appSecret: config.aliyun.appSecret };
    if (!aliyun.baseUrl) {
      aliyunSimulator = await (await import("./simulators/aliyun/index.js")).startAliyunSimulator({ quiet: true });
      aliyun = { baseUrl: aliyunSimulator.url, appKey: DEMO_ALIYUN_APP_KEY, appSecret: DEMO_ALIYUN_APP_SECRET };
      logger.info("demo mode: Aliyun gateway simulator started", { simulatorUrl: aliyunSimulator.url });
    }
    cache = config.redisUrl
      ? new RedisCache(config.redisUrl, { commandTimeoutMs: config.cache.redisCommandTimeoutMs, logger })
      : new MemoryCache(config.cache.memoryMaxEntries);
    logger.info("cache", { kind: cache.kind });
    // The per-tenant vendor budget of the whole deployment (VENDOR_BUDGET_SHARED; config requires REDIS_URL with it).
    sharedBudget =
      config.vendorBudget.shared && config.redisUrl
        ? new RedisSharedBudget(config.redisUrl, { commandTimeoutMs: config.cache.redisCommandTimeoutMs, leaseMs: config.vendorBudget.leaseMs, logger })
        : undefined;
    logger.info("vendor budget", { maxInFlight: config.vendorBudget.maxInFlight, maxPerSecond: config.vendorBudget.maxPerSecond, shared: Boolean(sharedBudget) });
    idempotency = await startIdempotencyStore(config, logger);
    // The access-event log: a Redis Stream shared by every instance, or an in-process ring without Redis.
    events = config.redisUrl ? new RedisEventLog(config.redisUrl, { ...config.events, commandTimeoutMs: config.cache.redisCommandTimeoutMs }, logger) : new MemoryEventLog(config.events);
    // Webhooks: secrets sealed with WEBHOOK_SECRET_KEY (or TOKEN_ENCRYPTION_KEY) and kept on Redis when configured.
    // Without a key: off in production; elsewhere a key of this process, so endpoints live in this process only.
    const hookKey = config.events.webhooks.secretKey ?? (config.env === "production" ? undefined : randomBytes(32));
    if (hookKey) {
      const durable = Boolean(config.events.webhooks.secretKey && config.redisUrl);
      webhookStore = durable ? new RedisWebhookStore(config.redisUrl!) : new MemoryWebhookStore();
      const sealer = createSealer(hookKey);
      const dispatcher = new WebhookDispatcher({
        store: webhookStore,
        log: events,
        sealer,
        config: config.events.webhooks,
        logger,
        redis: webhookStore instanceof RedisWebhookStore ? webhookStore.redis : undefined,
        onAttempt: (_d, a) => metrics.webhookAttempts.inc({ outcome: a.error === null ? "delivered" : "failed" }),
      });
      webhooks = { store: webhookStore, sealer, config: config.events.webhooks, dispatcher };
      logger.info("webhooks", { store: webhookStore.kind, keyConfigured: Boolean(config.events.webhooks.secretKey) });
    } else logger.warn("webhooks are off: production needs WEBHOOK_SECRET_KEY (or TOKEN_ENCRYPTION_KEY)");
    // API keys: the configured file, or demo mode's (key `demo-api-key`); the server's Akubela credential serves them.
    const apiKeysPath = config.auth.apiKeysPath ?? (simulator ? DEMO_API_KEYS_PATH : undefined);
    const apiKeys = apiKeysPath
      ? await ApiKeyStore.load(apiKeysPath).catch((error: Error) => {
          throw config.auth.apiKeysPath ? new StartupError("API_KEYS_FILE", error.message) : error;
        })
      : ApiKeyStore.empty();
    if (config.env === "production" && apiKeys.verify(DEMO_API_KEY)) throw new Error("the demo API key is refused in production: remove it from API_KEYS_FILE");
    // The server's Akubela credential: its own OAuth client (demo mode uses the simulator's demo client and manager),
    // else a configured static token.
    const oauth =
      config.akubela.oauth ??
      (simulator && !config.akubela.serverToken
        ? { clientId: DEMO_OAUTH_CLIENT_ID, clientSecret: DEMO_OAUTH_CLIENT_SECRET, username: DEMO_MANAGER_USERNAME, password: DEMO_MANAGER_PASSWORD, scope: "manager" }
        : undefined);
    // Kept sealed in the shared cache with TOKEN_ENCRYPTION_KEY; without it in this process only.
    tokens = oauth
      ? new AkubelaTokenManager({ ...oauth, baseUrl: akubelaBaseUrl, timeoutMs: config.akubela.timeoutMs }, cache, logger, {
          sealer: config.tokenEncryptionKey ? createSealer(config.tokenEncryptionKey) : undefined,
        })
      : undefined;
    const serverAkubela: AkubelaCredential | undefined = tokens
      ? tokens
      : config.akubela.serverToken
        ? tokenCredential(config.akubela.serverToken)
        : undefined;
    logger.info("callers", { apiKeys: apiKeys.size, acceptBearer: config.auth.acceptBearer, serverAkubelaCredential: Boolean(serverAkubela) });

    const siteMapPath = config.siteMapPath ?? (aliyunSimulator ? DEMO_SITE_MAP_PATH : undefined);
    const siteMap = siteMapPath
      ? await loadSiteMap(siteMapPath).catch((error: Error) => {
          throw config.siteMapPath ? new StartupError("SITE_MAP", error.message) : error;
        })
      : EMPTY_SITE_MAP;
    logger.info("site map loaded", { devices: siteMap.devices.length, demo: !config.siteMapPath && Boolean(aliyunSimulator) });

    const deps: ServerDeps = {
      config: effective,
      logger,
      akubelaClient: new AkubelaClient({
        baseUrl: akubelaBaseUrl,
        timeoutMs: config.akubela.timeoutMs,
        readRetries: config.akubela.readRetries,
        logger,
        onCall: onVendorCall,
      }),
      aliyunClient: new AliyunClient({
        baseUrl: aliyun.baseUrl!,
        appKey: aliyun.appKey!,
        appSecret: aliyun.appSecret!,
        timeoutMs: config.aliyun.timeoutMs,
        readRetries: config.aliyun.readRetries,
        logger,
        onCall: onVendorCall,
      }),
      siteMap,
      readThrough: new ReadThrough(cache, logger, Date.now, config.tokenEncryptionKey ? createSealer(config.tokenEncryptionKey) : undefined),
      budgets: new VendorBudgets(config.vendorBudget, (vendor, kind, waitedMs) => metrics.vendorBudgetWait.observe({ vendor, kind }, waitedMs / 1000), sharedBudget),
      flights: new InFlightReads(),
      knownTokens: new KnownGoodTokens(config.auth.bearerVerifyMs),
      aliyunCacheScope: serverScope(`${aliyun.baseUrl}|${aliyun.appKey}`, aliyun.appSecret ?? ""),
      callers: { apiKeys, acceptBearer: config.auth.acceptBearer, serverAkubela },
      readiness: { akubelaUrl: akubelaBaseUrl, aliyunUrl: aliyun.baseUrl!, ...(tokens ? { akubelaToken: () => tokens!.health() } : {}) },
      metrics,
      idempotency,
      events,
      webhooks,
    };
    metrics.collect("cache_operations_total", "Shared-cache lookups by result (hit, miss, error), and stale answers, bypasses and joined fetches.", "result", () => {
      const st = deps.readThrough.stats();
      return (["hits", "misses", "errors", "stale", "bypassed", "joined"] as const).map((k) => ({ labels: { result: k }, value: st[k] }));
    });
    metrics.gauge("vendor_budget_queue_length", "Vendor calls waiting for their tenant's vendor budget, by vendor.", "vendor", () =>
      Object.entries(deps.budgets.queued()).map(([vendor, value]) => ({ labels: { vendor }, value })),
    );
    metrics.collect(
      "vendor_budget_shared_fallback_total",
      "Vendor calls started by the instance's own budget because the deployment's (VENDOR_BUDGET_SHARED, on Redis) did not answer, by vendor.",
      "vendor",
      () => Object.entries(sharedBudget?.fallbacks() ?? {}).map(([vendor, value]) => ({ labels: { vendor }, value })),
    );
    metrics.collect("vendor_reads_coalesced_total", "Vendor reads answered by joining an identical read of the same tenant in flight for another request.", "vendor", () => [
      { labels: { vendor: "all" }, value: deps.flights.joined },
    ]);
    const server = await createServer(deps, options);
    const url = await server.listen(config.port, config.host).catch((error: unknown) => {
      throw listenError(error, config.port, config.host);
    });
    // One poller per tenant (the Akubela account and its projects) across instances: see src/events/poller.ts.
    if (config.events.poll && serverAkubela) {
      const tenant = createHash("sha256").update(`${akubelaBaseUrl}|${effective.akubela.projectIds.join(",")}`).digest("hex").slice(0, 16);
      poller = new EventPoller({
        tenant,
        projectIds: effective.akubela.projectIds,
        baseUrl: akubelaBaseUrl,
        timeoutMs: config.akubela.timeoutMs,
        credential: serverAkubela,
        config: config.events,
        log: events,
        logger,
        redisUrl: config.redisUrl,
        onCall: onVendorCall,
      });
      poller.start();
    }
    await webhooks?.dispatcher.start();
    if (simulator && config.events.demoActivity) stopResidents = (await import("./simulators/akubela/activity.js")).startSimulatedResidents(() => simulator!.state, 20_000);
    return {
      server,
      url,
      simulator,
      aliyunSimulator,
      siteMap,
      cache: deps.readThrough,
      idempotency,
      metrics,
      events,
      poller,
      webhooks,
      async stop() {
        stopResidents?.();
        await poller?.stop();
        await webhooks?.dispatcher.stop();
        await webhookStore?.close();
        // In-flight requests finish first (Apollo's drain plugin), then the cache connection closes.
        await server.stop();
        await sharedBudget?.close();
        await events?.close();
        tokens?.close();
        await cache?.close();
        await idempotency?.close();
        logger.info("cache closed", { kind: cache?.kind });
        await simulator?.close();
        await aliyunSimulator?.close();
      },
    };
  } catch (error) {
    stopResidents?.();
    await poller?.stop();
    await webhooks?.dispatcher.stop();
    await webhookStore?.close();
    await sharedBudget?.close();
    await events?.close();
    tokens?.close();
    await cache?.close();
    await idempotency?.close();
    await simulator?.close();
    await aliyunSimulator?.close();
    throw error;
  }
}

/**
 * The idempotency store: on Redis when configured (own namespace and connection), else in process. With Redis, a
 * warning at start-up when its persistence is off: its records, and the doors they guard, do not survive a restart.
 */
async function startIdempotencyStore(config: Config, logger: Logger): Promise<IdempotencyStore> {
  if (!config.redisUrl) return new MemoryIdempotencyStore(config.limits.idempotencyMaxRecords);
  const store = new RedisIdempotencyStore(config.redisUrl, {
    commandTimeoutMs: config.cache.redisCommandTimeoutMs,
    logger,
    lossHoldMs: config.limits.idempotencyLossHoldMs,
  });
  if (await store.connected()) {
    const p = await store.persistence();
    if (!p) logger.warn("Redis persistence unknown (CONFIG GET refused): idempotency records do not survive a Redis restart without it");
    else if (p.appendonly !== "yes" && !p.save)
      logger.warn("Redis persistence is off (appendonly no, save \"\"): idempotency records are lost when Redis restarts; idempotent mutations are then refused for IDEMPOTENCY_LOSS_HOLD_SECONDS", {
        appendonly: p.appendonly,
        save: p.save,
      });
  } else {
    logger.warn("Redis not reachable at start-up: idempotent mutations are refused until it is");
  }
  return store;
}
