/**
 * Issue 13, "Input hygiene before any vendor call": names and free text with NUL, C0/C1 controls, bidi overrides
 * or only invisible characters, duplicates in one batch, time windows already over, and `fileUrl`s that are not
 * https on a public host are each refused in `userErrors` naming the field, and neither simulator receives
 * anything.
 */
import { describe, expect, it } from "vitest";
import { toGlobalId } from "../../src/lib/global-id.js";
import { DEMO_PROJECT_ID, useStack } from "../helpers/stack.js";

const stack = useStack();

const project = () => stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
const account = () => [...project().accounts.values()][0];
const R = () => toGlobalId("Residence", DEMO_PROJECT_ID, account().residence_id);
const A = () => toGlobalId("Account", DEMO_PROJECT_ID, account().residence_id, account().account_id);
const P = () => toGlobalId("Project", DEMO_PROJECT_ID);
const D = (n = 0) => toGlobalId("AliyunAccessControlDevice", [...stack.aliyun.state.devices.keys()][n]);
const PERSON = () => toGlobalId("AliyunPerson", [...stack.aliyun.state.persons.keys()][0]);
/** The Aliyun person the demo site map links `A()` to (identityId = account_id, the default link). */
const PERSON_OF_A = () => toGlobalId("AliyunPerson", account().account_id);
const PAST = "2020-01-01T00:00:00Z";
const EARLIER = "2019-12-31T00:00:00Z";
const FUTURE = "2099-01-01T00:00:00Z";

const newAccount = (overrides: Record<string, unknown> = {}) => ({ residence: R(), firstName: "Ann", lastName: "Lee", email: "ann.lee@example.org", role: "USER", ...overrides });
const visitorKey = (overrides: Record<string, unknown>) => ({
  residence: R(),
  name: "Guest",
  repeatMode: "DAILY",
  startTime: "08:00",
  finishTime: "18:00",
  devices: [{ device: toGlobalId("AkuvoxDevice", DEMO_PROJECT_ID, "0A0B0C0D0E0F") }],
  ...overrides,
});
const card = (overrides: Record<string, unknown> = {}) => ({ person: PERSON(), device: D(), cardId: "CARD-1", ...overrides });
const password = (overrides: Record<string, unknown> = {}) => ({ person: PERSON(), device: D(), number: 1, password: "246810", ...overrides });
const fileImport = (fileUrl: string) => ({ project: P(), fileName: "residents.xlsx", fileUrl });

interface Case {
  name: string;
  mutation: string;
  type: string;
  input: () => Record<string, unknown>;
  field: string;
  code: string;
  message?: string;
  /** `message` is part of the message (the rest says why). */
  partial?: boolean;
}

const names: Case[] = [
  { name: "NUL in a first name", mutation: "accountCreate", type: "AccountCreateInput", input: () => newAccount({ firstName: "Ann\u0000" }), field: "input.firstName", code: "INVALID" },
  { name: "a C0 control (tab) in a last name", mutation: "accountCreate", type: "AccountCreateInput", input: () => newAccount({ lastName: "Le\te" }), field: "input.lastName", code: "INVALID" },
  { name: "a C1 control (NEL) in a first name", mutation: "accountUpdate", type: "AccountUpdateInput", input: () => ({ account: A(), firstName: "Ann\u0085", lastName: "Lee" }), field: "input.firstName", code: "INVALID" },
  { name: "DEL in a last name", mutation: "accountUpdate", type: "AccountUpdateInput", input: () => ({ account: A(), firstName: "Ann", lastName: "Lee\u007f" }), field: "input.lastName", code: "INVALID" },
  { name: "a right-to-left override (U+202E) in a name", mutation: "accountUpdate", type: "AccountUpdateInput", input: () => ({ account: A(), firstName: "\u202Egpj.exe", lastName: "Lee" }), field: "input.firstName", code: "INVALID" },
  { name: "a left-to-right embedding (U+202A) in a key name", mutation: "visitorTempKeyCreate", type: "VisitorTempKeyCreateInput", input: () => visitorKey({ name: "\u202AGuest" }), field: "input.name", code: "INVALID" },
  { name: "bidi isolates (U+2066…U+2069) in a key name", mutation: "visitorTempKeyCreate", type: "VisitorTempKeyCreateInput", input: () => visitorKey({ name: "\u2067Guest\u2069" }), field: "input.name", code: "INVALID" },
  { name: "a zero-width-only person name", mutation: "aliyunPersonUpsert", type: "AliyunPersonUpsertInput", input: () => ({ person: A(), name: "\u200B\u200D\uFEFF" }), field: "input.name", code: "REQUIRED" },
  { name: "a name of non-ASCII spaces only", mutation: "aliyunPersonUpsert", type: "AliyunPersonUpsertInput", input: () => ({ person: A(), name: "\u00A0\u3000\u2003" }), field: "input.name", code: "REQUIRED" },
  { name: "a name of direction marks only (U+200E, U+200F)", mutation: "accountCreate", type: "AccountCreateInput", input: () => newAccount({ firstName: "\u200E\u200F" }), field: "input.firstName", code: "REQUIRED" },
  { name: "a bell (U+0007) in free text", mutation: "aliyunPersonUpsert", type: "AliyunPersonUpsertInput", input: () => ({ person: A(), extInfo: "floor 3\u0007" }), field: "input.extInfo", code: "INVALID" },
  { name: "NUL in free text", mutation: "aliyunPersonUpsert", type: "AliyunPersonUpsertInput", input: () => ({ person: A(), extInfo: "a\u0000b" }), field: "input.extInfo", code: "INVALID" },
  { name: "free text of invisible characters only", mutation: "aliyunPersonUpsert", type: "AliyunPersonUpsertInput", input: () => ({ person: A(), extInfo: " \u200B\n" }), field: "input.extInfo", code: "REQUIRED" },
  { name: "NUL in an e-mail address", mutation: "accountCreate", type: "AccountCreateInput", input: () => newAccount({ email: "ann\u0000@example.org" }), field: "input.email", code: "INVALID" },
  { name: "an override in a card id", mutation: "cardPermissionsGrant", type: "CardPermissionsInput", input: () => ({ permissions: [card({ cardId: "CARD\u202E1" })] }), field: "input.permissions.0.cardId", code: "INVALID" },
  { name: "a zero-width-only visitor identity number", mutation: "visitorTempKeyCreate", type: "VisitorTempKeyCreateInput", input: () => visitorKey({ visitorIdentityNumber: "\u2060" }), field: "input.visitorIdentityNumber", code: "REQUIRED" },
];

