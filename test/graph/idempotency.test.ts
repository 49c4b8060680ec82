import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { toGlobalId } from "../../src/lib/global-id.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { DEMO_PROJECT_ID, resetStacks, startStack, TEST_API_KEYS, type Stack } from "../helpers/stack.js";

const OPEN = `mutation($input: DoorOpenInput!) { doorOpen(input: $input) { outcome vendorRequestId relayId device { name } userErrors { code } } }`;
const PIN = `mutation($input: CredentialNumberInput!) { pinCodeCreate(input: $input) { pinCode { id number createdAt } userErrors { code } } }`;

let redis: RedisServer;
let a: Stack;
let b: Stack;
beforeAll(async () => {
  redis = await startRedis();
  a = await startStack({ env: { REDIS_URL: redis.url } });
  b = await startStack({ env: { REDIS_URL: redis.url }, shareSimulatorsWith: a });
});
beforeEach(() => resetStacks(a, b));
afterAll(async () => {
  await b.close();
  await a.close();
  await redis.stop();
});

const iotId = () => [...a.aliyun.state.devices.keys()][0];
const account = () => [...a.sim.state.projects.get(DEMO_PROJECT_ID)!.accounts.values()][0];

describe("idempotency keys on doorOpen and the create mutations", () => {
  it("a repeat on another instance returns the first outcome without opening the door again", async () => {
    const input = { device: toGlobalId("AliyunAccessControlDevice", iotId()), idempotencyKey: "open-1" };
    const first = await a.gql(OPEN, { input });
    const again = await b.gql(OPEN, { input });
    expect(first.data.doorOpen.outcome).toBe("OPENED");
    expect(again.data).toEqual(first.data);
    expect(a.aliyun.calls("/cloud/thing/service/invoke")).toHaveLength(1);
    expect(a.aliyun.state.remoteOpens).toHaveLength(1);
  });

  it("concurrent repeats: one vendor call, every caller the same answer", async () => {
    a.aliyun.clearReceived();
    const input = { device: toGlobalId("AliyunAccessControlDevice", iotId()), idempotencyKey: "open-concurrent" };
    a.aliyun.injectFault({ kind: "latency", latencyMs: 300, path: "/cloud/thing/service/invoke", times: 1 });
    const answers = await Promise.all([a.gql(OPEN, { input }), b.gql(OPEN, { input }), a.gql(OPEN, { input })]);
    expect(new Set(answers.map((r) => JSON.stringify(r.data))).size).toBe(1);
    expect(a.aliyun.calls("/cloud/thing/service/invoke")).toHaveLength(1);
  });

  it("an UNKNOWN outcome (timeout) is kept too: the repeat does not risk a second opening", async () => {
    a.aliyun.clearReceived();
    a.aliyun.injectFault({ kind: "no_answer", path: "/cloud/thing/service/invoke", times: 1 });
    const input = { device: toGlobalId("AliyunAccessControlDevice", iotId()), idempotencyKey: "open-timeout" };
    const first = await a.gql(OPEN, { input });
    expect(first.data.doorOpen.outcome).toBe("UNKNOWN");
    const again = await b.gql(OPEN, { input });
    expect(again.data.doorOpen.outcome).toBe("UNKNOWN");
    expect(a.aliyun.calls("/cloud/thing/service/invoke")).toHaveLength(1);
  });

  it("the same key with another input: 409 IDEMPOTENCY_KEY_REUSED, nothing sent", async () => {
    const first = { device: toGlobalId("AliyunAccessControlDevice", iotId()), idempotencyKey: "open-reused" };
    expect((await a.gql(OPEN, { input: first })).data.doorOpen.outcome).toBe("OPENED");
    a.aliyun.clearReceived();
    const other = { device: toGlobalId("AliyunAccessControlDevice", [...a.aliyun.state.devices.keys()][1]), idempotencyKey: "open-reused" };
    const res = await a.gql(OPEN, { input: other });
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: "IDEMPOTENCY_KEY_REUSED" } });
    expect(a.aliyun.received()).toHaveLength(0);
  });

  it("a create repeated returns the same object (no second PIN), and keys are scoped to the caller and the mutation", async () => {
    a.sim.clearReceived();
    const acc = account();
    const input = { account: toGlobalId("Account", DEMO_PROJECT_ID, acc.residence_id, acc.account_id), number: "55667788", idempotencyKey: "pin-1" };
    const first = await a.gql(PIN, { input });
    const again = await b.gql(PIN, { input });
    expect(first.data.pinCodeCreate.pinCode.number).toBe("55667788");
    expect(again.data).toEqual(first.data);
    expect(a.sim.calls("create_user_pin_code_access_info")).toHaveLength(1);
    // Another caller with the same key is a request of its own: it reaches the vendor, which refuses the duplicate PIN.
    const otherCaller = await a.gql(PIN, { input }, null, { "x-api-key": TEST_API_KEYS.writer.key });
    expect(otherCaller.data.pinCodeCreate).toMatchObject({ pinCode: null, userErrors: [{ code: "conflict" }] });
    expect(a.sim.calls("create_user_pin_code_access_info")).toHaveLength(2);
    const keys = (await redis.cli("--scan", "--pattern", "acg:idem:v1:{*")).trim().split("\n");
    expect(keys.length).toBeGreaterThanOrEqual(4);
    expect(keys.join("\n")).not.toMatch(/pin-1|open-1|55667788/);
    // The records themselves, read raw: an HMAC of the input and a sealed payload, never the PIN in clear.
    const values = await Promise.all(keys.map((k) => redis.cli("GET", k)));
    expect(values.join("\n")).toContain('"state":"done"');
    expect(values.join("\n")).not.toMatch(/55667788|number|pinCode|password|secret/i);
  });
});

