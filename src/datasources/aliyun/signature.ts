/**
 * Alibaba Cloud API Gateway request signing with AppKey / AppSecret (`../shared/vendor-docs/aliyun-gateway.md`,
 * "Signing"), byte for byte as Alibaba's own SDK signs: the test vectors in `aliyun-signature-vectors.json` are
 * checked by `test/datasources/aliyun/signature.test.ts`.
 *
 * String to sign, lines joined with a bare `\n`: METHOD, Accept, Content-MD5, Content-Type, Date (an empty value
 * keeps its empty line), then `name:value` for each signed header in sorted order (lower-case names: every
 * `x-ca-*` header plus any extra header chosen for signing), then the path with its query sorted by key (a key
 * with an empty value written without `=`). Signature = base64(HMAC-SHA256(AppSecret, string to sign)).
 *
 * Pure functions: the clock and the nonce are inputs, so the simulator verifies with the same code.
 */
import { createHash, createHmac, randomUUID } from "node:crypto";

/** Headers never signed even though they start with `x-ca-`: they carry the signature itself. */
const UNSIGNED_X_CA = new Set(["x-ca-signature", "x-ca-signature-headers"]);

export const contentMd5 = (body: string | Uint8Array): string => createHash("md5").update(body).digest("base64");

export const hmacSha256 = (secret: string, text: string): string => createHmac("sha256", Buffer.from(secret, "utf8")).update(text, "utf8").digest("base64");

/** `X-Ca-Signature` of a string to sign: base64(HMAC-SHA256(key = UTF-8 AppSecret, message = UTF-8 text)). */
export const sign = (appSecret: string, text: string): string => hmacSha256(appSecret, text);

/** `/path?b=2&a=1&e=` → `/path?a=1&b=2&e`: the path and the query sorted by key. */
export function canonicalPathAndQuery(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf("?");
  if (q < 0) return pathAndQuery;
  const path = pathAndQuery.slice(0, q);
  const params = [...new URLSearchParams(pathAndQuery.slice(q + 1))];
  if (params.length === 0) return path;
  params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${path}?${params.map(([k, v]) => (v === "" ? k : `${k}=${v}`)).join("&")}`;
}

/** Names of the headers to sign: every `x-ca-*` header but the signature's own, plus `extra`, lower-case and sorted. */
export function signedHeaderNames(headers: Record<string, string>, extra: readonly string[] = []): string[] {
  const names = new Set<string>();
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (lower.startsWith("x-ca-") && !UNSIGNED_X_CA.has(lower)) names.add(lower);
  }
  for (const name of extra) names.add(name.toLowerCase());
  return [...names].sort();
}

/** The string to sign for a request whose headers (any case) are `headers`, signing `signedNames`. */
export function stringToSign(method: string, pathAndQuery: string, headers: Record<string, string>, signedNames: readonly string[]): string {
  const lower = lowerCaseHeaders(headers);
  return [
    method.toUpperCase(),
    lower.accept ?? "",
    lower["content-md5"] ?? "",
    lower["content-type"] ?? "",
    lower.date ?? "",
    ...signedNames.map((name) => `${name}:${lower[name] ?? ""}`),
    canonicalPathAndQuery(pathAndQuery),
  ].join("\n");
}

export function lowerCaseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(",") : v;
  return out;
}

export interface SignInput {
  method: string;
  /** Path with its query, e.g. `/entrance/paas/user/get`. */
  pathAndQuery: string;
  /** The exact body bytes sent (the signature covers their MD5). */
  body: string | Uint8Array;
  appKey: string;
  appSecret: string;
  /** Milliseconds since the epoch (default: read from the clock, see {@link SignSources}). */
  timestamp?: number;
  /** A fresh UUID per request (default: drawn from the nonce source, see {@link SignSources}). */
  nonce?: string;
  /** Headers of the request before signing (accept, content-type, date…), any case. */
  headers?: Record<string, string>;
  /** Extra headers to send and sign (besides the `x-ca-*` ones). */
  signHeaders?: Record<string, string>;
  stage?: string;
}

export interface SignedRequest {
  /** Every header to send, lower-case names. */
  headers: Record<string, string>;
  stringToSign: string;
  signature: string;
}

/** Where `x-ca-timestamp` and `x-ca-nonce` come from when the input does not fix them (injected: tests, the client). */
export interface SignSources {
  /** Milliseconds since the epoch (default `Date.now`). */
  now?: () => number;
  /** A fresh UUID (default `crypto.randomUUID`). */
  nonce?: () => string;
}

/**
 * Adds the gateway headers to a request and signs it, as the SDK does (`accept`, `content-type` default to JSON).
 * Pure for a given clock and nonce source: the timestamp and nonce are the input's, else drawn from `sources`.
 */
export function signRequest(input: SignInput, sources: SignSources = {}): SignedRequest {
  const timestamp = input.timestamp ?? (sources.now ?? Date.now)();
  const nonce = input.nonce ?? (sources.nonce ?? randomUUID)();
  const headers: Record<string, string> = {
    "x-ca-timestamp": String(timestamp),
    "x-ca-key": input.appKey,
    "x-ca-nonce": nonce,
    "x-ca-stage": input.stage ?? "RELEASE",
    accept: "application/json",
    "content-type": "application/json",
    ...lowerCaseHeaders(input.headers ?? {}),
    ...lowerCaseHeaders(input.signHeaders ?? {}),
  };
  headers["content-md5"] = contentMd5(input.body);
  const names = signedHeaderNames(headers, Object.keys(input.signHeaders ?? {}));
  const text = stringToSign(input.method, input.pathAndQuery, headers, names);
  const signature = sign(input.appSecret, text);
  headers["x-ca-signature-headers"] = names.join(",");
  headers["x-ca-signature"] = signature;
  return { headers, stringToSign: text, signature };
}
