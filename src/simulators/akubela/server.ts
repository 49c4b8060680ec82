/**
 * The Akubela / Akuvox open-ability simulator: a real HTTP server answering the 44 commands of
 * `manager-commands` and `user-commands` as the vendor documents describe them
 * (`/work/shared/vendor-docs/000_*.txt`, `001_*.txt`, `002_*.txt`, and the README's list of what they leave unsaid).
 *
 * - `POST /api/v1.0/invoke/open-ability/method/{manager-commands|user-commands}` with
 *   `{"command", "id", "param"}` and `Authorization: Bearer TOKEN`; answers `{success, timestamp, result}`.
 * - A wrong or missing token answers HTTP 401; a body that is not JSON HTTP 400; everything else HTTP 200, with
 *   `success: false`, a snake_case `code` and a `message` naming the parameter for business failures.
 * - `POST /api/v1.0/invoke/open-ability/method/oauth2/token` (form-encoded) issues OAuth2 tokens (`./oauth.ts`).
 *   Issued access tokens are accepted by the command endpoints until they expire (then HTTP 401 `token_expired`);
 *   the static `tokens` option stays accepted forever.
 * - Failures can be injected ({@link FaultSpec}) and every request that reached a command endpoint is recorded
 *   ({@link RecordedCommand}), so tests can assert what the vendor received.
 *
 * Control routes for tools outside the process: `GET /__sim/received`, `POST /__sim/faults` (a FaultSpec),
 * `DELETE /__sim/faults`, `POST /__sim/reset`. The simulator never logs parameters or tokens.
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { FaultQueue, handleControl, listen, type Simulator } from "../common.js";
import { COMMANDS_BY_ENDPOINT } from "./commands/index.js";
import { SimError, type Endpoint, type FailureCode } from "./commands/common.js";
import {
  DEFAULT_MAX_PAGE_SIZE,
  DEMO_AKUBELA_TOKEN,
  DEMO_MANAGER_PASSWORD,
  DEMO_MANAGER_USERNAME,
  DEMO_OAUTH_CLIENT_ID,
  DEMO_OAUTH_CLIENT_SECRET,
} from "./constants.js";
import {
  DEFAULT_TOKEN_TTL_SECONDS,
  maskTokenForm,
  OAUTH_TOKEN_COMMAND,
  parseForm,
  TokenStore,
  tokenRequest,
  type OAuthClient,
  type OAuthControl,
  type OAuthUser,
} from "./oauth.js";
import { createAkubelaSeed, type SeedOptions } from "./seed.js";
import { injectSimEvent, SimEventError, type SimEventSpec } from "./activity.js";
import type { AkubelaState } from "./state.js";
import { validate } from "./validate.js";

export const COMMAND_PATH_PREFIX = "/api/v1.0/invoke/open-ability/method/";
/** The OAuth2 token endpoint (form-encoded). */
export const TOKEN_PATH = `${COMMAND_PATH_PREFIX}${OAUTH_TOKEN_COMMAND}`;
const MAX_BODY_BYTES = 1024 * 1024;

/** A failure to inject. The first matching spec (in the order added) applies to a request. */
export interface FaultSpec {
  /**
   * - `latency`: wait `latencyMs`, then answer normally.
   * - `http_error`: answer HTTP `status` (default 500; 429 adds `Retry-After: 1`) with `body` or a failure envelope.
   * - `vendor_error`: HTTP 200 with `body`, or `{success: false, code, message}`.
   * - `malformed`: HTTP 200, `content-type: application/json`, a truncated body.
   * - `no_answer`: read the request and never answer (the caller's timeout must end it).
   * - `reset`: destroy the connection without an answer.
   */
  kind: "latency" | "http_error" | "vendor_error" | "malformed" | "no_answer" | "reset";
  /**
   * Only this command (default: every command endpoint request). `"oauth2/token"` targets the token endpoint, which
   * faults without a `command` leave alone.
   */
  command?: string;
  /** Only requests whose `param` has these top-level values (compared as JSON). */
  where?: Record<string, unknown>;
  /** Apply this many times, then remove itself (default: until removed). */
  times?: number;
  latencyMs?: number;
  status?: number;
  code?: string;
  message?: string;
  /** The exact body to answer (`http_error`, `vendor_error`); serialised as JSON unless a string. */
  body?: unknown;
}

/**
 * One request to a command endpoint, as received. Token requests are recorded too, with `command` and `endpoint`
 * `"oauth2/token"`, `param` the form fields with `client_secret`, `password`, `refresh_token` (and `code`) as `"***"`,
 * `id` and `authorization` undefined.
 */
