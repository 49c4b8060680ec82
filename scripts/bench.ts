/**
 * `npm run bench`: what the facade costs — vendor calls against the lower bound, latency against the longest chain
 * of dependent vendor calls, throughput — for representative operations, side by side with a naive configuration
 * (no loaders, no cache: the same code with `NAIVE_NO_LOADERS=true`) and with a warm cache; then how the project
 * dashboard grows with 100, 1,000 and 10,000 accounts. Prints a table and writes `bench/results.json`.
 *
 *   BENCH_LATENCY_MS (vendor latency, default 20)  BENCH_ITERATIONS (default 20)  BENCH_CONCURRENCY (default 8)
 *   BENCH_SCALES (default 100,1000,10000)  BENCH_COALESCE_N (default 20)  BENCH_BUDGETS (default 8,32,64)
 *   BENCH_ONLY (e.g. `coalescing,budgets`: run only those sections and keep the rest of bench/results.json)
 *   events (issue 17): BENCH_EVENTS_N (injected events for p50/p99, default 20)  BENCH_EVENTS_BUDGET (the latency
 *   run's EVENTS_POLL_BUDGET_PER_MINUTE, default 6000)  BENCH_EVENTS_RESIDENCES (default 100,1000)
 *   BENCH_EVENTS_WINDOW_S (poller window per size, default 15)  BENCH_EVENTS_SUBSCRIBERS (idle subscribers, default 1000)
 *   BENCH_DEBUG (print the vendor calls each measured run sent). The event poller is off outside the events section,
 *   so its own calls are never counted with an operation's.
 *
 * Also (issue 16): N concurrent identical requests against the cache at its default TTLs (vendor calls against the
 * distinct calls: coalescing across requests), the dashboard at several per-tenant budgets (VENDOR_MAX_IN_FLIGHT,
 * BENCH_BUDGETS default 8,32,64,256), and the warm-cache dashboard (`warmDashboard`, with the operations section):
 * the project dashboard re-run within the default TTLs (user lists and access info 30 s), its vendor calls and p50.
 * `cached`: a fully cached residence query loaded by autocannon against the facade and against a bare Apollo Server
 * on the same SDL answering the same JSON (scripts/bench-cached.ts; BENCH_CACHED_SECONDS per server, default 12),
 * with the in-process cache and with Redis. `scales`: the dashboard of 100 to 10,000 accounts, each size by a facade
 * process of its own (its peak RSS from /proc), then the credentials export by another (BENCH_FACADE_NODE_ARGS: node
 * flags for those processes, e.g. a heap limit).
 *
 * The simulators run in a child process (loopback), so the facade's time and memory are measured alone.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { DEMO_API_KEY, DEMO_API_KEYS_PATH, DEMO_SITE_MAP_PATH, startApp, type App } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import type { VendorCallEvent } from "../src/datasources/vendor-call.js";
import { toGlobalId } from "../src/lib/global-id.js";
import { createLogger } from "../src/logger.js";
import { createAkubelaSeed, DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, residenceDevices } from "../src/simulators/akubela/index.js";
import { createAliyunSeed, DEMO_ALIYUN_APP_KEY, DEMO_ALIYUN_APP_SECRET } from "../src/simulators/aliyun/index.js";
import { spawn } from "node:child_process";
import { CACHED_RESIDENCE, cachedRatio, startFacadeProcess, type CachedRatioRow } from "./bench-cached.js";
import { freePort, simulatorEnv, startSimulatorsProcess } from "./support.js";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import WebSocket from "ws";

const LATENCY = Number(process.env.BENCH_LATENCY_MS ?? 20);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const SCALES = (process.env.BENCH_SCALES ?? "100,1000,10000").split(",").map(Number);
const COALESCE_N = Number(process.env.BENCH_COALESCE_N ?? 20);
const BUDGETS = (process.env.BENCH_BUDGETS ?? "8,32,64,256").split(",").map(Number);
const CACHED_SECONDS = Number(process.env.BENCH_CACHED_SECONDS ?? 12);
const EVENTS_N = Number(process.env.BENCH_EVENTS_N ?? 20);
const EVENTS_BUDGET = Number(process.env.BENCH_EVENTS_BUDGET ?? 6000);
const EVENTS_RESIDENCES = (process.env.BENCH_EVENTS_RESIDENCES ?? "100,1000").split(",").map(Number);
const EVENTS_WINDOW_S = Number(process.env.BENCH_EVENTS_WINDOW_S ?? 15);
const EVENTS_SUBSCRIBERS = Number(process.env.BENCH_EVENTS_SUBSCRIBERS ?? 1000);
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",")) : undefined;
const runs = (section: string) => !ONLY || ONLY.has(section);
/** The per-tenant budget of the main table's runs (the default of VENDOR_MAX_IN_FLIGHT). */
const IN_FLIGHT = 32;
const gc = (globalThis as { gc?: () => void }).gc;

/** The two simulators in a child process, seeded with `accounts` accounts, answering after `LATENCY` ms. */
const startSimulators = (accounts: number) => startSimulatorsProcess({ latencyMs: LATENCY, accounts });

