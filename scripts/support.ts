/** What the soak and the benchmark share: free ports, and the simulators in a child process on loopback. */
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

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
