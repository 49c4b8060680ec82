import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_API_KEY } from "../src/app.js";
import { freePort } from "./helpers/redis.js";
import { graphql, ROOT, spawnService, type ServiceProcess } from "./helpers/service.js";

/** The real process (`src/index.ts`) started the ways a newcomer or an operator gets wrong. */
const started: ServiceProcess[] = [];
afterAll(() => started.forEach((s) => s.kill()));

const failFast = async (env: Record<string, string>, extra: { port?: number; cwd?: string } = {}) => {
  const service = await spawnService({ env, waitReady: false, ...extra });
  started.push(service);
  const code = await service.exited;
  const lines = service.output().trim().split("\n");
  return { code, lines, output: service.output() };
};

describe("friendly start", () => {
  it("a busy port is one line naming PORT, exit 1, no stack", async () => {
    const holder = createServer();
    const port = await freePort();
    await new Promise<void>((r) => holder.listen(port, "127.0.0.1", r));
    try {
      const { code, lines, output } = await failFast({}, { port });
      expect(code).toBe(1);
      const last = lines.at(-1)!;
      expect(last).toMatch(new RegExp(`^PORT: port ${port} on 127\\.0\\.0\\.1 is already in use`));
      expect(output).not.toMatch(/\n\s+at /);
    } finally {
      holder.close();
    }
  });

  it("an unreadable API_KEYS_FILE or SITE_MAP is one line naming the variable, exit 1", async () => {
    for (const variable of ["API_KEYS_FILE", "SITE_MAP"]) {
      const { code, lines, output } = await failFast({ [variable]: "/nonexistent/file.json" });
      expect(code).toBe(1);
      expect(lines.filter((l) => l.startsWith(`${variable}:`))).toHaveLength(1);
      expect(output).not.toMatch(/\n\s+at /);
    }
  });

  it("reads .env from the working directory; ENV_FILE points elsewhere; a missing ENV_FILE is one line, exit 1", async () => {
    const dir = await mkdtemp(join(tmpdir(), "graph-env-"));
    // A variable only the file sets: /metrics then wants its token.
    await writeFile(join(dir, ".env"), `# a comment\nMETRICS_TOKEN=from-dot-env\n`);
    // Started from another directory: tsx by its path (the package cannot be found from there).
    const tsx = pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;
    const fromDotEnv = await spawnService({ env: { TSX_TSCONFIG_PATH: join(ROOT, "tsconfig.json") }, cwd: dir, command: [process.execPath, "--import", tsx, join(ROOT, "src/index.ts")] });
    started.push(fromDotEnv);
    expect((await fetch(`${fromDotEnv.base}/metrics`)).status).toBe(401);
    expect((await fetch(`${fromDotEnv.base}/metrics`, { headers: { authorization: "Bearer from-dot-env" } })).status).toBe(200);
    expect((await graphql(fromDotEnv.base, DEMO_API_KEY, `{ __typename }`)).status).toBe(200);
    fromDotEnv.kill();

    const other = join(dir, "other.env");
    await writeFile(other, `METRICS_TOKEN=from-env-file\n`);
    const fromEnvFile = await spawnService({ env: { ENV_FILE: other } });
    started.push(fromEnvFile);
    expect((await fetch(`${fromEnvFile.base}/metrics`, { headers: { authorization: "Bearer from-env-file" } })).status).toBe(200);
    expect((await fetch(`${fromEnvFile.base}/metrics`, { headers: { authorization: "Bearer from-dot-env" } })).status).toBe(401);
    fromEnvFile.kill();

    const missing = await failFast({ ENV_FILE: join(dir, "missing.env") });
    expect(missing.code).toBe(1);
    expect(missing.lines.at(-1)).toMatch(/^ENV_FILE: .*missing\.env could not be read \(ENOENT\)/);
  });
});
