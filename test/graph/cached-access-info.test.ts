/**
 * Issue 16, "more of the graph cacheable": user-list pages and accounts (`get_user_list`, `get_user_info`), each
 * account's access info (`get_user_access_info`) and its Aliyun card permissions (`/entrance/paas/user/perm/query`)
 * are kept in the shared cache for short TTLs, dropped on every instance by this facade's own writes, and changes
 * made at the vendor directly show once the TTL has passed. Two instances share one real Redis and one pair of
 * simulators; what the simulators received is counted.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { toGlobalId } from "../../src/lib/global-id.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID, resetStacks, startStack, TEST_API_KEYS, type Stack } from "../helpers/stack.js";

/** Long enough that nothing expires during a test: what is asserted is the invalidation. */
const LONG = {
  CACHE_USER_LIST_TTL_SECONDS: "300",
  CACHE_ACCESS_INFO_TTL_SECONDS: "300",
  CACHE_CARD_PERMISSIONS_TTL_SECONDS: "300",
  CACHE_MEMBERSHIP_TTL_SECONDS: "300",
  CACHE_PERSON_TTL_SECONDS: "300",
  CACHE_DEVICE_LIST_TTL_SECONDS: "300",
  // Access info and card permissions hold PIN and card numbers: Redis keeps them only sealed with this key.
  TOKEN_ENCRYPTION_KEY: "c".repeat(64),
};
/** The short-lived reads at 1 s (the membership index and persons as in LONG): what the vendor changes shows after it. */
const SHORT = { ...LONG, CACHE_USER_LIST_TTL_SECONDS: "1", CACHE_ACCESS_INFO_TTL_SECONDS: "1", CACHE_CARD_PERMISSIONS_TTL_SECONDS: "1" };

const ACCOUNT = `query($p: ID!, $r: ID!, $a: ID!) {
  account(projectId: $p, residenceId: $r, accountId: $a) {
    firstName credentials { pinCodes { pinCodeId number } rfCards { rfCardId } } cardPermissions { cardId }
  }
}`;
const ACCOUNTS = `query($p: ID!) { project(projectId: $p) { accounts(first: 100) { totalCount nodes { accountId firstName } } } }`;
const PIN_CREATE = `mutation($input: CredentialNumberInput!) { pinCodeCreate(input: $input) { userErrors { code message } } }`;
const ACCOUNT_UPDATE = `mutation($input: AccountUpdateInput!) { accountUpdate(input: $input) { userErrors { code message } } }`;
const CARDS_GRANT = `mutation($input: CardPermissionsInput!) { cardPermissionsGrant(input: $input) { userErrors { code } succeeded } }`;
const USER_PERM_QUERY = "/entrance/paas/user/perm/query";

function vendorReceived(s: Stack): string[] {
  return [
    ...s.sim.received().map((c) => `${c.command} ${JSON.stringify(c.param)}`),
    ...s.aliyun.received().map((c) => `${c.path} ${JSON.stringify(c.params)}`),
  ];
}
function clearReceived(s: Stack) {
  s.sim.clearReceived();
  s.aliyun.clearReceived();
}

/** An account of the demo project with a linked Aliyun person (so its card permissions are read). */
function someAccount(s: Stack) {
  const project = s.sim.state.projects.get(DEMO_PROJECT_ID)!;
  const account = [...project.accounts.values()].find((a) => s.aliyun.state.persons.has(a.account_id) && a.pin_codes.length < 5)!;
  return { p: DEMO_PROJECT_ID, r: account.residence_id, a: account.account_id, account };
}

async function read(s: Stack, query: string, variables: Record<string, unknown>) {
  const res = await s.gql(query, variables);
  expect(res.errors).toBeUndefined();
  return res.data;
}

/** Reads until `done` says the answer shows what it waits for (at most 10 s; the TTL under test is 1 s). */
async function until<T>(get: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; ; i++) {
    const value = await get();
    if (done(value) || i >= 100) return value;
    await sleep(100);
  }
}

