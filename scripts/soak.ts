/**
 * `npm run soak`: N concurrent clients for T seconds of mixed queries and mutations against the graph, with the
 * vendor simulators in a child process on loopback (so the memory measured is the facade's alone). Bounded: it
 * stops by itself. Prints requests, errors, p50/p99 and the facade's memory (heap after GC, RSS) at start and end.
 *
 *   SOAK_CLIENTS (default 16)   SOAK_SECONDS (default 30)   SOAK_LATENCY_MS (vendor latency, default 5)
 *   REDIS_URL (optional: the shared cache on Redis instead of in-process)
 *
 * `SOAK_SCENARIO=redis-stall`: a redis-server of its own (no persistence), SOAK_SECONDS of load, then Redis stopped
 * (SIGSTOP) for SOAK_STALL_SECONDS (default 10), then SOAK_SECONDS more after SIGCONT. The mix gains door openings
 * with an idempotency key (a third of them repeats of an earlier key, as a retrying client sends). Prints p50/p99
 * before, during and after the stall, and the doors opened twice: vendor commands per key, read back from the
 * simulator's record (must be 0).
 *
 * `SOAK_SCENARIO=anonymous-flood`: SOAK_SECONDS of the legitimate mix alone, then SOAK_SECONDS more while
 * SOAK_FLOOD_CLIENTS (default 8) clients without a credential send ~900 KB documents as fast as they are answered.
 * Prints the legitimate p50/p99 without and with the flood, and how the flood was answered (statuses).
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { DEMO_API_KEY, startApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { toGlobalId } from "../src/lib/global-id.js";
import { createLogger } from "../src/logger.js";
import { createAkubelaSeed, DEMO_PROJECT_ID, residenceDevices } from "../src/simulators/akubela/index.js";
import { createAliyunSeed } from "../src/simulators/aliyun/index.js";
import { freePort, simulatorEnv, startSimulatorsProcess } from "./support.js";

const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 16);
const SECONDS = Number(process.env.SOAK_SECONDS ?? 30);
const LATENCY = Number(process.env.SOAK_LATENCY_MS ?? 5);
if (!(CLIENTS >= 1 && CLIENTS <= 256 && SECONDS >= 1 && SECONDS <= 3600)) throw new Error("SOAK_CLIENTS must be 1..256 and SOAK_SECONDS 1..3600");
const SCENARIO = process.env.SOAK_SCENARIO ?? "";
const STALL_SECONDS = Number(process.env.SOAK_STALL_SECONDS ?? 10);
if (SCENARIO && SCENARIO !== "redis-stall" && SCENARIO !== "anonymous-flood") throw new Error("SOAK_SCENARIO must be redis-stall, anonymous-flood (or unset)");
const FLOOD_CLIENTS = Number(process.env.SOAK_FLOOD_CLIENTS ?? 8);
const gc = (globalThis as { gc?: () => void }).gc;

const memory = () => {
  gc?.();
  const m = process.memoryUsage();
  return { heapMB: +(m.heapUsed / 2 ** 20).toFixed(1), rssMB: +(m.rss / 2 ** 20).toFixed(1) };
};

// ---- the vendors, in a child process --------------------------------------------------------------------------
const sims = await startSimulatorsProcess({ latencyMs: LATENCY });
const stopSims = sims.stop;

// ---- Redis of its own, for the stall scenario ------------------------------------------------------------------
let redisChild: ReturnType<typeof spawn> | undefined;
let redisUrl = process.env.REDIS_URL;
if (SCENARIO === "redis-stall") {
  const port = await freePort();
  redisChild = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  process.once("exit", () => redisChild?.kill("SIGKILL"));
  await new Promise((r) => setTimeout(r, 300));
  redisUrl = `redis://127.0.0.1:${port}`;
}

// ---- the facade, in this process -------------------------------------------------------------------------------
const config = loadConfig({
  ...simulatorEnv(sims),
  PORT: "0",
  LOG_LEVEL: "warn",
  ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
});
const logger = createLogger(config.logLevel, {}, () => {});
const app = await startApp(config, logger);

// ---- the workload: what the demo property offers -----------------------------------------------------------------
const seed = createAkubelaSeed();
const project = seed.projects.get(DEMO_PROJECT_ID)!;
const accounts = [...project.accounts.values()];
const iotIds = [...createAliyunSeed().devices.values()].filter((d) => d.online).map((d) => d.iotId);
const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)]!;
const A = (a: (typeof accounts)[number]) => toGlobalId("Account", DEMO_PROJECT_ID, a.residence_id, a.account_id);

async function gql(query: string, variables: Record<string, unknown>): Promise<{ ok: boolean; data?: any }> {
  const res = await fetch(app.url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": DEMO_API_KEY },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  const payloadErrors = body.data && Object.values(body.data).some((v: any) => Array.isArray(v?.userErrors) && v.userErrors.length > 0);
  return { ok: res.status === 200 && !body.errors && !payloadErrors, data: body.data };
}

/** Each operation returns whether it succeeded; the mix is about 60 % reads, 25 % writes, 10 % doors, 5 % reports. */
const OPERATIONS: [number, string, () => Promise<boolean>][] = [
  [25, "residence page", async () => {
    const a = pick(accounts);
    return (await gql(`query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { residenceNo devices { name relays { name } } openDoorConfig { nfc { enabled } } openDoorHistory(first: 10) { nodes { occurredAt } } } }`, { p: DEMO_PROJECT_ID, r: a.residence_id })).ok;
  }],
  [20, "account credentials", async () => {
    const a = pick(accounts);
    return (await gql(`query($p: ID!, $r: ID!, $a: ID!) { account(projectId: $p, residenceId: $r, accountId: $a) { displayName credentials { pinCodes { id } rfCards { id } } cardPermissions { cardId } } }`, { p: DEMO_PROJECT_ID, r: a.residence_id, a: a.account_id })).ok;
  }],
  [15, "accounts page", async () => (await gql(`query($p: ID!) { project(projectId: $p) { accounts(first: 50) { totalCount nodes { displayName residence { residenceNo } } } } }`, { p: DEMO_PROJECT_ID })).ok],
  [15, "PIN create + delete", async () => {
    const a = pick(accounts);
    const created = await gql(`mutation($input: CredentialNumberInput!) { pinCodeCreate(input: $input) { pinCode { id } userErrors { code } } }`, { input: { account: A(a), number: String(10_000_000 + Math.floor(Math.random() * 89_999_999)) } });
    if (!created.ok || !created.data.pinCodeCreate.pinCode) return false;
    return (await gql(`mutation($input: CredentialDeleteInput!) { credentialDelete(input: $input) { userErrors { code } } }`, { input: { id: created.data.pinCodeCreate.pinCode.id } })).ok;
  }],
  [10, "keep-open toggle", async () => (await gql(`mutation($input: KeepOpenSetInput!) { keepOpenSet(input: $input) { userErrors { code } } }`, { input: { device: toGlobalId("AliyunAccessControlDevice", pick(iotIds)), keepOpen: Math.random() < 0.5 } })).ok],
  [10, "door opening", async () => {
    if (Math.random() < 0.5) return (await gql(`mutation($input: DoorOpenInput!) { doorOpen(input: $input) { outcome userErrors { code } } }`, { input: { device: toGlobalId("AliyunAccessControlDevice", pick(iotIds)) } })).ok;
    const a = pick(accounts);
    const device = residenceDevices(project, project.residences.get(a.residence_id)!).find((d) => d.online && d.relays.length > 0);
    if (!device) return true;
    const res = await gql(`mutation($input: DoorOpenInput!) { doorOpen(input: $input) { outcome userErrors { code } } }`, {
      input: { device: toGlobalId("AkuvoxDevice", DEMO_PROJECT_ID, device.mac), residence: toGlobalId("Residence", DEMO_PROJECT_ID, a.residence_id) },
    });
    return res.ok && res.data.doorOpen.outcome === "OPENED";
  }],
  [5, "report page", async () => (await gql(`query($p: ID!) { devicesReport(projectId: $p, first: 100) { totalCount nodes { deviceKey online } } }`, { p: DEMO_PROJECT_ID })).ok],
];
/** Keyed door openings (stall scenario): key → the vendor request ids its answers carried. */
const keyed = new Map<string, Set<string>>();
const keyedIotId = iotIds[0]!;
if (SCENARIO === "redis-stall") {
  OPERATIONS.push([10, "door opening with idempotencyKey", async () => {
    const earlier = [...keyed.keys()];
    const key = earlier.length > 0 && Math.random() < 1 / 3 ? pick(earlier.slice(-50)) : randomUUID();
    if (!keyed.has(key)) keyed.set(key, new Set());
    const res = await gql(`mutation($input: DoorOpenInput!) { doorOpen(input: $input) { outcome vendorRequestId userErrors { code } } }`, {
      input: { device: toGlobalId("AliyunAccessControlDevice", keyedIotId), idempotencyKey: key },
    });
    const id = res.data?.doorOpen?.vendorRequestId;
    if (id) keyed.get(key)!.add(id);
    return res.ok;
  }]);
  // The unkeyed openings use the other devices, so every command the keyed device received belongs to a key.
  iotIds.splice(0, 1);
}
const totalWeight = OPERATIONS.reduce((s, [w]) => s + w, 0);
const pickOperation = () => {
  let r = Math.random() * totalWeight;
  for (const op of OPERATIONS) if ((r -= op[0]) < 0) return op;
  return OPERATIONS[0];
};

