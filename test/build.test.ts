import { execFile } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cp, mkdir, mkdtemp, readdir, readFile, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_API_KEY } from "../src/app.js";
import { DEMO_PROJECT_ID } from "../src/simulators/akubela/index.js";
import { graphql, PROD_API_KEY, ROOT, spawnService, startProductionVendors, type ProductionVendors, type ServiceProcess } from "./helpers/service.js";

const run = promisify(execFile);

/**
 * The Dockerfile's steps without Docker: a build stage (`npm run build`: tsconfig.build.json, src/ only) and a
 * runtime stage holding package.json, the lock, `npm ci --omit=dev`, dist/ and config/, started as the image
 * starts it. The build stage reuses this checkout's node_modules (same lock) instead of a second full `npm ci`.
 */
let vendors: ProductionVendors;
let runtime: string;
const started: ServiceProcess[] = [];
const DEVICES = `query($p: ID!) { project(projectId: $p) { devices { name } } }`;

beforeAll(async () => {
  const tmp = await mkdtemp(join(tmpdir(), "image-"));
  const build = join(tmp, "build");
  runtime = join(tmp, "app");
  await mkdir(build);
  await mkdir(runtime);
  for (const f of ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "src"]) await cp(join(ROOT, f), join(build, f), { recursive: true });
  await symlink(join(ROOT, "node_modules"), join(build, "node_modules"), "dir");
  await run("npm", ["run", "build"], { cwd: build });

  for (const f of ["package.json", "package-lock.json"]) await cp(join(ROOT, f), join(runtime, f));
  await run("npm", ["ci", "--omit=dev", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], { cwd: runtime, timeout: 240_000 });
  await cp(join(build, "dist"), join(runtime, "dist"), { recursive: true });
  await cp(join(ROOT, "config"), join(runtime, "config"), { recursive: true });
  vendors = await startProductionVendors();
}, 300_000);

afterAll(async () => {
  for (const s of started) s.kill();
  await vendors?.close();
});

const exists = (p: string) => stat(p).then(() => true, () => false);

/** The image's start command: the Dockerfile's last `CMD [...]` (the HEALTHCHECK's CMD is on a continued line). */
async function imageCommand(): Promise<string[]> {
  const lines = (await readFile(join(ROOT, "Dockerfile"), "utf8")).split("\n").filter((l) => l.startsWith("CMD "));
  return JSON.parse(lines.at(-1)!.slice(4)) as string[];
}
/** The node flags the image starts the service with (between `node` and `dist/index.js`). */
const imageNodeFlags = async () => (await imageCommand()).slice(1, -1);

