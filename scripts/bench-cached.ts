/**
 * Issue 16's cached-query row: the facade answering a fully cached residence query (devices and relays, accounts and
 * their credentials: every read in the shared cache) against a bare Apollo Server on the same SDL returning the same
 * JSON from memory (`scripts/bare-apollo.ts`), both in child processes, loaded by autocannon (50 connections) from
 * this process, in turns (three rounds each by default, after a short warm-up), so that whatever else the machine
 * does weighs on both alike. `BENCH_CACHED_SECONDS` per server (default 12), `BENCH_CACHED_CONNECTIONS` (default 50),
 * `BENCH_CACHED_REDIS` (a `redis://` URL: the facade's cache on Redis instead of in-process),
 * `BENCH_CPU_PROF` (a directory: the facade runs with `--cpu-prof` there), `BENCH_CACHED_MEMO=off` (the response memo
 * off: every request executed).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { DEMO_API_KEY } from "../src/app.js";
import { createAkubelaSeed, DEMO_PROJECT_ID } from "../src/simulators/akubela/index.js";
import { freePort, simulatorEnv, startMeasuredProcess, type MeasuredProcess } from "./support.js";

export const CACHED_RESIDENCE = `query CachedResidence($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) {
  id residenceId residenceNo familyName
  devices { id mac name online deviceType isPublic relays { id relayId name security } securityRelays { id relayId name } }
  accounts { id accountId displayName firstName lastName email role
    credentials { pinCodes { id pinCodeId createdAt } rfCards { id rfCardId createdAt } faces { id faceId } } } } }`;

export interface CachedRatioRow {
  query: string;
  cache: string;
  /** The response memo (RESPONSE_MEMO_ENTRIES): `on` as deployed, `off` to measure execution itself. */
  memo: "on" | "off";
  connections: number;
  seconds: number;
  facadeReqPerS: number;
  bareReqPerS: number;
  ratio: number;
  facadeP50Ms: number;
  bareP50Ms: number;
  /** CPU time (user + system) the server process spent per request: steadier than req/s on a busy machine. */
  facadeCpuMicrosPerRequest: number;
  bareCpuMicrosPerRequest: number;
  facadeErrors: number;
  /** Vendor calls the facade sent during the load (0: fully cached). */
  vendorCallsDuringLoad: number;
}

let built: Promise<void> | undefined;
/** `npm run build` once per benchmark process: the facade is measured as the artefact deployed (`dist/`), not tsx. */
function buildOnce(): Promise<void> {
  built ??= new Promise<void>((resolve, reject) => {
    const build = spawn("npm", ["run", "build"], { cwd: fileURLToPath(new URL("..", import.meta.url)), stdio: ["ignore", "ignore", "inherit"] });
    build.on("error", reject);
    build.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`bench: npm run build exited ${code}`))));
  });
  return built;
}

/**
 * The facade as a process of its own, built (`npm run start:prod`'s command: node, the image's flags, `dist/index.js`; `BENCH_FACADE=tsx` runs
 * `src/index.ts` through tsx instead), against the simulators with their demo credentials, its event poller off (its
 * calls are no request's), logging at `info` as deployed; `env` adds or overrides.
 */
/**
 * The node flags the service runs with in production: `npm run start:prod`'s, which the image's CMD repeats
 * (test/build.test.ts keeps the two the same).
 */
export function productionNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { scripts: Record<string, string> };
  const words = pkg.scripts["start:prod"]!.split(/\s+/);
  return words.slice(words.indexOf("node") + 1, words.indexOf("dist/index.js"));
}