type Variant = "optimized" | "naive" | "warm cache" | "default cache";

async function startVariant(variant: Variant, sims: { akubela: string; aliyun: string }, calls: VendorCallEvent[], env: Record<string, string> = {}): Promise<App> {
  const cacheTtl = variant === "warm cache" ? "3600" : "0";
  const ttls =
    variant === "default cache"
      ? {}
      : {
          CACHE_DEVICE_LIST_TTL_SECONDS: cacheTtl,
          CACHE_PERSON_TTL_SECONDS: cacheTtl,
          CACHE_KEEP_OPEN_TTL_SECONDS: cacheTtl,
          CACHE_USER_LIST_TTL_SECONDS: cacheTtl,
          CACHE_ACCESS_INFO_TTL_SECONDS: cacheTtl,
          CACHE_CARD_PERMISSIONS_TTL_SECONDS: cacheTtl,
        };
  const config = loadConfig({
    ...simulatorEnv(sims),
    PORT: "0",
    AKUBELA_TIMEOUT_MS: "60000",
    QUERY_MAX_COST: "100000000",
    ...ttls,
    CACHE_MEMORY_MAX_ENTRIES: "1000000",
    // The 10,000-account dashboard sends ~14,000 calls: past the default per-operation budget on purpose.
    MAX_VENDOR_CALLS_PER_OPERATION: "1000000",
    VENDOR_MAX_IN_FLIGHT: String(IN_FLIGHT),
    LOG_LEVEL: "error",
    // The event poller's own calls are no operation's: they would be counted with it.
    EVENTS_POLL: "false",
    ...(variant === "naive" ? { NAIVE_NO_LOADERS: "true" } : {}),
    ...env,
  });
  return startApp(config, createLogger("silent"), { onVendorCall: (e) => calls.push(e) });
}

interface Operation {
  name: string;
  /** Distinct vendor calls the answer needs. */
  lowerBound: number;
  /** Longest chain of vendor calls that depend on each other's answers. */
  chain: number;
  run(app: App): Promise<void>;
}

async function gql(app: App, query: string, variables: Record<string, unknown>): Promise<any> {
  const res = await fetch(app.url, { method: "POST", headers: { "content-type": "application/json", "x-api-key": DEMO_API_KEY }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: { message: string }[] };
  if (body.errors) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data;
}

const DASHBOARD = `query Dashboard($p: ID!) { project(projectId: $p) { buildings { name devices { name }
  residences { residenceNo accounts { displayName role credentials { pinCodes { pinCodeId } rfCards { rfCardId } faces { faceId } } }
    devices { name online relays { name } securityRelays { name } } } } } }`;

function operations(accountsInSeed: number): Operation[] {
  const project = createAkubelaSeed({ accounts: accountsInSeed }).projects.get(DEMO_PROJECT_ID)!;
  const accounts = [...project.accounts.values()];
  const residences = new Set(accounts.map((a) => a.residence_id));
  const pages = Math.floor(accounts.length / 100) + 1;
  const account = accounts.find((a) => createAliyunSeed().persons.has(a.account_id)) ?? accounts[0];
  const residence = project.residences.get(account.residence_id)!;
  const door = residenceDevices(project, residence).find((d) => d.online && d.relays.length > 0)!;
  return [
    {
      name: "project dashboard",
      // user-list pages, then per account its access info and per residence its devices; the project's devices.
      lowerBound: pages + accounts.length + residences.size + 1,
      chain: pages + 1,
      run: (app) => gql(app, DASHBOARD, { p: DEMO_PROJECT_ID }),
    },
    {
      name: "residence detail",
      lowerBound: 8,
      chain: 1,
      run: (app) =>
        gql(
          app,
          `query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { devices { name relays { name } } openDoorConfig { privateKey nfc { enabled } ble { enabled } faceFileUploaded }
             tempKeys { startsAt } callHistory(first: 10) { totalCount } openDoorHistory(first: 10) { totalCount nodes { occurredAt } } } }`,
          { p: DEMO_PROJECT_ID, r: residence.residence_id },
        ),
    },
    {
      name: "account credentials, both vendors",
      // get_user_info, then (needing nothing from it but its existence) get_user_access_info, the Aliyun person,
      // its card permissions (6 devices: one call).
      lowerBound: 4,
      chain: 2,
      run: (app) =>
        gql(
          app,
          `query($p: ID!, $r: ID!, $a: ID!) { account(projectId: $p, residenceId: $r, accountId: $a) { displayName credentials { pinCodes { pinCodeId } rfCards { rfCardId } }
             aliyunPerson { name } cardPermissions { cardId expiresAt } } }`,
          { p: DEMO_PROJECT_ID, r: account.residence_id, a: account.account_id },
        ),
    },
    {
      name: "door opening (Akuvox)",
      // the residence's device list (which relay), then the opening.
      lowerBound: 2,
      chain: 2,
      run: (app) =>
        gql(app, `mutation($input: DoorOpenInput!) { doorOpen(input: $input) { outcome } }`, {
          input: { device: toGlobalId("AkuvoxDevice", DEMO_PROJECT_ID, door.mac), residence: toGlobalId("Residence", DEMO_PROJECT_ID, account.residence_id) },
        }),
    },
    {
      name: "BI export accounts.csv",
      lowerBound: pages,
      chain: pages,
      run: async (app) => {
        const res = await fetch(`${app.url.replace(/\/graphql$/, "")}/reports/accounts.csv?projectId=${DEMO_PROJECT_ID}`, { headers: { "x-api-key": DEMO_API_KEY } });
        if (res.status !== 200) throw new Error(`export answered ${res.status}`);
        await res.text();
      },
    },
  ];
}

const quantile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
};
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

