import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import got from "got";
import type { Cache } from "../cache/cache.js";
import { KEY_PREFIX, serverScope, tenantScope } from "../cache/read-through.js";
import { UpstreamError, type UpstreamInfo } from "../errors.js";
import type { Sealer } from "../lib/sealed.js";
import type { Logger } from "../logger.js";
import { endVendorSpan, startVendorSpan } from "../tracing.js";
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

export interface AkubelaTokenOptions {
  /**
   * Seals the token set kept in the shared cache (`TOKEN_ENCRYPTION_KEY`). Without it, or without a shared cache,
   * the tokens stay in this process and each instance refreshes on its own.
   */
  sealer?: Sealer;
  now?: () => number;
  /** Jitter source, in [0, 1). */
  random?: () => number;
}

interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  /** Epoch ms, on the clock of the instance that obtained it. */
  issuedAt: number;
  expiresAt: number;
  /** Rotation generation: one more than the newest set its instance knew. The highest is the latest. */
  gen: number;
}

/** Why the last renewal failed, for the caller's error, the log and `/readyz` (never a secret). */
interface Failure {
  code: "UPSTREAM_UNAVAILABLE" | "UPSTREAM_ERROR";
  status?: number;
  vendorCode?: string;
  /** What went wrong, for an operator. */
  reason: string;
  /** Nothing will work again without an operator (a spent refresh token and no login to fall back on). */
  needsOperator: boolean;
}

/** A failure only an operator can end (configuration), as opposed to one a later attempt may not meet. */
class OperatorError extends UpstreamError {}
/** Another instance holds the renewal lock and has not published a set yet: a wait, not a failed renewal. */
class RenewingElsewhere extends UpstreamError {}

const TOKEN_PATH = "api/v1.0/invoke/open-ability/method/oauth2/token";
const INFO: UpstreamInfo = { vendor: "akubela", command: "oauth2/token" };
/** Renewed from this fraction of its life on, in the background; used meanwhile. */
const RENEW_AT = 0.8;
/** How long the shared copy of a set with a refresh token is kept (the vendor publishes no refresh-token lifetime). */
const REFRESH_KEEP_MS = 30 * 24 * 3600_000;
const LOCK_POLL_MS = 50;
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/**
 * The server's Akubela credential, obtained and kept fresh by the facade (vendor-docs README, "Facts from Akubela's
 * public developer site" → Tokens: `POST …/oauth2/token`, form-encoded, the token inside the envelope's `result`;
 * grants `password`, `refresh_token`, `client_credentials`).
 *
 * - **A valid token is always used**: from 80 % of its life it is renewed in the background while requests keep
 *   using it, up to its expiry (less a small clock margin). A failing token endpoint therefore costs no request
 *   until the token really expires; on a 401 anyway (revoked, clock skew) the data source asks {@link refresh} once.
 * - **Bounded retries**: a failed renewal backs off exponentially with jitter (from 1 s, at most a quarter of the
 *   token's life and 60 s apart): about 7 token calls in the first minute per instance, then one a minute.
 * - **Rotation never lost**: refresh tokens are single-use. The set kept is the latest one seen — obtained here, by
 *   another instance (the shared cache), or configured at start-up — and is never dropped when its access token
 *   expires, so the configured `AKUBELA_REFRESH_TOKEN` is used only until the first rotation. A refresh token the
 *   vendor refused is never sent again; the manager login (password grant) takes over when configured, else the
 *   failure is an operator's (`warn` log, {@link health} on `/readyz`), never the caller's `UNAUTHENTICATED`.
 * - **One renewal for all instances** when the shared cache and a sealing key are there: the set is stored sealed
 *   (AES-GCM, bound to its key), renewed only under a cache lock (a lease of a tenth of the token's life, kept while
 *   the renewal runs, so a dead instance's lock lapses before the token expires), and
 *   adopted by the other instances (checked every tenth of the token's life, at most every 5 s). An instance
 *   republishes its set when the shared copy is lost (a Redis restart). Without a token, waiting for another
 *   instance's renewal is bounded (a quarter of the call timeout, at most 2.5 s).
 * - A vendor 5xx, 429, timeout or unreachable token endpoint is `UPSTREAM_UNAVAILABLE`; a refusal (e.g.
 *   `invalid_grant`) `UPSTREAM_ERROR` naming what an operator must change. Secrets (client secret, password, tokens)
 *   are never logged, put in an error or a metric; cache keys hold a hash of the client identity.
 */