export async function startFacadeProcess(sims: { akubela: string; aliyun: string }, env: Record<string, string>, nodeArgs: string[] = []): Promise<MeasuredProcess & { url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/graphql`;
  const fromSource = process.env.BENCH_FACADE === "tsx";
  if (!fromSource) await buildOnce();
  // The built service starts as the image starts it (its node flags included); the sources as `npm start` does.
  const proc = await startMeasuredProcess(
    fromSource ? [...nodeArgs, "--import", "tsx", "src/index.ts"] : [...productionNodeFlags(), ...nodeArgs, "dist/index.js"],
    {
      ...simulatorEnv(sims),
      NODE_ENV: "development",
      PORT: String(port),
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info",
      EVENTS_POLL: "false",
      ...env,
    },
    async () => (await fetch(url.replace(/graphql$/, "healthz"))).ok,
  );
  return { ...proc, url };
}

async function load(server: MeasuredProcess, url: string, body: string, headers: Record<string, string>, connections: number, seconds: number) {
  const cpuBefore = await server.cpuMicros();
  const result = await autocannon({ url, method: "POST", connections, duration: seconds, body, headers: { "content-type": "application/json", ...headers } });
  const cpu = (await server.cpuMicros()) - cpuBefore;
  return { reqPerS: result.requests.average, p50Ms: result.latency.p50, errors: result.errors + result.non2xx + result.timeouts, cpuMicrosPerRequest: cpu / Math.max(1, result.requests.total) };
}

const received = async (sims: { akubela: string; aliyun: string }) => {
  let n = 0;
  for (const url of [sims.akubela, sims.aliyun]) n += ((await (await fetch(`${url}/__sim/received`)).json()) as unknown[]).length;
  return n;
};

export async function cachedRatio(
  sims: { akubela: string; aliyun: string },
  opts: { seconds?: number; connections?: number; rounds?: number; redisUrl?: string; cpuProfDir?: string; memo?: boolean } = {},
): Promise<CachedRatioRow> {
  const seconds = opts.seconds ?? 12;
  const connections = opts.connections ?? 50;
  const project = createAkubelaSeed().projects.get(DEMO_PROJECT_ID)!;
  // The residence with the most accounts: the largest answer of its kind in the demo property.
  const counts = new Map<string, number>();
  for (const a of project.accounts.values()) counts.set(a.residence_id, (counts.get(a.residence_id) ?? 0) + 1);
  const residenceId = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
  const body = JSON.stringify({ query: CACHED_RESIDENCE, variables: { p: DEMO_PROJECT_ID, r: residenceId } });
  const ask = async (url: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
    return (await res.json()) as { data?: { residence?: unknown }; errors?: unknown };
  };

  const facade = await startFacadeProcess(
    sims,
    {
      CACHE_DEVICE_LIST_TTL_SECONDS: "3600",
      CACHE_USER_LIST_TTL_SECONDS: "3600",
      CACHE_ACCESS_INFO_TTL_SECONDS: "3600",
      CACHE_MEMBERSHIP_TTL_SECONDS: "3600",
      ...(opts.redisUrl ? { REDIS_URL: opts.redisUrl, TOKEN_ENCRYPTION_KEY: "0".repeat(64) } : {}),
      ...(opts.memo === false ? { RESPONSE_MEMO_ENTRIES: "0" } : {}),
    },
    opts.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.cpuProfDir}`] : [],
  );
  let bare: MeasuredProcess | undefined;
  const facadeRuns: Awaited<ReturnType<typeof load>>[] = [];
  const bareRuns: Awaited<ReturnType<typeof load>>[] = [];
  let vendorCalls: number;
  try {
    const answer = await ask(facade.url, { "x-api-key": DEMO_API_KEY }); // warms the cache
    if (answer.errors || !answer.data?.residence) throw new Error(`bench: the cached residence query failed: ${JSON.stringify(answer.errors)}`);
    const dir = await mkdtemp(join(tmpdir(), "bare-"));
    const valueFile = join(dir, "value.json");
    await writeFile(valueFile, JSON.stringify(answer.data.residence));
    const barePort = await freePort();
    const bareUrl = `http://127.0.0.1:${barePort}/`;
    bare = await startMeasuredProcess(
      [...(opts.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.cpuProfDir}/bare`] : []), "--import", "tsx", "scripts/bare-apollo.ts"],
      { BARE_PORT: String(barePort), BARE_FIELD: "residence", BARE_VALUE_FILE: valueFile },
      async () => (await ask(bareUrl)).data !== undefined,
    );
    const same = await ask(bareUrl);
    if (JSON.stringify(same.data) !== JSON.stringify(answer.data)) throw new Error("bench: the bare server does not answer the facade's JSON");
    // Short warm-ups (the JIT), then the two loaded in turn, several rounds: a change in what else the machine does
    // falls on both alike.
    await load(facade, facade.url, body, { "x-api-key": DEMO_API_KEY }, connections, 1);
    await load(bare, bareUrl, body, {}, connections, 1);
    const before = await received(sims);
    const rounds = Math.max(1, opts.rounds ?? 3);
    const each = Math.max(1, Math.round(seconds / rounds));
    for (let i = 0; i < rounds; i++) {
      facadeRuns.push(await load(facade, facade.url, body, { "x-api-key": DEMO_API_KEY }, connections, each));
      bareRuns.push(await load(bare, bareUrl, body, {}, connections, each));
    }
    vendorCalls = (await received(sims)) - before;
  } finally {
    await facade.stop();
    await bare?.stop();
  }
  const mean = (runs: typeof facadeRuns, k: "reqPerS" | "p50Ms" | "cpuMicrosPerRequest") => runs.reduce((a, r) => a + r[k], 0) / runs.length;
  return {
    query: "cached residence (devices, relays, accounts, credentials)",
    cache: opts.redisUrl ? "redis" : "in-process",
    memo: opts.memo === false ? "off" : "on",
    connections,
    seconds,
    facadeReqPerS: Math.round(mean(facadeRuns, "reqPerS")),
    bareReqPerS: Math.round(mean(bareRuns, "reqPerS")),
    ratio: Math.round((mean(facadeRuns, "reqPerS") / mean(bareRuns, "reqPerS")) * 100) / 100,
    facadeP50Ms: Math.round(mean(facadeRuns, "p50Ms") * 10) / 10,
    bareP50Ms: Math.round(mean(bareRuns, "p50Ms") * 10) / 10,
    facadeCpuMicrosPerRequest: Math.round(mean(facadeRuns, "cpuMicrosPerRequest")),
    bareCpuMicrosPerRequest: Math.round(mean(bareRuns, "cpuMicrosPerRequest")),
    facadeErrors: facadeRuns.reduce((a, r) => a + r.errors, 0),
    vendorCallsDuringLoad: vendorCalls,
  };
}

// Run alone: `node --import tsx scripts/bench-cached.ts`.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { startSimulatorsProcess } = await import("./support.js");
  const sims = await startSimulatorsProcess({ latencyMs: 20 });
  try {
    const row = await cachedRatio(sims, {
      seconds: Number(process.env.BENCH_CACHED_SECONDS ?? 12),
      connections: Number(process.env.BENCH_CACHED_CONNECTIONS ?? 50),
      redisUrl: process.env.BENCH_CACHED_REDIS,
      cpuProfDir: process.env.BENCH_CPU_PROF,
      memo: process.env.BENCH_CACHED_MEMO !== "off",
    });
    console.log(JSON.stringify(row, null, 2));
  } finally {
    sims.stop();
  }
  process.exit(0);
}
