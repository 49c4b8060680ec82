import { createHmac, randomUUID } from "node:crypto";
import { request } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { signRequest, stringToSign } from "../../../src/datasources/aliyun/signature.js";
import {
  createAliyunSeed,
  demoSiteMap,
  DEMO_ALIYUN_APP_KEY,
  DEMO_ALIYUN_APP_SECRET,
  PATHS,
  startAliyunSimulator,
  type AliyunSimulator,
} from "../../../src/simulators/aliyun/index.js";
import { createAkubelaSeed, DEMO_PROJECT_ID } from "../../../src/simulators/akubela/index.js";

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
  json?: { code: number; id: string; message: string | null; localizedMsg: string | null; data: unknown };
}

/** One raw HTTP exchange with exactly these bytes and headers (no client in between). */
function exchange(base: string, method: string, pathAndQuery: string, headers: Record<string, string>, body: string, timeoutMs = 3000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(pathAndQuery, base), { method, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: RawAnswer["json"];
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, text, json });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error("client timeout")));
    req.on("error", reject);
    req.end(body);
  });
}

let sim: AliyunSimulator;
let clock = Date.now();
beforeAll(async () => {
  sim = await startAliyunSimulator({ quiet: true, now: () => new Date(clock) });
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.reset();
  clock = Date.now();
});

const envelope = (apiVer: string, params: unknown) => JSON.stringify({ id: randomUUID(), version: "1.0", request: { apiVer }, params });

interface CallOptions {
  appKey?: string;
  appSecret?: string;
  timestamp?: number;
  nonce?: string;
  /** Edit the signed headers before sending. */
  tamper?: (headers: Record<string, string>) => void;
  /** Send other bytes than the ones signed. */
  sendBody?: string;
  method?: string;
  query?: string;
  extraHeaders?: Record<string, string>;
  signHeaders?: Record<string, string>;
}

async function call(path: string, body: string, o: CallOptions = {}) {
  const pathAndQuery = `${path}${o.query ?? ""}`;
  const signed = signRequest(
    {
      method: o.method ?? "POST",
      pathAndQuery,
      body,
      appKey: o.appKey ?? DEMO_ALIYUN_APP_KEY,
      appSecret: o.appSecret ?? DEMO_ALIYUN_APP_SECRET,
      headers: { "content-type": "application/json; charset=UTF-8", ...o.extraHeaders },
      ...(o.signHeaders ? { signHeaders: o.signHeaders } : {}),
      ...(o.timestamp !== undefined ? { timestamp: o.timestamp } : {}),
      ...(o.nonce !== undefined ? { nonce: o.nonce } : {}),
    },
    { now: () => clock },
  );
  o.tamper?.(signed.headers);
  return { answer: await exchange(sim.url, o.method ?? "POST", pathAndQuery, signed.headers, o.sendBody ?? body), signed };
}

const firstDevice = () => [...sim.state.devices.keys()][0]!;
const keepOpenBody = () => envelope("1.0.0", { iotId: firstDevice() });
const KEEPOPEN = "/entrance/paas/keepopen/get";

