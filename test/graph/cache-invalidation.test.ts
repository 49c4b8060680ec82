/**
 * Issue 13, "Invalidation that cannot be undone by a slower read": a read whose vendor answer was computed before
 * a write, but arrives after the write's invalidation, must not put the old value back into the cache. Run against
 * a Redis shared by two instances (the write on the other one) and against the in-process cache.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { toGlobalId } from "../../src/lib/global-id.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { startStack, type Stack } from "../helpers/stack.js";

const TTL = { CACHE_KEEP_OPEN_TTL_SECONDS: "60", CACHE_PERSON_TTL_SECONDS: "300" };
const KEEP_OPEN_GET = "/entrance/paas/keepopen/get";
const USER_GET = "/entrance/paas/user/get";
const READ_KEEP_OPEN = `query($i: ID!) { aliyunDevice(iotId: $i) { keepOpen } }`;
const SET_KEEP_OPEN = `mutation($input: KeepOpenSetInput!) { keepOpenSet(input: $input) { userErrors { code } } }`;
const READ_PERSON = `query($i: ID!) { aliyunPerson(identityId: $i) { name } }`;
const UPSERT_PERSON = `mutation($input: AliyunPersonUpsertInput!) { aliyunPersonUpsert(input: $input) { userErrors { code } person { name } } }`;

/** Until the simulator has answered-in-waiting a request to `path` (its answer is then fixed, on its way back). */
async function held(stack: Stack, path: string, count: number) {
  for (let i = 0; i < 200 && stack.aliyun.calls(path).filter((c) => c.fault === "slow_answer").length < count; i++) await sleep(10);
  expect(stack.aliyun.calls(path).filter((c) => c.fault === "slow_answer")).toHaveLength(count);
}

function raceCases(instances: () => { reader: Stack; writer: Stack; other: Stack }) {
  it("keep-open: a read held across keepOpenSet does not bring back the old state", async () => {
    const { reader, writer, other } = instances();
    const device = [...reader.aliyun.state.devices.values()].find((d) => !d.keepOpen)!;
    reader.aliyun.injectFault({ kind: "slow_answer", latencyMs: 700, path: KEEP_OPEN_GET, times: 1 });
    const slow = reader.gql(READ_KEEP_OPEN, { i: device.iotId });
    await held(reader, KEEP_OPEN_GET, 1);

    const set = await writer.gql(SET_KEEP_OPEN, { input: { device: toGlobalId("AliyunAccessControlDevice", device.iotId), keepOpen: true } });
    expect(set.data.keepOpenSet.userErrors).toEqual([]);
    expect(reader.aliyun.state.devices.get(device.iotId)!.keepOpen).toBe(true);
    // The held read answers what the gateway said when it asked: from before the write.
    expect((await slow).data.aliyunDevice.keepOpen).toBe(false);

    // Every read after the write serves the new state; the held answer was not kept.
    expect((await reader.gql(READ_KEEP_OPEN, { i: device.iotId })).data.aliyunDevice.keepOpen).toBe(true);
    expect((await other.gql(READ_KEEP_OPEN, { i: device.iotId })).data.aliyunDevice.keepOpen).toBe(true);
    expect((await writer.gql(READ_KEEP_OPEN, { i: device.iotId })).data.aliyunDevice.keepOpen).toBe(true);
    // The held read and one fresh read after the write reached the gateway; the rest was the new cached value.
    expect(reader.aliyun.calls(KEEP_OPEN_GET).map((c) => c.params)).toEqual([{ iotId: device.iotId }, { iotId: device.iotId }]);
  });

  it("persons: a read held across aliyunPersonUpsert does not bring back the old name", async () => {
    const { reader, writer, other } = instances();
    const [identityId, person] = [...reader.aliyun.state.persons.entries()][1];
    const oldName = person.name;
    reader.aliyun.injectFault({ kind: "slow_answer", latencyMs: 700, path: USER_GET, where: { identityId }, times: 1 });
    const slow = reader.gql(READ_PERSON, { i: identityId });
    await held(reader, USER_GET, 1);

    const upsert = await writer.gql(UPSERT_PERSON, { input: { person: toGlobalId("AliyunPerson", identityId), name: "Renamed After" } });
    expect(upsert.data.aliyunPersonUpsert.userErrors).toEqual([]);
    expect(reader.aliyun.state.persons.get(identityId)!.name).toBe("Renamed After");
    expect((await slow).data.aliyunPerson.name).toBe(oldName);

    for (const s of [reader, other, writer]) expect((await s.gql(READ_PERSON, { i: identityId })).data.aliyunPerson.name).toBe("Renamed After");
  });
}

describe("versioned invalidation, Redis shared by two instances", () => {
  let redis: RedisServer;
  let a: Stack;
  let b: Stack;
  beforeAll(async () => {
    redis = await startRedis();
    a = await startStack({ env: { REDIS_URL: redis.url, ...TTL } });
    b = await startStack({ env: { REDIS_URL: redis.url, ...TTL }, shareSimulatorsWith: a });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await redis?.stop();
  });
  beforeEach(async () => {
    a.aliyun.reset();
    await redis.cli("FLUSHALL");
  });
  raceCases(() => ({ reader: a, writer: b, other: b }));
});

describe("versioned invalidation, in-process cache", () => {
  let a: Stack;
  beforeAll(async () => {
    a = await startStack({ env: TTL });
  });
  afterAll(() => a?.close());
  beforeEach(() => a.aliyun.reset());
  raceCases(() => ({ reader: a, writer: a, other: a }));
});
