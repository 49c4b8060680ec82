/**
 * Issue 16, "less overhead per cached request": a query whose every read came fresh from the shared cache is kept
 * (src/cache/response-memo.ts) and answered again without executing, only while the store still holds every value
 * it was built from and none is past its TTL. What must hold: the same answer as executing; a write through the
 * facade (on this instance or another sharing Redis) shows at once; a change at the vendor shows within the TTL;
 * never across API keys, never for callers the vendor must prove, for fresh-data requests, or for answers with errors.
 * `graphql_response_memo_total` tells hits from executions; the simulators tell what the vendor received.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { toGlobalId } from "../../src/lib/global-id.js";
import { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, resetStacks, startStack, TEST_API_KEYS, useInstancesOnRedis, type Stack } from "../helpers/stack.js";

const LONG = {
  CACHE_USER_LIST_TTL_SECONDS: "300",
  CACHE_ACCESS_INFO_TTL_SECONDS: "300",
  CACHE_MEMBERSHIP_TTL_SECONDS: "300",
  CACHE_DEVICE_LIST_TTL_SECONDS: "300",
  TOKEN_ENCRYPTION_KEY: "d".repeat(64),
};

const RESIDENCE = `query Residence($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) {
  id residenceNo familyName
  devices { id mac name relays { relayId name } }
  accounts { accountId firstName credentials { pinCodes { pinCodeId number } rfCards { rfCardId } } } } }`;
const PIN_CREATE = `mutation($input: CredentialNumberInput!) { pinCodeCreate(input: $input) { userErrors { code message } } }`;

function received(s: Stack): string[] {
  return [...s.sim.received().map((c) => `${c.command} ${JSON.stringify(c.param)}`), ...s.aliyun.received().map((c) => `${c.path} ${JSON.stringify(c.params)}`)];
}
function clearReceived(s: Stack) {
  s.sim.clearReceived();
  s.aliyun.clearReceived();
}

/** `graphql_response_memo_total` by outcome, from the instance's /metrics. */
async function memoCounts(s: Stack): Promise<{ hit: number; miss: number; stored: number }> {
  const text = await (await fetch(s.url.replace(/\/graphql$/, "/metrics"))).text();
  const value = (outcome: string) => Number(new RegExp(`^graphql_response_memo_total\\{outcome="${outcome}"\\} (\\d+)`, "m").exec(text)?.[1] ?? 0);
  return { hit: value("hit"), miss: value("miss"), stored: value("stored") };
}
async function delta(s: Stack, run: () => Promise<unknown>) {
  const before = await memoCounts(s);
  await run();
  const after = await memoCounts(s);
  return { hit: after.hit - before.hit, miss: after.miss - before.miss, stored: after.stored - before.stored };
}

/** A residence of the demo project with an account (so its answer has credentials to change). */
function someResidence(s: Stack) {
  const project = s.sim.state.projects.get(DEMO_PROJECT_ID)!;
  const account = [...project.accounts.values()].find((a) => a.pin_codes.length < 5)!;
  // Only p and r are the query's variables (see read).
  return { p: DEMO_PROJECT_ID, r: account.residence_id, account };
}

async function read(s: Stack, { p, r }: { p: string; r: string }, headers?: Record<string, string>) {
  const res = headers ? await s.gql(RESIDENCE, { p, r }, null, headers) : await s.gql(RESIDENCE, { p, r });
  expect(res.errors).toBeUndefined();
  return res.data.residence;
}

