/**
 * The service in its own process, as operators run it: `src/index.ts` through tsx, or a built `dist/index.js`
 * with plain node. Production mode runs against simulators started here with non-demo credentials (production
 * refuses the demo ones); development mode with no vendor configured is demo mode (the simulators in-process).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hashApiKey } from "../../src/auth/api-keys.js";
import { DEMO_SITE_MAP_PATH } from "../../src/app.js";
import { DEMO_PROJECT_ID, startAkubelaSimulator, type AkubelaSimulator } from "../../src/simulators/akubela/index.js";
import { startAliyunSimulator, type AliyunSimulator } from "../../src/simulators/aliyun/index.js";
import { freePort } from "./redis.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const PROD_API_KEY = "process-test-api-key";
const PROD_AKUBELA_TOKEN = "process-test-akubela-token";
const PROD_ALIYUN = { appKey: "process-test-app-key", appSecret: "process-test-app-secret" };

/** Simulators and an API keys file that production mode accepts. */
export interface ProductionVendors {
  akubela: AkubelaSimulator;
  aliyun: AliyunSimulator;
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startProductionVendors(): Promise<ProductionVendors> {
  const akubela = await startAkubelaSimulator({ quiet: true, tokens: [PROD_AKUBELA_TOKEN] });
  const aliyun = await startAliyunSimulator({ quiet: true, ...PROD_ALIYUN });
  const dir = await mkdtemp(join(tmpdir(), "service-"));
  const keysFile = join(dir, "api-keys.json");
  await writeFile(keysFile, JSON.stringify({ keys: [{ name: "ops", sha256: hashApiKey(PROD_API_KEY), scopes: ["read", "write", "door:open"], projects: ["*"] }] }));
  return {
    akubela,
    aliyun,
    env: {
      AKUBELA_BASE_URL: akubela.url,
      AKUBELA_TOKEN: PROD_AKUBELA_TOKEN,
      AKUBELA_PROJECT_IDS: DEMO_PROJECT_ID,
      ALIYUN_BASE_URL: aliyun.url,
      ALIYUN_APP_KEY: PROD_ALIYUN.appKey,
      ALIYUN_APP_SECRET: PROD_ALIYUN.appSecret,
      SITE_MAP: DEMO_SITE_MAP_PATH,
      API_KEYS_FILE: keysFile,
    },
    close: async () => {
      await akubela.close();
      await aliyun.close();
    },
  };
}

export interface ServiceProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  base: string;
  port: number;
  /** Everything it printed, stdout and stderr. */
  output(): string;
  /** Its JSON log lines, parsed. */
  logs(): Array<Record<string, unknown> & { msg: string; level: string }>;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  kill(): void;
}

export interface SpawnOptions {
  env: Record<string, string | undefined>;
  /** `src` (tsx, the default) or the path of a built entry point (plain node). */
  entry?: string;
  cwd?: string;
  /** A whole command instead of node (e.g. `["npm", "start"]`). */
  command?: string[];
  /** Extra node flags (before the entry). */
  nodeArgs?: string[];
  /** Wait until `/healthz` answers (default true). */
  waitReady?: boolean;
  port?: number;
}

export async function spawnService(opts: SpawnOptions): Promise<ServiceProcess> {
  const port = opts.port ?? (await freePort());
  const args = opts.entry ? [...(opts.nodeArgs ?? []), opts.entry] : ["--import", "tsx", ...(opts.nodeArgs ?? []), join(ROOT, "src/index.ts")];
  const [file, ...argv] = opts.command ?? [process.execPath, ...args];
  const child = spawn(file, argv, {
    cwd: opts.cwd ?? ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: "127.0.0.1", PORT: String(port), LOG_LEVEL: "info", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so kill() also ends what a wrapper (npm start → sh → node) started.
    detached: true,
  });
  const chunks: string[] = [];
  child.stdout!.on("data", (d) => chunks.push(String(d)));
  child.stderr!.on("data", (d) => chunks.push(String(d)));
  const exited = once(child, "exit").then(([code, signal]) => (code ?? signal) as number | string);
  const output = () => chunks.join("");
  const service: ServiceProcess = {
    child,
    port,
    base: `http://127.0.0.1:${port}`,
    output,
    logs: () =>
      output()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l)),
    exited,
    kill: () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    },
  };
  if (opts.waitReady !== false) {
    let gone = false;
    void exited.then(() => (gone = true));
    await until("the service to answer /healthz", async () => {
      if (gone) throw new Error(`the service exited before answering:\n${output()}`);
      return (await fetch(`${service.base}/healthz`)).ok;
    }, 60_000, output);
  }
  return service;
}

/** Polls `check` until it is true; a thrown "exited" error stops at once. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000, context: () => string = () => ""): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("the service exited")) throw error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** POSTs a GraphQL query to the service. */
export function graphql(base: string, apiKey: string, query: string, variables: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": apiKey },
    body: JSON.stringify({ query, variables }),
  });
}