export interface RecordedCommand {
  seq: number;
  /** Epoch milliseconds at arrival. */
  at: number;
  endpoint: Endpoint | string;
  /** `undefined` when the body had none (or was not JSON). */
  command: string | undefined;
  id: unknown;
  param: unknown;
  /** The Authorization header as received (kept in memory for tests; masked on the HTTP control route). */
  authorization: string | undefined;
  /** The W3C `traceparent` header as received (sent when the facade traces). */
  traceparent?: string;
  /** Epoch milliseconds when the answer was sent (absent when none was). */
  answeredAt?: number;
  /** The HTTP status answered (0 when no answer was sent). */
  status: number;
  /** The envelope's `success`, when an envelope was answered. */
  success: boolean | undefined;
  /** The vendor failure code answered, if any. */
  code?: string;
  /** The injected fault that shaped the answer, if any. */
  fault?: FaultSpec["kind"];
}

export interface AkubelaSimulatorOptions {
  /** Port to listen on (default 0: any free port). */
  port?: number;
  /** Interface (default 127.0.0.1: loopback only). */
  host?: string;
  /** Seed of the demo property. */
  seed?: SeedOptions;
  /** Bearer tokens accepted forever (default: the demo token); issued OAuth tokens are accepted until they expire. */
  tokens?: readonly string[];
  /** OAuth2 clients the token endpoint knows (default: `DEMO_OAUTH_CLIENT_ID` / `DEMO_OAUTH_CLIENT_SECRET`). */
  oauthClients?: readonly OAuthClient[];
  /** Accounts of the `password` grant (default: `DEMO_MANAGER_USERNAME` / `DEMO_MANAGER_PASSWORD`). */
  oauthUsers?: readonly OAuthUser[];
  /** Lifetime of issued access tokens in seconds (default 3600); a smaller `expires_in` in the request is honoured. */
  tokenTtlSeconds?: number;
  /** Latency added to every command (milliseconds, default 0), as a real vendor has. */
  latencyMs?: number;
  /** `page_size` is silently clamped to this (default 100). */
  maxPageSize?: number;
  /** No log lines on stderr (tests, demo mode). */
  quiet?: boolean;
  /** The clock (tests); also decides when issued tokens expire. */
  now?: () => Date;
}

/** `calls(command)` lists the requests that named that command; `oauth` counts and controls the issued tokens. */
export type AkubelaSimulator = Simulator<AkubelaState, RecordedCommand, FaultSpec> & {
  oauth: OAuthControl;
  /** Records an event as the vendor would (see `activity.ts`); answers the history entry or device state. */
  injectEvent(spec: SimEventSpec): Record<string, unknown>;
};

interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
  success?: boolean;
  code?: string;
}

const json = (status: number, value: unknown, headers?: Record<string, string>): Answer => ({
  status,
  body: JSON.stringify(value),
  headers,
});