describe("Aliyun simulator: the gateway's checks, over raw HTTP", () => {
  it("accepts a request signed as Alibaba's SDK signs it, answering the envelope with the request's id", async () => {
    const body = keepOpenBody();
    const { answer } = await call(KEEPOPEN, body);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ code: 200, id: JSON.parse(body).id, message: null, localizedMsg: null, data: false });
    expect(answer.headers["x-ca-request-id"]).toMatch(/^[0-9A-F-]{36}$/);
    expect(sim.calls(KEEPOPEN)).toHaveLength(1);
  });

  it("a wrong secret: HTTP 400, 'Invalid Signature' and the server's string to sign in x-ca-error-message, no body", async () => {
    const { answer, signed } = await call(KEEPOPEN, keepOpenBody(), { appSecret: "not-the-secret" });
    expect(answer.status).toBe(400);
    expect(answer.text).toBe("");
    const reason = answer.headers["x-ca-error-message"]!;
    expect(reason.startsWith("Invalid Signature, Server StringToSign:")).toBe(true);
    expect(JSON.parse(reason.slice("Invalid Signature, Server StringToSign:".length))).toBe(signed.stringToSign);
    expect(reason).not.toContain(DEMO_ALIYUN_APP_SECRET);
    expect(answer.headers["x-ca-request-id"]).toBeTruthy();
    expect(sim.received()[0]).toMatchObject({ status: 400, gatewayError: expect.stringMatching(/^Invalid Signature/) });
    expect(sim.calls()).toHaveLength(0);
  });

  it("an unknown app key: HTTP 400 'Invalid AppKey'", async () => {
    const { answer } = await call(KEEPOPEN, keepOpenBody(), { appKey: "99999999" });
    expect([answer.status, answer.headers["x-ca-error-message"]]).toEqual([400, "Invalid AppKey"]);
  });

  it("a timestamp more than 15 minutes off, either way, is 'Invalid Timestamp'; 14 minutes is accepted", async () => {
    for (const offset of [-16 * 60_000, 16 * 60_000]) {
      const { answer } = await call(KEEPOPEN, keepOpenBody(), { timestamp: clock + offset });
      expect([answer.status, answer.headers["x-ca-error-message"]]).toEqual([400, "Invalid Timestamp"]);
    }
    expect((await call(KEEPOPEN, keepOpenBody(), { timestamp: clock - 14 * 60_000 })).answer.status).toBe(200);
    const { answer } = await call(KEEPOPEN, keepOpenBody(), { tamper: (h) => delete h["x-ca-timestamp"] });
    expect(answer.headers["x-ca-error-message"]).toBe("Invalid Timestamp");
  });

  it("a nonce seen within 15 minutes is 'Nonce Used'; after the window it is accepted again", async () => {
    const nonce = randomUUID();
    expect((await call(KEEPOPEN, keepOpenBody(), { nonce })).answer.status).toBe(200);
    const replay = (await call(KEEPOPEN, keepOpenBody(), { nonce })).answer;
    expect([replay.status, replay.headers["x-ca-error-message"]]).toEqual([400, "Nonce Used"]);
    clock += 14 * 60_000;
    expect((await call(KEEPOPEN, keepOpenBody(), { nonce })).answer.headers["x-ca-error-message"]).toBe("Nonce Used");
    clock += 2 * 60_000;
    expect((await call(KEEPOPEN, keepOpenBody(), { nonce })).answer.status).toBe(200);
  });

  it("a body changed after signing is refused for its Content-MD5", async () => {
    const body = keepOpenBody();
    const { answer } = await call(KEEPOPEN, body, { sendBody: body.replace('"1.0.0"', '"1.0.1"') });
    expect([answer.status, answer.headers["x-ca-error-message"]]).toEqual([400, "Invalid Content-MD5"]);
  });

  it("the key, timestamp and nonce must be among the signed headers", async () => {
    const { answer } = await call(KEEPOPEN, keepOpenBody(), {
      tamper: (h) => {
        h["x-ca-signature-headers"] = "x-ca-key,x-ca-stage,x-ca-timestamp";
      },
    });
    expect(answer.headers["x-ca-error-message"]).toBe("Invalid Signature Headers, x-ca-nonce must be signed");
  });

  it("verifies the sorted query and any extra signed header, as the SDK signs them", async () => {
    const { answer, signed } = await call(KEEPOPEN, keepOpenBody(), { query: "?zeta=2&alpha=1&empty=", signHeaders: { "X-Custom-Trace": "trace-42" } });
    expect(signed.headers["x-ca-signature-headers"]).toBe("x-ca-key,x-ca-nonce,x-ca-stage,x-ca-timestamp,x-custom-trace");
    expect(signed.stringToSign.endsWith(`\nx-custom-trace:trace-42\n${KEEPOPEN}?alpha=1&empty&zeta=2`)).toBe(true);
    expect(answer.status).toBe(200);
    const changed = await call(KEEPOPEN, keepOpenBody(), { signHeaders: { "X-Custom-Trace": "trace-42" }, tamper: (h) => void (h["x-custom-trace"] = "trace-43") });
    expect(changed.answer.headers["x-ca-error-message"]).toMatch(/^Invalid Signature, Server StringToSign:.*x-custom-trace:trace-43/);
  });

  it("takes HmacSHA1 when x-ca-signature-method says so, and refuses an unknown method", async () => {
    const body = keepOpenBody();
    const { answer } = await call(KEEPOPEN, body, {
      extraHeaders: { "x-ca-signature-method": "HmacSHA1" },
      tamper: (h) => {
        const text = stringToSign("POST", KEEPOPEN, h, h["x-ca-signature-headers"]!.split(","));
        h["x-ca-signature"] = createHmac("sha1", DEMO_ALIYUN_APP_SECRET).update(text).digest("base64");
      },
    });
    expect(answer.status).toBe(200);
    const bad = await call(KEEPOPEN, keepOpenBody(), { extraHeaders: { "x-ca-signature-method": "HmacMD5" } });
    expect(bad.answer.headers["x-ca-error-message"]).toBe("Invalid Signature Method");
  });

  it("an unknown path is 404 'Invalid Url', another method than POST 405", async () => {
    const unknown = (await call("/entrance/paas/user/list", keepOpenBody())).answer;
    expect([unknown.status, unknown.headers["x-ca-error-message"]]).toEqual([404, "Invalid Url"]);
    const get = (await call(KEEPOPEN, "", { method: "GET" })).answer;
    expect([get.status, get.headers["x-ca-error-message"]]).toEqual([405, "Invalid Method"]);
  });
});