export class AkubelaTokenManager implements AkubelaCredential {
  readonly scope: string;
  private current?: TokenSet;
  private inFlight?: Promise<TokenSet>;
  private readonly key: string;
  private readonly lockKey: string;
  private readonly legacyKey: string;
  private readonly sealer?: Sealer;
  private readonly now: () => number;
  private readonly random: () => number;
  /** A refresh token the vendor refused: never sent again. */
  private spentRefreshToken?: string;
  private failure?: Failure;
  private failures = 0;
  private retryAt = 0;
  private nextSyncAt = 0;
  private nextBackgroundAt = 0;
  private syncTimer?: NodeJS.Timeout;
  private legacyCleared = false;
  private closed = false;
  private counters = { obtained: 0, refreshed: 0, shared: 0, failed: 0, published: 0 };

  constructor(
    private readonly config: AkubelaOAuthConfig,
    private readonly cache: Cache,
    private readonly logger: Logger,
    options: AkubelaTokenOptions = {},
  ) {
    const identity = `${config.baseUrl}|${config.clientId}|${config.username ?? ""}`;
    // Cached vendor data: the server's key space, keyed with its secrets (a caller's token can never name it).
    this.scope = serverScope(identity, `${config.clientSecret}\0${config.password ?? ""}`);
    // The token's own storage keeps its key across upgrades (a rotated refresh token must not be lost): sealed
    // values under a key no caller's data scope can reach (those all begin `srv-` or `bearer-`).
    const storage = tenantScope(identity);
    this.key = `${KEY_PREFIX}:${storage}:akubela-oauth:sealed`;
    this.lockKey = `${KEY_PREFIX}:${storage}:akubela-oauth:lock`;
    this.legacyKey = `${KEY_PREFIX}:${storage}:akubela-oauth:token`;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.sealer = cache.kind === "memory" ? undefined : options.sealer;
    if (this.sealer) this.scheduleSync();
    else if (cache.kind !== "memory" && config.refreshToken && !config.username) {
      this.logger.warn("akubela tokens stay in this process (no TOKEN_ENCRYPTION_KEY): with a refresh token only, run one instance or set the key", {});
    }
  }

  /** Counters for tests and operators (no secret). */
  stats() {
    return { ...this.counters, failing: this.failure !== undefined };
  }

  /** `ok`, or what stops the server's Akubela credential from working (for `/readyz`; no secret). */
  health(): string {
    if (this.current && this.usable(this.current)) return "ok";
    // None obtained yet (it is fetched on first use): nothing is wrong. One that expired while a renewal is still
    // running (here or on another instance) is not ready either: requests wait for it.
    if (!this.failure) return this.current ? "no usable token: a renewal is running (here or on another instance)" : "ok";
    return `no usable token: ${this.describeFailure(this.failure)}`;
  }

  async token(): Promise<string> {
    return (await this.usableSet()).accessToken;
  }

  /**
   * After the vendor refused `refused` (HTTP 401): a new token, unless one other than `refused` is already at hand
   * (another request or instance renewed it meanwhile).
   */
  async refresh(refused: string): Promise<string> {
    return (await this.usableSet(refused)).accessToken;
  }

  /** Stops the background sync (the app is stopping). */
  close(): void {
    this.closed = true;
    clearTimeout(this.syncTimer);
  }

