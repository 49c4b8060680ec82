import { describe, expect, it } from "vitest";
import { toGlobalId } from "../../src/lib/global-id.js";
import { DEMO_MANAGER_PASSWORD, DEMO_MANAGER_USERNAME, DEMO_OAUTH_CLIENT_ID, DEMO_OAUTH_CLIENT_SECRET } from "../../src/simulators/akubela/index.js";
import { DEMO_ALIYUN_APP_SECRET } from "../../src/simulators/aliyun/index.js";
import { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, useStack, TEST_API_KEYS } from "../helpers/stack.js";

/**
 * A run that touches every secret-bearing field, at LOG_LEVEL=debug, then a search of every log line for each
 * secret: tokens (the caller's, the facade's OAuth ones), the app secret, API keys, PINs, the private key,
 * passwords (account, manager, door), RF card numbers, NFC/BLE codes and device ciphertexts.
 */
const stack = useStack({
    env: {
      AKUBELA_TOKEN: "",
      AKUBELA_CLIENT_ID: DEMO_OAUTH_CLIENT_ID,
      AKUBELA_CLIENT_SECRET: DEMO_OAUTH_CLIENT_SECRET,
      AKUBELA_USERNAME: DEMO_MANAGER_USERNAME,
      AKUBELA_PASSWORD: DEMO_MANAGER_PASSWORD,
      LOG_LEVEL: "debug",
    },
  });

describe("no secret in any log line", () => {
  it("after reads and writes of every secret-bearing field", async () => {
    const project = stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
    const account = [...project.accounts.values()].find((a) => a.pin_codes.length > 0 && a.rf_cards.length > 0)!;
    const A = toGlobalId("Account", DEMO_PROJECT_ID, account.residence_id, account.account_id);
    const R = toGlobalId("Residence", DEMO_PROJECT_ID, account.residence_id);
    const iotId = [...stack.aliyun.state.devices.keys()][0];
    const secrets: string[] = [
      DEMO_AKUBELA_TOKEN,
      DEMO_OAUTH_CLIENT_SECRET,
      DEMO_MANAGER_PASSWORD,
      DEMO_ALIYUN_APP_SECRET,
      TEST_API_KEYS.admin.key,
      "caller-own-token-31337",
      ...account.pin_codes.map((p) => p.number),
      ...account.rf_cards.map((c) => c.number),
      project.residences.get(account.residence_id)!.private_key,
    ];
    const run = async (query: string, variables: Record<string, unknown>, token?: string | null) => {
      const res = await stack.gql(query, variables, token);
      expect(res.errors, query).toBeUndefined();
      return res.data;
    };
    // Reads of credentials, keys, codes and device bundles.
    const read = await run(
      `query($p: ID!, $r: ID!, $a: ID!) {
         account(projectId: $p, residenceId: $r, accountId: $a) { credentials { pinCodes { number } rfCards { number } } cardPermissions { cardId } }
         residence(projectId: $p, residenceId: $r) { openDoorConfig { privateKey nfc { code } ble { code } } devices { ciphertext rtspUrl } tempKeys { tempKey } }
         project(projectId: $p) { visitorTempKeys(first: 5) { nodes { number } } } }`,
      { p: DEMO_PROJECT_ID, r: account.residence_id, a: account.account_id },
    );
    for (const d of read.residence.devices) if (d.ciphertext) secrets.push(d.ciphertext);
    for (const k of read.residence.tempKeys) secrets.push(k.tempKey);
    for (const k of read.project.visitorTempKeys.nodes) if (k.number) secrets.push(k.number);
    if (read.residence.openDoorConfig.nfc.code) secrets.push(read.residence.openDoorConfig.nfc.code);
    // Writes carrying secrets.
    await run(`mutation($input: CredentialNumberInput!) { pinCodeCreate(input: $input) { userErrors { code } } }`, { input: { account: A, number: "90909091" } });
    await run(`mutation($input: CredentialNumberInput!) { rfCardCreate(input: $input) { userErrors { code } } }`, { input: { account: A, number: "ABCDEF0123" } });
    await run(`mutation($input: AccountPasswordUpdateInput!) { accountPasswordUpdate(input: $input) { userErrors { code } } }`, { input: { account: A, newPassword: "Tr0ub4dor&3-secret" } });
    await run(`mutation($input: OpenDoorConfigUpdateInput!) { openDoorConfigUpdate(input: $input) { userErrors { code } } }`, { input: { residence: R, privateKey: "7355608" } });
    await run(`mutation($input: DoorPasswordsSetInput!) { doorPasswordsSet(input: $input) { userErrors { code } } }`, {
      input: { passwords: [{ person: A, device: toGlobalId("AliyunAccessControlDevice", iotId), number: 1, password: "door-pass-8675309" }] },
    });
    // A bad PIN (validation), a vendor refusal, and the caller's own token refused by the vendor.
    await run(`mutation($input: CredentialNumberInput!) { pinCodeCreate(input: $input) { userErrors { code } } }`, { input: { account: A, number: "12x4-secretish" } });
    await run(`mutation($input: CredentialNumberInput!) { pinCodeCreate(input: $input) { userErrors { code } } }`, { input: { account: A, number: "90909091" } });
    const refused = await stack.gql(`query($p: ID!) { project(projectId: $p) { devices { name } } }`, { p: DEMO_PROJECT_ID }, "caller-own-token-31337");
    expect(refused.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
    // The facade's own token, refreshed after the vendor expired it.
    stack.sim.oauth.expireAll();
    await run(`query($p: ID!) { project(projectId: $p) { devices { name } } }`, { p: DEMO_PROJECT_ID });
    const issuedTokens = stack.sim.calls().map((c) => c.authorization?.replace(/^Bearer /, "")).filter((t): t is string => Boolean(t));
    secrets.push(...new Set(issuedTokens), "90909091", "ABCDEF0123", "Tr0ub4dor&3-secret", "7355608", "door-pass-8675309", "12x4-secretish");

    const logs = stack.logText();
    expect(logs.split("\n").length).toBeGreaterThan(30);
    expect(logs).toContain('"msg":"vendor call"');
    const leaked = secrets.filter((s) => s.length >= 4 && logs.includes(s));
    expect(leaked).toEqual([]);
  });
});