describe("Aliyun simulator: the envelope and the required parameters", () => {
  it("a body that is not the envelope answers code 400, a wrong apiVer 404, no params 460 (all with HTTP 200)", async () => {
    const notEnvelope = (await call(KEEPOPEN, JSON.stringify({ iotId: firstDevice() }))).answer;
    expect([notEnvelope.status, notEnvelope.json?.code]).toEqual([200, 400]);
    expect(notEnvelope.json?.message).toMatch(/envelope/);
    const wrongVer = (await call(KEEPOPEN, envelope("1.0.2", { iotId: firstDevice() }))).answer;
    expect(wrongVer.json).toMatchObject({ code: 404, message: `service not found: ${KEEPOPEN} has apiVer 1.0.0` });
    const noParams = (await call(KEEPOPEN, JSON.stringify({ id: randomUUID(), version: "1.0", request: { apiVer: "1.0.0" } }))).answer;
    expect(noParams.json).toMatchObject({ code: 460, message: "params is required", data: null });
  });

  const firstRequired: Record<string, string> = {
    "/entrance/paas/user/modify": "identityId",
    "/entrance/paas/user/delete": "identityId",
    "/entrance/paas/user/get": "identityId",
    "/entrance/paas/user/query": "pageSize",
    "/entrance/paas/perm/card/batchmodify": "cards",
    "/entrance/paas/perm/card/batchdelete": "list",
    "/entrance/paas/user/perm/query": "identityId",
    "/entrance/paas/device/perm/query": "iotId",
    "/entrance/paas/keepopen/get": "iotId",
    "/entrance/paas/keepopen/set": "iotId",
    "/homelink/common/qrcode/generate": "identityId",
    "/entrance/paas/perm/qrcode/config": "qrCode",
    "/entrance/paas/perm/qrcode/remove": "qrCode",
    "/entrance/paas/perm/qrcode/generate": "iotIds",
    "/entrance/paas/perm/passwd/modify": "passwords",
    "/cloud/thing/service/invoke": "iotId",
  };

  it("every one of the 16 paths answers empty params with code 460 and a message naming the parameter", async () => {
    expect(Object.keys(firstRequired).sort()).toEqual(PATHS.map((p) => p.path).sort());
    for (const def of PATHS) {
      const { answer } = await call(def.path, envelope(def.apiVer, {}));
      expect([def.path, answer.status, answer.json?.code, answer.json?.message]).toEqual([def.path, 200, 460, `${firstRequired[def.path]} is required`]);
    }
  });

  it("names the second missing parameter once the first is there", async () => {
    const id = [...sim.state.persons.keys()][0]!;
    const answers = await Promise.all([
      call("/entrance/paas/user/perm/query", envelope("1.0.0", { identityId: id })),
      call("/entrance/paas/keepopen/set", envelope("1.0.0", { iotId: firstDevice() })),
      call("/entrance/paas/user/query", envelope("1.0.0", { pageSize: 10 })),
      call("/entrance/paas/perm/qrcode/config", envelope("1.0.1", { qrCode: "ABC", identityId: id, iotIds: [firstDevice()] })),
    ]);
    expect(answers.map((a) => a.answer.json?.message)).toEqual(["iotIds is required", "keepOpen must be a boolean", "pageNo is required", "expiryTime is required"]);
  });

  it("the legacy QR call is limited to 2000 a second per tenant: the 2001st in the same second answers code 429", async () => {
    const legacy = "/entrance/paas/perm/qrcode/generate";
    const codes: number[] = [];
    for (let batch = 0; batch < 20; batch++) {
      const answers = await Promise.all(Array.from({ length: 100 }, () => call(legacy, envelope("1.0.1", {}))));
      codes.push(...answers.map((a) => a.answer.json!.code));
    }
    expect(new Set(codes)).toEqual(new Set([460]));
    expect((await call(legacy, envelope("1.0.1", {}))).answer.json).toMatchObject({ code: 429, message: "too many requests" });
    clock += 1000;
    expect((await call(legacy, envelope("1.0.1", {}))).answer.json?.code).toBe(460);
  });

  it("pages past the end answer an empty page with the total", async () => {
    const { answer } = await call("/entrance/paas/user/query", envelope("1.0.0", { pageSize: 50, pageNo: 3 }));
    expect(answer.json?.data).toEqual({ pageSize: 50, pageNo: 3, total: 60, data: [] });
    const zero = (await call("/entrance/paas/user/query", envelope("1.0.0", { pageSize: 0, pageNo: 1 }))).answer;
    expect(zero.json).toMatchObject({ code: 460, message: "pageSize must be at least 1" });
  });
});

