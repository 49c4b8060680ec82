import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { unwrapResolverError } from "@apollo/server/errors";
import type { Logger } from "./logger.js";

/**
 * The three tiers of errors (house style, "Errors"):
 * 1. `userErrors` in mutation payloads (see `resolvers/common/payload.ts`);
 * 2. coded client errors: `BAD_USER_INPUT`, `UNAUTHENTICATED`, `FORBIDDEN`;
 * 3. upstream failures: `UPSTREAM_ERROR`, `UPSTREAM_TIMEOUT`, `UPSTREAM_UNAVAILABLE`, with
 *    `extensions.upstream { vendor, command, status, vendorCode }`.
 * Anything else is masked as `INTERNAL_SERVER_ERROR` by `formatError` and logged with the request id.
 *
 * No error built here ever carries a token, a secret, a PIN or a raw vendor body.
 */
export type ErrorCode =
  | "BAD_USER_INPUT"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "UPSTREAM_ERROR"
  | "UPSTREAM_TIMEOUT"
  | "UPSTREAM_UNAVAILABLE"
  | "INTERNAL_SERVER_ERROR"
  | "QUERY_TOO_DEEP"
  | "TOO_MANY_ALIASES"
  | "TOO_MANY_DIRECTIVES"
  | "QUERY_TOO_COMPLEX"
  | "RATE_LIMITED"
  | "IDEMPOTENCY_KEY_REUSED"
  | "IDEMPOTENCY_IN_PROGRESS"
  | "IDEMPOTENCY_UNAVAILABLE"
  | "IDEMPOTENCY_OUTCOME_UNKNOWN"
  | "REQUEST_LIMIT_EXCEEDED";

export type Vendor = "akubela" | "aliyun";

/** What the caller may learn about a failed vendor call. */
export interface UpstreamInfo {
  vendor: Vendor;
  /** Akubela command name or Aliyun gateway path. */
  command: string;
  /** HTTP status of the vendor's answer; absent when there was none (timeout, connection refused or reset). */
  status?: number;
  /** The vendor's own error code, when its answer carried one. */
  vendorCode?: string;
  /** The vendor's message, shortened. */
  vendorMessage?: string;
  /** The correlation id we sent with the command (Akubela `id`, Aliyun request id). */
  requestId?: string;
}

export class AppError extends GraphQLError {
  constructor(
    message: string,
    readonly code: ErrorCode,
    extensions: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { ...extensions, code } });
    this.name = "AppError";
  }
}

/**
 * The operation spent its vendor calls (`MAX_VENDOR_CALLS_PER_OPERATION`, as Apollo Router's
 * `max_requests_per_operation`): the field that wanted another call answers `null` with this error, the rest stays.
 */
export class RequestLimitError extends AppError {
  constructor(limit: number) {
    super(`This operation reached its budget of ${limit} vendor calls (MAX_VENDOR_CALLS_PER_OPERATION); ask for fewer fields or split the query`, "REQUEST_LIMIT_EXCEEDED");
  }
}

/** A limit of the service (depth, cost, aliases, rate, idempotency), with its HTTP status. */
export class LimitError extends AppError {
  constructor(message: string, code: ErrorCode, status: number, headers?: unknown) {
    super(message, code, { http: { status, ...(headers ? { headers } : {}) } });
  }
}

export class BadUserInputError extends AppError {
  constructor(message: string, field?: string) {
    super(message, "BAD_USER_INPUT", field ? { field } : {});
  }
}

export class UnauthenticatedError extends AppError {
  constructor(message = "Authentication required: send an API key (X-API-Key) or Authorization: Bearer <vendor token>", extra: Record<string, unknown> = {}) {
    super(message, "UNAUTHENTICATED", { ...extra, http: { status: 401 } });
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string, extra: Record<string, unknown> = {}) {
    super(message, "FORBIDDEN", extra);
  }
}

/** A vendor call failed. `code` says how: an answer that is a failure, no answer in time, or no service. */
export class UpstreamError extends AppError {
  constructor(
    message: string,
    code: Extract<ErrorCode, "UPSTREAM_ERROR" | "UPSTREAM_TIMEOUT" | "UPSTREAM_UNAVAILABLE" | "UNAUTHENTICATED" | "FORBIDDEN">,
    readonly upstream: UpstreamInfo,
  ) {
    super(message, code, { upstream });
    this.name = "UpstreamError";
  }

  /** True when the vendor itself rejected the request as a business failure (it answered, and said no). */
  get isVendorRejection(): boolean {
    return this.code === "UPSTREAM_ERROR" && this.upstream.vendorCode !== undefined;
  }
}

const PASS_THROUGH_CODES = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
  "UNAUTHENTICATED",
  "FORBIDDEN",
]);

/**
 * Apollo `formatError`: our own errors and GraphQL's request errors pass; anything unexpected is masked as
 * `INTERNAL_SERVER_ERROR` (its message could carry anything) and logged. Stack traces never leave the server.
 */
export function createFormatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const { stacktrace: _stack, ...extensions } = (formatted.extensions ?? {}) as Record<string, unknown>;
    if (original instanceof AppError) {
      return { ...formatted, extensions };
    }
    const code = typeof extensions.code === "string" ? extensions.code : undefined;
    if (code && PASS_THROUGH_CODES.has(code) && !(original instanceof Error && !(original instanceof GraphQLError))) {
      return { ...formatted, extensions };
    }
    if (original instanceof GraphQLError && original.originalError === undefined && !code) {
      // type-graphql argument validation and GraphQL coercion errors are client errors.
      return { ...formatted, extensions: { ...extensions, code: "BAD_USER_INPUT" } };
    }
    if (isArgumentValidationError(original)) {
      return {
        ...formatted,
        message: original.message,
        extensions: { code: "BAD_USER_INPUT", validationErrors: describeValidation(original) },
      };
    }
    logger.error("unexpected error", {
      error: original instanceof Error ? { name: original.name, message: original.message, stack: original.stack } : String(original),
      path: formatted.path,
    });
    return {
      message: "Internal server error",
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    };
  };
}

interface ValidationLike {
  property: string;
  constraints?: Record<string, string>;
  children?: ValidationLike[];
}

function isArgumentValidationError(error: unknown): error is Error & { validationErrors: ValidationLike[] } {
  return error instanceof Error && error.name === "ArgumentValidationError" && Array.isArray((error as any).validationErrors);
}

function describeValidation(error: { validationErrors: ValidationLike[] }, prefix = ""): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  const walk = (items: ValidationLike[], path: string) => {
    for (const item of items) {
      const field = path ? `${path}.${item.property}` : item.property;
      for (const message of Object.values(item.constraints ?? {})) out.push({ field, message });
      if (item.children?.length) walk(item.children, field);
    }
  };
  walk(error.validationErrors, prefix);
  return out;
}
