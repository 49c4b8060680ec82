import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { canonicalPathAndQuery, contentMd5, signRequest } from "../../../src/datasources/aliyun/signature.js";

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
  it("has the four documented cases", () => {
    expect(file.cases.map((c) => c.name)).toHaveLength(4);
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
  }

  it("sorts the query and writes an empty value as the bare key", () => {
    expect(canonicalPathAndQuery("/p?zeta=2&alpha=1&empty=")).toBe("/p?alpha=1&empty&zeta=2");
    expect(canonicalPathAndQuery("/p")).toBe("/p");
  });

  it("changes the signature when the secret, the body or the nonce changes", () => {
    const base = { method: "POST", pathAndQuery: "/entrance/paas/user/get", body: "{}", appKey: "k", appSecret: "s", timestamp: 1, nonce: "n" };
    const sig = signRequest(base).signature;
    expect(signRequest({ ...base, appSecret: "t" }).signature).not.toBe(sig);
    expect(signRequest({ ...base, body: "{ }" }).signature).not.toBe(sig);
    expect(signRequest({ ...base, nonce: "m" }).signature).not.toBe(sig);
  });
});