describe("Aliyun simulator: record, faults and control routes", () => {
  it("records path, envelope, apiVer, params and the x-ca-* headers, never the secret", async () => {
    const body = keepOpenBody();
    const { signed } = await call(KEEPOPEN, body);
    const [entry] = sim.received();
    expect(entry).toMatchObject({
      path: KEEPOPEN,
      id: JSON.parse(body).id,
      version: "1.0",
      apiVer: "1.0.0",
      params: { iotId: firstDevice() },
      status: 200,
      code: 200,
      headers: {
        "x-ca-key": DEMO_ALIYUN_APP_KEY,
        "x-ca-nonce": signed.headers["x-ca-nonce"],
        "x-ca-timestamp": String(clock),
        "x-ca-signature": signed.signature,
        "x-ca-signature-headers": "x-ca-key,x-ca-nonce,x-ca-stage,x-ca-timestamp",
        "x-ca-stage": "RELEASE",
        "content-md5": signed.headers["content-md5"],
      },
    });
    const viaRoute = await (await fetch(`${sim.url}/__sim/received`)).json();
    expect(viaRoute).toEqual(JSON.parse(JSON.stringify(sim.received())));
    expect(JSON.stringify(viaRoute)).not.toContain(DEMO_ALIYUN_APP_SECRET);
  });

  it("faults apply only to requests that passed the gateway's checks, and `times`/`where` select them", async () => {
    const [a, b] = [...sim.state.devices.keys()];
    sim.injectFault({ kind: "vendor_error", code: 503, path: KEEPOPEN, where: { iotId: b }, times: 1 });
    expect((await call(KEEPOPEN, keepOpenBody(), { appSecret: "x" })).answer.status).toBe(400);
    expect((await call(KEEPOPEN, envelope("1.0.0", { iotId: a }))).answer.json?.code).toBe(200);
    expect((await call(KEEPOPEN, envelope("1.0.0", { iotId: b }))).answer.json).toMatchObject({ code: 503, message: "injected failure" });
    expect((await call(KEEPOPEN, envelope("1.0.0", { iotId: b }))).answer.json?.code).toBe(200);
    expect(sim.received().map((r) => r.fault ?? null)).toEqual([null, null, "vendor_error", null]);
  });

  it("http_error: the status, Retry-After on 429, the gateway message when given", async () => {
    sim.injectFault({ kind: "http_error", status: 429, times: 1 });
    const throttled = (await call(KEEPOPEN, keepOpenBody())).answer;
    expect([throttled.status, throttled.headers["retry-after"]]).toEqual([429, "1"]);
    const remove = sim.injectFault({ kind: "http_error", status: 403, gatewayMessage: "Throttled by API Flow Control" });
    const refused = (await call(KEEPOPEN, keepOpenBody())).answer;
    expect([refused.status, refused.headers["x-ca-error-message"]]).toEqual([403, "Throttled by API Flow Control"]);
    remove();
    expect((await call(KEEPOPEN, keepOpenBody())).answer.status).toBe(200);
  });

  it("malformed, latency, reset and no_answer", async () => {
    sim.injectFault({ kind: "malformed", times: 1 });
    const malformed = (await call(KEEPOPEN, keepOpenBody())).answer;
    expect([malformed.status, malformed.json]).toEqual([200, undefined]);

    sim.injectFault({ kind: "latency", latencyMs: 300, times: 1 });
    const started = Date.now();
    expect((await call(KEEPOPEN, keepOpenBody())).answer.json?.code).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    sim.injectFault({ kind: "reset", times: 1 });
    await expect(call(KEEPOPEN, keepOpenBody())).rejects.toThrow(/socket hang up|ECONNRESET/);

    sim.injectFault({ kind: "no_answer", times: 1 });
    const body = keepOpenBody();
    const signed = signRequest({ method: "POST", pathAndQuery: KEEPOPEN, body, appKey: DEMO_ALIYUN_APP_KEY, appSecret: DEMO_ALIYUN_APP_SECRET }, { now: () => clock });
    await expect(exchange(sim.url, "POST", KEEPOPEN, signed.headers, body, 300)).rejects.toThrow("client timeout");
    expect(sim.received().map((r) => [r.fault, r.status])).toEqual([
      ["malformed", 200],
      ["latency", 200],
      ["reset", 0],
      ["no_answer", 0],
    ]);
  });

  it("control routes: add and clear faults, clear the record, reset the state", async () => {
    const post = (path: string, body?: unknown) => fetch(`${sim.url}${path}`, { method: "POST", body: body === undefined ? undefined : JSON.stringify(body) });
    expect((await post("/__sim/faults", { kind: "vendor_error", code: 2063, path: KEEPOPEN })).status).toBe(200);
    expect((await call(KEEPOPEN, keepOpenBody())).answer.json?.code).toBe(2063);
    expect((await fetch(`${sim.url}/__sim/faults`, { method: "DELETE" })).status).toBe(200);
    expect((await call(KEEPOPEN, keepOpenBody())).answer.json?.code).toBe(200);
    expect((await post("/__sim/faults", "not a spec")).status).toBe(400);
    expect((await post("/__sim/faults", { kind: "explode" })).status).toBe(400);
    expect((await call(KEEPOPEN, keepOpenBody())).answer.json?.code).toBe(200);
    expect((await fetch(`${sim.url}/__sim/received`, { method: "DELETE" })).status).toBe(200);
    expect(sim.received()).toHaveLength(0);
    sim.state.persons.clear();
    expect((await post("/__sim/reset")).status).toBe(200);
    expect(sim.state.persons.size).toBe(60);
    expect((await fetch(`${sim.url}/__sim/nope`)).status).toBe(404);
  });
});

