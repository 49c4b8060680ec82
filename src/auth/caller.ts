import { createHash } from "node:crypto";
import { bearerScope } from "../cache/read-through.js";
import type { ApiKey, ApiKeyStore, Scope } from "./api-keys.js";

/**
 * The Akubela credential a request uses: the caller's own Bearer token (forwarded as it came) or, for a caller the
 * facade authenticated with an API key, the server's (a configured token, or one obtained and refreshed by the
 * facade). `scope` is what shared-cache keys are scoped by: never the token itself.
 */
export interface AkubelaCredential {
  token(): Promise<string>;
  /** After the vendor refused `refused` (HTTP 401): a fresh one. Absent for a caller's own token. */
  refresh?(refused: string): Promise<string>;
  readonly scope: string;
}

/** Who is calling. Only its kind and a fingerprint are ever logged, never a credential. */
export interface Caller {
  kind: "anonymous" | "vendor-token" | "api-key";
  /** For logs, audit lines and rate limits: `key:<name>`, `token:sha256:<12 hex>` or `anonymous`. */
  id: string;
  /** What Akubela calls use; absent when the caller has none (anonymous, or an API key without a server credential). */
  akubela?: AkubelaCredential;
  apiKey?: ApiKey;
  /** The caller asked for fresh data (`Cache-Control: no-cache`): cached entries are skipped and replaced. */
  bypassCache?: boolean;
  /** Why the presented credential was refused (a wrong API key): answered UNAUTHENTICATED before anything else. */
  refused?: string;
}

export interface CallerSources {
  apiKeys: ApiKeyStore;
  /** Accept callers' own vendor Bearer tokens (AUTH_MODES includes `bearer`). */
  acceptBearer: boolean;
  /** The server's Akubela credential, for API-key callers. */
  serverAkubela?: AkubelaCredential;
}

/** A caller's own token as an Akubela credential, scoped in the cache by its hash, in the callers' key space. */
export function tokenCredential(token: string): AkubelaCredential {
  return { token: async () => token, scope: bearerScope(token) };
}

const fingerprint = (secret: string) => `sha256:${createHash("sha256").update(secret).digest("hex").slice(0, 12)}`;

/**
 * Reads the credentials of a request: an API key (`X-API-Key: <key>` or `Authorization: ApiKey <key>`) wins over a
 * vendor Bearer token; `Cache-Control: no-cache` / `max-age=0` asks for data fresh from the vendors.
 */
export function identifyCaller(
  headers: { authorization?: string; "x-api-key"?: string | string[]; "cache-control"?: string },
  sources: CallerSources,
): Caller {
  const bypassCache = /(^|,)\s*(no-cache|max-age=0)\s*(,|$)/i.test(headers["cache-control"] ?? "") || undefined;
  const authorization = headers.authorization ?? "";
  const headerKey = Array.isArray(headers["x-api-key"]) ? headers["x-api-key"][0] : headers["x-api-key"];
  const presentedKey = headerKey?.trim() || /^ApiKey\s+(\S+)\s*$/i.exec(authorization)?.[1];
  if (presentedKey) {
    const key = sources.apiKeys.verify(presentedKey);
    if (!key) return { kind: "anonymous", id: "anonymous", refused: "the API key is not valid", bypassCache };
    return { kind: "api-key", id: `key:${key.name}`, apiKey: key, akubela: sources.serverAkubela, bypassCache };
  }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  if (bearer && sources.acceptBearer) return { kind: "vendor-token", id: `token:${fingerprint(bearer)}`, akubela: tokenCredential(bearer), bypassCache };
  if (bearer) return { kind: "anonymous", id: "anonymous", refused: "vendor Bearer tokens are not accepted here: send an API key", bypassCache };
  return { kind: "anonymous", id: "anonymous", bypassCache };
}

/**
 * Whether the caller may use `scope` on `projectId` (undefined: no particular project). A vendor-token caller has
 * whatever its token gives it at the vendor, which decides; an API key has its scopes and projects.
 */
export function allows(caller: Caller, scope: Scope, projectId?: string): boolean {
  if (caller.kind === "vendor-token") return true;
  if (caller.kind !== "api-key" || !caller.apiKey) return false;
  if (!caller.apiKey.scopes.has(scope)) return false;
  if (projectId === undefined || caller.apiKey.projects === "*") return true;
  return caller.apiKey.projects.has(projectId);
}
