import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClientError, GraphQLClient } from "graphql-request";
import { startApp, type App } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import type { VendorCallEvent } from "../../src/datasources/akubela/client.js";
import { hashApiKey } from "../../src/auth/api-keys.js";
import { createLogger } from "../../src/logger.js";
import { MemoryCache } from "../../src/cache/memory-cache.js";
import { MemoryIdempotencyStore } from "../../src/idempotency/store.js";
import { flushRedisUrl, startRedis, type RedisServer } from "./redis.js";
import {
  DEMO_AKUBELA_TOKEN,
  DEMO_PROJECT_ID,
  DEMO_SECOND_PROJECT_ID,
  startAkubelaSimulator,
  type AkubelaSimulator,
  type AkubelaSimulatorOptions,
} from "../../src/simulators/akubela/index.js";
import {
  DEMO_ALIYUN_APP_KEY,
  DEMO_ALIYUN_APP_SECRET,
  startAliyunSimulator,
  type AliyunSimulator,
  type AliyunSimulatorOptions,
} from "../../src/simulators/aliyun/index.js";
import { DEMO_SITE_MAP_PATH } from "../../src/app.js";

export interface GraphResult<T = any> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; path?: (string | number)[]; extensions?: Record<string, any> }>;
}

export interface Stack {
  sim: AkubelaSimulator;
  aliyun: AliyunSimulator;
  app: App;
  url: string;
  /** Every log line the server wrote, parsed. */
  logs: Record<string, unknown>[];
  /** Raw log lines, to search for leaked secrets. */
  logText(): string;
  vendorCalls: VendorCallEvent[];
  /**
   * Runs an operation through a real GraphQL client. By default as the admin API key (`X-API-Key`); a `token`
   * string is sent as the caller's own vendor Bearer token instead; `null` sends no credential.
   */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null, headers?: Record<string, string>): Promise<GraphResult<T>>;
  /**
   * Back to the seed: both simulators reseeded (state, received records, faults), the graph's cache and idempotency
   * records emptied (its Redis flushed when it has one), the vendor-call record cleared. {@link useStack} calls it
   * before each test; a file with its own stacks calls it in its own `beforeEach`.
   */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The whole product as a user runs it: the Akubela simulator on a port, the graph server on another, real HTTP
 * between them, and graphql-request as the caller.
 */