  private async usableSet(refused?: string): Promise<TokenSet> {
    const ok = (t: TokenSet | undefined): t is TokenSet => t !== undefined && t.accessToken !== refused && this.usable(t);
    await this.sync(refused !== undefined || !ok(this.current));
    const current = this.current;
    if (ok(current)) {
      if (this.due(current)) this.renewInBackground();
      return current;
    }
    try {
      const next = await this.renew();
      if (ok(next)) return next;
    } catch (error) {
      // Meanwhile another path may have adopted a good one.
      if (ok(this.current)) return this.current;
      throw error;
    }
    if (ok(this.current)) return this.current;
    throw this.error();
  }

  /** From 80 % of its life on. */
  private due(t: TokenSet): boolean {
    return this.now() >= t.issuedAt + (t.expiresAt - t.issuedAt) * RENEW_AT;
  }

  /** Until its expiry, less a clock margin (2 % of its life, at most 1 s). */
  private usable(t: TokenSet): boolean {
    return this.now() < t.expiresAt - Math.min(1000, (t.expiresAt - t.issuedAt) * 0.02);
  }

  private newer(a: TokenSet, than: TokenSet | undefined): boolean {
    if (!than) return true;
    if (a.accessToken === than.accessToken) return false;
    return a.gen > than.gen || (a.gen === than.gen && a.issuedAt > than.issuedAt);
  }

  private lifeMs(): number {
    return this.current ? Math.max(this.current.expiresAt - this.current.issuedAt, 1000) : 3600_000;
  }

  private renewInBackground(): void {
    if (this.inFlight || this.now() < this.retryAt || this.now() < this.nextBackgroundAt) return;
    this.nextBackgroundAt = this.now() + clamp(this.lifeMs() / 20, 100, 1000);
    this.renew().catch(() => {
      // already counted and logged; requests keep the valid token
    });
  }

