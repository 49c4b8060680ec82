/**
 * Real Redis for the tests: Debian's `redis-server` on free ports (CI installs it), one server or a 3-master
 * cluster, each stoppable, killable and restartable on the same port.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "../../scripts/support.js";

const run = promisify(execFile);

// One free-port helper for tests and scripts (the soak scripts start servers too).
export { freePort };

/**
 * Empties every node a `REDIS_URL` names (`redis://h:p` or `redis+cluster://h:p,h:p,…`), so a test starts without
 * another's keys: every key but the idempotency store's epoch markers, whose disappearance under a running instance
 * is, rightly, a loss of records (src/idempotency/redis-store.ts). A node that is down (a test killed it) is skipped.
 */
export async function flushRedisUrl(url: string): Promise<void> {
  const hosts = url.replace(/^redis(\+cluster)?:\/\//, "").replace(/\/.*$/, "").replace(/^[^@]*@/, "").split(",");
  await Promise.all(
    hosts.map(async (h) => {
      const [host = "127.0.0.1", port = "6379"] = h.split(":");
      const cli = ["-h", host, "-p", port];
      const keys = await run("redis-cli", [...cli, "--scan"], { timeout: 2000 }).then(
        (r) => r.stdout.split("\n").filter((k) => k && !/^acg:idem:v1:\{s\d+\}:epoch$/.test(k)),
        () => [],
      );
      if (keys.length === 0) return;
      // One DEL per key (in a cluster, one node's keys sit in several slots), all through one redis-cli on stdin.
      const child = spawn("redis-cli", cli, { stdio: ["pipe", "ignore", "ignore"] });
      child.on("error", () => {});
      child.stdin.end(keys.map((k) => `DEL "${k.replace(/["\\]/g, "\\$&")}"\n`).join(""));
      await once(child, "exit");
    }),
  );
}

/** Sends `PING` until the server answers `+PONG` (or gives up after `timeoutMs`). */
async function waitForPing(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.setTimeout(500);
      socket.on("connect", () => socket.write("PING\r\n"));
      socket.on("data", (d) => {
        resolve(d.toString().startsWith("+PONG"));
        socket.destroy();
      });
      socket.on("error", () => resolve(false));
      socket.on("timeout", () => {
        resolve(false);
        socket.destroy();
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RedisServer {
  port: number;
  url: string;
  /** Stops it at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: the test servers run without persistence). */
  restart(): Promise<void>;
  /** Stalls it (SIGSTOP): the connection stays open, nothing is answered. */
  pause(): void;
  /** Resumes a stalled server (SIGCONT). */
  resume(): void;
  /** Runs redis-cli against it. */
  cli(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

async function spawnRedis(port: number, extra: string[] = [], dir?: string): Promise<ChildProcess> {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no", ...(dir ? ["--dir", dir] : []), ...extra];
  const child = spawn("redis-server", args, { stdio: "ignore" });
  child.on("error", () => {});
  await waitForPing(port);
  return child;
}

async function killChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined = await spawnRedis(port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: async () => {
      await killChild(child);
      child = undefined;
    },
    restart: async () => {
      child = await spawnRedis(port);
    },
    pause: () => void child?.kill("SIGSTOP"),
    resume: () => void child?.kill("SIGCONT"),
    cli: async (...args) => (await run("redis-cli", ["-p", String(port), ...args])).stdout,
    stop: async () => killChild(child),
  };
}

export interface RedisCluster {
  ports: number[];
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3` */
  url: string;
  cli(...args: string[]): Promise<string>;
  /** Kills master `i` (SIGKILL), as a crash would. */
  killNode(i: number): Promise<void>;
  /** Starts master `i` again on its port with its cluster config (it keeps its slots) and no data; waits for the cluster. */
  restartNode(i: number): Promise<void>;
  stop(): Promise<void>;
}

/** Three masters, no replicas, slots spread by `redis-cli --cluster create`. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), "redis-cluster-"));
  const ports = [await freePort(), await freePort(), await freePort()];
  const node = (p: number) => spawnRedis(p, ["--cluster-enabled", "yes", "--cluster-config-file", `nodes-${p}.conf`, "--cluster-node-timeout", "2000"], dir);
  const children: (ChildProcess | undefined)[] = await Promise.all(ports.map(node));
  await run("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"]);
  const clusterOk = async () => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const infos = await Promise.all(ports.map(async (p) => (await run("redis-cli", ["-p", String(p), "cluster", "info"]).catch(() => ({ stdout: "" }))).stdout));
      if (infos.every((i) => i.includes("cluster_state:ok"))) break;
      if (Date.now() > deadline) throw new Error("the Redis cluster did not become ready");
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await clusterOk();
  return {
    ports,
    url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(",")}`,
    cli: async (...args) => (await run("redis-cli", ["-c", "-p", String(ports[0]), ...args])).stdout,
    killNode: async (i) => {
      await killChild(children[i]);
      children[i] = undefined;
    },
    restartNode: async (i) => {
      children[i] = await node(ports[i]!);
      await clusterOk();
    },
    stop: async () => {
      await Promise.all(children.map(killChild));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
