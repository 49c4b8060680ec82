/**
 * The runtime contract (see `../shared/docs/graph-model.md`, "Runtime contract") read once from the
 * environment. This module is the only reader of `process.env`; everything else receives a `Config`.
 *
 * `loadConfig` validates every variable and throws one `ConfigError` naming every bad or missing value,
 * so a misconfigured deployment fails at start-up with the whole list instead of one problem at a time.
 */

import { DEMO_AKUBELA_TOKEN } from "./simulators/akubela/constants.js";
import { DEMO_ALIYUN_APP_KEY, DEMO_ALIYUN_APP_SECRET } from "./simulators/aliyun/constants.js";
import { parseSealingKey } from "./lib/sealed.js";

/** Where the Akubela / Akuvox open-ability API lives. `simulator` = start the built-in simulator (demo mode). */
export type AkubelaTarget = { mode: "remote"; baseUrl: string } | { mode: "simulator" };

export interface Config {
  /**
   * `development` or `production` (from `NODE_ENV`). `NODE_ENV=test` is accepted and runs as `development`: the
   * service has no test mode, so tests run it as users do (what a test needs, it sets with its own option).
   */
  env: "development" | "production";
  port: number;
  /** Interface the HTTP server binds to. */
  host: string;
  /** On SIGTERM/SIGINT: how long requests in flight may take to finish before their connections are cut, ms. */
  shutdownGraceMs: number;
  /**
   * How far V8 lets the heap grow past what the last full collection kept, in percent (HEAP_GROWING_PERCENT; 0: V8's
   * own factor, up to 4×). A bound on the garbage a large answer leaves between collections, not a cap: an over-large
   * query still completes (and is bounded by QUERY_MAX_COST and MAX_VENDOR_CALLS_PER_OPERATION), it only costs more
   * collections.
   */
  heapGrowingPercent: number;
  akubela: {
    target: AkubelaTarget;
    /**
     * Server-side Bearer token, used only for callers the facade itself has authenticated (its own API keys, a
     * later issue). An anonymous caller never borrows it.
     */
    serverToken?: string;
    /** The facade's own OAuth client (client credentials with a manager login or a refresh token). */
    oauth?: { clientId: string; clientSecret: string; username?: string; password?: string; refreshToken?: string; scope: string };
    /** Projects listed by `Query.projects`. Any project id can still be asked for by `Query.project`. */
    projectIds: string[];
    /** Whole-request timeout of one vendor command, per attempt, in ms. */
    timeoutMs: number;
    /** Extra attempts for read commands after a network error, 429 or 5xx. Writes are never retried. */
    readRetries: number;
    /** `page_size` used for the paged list commands (the vendor publishes no maximum; 100 is the safe one). */
    pageSize: number;
    /** Demo mode: lifetime of the built-in simulator's tokens (`AKUBELA_SIM_TOKEN_TTL_SECONDS`; default 3600). */
    simulatorTokenTtlSeconds?: number;
  };
  aliyun: {
    baseUrl?: string;
    appKey?: string;
    appSecret?: string;
    /** Zone offset of the gateway's `yyyy-MM-dd HH:mm:ss` times, which carry none (e.g. `+08:00`). */
    timeZone: string;
    /** Per attempt, ms. */
    timeoutMs: number;
    /** Extra attempts of a read after a reset/refused connection, 429 or 5xx. Writes are never retried. */
    readRetries: number;
  };
  /**
   * The per-tenant vendor budget (one per vendor credential, shared by every request of this instance): calls in
   * flight at once (`VENDOR_MAX_IN_FLIGHT`) and started per second (`VENDOR_MAX_PER_SECOND`, 0: unbounded).
   * `shared` (`VENDOR_BUDGET_SHARED`, needs `REDIS_URL`): both bounds hold for the whole deployment, through Redis,
   * each instance going by them alone while Redis does not answer. `leaseMs`: how long a call's shared slot holds
   * without renewal (it is renewed while the call runs): longer than one vendor attempt, so only a dead instance's
   * slots run out.
   */
  vendorBudget: { maxInFlight: number; maxPerSecond: number; shared: boolean; leaseMs: number };
  redisUrl?: string;
  /**
   * `TOKEN_ENCRYPTION_KEY` (32 bytes: 64 hex digits or base64): seals the facade's own vendor tokens in the shared
   * cache (AES-256-GCM, `lib/sealed.ts`). Without it they stay in process memory and each instance refreshes alone.
   */
  tokenEncryptionKey?: Buffer;
  cache: {
    /** TTL of the device lists (`get_akuvox_device_list`, `get_visitor_temp_key_device_list`), ms. */
    deviceListTtlMs: number;
    /** TTL of an Aliyun person (`/entrance/paas/user/get`), ms. */
    personTtlMs: number;
    /** TTL of an Aliyun keep-open state (`/entrance/paas/keepopen/get`), ms. */
    keepOpenTtlMs: number;
    /**
     * TTL of a project's user-list pages and accounts (`get_user_list`, `get_user_info`), ms; never served past it.
     * This facade's account writes drop them on every instance; changes made elsewhere show within it. 0: not cached.
     */
    userListTtlMs: number;
    /** TTL of an account's access info (`get_user_access_info`: PIN codes, RF cards, faces, floors), ms; as above. */
    accessInfoTtlMs: number;
    /** TTL of Aliyun card permissions (`/entrance/paas/user/perm/query`, `/entrance/paas/device/perm/query`), ms; as above. */
    cardPermissionsTtlMs: number;
    /**
     * How long a project's membership index (its residences and accounts, from `get_user_list`; its visitor keys)
     * is shared across requests, ms; a lookup that misses refreshes it once from the vendor. 0: built per request.
     */
    membershipTtlMs: number;
    /** How long past its TTL an entry may be served while it is refreshed in the background, ms. */
    staleMs: number;
    /** Upper bound of one Redis command, ms. */
    redisCommandTimeoutMs: number;
    /** Entries of the in-process cache (no Redis). */
    memoryMaxEntries: number;
    /**
     * Answers of fully cached queries kept per API key and operation, answered again while every cached value they
     * were built from is unchanged and fresh (RESPONSE_MEMO_ENTRIES; 0: off), within RESPONSE_MEMO_MAX_MB of values.
     */
    responseMemoEntries: number;
    responseMemoMaxBytes: number;
  };
  siteMapPath?: string;
  /**
   * Benchmark baseline only (`NAIVE_NO_LOADERS=true`): no per-request deduplication or batching, as a facade without
   * DataLoader would be. Together with the cache TTLs at 0 it is the naive configuration `npm run bench` compares.
   */
  naive: boolean;
  limits: {
    maxDepth: number;
    maxAliases: number;
    maxCost: number;
    listSize: number;
    /** Vendor calls one GraphQL request may send (`MAX_VENDOR_CALLS_PER_OPERATION`); past it fields answer null. */
    maxVendorCallsPerOperation: number;
    /** Operations in one batched HTTP request. */
    maxBatch: number;
    /** Lexical tokens in one document (graphql `parse` stops at it, before building the tree). */
    maxTokens: number;
    /** Directives in one document. */
    maxDirectives: number;
    /** Callers without a credential (they may introspect, nothing else): body size and requests per address. */
    anonymous: { maxBodyBytes: number; perWindow: number };
    rateLimit: { perWindow: number; windowMs: number };
    /** How long an idempotency key's outcome is kept. */
    idempotencyWindowMs: number;
    /** The pending lease of an idempotent call (renewed while it runs); past it a retry answers UNKNOWN. */
    idempotencyLeaseMs: number;
    /** Records the in-process idempotency store holds (no Redis); full = idempotent mutations refused. */
    idempotencyMaxRecords: number;
    /** How long idempotent mutations are refused after Redis is found to have lost its records. */
    idempotencyLossHoldMs: number;
  };
  auth: {
    /** The facade's API keys file (names, hashed keys, scopes, projects). */
    apiKeysPath?: string;
    /** Accept callers' own Akubela Bearer tokens (forwarded as they came). */
    acceptBearer: boolean;
    /**
     * `BEARER_VERIFY_SECONDS`: how long after the vendor last accepted a caller's own token it is served from the
     * cache (and fields that make no vendor call answer it) without another vendor call proving it first.
     */
    bearerVerifyMs: number;
  };
  /** `debug` | `info` | `warn` | `error` | `silent`. */
  logLevel: LogLevel;
  /** `FEDERATION_OMIT_NODE=true`: `Query.node`/`nodes` left out of the subgraph (another subgraph owns them). */
  federation: { omitNode: boolean };
  /** Access events (src/events): the log, the poller, webhooks. */
  events: EventsConfig;
  /** Apollo Sandbox as the landing page and introspection on; defaults to on outside production. */
  sandbox: boolean;
  introspection: boolean;
  /**
   * `/metrics`: `token` (METRICS_TOKEN) required as a Bearer when set; `port` (METRICS_PORT) serves it on its own
   * port instead of the API's; `operations` (METRICS_OPERATIONS) adds operation names to the label's allow-list.
   */
  metrics: { token?: string; port?: number; operations: string[] };
}

