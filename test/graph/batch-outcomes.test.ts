import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { toGlobalId } from "../../src/lib/global-id.js";
import { cardKey } from "../../src/simulators/aliyun/index.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { resetStacks, startStack, useStack, type Stack } from "../helpers/stack.js";

// A short vendor timeout so a `no_answer` chunk ends quickly (the lease must stay longer than it).
const stack = useStack({ env: { ALIYUN_TIMEOUT_MS: "500" } });

const BATCHMODIFY = "/entrance/paas/perm/card/batchmodify";
const BATCHDELETE = "/entrance/paas/perm/card/batchdelete";
const FIELDS = `userErrors { field code message } succeeded failed calls applied refused { item reason code } unknown notSent complete`;
const GRANT = `mutation($input: CardPermissionsInput!) { cardPermissionsGrant(input: $input) { ${FIELDS} } }`;
const REVOKE = `mutation($input: CardPermissionsInput!) { cardPermissionsRevoke(input: $input) { ${FIELDS} } }`;

const person = () => [...stack.aliyun.state.persons.keys()][0];
const device = () => [...stack.aliyun.state.devices.keys()][0];
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
/** `n` permissions of one person on one device, cards `<prefix>-0` … (what the gateway receives, in order). */
function batch(n: number, prefix = "BATCH") {
  const identityId = person();
  const iotId = device();
  const sent = range(0, n).map((i) => ({ identityId, iotId, cardId: `${prefix}-${i}` }));
  const input = sent.map((c) => ({ person: toGlobalId("AliyunPerson", c.identityId), device: toGlobalId("AliyunAccessControlDevice", c.iotId), cardId: c.cardId }));
  return { sent, input };
}
const held = (sent: { identityId: string; iotId: string; cardId: string }[]) => sent.map((c, i) => (stack.aliyun.state.cards.has(cardKey(c.identityId, c.iotId, c.cardId)) ? i : -1)).filter((i) => i >= 0);
const cardsSent = () => stack.aliyun.calls(BATCHMODIFY).map((c) => (c.params!.cards as { cardId: string }[]).map((x) => x.cardId));