  /** One renewal at a time in this process; across processes, under the cache lock. */
  private renew(): Promise<TokenSet> {
    this.inFlight ??= this.renewOnce().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async renewOnce(): Promise<TokenSet> {
    if (this.now() < this.retryAt) throw this.error(); // backing off: no call
    const base = this.current;
    let owner = await this.lock();
    if (!owner) {
      const theirs = await this.awaitOtherInstance(base);
      if (theirs) return theirs;
      // Their lock lapsed without a set (the instance died mid-refresh): renew here.
      owner = await this.lock();
      if (!owner) throw this.waitError();
    }
    const lease = this.keepLease(owner);
    try {
      // The lock is ours: someone may have renewed just before we took it, or holds a newer refresh token.
      const shared = await this.readShared();
      if (shared && this.newer(shared, this.current)) this.adopt(shared);
      if (this.current && this.current !== base && !this.due(this.current)) return this.current;
      const next = await this.obtain();
      this.current = next;
      this.succeeded();
      await this.publish(next, false);
      return next;
    } catch (error) {
      throw this.failed(error);
    } finally {
      clearInterval(lease);
      await this.unlock(owner);
    }
  }

  /**
   * Another instance holds the lock: wait (bounded) for its set rather than spend a second renewal. `undefined` when
   * the lock is released or lapses without a new set (its holder failed or died), so this instance may take it.
   */
  private async awaitOtherInstance(base: TokenSet | undefined): Promise<TokenSet | undefined> {
    const deadline = this.now() + clamp(this.config.timeoutMs / 4, 200, 2500);
    while (this.now() < deadline && !this.closed) {
      await sleep(LOCK_POLL_MS);
      const shared = await this.readShared();
      if (shared && this.newer(shared, base) && this.usable(shared)) return this.adopt(shared);
      if ((await this.cache.get(this.lockKey)) === undefined) return undefined;
    }
    if (this.current && this.current !== base && this.usable(this.current)) return this.current;
    throw this.waitError();
  }

  /** The last real failure when there is one (it is what the caller needs), else that another instance is renewing. */
  private waitError(): UpstreamError {
    if (this.failure) return this.error();
    return new RenewingElsewhere("Another instance is renewing the server's Akubela token: retry in a moment", "UPSTREAM_UNAVAILABLE", INFO);
  }

  /** The token endpoint: the latest refresh token when there is one, else (or when refused) the manager login. */
  private async obtain(): Promise<TokenSet> {
    const gen = (this.current?.gen ?? 0) + 1;
    // Once any set is known its refresh token is the latest; the configured one only serves the very first renewal.
    const refreshToken = this.current ? this.current.refreshToken : this.config.refreshToken;
    if (refreshToken && refreshToken !== this.spentRefreshToken) {
      try {
        const set = await this.grant({ grant_type: "refresh_token", refresh_token: refreshToken }, gen, refreshToken);
        this.counters.refreshed++;
        this.logger.info("akubela token refreshed", { expiresAt: new Date(set.expiresAt).toISOString() });
        return set;
      } catch (error) {
        if (!(error instanceof UpstreamError && error.upstream.vendorCode === "invalid_grant")) throw error; // may still be good
        this.spentRefreshToken = refreshToken;
        // Another instance may have rotated it meanwhile without the lock (the cache was down): its set is the latest.
        const shared = await this.readShared();
        if (shared && this.newer(shared, this.current) && shared.refreshToken !== refreshToken) {
          this.adopt(shared);
          return this.usable(shared) ? shared : this.obtain();
        }
        if (!this.config.username) throw this.operatorError("the vendor refused the refresh token (invalid_grant)");
        this.logger.warn("akubela refresh token refused; logging in again", { vendorCode: "invalid_grant" });
      }
    }
    if (this.config.username) {
      const set = await this.grant({ grant_type: "password", scope: this.config.scope, username: this.config.username, password: this.config.password ?? "" }, gen);
      this.counters.obtained++;
      this.logger.info("akubela token obtained", { grant: "password", expiresAt: new Date(set.expiresAt).toISOString() });
      return set;
    }
    if (this.config.refreshToken) throw this.operatorError("the refresh token was refused or used up (invalid_grant)");
    const set = await this.grant({ grant_type: "client_credentials", scope: this.config.scope }, gen);
    this.counters.obtained++;
    this.logger.info("akubela token obtained", { grant: "client_credentials", expiresAt: new Date(set.expiresAt).toISOString() });
    return set;
  }

  private operatorError(what: string): UpstreamError {
    return new OperatorError(
      `The server's Akubela credential needs an operator: ${what}, and no AKUBELA_USERNAME / AKUBELA_PASSWORD is configured to log in again; set a new AKUBELA_REFRESH_TOKEN or the manager login`,
      "UPSTREAM_ERROR",
      { ...INFO, status: 400, vendorCode: "invalid_grant" },
    );
  }

  /** One call to the token endpoint, as a vendor-call trace span (its `traceparent` sent; never the form). */
  private async grant(form: Record<string, string>, gen: number, usedRefreshToken?: string): Promise<TokenSet> {
    const { span, headers } = startVendorSpan("akubela", INFO.command);
    try {
      const set = await this.grantOnce(form, gen, usedRefreshToken, headers);
      endVendorSpan(span, "success", false, { status: 200, attempts: 1 });
      return set;
    } catch (error) {
      const upstream = error instanceof UpstreamError ? error.upstream : undefined;
      const outcome = upstream?.status === undefined ? "network_error" : upstream.status === 200 ? "vendor_error" : "http_error";
      endVendorSpan(span, outcome, true, { status: upstream?.status, vendorCode: upstream?.vendorCode, attempts: 1 });
      throw error;
    }
  }

  /** One call to the token endpoint. `usedRefreshToken` stays the refresh token when the answer carries none. */
  private async grantOnce(form: Record<string, string>, gen: number, usedRefreshToken: string | undefined, headers: Record<string, string>): Promise<TokenSet> {
    let status: number;
    let text: string;
    try {
      const res = await got.post(`${this.config.baseUrl}/${TOKEN_PATH}`, {
        form: { ...form, client_id: this.config.clientId, client_secret: this.config.clientSecret },
        headers,
        timeout: { request: this.config.timeoutMs },
        throwHttpErrors: false,
        retry: { limit: 0 },
        responseType: "text",
      });
      status = res.statusCode;
      text = res.body;
    } catch (error) {
      const code = (error as { code?: string }).code;
      const timedOut = code === "ETIMEDOUT";
      throw new UpstreamError(`Akubela's token endpoint ${timedOut ? "did not answer in time" : `could not be reached${code ? ` (${code})` : ""}`}`, "UPSTREAM_UNAVAILABLE", INFO);
    }
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // handled below
    }
    const result = body.result && typeof body.result === "object" ? (body.result as Record<string, unknown>) : undefined;
    if (status === 429 || status >= 500) {
      throw new UpstreamError(`Akubela's token endpoint is unavailable (HTTP ${status})`, "UPSTREAM_UNAVAILABLE", { ...INFO, status });
    }
    if (status !== 200 || body.success !== true || typeof result?.access_token !== "string") {
      const vendorCode = typeof body.code === "string" ? body.code : typeof body.error === "string" ? body.error : undefined;
      // The server's own credential refused: an operator's matter, not the caller's (never UNAUTHENTICATED).
      throw new UpstreamError(`Akubela's token endpoint refused the server's credential (${vendorCode ?? `HTTP ${status}`})`, "UPSTREAM_ERROR", { ...INFO, status, vendorCode });
    }
    const expiresIn = Number(result.expires_in) > 0 ? Number(result.expires_in) : 3600;
    const now = this.now();
    return {
      accessToken: result.access_token,
      // RFC 6749 §6: an answer without a new refresh token leaves the one used valid.
      refreshToken: typeof result.refresh_token === "string" ? result.refresh_token : usedRefreshToken,
      issuedAt: now,
      expiresAt: now + expiresIn * 1000,
      gen,
    };
  }