export interface EventsConfig {
  /** `EVENTS_RETENTION_HOURS` (default 168 = 7 days): how long the log keeps (and deduplicates) events. */
  retentionMs: number;
  /** `EVENTS_MAX_ENTRIES`: entries kept at most (the in-process ring's size; the Stream is trimmed to about this). */
  maxEntries: number;
  /** `EVENTS_POLL` (default on): poll the vendors' histories and device lists (one poller per tenant). */
  poll: boolean;
  /** `EVENTS_POLL_BUDGET_PER_MINUTE`: vendor calls per minute the poller never exceeds (default 120). */
  pollBudgetPerMinute: number;
  /** `EVENTS_POLL_MIN_INTERVAL_MS` / `EVENTS_POLL_MAX_INTERVAL_MS`: per-residence interval, active to idle. */
  pollMinIntervalMs: number;
  pollMaxIntervalMs: number;
  /** `EVENTS_POLL_LEASE_MS`: the poller lease; another instance takes over within it when the leader dies. */
  pollLeaseMs: number;
  /** `EVENTS_DEMO_ACTIVITY` (demo mode only, default on): simulated people open doors and call now and then. */
  demoActivity: boolean;
  webhooks: WebhooksConfig;
}

/** Webhook endpoints and their deliveries (src/events/webhooks). */
export interface WebhooksConfig {
  /**
   * `WEBHOOK_SECRET_KEY` (32 bytes, like `TOKEN_ENCRYPTION_KEY`, which is used when this is unset): seals endpoint
   * secrets at rest. Without either, production has no webhooks (the mutations refuse); elsewhere a random key of
   * this process keeps endpoints in memory only.
   */
  secretKey?: Buffer;
  /** `WEBHOOK_RETRY_SCHEDULE`: delay before each attempt, ms (default `0,5s,5m,30m,2h,5h,10h`). */
  scheduleMs: number[];
  /** `WEBHOOK_TIMEOUT_MS` (default 15000): one attempt's time limit. */
  timeoutMs: number;
  /** `WEBHOOK_DISABLE_AFTER_MS` (default 5 days): an endpoint failing (no success) this long is disabled. */
  disableAfterMs: number;
  /** `WEBHOOK_ALLOW_HTTP_LOOPBACK` (default off; refused in production): `http://` URLs on 127.0.0.1 / ::1 / localhost. */
  allowHttpLoopback: boolean;
  /** `WEBHOOK_TICK_MS` (default 1000): how often due retries are looked for (new events wake the dispatcher at once). */
  tickMs: number;
  /** `WEBHOOK_LEASE_MS` (default 10000): one dispatcher across instances holds this lease. */
  leaseMs: number;
}