describe("the response memo, in-process cache", () => {
  let s: Stack;
  let short: Stack;
  beforeAll(async () => {
    s = await startStack({ env: LONG });
    short = await startStack({ env: { ...LONG, CACHE_USER_LIST_TTL_SECONDS: "1", CACHE_ACCESS_INFO_TTL_SECONDS: "1" }, shareSimulatorsWith: s });
  });
  afterAll(async () => {
    await short?.close();
    await s?.close();
  });
  beforeEach(() => resetStacks(s, short));

  it("a fully cached query asked again is answered from the memo: the same answer, nothing sent to the vendor", async () => {
    const v = someResidence(s);
    const first = await delta(s, async () => expect(await read(s, v)).toBeTruthy());
    // The first execution read from the vendor: nothing to keep.
    expect(first).toEqual({ hit: 0, miss: 1, stored: 0 });
    const executed = await read(s, v);
    clearReceived(s);
    const again = await delta(s, async () => {
      for (let i = 0; i < 3; i++) expect(await read(s, v)).toEqual(executed);
    });
    expect(again.hit).toBe(3);
    expect(received(s)).toEqual([]);
    // The answer is what executing gives: the simulator's own data.
    const pins = executed.accounts.find((a: any) => a.accountId === v.account.account_id).credentials.pinCodes.map((p: any) => p.number);
    expect(pins).toEqual(v.account.pin_codes.map((p) => p.number));
  });

  it("other variables, another operation: each is its own entry", async () => {
    const v = someResidence(s);
    const other = [...s.sim.state.projects.get(DEMO_PROJECT_ID)!.residences.keys()].find((r) => r !== v.r)!;
    await read(s, v);
    await read(s, v);
    const a = await read(s, v);
    const counted = await delta(s, async () => {
      const b = await read(s, { p: v.p, r: other });
      expect(b.id).not.toBe(a.id);
    });
    expect(counted.hit).toBe(0);
  });

  it("a PIN created through the facade shows on the very next read, which executes again", async () => {
    const v = someResidence(s);
    await read(s, v);
    await read(s, v); // kept now
    expect((await delta(s, () => read(s, v))).hit).toBe(1);
    clearReceived(s);
    const created = await s.gql(PIN_CREATE, { input: { account: toGlobalId("Account", v.p, v.r, v.account.account_id), number: "48213" } });
    expect(created.data.pinCodeCreate.userErrors).toEqual([]);
    let after: any;
    const counted = await delta(s, async () => (after = await read(s, v)));
    expect(counted.hit).toBe(0);
    const pins = after.accounts.find((a: any) => a.accountId === v.account.account_id).credentials.pinCodes.map((p: any) => p.number);
    expect(pins).toContain("48213");
    // Since the write, the account's access info was read anew once (its cache entry was dropped by the write);
    // nothing else was.
    expect(received(s).filter((c) => !c.startsWith("create_user_pin_code_access_info "))).toEqual([`get_user_access_info ${JSON.stringify({ project_id: v.p, residence_id: v.r, account_id: v.account.account_id })}`]);
  });

  it("a change made at the vendor shows once the value's TTL has passed, not later", async () => {
    const v = someResidence(short);
    await read(short, v);
    await read(short, v);
    expect((await delta(short, () => read(short, v))).hit).toBe(1);
    // Renamed in the vendor's portal: the facade is not told.
    short.sim.state.projects.get(DEMO_PROJECT_ID)!.accounts.get(v.account.account_id)!.first_name = "Portal";
    const started = Date.now();
    let seen = false;
    while (!seen && Date.now() - started < 10_000) {
      const answer = await read(short, v);
      seen = answer.accounts.some((a: any) => a.firstName === "Portal");
      if (!seen) await sleep(100);
    }
    expect(seen).toBe(true);
    // The user list's TTL is 1 s: the memo answered only while it was fresh.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("never across API keys: another key executes for itself, and a key without the project is refused", async () => {
    const v = someResidence(s);
    await read(s, v);
    await read(s, v);
    const reader = { "x-api-key": TEST_API_KEYS.reader.key };
    const asReader = await delta(s, () => read(s, v, reader));
    expect(asReader.hit).toBe(0);
    const refused = await s.gql(RESIDENCE, { p: v.p, r: v.r }, null, { "x-api-key": TEST_API_KEYS.secondProject.key });
    expect(refused.data?.residence ?? null).toBeNull();
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    // The refusal was not kept either: asked again, refused again.
    const again = await s.gql(RESIDENCE, { p: v.p, r: v.r }, null, { "x-api-key": TEST_API_KEYS.secondProject.key });
    expect(again.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(JSON.stringify(again.data ?? null)).not.toContain(v.r);
  });

  it("a caller asking for fresh data (Cache-Control: no-cache) and a caller with its own vendor token are never answered from it", async () => {
    const v = someResidence(s);
    await read(s, v);
    await read(s, v);
    clearReceived(s);
    const fresh = await delta(s, () => s.gql(RESIDENCE, { p: v.p, r: v.r }, undefined, { "cache-control": "no-cache" }));
    expect(fresh).toEqual({ hit: 0, miss: 0, stored: 0 });
    expect(received(s).some((c) => c.startsWith("get_user_access_info "))).toBe(true);
    const token = await delta(s, () => s.gql(RESIDENCE, { p: v.p, r: v.r }, DEMO_AKUBELA_TOKEN));
    expect(token.hit).toBe(0);
  });

  it("a query through node() (which reaches any type) is executed every time", async () => {
    const v = someResidence(s);
    const id = toGlobalId("Residence", v.p, v.r);
    const query = `query($id: ID!) { node(id: $id) { id } }`;
    await s.gql(query, { id });
    await s.gql(query, { id });
    expect(await delta(s, () => s.gql(query, { id }))).toEqual({ hit: 0, miss: 0, stored: 0 });
  });
});

describe("the response memo over a Redis shared by two instances", () => {
  const { instances: [a, b], redis } = useInstancesOnRedis(2, LONG);

  it("a PIN created on one instance shows on the other's next read", async () => {
    const v = someResidence(a);
    await read(b, v);
    await read(b, v);
    expect((await delta(b, () => read(b, v))).hit).toBe(1);
    const created = await a.gql(PIN_CREATE, { input: { account: toGlobalId("Account", v.p, v.r, v.account.account_id), number: "59372" } });
    expect(created.data.pinCodeCreate.userErrors).toEqual([]);
    let after: any;
    expect((await delta(b, async () => (after = await read(b, v)))).hit).toBe(0);
    expect(after.accounts.find((x: any) => x.accountId === v.account.account_id).credentials.pinCodes.map((p: any) => p.number)).toContain("59372");
  });

  it("Redis flushed (or restarted empty): the memo is not answered from, the query executes again", async () => {
    const v = someResidence(a);
    await read(a, v);
    const kept = await read(a, v);
    await redis.cli("FLUSHALL");
    clearReceived(a);
    const counted = await delta(a, async () => expect(await read(a, v)).toEqual(kept));
    expect(counted.hit).toBe(0);
    expect(received(a).length).toBeGreaterThan(0);
  });
});
