import { setTimeout as sleep } from "node:timers/promises";
import got from "got";
import type { Cache } from "../cache/cache.js";
import { KEY_PREFIX, tenantScope } from "../cache/read-through.js";
import { UnauthenticatedError, UpstreamError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { AkubelaCredential } from "./caller.js";

/** The facade's own Akubela OAuth client: client credentials, plus a manager login or a refresh token. */
export interface AkubelaOAuthConfig {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  username?: string;
  password?: string;
  refreshToken?: string;
  /** `manager` for property managers (the default). */
  scope: string;
  timeoutMs: number;
}

interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  /** Epoch ms. */
  expiresAt: number;
  /** Epoch ms when it was issued, to refresh at a fraction of its life. */
  issuedAt: number;
}

const TOKEN_PATH = "api/v1.0/invoke/open-ability/method/oauth2/token";
const LOCK_MS = 10_000;

/**
 * The server's Akubela credential, obtained and kept fresh by the facade (vendor-docs README, "Tokens":
 * `POST …/oauth2/token`, form-encoded, the token inside the envelope's `result`).
 *
 * - Refreshed before it expires (at 80 % of its life), so callers never meet an expired token while refreshing
 *   works; on a 401 anyway (revoked, clock skew) the data source asks {@link refresh} once and repeats the call.
 * - **One refresh for all instances**: the token lives in the shared cache; an instance refreshes only while it holds
 *   the cache lock, the others wait for and read the new token. Without a reachable cache each instance refreshes
 *   for itself (fail-open).
 * - A refresh token is used first; when the vendor refuses it, the manager login (password grant) is.
 * - Secrets (client secret, password, tokens) are never logged; the cache key holds a hash of the client identity.
 */
export class AkubelaTokenManager implements AkubelaCredential {
  readonly scope: string;
  private current?: TokenSet;
  private inFlight?: Promise<TokenSet>;
  private readonly key: string;
  private readonly lockKey: string;
  private counters = { obtained: 0, refreshed: 0, shared: 0 };

  constructor(
    private readonly config: AkubelaOAuthConfig,
    private readonly cache: Cache,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.scope = tenantScope(`${config.baseUrl}|${config.clientId}|${config.username ?? ""}`);
    this.key = `${KEY_PREFIX}:${this.scope}:akubela-oauth:token`;
    this.lockKey = `${KEY_PREFIX}:${this.scope}:akubela-oauth:lock`;
  }

  stats() {
    return { ...this.counters };
  }

  async token(): Promise<string> {
    if (this.fresh(this.current)) return this.current!.accessToken;
    const shared = await this.readShared();
    if (this.fresh(shared)) {
      this.current = shared;
      return shared!.accessToken;
    }
    return (await this.renew(shared)).accessToken;
  }

  /**
   * After the vendor refused `refused` (HTTP 401): a new token, unless one other than `refused` is already at hand
   * (another request or instance renewed it meanwhile).
   */
  async refresh(refused: string): Promise<string> {
    if (this.current && this.current.accessToken !== refused && this.now() < this.current.expiresAt) return this.current.accessToken;
    const shared = await this.readShared();
    if (shared && shared.accessToken !== refused && this.now() < shared.expiresAt) {
      this.current = shared;
      return shared.accessToken;
    }
    return (await this.renew(shared ?? this.current, true)).accessToken;
  }

  /** Before 80 % of its life: used as is; past that, renewed before use. */
  private fresh(t: TokenSet | undefined): t is TokenSet {
    return t !== undefined && this.now() < t.issuedAt + (t.expiresAt - t.issuedAt) * 0.8;
  }