/** `0`, `250ms`, `5s`, `5m`, `2h` as ms; undefined when not one of these. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,9})(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === "h" ? n * 3_600_000 : m[2] === "m" ? n * 60_000 : m[2] === "s" ? n * 1000 : n;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

/** Reads and validates the environment; throws a `ConfigError` listing every problem found. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);

  const nodeEnv = read.oneOf("NODE_ENV", ["development", "test", "production"] as const, "development") === "production" ? "production" : "development";
  const production = nodeEnv === "production";
  const akubelaBaseUrl = read.url("AKUBELA_BASE_URL");
  const aliyunBaseUrl = read.url("ALIYUN_BASE_URL");
  const appKey = read.string("ALIYUN_APP_KEY");
  const appSecret = read.string("ALIYUN_APP_SECRET");
  if (aliyunBaseUrl && (!appKey || !appSecret)) {
    problems.push("ALIYUN_APP_KEY and ALIYUN_APP_SECRET are required when ALIYUN_BASE_URL is set");
  }
  const projectIds = read.list("AKUBELA_PROJECT_IDS");
  if (akubelaBaseUrl && projectIds.length === 0 && production) {
    problems.push("AKUBELA_PROJECT_IDS is required in production (comma-separated project ids)");
  }
  const timeZone = env.ALIYUN_TIME_ZONE?.trim() || "+08:00";
  if (!/^[+-](0\d|1[0-4]):[0-5]\d$/.test(timeZone)) {
    problems.push(`ALIYUN_TIME_ZONE must be an offset like +08:00 or -05:00`);
  }
  const oauthClientId = read.string("AKUBELA_CLIENT_ID");
  if (oauthClientId && !read.string("AKUBELA_CLIENT_SECRET")) problems.push("AKUBELA_CLIENT_SECRET is required with AKUBELA_CLIENT_ID");
  if (oauthClientId && read.string("AKUBELA_USERNAME") && !read.string("AKUBELA_PASSWORD")) problems.push("AKUBELA_PASSWORD is required with AKUBELA_USERNAME");
  const authModes = read.list("AUTH_MODES");
  if (authModes.length === 0) authModes.push("bearer", "apikey");
  for (const mode of authModes) if (!["bearer", "apikey"].includes(mode)) problems.push(`AUTH_MODES must list bearer and/or apikey (got an unknown mode)`);
  const redisUrl = read.string("REDIS_URL");
  if (redisUrl && !/^(rediss?|redis\+cluster):\/\//.test(redisUrl) && !/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/.test(redisUrl)) {
    problems.push("REDIS_URL must be redis://…, rediss://…, redis+cluster://… or a list host:port,host:port");
  }

  const tokenKeyText = read.string("TOKEN_ENCRYPTION_KEY");
  const tokenEncryptionKey = tokenKeyText === undefined ? undefined : parseSealingKey(tokenKeyText);
  if (tokenKeyText !== undefined && !tokenEncryptionKey) {
    problems.push("TOKEN_ENCRYPTION_KEY must be 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)");
  }
  const webhookKeyText = read.string("WEBHOOK_SECRET_KEY");
  const webhookKey = webhookKeyText === undefined ? undefined : parseSealingKey(webhookKeyText);
  if (webhookKeyText !== undefined && !webhookKey) problems.push("WEBHOOK_SECRET_KEY must be 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)");
  const scheduleText = read.string("WEBHOOK_RETRY_SCHEDULE") ?? "0,5s,5m,30m,2h,5h,10h";
  const webhookSchedule = scheduleText.split(",").map((t) => parseDuration(t));
  if (webhookSchedule.length === 0 || webhookSchedule.length > 20 || webhookSchedule.some((d) => d === undefined)) {
    problems.push("WEBHOOK_RETRY_SCHEDULE must list 1 to 20 delays (e.g. `0,5s,5m,30m,2h,5h,10h`; units ms, s, m, h)");
  }
  const simTokenTtl = read.string("AKUBELA_SIM_TOKEN_TTL_SECONDS") === undefined ? undefined : read.int("AKUBELA_SIM_TOKEN_TTL_SECONDS", 3600, 1, 86_400);

  const config: Config = {
    env: nodeEnv,
    port: read.int("PORT", 4000, 0, 65535),
    host: read.string("HOST") ?? "0.0.0.0",
    shutdownGraceMs: read.int("SHUTDOWN_GRACE_MS", 10_000, 0, 600_000),
    heapGrowingPercent: read.int("HEAP_GROWING_PERCENT", 50, 0, 300),
    akubela: {
      target: akubelaBaseUrl ? { mode: "remote", baseUrl: akubelaBaseUrl } : { mode: "simulator" },
      serverToken: read.string("AKUBELA_TOKEN"),
      oauth: oauthClientId
        ? {
            clientId: oauthClientId,
            clientSecret: read.string("AKUBELA_CLIENT_SECRET") ?? "",
            username: read.string("AKUBELA_USERNAME"),
            password: read.string("AKUBELA_PASSWORD"),
            refreshToken: read.string("AKUBELA_REFRESH_TOKEN"),
            scope: read.string("AKUBELA_SCOPE") ?? "manager",
          }
        : undefined,
      projectIds,
      timeoutMs: read.int("AKUBELA_TIMEOUT_MS", 10_000, 100, 120_000),
      readRetries: read.int("AKUBELA_READ_RETRIES", 2, 0, 5),
      pageSize: read.int("AKUBELA_PAGE_SIZE", 100, 1, 100),
      ...(simTokenTtl !== undefined ? { simulatorTokenTtlSeconds: simTokenTtl } : {}),
    },
    aliyun: {
      baseUrl: aliyunBaseUrl,
      appKey,
      appSecret,
      timeZone,
      timeoutMs: read.int("ALIYUN_TIMEOUT_MS", 10_000, 100, 120_000),
      readRetries: read.int("ALIYUN_READ_RETRIES", 2, 0, 5),
    },
    vendorBudget: {
      maxInFlight: read.int("VENDOR_MAX_IN_FLIGHT", 32, 1, 1024),
      maxPerSecond: read.int("VENDOR_MAX_PER_SECOND", 0, 0, 100_000),
      shared: read.bool("VENDOR_BUDGET_SHARED", false),
      leaseMs: 0, // set below: it depends on the vendor timeouts
    },
    redisUrl,
    tokenEncryptionKey,
    cache: {
      deviceListTtlMs: read.int("CACHE_DEVICE_LIST_TTL_SECONDS", 300, 0, 86_400) * 1000,
      personTtlMs: read.int("CACHE_PERSON_TTL_SECONDS", 300, 0, 86_400) * 1000,
      keepOpenTtlMs: read.int("CACHE_KEEP_OPEN_TTL_SECONDS", 15, 0, 3_600) * 1000,
      userListTtlMs: read.int("CACHE_USER_LIST_TTL_SECONDS", 30, 0, 3_600) * 1000,
      accessInfoTtlMs: read.int("CACHE_ACCESS_INFO_TTL_SECONDS", 30, 0, 3_600) * 1000,
      cardPermissionsTtlMs: read.int("CACHE_CARD_PERMISSIONS_TTL_SECONDS", 30, 0, 3_600) * 1000,
      membershipTtlMs: read.int("CACHE_MEMBERSHIP_TTL_SECONDS", 300, 0, 86_400) * 1000,
      staleMs: read.int("CACHE_STALE_SECONDS", 60, 0, 86_400) * 1000,
      redisCommandTimeoutMs: read.int("REDIS_COMMAND_TIMEOUT_MS", 250, 10, 10_000),
      memoryMaxEntries: read.int("CACHE_MEMORY_MAX_ENTRIES", 10_000, 1, 10_000_000),
      responseMemoEntries: read.int("RESPONSE_MEMO_ENTRIES", 1000, 0, 1_000_000),
      responseMemoMaxBytes: read.int("RESPONSE_MEMO_MAX_MB", 32, 1, 4096) * 2 ** 20,
    },
    siteMapPath: read.string("SITE_MAP"),
    naive: read.bool("NAIVE_NO_LOADERS", false),
    limits: {
      maxDepth: read.int("QUERY_MAX_DEPTH", 12, 2, 100),
      maxAliases: read.int("QUERY_MAX_ALIASES", 30, 0, 1000),
      maxCost: read.int("QUERY_MAX_COST", 250_000, 10, 100_000_000),
      listSize: read.int("QUERY_LIST_SIZE", 10, 1, 1000),
      maxVendorCallsPerOperation: read.int("MAX_VENDOR_CALLS_PER_OPERATION", 500, 1, 1_000_000),
      maxBatch: read.int("QUERY_MAX_BATCH", 10, 1, 100),
      maxTokens: read.int("QUERY_MAX_TOKENS", 5_000, 100, 1_000_000),
      maxDirectives: read.int("QUERY_MAX_DIRECTIVES", 50, 0, 10_000),
      anonymous: {
        maxBodyBytes: read.int("ANONYMOUS_MAX_BODY_BYTES", 32_768, 1_024, 1_000_000),
        perWindow: read.int("ANONYMOUS_RATE_LIMIT_PER_MINUTE", 300, 1, 1_000_000),
      },
      rateLimit: {
        perWindow: read.int("RATE_LIMIT_PER_MINUTE", 600, 1, 1_000_000),
        windowMs: 60_000,
      },
      idempotencyWindowMs: read.int("IDEMPOTENCY_WINDOW_SECONDS", 86_400, 1, 604_800) * 1000,
      idempotencyLeaseMs: 0, // set below: it depends on the vendor timeouts
      idempotencyMaxRecords: read.int("IDEMPOTENCY_MAX_RECORDS", 100_000, 1, 10_000_000),
      idempotencyLossHoldMs: 0, // set below: defaults to the window
    },
    auth: {
      apiKeysPath: read.string("API_KEYS_FILE"),
      acceptBearer: authModes.includes("bearer"),
      bearerVerifyMs: read.int("BEARER_VERIFY_SECONDS", 60, 0, 3600) * 1000,
    },
    logLevel: read.oneOf("LOG_LEVEL", ["debug", "info", "warn", "error", "silent"] as const, "info"),
    federation: { omitNode: read.bool("FEDERATION_OMIT_NODE", false) },
    events: {
      retentionMs: read.int("EVENTS_RETENTION_HOURS", 168, 1, 24 * 90) * 3_600_000,
      maxEntries: read.int("EVENTS_MAX_ENTRIES", 100_000, 100, 100_000_000),
      poll: read.bool("EVENTS_POLL", true),
      pollBudgetPerMinute: read.int("EVENTS_POLL_BUDGET_PER_MINUTE", 120, 1, 100_000),
      pollMinIntervalMs: read.int("EVENTS_POLL_MIN_INTERVAL_MS", 5_000, 50, 3_600_000),
      pollMaxIntervalMs: read.int("EVENTS_POLL_MAX_INTERVAL_MS", 300_000, 50, 86_400_000),
      pollLeaseMs: read.int("EVENTS_POLL_LEASE_MS", 10_000, 500, 600_000),
      demoActivity: read.bool("EVENTS_DEMO_ACTIVITY", true),
      webhooks: {
        secretKey: webhookKey ?? tokenEncryptionKey,
        scheduleMs: webhookSchedule.map((d) => d ?? 0),
        timeoutMs: read.int("WEBHOOK_TIMEOUT_MS", 15_000, 100, 120_000),
        disableAfterMs: read.int("WEBHOOK_DISABLE_AFTER_MS", 5 * 86_400_000, 100, 90 * 86_400_000),
        allowHttpLoopback: read.bool("WEBHOOK_ALLOW_HTTP_LOOPBACK", false),
        tickMs: read.int("WEBHOOK_TICK_MS", 1000, 10, 60_000),
        leaseMs: read.int("WEBHOOK_LEASE_MS", 10_000, 500, 600_000),
      },
    },
    sandbox: read.bool("SANDBOX", !production),
    introspection: read.bool("INTROSPECTION", !production),
    metrics: {
      token: read.string("METRICS_TOKEN"),
      port: read.string("METRICS_PORT") === undefined ? undefined : read.int("METRICS_PORT", 9464, 0, 65535),
      operations: read.list("METRICS_OPERATIONS"),
    },
  };
  {
    // The lease outlives one vendor call (the renewal extends it while the mutation runs).
    const vendorTimeoutMs = Math.max(config.akubela.timeoutMs, config.aliyun.timeoutMs);
    const lease = read.int("IDEMPOTENCY_LEASE_MS", 2 * vendorTimeoutMs + 5_000, 1_000, 3_600_000);
    if (lease <= vendorTimeoutMs) problems.push(`IDEMPOTENCY_LEASE_MS must be longer than the vendor timeouts (${vendorTimeoutMs} ms)`);
    config.limits.idempotencyLeaseMs = lease;
    config.limits.idempotencyLossHoldMs = read.int("IDEMPOTENCY_LOSS_HOLD_SECONDS", config.limits.idempotencyWindowMs / 1000, 0, 604_800) * 1000;
    config.vendorBudget.leaseMs = vendorTimeoutMs + 5_000;
  }
  // Sharing needs somewhere to share: silently keeping a per-instance budget would multiply the vendor's load by the
  // number of instances behind the operator's back.
  if (config.vendorBudget.shared && !redisUrl) problems.push("VENDOR_BUDGET_SHARED=true needs REDIS_URL (the instances share the budget through it)");
  if (production) {
    // Demo mode is for newcomers and tests: production must name its vendors and must not run on demo credentials.
    if (!akubelaBaseUrl) problems.push("AKUBELA_BASE_URL is required in production (demo mode runs the built-in simulator)");
    if (!aliyunBaseUrl) problems.push("ALIYUN_BASE_URL is required in production (demo mode runs the built-in simulator)");
    if (appKey === DEMO_ALIYUN_APP_KEY || appSecret === DEMO_ALIYUN_APP_SECRET) problems.push("ALIYUN_APP_KEY / ALIYUN_APP_SECRET are the demo credentials: refused in production");
    if (config.events.webhooks.allowHttpLoopback) problems.push("WEBHOOK_ALLOW_HTTP_LOOPBACK is for demo and tests: refused in production");
    if (config.akubela.serverToken === DEMO_AKUBELA_TOKEN) problems.push("AKUBELA_TOKEN is the demo token: refused in production");
    if (!config.siteMapPath && aliyunBaseUrl) problems.push("SITE_MAP is required in production with ALIYUN_BASE_URL (the gateway has no device list)");
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Small typed readers that collect problems instead of throwing at the first one. */
class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  string(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value ? value : undefined;
  }

  list(name: string): string[] {
    return (this.string(name) ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.string(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (["1", "true", "yes", "on"].includes(raw)) return true;
    if (["0", "false", "no", "off"].includes(raw)) return false;
    this.problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.problems.push(`${name} must be one of ${allowed.join(", ")} (got "${raw}")`);
    return fallback;
  }

  /** An http(s) URL without a trailing slash. The value is not echoed: a URL can carry credentials. */
  url(name: string): string | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    try {
      const url = new URL(raw);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("protocol");
      return raw.replace(/\/+$/, "");
    } catch {
      this.problems.push(`${name} must be an http(s) URL`);
      return undefined;
    }
  }
}