describe("a batch whose middle call fails reports what happened, record by record", () => {
  it("5xx on the middle call: the first 1000 applied, the middle 1000 unknown, the rest not sent; data, not an error", async () => {
    const { sent, input } = batch(2500);
    stack.aliyun.injectFault({ kind: "http_error", status: 503, path: BATCHMODIFY, where: { cards: sent.slice(1000, 2000) }, times: 1 });
    const res = await stack.gql(GRANT, { input: { permissions: input, idempotencyKey: "batch-5xx" } });
    expect(res.errors).toBeUndefined();
    const payload = res.data.cardPermissionsGrant;
    expect(payload).toMatchObject({ succeeded: 1000, failed: 0, calls: 2, applied: range(0, 1000), refused: [], unknown: range(1000, 2000), notSent: range(2000, 2500), complete: false });
    expect(payload.userErrors).toEqual([{ field: ["input", "permissions"], code: "OUTCOME_UNKNOWN", message: expect.stringContaining("records 1000 to 1999") }]);
    // What the simulator holds is exactly what the payload says was applied (the 503 was answered before applying).
    expect(held(sent)).toEqual(payload.applied);
    expect(cardsSent()).toEqual([sent.slice(0, 1000).map((c) => c.cardId), sent.slice(1000, 2000).map((c) => c.cardId)]);

    // The retry with the same key sends only what is not known to be applied: the unknown chunk and the rest.
    stack.aliyun.clearReceived();
    const retry = await stack.gql(GRANT, { input: { permissions: input, idempotencyKey: "batch-5xx" } });
    expect(retry.errors).toBeUndefined();
    expect(retry.data.cardPermissionsGrant).toEqual({ userErrors: [], succeeded: 2500, failed: 0, calls: 4, applied: range(0, 2500), refused: [], unknown: [], notSent: [], complete: true });
    expect(cardsSent()).toEqual([sent.slice(1000, 2000).map((c) => c.cardId), sent.slice(2000, 2500).map((c) => c.cardId)]);
    expect(held(sent)).toEqual(range(0, 2500));

    // Complete now: a third call answers the record and sends nothing.
    stack.aliyun.clearReceived();
    const third = await stack.gql(GRANT, { input: { permissions: input, idempotencyKey: "batch-5xx" } });
    expect(third.data).toEqual(retry.data);
    expect(stack.aliyun.calls(BATCHMODIFY)).toHaveLength(0);
  });

  it("a timeout (no answer) on the middle call is unknown too; a call refused as a whole stays refused on the retry", async () => {
    const { sent, input } = batch(2500, "SLOW");
    // The gateway refuses the first call (code 460, its records not applied), the second never answers.
    stack.aliyun.injectFault({ kind: "vendor_error", code: 460, message: "invalid cards", path: BATCHMODIFY, where: { cards: sent.slice(0, 1000) }, times: 1 });
    stack.aliyun.injectFault({ kind: "no_answer", path: BATCHMODIFY, where: { cards: sent.slice(1000, 2000) }, times: 1 });
    const res = await stack.gql(GRANT, { input: { permissions: input, idempotencyKey: "batch-timeout" } });
    expect(res.errors).toBeUndefined();
    const payload = res.data.cardPermissionsGrant;
    expect(payload.refused).toEqual(range(0, 1000).map((item) => ({ item, code: "460", reason: "invalid cards" })));
    expect(payload).toMatchObject({ succeeded: 0, failed: 1000, calls: 2, applied: [], unknown: range(1000, 2000), notSent: range(2000, 2500), complete: false });
    expect(payload.userErrors.map((e: { code: string }) => e.code)).toEqual(["460", "OUTCOME_UNKNOWN"]);
    expect(held(sent)).toEqual([]);

    stack.aliyun.clearReceived();
    const retry = await stack.gql(GRANT, { input: { permissions: input, idempotencyKey: "batch-timeout" } });
    expect(retry.errors).toBeUndefined();
    expect(retry.data.cardPermissionsGrant).toMatchObject({ succeeded: 1500, failed: 1000, calls: 4, applied: range(1000, 2500), unknown: [], notSent: [], complete: true });
    expect(retry.data.cardPermissionsGrant.refused).toHaveLength(1000);
    expect(retry.data.cardPermissionsGrant.userErrors.map((e: { code: string }) => e.code)).toEqual(["460"]);
    // Refused records are not sent again; only the unknown chunk and the rest are.
    expect(cardsSent()).toEqual([sent.slice(1000, 2000).map((c) => c.cardId), sent.slice(2000, 2500).map((c) => c.cardId)]);
    expect(held(sent)).toEqual(range(1000, 2500));
  });

  it("revoke: a 5xx on the middle call leaves its records unknown; the retry removes only the rest", async () => {
    const { sent, input } = batch(2100, "GONE");
    for (const c of sent) stack.aliyun.state.cards.set(cardKey(c.identityId, c.iotId, c.cardId), { ...c, expiryTime: "2030-12-31 23:59:59" });
    stack.aliyun.injectFault({ kind: "http_error", status: 502, path: BATCHDELETE, where: { list: sent.slice(1000, 2000) }, times: 1 });
    const res = await stack.gql(REVOKE, { input: { permissions: input, idempotencyKey: "revoke-5xx" } });
    expect(res.errors).toBeUndefined();
    expect(res.data.cardPermissionsRevoke).toMatchObject({ succeeded: 1000, applied: range(0, 1000), unknown: range(1000, 2000), notSent: range(2000, 2100), complete: false });
    expect(held(sent)).toEqual(range(1000, 2100));

    stack.aliyun.clearReceived();
    const retry = await stack.gql(REVOKE, { input: { permissions: input, idempotencyKey: "revoke-5xx" } });
    expect(retry.data.cardPermissionsRevoke).toMatchObject({ succeeded: 2100, complete: true, calls: 4 });
    expect(stack.aliyun.calls(BATCHDELETE).map((c) => (c.params!.list as unknown[]).length)).toEqual([1000, 100]);
    expect(held(sent)).toEqual([]);
  });

  it("two retries of one incomplete batch at once: the rest is sent once, both answer the merged outcome", async () => {
    const { sent, input } = batch(1500, "RACE");
    stack.aliyun.injectFault({ kind: "http_error", status: 503, path: BATCHMODIFY, where: { cards: sent.slice(1000, 1500) }, times: 1 });
    const first = await stack.gql(GRANT, { input: { permissions: input, idempotencyKey: "batch-race" } });
    expect(first.data.cardPermissionsGrant).toMatchObject({ applied: range(0, 1000), unknown: range(1000, 1500), complete: false });
    stack.aliyun.clearReceived();
    stack.aliyun.injectFault({ kind: "latency", latencyMs: 300, path: BATCHMODIFY, times: 1 });
    const [a, b] = await Promise.all([0, 1].map(() => stack.gql(GRANT, { input: { permissions: input, idempotencyKey: "batch-race" } })));
    expect(a.data).toEqual(b.data);
    expect(a.data.cardPermissionsGrant).toMatchObject({ succeeded: 1500, complete: true, calls: 3 });
    expect(cardsSent()).toEqual([sent.slice(1000, 1500).map((c) => c.cardId)]);
    expect(held(sent)).toEqual(range(0, 1500));
  });

  it("revoke: a middle call that timed out after the gateway removed them is unknown; the retry finds them gone and counts them applied", async () => {
    const { sent, input } = batch(2100, "LATE");
    for (const c of sent) stack.aliyun.state.cards.set(cardKey(c.identityId, c.iotId, c.cardId), { ...c, expiryTime: "2030-12-31 23:59:59" });
    // Slower than ALIYUN_TIMEOUT_MS (500): the facade gives up, the gateway still removes them.
    stack.aliyun.injectFault({ kind: "latency", latencyMs: 900, path: BATCHDELETE, where: { list: sent.slice(1000, 2000) }, times: 1 });
    const res = await stack.gql(REVOKE, { input: { permissions: input, idempotencyKey: "revoke-late" } });
    expect(res.errors).toBeUndefined();
    expect(res.data.cardPermissionsRevoke).toMatchObject({ applied: range(0, 1000), unknown: range(1000, 2000), notSent: range(2000, 2100), complete: false });
    await expect.poll(() => held(sent)).toEqual(range(2000, 2100)); // the unknown call did reach the gateway

    stack.aliyun.clearReceived();
    const retry = await stack.gql(REVOKE, { input: { permissions: input, idempotencyKey: "revoke-late" } });
    expect(retry.data.cardPermissionsRevoke).toMatchObject({ succeeded: 2100, failed: 0, refused: [], userErrors: [], complete: true, calls: 4 });
    expect(stack.aliyun.calls(BATCHDELETE).map((c) => (c.params!.list as unknown[]).length)).toEqual([1000, 100]);
    expect(held(sent)).toEqual([]);
  });

  it("doorPasswordsSet: a 5xx on the middle call of three (100 a call) answers applied / unknown / not sent", async () => {
    const identityId = person();
    const iotId = device();
    const numbers = range(0, 250);
    const passwords = numbers.map((n) => ({ person: toGlobalId("AliyunPerson", identityId), device: toGlobalId("AliyunAccessControlDevice", iotId), number: n, password: `pw${n}` }));
    const dto = (n: number) => ({ identityId, iotId, password: `pw${n}`, number: n });
    stack.aliyun.injectFault({ kind: "http_error", status: 500, path: "/entrance/paas/perm/passwd/modify", where: { passwords: range(100, 200).map(dto) }, times: 1 });
    const res = await stack.gql(`mutation($input: DoorPasswordsSetInput!) { doorPasswordsSet(input: $input) { succeeded calls applied unknown notSent complete userErrors { code } } }`, { input: { passwords } });
    expect(res.errors).toBeUndefined();
    expect(res.data.doorPasswordsSet).toEqual({ succeeded: 100, calls: 2, applied: range(0, 100), unknown: range(100, 200), notSent: range(200, 250), complete: false, userErrors: [{ code: "OUTCOME_UNKNOWN" }] });
    expect(numbers.filter((n) => stack.aliyun.state.passwords.has(`${identityId}|${iotId}|${n}`))).toEqual(range(0, 100));
    expect(stack.aliyun.calls("/entrance/paas/perm/passwd/modify").map((c) => (c.params!.passwords as unknown[]).length)).toEqual([100, 100]);
  });

  it("a first call that fails before anything is applied is still an error, and frees the key", async () => {
    const { sent, input } = batch(10, "FIRST");
    stack.aliyun.injectFault({ kind: "http_error", status: 503, path: BATCHMODIFY, times: 1 });
    const res = await stack.gql(GRANT, { input: { permissions: input, idempotencyKey: "first-fails" } });
    expect(res.data).toEqual({ cardPermissionsGrant: null });
    expect(res.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[["cardPermissionsGrant"], "UPSTREAM_UNAVAILABLE"]]);
    const retry = await stack.gql(GRANT, { input: { permissions: input, idempotencyKey: "first-fails" } });
    expect(retry.data.cardPermissionsGrant).toMatchObject({ succeeded: 10, complete: true, calls: 1 });
    expect(held(sent)).toEqual(range(0, 10));
  });
});

