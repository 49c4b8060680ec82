import { randomUUID, timingSafeEqual } from "node:crypto";
import got from "got";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginInlineTrace } from "@apollo/server/plugin/inlineTrace";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import { Kind, type OperationDefinitionNode } from "graphql";
import { identifyCaller } from "./auth/caller.js";
import { maxDirectivesRule, queryLimits, rateCounter } from "./auth/limits.js";
import { authorize } from "./auth/policy.js";
import { createContext, type GraphContext, type ServerDeps } from "./context.js";
import { ResponseMemo, responseMemoPlugin } from "./cache/response-memo.js";
import { createFormatError, UnauthenticatedError } from "./errors.js";
import type { Metrics } from "./metrics.js";
import { ExportError, parseExportPath, REPORTS, streamReport } from "./reports/export.js";
import { buildServedSchema } from "./schema/build.js";
import { attachSubscriptions, SSE_PATH, type SubscriptionTransports } from "./events/transports.js";

export interface ServerOptions {
  /** Headers and a first operation that Apollo Sandbox opens with (demo mode fills in the demo token). */
  sandboxInitialState?: { headers?: Record<string, string>; document?: string };
}

export interface GraphServer {
  httpServer: http.Server;
  /** Listens on `port` (0 = any free one) and resolves with the endpoint URL. */
  listen(port: number, host?: string): Promise<string>;
  /** Stops taking requests, lets in-flight ones finish (at most `SHUTDOWN_GRACE_MS`), then closes. */
  stop(): Promise<void>;
  /**
   * Registers a closer run while the server drains, beside the HTTP drain (e.g. a WebSocket server's dispose):
   * long-lived connections that the HTTP server no longer tracks once upgraded.
   */
  onDrain(closer: () => Promise<void>): void;
  /** The graphql-ws and graphql-sse endpoints (closed while the server drains). */
  subscriptions: SubscriptionTransports;
  /** `/metrics` on its own port (METRICS_PORT), once listening. */
  readonly metricsUrl?: string;
}

const MAX_BODY_BYTES = 1_000_000;
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The HTTP server: `/graphql` (Apollo Server, GET and POST; Sandbox as landing page outside production),
 * `/healthz`, and `/` redirecting to `/graphql`. Used by `index.ts` and by the tests.
 */
