/**
 * The simulator's OAuth2 token endpoint, `POST /api/v1.0/invoke/open-ability/method/oauth2/token`
 * (`/work/shared/vendor-docs/README.md`, "Facts from Akubela's public developer site" → Tokens).
 *
 * - Form-encoded request (`application/x-www-form-urlencoded`, the vendor's only non-JSON call); the answer is the
 *   usual envelope with the token inside `result`: `{access_token, refresh_token?, token_type: "bearer", expires_in}`.
 * - Grants: `password` (`client_id`, `client_secret`, `scope` = `manager` | `user`, `username`, `password`, optional
 *   `expires_in`), `refresh_token` (`client_id`, `client_secret`, `refresh_token`) and `client_credentials`
 *   (no refresh token in the answer). An optional `expires_in` smaller than the simulator's lifetime is honoured.
 * - Refresh tokens rotate: a refresh token is single-use and bound to the client it was issued to.
 * - Failures follow RFC 6749 §5.2 codes in the vendor's failure envelope: missing `grant_type` or a missing field →
 *   400 `invalid_request`; unknown `grant_type` → 400 `unsupported_grant_type`; missing / unknown client or wrong
 *   secret → 401 `invalid_client`; wrong user or password, unknown / used refresh token → 400 `invalid_grant`;
 *   a `scope` other than `manager` / `user` → 400 `invalid_scope`.
 *
 * This module holds no HTTP: {@link TokenStore} keeps the issued tokens, {@link tokenRequest} turns a form into an
 * outcome that the server sends (and records, with {@link maskTokenForm} hiding the secrets).
 */

import { randomBytes } from "node:crypto";

/** The command name (and endpoint) the simulator records token requests and matches token faults under. */
export const OAUTH_TOKEN_COMMAND = "oauth2/token";

/** Lifetime of issued access tokens when none is configured (the vendor's examples give 3600). */
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;

/** Form fields never kept in the simulator's record. */
export const SECRET_FORM_FIELDS: readonly string[] = ["client_secret", "password", "refresh_token", "code"];

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
}

export interface OAuthUser {
  username: string;
  password: string;
}

/** What tests can do with the issued tokens (on the simulator as `oauth`). */
export interface OAuthControl {
  /** Access tokens issued since the start or the last reset, by every grant (refreshes included). */
  issued(): number;
  /** Successful `refresh_token` grants since the start or the last reset. */
  refreshed(): number;
  /** Forgets every issued access and refresh token (they then answer like unknown tokens). */
  revokeAll(): void;
  /** Makes every issued access token expired now (refresh tokens stay usable). */
  expireAll(): void;
  /** Every access and refresh token issued since the start or the last reset, used or not (tests look for leaks). */
  issuedTokens(): string[];
}

interface AccessToken {
  clientId: string;
  scope: string;
  /** Epoch milliseconds; expired once the clock reaches it. */
  expiresAt: number;
}

interface RefreshToken {
  clientId: string;
  scope: string;
  username: string;
}

/** `ok` for a live issued token, `expired` for an issued one past its lifetime, `unknown` otherwise. */
export type TokenCheck = "ok" | "expired" | "unknown";

/** The simulator's issued tokens and their counters. */
export class TokenStore implements OAuthControl {
  private access = new Map<string, AccessToken>();
  private refresh = new Map<string, RefreshToken>();
  private issuedCount = 0;
  private refreshedCount = 0;
  private everIssued: string[] = [];

  constructor(private readonly nowMs: () => number) {}

  check(token: string): TokenCheck {
    const entry = this.access.get(token);
    if (!entry) return "unknown";
    return this.nowMs() >= entry.expiresAt ? "expired" : "ok";
  }

  /** Issues an access token (and a refresh token when `refreshFor` is given). */
  issue(clientId: string, scope: string, ttlSeconds: number, refreshFor?: string): { accessToken: string; refreshToken?: string } {
    const accessToken = opaque();
    this.access.set(accessToken, { clientId, scope, expiresAt: this.nowMs() + ttlSeconds * 1000 });
    this.issuedCount++;
    this.everIssued.push(accessToken);
    if (refreshFor === undefined) return { accessToken };
    const refreshToken = opaque();
    this.everIssued.push(refreshToken);
    this.refresh.set(refreshToken, { clientId, scope, username: refreshFor });
    return { accessToken, refreshToken };
  }

