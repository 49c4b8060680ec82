import { randomUUID } from "node:crypto";
import got, { HTTPError, RequestError, TimeoutError, type Got } from "got";
import { UpstreamError, type UpstreamInfo } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { callReporter, type VendorCallEvent } from "../vendor-call.js";

/** The two command endpoints of the open-ability API (graph-model.md, "Akubela / Akuvox open-ability API"). */
export type AkubelaEndpoint = "manager-commands" | "user-commands";

/** Reads may be retried; writes never are (a door opening repeated behind the caller's back is a defect). */
export type CommandKind = "read" | "write";

export interface AkubelaCommand {
  endpoint: AkubelaEndpoint;
  command: string;
  /** `param` of the envelope: an object, or an array for `batch_create_user_info`. */
  param: unknown;
  kind: CommandKind;
  /** The command `id` to send (default: a fresh one); given by callers that report it, e.g. a door opening. */
  id?: string;
  /** A read sent past the shared cache (see VendorRequest.fresh); never sent to the vendor. */
  fresh?: boolean;
  /** A read later reads wait for, first in its request's queue (see VendorRequest.lead); never sent to the vendor. */
  lead?: boolean;
}

export type { VendorCallEvent };

export interface AkubelaClientOptions {
  baseUrl: string;
  /** Per attempt, whole request (connect to last byte), ms. */
  timeoutMs: number;
  /** Extra attempts for reads after a connection reset/refusal, 429 or 5xx. */
  readRetries: number;
  logger: Logger;
  onCall?: (event: VendorCallEvent) => void;
}

const COMMAND_PATH = "api/v1.0/invoke/open-ability/method";

/**
 * HTTP client of the Akubela / Akuvox open-ability API: `POST …/{manager-commands|user-commands}` with body
 * `{command, id, param}` and `Authorization: Bearer TOKEN`, answered `{success, timestamp, result}`
 * (`../shared/vendor-docs/000_*.txt`, `001_*.txt`, `002_*.txt`, every command's 接口地址 / 请求参数 / 返回参数).
 *
 * A failure is recognised from the HTTP status *and* from the envelope: the vendor can answer a business error
 * with HTTP 200 and `success: false` (vendor-docs README, "What the documents leave unsaid"). Every command gets a
 * fresh `id` (a correlation id: the vendor does not use it for idempotency).
 *
 * Timeouts: `timeoutMs` per attempt. A timed-out attempt is not retried (a vendor that did not answer in time is
 * unlikely to answer the next one faster, and the caller's wait must stay bounded); a refused or reset connection,
 * 429 and 5xx are, for reads only, with a short backoff.
 */
export class AkubelaClient {
  /**
   * One got instance per kind, its options merged once: got normalises the options given per call on every call,
   * which cost a fifth of a vendor call's CPU here (issue 16). The attempt count travels in got's `context`.
   */
  private readonly http: Record<CommandKind, Got>;

  constructor(private readonly options: AkubelaClientOptions) {
    const base = got.extend({
      prefixUrl: `${options.baseUrl}/${COMMAND_PATH}`,
      timeout: { request: options.timeoutMs },
      responseType: "text",
      throwHttpErrors: true,
      followRedirect: false,
      headers: { accept: "application/json", "user-agent": "access-control-graph" },
      hooks: {
        beforeRequest: [
          (request) => {
            (request.context as { attempt?: () => void }).attempt?.();
          },
        ],
      },
    });
    const retry = (limit: number) => ({
      limit,
      methods: ["POST" as const],
      statusCodes: [429, 500, 502, 503, 504],
      errorCodes: ["ECONNRESET", "ECONNREFUSED", "EPIPE", "EAI_AGAIN"],
      backoffLimit: 300, // ms between read attempts; a Retry-After up to the timeout is honoured instead
      maxRetryAfter: options.timeoutMs,
    });
    this.http = { read: base.extend({ retry: retry(options.readRetries) }), write: base.extend({ retry: retry(0) }) };
  }