export async function createServer(deps: ServerDeps, options: ServerOptions = {}): Promise<GraphServer> {
  const { config, logger } = deps;
  const schema = await buildServedSchema({ omitNode: config.federation.omitNode });
  const httpServer = http.createServer();
  const drainClosers: (() => Promise<void>)[] = [];
  const anonymousRate = rateCounter(config.limits.rateLimit.windowMs, deps.readThrough.cache);
  const memo = new ResponseMemo(deps.readThrough.cache, config.cache.responseMemoEntries, config.cache.responseMemoMaxBytes);

  const apollo = new ApolloServer<GraphContext>({
    schema,
    introspection: config.introspection,
    // Apollo's defaults follow this, not process.env.NODE_ENV (which a test runner sets to `test`): the graph
    // behaves the same in-process under tests as in the service users run.
    nodeEnv: config.env,
    csrfPrevention: true,
    // Several operations in one HTTP request are allowed, up to QUERY_MAX_BATCH (checked before Apollo sees them).
    allowBatchedHttpRequests: true,
    includeStacktraceInErrorResponses: false,
    // The process's signal handler (src/index.ts) owns SIGTERM/SIGINT and calls stop() once: Apollo's own handlers
    // would call it a second time and wait on it forever.
    stopOnTerminationSignals: false,
    // Bounded documents: parsing stops at QUERY_MAX_TOKENS tokens, validation refuses more than QUERY_MAX_DIRECTIVES.
    parseOptions: { maxTokens: config.limits.maxTokens },
    validationRules: [maxDirectivesRule(config.limits.maxDirectives)],
    formatError: createFormatError(logger),
    // Apollo's own messages go through our JSON logger, not the console.
    logger: {
      debug: (m: string) => logger.debug(m),
      info: (m: string) => logger.info(m),
      warn: (m: string) => logger.warn(m),
      error: (m: string) => logger.error(m),
    },
    plugins: [
      // Federated traces for a gateway that asks (ftv1), with error messages masked: a trace leaves this service.
      ApolloServerPluginInlineTrace({ includeErrors: { masked: true } }),
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.shutdownGraceMs }),
      // No HTTP caching of answers (every answer depends on the caller's grant), so no cache hints to gather: Apollo's
      // default cache-control plugin walked every resolved field of every request for nothing (issue 16's profile).
      ApolloServerPluginCacheControlDisabled(),
      { serverWillStart: async () => ({ drainServer: async () => void (await Promise.all(drainClosers.map((close) => close()))) }) },
      config.sandbox
        ? ApolloServerPluginLandingPageLocalDefault({
            embed: { initialState: { sharedHeaders: options.sandboxInitialState?.headers ?? {} } },
            document: options.sandboxInitialState?.document,
            footer: false,
          })
        : ApolloServerPluginLandingPageDisabled(),
      authorize(deps.siteMap),
      queryLimits(config.limits, deps.readThrough.cache),
      // After the limits and the policy (didResolveOperation): a kept answer is never served past them.
      ...(config.cache.responseMemoEntries > 0 ? [responseMemoPlugin(memo, deps.metrics)] : []),
      requestLog(deps.metrics),
    ],
  });
  await apollo.start();
  // Subscriptions: graphql-ws on the /graphql upgrade, graphql-sse on /graphql/stream; closed while draining.
  const subscriptions = attachSubscriptions(httpServer, schema, deps);
  drainClosers.push(() => subscriptions.close());

  httpServer.on("request", (req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error("request failed", { error: error instanceof Error ? error.message : String(error) });
      if (!res.headersSent) sendError(res, 500, "INTERNAL_SERVER_ERROR", "Internal server error");
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const incoming = req.headers["x-request-id"];
    const requestId = typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader("x-request-id", requestId);

    if (url.pathname === "/healthz") return sendJson(res, 200, { status: "ok", cache: deps.readThrough.stats() });
    // With METRICS_PORT, /metrics is served on its own port only (see metricsServer).
    if (url.pathname === "/metrics" && req.method === "GET" && config.metrics.port === undefined) return serveMetrics(req, res);
    if (url.pathname === "/readyz") {
      const checks = await readiness();
      // A fail-open dependency (the cache; idempotency, which refuses only keyed mutations) reports `degraded`
      // without taking the instance out of a load balancer.
      const ready = Object.values(checks).every((c) => c === "ok" || c.startsWith("degraded"));
      return sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "not ready", checks });
    }
    if (url.pathname === "/" && req.method === "GET") {
      res.writeHead(302, { location: "/graphql" }).end();
      return;
    }
    const exportPath = parseExportPath(url.pathname);
    if (exportPath) return exportReport(req, res, exportPath, url, requestId);
    if (url.pathname === SSE_PATH) return subscriptions.sse(req, res);
    if (url.pathname.startsWith("/reports/")) return sendError(res, 404, "NOT_FOUND", `No such report: the reports are ${reportPaths()}`);
    if (url.pathname !== "/graphql") return sendError(res, 404, "NOT_FOUND", "Not found: the graph is at /graphql");

    // The credential is checked before the body is read or parsed: a wrong one is refused at once; no credential
    // (introspection only, for Sandbox) gets a small body and a per-address rate limit.
    const caller = identifyCaller(req.headers, deps.callers);
    // Refused before its body is read: the connection is closed rather than the body drained for the next request.
    const refuse = (status: number, code: string, message: string) => {
      if (req.method === "POST") res.setHeader("connection", "close");
      sendError(res, status, code, message);
    };
    if (caller.refused) return refuse(401, "UNAUTHENTICATED", `Authentication failed: ${caller.refused}`);
    let maxBody = MAX_BODY_BYTES;
    if (caller.kind === "anonymous") {
      const counted = await anonymousRate(`anon:${req.socket.remoteAddress ?? "unknown"}`);
      if (counted.count > config.limits.anonymous.perWindow) {
        const retryAfter = Math.max(1, Math.ceil(counted.resetMs / 1000));
        res.setHeader("retry-after", String(retryAfter));
        return refuse(429, "RATE_LIMITED", `Too many requests without credentials from this address; retry in ${retryAfter} s, or send an API key`);
      }
      maxBody = config.limits.anonymous.maxBodyBytes;
    }

    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
    }
    let body: unknown;
    if (req.method === "POST") {
      const tooLarge = (hint: string) => sendError(res, 413, "BAD_REQUEST", `Request body too large${hint}: at most ${maxBody} bytes`);
      const hint = caller.kind === "anonymous" ? " for a request without credentials (send an API key)" : "";
      // A declared length over the limit is refused before a byte of the body is read.
      if (Number(req.headers["content-length"]) > maxBody) return refuse(413, "BAD_REQUEST", `Request body too large${hint}: at most ${maxBody} bytes`);
      const raw = await readBody(req, maxBody);
      if (raw === null) return tooLarge(hint);
      if (raw.length > 0 && /json/i.test(req.headers["content-type"] ?? "")) {
        try {
          body = JSON.parse(raw);
        } catch {
          return sendError(res, 400, "BAD_REQUEST", "Request body is not valid JSON");
        }
      } else {
        body = raw;
      }
    }

    if (Array.isArray(body) && body.length > config.limits.maxBatch) {
      return sendError(res, 400, "BATCH_TOO_LARGE", `The request batches ${body.length} operations; at most ${config.limits.maxBatch} are allowed`);
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: (req.method ?? "GET").toUpperCase(), headers, search: url.search, body },
      context: async () => createContext(deps, requestId, caller),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === "complete") {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }

  /**
   * `/readyz`: whether the configured dependencies answer: each vendor's base URL (any HTTP answer counts: the
   * host is up), the cache when it is Redis, and the facade's own Akubela token (`ok`, or what an operator must fix).
   * Checked at most every 2 s, so probes never load the vendors.
   */
  let lastReadiness: { at: number; checks: Record<string, string> } | undefined;
  async function readiness(): Promise<Record<string, string>> {
    if (lastReadiness && Date.now() - lastReadiness.at < 2000) return lastReadiness.checks;
    const reach = async (url: string) => {
      try {
        await got.get(url, { timeout: { request: 1500 }, throwHttpErrors: false, retry: { limit: 0 }, followRedirect: false });
        return "ok";
      } catch (error) {
        return `unreachable (${(error as { code?: string }).code ?? "error"})`;
      }
    };
    const [akubela, aliyun] = await Promise.all([reach(deps.readiness.akubelaUrl), reach(deps.readiness.aliyunUrl)]);
    const store = deps.readThrough.cache;
    const health = store.health?.() ?? (store.kind === "memory" || store.ready() ? "ok" : "unreachable");
    // The cache fails open: unreachable or stalled, the service still answers (from the vendors).
    const cache = health === "ok" ? "ok" : `degraded (${health.replace(/^degraded \((.*)\)$/, "$1")}; answering from the vendors)`;
    const idempotency = deps.idempotency.health();
    const checks: Record<string, string> = { akubela, aliyun, cache, idempotency: idempotency === "ok" ? "ok" : idempotency.startsWith("degraded") ? idempotency : `degraded (${idempotency})` };
    if (deps.readiness.akubelaToken) checks.akubelaToken = deps.readiness.akubelaToken();
    lastReadiness = { at: Date.now(), checks };
    return lastReadiness.checks;
  }

  /** `GET /reports/<name>.csv|.json?projectId=…` (`events`: `&since=<cursor or ISO time>`), authenticated like the graph. */
  async function exportReport(req: IncomingMessage, res: ServerResponse, target: NonNullable<ReturnType<typeof parseExportPath>>, url: URL, requestId: string) {
    const fail = (status: number, code: string, message: string) => sendError(res, status, code, message);
    if (req.method !== "GET") return fail(405, "METHOD_NOT_ALLOWED", "reports are read with GET");
    const caller = identifyCaller(req.headers, deps.callers);
    if (caller.refused) return fail(401, "UNAUTHENTICATED", `Authentication failed: ${caller.refused}`);
    if (caller.kind === "anonymous") return fail(401, "UNAUTHENTICATED", "Authentication required: send an API key (X-API-Key) or Authorization: Bearer <vendor token>");
    const projectId = url.searchParams.get("projectId");
    if (!projectId) return fail(400, "BAD_USER_INPUT", "projectId is required (?projectId=…)");
    try {
      const formulas = url.searchParams.get("formulas");
      if (formulas !== null && formulas !== "raw") return fail(400, "BAD_USER_INPUT", "formulas takes only the value raw (?formulas=raw: CSV values unescaped)");
      const cut = (error: unknown) =>
        logger.warn("export cut mid-stream", {
          requestId,
          report: target.name,
          format: target.format,
          code: error instanceof ExportError ? error.code : "INTERNAL_SERVER_ERROR",
        });
      await streamReport(apollo, createContext(deps, requestId, caller), target.name, target.format, projectId, res, formulas === "raw" ? "raw" : "neutral", { since: url.searchParams.get("since") }, cut);
    } catch (error) {
      if (error instanceof ExportError && !res.headersSent) {
        if (error.retryAfter) res.setHeader("retry-after", error.retryAfter);
        return fail(error.status, error.code, error.message);
      }
      throw error;
    }
  }

  /** `GET /metrics`: refused (401) without `Authorization: Bearer <METRICS_TOKEN>` when the token is set. */
  async function serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = config.metrics.token;
    if (token !== undefined && !sameSecret(req.headers.authorization ?? "", `Bearer ${token}`)) {
      res.setHeader("www-authenticate", 'Bearer realm="metrics"');
      return sendError(res, 401, "UNAUTHENTICATED", "Metrics require Authorization: Bearer <METRICS_TOKEN>");
    }
    const text = await deps.metrics.render();
    res.writeHead(200, { "content-type": deps.metrics.contentType }).end(text);
  }

  // METRICS_PORT: /metrics (and nothing else) on a port of its own, e.g. one only the scraper's network reaches.
  const metricsServer =
    config.metrics.port === undefined
      ? undefined
      : http.createServer((req, res) => {
          const path = new URL(req.url ?? "/", "http://localhost").pathname;
          if (path !== "/metrics" || req.method !== "GET") return sendError(res, 404, "NOT_FOUND", "Not found: this port serves GET /metrics only");
          serveMetrics(req, res).catch(() => res.headersSent || sendError(res, 500, "INTERNAL_SERVER_ERROR", "Internal server error"));
        });
  const listenOn = (server: http.Server, port: number, host: string) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
    });

  return {
    httpServer,
    get metricsUrl() {
      const address = metricsServer?.address() as AddressInfo | null | undefined;
      return address ? `http://127.0.0.1:${address.port}/metrics` : undefined;
    },
    listen: async (port, host = config.host) => {
      const bound = await listenOn(httpServer, port, host);
      if (metricsServer) {
        await listenOn(metricsServer, config.metrics.port!, host).catch((error: unknown) => {
          httpServer.close();
          throw Object.assign(error as Error, { variable: "METRICS_PORT", port: config.metrics.port });
        });
      }
      const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
      return `http://${shownHost}:${bound}/graphql`;
    },
    stop: async () => {
      metricsServer?.close();
      metricsServer?.closeAllConnections();
      await apollo.stop();
    },
    onDrain: (closer) => void drainClosers.push(closer),
    subscriptions,
  };
}

function readBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(tooLarge ? null : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(payload));
}

/** `/reports/accounts.csv|.json, …`: the export paths, for a 404 that names them. */
function reportPaths(): string {
  return Object.keys(REPORTS).map((name) => `/reports/${name}.csv|.json`).join(", ");
}

/** A GraphQL-shaped error answered outside the GraphQL pipeline: `{errors: [{message, extensions: {code}}]}`. */
function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

/** One structured line per GraphQL request: id, operation, duration, error codes. No variables, no headers. */
function requestLog(metrics: Metrics): ApolloServerPlugin<GraphContext> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async willSendResponse({ operationName, errors, response }) {
          const body = response.body.kind === "single" ? response.body.singleResult : undefined;
          const codes = [...(errors ?? []), ...(body?.errors ?? [])].map((e) => e.extensions?.code).filter(Boolean);
          metrics.requestDuration.observe(
            { operation: metrics.operationLabel(operationName), outcome: codes.length ? "error" : "ok" },
            (performance.now() - started) / 1000,
          );
          contextValue.logger.info("graphql request", {
            operationName: operationName ?? null,
            durationMs: Math.round(performance.now() - started),
            caller: contextValue.caller.id,
            errorCodes: [...new Set(codes)],
          });
        },
      };
    },
  };
}

/** Compares a presented secret with the expected one in constant time. */
function sameSecret(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
