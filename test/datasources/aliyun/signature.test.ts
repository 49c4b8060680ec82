import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { canonicalPathAndQuery, contentMd5, sign, signRequest, stringToSign } from "../../../src/datasources/aliyun/signature.js";

interface Vector {
  name: string;
  input: {
    method: string;
    url: string;
    fixedTimestampMs: number;
    fixedNonce: string;
    callerHeaders: Record<string, string>;
    callerSignHeaders: Record<string, string>;
  };
  bodyExact: string;
  contentMD5: string;
  stringToSign: string;
  signature: string;
  requestHeaders: Record<string, string>;
}

/** A verbatim copy of `../shared/vendor-docs/aliyun-signature-vectors.json`, so a fresh clone carries its vectors. */
const file = JSON.parse(readFileSync(new URL("../../fixtures/aliyun-signature-vectors.json", import.meta.url), "utf8")) as {
  appKey: string;
  appSecret: string;
  cases: Vector[];
};

describe("Aliyun API Gateway signature: Alibaba's SDK test vectors", () => {
  it("has the documented cases (a minimal body, a UTF-8 body, a query with an extra signed header, a Date header)", () => {
    expect(file.cases.length).toBeGreaterThanOrEqual(4);
  });

  for (const v of file.cases) {
    it(`${v.name}: same Content-MD5, string to sign, signature and headers, byte for byte`, () => {
      const url = new URL(v.input.url);
      const signed = signRequest({
        method: v.input.method,
        pathAndQuery: `${url.pathname}${url.search}`,
        body: Buffer.from(v.bodyExact, "utf8"),
        appKey: file.appKey,
        appSecret: file.appSecret,
        timestamp: v.input.fixedTimestampMs,
        nonce: v.input.fixedNonce,
        headers: v.input.callerHeaders,
        signHeaders: v.input.callerSignHeaders,
      });
      expect(contentMd5(Buffer.from(v.bodyExact, "utf8"))).toBe(v.contentMD5);
      expect(signed.stringToSign).toBe(v.stringToSign);
      expect(signed.signature).toBe(v.signature);
      const { "user-agent": _ua, ...expected } = v.requestHeaders;
      expect(signed.headers).toEqual(expected);
    });

    it(`${v.name}: the gateway's side, rebuilt from the headers received, gives the same string to sign and signature`, () => {
      const url = new URL(v.input.url);
      const names = v.requestHeaders["x-ca-signature-headers"]!.split(",");
      const text = stringToSign(v.input.method, `${url.pathname}${url.search}`, v.requestHeaders, names);
      expect(text).toBe(v.stringToSign);
      expect(sign(file.appSecret, text)).toBe(v.signature);
      expect(contentMd5(v.bodyExact)).toBe(v.contentMD5);
    });
  }

  it("sorts the query and writes an empty value as the bare key", () => {
    expect(canonicalPathAndQuery("/p?zeta=2&alpha=1&empty=")).toBe("/p?alpha=1&empty&zeta=2");
    expect(canonicalPathAndQuery("/p")).toBe("/p");
  });

  it("draws the timestamp and nonce from the injected clock and nonce source, fresh for each request", () => {
    let n = 0;
    const sources = { now: () => 1_700_000_000_000 + n, nonce: () => `nonce-${++n}` };
    const input = { method: "POST", pathAndQuery: "/entrance/paas/user/get", body: "{}", appKey: "k", appSecret: "s" };
    const a = signRequest(input, sources);
    const b = signRequest(input, sources);
    expect([a.headers["x-ca-nonce"], a.headers["x-ca-timestamp"]]).toEqual(["nonce-1", "1700000000000"]);
    expect([b.headers["x-ca-nonce"], b.headers["x-ca-timestamp"]]).toEqual(["nonce-2", "1700000000001"]);
    expect(a.signature).not.toBe(b.signature);
    // Fixed values win over the sources; the same inputs always sign the same.
    expect(signRequest({ ...input, timestamp: 5, nonce: "x" }, sources)).toEqual(signRequest({ ...input, timestamp: 5, nonce: "x" }));
    const defaults = signRequest(input);
    expect(defaults.headers["x-ca-nonce"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(Number(defaults.headers["x-ca-timestamp"]) - Date.now())).toBeLessThan(5000);
  });

  it("changes the signature when the secret, the body or the nonce changes", () => {
    const base = { method: "POST", pathAndQuery: "/entrance/paas/user/get", body: "{}", appKey: "k", appSecret: "s", timestamp: 1, nonce: "n" };
    const sig = signRequest(base).signature;
    expect(signRequest({ ...base, appSecret: "t" }).signature).not.toBe(sig);
    expect(signRequest({ ...base, body: "{ }" }).signature).not.toBe(sig);
    expect(signRequest({ ...base, nonce: "m" }).signature).not.toBe(sig);
  });
});
