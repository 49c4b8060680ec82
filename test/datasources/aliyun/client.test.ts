import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AliyunClient, type AliyunClientOptions } from "../../../src/datasources/aliyun/client.js";
import { UpstreamError } from "../../../src/errors.js";
import { createLogger } from "../../../src/logger.js";
import type { VendorCallEvent } from "../../../src/datasources/vendor-call.js";
import { DEMO_ALIYUN_APP_KEY, DEMO_ALIYUN_APP_SECRET, startAliyunSimulator, type AliyunSimulator } from "../../../src/simulators/aliyun/index.js";

let sim: AliyunSimulator;
const lines: string[] = [];
const events: VendorCallEvent[] = [];
const client = (extra: Partial<AliyunClientOptions> = {}) =>
  new AliyunClient({
    baseUrl: sim.url,
    appKey: DEMO_ALIYUN_APP_KEY,
    appSecret: DEMO_ALIYUN_APP_SECRET,
    timeoutMs: 800,
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
});

const keepOpenGet = (iotId: string) => ({ path: "/entrance/paas/keepopen/get", apiVer: "1.0.0", params: { iotId }, kind: "read" as const });

async function failure(p: Promise<unknown>): Promise<UpstreamError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe("AliyunClient against the gateway simulator", () => {
  it("sends the envelope with the path's apiVer, signed, and returns data", async () => {
    const device = [...sim.state.devices.values()][2];
    expect(await client().send(keepOpenGet(device.iotId))).toBe(device.keepOpen);
    const [req] = sim.received();
    expect(req).toMatchObject({ path: "/entrance/paas/keepopen/get", version: "1.0", apiVer: "1.0.0", params: { iotId: device.iotId }, status: 200, code: 200 });
    expect(req.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(req.headers).toMatchObject({
      "x-ca-key": DEMO_ALIYUN_APP_KEY,
      "x-ca-stage": "RELEASE",
      "x-ca-signature-headers": "x-ca-key,x-ca-nonce,x-ca-stage,x-ca-timestamp",
      "content-type": "application/json; charset=UTF-8",
      accept: "application/json",
    });
    expect(req.headers["x-ca-signature"]).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(req.headers["content-md5"]).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(JSON.stringify(sim.received())).not.toContain(DEMO_ALIYUN_APP_SECRET);
  });

  it("a wrong secret: the gateway refuses, the error is coded with its reason and never holds the secret", async () => {
    const error = await failure(client({ appSecret: "not-the-secret-123" }).send(keepOpenGet("x")));
    expect(error.code).toBe("UPSTREAM_ERROR");
    expect(error.upstream).toMatchObject({ vendor: "aliyun", command: "/entrance/paas/keepopen/get", status: 400, vendorCode: "GATEWAY_INVALID_SIGNATURE", vendorMessage: "Invalid Signature" });
    expect(error.message).toContain("ALIYUN_APP_SECRET");
    expect(error.upstream.requestId).toBeTruthy();
    expect(JSON.stringify({ m: error.message, u: error.upstream }) + lines.join("\n")).not.toContain("not-the-secret-123");
    expect(sim.received()[0].gatewayError).toMatch(/^Invalid Signature/);
    expect(sim.calls()).toHaveLength(0);
  });

  it("a wrong app key, a stale timestamp, a replayed nonce: each refused with its own code", async () => {
    expect((await failure(client({ appKey: "999" }).send(keepOpenGet("x")))).upstream.vendorCode).toBe("GATEWAY_INVALID_APP_KEY");
    const stale = await failure(client({ now: () => Date.now() - 16 * 60 * 1000 }).send(keepOpenGet("x")));
    expect(stale.upstream).toMatchObject({ vendorCode: "GATEWAY_INVALID_TIMESTAMP", vendorMessage: "Invalid Timestamp" });
    const fixed = client({ nonce: () => "11111111-2222-4333-8444-555555555555" });
    const iotId = [...sim.state.devices.keys()][0];
    await fixed.send(keepOpenGet(iotId));
    const replay = await failure(fixed.send(keepOpenGet(iotId)));
    expect(replay.upstream).toMatchObject({ vendorCode: "GATEWAY_NONCE_USED", vendorMessage: "Nonce Used" });
  });

  it("a body code other than 200 is a failure with the vendor's code, even with HTTP 200", async () => {
    const error = await failure(client().send(keepOpenGet("no-such-device")));
    expect(error.code).toBe("UPSTREAM_ERROR");
    expect(error.upstream).toMatchObject({ status: 200, vendorCode: "2063", vendorMessage: "iotId does not exist" });
  });

  it("reads are retried after 503 and re-signed with a fresh nonce; writes are never retried", async () => {
    const iotId = [...sim.state.devices.keys()][0];
    sim.injectFault({ kind: "http_error", status: 503, path: "/entrance/paas/keepopen/get", times: 1 });
    await client().send(keepOpenGet(iotId));
    const [first, second] = sim.received();
    expect([first.status, second.status]).toEqual([503, 200]);
    expect(first.id).toBe(second.id);
    expect(first.headers["x-ca-nonce"]).not.toBe(second.headers["x-ca-nonce"]);
    expect(events.at(-1)).toMatchObject({ outcome: "success", attempts: 2 });

    sim.clearReceived();
    sim.injectFault({ kind: "http_error", status: 503, path: "/entrance/paas/keepopen/set" });
    const error = await failure(client().send({ path: "/entrance/paas/keepopen/set", apiVer: "1.0.0", params: { iotId, keepOpen: true }, kind: "write" }));
    expect(error.code).toBe("UPSTREAM_UNAVAILABLE");
    expect(sim.received()).toHaveLength(1);
  });

  it("throttling, a malformed body, no answer: coded and bounded", async () => {
    const iotId = [...sim.state.devices.keys()][0];
    sim.injectFault({ kind: "http_error", status: 403, gatewayMessage: "Throttled by USER Flow Control", path: "/entrance/paas/keepopen/get", times: 1 });
    const throttled = await failure(client().send(keepOpenGet(iotId)));
    expect(throttled.code).toBe("UPSTREAM_UNAVAILABLE");
    expect(throttled.upstream.vendorCode).toBe("GATEWAY_THROTTLED");

    sim.injectFault({ kind: "malformed", path: "/entrance/paas/keepopen/get", times: 1 });
    expect((await failure(client().send(keepOpenGet(iotId)))).message).toMatch(/not the gateway envelope/);

    sim.injectFault({ kind: "no_answer", path: "/entrance/paas/keepopen/get", times: 1 });
    const timeout = await failure(client().send(keepOpenGet(iotId)));
    expect(timeout.code).toBe("UPSTREAM_TIMEOUT");

    sim.injectFault({ kind: "vendor_error", code: 503, path: "/entrance/paas/keepopen/get" });
    const unavailable = await failure(client().send(keepOpenGet(iotId)));
    expect(unavailable.code).toBe("UPSTREAM_UNAVAILABLE");
    expect(sim.calls("/entrance/paas/keepopen/get").filter((c) => c.fault === "vendor_error")).toHaveLength(3);
  });
});