describe("user lists and access info cached in a Redis shared by two instances", () => {
  let redis: RedisServer;
  let a: Stack;
  let b: Stack;
  let short: Stack;
  beforeAll(async () => {
    redis = await startRedis();
    a = await startStack({ env: { REDIS_URL: redis.url, ...LONG } });
    b = await startStack({ env: { REDIS_URL: redis.url, ...LONG }, shareSimulatorsWith: a });
    short = await startStack({ env: { REDIS_URL: redis.url, ...SHORT }, shareSimulatorsWith: a });
  });
  afterAll(async () => {
    await short?.close();
    await b?.close();
    await a?.close();
    await redis?.stop();
  });
  beforeEach(() => resetStacks(a, b, short));

  it("a second read within the TTL sends no vendor call, on either instance, and answers the same", async () => {
    const v = someAccount(a);
    const first = await read(a, ACCOUNT, v);
    const list = await read(a, ACCOUNTS, { p: v.p });
    const received = vendorReceived(a);
    expect(received).toContain(`get_user_access_info ${JSON.stringify({ project_id: v.p, residence_id: v.r, account_id: v.a })}`);
    expect(received.some((c) => c.startsWith("get_user_list "))).toBe(true);
    expect(received.some((c) => c.startsWith(`${USER_PERM_QUERY} `))).toBe(true);
    expect(first.account.credentials.pinCodes.map((p: any) => p.number)).toEqual(v.account.pin_codes.map((p) => p.number));

    clearReceived(a);
    expect(await read(a, ACCOUNT, v)).toEqual(first);
    expect(await read(b, ACCOUNT, v)).toEqual(first);
    expect(await read(b, ACCOUNTS, { p: v.p })).toEqual(list);
    expect(vendorReceived(a)).toEqual([]);
  });

  it("cache keys name ids, never a PIN or card number, and Redis holds those numbers only sealed", async () => {
    const v = someAccount(a);
    await read(a, ACCOUNT, v);
    const keyList = (await redis.cli("--scan")).trim().split("\n");
    const keys = keyList.join(" ");
    expect(keys).toContain("get_user_access_info");
    const cards = [...a.aliyun.state.cards.values()].filter((c) => c.identityId === v.a).map((c) => c.cardId);
    const secrets = [...v.account.pin_codes.map((p) => p.number), ...v.account.rf_cards.map((c) => c.number), ...cards];
    expect(secrets.length).toBeGreaterThan(0);
    const values = (await Promise.all(keyList.filter((k) => !k.includes("#")).map((k) => redis.cli("GET", k)))).join(" ");
    for (const secret of secrets) {
      expect(keys).not.toContain(secret);
      expect(values).not.toContain(secret);
    }
  });

  it("without TOKEN_ENCRYPTION_KEY, Redis never holds access info: each read asks the vendor", async () => {
    const { TOKEN_ENCRYPTION_KEY: _key, ...unsealed } = LONG;
    const plain = await startStack({ env: { REDIS_URL: redis.url, ...unsealed }, shareSimulatorsWith: a });
    try {
      const v = someAccount(a);
      const first = await read(plain, ACCOUNT, v);
      expect(await read(plain, ACCOUNT, v)).toEqual(first);
      const access = `get_user_access_info ${JSON.stringify({ project_id: v.p, residence_id: v.r, account_id: v.a })}`;
      expect(vendorReceived(a).filter((c) => c === access)).toHaveLength(2);
      // The user list (no secrets) was kept: its pages were read once.
      const pages = vendorReceived(a).filter((c) => c.startsWith("get_user_list "));
      expect(new Set(pages).size).toBe(pages.length);
      expect((await redis.cli("--scan")).includes("get_user_access_info")).toBe(false);
    } finally {
      await plain.close();
    }
  });

  it("a PIN created on one instance: the other's next read fetches that account's access info fresh and shows it", async () => {
    const v = someAccount(a);
    await read(b, ACCOUNT, v);
    await read(b, ACCOUNTS, { p: v.p });
    clearReceived(a);

    const created = await a.gql(PIN_CREATE, { input: { account: toGlobalId("Account", v.p, v.r, v.a), number: "73914" } });
    expect(created.errors).toBeUndefined();
    expect(created.data.pinCodeCreate.userErrors).toEqual([]);

    const after = await read(b, ACCOUNT, v);
    expect(after.account.credentials.pinCodes.map((p: any) => p.number)).toContain("73914");
    // Since the write, the account's access info was read once from the vendor (by the payload on A, or by B:
    // either way through Redis); the user list, the account and its card permissions stayed cached.
    const access = `get_user_access_info ${JSON.stringify({ project_id: v.p, residence_id: v.r, account_id: v.a })}`;
    expect(vendorReceived(a).filter((c) => !c.startsWith("create_user_pin_code_access_info "))).toEqual([access]);
    clearReceived(a);
    expect(await read(b, ACCOUNT, v)).toEqual(after);
    expect(vendorReceived(a)).toEqual([]);
  });

  it("an account renamed on one instance: the other's next reads of the user list and the account are fresh", async () => {
    const v = someAccount(a);
    await read(b, ACCOUNT, v);
    await read(b, ACCOUNTS, { p: v.p });

    clearReceived(a);
    const updated = await a.gql(ACCOUNT_UPDATE, { input: { account: toGlobalId("Account", v.p, v.r, v.a), firstName: "Renamed", lastName: "Elsewhere" } });
    expect(updated.data.accountUpdate.userErrors).toEqual([]);

    expect((await read(b, ACCOUNT, v)).account.firstName).toBe("Renamed");
    const list = await read(b, ACCOUNTS, { p: v.p });
    expect(list.project.accounts.nodes.find((n: any) => n.accountId === v.a)?.firstName ?? "Renamed").toBe("Renamed");
    // Since the write (on either instance, through Redis): the account and the user list read once more each.
    const received = vendorReceived(a).filter((c) => !c.startsWith("update_user_info "));
    expect(received).toContain(`get_user_info ${JSON.stringify({ project_id: v.p, residence_id: v.r, account_id: v.a })}`);
    expect(received.filter((c) => c.startsWith("get_user_list ")).length).toBeGreaterThan(0);
    expect(new Set(received).size).toBe(received.length);
    clearReceived(a);
    expect((await read(b, ACCOUNT, v)).account.firstName).toBe("Renamed");
    expect(vendorReceived(a)).toEqual([]);
    // Access info was not touched by a rename: still cached.
    expect(received.some((c) => c.startsWith("get_user_access_info "))).toBe(false);
  });

  it("a card permission granted on one instance: the other's next read of the account's card permissions is fresh", async () => {
    const v = someAccount(a);
    const before = await read(b, ACCOUNT, v);
    expect(before.account.cardPermissions.map((c: any) => c.cardId)).not.toContain("CARD-NEW-0001");
    // A device of the account's project (the seed gave the account a card there).
    const { iotId } = [...a.aliyun.state.cards.values()].find((c) => c.identityId === v.a)!;
    const granted = await a.gql(CARDS_GRANT, {
      input: { permissions: [{ person: toGlobalId("Account", v.p, v.r, v.a), device: toGlobalId("AliyunAccessControlDevice", iotId), cardId: "CARD-NEW-0001" }] },
    });
    expect(granted.errors).toBeUndefined();
    expect(granted.data.cardPermissionsGrant.succeeded).toBe(1);
    clearReceived(a); // the grant payload reads nothing back

    const after = await read(b, ACCOUNT, v);
    expect(after.account.cardPermissions.map((c: any) => c.cardId)).toContain("CARD-NEW-0001");
    const received = vendorReceived(a);
    expect(received.filter((c) => c.startsWith(`${USER_PERM_QUERY} `))).toHaveLength(1);
    expect(received.some((c) => c.startsWith("get_user_access_info ") || c.startsWith("get_user_list "))).toBe(false);
  });

  it("an account deleted on one instance: the other no longer lists it, and no longer answers its cached access info", async () => {
    const v = someAccount(a);
    await read(b, ACCOUNT, v);
    const before = await read(b, ACCOUNTS, { p: v.p });
    expect(before.project.accounts.nodes.some((n: any) => n.accountId === v.a)).toBe(true);

    const deleted = await a.gql(`mutation($input: AccountsDeleteInput!) { accountsDelete(input: $input) { userErrors { code } deletedIds } }`, {
      input: { ids: [toGlobalId("Account", v.p, v.r, v.a)] },
    });
    expect(deleted.data.accountsDelete.userErrors).toEqual([]);
    clearReceived(a);

    const after = await read(b, ACCOUNTS, { p: v.p });
    expect(after.project.accounts.totalCount).toBe(before.project.accounts.totalCount - 1);
    expect(after.project.accounts.nodes.some((n: any) => n.accountId === v.a)).toBe(false);
    expect(vendorReceived(a).some((c) => c.startsWith("get_user_list "))).toBe(true);
    // The account's cached access info is not answered: the fresh user list no longer places it in the project.
    const gone = await b.gql(ACCOUNT, v);
    expect(gone.data?.account ?? null).toBeNull();
    expect(vendorReceived(a).some((c) => c.startsWith("get_user_access_info "))).toBe(false);
  });

  it("per-caller checks still run on cached values: another project's key, or the account under another project, is refused", async () => {
    const v = someAccount(a);
    await read(a, ACCOUNT, v);
    await read(a, ACCOUNT, { ...v, p: DEMO_SECOND_PROJECT_ID }).catch(() => undefined);
    clearReceived(a);

    const otherKey = await b.gql(ACCOUNT, v, null, { "x-api-key": TEST_API_KEYS.secondProject.key });
    expect(otherKey.data?.account ?? null).toBeNull();
    expect(otherKey.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    // The admin key naming the account under the second project: that project's user list does not have it.
    const forged = await b.gql(ACCOUNT, { ...v, p: DEMO_SECOND_PROJECT_ID });
    expect(forged.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(vendorReceived(a).some((c) => c.startsWith("get_user_access_info ") || c.startsWith("get_user_info "))).toBe(false);
  });

  it("changes made at the vendor directly (outside the facade) show once the TTL has passed", async () => {
    const v = someAccount(short);
    const first = await read(short, ACCOUNT, v);
    const list = await read(short, ACCOUNTS, { p: v.p });
    expect(first.account.credentials.pinCodes.map((p: any) => p.number)).not.toContain("55550001");

    // The vendor's portal: a new PIN, a new first name, a new card permission, none through the facade.
    v.account.pin_codes.push({ ...v.account.pin_codes[0], pin_code_id: "portal-pin-1", number: "55550001" } as (typeof v.account.pin_codes)[number]);
    v.account.first_name = "PortalName";
    const card = [...short.aliyun.state.cards.values()].find((c) => c.identityId === v.a)!;
    short.aliyun.state.cards.set(`${v.a}|${card.iotId}|PORTAL-CARD`, { ...card, cardId: "PORTAL-CARD" });
    clearReceived(short);

    const seen = await until(
      () => read(short, ACCOUNT, v),
      (d) => d.account.credentials.pinCodes.some((p: any) => p.number === "55550001") && d.account.firstName === "PortalName" && d.account.cardPermissions.some((c: any) => c.cardId === "PORTAL-CARD"),
    );
    expect(seen.account.credentials.pinCodes.map((p: any) => p.number)).toContain("55550001");
    expect(seen.account.firstName).toBe("PortalName");
    expect(seen.account.cardPermissions.map((c: any) => c.cardId)).toContain("PORTAL-CARD");
    const listed = await until(
      () => read(short, ACCOUNTS, { p: v.p }),
      (d) => d.project.accounts.nodes.some((n: any) => n.accountId === v.a && n.firstName === "PortalName"),
    );
    expect(listed.project.accounts.totalCount).toBe(list.project.accounts.totalCount);
    const received = vendorReceived(short);
    expect(received).toContain(`get_user_access_info ${JSON.stringify({ project_id: v.p, residence_id: v.r, account_id: v.a })}`);
    expect(received.some((c) => c.startsWith(`${USER_PERM_QUERY} `))).toBe(true);
  });
});
