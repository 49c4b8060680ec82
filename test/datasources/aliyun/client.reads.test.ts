import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AliyunClient, type AliyunClientOptions, type AliyunRequest } from "../../../src/datasources/aliyun/client.js";
import { contentMd5, sign, stringToSign } from "../../../src/datasources/aliyun/signature.js";
import type { VendorCallEvent } from "../../../src/datasources/vendor-call.js";
import { UpstreamError } from "../../../src/errors.js";
import { createLogger } from "../../../src/logger.js";
import {
  DEMO_ALIYUN_APP_KEY,
  DEMO_ALIYUN_APP_SECRET,
  startAliyunSimulator,
  type AliyunFaultSpec,
  type AliyunSimulator,
  type RecordedGatewayRequest,
} from "../../../src/simulators/aliyun/index.js";

let sim: AliyunSimulator;
const lines: string[] = [];
const events: VendorCallEvent[] = [];
const client = (extra: Partial<AliyunClientOptions> = {}) =>
  new AliyunClient({
    baseUrl: sim.url,
    appKey: DEMO_ALIYUN_APP_KEY,
    appSecret: DEMO_ALIYUN_APP_SECRET,
    timeoutMs: 1500,
    readRetries: 2,
    logger: createLogger("debug", {}, (l) => lines.push(l)),
    onCall: (e) => events.push(e),
    ...extra,
  });

beforeAll(async () => {
  sim = await startAliyunSimulator({ quiet: true });
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.reset();
  events.length = 0;
  lines.length = 0;
});

const persons = () => [...sim.state.persons.values()];
const devices = () => [...sim.state.devices.values()];

/**
 * What the gateway received for the one request made: the envelope with the path's apiVer, a UUID id, the
 * signature headers, a Content-MD5 of exactly the bytes sent, and a signature that verifies with the app secret.
 */