interface Row {
  operation: string;
  variant: Variant;
  vendorCalls: number;
  lowerBound: number;
  callsOverBound: number;
  p50Ms: number;
  p99Ms: number;
  throughputPerS: number;
  chain: number;
  latencyOverChain: number;
  /** The least time the answer can take with IN_FLIGHT calls in flight: max(chain, ⌈bound ÷ IN_FLIGHT⌉) × latency. */
  floorMs: number;
  latencyOverFloor: number;
}

const floorMs = (op: Operation, inFlight: number) => Math.max(op.chain, Math.ceil(op.lowerBound / inFlight)) * LATENCY;

interface CoalescingRow {
  operation: string;
  concurrentRequests: number;
  vendorCalls: number;
  distinctCalls: number;
}

/** N identical requests at once, cache at its default TTLs: how many vendor calls, of how many distinct ones. */
async function coalescing(sims: { akubela: string; aliyun: string }, op: Operation): Promise<CoalescingRow> {
  const calls: VendorCallEvent[] = [];
  const app = await startVariant("default cache", sims, calls);
  try {
    await Promise.all([sims.akubela, sims.aliyun].map((url) => fetch(`${url}/__sim/received`, { method: "DELETE" })));
    await Promise.all(Array.from({ length: COALESCE_N }, () => op.run(app)));
    if (process.env.BENCH_DEBUG) process.stderr.write(`coalescing ${op.name}: ${JSON.stringify(calls.map((c) => c.command))}\n`);
    const distinct = new Set<string>();
    for (const url of [sims.akubela, sims.aliyun]) {
      const received = (await (await fetch(`${url}/__sim/received`)).json()) as { command?: string; param?: unknown; path?: string; params?: unknown }[];
      for (const c of received) distinct.add(JSON.stringify([c.command ?? c.path, c.param ?? c.params]));
      if (process.env.BENCH_DEBUG) for (const c of received) process.stderr.write(`  received ${JSON.stringify([c.command ?? c.path, c.param ?? c.params])}\n`);
    }
    return { operation: op.name, concurrentRequests: COALESCE_N, vendorCalls: calls.length, distinctCalls: distinct.size };
  } finally {
    await app.stop();
  }
}

interface WarmDashboardRow {
  accounts: number;
  /** Vendor calls of the first (cold) run, then of a re-run within the default TTLs. */
  coldVendorCalls: number;
  vendorCalls: number;
  p50Ms: number;
  p99Ms: number;
}

/** The dashboard run once, then re-run within the TTLs at their defaults: what the warm runs cost. */
async function warmDashboard(sims: { akubela: string; aliyun: string }, op: Operation, accounts: number): Promise<WarmDashboardRow> {
  const calls: VendorCallEvent[] = [];
  const app = await startVariant("default cache", sims, calls);
  try {
    await op.run(app);
    const coldVendorCalls = calls.length;
    calls.length = 0;
    await op.run(app);
    const vendorCalls = calls.length;
    if (process.env.BENCH_DEBUG) process.stderr.write(`warm dashboard re-run calls: ${JSON.stringify(calls.map((c) => c.command))}\n`);
    const times: number[] = [];
    // Well within the shortest default TTL (30 s): 20 runs of a few ms each.
    for (let i = 0; i < ITERATIONS; i++) {
      const t = performance.now();
      await op.run(app);
      times.push(performance.now() - t);
    }
    return { accounts, coldVendorCalls, vendorCalls, p50Ms: round(quantile(times, 0.5)), p99Ms: round(quantile(times, 0.99)) };
  } finally {
    await app.stop();
  }
}

interface BudgetRow {
  inFlight: number;
  p50Ms: number;
  chain: number;
  latencyOverChain: number;
  floorMs: number;
  latencyOverFloor: number;
}

/** The dashboard alone at a per-tenant budget of `inFlight` calls. */
async function budget(sims: { akubela: string; aliyun: string }, op: Operation, inFlight: number): Promise<BudgetRow> {
  const app = await startVariant("optimized", sims, [], { VENDOR_MAX_IN_FLIGHT: String(inFlight) });
  try {
    await op.run(app);
    const times: number[] = [];
    for (let i = 0; i < Math.min(ITERATIONS, 10); i++) {
      const t = performance.now();
      await op.run(app);
      times.push(performance.now() - t);
    }
    const p50 = quantile(times, 0.5);
    return { inFlight, p50Ms: round(p50), chain: op.chain, latencyOverChain: round(p50 / (op.chain * LATENCY), 2), floorMs: floorMs(op, inFlight), latencyOverFloor: round(p50 / floorMs(op, inFlight), 2) };
  } finally {
    await app.stop();
  }
}

