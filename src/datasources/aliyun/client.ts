import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import got, { RequestError, TimeoutError, type Got } from "got";
import { UpstreamError, type UpstreamInfo } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { callReporter, type VendorCallEvent } from "../vendor-call.js";
import { lowerCaseHeaders, signRequest } from "./signature.js";

/** One gateway call: a path of `003_*.txt` with the `apiVer` the document gives it. */
export interface AliyunRequest {
  path: string;
  apiVer: string;
  params: Record<string, unknown>;
  /** Reads may be retried; writes (a door opening above all) never are. */
  kind: "read" | "write";
  /** The envelope `id` to send (default: a fresh UUID); given by callers that report it, e.g. a door opening. */
  id?: string;
}

export interface AliyunClientOptions {
  baseUrl: string;
  appKey: string;
  appSecret: string;
  /** Per attempt, ms. */
  timeoutMs: number;
  /** Extra attempts of a read after a reset/refused connection, 429 or 5xx (HTTP status or body code). */
  readRetries: number;
  logger: Logger;
  onCall?: (event: VendorCallEvent) => void;
  /** Clock and nonce source (tests). */
  now?: () => number;
  nonce?: () => string;
}

/** Body codes worth another attempt of a read (aliyun-gateway.md, "Body codes": 429, 500, 503). */
const RETRY_BODY_CODES = new Set([429, 500, 502, 503, 504]);
const RETRY_NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "EAI_AGAIN"]);
const BACKOFF_MS = 200;
const MAX_MESSAGE = 200;

/**
 * The gateway's own rejections, read from `x-ca-error-message` (aliyun-gateway.md, "Signing"): a stable code for
 * each reason, so operators see at once whether the key, the secret or the clock is wrong.
 */
const GATEWAY_REASONS: [RegExp, string, string][] = [
  [/signature headers/i, "GATEWAY_INVALID_SIGNATURE", "the signed header list (x-ca-signature-headers)"],
  [/invalid signature/i, "GATEWAY_INVALID_SIGNATURE", "the request signature (check ALIYUN_APP_SECRET)"],
  [/invalid appkey|appkey not found/i, "GATEWAY_INVALID_APP_KEY", "the app key (check ALIYUN_APP_KEY)"],
  [/invalid timestamp|timestamp expired/i, "GATEWAY_INVALID_TIMESTAMP", "the request timestamp (check this machine's clock)"],
  [/nonce used/i, "GATEWAY_NONCE_USED", "a nonce already used"],
  [/invalid nonce/i, "GATEWAY_INVALID_NONCE", "the request nonce (missing)"],
  [/content-md5/i, "GATEWAY_INVALID_CONTENT_MD5", "the body's Content-MD5 (the body changed after signing)"],
  [/invalid url|api not found/i, "GATEWAY_API_NOT_FOUND", "the path (no such API on the gateway)"],
  [/throttl/i, "GATEWAY_THROTTLED", "the request rate (throttled)"],
];

/**
 * Client of the Alibaba Cloud IoT unified gateway (`../shared/vendor-docs/003_*.txt`, `aliyun-gateway.md`):
 * `POST <base><path>` with the envelope `{id, version: "1.0", request: {apiVer}, params}`, the body serialised
 * once and signed (`x-ca-*`, `content-md5`, HMAC-SHA256) afresh for every attempt with a new nonce and timestamp.
 *
 * A failure is a non-2xx status or a body `code` other than 200, whatever the HTTP status. Reads are retried on
 * 429, 5xx (status or body code) and refused/reset connections, with a short backoff; a timed-out attempt is not
 * repeated (the caller's wait stays bounded) and a write is never repeated.
 */
export class AliyunClient {
  private readonly http: Got;
  private readonly now: () => number;
  private readonly nonce: () => string;

  constructor(private readonly options: AliyunClientOptions) {
    this.http = got.extend({
      prefixUrl: options.baseUrl,
      timeout: { request: options.timeoutMs },
      responseType: "text",
      throwHttpErrors: false,
      followRedirect: false,
      retry: { limit: 0 },
    });
    this.now = options.now ?? Date.now;
    this.nonce = options.nonce ?? randomUUID;
  }