const duplicates: Case[] = [
  {
    name: "the same e-mail twice (case and spaces aside)",
    mutation: "accountsCreate",
    type: "AccountsCreateInput",
    input: () => ({ accounts: [newAccount(), newAccount({ email: "bo@example.org", firstName: "Bo" }), newAccount({ email: " Ann.Lee@Example.org" })] }),
    field: "input.accounts.2.email",
    code: "DUPLICATE",
    message: "input.accounts.2.email duplicates input.accounts.0.email",
  },
  { name: "the same account twice", mutation: "accountsDelete", type: "AccountsDeleteInput", input: () => ({ ids: [A(), A()] }), field: "input.ids.1", code: "DUPLICATE", message: "input.ids.1 duplicates input.ids.0" },
  {
    name: "the same visitor key twice",
    mutation: "visitorTempKeysDelete",
    type: "VisitorTempKeysDeleteInput",
    input: () => ({ ids: [toGlobalId("VisitorTempKey", DEMO_PROJECT_ID, "k1"), toGlobalId("VisitorTempKey", DEMO_PROJECT_ID, "k2"), toGlobalId("VisitorTempKey", DEMO_PROJECT_ID, "k1")] }),
    field: "input.ids.2",
    code: "DUPLICATE",
    message: "input.ids.2 duplicates input.ids.0",
  },
  {
    name: "the same residence temp key twice",
    mutation: "residenceTempKeysDelete",
    type: "ResidenceTempKeysDeleteInput",
    input: () => ({ ids: [toGlobalId("ResidenceTempKey", DEMO_PROJECT_ID, account().residence_id, "t1"), toGlobalId("ResidenceTempKey", DEMO_PROJECT_ID, account().residence_id, "t1")] }),
    field: "input.ids.1",
    code: "DUPLICATE",
  },
  {
    name: "the same card permission twice",
    mutation: "cardPermissionsGrant",
    type: "CardPermissionsInput",
    input: () => ({ permissions: [card(), card({ device: D(1) }), card()] }),
    field: "input.permissions.2",
    code: "DUPLICATE",
    message: "input.permissions.2 duplicates input.permissions.0",
  },
  {
    name: "the same card permission twice, the person once as an account and once as its Aliyun person",
    mutation: "cardPermissionsGrant",
    type: "CardPermissionsInput",
    input: () => ({ permissions: [card({ person: A() }), card({ person: PERSON_OF_A() })] }),
    field: "input.permissions.1",
    code: "DUPLICATE",
    message: "input.permissions.1 duplicates input.permissions.0",
  },
  {
    name: "the same card revocation twice, the person once as an Aliyun person and once as its account",
    mutation: "cardPermissionsRevoke",
    type: "CardPermissionsInput",
    input: () => ({ permissions: [card({ person: PERSON_OF_A() }), card({ person: A() })] }),
    field: "input.permissions.1",
    code: "DUPLICATE",
    message: "input.permissions.1 duplicates input.permissions.0",
  },
  {
    name: "the same door password slot twice, the person once as an account and once as its Aliyun person",
    mutation: "doorPasswordsSet",
    type: "DoorPasswordsSetInput",
    input: () => ({ passwords: [password({ person: A() }), password({ person: PERSON_OF_A(), password: "135790" })] }),
    field: "input.passwords.1",
    code: "DUPLICATE",
    message: "input.passwords.1 duplicates input.passwords.0",
  },
  {
    name: "the same door password slot twice",
    mutation: "doorPasswordsSet",
    type: "DoorPasswordsSetInput",
    input: () => ({ passwords: [password(), password({ number: 2 }), password({ password: "135790" })] }),
    field: "input.passwords.2",
    code: "DUPLICATE",
    message: "input.passwords.2 duplicates input.passwords.0",
  },
  {
    name: "the same device twice for a QR code",
    mutation: "qrCodePermissionsSet",
    type: "QrCodePermissionsSetInput",
    input: () => ({ qrCode: "QR-1", person: PERSON(), devices: [D(), D()], expiresAt: FUTURE }),
    field: "input.devices.1",
    code: "DUPLICATE",
  },
  {
    name: "the same device twice for a legacy QR grant",
    mutation: "qrCodeGrant",
    type: "QrCodeGrantInput",
    input: () => ({ person: PERSON(), devices: [D(), D(1), D()], expiresAt: new Date(Date.now() + 3600_000).toISOString() }),
    field: "input.devices.2",
    code: "DUPLICATE",
    message: "input.devices.2 duplicates input.devices.0",
  },
  {
    name: "the same MAC twice, written two ways",
    mutation: "devicePermissionCheck",
    type: "DevicePermissionCheckInput",
    input: () => ({ residence: R(), macs: ["0A0B0C0D0E0F", "0a:0b:0c:0d:0e:0f"] }),
    field: "input.macs.1",
    code: "DUPLICATE",
  },
];

