/**
 * The Aliyun IoT gateway simulator: a real HTTP server for the 16 paths of `003_d332e758188ea47b.txt` that checks
 * requests as the API gateway does (`aliyun-gateway.md`): app key, Content-MD5, signature, a timestamp within 15
 * minutes, a nonce not seen within 15 minutes. Rejections answer HTTP 400 with the reason in
 * `x-ca-error-message` and a request id in `x-ca-request-id`, as the gateway; business failures answer HTTP 200
 * with a body `code` other than 200.
 *
 * Failures can be injected ({@link AliyunFaultSpec}) and every request is recorded ({@link RecordedGatewayRequest}).
 * Control routes: `GET /__sim/received`, `POST|DELETE /__sim/faults`, `POST /__sim/reset`. Secrets are never logged.
 */
import { createHmac, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { FaultQueue, handleControl, listen, type Simulator } from "../common.js";
import { contentMd5, hmacSha256, lowerCaseHeaders, stringToSign } from "../../datasources/aliyun/signature.js";
import { DEMO_ALIYUN_APP_KEY, DEMO_ALIYUN_APP_SECRET, SIGNATURE_WINDOW_MS } from "./constants.js";
import { GatewayFailure, PATHS_BY_PATH } from "./paths.js";
import { createAliyunSeed, type AliyunSeedOptions, type AliyunState } from "./seed.js";

const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** The legacy QR call is rate limited: 2000 a second per tenant (003, 生成二维码并配置权限(旧)). */
const LEGACY_QR_PATH = "/entrance/paas/perm/qrcode/generate";
const LEGACY_QR_PER_SECOND = 2000;

export interface AliyunFaultSpec {
  /** As the Akubela simulator's: `vendor_error` answers HTTP 200 with body `code` (default 500). */
  /**
   * `slow_answer`: the request is carried out when it arrives and its answer sent `latencyMs` later (an answer
   * delayed on its way back), so a write meanwhile does not change what it says; `latency` waits before handling.
   */
  kind: "latency" | "slow_answer" | "http_error" | "vendor_error" | "malformed" | "no_answer" | "reset";
  path?: string;
  /** Only requests whose `params` have these top-level values (compared as JSON). */
  where?: Record<string, unknown>;
  times?: number;
  latencyMs?: number;
  status?: number;
  code?: number;
  message?: string;
  /** `http_error`: the `x-ca-error-message` to send (a gateway rejection, e.g. `Throttled by USER Flow Control`). */
  gatewayMessage?: string;
  body?: unknown;
}

export interface RecordedGatewayRequest {
  seq: number;
  at: number;
  answeredAt?: number;
  path: string;
  /** Envelope fields, when the body was the envelope. */
  id?: unknown;
  version?: unknown;
  apiVer?: unknown;
  params?: Record<string, unknown>;
  /**
   * The request's `x-ca-*`, `content-md5`, `content-type` and `accept` headers (the secret is never sent), and the
   * W3C trace context (`traceparent`, `tracestate`) when the caller traces.
   */
  headers: Record<string, string>;
  status: number;
  /** The body `code` answered, or the gateway's rejection reason. */
  code?: number;
  gatewayError?: string;
  fault?: AliyunFaultSpec["kind"];
}

export interface AliyunSimulatorOptions {
  port?: number;
  host?: string;
  appKey?: string;
  appSecret?: string;
  seed?: AliyunSeedOptions;
  latencyMs?: number;
  quiet?: boolean;
  now?: () => Date;
}

/** `calls(path)` lists the requests to that path that passed the gateway checks. */
export type AliyunSimulator = Simulator<AliyunState, RecordedGatewayRequest, AliyunFaultSpec>;

const FAULT_KINDS: ReadonlySet<string> = new Set<AliyunFaultSpec["kind"]>(["latency", "slow_answer", "http_error", "vendor_error", "malformed", "no_answer", "reset"]);

/** A fault spec from the control route: an object with a known `kind` (anything else is refused with 400). */
function checkFaultSpec(spec: unknown): AliyunFaultSpec {
  if (!spec || typeof spec !== "object" || Array.isArray(spec) || !FAULT_KINDS.has(String((spec as { kind?: unknown }).kind))) {
    throw new TypeError(`a fault spec is an object whose kind is one of ${[...FAULT_KINDS].join(", ")}`);
  }
  return spec as AliyunFaultSpec;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function startAliyunSimulator(options: AliyunSimulatorOptions = {}): Promise<AliyunSimulator> {
  const appKey = options.appKey ?? DEMO_ALIYUN_APP_KEY;
  const appSecret = options.appSecret ?? DEMO_ALIYUN_APP_SECRET;
  const now = options.now ?? (() => new Date());
  const log = options.quiet ? () => {} : (line: string) => process.stderr.write(`[aliyun-sim] ${line}\n`);

  let state = createAliyunSeed(options.seed);
  let record: RecordedGatewayRequest[] = [];
  let seq = 0;
  const faults = new FaultQueue<AliyunFaultSpec>();
  const nonces = new Map<string, number>();
  const legacyQrWindow = { second: 0, count: 0 };

  function send(res: ServerResponse, entry: RecordedGatewayRequest, status: number, body: string, headers: Record<string, string> = {}) {
    entry.status = status;
    entry.answeredAt = Date.now();
    log(`${entry.path} → ${status}${entry.code !== undefined ? ` code ${entry.code}` : ""}${entry.gatewayError ? ` (${entry.gatewayError})` : ""}${entry.fault ? ` (fault ${entry.fault})` : ""}`);
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "x-ca-request-id": randomUUID().toUpperCase(), ...headers });
    res.end(body);
  }

  /** A rejection by the gateway itself: HTTP 400, the reason in `x-ca-error-message`, no body code. */
  function reject(res: ServerResponse, entry: RecordedGatewayRequest, status: number, reason: string) {
    entry.gatewayError = reason;
    send(res, entry, status, "", { "x-ca-error-message": reason });
  }

  function answer(res: ServerResponse, entry: RecordedGatewayRequest, id: unknown, code: number, data: unknown, message: string | null = null) {
    entry.code = code;
    send(res, entry, 200, JSON.stringify({ code, id: typeof id === "string" ? id : randomUUID(), message, localizedMsg: message, data: data ?? null }));
  }

  /** The gateway's checks, in its order: app key, timestamp, nonce, Content-MD5, signed headers, signature method, signature. */
  function gatewayCheck(req: IncomingMessage, path: string, raw: Buffer, headers: Record<string, string>): string | undefined {
    if (headers["x-ca-key"] !== appKey) return "Invalid AppKey";
    const ts = Number(headers["x-ca-timestamp"]);
    if (!headers["x-ca-timestamp"] || !Number.isFinite(ts) || Math.abs(now().getTime() - ts) > SIGNATURE_WINDOW_MS) return "Invalid Timestamp";
    const nonce = headers["x-ca-nonce"];
    if (!nonce) return "Invalid Nonce";
    const cutoff = now().getTime() - SIGNATURE_WINDOW_MS;
    for (const [n, at] of nonces) if (at < cutoff) nonces.delete(n);
    if (nonces.has(nonce)) return "Nonce Used";
    if (headers["content-md5"] !== undefined && headers["content-md5"] !== contentMd5(raw)) return "Invalid Content-MD5";
    const signedNames = (headers["x-ca-signature-headers"] ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
    for (const required of ["x-ca-key", "x-ca-timestamp", "x-ca-nonce"]) {
      if (!signedNames.includes(required)) return `Invalid Signature Headers, ${required} must be signed`;
    }
    // The gateway takes HmacSHA256 (the default when the header is absent) and HmacSHA1.
    const method = headers["x-ca-signature-method"] ?? "HmacSHA256";
    const algorithm = method === "HmacSHA256" ? "sha256" : method === "HmacSHA1" ? "sha1" : undefined;
    if (!algorithm) return "Invalid Signature Method";
    const expected = stringToSign(req.method ?? "POST", req.url ?? path, headers, signedNames);
    const signature = algorithm === "sha256" ? hmacSha256(appSecret, expected) : createHmac("sha1", Buffer.from(appSecret, "utf8")).update(expected, "utf8").digest("base64");
    if (headers["x-ca-signature"] !== signature) {
      // The real gateway appends its string to sign so a client can compare; it holds no secret.
      return `Invalid Signature, Server StringToSign:${JSON.stringify(expected)}`;
    }
    nonces.set(nonce, now().getTime());
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, path: string) {
    const headers = lowerCaseHeaders(req.headers as Record<string, string | string[] | undefined>);
    const entry: RecordedGatewayRequest = {
      seq: ++seq,
      at: Date.now(),
      path,
      headers: Object.fromEntries(
        Object.entries(headers).filter(([k]) => k.startsWith("x-ca-") || ["content-md5", "content-type", "accept", "date", "traceparent", "tracestate"].includes(k)),
      ),
      status: 0,
    };
    record.push(entry);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return reject(res, entry, 413, "Request Body Too Large");
      chunks.push(chunk);
    }
    const raw = Buffer.concat(chunks);
    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(raw.toString("utf8"));
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    if (body) {
      entry.id = body.id;
      entry.version = body.version;
      entry.apiVer = body.request && typeof body.request === "object" ? (body.request as Record<string, unknown>).apiVer : undefined;
      entry.params = body.params && typeof body.params === "object" ? (body.params as Record<string, unknown>) : undefined;
    }

    if (req.method !== "POST") return reject(res, entry, 405, "Invalid Method");
    const def = PATHS_BY_PATH.get(path);
    if (!def) return reject(res, entry, 404, "Invalid Url");
    const problem = gatewayCheck(req, path, raw, headers);
    if (problem) return reject(res, entry, 400, problem);

    const fault = faults.take((f) => f.path === undefined || f.path === path, entry.params);
    if (fault) entry.fault = fault.kind;
    if (options.latencyMs) await sleep(options.latencyMs);
    switch (fault?.kind) {
      case "latency":
        await sleep(fault.latencyMs ?? 1000);
        break;
      case "http_error": {
        const status = fault.status ?? 503;
        const extra: Record<string, string> = fault.gatewayMessage ? { "x-ca-error-message": fault.gatewayMessage } : {};
        if (status === 429) extra["retry-after"] = "1";
        entry.gatewayError = fault.gatewayMessage;
        const text = fault.body === undefined ? "" : typeof fault.body === "string" ? fault.body : JSON.stringify(fault.body);
        return send(res, entry, status, text, extra);
      }
      case "vendor_error":
        if (fault.body !== undefined) return send(res, entry, 200, JSON.stringify(fault.body));
        return answer(res, entry, entry.id, fault.code ?? 500, null, fault.message ?? "injected failure");
      case "malformed":
        return send(res, entry, 200, '{"code": 200, "data": {"total"');
      case "no_answer":
        return;
      case "reset":
        req.socket.destroy();
        return;
      default:
        break;
    }

    if (!body || body.version !== "1.0" || typeof body.id !== "string" || body.id === "") {
      return answer(res, entry, entry.id, 400, null, "request must be the envelope {id, version: \"1.0\", request: {apiVer}, params}");
    }
    if (entry.apiVer !== def.apiVer) return answer(res, entry, body.id, 404, null, `service not found: ${path} has apiVer ${def.apiVer}`);
    if (!entry.params) return answer(res, entry, body.id, 460, null, "params is required");
    if (path === LEGACY_QR_PATH) {
      const second = Math.floor(now().getTime() / 1000);
      if (legacyQrWindow.second !== second) Object.assign(legacyQrWindow, { second, count: 0 });
      if (++legacyQrWindow.count > LEGACY_QR_PER_SECOND) return answer(res, entry, body.id, 429, null, "too many requests");
    }
    try {
      const data = def.handle(entry.params, { state, now: now() });
      if (fault?.kind === "slow_answer") {
        // A snapshot of the answer: state changed while it travels must not show in it.
        const snapshot = JSON.parse(JSON.stringify(data ?? null)) as unknown;
        return void sleep(fault.latencyMs ?? 1000).then(() => answer(res, entry, body.id, 200, snapshot));
      }
      return answer(res, entry, body.id, 200, data);
    } catch (error) {
      if (error instanceof GatewayFailure) return answer(res, entry, body.id, error.code, null, error.message);
      log(`internal error on ${path}: ${(error as Error).message}`);
      return answer(res, entry, body.id, 500, null, "service error");
    }
  }

  const listening = await listen(
    async (req, res) => {
      const path = (req.url ?? "/").split("?")[0]!;
      if (!path.startsWith("/__sim/")) return handle(req, res, path);
      return handleControl(req, res, path, {
        received: () => record,
        clearReceived: () => api.clearReceived(),
        addFault: (spec) => void faults.add(checkFaultSpec(spec)),
        clearFaults: () => faults.clear(),
        reset: () => api.reset(),
      });
    },
    options,
    log,
  );
  const { url, port } = listening;

  const api: AliyunSimulator = {
    url,
    port,
    get state() {
      return state;
    },
    received: () => [...record],
    calls: (path) => record.filter((r) => !r.gatewayError && (path === undefined || r.path === path)),
    clearReceived: () => {
      record = [];
    },
    injectFault: (spec) => faults.add(spec),
    clearFaults: () => faults.clear(),
    reset: () => {
      state = createAliyunSeed(options.seed);
      record = [];
      faults.clear();
      nonces.clear();
      Object.assign(legacyQrWindow, { second: 0, count: 0 });
    },
    close: () => listening.close(),
  };
  return api;
}