describe("doorPasswordsSet takes an idempotencyKey like the other batch writes", () => {
  const SET = `mutation($input: DoorPasswordsSetInput!) { doorPasswordsSet(input: $input) { userErrors { field code } succeeded failed calls applied unknown notSent complete } }`;
  const MODIFY = "/entrance/paas/perm/passwd/modify";
  const person = () => [...a.aliyun.state.persons.keys()][0];
  const passwordsOf = (identityId: string, device: string) => [...a.aliyun.state.passwords.values()].filter((p) => p.identityId === identityId && p.iotId === device);

  it("a repeat on another instance answers the first outcome: one gateway command, and the record holds no password", async () => {
    a.aliyun.clearReceived();
    const identityId = person();
    const device = [...a.aliyun.state.devices.keys()][1];
    const input = {
      idempotencyKey: "passwords-1",
      passwords: [{ person: toGlobalId("AliyunPerson", identityId), device: toGlobalId("AliyunAccessControlDevice", device), number: 7, password: "Zq81-secret-774" }],
    };
    const first = await a.gql(SET, { input });
    const again = await b.gql(SET, { input });
    expect(first.errors).toBeUndefined();
    expect(first.data.doorPasswordsSet).toEqual({ userErrors: [], succeeded: 1, failed: 0, calls: 1, applied: [0], unknown: [], notSent: [], complete: true });
    expect(again.data).toEqual(first.data);
    expect(a.aliyun.calls(MODIFY).map((c) => c.params)).toEqual([{ passwords: [{ identityId, iotId: device, password: "Zq81-secret-774", number: 7 }] }]);
    expect(passwordsOf(identityId, device)).toMatchObject([{ number: "7", password: "Zq81-secret-774" }]);

    const keys = (await redis.cli("--scan", "--pattern", "acg:idem:v1:{*")).trim().split("\n");
    const values = await Promise.all(keys.map((k) => redis.cli("GET", k)));
    expect(keys.join("\n")).not.toMatch(/passwords-1/);
    expect(values.join("\n")).not.toMatch(/Zq81|secret-774|password/i);
  });

  it("a batch whose middle call failed: the retry with the same key sends only the records not known to be set", async () => {
    a.aliyun.clearReceived();
    const identityId = person();
    const device = [...a.aliyun.state.devices.keys()][2];
    const rows = Array.from({ length: 250 }, (_, n) => ({ identityId, iotId: device, password: `pw-${n}-x`, number: n }));
    const input = {
      idempotencyKey: "passwords-250",
      passwords: rows.map((r) => ({ person: toGlobalId("AliyunPerson", identityId), device: toGlobalId("AliyunAccessControlDevice", device), number: r.number, password: r.password })),
    };
    // The second call (records 100 to 199) fails once without an answer the facade can trust.
    a.aliyun.injectFault({ kind: "http_error", status: 500, path: MODIFY, where: { passwords: rows.slice(100, 200) }, times: 1 });
    const first = await a.gql(SET, { input });
    expect(first.errors).toBeUndefined();
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
    expect(first.data.doorPasswordsSet).toMatchObject({ succeeded: 100, calls: 2, applied: range(0, 100), unknown: range(100, 200), notSent: range(200, 250), complete: false });
    expect(a.aliyun.calls(MODIFY).map((c) => (c.params!.passwords as unknown[]).length)).toEqual([100, 100]);

    const retry = await b.gql(SET, { input });
    expect(retry.errors).toBeUndefined();
    expect(retry.data.doorPasswordsSet).toEqual({ userErrors: [], succeeded: 250, failed: 0, calls: 4, applied: range(0, 250), unknown: [], notSent: [], complete: true });
    const sent = a.aliyun.calls(MODIFY).map((c) => (c.params!.passwords as { number: number }[]).map((p) => p.number));
    expect(sent.slice(2)).toEqual([range(100, 200), range(200, 250)]);
    expect(passwordsOf(identityId, device)).toHaveLength(250);

    // Complete now: a third call with the key sends nothing.
    const third = await a.gql(SET, { input });
    expect(third.data).toEqual(retry.data);
    expect(a.aliyun.calls(MODIFY)).toHaveLength(4);
  });
});