function expectSignedEnvelope(path: string, apiVer: string, params: Record<string, unknown>): RecordedGatewayRequest {
  const all = sim.received();
  expect(all).toHaveLength(1);
  const [req] = all;
  expect(req).toMatchObject({ path, version: "1.0", apiVer, params, status: 200, code: 200 });
  expect(req.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const h = req.headers;
  expect(h).toMatchObject({
    "x-ca-key": DEMO_ALIYUN_APP_KEY,
    "x-ca-stage": "RELEASE",
    "x-ca-signature-headers": "x-ca-key,x-ca-nonce,x-ca-stage,x-ca-timestamp",
    accept: "application/json",
    "content-type": "application/json; charset=UTF-8",
  });
  expect(Math.abs(Number(h["x-ca-timestamp"]) - Date.now())).toBeLessThan(60_000);
  expect(h["x-ca-nonce"]).toMatch(/^[0-9a-f-]{36}$/);
  // The client serialises {id, version, request: {apiVer}, params} once: rebuild those bytes and check both hashes.
  const bytes = JSON.stringify({ id: req.id, version: req.version, request: { apiVer: req.apiVer }, params: req.params });
  expect(h["content-md5"]).toBe(contentMd5(bytes));
  const names = h["x-ca-signature-headers"]!.split(",");
  expect(h["x-ca-signature"]).toBe(sign(DEMO_ALIYUN_APP_SECRET, stringToSign("POST", path, h, names)));
  expect(JSON.stringify(all) + lines.join("\n")).not.toContain(DEMO_ALIYUN_APP_SECRET);
  expect(events).toEqual([expect.objectContaining({ vendor: "aliyun", command: path, outcome: "success", status: 200, attempts: 1 })]);
  return req;
}

describe("AliyunClient: one call per read path of 003, as the gateway receives it and as the caller gets it", () => {
  it("/entrance/paas/user/get 1.0.0: the person", async () => {
    const person = persons()[3];
    const params = { identityId: person.identityId };
    const got = await client().send({ path: "/entrance/paas/user/get", apiVer: "1.0.0", params, kind: "read" });
    expectSignedEnvelope("/entrance/paas/user/get", "1.0.0", params);
    expect(got).toEqual({ identityId: person.identityId, name: person.name, extInfo: person.extInfo });
  });

  it("/entrance/paas/user/query 1.0.0: a page of persons with the gateway's total", async () => {
    const params = { pageSize: 25, pageNo: 2 };
    const got = await client().send({ path: "/entrance/paas/user/query", apiVer: "1.0.0", params, kind: "read" });
    expectSignedEnvelope("/entrance/paas/user/query", "1.0.0", params);
    expect(got).toEqual({
      pageSize: 25,
      pageNo: 2,
      total: 60,
      data: persons()
        .slice(25, 50)
        .map((p) => ({ identityId: p.identityId, name: p.name, extInfo: p.extInfo })),
    });
  });

  it("/entrance/paas/user/perm/query 1.0.0: a person's cards on the devices asked about", async () => {
    const holder = [...sim.state.cards.values()][0].identityId;
    const iotIds = devices().map((d) => d.iotId);
    const params = { identityId: holder, iotIds };
    const got = (await client().send({ path: "/entrance/paas/user/perm/query", apiVer: "1.0.0", params, kind: "read" })) as {
      identityId: string;
      data: { iotId: string; identityId: string; cardId: string; expiryTime: string }[];
    };
    expectSignedEnvelope("/entrance/paas/user/perm/query", "1.0.0", params);
    const expected = [...sim.state.cards.values()].filter((c) => c.identityId === holder);
    expect(expected.length).toBeGreaterThan(0);
    expect(got.identityId).toBe(holder);
    expect(got.data).toEqual(expected.map((c) => ({ iotId: c.iotId, identityId: c.identityId, expiryTime: c.expiryTime, cardId: c.cardId })));
  });

  it("/entrance/paas/device/perm/query 1.0.0: a device's cards, paged", async () => {
    const iotId = devices()[0].iotId;
    const params = { iotId, pageSize: 10, pageNo: 1 };
    const got = (await client().send({ path: "/entrance/paas/device/perm/query", apiVer: "1.0.0", params, kind: "read" })) as {
      total: number;
      pageSize: number;
      pageNo: number;
      data: { iotId: string; identityId: string; cardId: string }[];
    };
    expectSignedEnvelope("/entrance/paas/device/perm/query", "1.0.0", params);
    const onDevice = [...sim.state.cards.values()].filter((c) => c.iotId === iotId);
    expect(onDevice.length).toBeGreaterThan(10);
    expect(got).toMatchObject({ total: onDevice.length, pageSize: 10, pageNo: 1 });
    expect(got.data.map((c) => c.cardId)).toEqual(onDevice.slice(0, 10).map((c) => c.cardId));
  });

  it("/entrance/paas/keepopen/get 1.0.0: the device's keep-open state (a bare boolean)", async () => {
    const held = devices().find((d) => d.keepOpen)!;
    const params = { iotId: held.iotId };
    expect(await client().send({ path: "/entrance/paas/keepopen/get", apiVer: "1.0.0", params, kind: "read" })).toBe(true);
    expectSignedEnvelope("/entrance/paas/keepopen/get", "1.0.0", params);
  });
});

describe("AliyunClient: faults and refusals map to coded errors", () => {
  const read = (): AliyunRequest => ({ path: "/entrance/paas/keepopen/get", apiVer: "1.0.0", params: { iotId: devices()[0].iotId }, kind: "read" });
  const write = (): AliyunRequest => ({
    path: "/cloud/thing/service/invoke",
    apiVer: "1.0.1",
    params: { iotId: devices()[0].iotId, identifier: "remoteOpen", args: {} },
    kind: "write",
  });
  async function failure(p: Promise<unknown>): Promise<UpstreamError> {
    const error = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UpstreamError);
    return error as UpstreamError;
  }

  const cases: { name: string; fault: Omit<AliyunFaultSpec, "path">; code: string; outcome: VendorCallEvent["outcome"]; status?: number; vendorCode?: string; attempts: number }[] = [
    { name: "latency beyond the timeout", fault: { kind: "latency", latencyMs: 1200 }, code: "UPSTREAM_TIMEOUT", outcome: "timeout", attempts: 1 },
    { name: "no answer", fault: { kind: "no_answer" }, code: "UPSTREAM_TIMEOUT", outcome: "timeout", attempts: 1 },
    { name: "HTTP 503", fault: { kind: "http_error", status: 503 }, code: "UPSTREAM_UNAVAILABLE", outcome: "http_error", status: 503, attempts: 3 },
    { name: "HTTP 500", fault: { kind: "http_error", status: 500 }, code: "UPSTREAM_UNAVAILABLE", outcome: "http_error", status: 500, attempts: 3 },
    { name: "HTTP 429 whose Retry-After exceeds the timeout", fault: { kind: "http_error", status: 429 }, code: "UPSTREAM_UNAVAILABLE", outcome: "http_error", status: 429, attempts: 1 },
    {
      name: "HTTP 403 throttled by the gateway",
      fault: { kind: "http_error", status: 403, gatewayMessage: "Throttled by APP Flow Control" },
      code: "UPSTREAM_UNAVAILABLE",
      outcome: "http_error",
      status: 403,
      vendorCode: "GATEWAY_THROTTLED",
      attempts: 1,
    },
    { name: "body code 2063", fault: { kind: "vendor_error", code: 2063, message: "iotId does not exist" }, code: "UPSTREAM_ERROR", outcome: "vendor_error", status: 200, vendorCode: "2063", attempts: 1 },
    { name: "body code 429", fault: { kind: "vendor_error", code: 429, message: "too many requests" }, code: "UPSTREAM_UNAVAILABLE", outcome: "vendor_error", status: 200, vendorCode: "429", attempts: 3 },
    { name: "body code 503", fault: { kind: "vendor_error", code: 503 }, code: "UPSTREAM_UNAVAILABLE", outcome: "vendor_error", status: 200, vendorCode: "503", attempts: 3 },
    { name: "a malformed body", fault: { kind: "malformed" }, code: "UPSTREAM_ERROR", outcome: "malformed", status: 200, attempts: 1 },
    { name: "a reset connection", fault: { kind: "reset" }, code: "UPSTREAM_UNAVAILABLE", outcome: "network_error", attempts: 3 },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.code} (${c.vendorCode ?? "no vendor code"}), a read tried ${c.attempts} time(s)`, async () => {
      sim.injectFault({ ...c.fault, path: "/entrance/paas/keepopen/get" });
      const started = Date.now();
      const error = await failure(client({ timeoutMs: 800 }).send(read()));
      expect(error.code).toBe(c.code);
      expect(error.upstream).toMatchObject({ vendor: "aliyun", command: "/entrance/paas/keepopen/get" });
      expect(error.upstream.status).toBe(c.status);
      expect(error.upstream.vendorCode).toBe(c.vendorCode);
      expect(sim.received()).toHaveLength(c.attempts);
      expect(events).toEqual([expect.objectContaining({ outcome: c.outcome, attempts: c.attempts })]);
      // Every attempt is signed afresh: same envelope id, never the same nonce.
      const nonces = new Set(sim.received().map((r) => r.headers["x-ca-nonce"]));
      expect(nonces.size).toBe(c.attempts);
      expect(new Set(sim.received().map((r) => r.id)).size).toBe(1);
      expect(Date.now() - started).toBeLessThan(c.attempts * 800 + 1500);
    });
  }

  it("a read is retried after a reset connection and a 429 within the timeout, and succeeds", async () => {
    sim.injectFault({ kind: "reset", path: "/entrance/paas/keepopen/get", times: 1 });
    sim.injectFault({ kind: "http_error", status: 429, path: "/entrance/paas/keepopen/get", times: 1 });
    expect(await client({ timeoutMs: 1500 }).send(read())).toBe(devices()[0].keepOpen);
    expect(sim.received().map((r) => r.fault ?? r.status)).toEqual(["reset", "http_error", 200]);
    expect(events).toEqual([expect.objectContaining({ outcome: "success", attempts: 3 })]);
  });

  for (const fault of [
    { kind: "reset" },
    { kind: "http_error", status: 503 },
    { kind: "http_error", status: 429 },
    { kind: "vendor_error", code: 503 },
  ] as const) {
    it(`a write (remote open) is never retried: ${fault.kind}${"status" in fault ? ` ${fault.status}` : ""}${"code" in fault ? ` code ${fault.code}` : ""}`, async () => {
      sim.injectFault({ ...fault, path: "/cloud/thing/service/invoke", times: 1 });
      const error = await failure(client().send(write()));
      expect(error.code).toBe("UPSTREAM_UNAVAILABLE");
      expect(sim.received()).toHaveLength(1);
      expect(sim.state.remoteOpens).toHaveLength(0);
      expect(events).toEqual([expect.objectContaining({ attempts: 1 })]);
    });
  }

  it("a write that succeeds opens the door once", async () => {
    expect(await client().send(write())).toBeNull();
    expect(sim.state.remoteOpens.map((o) => o.iotId)).toEqual([devices()[0].iotId]);
    expect(sim.received()).toHaveLength(1);
  });

  it("a gateway refusal with a request id: the gateway's x-ca-request-id replaces ours", async () => {
    const error = await failure(client({ appSecret: "wrong-secret-000" }).send(read()));
    expect(error.upstream.vendorCode).toBe("GATEWAY_INVALID_SIGNATURE");
    expect(error.upstream.requestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(error.upstream.requestId).not.toBe(sim.received()[0].id);
    // The server's string to sign the gateway appends is dropped from what the caller sees.
    expect(error.message).not.toContain("StringToSign");
    expect(JSON.stringify(error.upstream) + error.message + lines.join("\n")).not.toContain("wrong-secret-000");
  });
});