  /** Consumes a refresh token of this client (single use); `undefined` when unknown, used or another client's. */
  consumeRefresh(token: string, clientId: string): RefreshToken | undefined {
    const entry = this.refresh.get(token);
    if (!entry || entry.clientId !== clientId) return undefined;
    this.refresh.delete(token);
    this.refreshedCount++;
    return entry;
  }

  issued(): number {
    return this.issuedCount;
  }

  refreshed(): number {
    return this.refreshedCount;
  }

  issuedTokens(): string[] {
    return [...this.everIssued];
  }

  revokeAll(): void {
    this.access.clear();
    this.refresh.clear();
  }

  expireAll(): void {
    const now = this.nowMs();
    for (const entry of this.access.values()) entry.expiresAt = Math.min(entry.expiresAt, now);
  }

  /** Forgets every token and zeroes the counters (the simulator's `reset()`). */
  clear(): void {
    this.revokeAll();
    this.issuedCount = 0;
    this.refreshedCount = 0;
    this.everIssued = [];
  }
}

const opaque = () => randomBytes(24).toString("base64url");

export interface TokenConfig {
  clients: readonly OAuthClient[];
  users: readonly OAuthUser[];
  ttlSeconds: number;
}

/** The token endpoint's answer, before HTTP. */
export type TokenOutcome =
  | {
      ok: true;
      status: 200;
      result: { access_token: string; refresh_token?: string; token_type: "bearer"; expires_in: number };
    }
  | { ok: false; status: number; code: string; message: string };

const fail = (status: number, code: string, message: string): TokenOutcome => ({ ok: false, status, code, message });

/** Answers one token request (the form's fields, last value of a repeated field wins). */
export function tokenRequest(form: Record<string, string>, store: TokenStore, config: TokenConfig): TokenOutcome {
  const grant = form.grant_type;
  if (!grant) return fail(400, "invalid_request", "grant_type is required");
  if (grant !== "password" && grant !== "refresh_token" && grant !== "client_credentials") {
    return fail(400, "unsupported_grant_type", `grant_type ${grant} is not supported`);
  }

  const { client_id: clientId, client_secret: clientSecret } = form;
  if (!clientId || !clientSecret) return fail(401, "invalid_client", "client_id and client_secret are required");
  if (!config.clients.some((c) => c.clientId === clientId && c.clientSecret === clientSecret)) {
    return fail(401, "invalid_client", "client authentication failed");
  }

  let ttl = config.ttlSeconds;
  if (form.expires_in !== undefined && form.expires_in !== "") {
    if (!/^[1-9]\d{0,9}$/.test(form.expires_in)) return fail(400, "invalid_request", "expires_in must be a positive integer");
    ttl = Math.min(ttl, Number(form.expires_in));
  }

  const answer = (scope: string, refreshFor: string | undefined): TokenOutcome => {
    const { accessToken, refreshToken } = store.issue(clientId, scope, ttl, refreshFor);
    return {
      ok: true,
      status: 200,
      result: {
        access_token: accessToken,
        ...(refreshToken !== undefined ? { refresh_token: refreshToken } : {}),
        token_type: "bearer",
        expires_in: ttl,
      },
    };
  };

  switch (grant) {
    case "password": {
      const scope = form.scope || "manager";
      if (scope !== "manager" && scope !== "user") return fail(400, "invalid_scope", `scope ${scope} is not supported (manager or user)`);
      const { username, password } = form;
      if (!username) return fail(400, "invalid_request", "username is required");
      if (!password) return fail(400, "invalid_request", "password is required");
      if (!config.users.some((u) => u.username === username && u.password === password)) {
        return fail(400, "invalid_grant", "invalid username or password");
      }
      return answer(scope, username);
    }
    case "refresh_token": {
      if (!form.refresh_token) return fail(400, "invalid_request", "refresh_token is required");
      const previous = store.consumeRefresh(form.refresh_token, clientId);
      if (!previous) return fail(400, "invalid_grant", "refresh_token is invalid, expired or already used");
      return answer(previous.scope, previous.username);
    }
    case "client_credentials":
      return answer(form.scope || "manager", undefined);
  }
}

/** The form as the simulator records it: secrets replaced by `"***"`. */
export function maskTokenForm(form: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(form).map(([key, value]) => [key, SECRET_FORM_FIELDS.includes(key) ? "***" : value]));
}

/** Parses a form-encoded body into its fields (the last of repeated fields wins). */
export function parseForm(body: string): Record<string, string> {
  // fromEntries defines own properties, so a field named `__proto__` stays a plain field
  return Object.fromEntries(new URLSearchParams(body));
}