  private succeeded(): void {
    if (this.failure) this.logger.info("akubela token renewal works again", { afterFailures: this.failures });
    this.failure = undefined;
    this.failures = 0;
    this.retryAt = 0;
  }

  /** Counts a failed renewal, schedules the next attempt (exponential, jittered), logs it for the operator. */
  private failed(error: unknown): unknown {
    if (!(error instanceof UpstreamError) || error instanceof RenewingElsewhere) return error;
    this.counters.failed++;
    this.failures++;
    const life = this.lifeMs();
    const step = Math.min(clamp(life / 20, 100, 1000) * 2 ** (this.failures - 1), clamp(life / 4, 1000, 60_000));
    const delay = Math.round(step / 2 + (this.random() * step) / 2);
    this.retryAt = this.now() + delay;
    const needsOperator = error instanceof OperatorError;
    this.failure = {
      code: error.code === "UPSTREAM_UNAVAILABLE" ? "UPSTREAM_UNAVAILABLE" : "UPSTREAM_ERROR",
      status: error.upstream.status,
      vendorCode: error.upstream.vendorCode,
      reason: error.message,
      needsOperator,
    };
    this.logger.warn("akubela token renewal failed", {
      reason: error.upstream.vendorCode ?? (error.upstream.status ? `HTTP ${error.upstream.status}` : error.code),
      attempt: this.failures,
      retryInMs: delay,
      currentTokenValidForMs: this.current ? Math.max(0, this.current.expiresAt - this.now()) : 0,
      needsOperator,
    });
    return this.error();
  }

  private describeFailure(f: Failure): string {
    return f.needsOperator ? f.reason : `${f.reason}; next attempt in ${Math.ceil(Math.max(0, this.retryAt - this.now()) / 1000)} s`;
  }

  /** The error a request without a usable token gets: the last renewal failure (an operator's, not the caller's). */
  private error(): UpstreamError {
    const f = this.failure;
    if (!f) return new UpstreamError("The server's Akubela token could not be renewed", "UPSTREAM_UNAVAILABLE", INFO);
    const message = f.needsOperator ? f.reason : `The server's Akubela token could not be renewed: ${this.describeFailure(f)}`;
    return new UpstreamError(message, f.code, { ...INFO, status: f.status, vendorCode: f.vendorCode });
  }

  // ---- the shared copy ------------------------------------------------------------------------------------------