async function measure(variant: Variant, sims: { akubela: string; aliyun: string }, ops: Operation[]): Promise<Row[]> {
  const calls: VendorCallEvent[] = [];
  const app = await startVariant(variant, sims, calls);
  const rows: Row[] = [];
  try {
    for (const op of ops) {
      // Each operation once before counting, as on an instance already serving: the membership index (which
      // residences and accounts a project has, CACHE_MEMBERSHIP_TTL_SECONDS) is warm in every variant, and the warm
      // cache variant's cache is.
      await op.run(app);
      calls.length = 0;
      await op.run(app);
      const vendorCalls = calls.length;
      if (process.env.BENCH_DEBUG) process.stderr.write(`${variant} ${op.name}: ${JSON.stringify(calls.map((c) => c.command))}\n`);
      const times: number[] = [];
      for (let i = 0; i < ITERATIONS; i++) {
        const t = performance.now();
        await op.run(app);
        times.push(performance.now() - t);
      }
      const total = Math.max(CONCURRENCY * 3, 12);
      let next = 0;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < total) await op.run(app);
      }));
      const throughput = total / ((performance.now() - t0) / 1000);
      const p50 = quantile(times, 0.5);
      rows.push({
        operation: op.name,
        variant,
        vendorCalls,
        lowerBound: op.lowerBound,
        callsOverBound: round(vendorCalls / op.lowerBound, 2),
        p50Ms: round(p50),
        p99Ms: round(quantile(times, 0.99)),
        throughputPerS: round(throughput),
        chain: op.chain,
        latencyOverChain: round(p50 / (op.chain * LATENCY), 2),
        floorMs: floorMs(op, IN_FLIGHT),
        latencyOverFloor: round(p50 / floorMs(op, IN_FLIGHT), 2),
      });
    }
  } finally {
    await app.stop();
  }
  return rows;
}

interface ScaleRow {
  accounts: number;
  vendorCalls: number;
  lowerBound: number;
  seconds: number;
  /** max(chain, ⌈bound ÷ in flight⌉) × latency: the least time the tenant's budget allows. */
  floorSeconds: number;
  secondsOverFloor: number;
  /** CPU time (user + system) the facade process spent on the dashboard. */
  cpuSeconds: number;
  /** The facade process (its own, started for this row): resident set when idle, and its peak through the dashboard. */
  idleRssMB: number;
  peakRssMB: number;
  /** Bytes of the answer. */
  answerMB: number;
  /** `/reports/credentials.csv` of the same project (streamed page by page), by a fresh process: rows, time, its peak RSS. */
  exportRows: number;
  exportSeconds: number;
  exportPeakRssMB: number;
}

/**
 * The dashboard of a project of `accounts` accounts, once, against a facade process of its own (so its peak
 * resident set, /proc's VmHWM, is the dashboard's alone: the answer is read here, in another process).
 */
async function scale(accounts: number): Promise<ScaleRow> {
  const sims = await startSimulators(accounts);
  const env = {
    AKUBELA_TIMEOUT_MS: "60000",
    QUERY_MAX_COST: "100000000",
    MAX_VENDOR_CALLS_PER_OPERATION: "1000000",
    VENDOR_MAX_IN_FLIGHT: String(IN_FLIGHT),
    CACHE_DEVICE_LIST_TTL_SECONDS: "0",
    CACHE_PERSON_TTL_SECONDS: "0",
    CACHE_KEEP_OPEN_TTL_SECONDS: "0",
    CACHE_USER_LIST_TTL_SECONDS: "0",
    CACHE_ACCESS_INFO_TTL_SECONDS: "0",
    CACHE_CARD_PERMISSIONS_TTL_SECONDS: "0",
  };
  const nodeArgs = process.env.BENCH_FACADE_NODE_ARGS?.split(" ").filter(Boolean);
  let facade = await startFacadeProcess(sims, env, nodeArgs);
  try {
    const [dashboard] = operations(accounts);
    const idle = await facade.memory();
    await Promise.all([sims.akubela, sims.aliyun].map((url) => fetch(`${url}/__sim/received`, { method: "DELETE" })));
    const cpuBefore = await facade.cpuMicros();
    const t = performance.now();
    const res = await fetch(facade.url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": DEMO_API_KEY },
      body: JSON.stringify({ query: DASHBOARD, variables: { p: DEMO_PROJECT_ID } }),
    });
    const text = await res.text();
    const seconds = (performance.now() - t) / 1000;
    const cpuSeconds = ((await facade.cpuMicros()) - cpuBefore) / 1e6;
    const body = JSON.parse(text) as { errors?: { message: string }[] };
    if (body.errors) throw new Error(`bench: the ${accounts}-account dashboard answered errors: ${body.errors.slice(0, 3).map((e) => e.message).join("; ")}`);
    let vendorCalls = 0;
    for (const url of [sims.akubela, sims.aliyun]) vendorCalls += ((await (await fetch(`${url}/__sim/received`)).json()) as unknown[]).length;
    const { peakRssMB } = await facade.memory();
    const floor = floorMs(dashboard, IN_FLIGHT) / 1000;
    // Then the BI export of every account's credentials (`get_user_access_info` for each), streamed page by page, by
    // a process of its own too (a peak is a process's whole life).
    await facade.stop();
    facade = await startFacadeProcess(sims, env, nodeArgs);
    const te = performance.now();
    const exported = await fetch(`${facade.url.replace(/\/graphql$/, "")}/reports/credentials.csv?projectId=${DEMO_PROJECT_ID}`, { headers: { "x-api-key": DEMO_API_KEY } });
    if (exported.status !== 200) throw new Error(`bench: the credentials export answered ${exported.status}`);
    let exportRows = -1; // the header line
    for await (const chunk of exported.body!) for (const byte of chunk as Uint8Array) if (byte === 10) exportRows++;
    const exportSeconds = (performance.now() - te) / 1000;
    const afterExport = await facade.memory();
    return {
      accounts,
      vendorCalls,
      lowerBound: dashboard.lowerBound,
      seconds: round(seconds, 2),
      floorSeconds: round(floor, 2),
      secondsOverFloor: round(seconds / floor, 2),
      cpuSeconds: round(cpuSeconds, 2),
      idleRssMB: idle.rssMB,
      peakRssMB,
      answerMB: round(Buffer.byteLength(text) / 2 ** 20),
      exportRows,
      exportSeconds: round(exportSeconds, 2),
      exportPeakRssMB: afterExport.peakRssMB,
    };
  } finally {
    await facade.stop();
    sims.stop();
  }
}