  /**
   * Sends one command and returns its `result` once the envelope says `success: true`; throws an
   * `UpstreamError` otherwise. `token` is the Bearer token to forward; it is never logged nor put in an error.
   */
  async send(cmd: AkubelaCommand, token: string): Promise<unknown> {
    const id = cmd.id ?? randomUUID().replace(/-/g, "");
    const info: UpstreamInfo = { vendor: "akubela", command: cmd.command, requestId: id };
    let attempts = 0;
    const finish = callReporter({ vendor: "akubela", command: cmd.command, requestId: id }, this.options, () => attempts);

    let status: number;
    let text: string;
    try {
      const response = await this.http[cmd.kind === "read" ? "read" : "write"].post(cmd.endpoint, {
        headers: { ...finish.headers, authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ command: cmd.command, id, param: cmd.param }),
        context: { attempt: () => void attempts++ },
      });
      status = response.statusCode;
      text = response.body;
    } catch (error) {
      if (error instanceof HTTPError) {
        status = error.response.statusCode;
        text = String(error.response.body ?? "");
        throw this.httpFailure(info, status, text, finish);
      }
      if (error instanceof TimeoutError) {
        finish("timeout");
        throw new UpstreamError(`Akubela did not answer ${cmd.command} within ${this.options.timeoutMs} ms`, "UPSTREAM_TIMEOUT", info);
      }
      const code = error instanceof RequestError ? error.code : undefined;
      finish("network_error");
      throw new UpstreamError(`Akubela could not be reached for ${cmd.command}${code ? ` (${code})` : ""}`, "UPSTREAM_UNAVAILABLE", info);
    }

    const envelope = parseJson(text);
    if (envelope === undefined || typeof envelope !== "object" || envelope === null) {
      finish("malformed", status);
      throw new UpstreamError(`Akubela answered ${cmd.command} with a body that is not a JSON envelope`, "UPSTREAM_ERROR", { ...info, status });
    }
    const body = envelope as Record<string, unknown>;
    if (body.success !== true) {
      const failure = readFailure(body);
      finish("vendor_error", status, failure.code);
      throw new UpstreamError(
        `Akubela rejected ${cmd.command}${failure.code ? ` (${failure.code})` : ""}${failure.message ? `: ${failure.message}` : ""}`,
        "UPSTREAM_ERROR",
        { ...info, status, vendorCode: failure.code ?? "unknown", vendorMessage: failure.message },
      );
    }
    finish("success", status);
    return body.result;
  }

  private httpFailure(info: UpstreamInfo, status: number, text: string, finish: (o: VendorCallEvent["outcome"], s?: number, code?: string) => void): UpstreamError {
    const parsed = parseJson(text);
    const failure = parsed && typeof parsed === "object" ? readFailure(parsed as Record<string, unknown>) : {};
    const upstream: UpstreamInfo = { ...info, status, vendorCode: failure.code, vendorMessage: failure.message };
    finish("http_error", status, failure.code);
    const what = failure.message ? `: ${failure.message}` : "";
    if (status === 401) {
      return new UpstreamError(`Akubela refused the credentials for ${info.command}${what}`, "UNAUTHENTICATED", upstream);
    }
    if (status === 403) {
      return new UpstreamError(`Akubela forbade ${info.command}${what}`, "FORBIDDEN", upstream);
    }
    if (status === 429 || status >= 500) {
      return new UpstreamError(`Akubela is unavailable for ${info.command} (HTTP ${status})${what}`, "UPSTREAM_UNAVAILABLE", upstream);
    }
    return new UpstreamError(`Akubela answered ${info.command} with HTTP ${status}${what}`, "UPSTREAM_ERROR", upstream);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const MAX_MESSAGE = 200;

/**
 * The vendor's code and message of a failure. The documents omit the failure answer ("见 接口失败返回"), so this
 * reads what public clients read (vendor-docs README, "Failures"): the code from the first of `code`, `err_code`,
 * `error_code`, `error`, `result.code`; the message from `message`, `msg`, `error_msg`, `error_description`,
 * `result.message`. Only these two short strings are kept, never the raw body.
 */
export function readFailure(body: Record<string, unknown>): { code?: string; message?: string } {
  const result = body.result && typeof body.result === "object" ? (body.result as Record<string, unknown>) : {};
  const pick = (...values: unknown[]) => {
    for (const v of values) {
      if ((typeof v === "string" && v.trim() !== "") || typeof v === "number") return String(v);
    }
    return undefined;
  };
  const code = pick(body.code, body.err_code, body.error_code, body.error, result.code);
  const message = pick(body.message, body.msg, body.error_msg, body.error_description, result.message);
  return { code, message: message && message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message };
}