// ---- run -------------------------------------------------------------------------------------------------------
async function runFor(ms: number, record: boolean, onTick?: (startedAt: number, ms: number, name: string, ok: boolean) => void) {
  const durations: number[] = [];
  const errors = new Map<string, number>();
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (Date.now() < end) {
        const [, name, op] = pickOperation();
        const started = performance.now();
        let ok = false;
        try {
          ok = await op();
        } catch {
          ok = false;
        }
        onTick?.(Date.now(), performance.now() - started, name, ok);
        if (record) {
          durations.push(performance.now() - started);
          if (!ok) errors.set(name, (errors.get(name) ?? 0) + 1);
        }
      }
    }),
  );
  return { durations, errors };
}

if (SCENARIO === "redis-stall") {
  await runStallScenario();
  await app.stop();
  stopSims();
  redisChild?.kill("SIGKILL");
  process.exit(process.exitCode ?? 0);
}

if (SCENARIO === "anonymous-flood") {
  await runFloodScenario();
  await app.stop();
  stopSims();
  process.exit(process.exitCode ?? 0);
}

async function runFloodScenario() {
  process.stderr.write(`soak anonymous-flood: ${CLIENTS} legitimate clients, ${SECONDS} s alone then ${SECONDS} s beside ${FLOOD_CLIENTS} anonymous clients sending ~900 KB documents\n`);
  await runFor(Math.min(3000, SECONDS * 200), false);
  const pct = (xs: number[], p: number) => +([...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0).toFixed(1);
  const quiet = await runFor(SECONDS * 1000, true);
  // The flood runs in a child process (its own CPU, as real clients would be): a document of ~900 KB, one field
  // selected over and over (what a careless or hostile client sends), from FLOOD_CLIENTS loops.
  const floodCode = `
    const big = JSON.stringify({ query: "{ " + "__typename ".repeat(82000) + " }" });
    const statuses = {}; let on = true;
    process.on("message", () => { on = false; });
    await Promise.all(Array.from({ length: ${FLOOD_CLIENTS} }, async () => {
      while (on) {
        let s;
        try { const r = await fetch(process.env.URL, { method: "POST", headers: { "content-type": "application/json" }, body: big }); await r.arrayBuffer(); s = String(r.status); }
        catch (e) { s = "error:" + (e?.cause?.code ?? "fetch"); }
        statuses[s] = (statuses[s] ?? 0) + 1;
      }
    }));
    process.send({ statuses, bytes: big.length }, () => process.exit(0));`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", floodCode], { env: { ...process.env, URL: app.url }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const floodDone = new Promise<{ statuses: Record<string, number>; bytes: number }>((resolve) => child.once("message", (m) => resolve(m as { statuses: Record<string, number>; bytes: number })));
  await new Promise((r) => setTimeout(r, 500));
  const loud = await runFor(SECONDS * 1000, true);
  child.send("stop");
  const { statuses, bytes } = await floodDone;
  const phase = (r: Awaited<ReturnType<typeof runFor>>) => ({ requests: r.durations.length, p50Ms: pct(r.durations, 0.5), p99Ms: pct(r.durations, 0.99), errors: [...r.errors.values()].reduce((a, b) => a + b, 0) });
  const result = { scenario: "anonymous-flood", clients: CLIENTS, floodClients: FLOOD_CLIENTS, documentBytes: bytes, withoutFlood: phase(quiet), withFlood: phase(loud), floodAnswers: statuses };
  console.log(JSON.stringify(result, null, 2));
  console.log(`\nlegitimate p50 ${result.withoutFlood.p50Ms} ms without the flood, ${result.withFlood.p50Ms} ms with it (p99 ${result.withoutFlood.p99Ms} → ${result.withFlood.p99Ms} ms); flood answered ${JSON.stringify(result.floodAnswers)}`);
  if (result.withoutFlood.errors + result.withFlood.errors > 0) process.exitCode = 1;
}

async function runStallScenario() {
  process.stderr.write(`soak redis-stall: ${CLIENTS} clients, ${SECONDS} s before, Redis SIGSTOPped ${STALL_SECONDS} s, ${SECONDS} s after; vendor latency ${LATENCY} ms\n`);
  await runFor(Math.min(3000, SECONDS * 200), false);
  keyed.clear();
  await fetch(`${sims.aliyun}/__sim/received`, { method: "DELETE" }); // the warm-up's commands are not counted
  const phases: Record<"before" | "during" | "after", { ms: number[]; errors: Map<string, number>; byOp: Map<string, number[]> }> = {
    before: { ms: [], errors: new Map(), byOp: new Map() },
    during: { ms: [], errors: new Map(), byOp: new Map() },
    after: { ms: [], errors: new Map(), byOp: new Map() },
  };
  const t0 = Date.now();
  const stallAt = t0 + SECONDS * 1000;
  const resumeAt = stallAt + STALL_SECONDS * 1000;
  const stall = setTimeout(() => redisChild!.kill("SIGSTOP"), stallAt - Date.now());
  const resume = setTimeout(() => redisChild!.kill("SIGCONT"), resumeAt - Date.now());
  await runFor(resumeAt + SECONDS * 1000 - Date.now(), false, (endedAt, ms, name, ok) => {
    const began = endedAt - ms;
    const phase = began < stallAt ? (endedAt < stallAt ? "before" : "during") : began < resumeAt ? "during" : "after";
    phases[phase].ms.push(ms);
    phases[phase].byOp.set(name, [...(phases[phase].byOp.get(name) ?? []), ms]);
    if (!ok) phases[phase].errors.set(name, (phases[phase].errors.get(name) ?? 0) + 1);
  });
  clearTimeout(stall);
  clearTimeout(resume);
  redisChild!.kill("SIGCONT");
  const pct = (xs: number[], p: number) => +([...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0).toFixed(1);
  const summary = Object.fromEntries(
    Object.entries(phases).map(([k, v]) => [k, {
        requests: v.ms.length,
        p50Ms: pct(v.ms, 0.5),
        p99Ms: pct(v.ms, 0.99),
        errorsByOperation: Object.fromEntries(v.errors),
        byOperation: Object.fromEntries([...v.byOp].map(([op, ms]) => [op, { requests: ms.length, p50Ms: pct(ms, 0.5), maxMs: pct(ms, 1) }])),
      }]),
  );
  // What the vendor received for the keyed device, attributed to keys by the request ids the answers carried.
  const received = (await (await fetch(`${sims.aliyun}/__sim/received`)).json()) as { path?: string; id?: string; params?: { iotId?: string } }[];
  const opens = received.filter((r) => r.path === "/cloud/thing/service/invoke" && r.params?.iotId === keyedIotId);
  const keyOfId = new Map<string, string>();
  for (const [key, ids] of keyed) for (const id of ids) keyOfId.set(id, key);
  const perKey = new Map<string, number>();
  let unattributed = 0;
  for (const o of opens) {
    const key = o.id ? keyOfId.get(o.id) : undefined;
    if (key) perKey.set(key, (perKey.get(key) ?? 0) + 1);
    else unattributed++;
  }
  const doorsOpenedTwice = [...perKey.values()].reduce((s, n) => s + Math.max(0, n - 1), 0) + [...keyed.values()].filter((ids) => ids.size > 1).length;
  const breaker = (app.cache.cache as { breaker?: { opened: number } }).breaker;
  const result = {
    scenario: "redis-stall",
    clients: CLIENTS,
    stallSeconds: STALL_SECONDS,
    ...summary,
    keysUsed: keyed.size,
    keyedVendorCommands: opens.length,
    unattributedVendorCommands: unattributed,
    doorsOpenedTwice,
    cacheBreakerOpened: breaker?.opened ?? 0,
    idempotencyBreakerOpened: (app.idempotency as { breaker?: { opened: number } }).breaker?.opened ?? 0,
    eventLogBreakerOpened: (app.events as { breaker?: { opened: number } }).breaker?.opened ?? 0,
    accessEventsDropped: (app.events as { dropped?: number }).dropped ?? 0,
  };
  console.log(JSON.stringify(result, null, 2));
  const line = (k: "before" | "during" | "after") => {
    const p = summary[k] as { p50Ms: number; p99Ms: number; requests: number };
    return `${k} p50 ${p.p50Ms} ms p99 ${p.p99Ms} ms (${p.requests} requests)`;
  };
  console.log(`\n${line("before")}; ${line("during")}; ${line("after")}; doors opened twice: ${doorsOpenedTwice}`);
  if (doorsOpenedTwice > 0) process.exitCode = 1;
}

process.stderr.write(`soak: ${CLIENTS} clients for ${SECONDS} s, vendor latency ${LATENCY} ms, cache ${config.redisUrl ? "redis" : "in-process"}${gc ? "" : " (run with --expose-gc for exact heap figures)"}\n`);
await runFor(Math.min(3000, SECONDS * 200), false); // warm-up: caches, JIT
const start = memory();
const t0 = Date.now();
const { durations, errors } = await runFor(SECONDS * 1000, true);
const elapsed = (Date.now() - t0) / 1000;
const end = memory();
durations.sort((a, b) => a - b);
const q = (p: number) => +(durations[Math.min(durations.length - 1, Math.floor(p * durations.length))] ?? 0).toFixed(1);
const errorCount = [...errors.values()].reduce((s, n) => s + n, 0);
const result = {
  clients: CLIENTS,
  seconds: SECONDS,
  vendorLatencyMs: LATENCY,
  requests: durations.length,
  perSecond: +(durations.length / elapsed).toFixed(1),
  errors: errorCount,
  errorsByOperation: Object.fromEntries(errors),
  p50Ms: q(0.5),
  p99Ms: q(0.99),
  memoryStart: start,
  memoryEnd: end,
  heapGrowthMB: +(end.heapMB - start.heapMB).toFixed(1),
};
console.log(JSON.stringify(result, null, 2));
console.log(
  `\n${result.requests} requests in ${elapsed.toFixed(1)} s (${result.perSecond}/s), ${errorCount} errors, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms; ` +
    `heap ${start.heapMB} → ${end.heapMB} MB, rss ${start.rssMB} → ${end.rssMB} MB`,
);
await app.stop();
stopSims();
process.exit(errorCount === 0 ? 0 : 1);