// ---- events (issue 17) ------------------------------------------------------------------------------------------
const EVENT_SUB = `subscription($p: ID!, $r: ID) { accessEvents(projectId: $p, residenceId: $r) { eventId kind residenceId occurredAt } }`;
/** Accounts the seed needs for `residences` residences (above 144 accounts it makes ceil(accounts / 2.5)). */
const accountsFor = (residences: number) => (residences <= 48 ? 120 : Math.floor(residences * 2.5));
const waitFor = async (what: string, check: () => boolean, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};
/** The interval the poller's budget allows for `residences` residences: 3 calls each (src/events/poller.ts fairInterval). */
const fairIntervalMs = (residences: number, perMinute: number, minMs: number, maxMs: number) => Math.min(maxMs, Math.max(minMs, Math.ceil((residences * 3 * 60_000) / perMinute)));

function eventApp(sims: { akubela: string; aliyun: string }, env: Record<string, string>): Promise<App> {
  return startVariant("default cache", sims, [], { EVENTS_POLL: "true", ...env });
}
function wsSubscriber(app: App, variables: Record<string, unknown>, onEvent: (e: Record<string, any>) => void): { ready: Promise<void>; client: WsClient } {
  let opened!: () => void;
  const ready = new Promise<void>((r) => (opened = r));
  const client = createWsClient({ url: app.url.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { "x-api-key": DEMO_API_KEY }, retryAttempts: 0, lazy: false, on: { connected: () => opened() } });
  client.subscribe({ query: EVENT_SUB, variables }, { next: (m) => m.data && onEvent((m.data as any).accessEvents), error: (e) => process.stderr.write(`bench: subscription error ${JSON.stringify(e)}\n`), complete: () => {} });
  return { ready, client };
}

interface EventLatencyRow { events: number; residences: number; budgetPerMinute: number; minIntervalMs: number; maxIntervalMs: number; fairIntervalMs: number; p50Ms: number; p99Ms: number }
/** Occurrence in the simulator (POST /__sim/events) to a graphql-ws subscriber's message, one event at a time. */
async function eventLatency(): Promise<EventLatencyRow> {
  const residences = 48;
  const sims = await startSimulators(accountsFor(residences));
  const minMs = 500;
  const maxMs = 60_000;
  const app = await eventApp(sims, { EVENTS_POLL_BUDGET_PER_MINUTE: String(EVENTS_BUDGET), EVENTS_POLL_MIN_INTERVAL_MS: String(minMs), EVENTS_POLL_MAX_INTERVAL_MS: String(maxMs) });
  try {
    const project = createAkubelaSeed({ accounts: accountsFor(residences) }).projects.get(DEMO_PROJECT_ID)!;
    const residenceId = [...project.residences.values()][0]!.residence_id;
    const seen: number[] = [];
    const sub = wsSubscriber(app, { p: DEMO_PROJECT_ID, r: residenceId }, (e) => { if (process.env.BENCH_DEBUG) process.stderr.write(`event ${JSON.stringify(e)}\n`); if (e.kind === "DOOR_OPENED") seen.push(performance.now()); });
    await sub.ready;
    // Events before a residence's first poll are its baseline, not news: wait for a first pass over every residence.
    await waitFor("the poller's first pass", () => (app.poller?.stats.calls ?? 0) >= residences * 3 + 2);
    await new Promise((r) => setTimeout(r, 500)); // the subscription is registered on the server
    const latencies: number[] = [];
    // Each event names its own resident: two openings alike to the second are one row of the vendor's history, and
    // the log keeps them once (src/events/model.ts, eventIdOf), so identical ones within a second would never arrive.
    for (let i = 0; i < EVENTS_N; i++) {
      const before = seen.length;
      const t = performance.now();
      const res = await fetch(`${sims.akubela}/__sim/events`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "open_door", residenceId, method: "Face", accountName: `bench resident ${i}` }) });
      if (!res.ok) throw new Error(`bench: /__sim/events answered ${res.status}`);
      if (process.env.BENCH_DEBUG) process.stderr.write(`injected ${await res.text()} polls ${app.poller!.stats.calls}\n`);
      await waitFor("the injected event at the subscriber", () => seen.length > before, Number(process.env.BENCH_EVENTS_TIMEOUT_MS ?? 60_000));
      latencies.push(seen[before]! - t);
    }
    await sub.client.dispose();
    return { events: EVENTS_N, residences, budgetPerMinute: EVENTS_BUDGET, minIntervalMs: minMs, maxIntervalMs: maxMs, fairIntervalMs: fairIntervalMs(residences, EVENTS_BUDGET, minMs, maxMs), p50Ms: round(quantile(latencies, 0.5)), p99Ms: round(quantile(latencies, 0.99)) };
  } finally {
    await app.stop();
    sims.stop();
  }
}