describe("mutation payloads fail alone", () => {
  it("two mutations in one request, the second failing: the first's payload is in data, the error at the second's path", async () => {
    const first = batch(2, "ONE");
    const second = batch(2, "TWO");
    stack.aliyun.injectFault({ kind: "http_error", status: 503, path: BATCHMODIFY, where: { cards: second.sent } });
    const res = await stack.gql(
      `mutation($a: CardPermissionsInput!, $b: CardPermissionsInput!) { a: cardPermissionsGrant(input: $a) { succeeded complete } b: cardPermissionsGrant(input: $b) { succeeded complete } }`,
      { a: { permissions: first.input }, b: { permissions: second.input } },
    );
    expect(res.data).toEqual({ a: { succeeded: 2, complete: true }, b: null });
    expect(res.errors?.map((e) => e.path)).toEqual([["b"]]);
    expect(held(first.sent)).toEqual([0, 1]);
    expect(held(second.sent)).toEqual([]);
    expect(cardsSent()).toEqual([["ONE-0", "ONE-1"], ["TWO-0", "TWO-1"]]);
  });
});

describe("with the idempotency records on Redis, across two instances", () => {
  let redis: RedisServer;
  let one: Stack;
  let two: Stack;
  beforeAll(async () => {
    redis = await startRedis();
    one = await startStack({ env: { REDIS_URL: redis.url } });
    two = await startStack({ env: { REDIS_URL: redis.url }, shareSimulatorsWith: one });
  });
  beforeEach(() => resetStacks(one, two));
  afterAll(async () => {
    await two?.close();
    await one?.close();
    await redis?.stop();
  });

  it("a batch left incomplete on one instance is finished by the retry on the other, sending only the rest", async () => {
    const identityId = [...one.aliyun.state.persons.keys()][0];
    const iotId = [...one.aliyun.state.devices.keys()][0];
    const sent = range(0, 2500).map((i) => ({ identityId, iotId, cardId: `REDIS-${i}` }));
    const input = sent.map((c) => ({ person: toGlobalId("AliyunPerson", identityId), device: toGlobalId("AliyunAccessControlDevice", iotId), cardId: c.cardId }));
    one.aliyun.injectFault({ kind: "http_error", status: 503, path: BATCHMODIFY, where: { cards: sent.slice(1000, 2000) }, times: 1 });
    const first = await one.gql(GRANT, { input: { permissions: input, idempotencyKey: "redis-batch" } });
    expect(first.data.cardPermissionsGrant).toMatchObject({ applied: range(0, 1000), unknown: range(1000, 2000), notSent: range(2000, 2500), complete: false });
    one.aliyun.clearReceived();
    const retry = await two.gql(GRANT, { input: { permissions: input, idempotencyKey: "redis-batch" } });
    expect(retry.data.cardPermissionsGrant).toMatchObject({ succeeded: 2500, calls: 4, complete: true });
    expect(one.aliyun.calls(BATCHMODIFY).map((c) => (c.params!.cards as { cardId: string }[])[0].cardId)).toEqual(["REDIS-1000", "REDIS-2000"]);
    const held = sent.filter((c) => one.aliyun.state.cards.has(cardKey(c.identityId, c.iotId, c.cardId)));
    expect(held).toHaveLength(2500);
    one.aliyun.clearReceived();
    expect((await one.gql(GRANT, { input: { permissions: input, idempotencyKey: "redis-batch" } })).data).toEqual(retry.data);
    expect(one.aliyun.calls(BATCHMODIFY)).toHaveLength(0);
  });
});