const past: Case[] = [
  { name: "a residence temp key that has ended", mutation: "residenceTempKeyCreate", type: "ResidenceTempKeyCreateInput", input: () => ({ residence: R(), startsAt: EARLIER, endsAt: PAST, count: 1 }), field: "input.endsAt", code: "IN_PAST" },
  { name: "QR code permissions that have expired", mutation: "qrCodePermissionsSet", type: "QrCodePermissionsSetInput", input: () => ({ qrCode: "QR-1", person: PERSON(), devices: [D()], effectiveAt: EARLIER, expiresAt: PAST }), field: "input.expiresAt", code: "IN_PAST" },
  { name: "a card permission that has expired", mutation: "cardPermissionsGrant", type: "CardPermissionsInput", input: () => ({ permissions: [card({ expiresAt: PAST })] }), field: "input.permissions.0.expiresAt", code: "IN_PAST" },
  { name: "a door password that has expired", mutation: "doorPasswordsSet", type: "DoorPasswordsSetInput", input: () => ({ passwords: [password({ expiresAt: PAST })] }), field: "input.passwords.0.expiresAt", code: "IN_PAST" },
];

const urls: [string, string][] = [
  ["http://files.example.org/a.xlsx", "must be an https URL"],
  ["ftp://files.example.org/a.xlsx", "must be an https URL"],
  ["file:///etc/passwd", "must be an https URL"],
  ["https://user:secret@files.example.org/a.xlsx", "must not carry credentials"],
  ["https://localhost/a.xlsx", "must be on a public host"],
  ["https://files.localhost/a.xlsx", "must be on a public host"],
  ["https://nas.local/a.xlsx", "must be on a public host"],
  ["https://intranet/a.xlsx", "must be on a public host"],
  ["https://127.0.0.1/a.xlsx", "must be on a public host"],
  ["https://0x7f.1/a.xlsx", "must be on a public host"],
  ["https://2130706433/a.xlsx", "must be on a public host"],
  ["https://10.1.2.3/a.xlsx", "must be on a public host"],
  ["https://172.20.0.5/a.xlsx", "must be on a public host"],
  ["https://192.168.1.10:8443/a.xlsx", "must be on a public host"],
  ["https://169.254.169.254/latest/meta-data/", "must be on a public host"],
  ["https://100.64.0.1/a.xlsx", "must be on a public host"],
  ["https://0.0.0.0/a.xlsx", "must be on a public host"],
  ["https://[::1]/a.xlsx", "must be on a public host"],
  ["https://[fe80::1]/a.xlsx", "must be on a public host"],
  ["https://[fd00::5]/a.xlsx", "must be on a public host"],
  ["https://[::ffff:127.0.0.1]/a.xlsx", "must be on a public host"],
  // Judged, like webhook URLs, by the IPv4 address an IPv6 one carries: IPv4-compatible, NAT64 and 6to4 too.
  ["https://[::7f00:1]/a.xlsx", "must be on a public host"],
  ["https://[64:ff9b::a9fe:a9fe]/a.xlsx", "must be on a public host"],
  ["https://[2002:a00:1::1]/a.xlsx", "must be on a public host"],
  ["https://[fec0::1]/a.xlsx", "must be on a public host"],
];
const fileUrls: Case[] = [
  ...urls.map(([url, message]): Case => ({ name: `accountsImport ${url}`, mutation: "accountsImport", type: "FileImportInput", input: () => fileImport(url), field: "input.fileUrl", code: "INVALID", message: `input.fileUrl ${message}`, partial: true })),
  { name: "credentialsImport from a private address", mutation: "credentialsImport", type: "CredentialsImportInput", input: () => ({ ...fileImport("https://10.0.0.8/pins.xlsx"), kind: "FACES" }), field: "input.fileUrl", code: "INVALID" },
  { name: "a face picture from the metadata service", mutation: "faceCreate", type: "FaceCreateInput", input: () => ({ account: A(), pictureUrl: "https://169.254.169.254/face.jpg" }), field: "input.pictureUrl", code: "INVALID" },
];