interface PollerRateRow { residences: number; windowS: number; calls: number; callsPerMinute: number; budgetWindowCalls: number; budgetPerMinute: number; fairIntervalMs: number }
/** The poller at its default budget and intervals for `residences` residences, `EVENTS_WINDOW_S` seconds, per minute. */
async function pollerRate(residences: number): Promise<PollerRateRow> {
  const sims = await startSimulators(accountsFor(residences));
  const app = await eventApp(sims, {});
  try {
    const started = app.poller!.stats.calls;
    await new Promise((r) => setTimeout(r, EVENTS_WINDOW_S * 1000));
    const calls = app.poller!.stats.calls - started;
    const c = loadConfig({ AKUBELA_BASE_URL: sims.akubela, AKUBELA_TOKEN: DEMO_AKUBELA_TOKEN, AKUBELA_PROJECT_IDS: DEMO_PROJECT_ID, ALIYUN_BASE_URL: sims.aliyun, ALIYUN_APP_KEY: DEMO_ALIYUN_APP_KEY, ALIYUN_APP_SECRET: DEMO_ALIYUN_APP_SECRET, SITE_MAP: DEMO_SITE_MAP_PATH, API_KEYS_FILE: DEMO_API_KEYS_PATH });
    const budget = c.events.pollBudgetPerMinute;
    return { residences, windowS: EVENTS_WINDOW_S, calls, callsPerMinute: round((calls * 60) / EVENTS_WINDOW_S), budgetWindowCalls: app.poller!.callsInLastMinute(), budgetPerMinute: budget, fairIntervalMs: fairIntervalMs(residences, budget, c.events.pollMinIntervalMs, c.events.pollMaxIntervalMs) };
  } finally {
    await app.stop();
    sims.stop();
  }
}

interface IdleSubscribersRow { subscribers: number; rssDeltaMB: number; heapDeltaMB: number }
/** RSS and heap of this process before and after `EVENTS_SUBSCRIBERS` idle graphql-ws subscribers (clients included). */
async function idleSubscribers(): Promise<IdleSubscribersRow> {
  const sims = await startSimulators(120);
  const app = await eventApp(sims, {});
  const clients: WsClient[] = [];
  try {
    gc?.();
    const before = process.memoryUsage();
    for (let i = 0; i < EVENTS_SUBSCRIBERS; i += 50) {
      const batch = Array.from({ length: Math.min(50, EVENTS_SUBSCRIBERS - i) }, () => wsSubscriber(app, { p: DEMO_PROJECT_ID }, () => {}));
      await Promise.all(batch.map((b) => b.ready));
      clients.push(...batch.map((b) => b.client));
    }
    await new Promise((r) => setTimeout(r, 1000));
    gc?.();
    const after = process.memoryUsage();
    return { subscribers: EVENTS_SUBSCRIBERS, rssDeltaMB: round((after.rss - before.rss) / 2 ** 20), heapDeltaMB: round((after.heapUsed - before.heapUsed) / 2 ** 20) };
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    await app.stop();
    sims.stop();
  }
}

// ---- the cached query against a bare Apollo Server (issue 16) ----------------------------------------------------
/**
 * The cached-residence ratio with the in-process cache, then with a Redis of the bench's own (no persistence); each
 * with the response memo as deployed, then without it (every request executed: the cost of execution itself).
 */