const failure = (status: number, code: FailureCode | string, message: string): Answer => ({
  ...json(status, { success: false, timestamp: Date.now(), code, message, result: null }),
  success: false,
  code,
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function readBody(req: IncomingMessage): Promise<Buffer | "too_large"> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return "too_large";
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Starts the simulator; resolves once it listens. */
export async function startAkubelaSimulator(options: AkubelaSimulatorOptions = {}): Promise<AkubelaSimulator> {
  const tokens = new Set(options.tokens ?? [DEMO_AKUBELA_TOKEN]);
  const maxPageSize = options.maxPageSize ?? DEFAULT_MAX_PAGE_SIZE;
  const now = options.now ?? (() => new Date());
  const log = options.quiet ? () => {} : (line: string) => process.stderr.write(`[akubela-sim] ${line}\n`);

  let state = createAkubelaSeed(options.seed);
  let record: RecordedCommand[] = [];
  let seq = 0;
  const faults = new FaultQueue<FaultSpec>();
  const issuedTokens = new TokenStore(() => now().getTime());
  const tokenConfig = {
    clients: options.oauthClients ?? [{ clientId: DEMO_OAUTH_CLIENT_ID, clientSecret: DEMO_OAUTH_CLIENT_SECRET }],
    users: options.oauthUsers ?? [{ username: DEMO_MANAGER_USERNAME, password: DEMO_MANAGER_PASSWORD }],
    ttlSeconds: options.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS,
  };

  /** Runs one command against the state: the part of the vendor that is not HTTP. */
  function execute(endpoint: Endpoint, body: Record<string, unknown>): Answer {
    const { command, param } = body;
    if (typeof command !== "string" || command === "") return failure(200, "invalid_request", "command is required");
    if (!("id" in body) || body.id === null || body.id === "") return failure(200, "invalid_request", "id is required");
    const def = COMMANDS_BY_ENDPOINT.get(endpoint)?.get(command);
    if (!def) {
      const other = endpoint === "manager-commands" ? "user-commands" : "manager-commands";
      const elsewhere = COMMANDS_BY_ENDPOINT.get(other)?.has(command);
      return failure(200, "command_not_found", elsewhere ? `command ${command} is answered on ${other}` : `unknown command ${command}`);
    }
    const issues = validate(def.param, param);
    if (issues.length > 0) return failure(200, "invalid_param", issues.join("; "));
    try {
      const result = def.handle(param as never, { state, now: now(), maxPageSize });
      return { ...json(200, { success: true, timestamp: Date.now(), result: result ?? null }), success: true };
    } catch (error) {
      if (error instanceof SimError) return failure(200, error.code, error.message);
      log(`internal error in ${command}: ${(error as Error).message}`);
      return failure(500, "internal_error", "internal error");
    }
  }

  async function handleCommand(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint): Promise<void> {
    const entry: RecordedCommand = {
      seq: ++seq,
      at: Date.now(),
      endpoint,
      command: undefined,
      id: undefined,
      param: undefined,
      authorization: req.headers.authorization,
      ...(typeof req.headers.traceparent === "string" ? { traceparent: req.headers.traceparent } : {}),
      status: 0,
      success: undefined,
    };
    const raw = await readBody(req);
    if (raw === "too_large") {
      record.push(entry);
      return send(res, entry, failure(413, "payload_too_large", `body larger than ${MAX_BODY_BYTES} bytes`));
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      body = undefined;
    }
    if (body && typeof body === "object" && !Array.isArray(body)) {
      const b = body as Record<string, unknown>;
      entry.command = typeof b.command === "string" ? b.command : undefined;
      entry.id = b.id;
      entry.param = b.param;
    }
    record.push(entry);

    const auth = req.headers.authorization ?? "";
    const token = /^Bearer (.+)$/i.exec(auth)?.[1];
    const check = !token ? "unknown" : tokens.has(token) ? "ok" : issuedTokens.check(token);
    if (check === "expired") return send(res, entry, failure(401, "token_expired", "access token expired"));
    if (check !== "ok") {
      return send(res, entry, failure(401, "unauthorized", token ? "invalid or expired token" : "Authorization: Bearer token is required"));
    }
    if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) {
      return send(res, entry, failure(415, "unsupported_media_type", "content-type must be application/json"));
    }
    if (body === undefined) return send(res, entry, failure(400, "invalid_json", "body is not valid JSON"));
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return send(res, entry, failure(200, "invalid_request", "body must be an object with command, id and param"));
    }

    const fault = faults.take((f) => f.command === undefined || f.command === entry.command, entry.param);
    if (await applyFault(req, res, entry, fault)) return;
    send(res, entry, execute(endpoint, body as Record<string, unknown>));
  }

  /** The configured latency, then the fault's effect; `true` when the request was answered (or dropped) by it. */
  async function applyFault(req: IncomingMessage, res: ServerResponse, entry: RecordedCommand, fault: FaultSpec | undefined): Promise<boolean> {
    if (fault) entry.fault = fault.kind;
    if (options.latencyMs) await sleep(options.latencyMs);
    switch (fault?.kind) {
      case "latency":
        await sleep(fault.latencyMs ?? 1000);
        return false;
      case "http_error": {
        const status = fault.status ?? 500;
        const answer =
          fault.body !== undefined
            ? { status, body: typeof fault.body === "string" ? fault.body : JSON.stringify(fault.body) }
            : failure(status, fault.code ?? (status === 429 ? "too_many_requests" : "internal_error"), fault.message ?? `HTTP ${status}`);
        if (status === 429) answer.headers = { ...answer.headers, "retry-after": "1" };
        send(res, entry, answer);
        return true;
      }
      case "vendor_error":
        send(
          res,
          entry,
          fault.body !== undefined
            ? { ...json(200, fault.body), success: false }
            : failure(200, fault.code ?? "internal_error", fault.message ?? "injected vendor failure"),
        );
        return true;
      case "malformed":
        send(res, entry, { status: 200, body: '{"success": true, "timestamp": 17', success: undefined });
        return true;
      case "no_answer":
        return true; // the socket stays open until the caller gives up or the simulator closes
      case "reset":
        req.socket.destroy();
        return true;
      default:
        return false;
    }
  }

  /** `POST …/oauth2/token`: form-encoded, no Authorization; recorded without its secrets. */
  async function handleToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry: RecordedCommand = {
      seq: ++seq,
      at: Date.now(),
      endpoint: OAUTH_TOKEN_COMMAND,
      command: OAUTH_TOKEN_COMMAND,
      id: undefined,
      param: undefined,
      authorization: undefined,
      status: 0,
      success: undefined,
    };
    const raw = await readBody(req);
    record.push(entry);
    if (raw === "too_large") return send(res, entry, failure(413, "payload_too_large", `body larger than ${MAX_BODY_BYTES} bytes`));
    if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers["content-type"] ?? "")) {
      return send(res, entry, failure(415, "unsupported_media_type", "content-type must be application/x-www-form-urlencoded"));
    }
    const form = parseForm(raw.toString("utf8"));
    entry.param = maskTokenForm(form);

    const fault = faults.take((f) => f.command === OAUTH_TOKEN_COMMAND, entry.param);
    if (await applyFault(req, res, entry, fault)) return;

    const outcome = tokenRequest(form, issuedTokens, tokenConfig);
    const noStore = { "cache-control": "no-store", pragma: "no-cache" };
    if (!outcome.ok) return send(res, entry, { ...failure(outcome.status, outcome.code, outcome.message), headers: noStore });
    send(res, entry, { ...json(200, { success: true, timestamp: Date.now(), result: outcome.result }, noStore), success: true });
  }

  function send(res: ServerResponse, entry: RecordedCommand, answer: Answer): void {
    entry.status = answer.status;
    entry.answeredAt = Date.now();
    entry.success = answer.success;
    if (answer.code) entry.code = answer.code;
    log(`${entry.endpoint} ${entry.command ?? "-"} → ${answer.status}${answer.code ? ` ${answer.code}` : ""}${entry.fault ? ` (fault ${entry.fault})` : ""}`);
    res.writeHead(answer.status, { "content-type": "application/json; charset=utf-8", ...answer.headers });
    res.end(answer.body);
  }

  /** `POST /__sim/events` with a {@link SimEventSpec}: a door opening, a call, a device going off- or online. */
  async function handleSimEvent(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const reply = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
    try {
      const spec = JSON.parse(Buffer.concat(chunks).toString("utf8")) as SimEventSpec;
      reply(200, { ok: true, recorded: injectSimEvent(state, spec, now()) });
    } catch (error) {
      reply(400, { ok: false, message: error instanceof SimEventError ? error.message : "body must be a JSON event: {type: open_door|call|device_status|visitor_key, …}" });
    }
  }

  const listening = await listen(
    async (req, res) => {
      const path = (req.url ?? "/").split("?")[0]!;
      if (path === "/__sim/events" && req.method === "POST") return handleSimEvent(req, res);
      if (path.startsWith("/__sim/")) {
        return handleControl(req, res, path, {
          received: () => record.map((r) => ({ ...r, authorization: r.authorization ? "(present)" : undefined })),
          clearReceived: () => api.clearReceived(),
          addFault: (spec) => void faults.add(spec as FaultSpec),
          clearFaults: () => faults.clear(),
          reset: () => api.reset(),
        });
      }
      if (path === TOKEN_PATH && req.method === "POST") return handleToken(req, res);
      if (path.startsWith(COMMAND_PATH_PREFIX)) {
        const endpoint = path.slice(COMMAND_PATH_PREFIX.length);
        if (req.method === "POST" && (endpoint === "manager-commands" || endpoint === "user-commands")) {
          return handleCommand(req, res, endpoint);
        }
      }
      const answer = failure(404, "route_not_found", `no route ${req.method} ${path}`);
      res.writeHead(answer.status, { "content-type": "application/json; charset=utf-8" });
      res.end(answer.body);
    },
    options,
    log,
  );
  const { url, port } = listening;

  const api: AkubelaSimulator = {
    url,
    port,
    get state() {
      return state;
    },
    received: () => [...record],
    calls: (command) => record.filter((r) => (command === undefined ? r.command !== undefined : r.command === command)),
    clearReceived: () => {
      record = [];
    },
    injectFault: (spec) => faults.add(spec),
    injectEvent: (spec) => injectSimEvent(state, spec, now()),
    clearFaults: () => faults.clear(),
    reset: () => {
      state = createAkubelaSeed(options.seed);
      record = [];
      faults.clear();
      issuedTokens.clear();
    },
    oauth: {
      issued: () => issuedTokens.issued(),
      refreshed: () => issuedTokens.refreshed(),
      revokeAll: () => issuedTokens.revokeAll(),
      expireAll: () => issuedTokens.expireAll(),
      issuedTokens: () => issuedTokens.issuedTokens(),
    },
    close: () => listening.close(),
  };
  return api;
}