  /**
   * Sends one request to `req.path`, one of the 16 paths of `../shared/vendor-docs/003_d332e758188ea47b.txt`
   * (vendor-docs README rows 45–60, e.g. `/entrance/paas/user/get` 1.0.0), in the envelope of `aliyun-gateway.md`
   * ("The request"), signed as its "Signing" section says. Returns the body's `data` when `code` is 200; throws an
   * `UpstreamError` otherwise: gateway refusals carry a `GATEWAY_*` vendor code (see `GATEWAY_REASONS`), business
   * failures the body `code` and message, and `requestId` is the gateway's `x-ca-request-id` when it sent one.
   */
  async send(req: AliyunRequest): Promise<unknown> {
    const id = req.id ?? randomUUID();
    const body = JSON.stringify({ id, version: "1.0", request: { apiVer: req.apiVer }, params: req.params });
    const info: UpstreamInfo = { vendor: "aliyun", command: req.path, requestId: id };
    const maxAttempts = req.kind === "read" ? 1 + this.options.readRetries : 1;
    let attempts = 0;
    const finish = callReporter({ vendor: "aliyun", command: req.path, requestId: id }, this.options, () => attempts);

    for (;;) {
      attempts++;
      const last = attempts >= maxAttempts;
      const signed = signRequest({
        method: "POST",
        pathAndQuery: req.path,
        body,
        appKey: this.options.appKey,
        appSecret: this.options.appSecret,
        timestamp: this.now(),
        nonce: this.nonce(),
        headers: { accept: "application/json", "content-type": "application/json; charset=UTF-8" },
      });
      let status: number;
      let text: string;
      let headers: Record<string, string>;
      try {
        const response = await this.http.post(req.path.replace(/^\//, ""), { body, headers: { ...finish.headers, ...signed.headers } });
        status = response.statusCode;
        text = response.body;
        headers = lowerCaseHeaders(response.headers);
      } catch (error) {
        if (error instanceof TimeoutError) {
          finish("timeout");
          throw new UpstreamError(`Aliyun did not answer ${req.path} within ${this.options.timeoutMs} ms`, "UPSTREAM_TIMEOUT", info);
        }
        const code = error instanceof RequestError ? error.code : undefined;
        if (!last && code && RETRY_NETWORK_CODES.has(code)) {
          await sleep(BACKOFF_MS * attempts);
          continue;
        }
        finish("network_error");
        throw new UpstreamError(`Aliyun could not be reached for ${req.path}${code ? ` (${code})` : ""}`, "UPSTREAM_UNAVAILABLE", info);
      }

      const requestId = headers["x-ca-request-id"];
      const at: UpstreamInfo = { ...info, status, ...(requestId ? { requestId } : {}) };
      const gatewayMessage = headers["x-ca-error-message"];
      const envelope = parseJson(text);
      const bodyCode = envelope && typeof envelope === "object" ? Number((envelope as Record<string, unknown>).code) : NaN;
      const retryable = status === 429 || status >= 500 || RETRY_BODY_CODES.has(bodyCode);

      if (retryable && !last) {
        const retryAfter = Number(headers["retry-after"]);
        const wait = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : BACKOFF_MS * attempts;
        if (wait <= this.options.timeoutMs) {
          await sleep(wait);
          continue;
        }
      }

      if (status < 200 || status >= 300) {
        finish("http_error", status, Number.isFinite(bodyCode) ? String(bodyCode) : undefined);
        throw this.httpFailure(req.path, at, status, gatewayMessage, envelope);
      }
      if (!envelope || typeof envelope !== "object" || !Number.isFinite(bodyCode)) {
        finish("malformed", status);
        throw new UpstreamError(`Aliyun answered ${req.path} with a body that is not the gateway envelope`, "UPSTREAM_ERROR", at);
      }
      const answer = envelope as Record<string, unknown>;
      if (bodyCode !== 200) {
        const message = shorten(pickMessage(answer));
        finish("vendor_error", status, String(bodyCode));
        throw new UpstreamError(
          `Aliyun rejected ${req.path} (code ${bodyCode})${message ? `: ${message}` : ""}`,
          RETRY_BODY_CODES.has(bodyCode) ? "UPSTREAM_UNAVAILABLE" : "UPSTREAM_ERROR",
          { ...at, vendorCode: String(bodyCode), vendorMessage: message },
        );
      }
      finish("success", status);
      return answer.data ?? null;
    }
  }

  private httpFailure(path: string, at: UpstreamInfo, status: number, gatewayMessage: string | undefined, envelope: unknown): UpstreamError {
    // The gateway's reason, without the server's string to sign it may append ("Invalid Signature, Server StringToSign:…").
    const reason = gatewayMessage ? shorten(gatewayMessage.split(/,\s*Server StringToSign/i)[0]) : undefined;
    const matched = reason ? GATEWAY_REASONS.find(([re]) => re.test(reason)) : undefined;
    if (matched) {
      const [, vendorCode, what] = matched;
      return new UpstreamError(
        `The Aliyun gateway refused ${path}: ${what} — "${reason}"`,
        vendorCode === "GATEWAY_THROTTLED" ? "UPSTREAM_UNAVAILABLE" : "UPSTREAM_ERROR",
        { ...at, vendorCode, vendorMessage: reason },
      );
    }
    const body = envelope && typeof envelope === "object" ? (envelope as Record<string, unknown>) : {};
    const message = reason ?? shorten(pickMessage(body));
    const vendorCode = body.code !== undefined ? String(body.code) : undefined;
    const code = status === 429 || status >= 500 ? "UPSTREAM_UNAVAILABLE" : "UPSTREAM_ERROR";
    return new UpstreamError(`Aliyun answered ${path} with HTTP ${status}${message ? `: ${message}` : ""}`, code, {
      ...at,
      vendorCode,
      vendorMessage: message,
    });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function pickMessage(body: Record<string, unknown>): string | undefined {
  for (const v of [body.localizedMsg, body.message]) if (typeof v === "string" && v.trim() !== "") return v;
  return undefined;
}

const shorten = (s: string | undefined) => (s && s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE)}…` : s);