async function cachedRows(): Promise<CachedRatioRow[]> {
  const rows: CachedRatioRow[] = [];
  const sims = await startSimulators(120);
  try {
    for (const memo of [true, false]) rows.push(await cachedRatio(sims, { seconds: CACHED_SECONDS, memo }));
    const port = await freePort();
    const redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    try {
      await new Promise((r) => setTimeout(r, 300));
      for (const memo of [true, false]) rows.push(await cachedRatio(sims, { seconds: CACHED_SECONDS, redisUrl: `redis://127.0.0.1:${port}`, memo }));
    } catch (error) {
      process.stderr.write(`bench: the Redis row was not measured (${error instanceof Error ? error.message : String(error)})\n`);
    } finally {
      redis.kill("SIGKILL");
    }
  } finally {
    sims.stop();
  }
  return rows;
}

// ---- run -------------------------------------------------------------------------------------------------------
process.stderr.write(`bench: vendor latency ${LATENCY} ms, ${ITERATIONS} iterations, concurrency ${CONCURRENCY}, scales ${SCALES.join(", ")}${gc ? "" : " (run with --expose-gc for exact memory)"}\n`);
const sims = await startSimulators(120);
const ops = operations(120);
const rows: Row[] = [];
const coalesced: CoalescingRow[] = [];
const budgets: BudgetRow[] = [];
let warm: WarmDashboardRow | undefined;
try {
  if (runs("operations")) for (const variant of ["optimized", "naive", "warm cache"] as const) rows.push(...(await measure(variant, sims, ops)));
  if (runs("operations")) warm = await warmDashboard(sims, ops[0], 120);
  if (runs("coalescing")) for (const name of ["account credentials, both vendors", "residence detail"]) coalesced.push(await coalescing(sims, ops.find((o) => o.name === name)!));
  if (runs("budgets")) for (const n of BUDGETS) budgets.push(await budget(sims, ops[0], n));
} finally {
  sims.stop();
}
const cached: CachedRatioRow[] = runs("cached") ? await cachedRows() : [];
const scales: ScaleRow[] = [];
if (runs("scales")) for (const n of SCALES) scales.push(await scale(n));
const events: { latency?: EventLatencyRow; poller: PollerRateRow[]; idle?: IdleSubscribersRow } = { poller: [] };
if (runs("events")) {
  events.latency = await eventLatency();
  for (const n of EVENTS_RESIDENCES) events.poller.push(await pollerRate(n));
  events.idle = await idleSubscribers();
}

