/** What the soak and the benchmark share: free ports, and the simulators in a child process on loopback. */
import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { DEMO_API_KEYS_PATH, DEMO_SITE_MAP_PATH } from "../src/app.js";
import { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID } from "../src/simulators/akubela/index.js";
import { DEMO_ALIYUN_APP_KEY, DEMO_ALIYUN_APP_SECRET } from "../src/simulators/aliyun/index.js";

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * Both simulators (`scripts/simulators.ts`) in a child process, so the facade's time and memory are measured apart
 * from theirs; resolves once both answer.
 */
export async function startSimulatorsProcess(opts: { latencyMs: number; accounts?: number }): Promise<{ akubela: string; aliyun: string; stop(): void }> {
  const [a, b] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./simulators.ts", import.meta.url))], {
    env: {
      ...process.env,
      AKUBELA_SIM_PORT: String(a),
      ALIYUN_SIM_PORT: String(b),
      SIM_LATENCY_MS: String(opts.latencyMs),
      ...(opts.accounts ? { SIM_ACCOUNTS: String(opts.accounts) } : {}),
    },
    stdio: "ignore",
  });
  const stop = () => void child.kill("SIGTERM");
  process.once("exit", stop);
  for (const port of [a, b]) {
    for (let i = 0; ; i++) {
      try {
        await fetch(`http://127.0.0.1:${port}/`, { method: "POST" });
        break;
      } catch {
        if (i > 400) throw new Error("the simulators did not start");
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
  return { akubela: `http://127.0.0.1:${a}`, aliyun: `http://127.0.0.1:${b}`, stop };
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** A process of the benchmark (the facade, a reference server), with what /proc says of its CPU and memory. */
export interface MeasuredProcess {
  proc: ChildProcess;
  /** CPU time (user + system) used so far, µs. */
  cpuMicros(): Promise<number>;
  /** Resident set now and its peak since the process started (VmRSS, VmHWM), MB. */
  memory(): Promise<{ rssMB: number; peakRssMB: number }>;
  stop(): Promise<void>;
}

/**
 * Starts `node <args>` in the repository and resolves once `ready()` answers true. Its output is not kept (a log
 * line per request goes to /dev/null, as cheaply as to a collector's pipe).
 */
export async function startMeasuredProcess(args: string[], env: Record<string, string>, ready: () => Promise<boolean>): Promise<MeasuredProcess> {
  const proc = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] });
  const kill = () => void proc.kill("SIGKILL");
  process.once("exit", kill);
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`bench: node ${args.join(" ")} exited with ${proc.exitCode}`);
    if (await ready().catch(() => false)) break;
    if (i > 600) throw new Error(`bench: node ${args.join(" ")} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const status = async () => readFile(`/proc/${proc.pid}/status`, "utf8");
  const kb = (text: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
  return {
    proc,
    async cpuMicros() {
      const stat = await readFile(`/proc/${proc.pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime and stime, in clock ticks (100 a second on Linux).
      return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
    },
    async memory() {
      const text = await status();
      return { rssMB: Math.round(kb(text, "VmRSS") / 102.4) / 10, peakRssMB: Math.round(kb(text, "VmHWM") / 102.4) / 10 };
    },
    async stop() {
      process.removeListener("exit", kill);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * The configuration of a facade in front of the simulators with their demo credentials and the demo keys and site
 * map, on loopback, its rate limit out of the way (the soak and the benchmark load it on purpose).
 */
export function simulatorEnv(sims: { akubela: string; aliyun: string }): Record<string, string> {
  return {
    HOST: "127.0.0.1",
    AKUBELA_BASE_URL: sims.akubela,
    AKUBELA_TOKEN: DEMO_AKUBELA_TOKEN,
    AKUBELA_PROJECT_IDS: DEMO_PROJECT_ID,
    ALIYUN_BASE_URL: sims.aliyun,
    ALIYUN_APP_KEY: DEMO_ALIYUN_APP_KEY,
    ALIYUN_APP_SECRET: DEMO_ALIYUN_APP_SECRET,
    SITE_MAP: DEMO_SITE_MAP_PATH,
    API_KEYS_FILE: DEMO_API_KEYS_PATH,
    RATE_LIMIT_PER_MINUTE: "1000000",
  };
}