describe("Aliyun simulator: the seed", () => {
  const akubelaAccounts = (accounts?: number) => [...createAkubelaSeed(accounts ? { accounts } : {}).projects.get(DEMO_PROJECT_ID)!.accounts.values()];

  it("persons are the first 60 accounts of the Akubela demo project: identityId = account_id, their names", () => {
    const state = createAliyunSeed();
    const accounts = akubelaAccounts().slice(0, 60);
    expect([...state.persons.values()].map((p) => [p.identityId, p.name])).toEqual(accounts.map((a) => [a.account_id, `${a.first_name} ${a.last_name}`]));
  });

  it("six devices with a keep-open one and an offline one, cards for most persons, and a site map naming every device", () => {
    const state = createAliyunSeed();
    const devices = [...state.devices.values()];
    expect(devices).toHaveLength(6);
    expect(devices.filter((d) => d.keepOpen)).toHaveLength(1);
    expect(devices.filter((d) => !d.online)).toHaveLength(1);
    for (const d of devices) expect(d.iotId).toMatch(/^[A-Za-z0-9]{20}\d{6}$/);
    const holders = new Set([...state.cards.values()].map((c) => c.identityId));
    expect(holders.size).toBeGreaterThan(30);
    for (const c of state.cards.values()) expect(state.persons.has(c.identityId) && state.devices.has(c.iotId)).toBe(true);
    expect(demoSiteMap(state).devices.map((d) => d.iotId)).toEqual(devices.map((d) => d.iotId));
    expect(demoSiteMap(state).devices.every((d) => d.projectId === DEMO_PROJECT_ID)).toBe(true);
  });

  it("scales: 150 devices and 30 persons holding a card on every one; the first devices do not change", () => {
    const state = createAliyunSeed({ devices: 150, cardHolders: 30 });
    expect(state.devices.size).toBe(150);
    expect([...state.devices.keys()].slice(0, 6)).toEqual([...createAliyunSeed().devices.keys()]);
    expect(state.cards.size).toBe(150 * 30);
    const persons = [...state.persons.keys()];
    const byPerson = new Map<string, number>();
    for (const c of state.cards.values()) byPerson.set(c.identityId, (byPerson.get(c.identityId) ?? 0) + 1);
    expect([...byPerson.keys()]).toEqual(persons.slice(0, 30));
    expect(new Set(byPerson.values())).toEqual(new Set([150]));
    expect(createAliyunSeed({ cardHolders: 0 }).cards.size).toBe(0);
  });

  it("more persons than the default Akubela seed holds: link to an Akubela seed with as many accounts", () => {
    expect(() => createAliyunSeed({ persons: 500 })).toThrow(RangeError);
    const state = createAliyunSeed({ accounts: 500, persons: 500, devices: 0 });
    expect([...state.persons.keys()]).toEqual(akubelaAccounts(500).map((a) => a.account_id));
    expect(() => createAliyunSeed({ persons: 10, cardHolders: 11 })).toThrow(RangeError);
  });

  it("a simulator started with a scaled seed answers from it", async () => {
    const big = await startAliyunSimulator({ quiet: true, seed: { devices: 150, cardHolders: 5 } });
    try {
      const iotIds = [...big.state.devices.keys()].slice(100, 150);
      const identityId = [...big.state.persons.keys()][4]!;
      const body = envelope("1.0.0", { identityId, iotIds });
      const signed = signRequest({ method: "POST", pathAndQuery: "/entrance/paas/user/perm/query", body, appKey: DEMO_ALIYUN_APP_KEY, appSecret: DEMO_ALIYUN_APP_SECRET });
      const { json } = await exchange(big.url, "POST", "/entrance/paas/user/perm/query", signed.headers, body);
      expect(json?.code).toBe(200);
      expect((json?.data as { data: { iotId: string }[] }).data.map((c) => c.iotId)).toEqual(iotIds);
    } finally {
      await big.close();
    }
  });
});