  private async readShared(): Promise<TokenSet | undefined> {
    const raw = await this.cache.get(this.key);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as TokenSet;
    } catch {
      return undefined;
    }
  }

  /** One renewal at a time in this process; across processes, under the cache lock. */
  private renew(previous: TokenSet | undefined, force = false): Promise<TokenSet> {
    this.inFlight ??= (async () => {
      try {
        const refusedToken = force ? previous?.accessToken : undefined;
        const haveLock = await this.cache.setIfAbsent(this.lockKey, "1", LOCK_MS);
        if (!haveLock) {
          // Another instance is refreshing: wait for its token rather than spend a second refresh.
          for (let waited = 0; waited < LOCK_MS; waited += 100) {
            await sleep(100);
            const shared = await this.readShared();
            if (shared && shared.accessToken !== (refusedToken ?? previous?.accessToken) && this.now() < shared.expiresAt) {
              this.counters.shared++;
              return (this.current = shared);
            }
          }
        }
        try {
          // The lock is ours (or there is no shared cache): someone may have refreshed just before we took it.
          // A token other than the one we are replacing, and still good, is someone else's fresh refresh: use it.
          const latest = await this.readShared();
          const usable = force ? latest && this.now() < latest.expiresAt : this.fresh(latest);
          if (latest && usable && latest.accessToken !== (refusedToken ?? previous?.accessToken)) {
            this.counters.shared++;
            return (this.current = latest);
          }
          const next = await this.obtain(latest ?? previous);
          await this.cache.set(this.key, JSON.stringify(next), Math.max(next.expiresAt - this.now(), 1000));
          return (this.current = next);
        } finally {
          if (haveLock) await this.cache.delete(this.lockKey);
        }
      } finally {
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }

  /** Calls the token endpoint: the refresh token when there is one, else (or when refused) the manager login. */
  private async obtain(previous: TokenSet | undefined): Promise<TokenSet> {
    const refreshToken = previous?.refreshToken ?? this.config.refreshToken;
    if (refreshToken) {
      try {
        const set = await this.grant({ grant_type: "refresh_token", refresh_token: refreshToken });
        this.counters.refreshed++;
        this.logger.info("akubela token refreshed", { expiresAt: new Date(set.expiresAt).toISOString() });
        return set;
      } catch (error) {
        if (!this.config.username) throw error;
        this.logger.warn("akubela refresh token refused; logging in again", { reason: error instanceof UpstreamError ? error.upstream.vendorCode : "error" });
      }
    }
    const set = this.config.username
      ? await this.grant({ grant_type: "password", scope: this.config.scope, username: this.config.username, password: this.config.password ?? "" })
      : await this.grant({ grant_type: "client_credentials", scope: this.config.scope });
    this.counters.obtained++;
    this.logger.info("akubela token obtained", { expiresAt: new Date(set.expiresAt).toISOString() });
    return set;
  }

  private async grant(form: Record<string, string>): Promise<TokenSet> {
    const info = { vendor: "akubela" as const, command: "oauth2/token" };
    let status: number;
    let text: string;
    try {
      const res = await got.post(`${this.config.baseUrl}/${TOKEN_PATH}`, {
        form: { ...form, client_id: this.config.clientId, client_secret: this.config.clientSecret },
        timeout: { request: this.config.timeoutMs },
        throwHttpErrors: false,
        retry: { limit: 0 },
        responseType: "text",
      });
      status = res.statusCode;
      text = res.body;
    } catch (error) {
      throw new UpstreamError("Akubela's token endpoint could not be reached", "UPSTREAM_UNAVAILABLE", info);
    }
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // handled below
    }
    const result = body.result && typeof body.result === "object" ? (body.result as Record<string, unknown>) : undefined;
    if (status !== 200 || body.success !== true || typeof result?.access_token !== "string") {
      const vendorCode = typeof body.code === "string" ? body.code : undefined;
      // The server's own credential failing is not the caller's fault, but nothing can be done without one.
      throw new UnauthenticatedError(`The server could not obtain an Akubela token (${vendorCode ?? `HTTP ${status}`})`, {
        upstream: { ...info, status, vendorCode },
      });
    }
    const expiresIn = Number(result.expires_in) > 0 ? Number(result.expires_in) : 3600;
    const now = this.now();
    return {
      accessToken: result.access_token,
      refreshToken: typeof result.refresh_token === "string" ? result.refresh_token : undefined,
      issuedAt: now,
      expiresAt: now + expiresIn * 1000,
    };
  }
}