  private adopt(set: TokenSet): TokenSet {
    this.counters.shared++;
    this.current = set;
    // A set renewed elsewhere is the latest: the failures were about the one it replaces.
    if (this.failure) this.succeeded();
    return set;
  }

  /** Reads the shared copy: adopts a newer one, republishes ours when the copy is lost or older. Throttled. */
  private async sync(force: boolean): Promise<void> {
    if (!this.sealer) return;
    const now = this.now();
    if (!force && now < this.nextSyncAt) return;
    this.nextSyncAt = now + this.syncEveryMs();
    const shared = await this.readShared();
    const current = this.current;
    if (shared && this.newer(shared, current)) this.adopt(shared);
    else if (current && (!shared || this.newer(current, shared))) await this.publish(current, !shared);
    // From the life of the set now held (the first adoption would otherwise wait as long as an hour's token allows).
    this.nextSyncAt = this.now() + this.syncEveryMs();
  }

  /** A tenth of the token's life, 250 ms to 5 s. */
  private syncEveryMs(): number {
    return clamp(this.lifeMs() / 10, 250, 5000);
  }

  private scheduleSync(): void {
    if (this.closed) return;
    const wait = Math.max(this.nextSyncAt - this.now(), 250);
    this.syncTimer = setTimeout(() => {
      this.sync(false)
        .catch(() => {})
        .finally(() => this.scheduleSync());
    }, wait);
    this.syncTimer.unref();
  }

  private async readShared(): Promise<TokenSet | undefined> {
    if (!this.sealer) return undefined;
    const sealed = await this.cache.get(this.key);
    const text = sealed === undefined ? undefined : this.sealer.open(sealed, this.key);
    if (text === undefined) return undefined;
    try {
      const set = JSON.parse(text) as TokenSet;
      const valid = typeof set.accessToken === "string" && typeof set.expiresAt === "number" && typeof set.issuedAt === "number" && typeof set.gen === "number";
      return valid ? set : undefined;
    } catch {
      return undefined;
    }
  }

  private async publish(set: TokenSet, onlyIfAbsent: boolean): Promise<void> {
    if (!this.sealer) return;
    const ttl = set.refreshToken ? REFRESH_KEEP_MS : Math.max(set.expiresAt - this.now(), 1000);
    const sealed = this.sealer.seal(JSON.stringify(set), this.key);
    if (onlyIfAbsent) await this.cache.setIfAbsent(this.key, sealed, ttl);
    else await this.cache.set(this.key, sealed, ttl);
    this.counters.published++;
    if (!this.legacyCleared) {
      // Earlier versions kept the set in clear under this key.
      await this.cache.delete(this.legacyKey);
      this.legacyCleared = true;
    }
  }

  /**
   * The lock's lease: a tenth of the token's life (at least 250 ms, at most the token call's timeout + 2 s), kept
   * while the renewal runs ({@link keepLease}), so the lock of an instance that died mid-refresh lapses well before
   * the token it was renewing expires (renewal starts at 80 % of the life).
   */
  private leaseMs(): number {
    return clamp(this.lifeMs() / 10, 250, this.config.timeoutMs + 2000);
  }

  /** The lock's owner id when taken (or when there is nothing to coordinate with), else undefined. */
  private async lock(): Promise<string | undefined> {
    const owner = randomUUID();
    if (!this.sealer) return owner;
    return (await this.cache.setIfAbsent(this.lockKey, owner, this.leaseMs())) ? owner : undefined;
  }

  /** Renews the lease every third of it while this instance holds the lock. */
  private keepLease(owner: string): NodeJS.Timeout | undefined {
    if (!this.sealer) return undefined;
    const lease = this.leaseMs();
    const timer = setInterval(() => void this.cache.extendIfEquals(this.lockKey, owner, lease), Math.max(lease / 3, 50));
    timer.unref();
    return timer;
  }

  private async unlock(owner: string): Promise<void> {
    if (!this.sealer) return;
    // Only our own: past its expiry another instance may hold it.
    if ((await this.cache.get(this.lockKey)) === owner) await this.cache.delete(this.lockKey);
  }
}