async function userErrors(c: Case) {
  const res = await stack.gql(`mutation($input: ${c.type}!) { ${c.mutation}(input: $input) { userErrors { field message code } } }`, { input: c.input() });
  expect(res.errors).toBeUndefined();
  return res.data[c.mutation].userErrors as { field: string[] | null; message: string; code: string }[];
}

describe("input hygiene: refused with the field named, before any vendor call", () => {
  it.each([...names, ...duplicates, ...past, ...fileUrls].map((c) => [c.name, c] as const))("%s", async (_, c) => {
    const errors = await userErrors(c);
    expect(errors).toEqual([{ field: c.field.split("."), code: c.code, message: c.message === undefined ? expect.stringContaining(c.field) : c.partial ? expect.stringContaining(c.message) : c.message }]);
    // Values are never echoed: the message names the field, not what was sent.
    expect(stack.sim.received()).toEqual([]);
    expect(stack.aliyun.received()).toEqual([]);
  });
});

describe("what stays accepted", () => {
  it("a right-to-left name with direction marks and free text with line breaks reach the gateway as sent", async () => {
    const a = account();
    const name = "\u200Fדנה\u200E 2";
    const extInfo = "{\n\t\"floor\": 3\n}";
    const res = await stack.gql(`mutation($input: AliyunPersonUpsertInput!) { aliyunPersonUpsert(input: $input) { userErrors { code } person { identityId name extInfo } } }`, {
      input: { person: A(), name, extInfo },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data.aliyunPersonUpsert).toEqual({ userErrors: [], person: { identityId: a.account_id, name, extInfo } });
    expect(stack.aliyun.state.persons.get(a.account_id)).toMatchObject({ name, extInfo });
  });

  it("an import from a public https host is sent to the vendor", async () => {
    const res = await stack.gql(`mutation($input: FileImportInput!) { accountsImport(input: $input) { userErrors { code } taskId } }`, {
      input: fileImport("https://files.example.org:8443/residents.xlsx?sig=abc"),
    });
    expect(res.errors).toBeUndefined();
    expect(res.data.accountsImport.userErrors).toEqual([]);
    expect(stack.sim.calls("import_user_info").map((c) => c.param)).toEqual([{ project_id: DEMO_PROJECT_ID, file_name: "residents.xlsx", file_url: "https://files.example.org:8443/residents.xlsx?sig=abc" }]);
  });

  it("an import from the IPv4-mapped IPv6 form of a public IPv4 address is sent to the vendor as given", async () => {
    // 11.22.33.44 mapped: judged as the IPv4 address it carries (public), as webhook URLs are.
    const url = "https://[::ffff:11.22.33.44]/residents.xlsx";
    const res = await stack.gql(`mutation($input: FileImportInput!) { accountsImport(input: $input) { userErrors { code } taskId } }`, { input: fileImport(url) });
    expect(res.errors).toBeUndefined();
    expect(res.data.accountsImport.userErrors).toEqual([]);
    expect(stack.sim.calls("import_user_info").map((c) => c.param)).toEqual([{ project_id: DEMO_PROJECT_ID, file_name: "residents.xlsx", file_url: url }]);
  });
});