const pad = (v: unknown, n: number) => String(v).padEnd(n);
const lines = [
  `vendor latency ${LATENCY} ms · ${ITERATIONS} sequential runs for p50/p99 · throughput at concurrency ${CONCURRENCY}`,
  "",
  `${pad("operation", 34)}${pad("variant", 12)}${pad("calls", 7)}${pad("bound", 7)}${pad("×bound", 8)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("req/s", 8)}${pad("chain", 7)}${pad("p50/(chain×lat)", 17)}${pad("floor ms", 10)}p50/floor`,
  ...rows.map(
    (r) =>
      `${pad(r.operation, 34)}${pad(r.variant, 12)}${pad(r.vendorCalls, 7)}${pad(r.lowerBound, 7)}${pad(r.callsOverBound, 8)}${pad(r.p50Ms, 9)}${pad(r.p99Ms, 9)}${pad(r.throughputPerS, 8)}${pad(r.chain, 7)}${pad(r.latencyOverChain, 17)}${pad(r.floorMs, 10)}${r.latencyOverFloor}`,
  ),
  "",
  `floor: with ${IN_FLIGHT} vendor calls of the tenant in flight (VENDOR_MAX_IN_FLIGHT), an answer needs at least max(chain, ⌈bound ÷ ${IN_FLIGHT}⌉) × latency.`,
  "",
  "naive ÷ optimized:",
  ...ops.filter(() => rows.length > 0).map((op) => {
    const o = rows.find((r) => r.operation === op.name && r.variant === "optimized")!;
    const n = rows.find((r) => r.operation === op.name && r.variant === "naive")!;
    const w = rows.find((r) => r.operation === op.name && r.variant === "warm cache")!;
    return `  ${pad(op.name, 34)} calls ×${round(n.vendorCalls / o.vendorCalls, 2)}, p50 ×${round(n.p50Ms / o.p50Ms, 2)}; warm cache: calls ${w.vendorCalls}, p50 ${w.p50Ms} ms`;
  }),
  ...(warm
    ? [
        "",
        `warm-cache dashboard (${warm.accounts} accounts, re-run within the default TTLs): ${warm.vendorCalls} vendor calls (cold run ${warm.coldVendorCalls}), p50 ${warm.p50Ms} ms, p99 ${warm.p99Ms} ms`,
      ]
    : []),
  "",
  `coalescing: ${COALESCE_N} identical requests at once, cache TTLs at their defaults:`,
  `${pad("operation", 36)}${pad("calls", 8)}distinct`,
  ...coalesced.map((c) => `${pad(c.operation, 36)}${pad(c.vendorCalls, 8)}${c.distinctCalls}`),
  "",
  "project dashboard alone by per-tenant budget (VENDOR_MAX_IN_FLIGHT):",
  `${pad("in flight", 11)}${pad("p50 ms", 9)}${pad("chain", 7)}${pad("p50/(chain×lat)", 17)}${pad("floor ms", 10)}p50/floor`,
  ...budgets.map((b) => `${pad(b.inFlight, 11)}${pad(b.p50Ms, 9)}${pad(b.chain, 7)}${pad(b.latencyOverChain, 17)}${pad(b.floorMs, 10)}${b.latencyOverFloor}`),
  "",
  `fully cached residence query (${CACHED_RESIDENCE.length} characters: devices, relays, accounts, credentials), autocannon ${cached[0]?.connections ?? 50} connections, the facade against a bare Apollo Server on the same SDL answering the same JSON from memory, in turns:`,
  `${pad("cache", 12)}${pad("memo", 6)}${pad("facade req/s", 14)}${pad("bare req/s", 12)}${pad("ratio", 7)}${pad("p50 ms", 14)}${pad("CPU µs/request", 16)}vendor calls`,
  ...cached.map(
    (c) =>
      `${pad(c.cache, 12)}${pad(c.memo, 6)}${pad(c.facadeReqPerS, 14)}${pad(c.bareReqPerS, 12)}${pad(c.ratio, 7)}${pad(`${c.facadeP50Ms} / ${c.bareP50Ms}`, 14)}${pad(`${c.facadeCpuMicrosPerRequest} / ${c.bareCpuMicrosPerRequest}`, 16)}${c.vendorCallsDuringLoad}`,
  ),
  "",
  `project dashboard by size (optimized, a facade process of its own per size, ${IN_FLIGHT} calls in flight):`,
  `${pad("accounts", 10)}${pad("calls", 8)}${pad("bound", 8)}${pad("seconds", 9)}${pad("floor s", 9)}${pad("÷floor", 8)}${pad("CPU s", 7)}${pad("idle RSS MB", 13)}${pad("peak RSS MB", 13)}${pad("answer MB", 11)}${pad("export rows", 13)}${pad("export s", 10)}export peak RSS MB`,
  ...scales.map(
    (s) =>
      `${pad(s.accounts, 10)}${pad(s.vendorCalls, 8)}${pad(s.lowerBound, 8)}${pad(s.seconds, 9)}${pad(s.floorSeconds, 9)}${pad(s.secondsOverFloor, 8)}${pad(s.cpuSeconds, 7)}${pad(s.idleRssMB, 13)}${pad(s.peakRssMB, 13)}${pad(s.answerMB, 11)}${pad(s.exportRows, 13)}${pad(s.exportSeconds, 10)}${s.exportPeakRssMB}`,
  ),
  ...(events.latency
    ? [
        "",
        `events: simulator occurrence (POST /__sim/events) to a graphql-ws subscriber, ${events.latency.events} events one at a time, ${events.latency.residences} residences:`,
        `  p50 ${events.latency.p50Ms} ms, p99 ${events.latency.p99Ms} ms; budget ${events.latency.budgetPerMinute}/min allows a ${events.latency.fairIntervalMs} ms interval (min ${events.latency.minIntervalMs} ms after activity)`,
        `poller vendor calls at its default budget, ${EVENTS_WINDOW_S} s window per size, extrapolated per minute:`,
        `  (the budget is a sliding minute: a window shorter than 60 s starts with its burst, so ×60/window overstates; "in budget's minute" is the poller's own count)`,
        `${pad("residences", 12)}${pad("calls", 8)}${pad("×60/window", 12)}${pad("in budget's minute", 20)}${pad("budget", 8)}interval the budget allows ms`,
        ...events.poller.map((p) => `${pad(p.residences, 12)}${pad(p.calls, 8)}${pad(p.callsPerMinute, 12)}${pad(p.budgetWindowCalls, 20)}${pad(p.budgetPerMinute, 8)}${p.fairIntervalMs}`),
        `${events.idle!.subscribers} idle graphql-ws subscribers on one instance (clients in the same process): RSS +${events.idle!.rssDeltaMB} MB, heap +${events.idle!.heapDeltaMB} MB`,
      ]
    : []),
];
console.log(lines.join("\n"));
await mkdir(new URL("../bench/", import.meta.url), { recursive: true });
const resultsUrl = new URL("../bench/results.json", import.meta.url);
// With BENCH_ONLY the sections not run keep their last results.
const previous = ONLY ? (JSON.parse(await readFile(resultsUrl, "utf8").catch(() => "{}")) as Record<string, unknown>) : {};
const fresh: Record<string, unknown> = { operations: rows, warmDashboard: warm, coalescing: coalesced, budgets, cached, scales, events };
const sections: Record<string, string> = { operations: "operations", warmDashboard: "operations", coalescing: "coalescing", budgets: "budgets", cached: "cached", scales: "scales", events: "events" };
const merged = Object.fromEntries(Object.entries(fresh).map(([k, v]) => [k, runs(sections[k]) ? v : previous[k]]));
await writeFile(
  resultsUrl,
  `${JSON.stringify({ generatedAt: new Date().toISOString(), node: process.version, latencyMs: LATENCY, iterations: ITERATIONS, concurrency: CONCURRENCY, vendorMaxInFlight: IN_FLIGHT, ...merged }, null, 2)}\n`,
);
console.log("\nwrote bench/results.json");
process.exit(0);