export async function startStack(
  options: {
    sim?: AkubelaSimulatorOptions;
    aliyun?: AliyunSimulatorOptions;
    /** A site map to write to a file for SITE_MAP (default: the demo one, which names the default seed's devices). */
    siteMap?: unknown;
    /** Another instance of the graph against this stack's simulators (they are left running on close). */
    shareSimulatorsWith?: Stack;
    env?: Record<string, string>;
  } = {},
): Promise<Stack> {
  const shared = options.shareSimulatorsWith;
  const sim = shared?.sim ?? (await startAkubelaSimulator({ quiet: true, ...options.sim }));
  const aliyun = shared?.aliyun ?? (await startAliyunSimulator({ quiet: true, ...options.aliyun }));
  let siteMapPath = DEMO_SITE_MAP_PATH;
  const keysDir = await mkdtemp(join(tmpdir(), "graph-api-keys-"));
  const apiKeysPath = join(keysDir, "api-keys.json");
  await writeFile(
    apiKeysPath,
    JSON.stringify({
      keys: Object.entries(TEST_API_KEYS).map(([name, k]) => ({ name, sha256: hashApiKey(k.key), scopes: k.scopes, projects: k.projects })),
    }),
  );
  if (options.siteMap !== undefined) {
    const dir = await mkdtemp(join(tmpdir(), "graph-site-map-"));
    siteMapPath = join(dir, "site-map.json");
    await writeFile(siteMapPath, JSON.stringify(options.siteMap));
  }
  const config = loadConfig({
    API_KEYS_FILE: apiKeysPath,
    // API-key callers use the server's Akubela credential: the simulator's demo token.
    AKUBELA_TOKEN: DEMO_AKUBELA_TOKEN,
    ALIYUN_BASE_URL: aliyun.url,
    ALIYUN_APP_KEY: DEMO_ALIYUN_APP_KEY,
    ALIYUN_APP_SECRET: DEMO_ALIYUN_APP_SECRET,
    ALIYUN_TIMEOUT_MS: "1500",
    SITE_MAP: siteMapPath,
    HOST: "127.0.0.1",
    PORT: "0",
    AKUBELA_BASE_URL: sim.url,
    AKUBELA_PROJECT_IDS: `${DEMO_PROJECT_ID},${DEMO_SECOND_PROJECT_ID}`,
    AKUBELA_TIMEOUT_MS: "1500",
    LOG_LEVEL: "debug",
    // Tests that count vendor calls reset the simulators between cases: a cache across cases would hide calls.
    // The cache has its own tests (test/cache, test/graph/cache*.test.ts), which turn it on.
    CACHE_DEVICE_LIST_TTL_SECONDS: "0",
    CACHE_PERSON_TTL_SECONDS: "0",
    CACHE_KEEP_OPEN_TTL_SECONDS: "0",
    CACHE_MEMBERSHIP_TTL_SECONDS: "0",
    CACHE_USER_LIST_TTL_SECONDS: "0",
    CACHE_ACCESS_INFO_TTL_SECONDS: "0",
    CACHE_CARD_PERMISSIONS_TTL_SECONDS: "0",
    // The event poller calls the simulator on its own: only the event tests (test/events) turn it on.
    EVENTS_POLL: "false",
    ...options.env,
  });
  const lines: string[] = [];
  const logger = createLogger(config.logLevel, {}, (line) => lines.push(line));
  const vendorCalls: VendorCallEvent[] = [];
  const app = await startApp(config, logger, { onVendorCall: (e) => vendorCalls.push(e) });

  return {
    sim,
    aliyun,
    app,
    url: app.url,
    get logs() {
      return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    logText: () => lines.join("\n"),
    vendorCalls,
    async gql(query, variables, token, headers = {}) {
      const credential = token === undefined ? { "x-api-key": TEST_API_KEYS.admin.key } : token === null ? {} : { authorization: `Bearer ${token}` };
      const client = new GraphQLClient(app.url, {
        headers: { ...headers, ...credential },
        errorPolicy: "all",
      });
      try {
        const res = await client.rawRequest<any>(query, variables);
        return { status: res.status, data: res.data, errors: res.errors as GraphResult["errors"] };
      } catch (error) {
        if (error instanceof ClientError) {
          return { status: error.response.status, data: error.response.data, errors: error.response.errors as GraphResult["errors"] };
        }
        throw error;
      }
    },
    async reset() {
      sim.reset();
      aliyun.reset();
      vendorCalls.length = 0;
      if (app.cache.cache instanceof MemoryCache) app.cache.cache.clear();
      if (app.idempotency instanceof MemoryIdempotencyStore) app.idempotency.clear();
      if (config.redisUrl) await flushRedisUrl(config.redisUrl);
    },
    async close() {
      await app.stop();
      if (!shared) {
        await sim.close();
        await aliyun.close();
      }
    },
  };
}

/** {@link Stack.reset} for stacks that share simulators (and a Redis), one after the other. */
export async function resetStacks(...stacks: Stack[]): Promise<void> {
  for (const s of stacks) await s.reset();
}

/** The graph's `/readyz`: the HTTP status, the body, and its checks by name. */
export async function readyz(stack: Stack): Promise<{ status: number; body: { status: string; checks: Record<string, string> }; checks: Record<string, string> }> {
  const res = await fetch(new URL("/readyz", stack.url));
  const body = (await res.json()) as { status: string; checks: Record<string, string> };
  return { status: res.status, body, checks: body.checks };
}

/** Commands the simulator received, as `command param-json` strings, for exact comparisons. */
export function commandsReceived(sim: AkubelaSimulator): string[] {
  return sim.received().map((c) => `${c.command} ${JSON.stringify(c.param)}`);
}

export { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID };

/** The API keys every test stack accepts (`X-API-Key`), with what each may do. */
export const TEST_API_KEYS = {
  admin: { key: "test-admin-key-0001", scopes: ["read", "write", "door:open"], projects: ["*"] },
  reader: { key: "test-reader-key-0002", scopes: ["read"], projects: ["*"] },
  writer: { key: "test-writer-key-0003", scopes: ["read", "write"], projects: ["*"] },
  opener: { key: "test-opener-key-0004", scopes: ["door:open"], projects: ["*"] },
  secondProject: { key: "test-second-project-0005", scopes: ["read", "write", "door:open"], projects: [DEMO_SECOND_PROJECT_ID] },
  /** Access events with their capture pictures. */
  events: { key: "test-events-key-0006", scopes: ["read", "events:pictures"], projects: ["*"] },
} as const;

/**
 * One stack for a test file, back to the seed before each test ({@link Stack.reset}): registers the vitest hooks and
 * returns the stack (a view that follows the hooks, so it can be used at the top of a file). Every graph test file
 * uses it, so no test depends on what another left behind; a test that builds on state does so inside itself.
 * `fresh: true` starts a new stack for each test instead, where the graph holds state a reset cannot reach.
 */
export function useStack(options: Parameters<typeof startStack>[0] & { fresh?: boolean } = {}): Stack {
  let current: Stack | undefined;
  if (options.fresh) {
    // A new stack per test: for services that hold state no reset reaches (the facade's own vendor token).
    beforeEach(async () => {
      current = await startStack(options);
    });
    afterEach(async () => {
      await current?.close();
      current = undefined;
    });
  } else {
    beforeAll(async () => {
      current = await startStack(options);
    });
    afterAll(() => current?.close());
    beforeEach(() => current!.reset());
  }
  return new Proxy({} as Stack, { get: (_, key) => Reflect.get(current!, key) });
}

/**
 * Instances of the graph sharing one real redis-server and one pair of simulators (each with `env` and `REDIS_URL`),
 * for a describe block: started before its tests, back to the seed before each ({@link resetStacks}), stopped after.
 * Views that follow the hooks, as {@link useStack}'s.
 */
export function useInstancesOnRedis(count: number, env: Record<string, string> = {}): { instances: Stack[]; redis: RedisServer } {
  let redis: RedisServer | undefined;
  const started: Stack[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    for (let i = 0; i < count; i++) started.push(await startStack({ env: { REDIS_URL: redis.url, ...env }, ...(i > 0 ? { shareSimulatorsWith: started[0] } : {}) }));
  });
  afterAll(async () => {
    for (const s of started.splice(0).reverse()) await s.close();
    await redis?.stop();
  });
  beforeEach(() => resetStacks(...started));
  const view = <T extends object>(get: () => T) => new Proxy({} as T, { get: (_, key) => Reflect.get(get(), key) });
  return { instances: Array.from({ length: count }, (_, i) => view(() => started[i]!)), redis: view(() => redis!) };
}

/** Runs a mutation with `$input` and returns its payload, failing the test on a GraphQL error. */
export async function mutate(stack: Stack, query: string, input: unknown): Promise<any> {
  const res = await stack.gql(query, { input });
  expect(res.errors).toBeUndefined();
  return Object.values(res.data)[0];
}

/**
 * The commands that prove a residence or an account is a project's before a command names it: every page of the
 * project's `get_user_list`, as the simulator's state makes them (page size 100).
 */
export function userListPages(sim: AkubelaSimulator, projectId: string, pageSize = 100): string[] {
  const pages = Math.floor(sim.state.projects.get(projectId)!.accounts.size / pageSize) + 1;
  return Array.from({ length: pages }, (_, i) => `get_user_list ${JSON.stringify({ project_id: projectId, page_size: pageSize, page_index: i + 1 })}`);
}