describe("the production artefact (the Dockerfile's steps)", () => {
  it("the image starts the service as npm run start:prod does, node flags included (the bench runs that command too)", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    const command = await imageCommand();
    expect(command).toEqual(pkg.scripts["start:prod"]!.split(" "));
    expect(command[0]).toBe("node");
    expect(command.at(-1)).toBe("dist/index.js");
    expect(command).toContain("--max-semi-space-size=8");
  });

  it("npm run build emits the service only; the runtime holds no dev dependency", async () => {
    const dist = await readdir(join(runtime, "dist"));
    expect(dist).toContain("index.js");
    expect(dist).toContain("server.js");
    expect(dist).not.toContain("test");
    expect(dist).not.toContain("scripts");
    expect(dist).not.toContain("src");
    for (const dev of ["tsx", "vitest", "typescript", "@apollo/gateway"]) expect(await exists(join(runtime, "node_modules", dev))).toBe(false);
    expect(await exists(join(runtime, "node_modules", "@apollo/server"))).toBe(true);
  });

  it("`npm start` with NODE_ENV=production runs the built JS: a query answers from the vendor", async () => {
    const service = await spawnService({ command: ["npm", "start"], cwd: runtime, env: { NODE_ENV: "production", ...vendors.env } });
    started.push(service);
    vendors.akubela.clearReceived();
    const res = await graphql(service.base, PROD_API_KEY, DEVICES, { p: DEMO_PROJECT_ID });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { project: { devices: { name: string }[] } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data.project.devices.length).toBeGreaterThan(0);
    expect(vendors.akubela.calls("get_visitor_temp_key_device_list").length).toBeGreaterThan(0);
    expect(service.output()).toContain("dist/index.js");
    // Stopped here, not in afterAll: its event poller (untraced) would otherwise keep calling the shared simulator
    // while the tracing test below checks that every call it receives carries a traceparent.
    service.kill();
    await service.exited;
  });

  it("node dist/index.js from another working directory finds config/ beside the package (demo mode's key file), and stops on SIGTERM with 0", async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), "cwd-"));
    const service = await spawnService({ entry: join(runtime, "dist/index.js"), cwd: elsewhere, env: { NODE_ENV: "development" } });
    started.push(service);
    const res = await graphql(service.base, DEMO_API_KEY, DEVICES, { p: DEMO_PROJECT_ID });
    const body = (await res.json()) as { data: { project: { devices: unknown[] } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data.project.devices.length).toBeGreaterThan(0);
    service.child.kill("SIGTERM");
    expect(await service.exited).toBe(0);
  });

  it("with OTEL_EXPORTER_OTLP_ENDPOINT the built service traces: HTTP, GraphQL and vendor spans reach the collector, the vendor got the traceparent", async () => {
    // A collector: OTLP/HTTP with JSON bodies (OTEL_EXPORTER_OTLP_PROTOCOL=http/json).
    type OtlpSpan = { traceId: string; spanId: string; parentSpanId?: string; name: string; attributes: { key: string; value: Record<string, unknown> }[] };
    const received: { scope: string; span: OtlpSpan }[] = [];
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (req.url === "/v1/traces") {
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { resourceSpans: { scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[] }[] };
          for (const r of body.resourceSpans) for (const s of r.scopeSpans) for (const span of s.spans) received.push({ scope: s.scope.name, span });
        }
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    try {
      const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
      // As the image starts it (node, its flags, dist/index.js), so SIGTERM reaches the service itself.
      const service = await spawnService({
        entry: join(runtime, "dist/index.js"),
        nodeArgs: await imageNodeFlags(),
        cwd: runtime,
        env: { NODE_ENV: "production", ...vendors.env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" },
      });
      started.push(service);
      vendors.akubela.clearReceived();
      const res = await graphql(service.base, PROD_API_KEY, DEVICES, { p: DEMO_PROJECT_ID });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { errors?: unknown }).errors).toBeUndefined();
      // SIGTERM flushes the spans before the exit.
      service.child.kill("SIGTERM");
      expect(await service.exited).toBe(0);

      const attr = (span: OtlpSpan, key: string) => Object.values(span.attributes.find((a) => a.key === key)?.value ?? {})[0];
      const server = received.find((r) => r.scope === "@opentelemetry/instrumentation-http" && attr(r.span, "url.path") === "/graphql");
      expect(server).toBeDefined();
      const traceId = server!.span.traceId;
      const inTrace = received.filter((r) => r.span.traceId === traceId);
      expect(inTrace.some((r) => r.scope === "@opentelemetry/instrumentation-graphql" && r.span.name === "graphql.parse")).toBe(true);
      const vendorSpans = inTrace.filter((r) => r.scope === "access-control-graph" && attr(r.span, "vendor") === "akubela");
      expect(vendorSpans.length).toBeGreaterThan(0);
      for (const { span } of vendorSpans) expect(attr(span, "vendor.outcome")).toBe("success");
      // Every command the vendor received carries a traceparent (the event poller's start traces of their own);
      // the query's are exactly its vendor-call spans.
      const calls = vendors.akubela.received();
      for (const call of calls) expect(call.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      const ofQuery = calls.filter((c) => c.traceparent!.split("-")[1] === traceId);
      expect(ofQuery.map((c) => c.command).sort()).toEqual(vendorSpans.map(({ span }) => String(attr(span, "vendor.command"))).sort());
    } finally {
      collector.close();
    }
  });
});
