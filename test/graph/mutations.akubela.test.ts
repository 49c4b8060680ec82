import { describe, expect, it } from "vitest";
import { toGlobalId } from "../../src/lib/global-id.js";
import { tempKeyDigest } from "../../src/resolvers/residence/residence.resolver.js";
import type { Account, Project } from "../../src/simulators/akubela/index.js";
import { publicDevices } from "../../src/simulators/akubela/index.js";
import { DEMO_PROJECT_ID, mutate as mutateWith, useStack } from "../helpers/stack.js";

const stack = useStack();

const project = (): Project => stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
const accounts = () => [...project().accounts.values()];
const P = () => toGlobalId("Project", DEMO_PROJECT_ID);
const R = (residenceId: string) => toGlobalId("Residence", DEMO_PROJECT_ID, residenceId);
const A = (a: Account) => toGlobalId("Account", DEMO_PROJECT_ID, a.residence_id, a.account_id);
/** Writes the simulator received, as `command param-json`. */
const writes = (command: string) => stack.sim.calls(command).map((c) => c.param);

const mutate = (query: string, input: unknown) => mutateWith(stack, query, input);

describe("visitor keys (000)", () => {
  it("visitorTempKeyCreate → create_visitor_temp_key_info, with devices and relays chosen by graph IDs", async () => {
    const [gate, entrance] = publicDevices(project()).filter((d) => d.relays.length > 0);
    const resident = accounts()[0];
    const residence = project().residences.get(resident.residence_id)!;
    const building = project().buildings.get(residence.building_id)!;
    const relay = (d: typeof gate, r: string) => toGlobalId("Relay", DEMO_PROJECT_ID, d.mac, r);
    const payload = await mutate(
      `mutation($input: VisitorTempKeyCreateInput!) { visitorTempKeyCreate(input: $input) {
         userErrors { field message code } visitorTempKey { id visitorTempKeyId name repeatMode availableDays startTime finishTime deviceValidityCount devices { mac } } } }`,
      {
        residence: R(resident.residence_id),
        name: "Cleaner",
        repeatMode: "WEEKLY",
        availableDays: ["MONDAY", "THURSDAY"],
        startTime: "08:00",
        finishTime: "12:30:00Z",
        deviceValidityCount: 4,
        noticeEmail: "cleaner@example.org",
        devices: [
          { device: toGlobalId("AkuvoxDevice", DEMO_PROJECT_ID, gate.mac) },
          { device: toGlobalId("AkuvoxDevice", DEMO_PROJECT_ID, entrance.mac), relays: [relay(entrance, entrance.relays[0].relay_id)] },
        ],
      },
    );
    expect(payload.userErrors).toEqual([]);
    expect(payload.visitorTempKey).toMatchObject({
      name: "Cleaner",
      repeatMode: "WEEKLY",
      availableDays: ["MONDAY", "THURSDAY"],
      startTime: "08:00:00Z",
      finishTime: "12:30:00Z",
      deviceValidityCount: 4,
    });
    expect(payload.visitorTempKey.devices.map((d: any) => d.mac).sort()).toEqual([gate.mac, entrance.mac].sort());
    expect(writes("create_visitor_temp_key_info")).toEqual([
      {
        project_id: DEMO_PROJECT_ID,
        visitor_temp_key_name: "Cleaner",
        device_validity_count: "4",
        notice_email: "cleaner@example.org",
        residence_id: resident.residence_id,
        family_name: residence.family_name,
        residence_no: residence.residence_no,
        building_id: building.building_id,
        building_name: building.building_name,
        repeat_mode: "weekly",
        available_days: ["Monday", "Thursday"],
        start_time: "08:00:00",
        finish_time: "12:30:00",
        devices: [
          {
            building_id: gate.building_id || building.building_id,
            device_id: gate.device_id,
            mac: gate.mac,
            relays: gate.relays.map((r) => ({ relay_id: r.relay_id })),
            security_relays: [],
          },
          {
            building_id: entrance.building_id || building.building_id,
            device_id: entrance.device_id,
            mac: entrance.mac,
            relays: [{ relay_id: entrance.relays[0].relay_id }],
            security_relays: [],
          },
        ],
      },
    ]);
    // The next request sees it in the project's list.
    const list = await stack.gql(`query($p: ID!) { project(projectId: $p) { visitorTempKeys(first: 100) { totalCount nodes { id } } } }`, { p: DEMO_PROJECT_ID });
    expect(list.data.project.visitorTempKeys.nodes.map((n: any) => n.id)).toContain(payload.visitorTempKey.id);
  });

  it("visitorTempKeysDelete with one ID → delete_visitor_temp_key_info; the key is gone", async () => {
    const key = [...project().visitor_temp_keys.values()][0];
    const id = toGlobalId("VisitorTempKey", DEMO_PROJECT_ID, key.visitor_temp_key_id);
    const payload = await mutate(`mutation($input: VisitorTempKeysDeleteInput!) { visitorTempKeysDelete(input: $input) { userErrors { code } deletedIds } }`, { ids: [id] });
    expect(payload).toEqual({ userErrors: [], deletedIds: [id] });
    expect(writes("delete_visitor_temp_key_info")).toEqual([{ project_id: DEMO_PROJECT_ID, visitor_temp_key_id: key.visitor_temp_key_id }]);
    const again = await stack.gql(`query($id: ID!) { node(id: $id) { id } }`, { id });
    expect(again.data.node).toBeNull();
  });

  it("visitorTempKeysDelete with several IDs → batch_delete_visitor_temp_key_info", async () => {
    const keys = [...project().visitor_temp_keys.values()].slice(0, 3);
    const ids = keys.map((k) => toGlobalId("VisitorTempKey", DEMO_PROJECT_ID, k.visitor_temp_key_id));
    const payload = await mutate(`mutation($input: VisitorTempKeysDeleteInput!) { visitorTempKeysDelete(input: $input) { userErrors { code } deletedIds } }`, { ids });
    expect(payload.deletedIds).toEqual(ids);
    expect(writes("batch_delete_visitor_temp_key_info")).toEqual([
      { project_id: DEMO_PROJECT_ID, visitor_temp_keys: keys.map((k) => ({ visitor_temp_key_id: k.visitor_temp_key_id })) },
    ]);
    const after = await stack.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids });
    expect(after.data.nodes).toEqual([null, null, null]);
  });
});

describe("residence keys and open-door settings (001)", () => {
  const residenceWithKeys = () => [...project().residences.values()].find((r) => r.temp_keys.length >= 2 && [...project().accounts.values()].some((a) => a.residence_id === r.residence_id))!;

  it("residenceTempKeyCreate → create_akuvox_open_door_temp_key_config; the list shows the new code (a window not yet over)", async () => {
    const r = residenceWithKeys();
    const payload = await mutate(
      `mutation($input: ResidenceTempKeyCreateInput!) { residenceTempKeyCreate(input: $input) { userErrors { code } residenceTempKey { id tempKey startsAt endsAt count } } }`,
      { residence: R(r.residence_id), startsAt: "2036-12-01T08:00:00Z", endsAt: "2036-12-02T08:00:00+01:00", count: 3 },
    );
    expect(payload.userErrors).toEqual([]);
    expect(payload.residenceTempKey).toMatchObject({ startsAt: "2036-12-01T08:00:00.000Z", endsAt: "2036-12-02T07:00:00.000Z", count: 3 });
    expect(writes("create_akuvox_open_door_temp_key_config")).toEqual([
      { residence_id: r.residence_id, start_time: "2036-12-01 08:00:00", finish_time: "2036-12-02 07:00:00", count: 3 },
    ]);
    const list = await stack.gql(`query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { tempKeys { id } } }`, { p: DEMO_PROJECT_ID, r: r.residence_id });
    expect(list.data.residence.tempKeys.map((k: any) => k.id)).toContain(payload.residenceTempKey.id);
  });

  it("residenceTempKeysDelete: one → delete_…_temp_key_config, several → batch_delete_…; codes never in IDs", async () => {
    const r = residenceWithKeys();
    const [first, ...rest] = r.temp_keys.map((k) => k.temp_key);
    const id = (k: string) => toGlobalId("ResidenceTempKey", DEMO_PROJECT_ID, r.residence_id, tempKeyDigest(k));
    expect(id(first)).not.toContain(first);
    const one = await mutate(`mutation($input: ResidenceTempKeysDeleteInput!) { residenceTempKeysDelete(input: $input) { userErrors { code } deletedIds } }`, { ids: [id(first)] });
    expect(one.deletedIds).toEqual([id(first)]);
    expect(writes("delete_akuvox_open_door_temp_key_config")).toEqual([{ temp_key: first, residence_id: r.residence_id }]);
    const many = await mutate(`mutation($input: ResidenceTempKeysDeleteInput!) { residenceTempKeysDelete(input: $input) { userErrors { code } deletedIds } }`, { ids: rest.map(id) });
    expect(many.userErrors).toEqual([]);
    expect(writes("batch_delete_akuvox_open_door_temp_key_config")).toEqual([{ temp_key: rest, residence_id: r.residence_id }]);
    const list = await stack.gql(`query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { tempKeys { id } } }`, { p: DEMO_PROJECT_ID, r: r.residence_id });
    expect(list.data.residence.tempKeys).toEqual([]);
  });

  const CONFIG = `mutation($input: OpenDoorConfigUpdateInput!) { openDoorConfigUpdate(input: $input) {
    userErrors { field code message } changed residence { openDoorConfig { privateKey nfc { enabled code } ble { enabled code } faceFileUploaded } } } }`;

  it("openDoorConfigUpdate privateKey → update_akuvox_open_door_private_key_config, read back in the same request", async () => {
    const r = residenceWithKeys();
    const payload = await mutate(CONFIG, { residence: R(r.residence_id), privateKey: "482913" });
    expect(payload.changed).toEqual(["privateKey"]);
    expect(payload.residence.openDoorConfig.privateKey).toBe("482913");
    expect(writes("update_akuvox_open_door_private_key_config")).toEqual([{ private_key: "482913", residence_id: r.residence_id }]);
    // The read after the write went to the vendor again (the request's loaders were cleared).
    expect(stack.sim.calls().map((c) => c.command)).toEqual(
      expect.arrayContaining(["update_akuvox_open_door_private_key_config", "get_akuvox_open_door_private_key_config"]),
    );
    expect(stack.logText()).not.toContain("482913");
  });

  it("openDoorConfigUpdate nfcEnabled / bleEnabled → update_akuvox_open_door_nfc_config / _ble_config", async () => {
    const r = residenceWithKeys();
    const payload = await mutate(CONFIG, { residence: R(r.residence_id), nfcEnabled: true, bleEnabled: false });
    expect(payload.changed).toEqual(["nfcEnabled", "bleEnabled"]);
    expect(payload.residence.openDoorConfig.nfc).toEqual({ enabled: true, code: project().residences.get(r.residence_id)!.nfc.nfc_code });
    expect(payload.residence.openDoorConfig.ble).toEqual({ enabled: false, code: null });
    expect(writes("update_akuvox_open_door_nfc_config")).toEqual([{ enable_nfc: true, residence_id: r.residence_id }]);
    expect(writes("update_akuvox_open_door_ble_config")).toEqual([{ enable_ble: false, residence_id: r.residence_id }]);
  });

  it("openDoorConfigUpdate faceFile → update_akuvox_face_file_info; deleteFaceFile → delete_akuvox_face_file_info", async () => {
    const r = residenceWithKeys();
    const set = await mutate(CONFIG, { residence: R(r.residence_id), faceFile: "family-faces.zip" });
    expect(set.residence.openDoorConfig.faceFileUploaded).toBe(true);
    expect(writes("update_akuvox_face_file_info")).toEqual([{ filename: "family-faces.zip", residence_id: r.residence_id }]);
    const removed = await mutate(CONFIG, { residence: R(r.residence_id), deleteFaceFile: true });
    expect(removed.changed).toEqual(["deleteFaceFile"]);
    expect(removed.residence.openDoorConfig.faceFileUploaded).toBe(false);
    expect(writes("delete_akuvox_face_file_info")).toEqual([{ residence_id: r.residence_id }]);
  });

  it("devicePermissionCheck → check_akuvox_device_permission, MACs normalised, answered in order", async () => {
    const a = accounts()[0];
    const residence = project().residences.get(a.residence_id)!;
    const mine = publicDevices(project()).find((d) => d.building_id === residence.building_id)!;
    const other = publicDevices(project()).find((d) => d.building_id && d.building_id !== residence.building_id)!;
    const dashed = mine.mac.match(/../g)!.join("-").toLowerCase();
    const payload = await mutate(
      `mutation($input: DevicePermissionCheckInput!) { devicePermissionCheck(input: $input) { userErrors { code } permissions { mac permitted } } }`,
      { residence: R(a.residence_id), macs: [dashed, other.mac] },
    );
    expect(payload.permissions).toEqual([
      { mac: dashed, permitted: true },
      { mac: other.mac, permitted: false },
    ]);
    expect(writes("check_akuvox_device_permission")).toEqual([{ devices: [{ mac: mine.mac }, { mac: other.mac }], residence_id: a.residence_id }]);
  });
});

describe("accounts and credentials (002)", () => {
  const ACCOUNT = `userErrors { field message code } account { accountId firstName lastName email role residence { residenceId } }`;

  it("accountCreate → create_user_info, the building learnt from the residence; the account is listed next", async () => {
    const neighbour = accounts()[0];
    const payload = await mutate(`mutation($input: AccountCreateInput!) { accountCreate(input: $input) { ${ACCOUNT} } }`, {
      residence: R(neighbour.residence_id),
      firstName: "Grace",
      lastName: "Hopper",
      email: "grace.hopper@example.org",
      role: "GUEST",
    });
    expect(payload.userErrors).toEqual([]);
    expect(payload.account).toMatchObject({ firstName: "Grace", lastName: "Hopper", email: "grace.hopper@example.org", role: "GUEST", residence: { residenceId: neighbour.residence_id } });
    expect(writes("create_user_info")).toEqual([
      {
        project_id: DEMO_PROJECT_ID,
        residence_id: neighbour.residence_id,
        building_id: neighbour.building_id,
        first_name: "Grace",
        last_name: "Hopper",
        email: "grace.hopper@example.org",
        auth: "guest",
      },
    ]);
    const list = await stack.gql(`query($p: ID!) { project(projectId: $p) { accounts(first: 100, role: GUEST) { nodes { accountId } } } }`, { p: DEMO_PROJECT_ID });
    expect(list.data.project.accounts.nodes.map((n: any) => n.accountId)).toContain(payload.account.accountId);
  });

  it("accountsCreate → batch_create_user_info with an array param; both accounts come back", async () => {
    const [a, b] = [accounts()[0], accounts()[5]];
    const payload = await mutate(`mutation($input: AccountsCreateInput!) { accountsCreate(input: $input) { userErrors { code } accounts { email } } }`, {
      accounts: [
        { residence: R(a.residence_id), firstName: "Ada", lastName: "Byron", email: "ada@example.org", role: "GUEST" },
        { residence: R(b.residence_id), firstName: "Alan", lastName: "Turing", email: "alan@example.org", role: "GUEST" },
      ],
    });
    expect(payload.accounts.map((x: any) => x.email).sort()).toEqual(["ada@example.org", "alan@example.org"]);
    const [param] = writes("batch_create_user_info");
    expect(Array.isArray(param)).toBe(true);
    expect((param as any[]).map((p) => [p.residence_id, p.building_id, p.email, p.auth])).toEqual([
      [a.residence_id, a.building_id, "ada@example.org", "guest"],
      [b.residence_id, b.building_id, "alan@example.org", "guest"],
    ]);
  });

  it("accountUpdate → update_user_info; accountPasswordUpdate → update_user_password, the password nowhere in logs", async () => {
    const a = accounts()[3];
    const renamed = await mutate(`mutation($input: AccountUpdateInput!) { accountUpdate(input: $input) { ${ACCOUNT} } }`, { account: A(a), firstName: "Marie", lastName: "Curie" });
    expect(renamed.account).toMatchObject({ firstName: "Marie", lastName: "Curie" });
    expect(writes("update_user_info")).toEqual([{ project_id: DEMO_PROJECT_ID, residence_id: a.residence_id, account_id: a.account_id, first_name: "Marie", last_name: "Curie" }]);
    const pw = await mutate(`mutation($input: AccountPasswordUpdateInput!) { accountPasswordUpdate(input: $input) { ${ACCOUNT} } }`, { account: A(a), newPassword: "Correct-Horse-9" });
    expect(pw.userErrors).toEqual([]);
    expect(writes("update_user_password")).toEqual([{ project_id: DEMO_PROJECT_ID, residence_id: a.residence_id, account_id: a.account_id, new_password: "Correct-Horse-9" }]);
    expect(project().accounts.get(a.account_id)!.password_sha256).toBeTruthy();
    expect(stack.logText()).not.toContain("Correct-Horse-9");
  });

  it("accountsDelete: one → delete_user_info, several → batch_delete_user_info; they are gone", async () => {
    const [a, b, c] = accounts().filter((x) => x.auth !== "admin").slice(0, 3);
    const one = await mutate(`mutation($input: AccountsDeleteInput!) { accountsDelete(input: $input) { userErrors { code } deletedIds } }`, { ids: [A(a)] });
    expect(one.deletedIds).toEqual([A(a)]);
    expect(writes("delete_user_info")).toEqual([{ project_id: DEMO_PROJECT_ID, account_id: a.account_id, residence_id: a.residence_id }]);
    await mutate(`mutation($input: AccountsDeleteInput!) { accountsDelete(input: $input) { userErrors { code } deletedIds } }`, { ids: [A(b), A(c)] });
    expect(writes("batch_delete_user_info")).toEqual([
      { project_id: DEMO_PROJECT_ID, accounts: [b, c].map((x) => ({ account_id: x.account_id, residence_id: x.residence_id })) },
    ]);
    const after = await stack.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: [A(a), A(b), A(c)] });
    expect(after.data.nodes).toEqual([null, null, null]);
  });

  it("accountsImport and credentialsImport → the three import commands, each answering a task id", async () => {
    const file = { project: P(), fileName: "residents.xlsx", fileUrl: "https://files.example.org/residents.xlsx" };
    const users = await mutate(`mutation($input: FileImportInput!) { accountsImport(input: $input) { userErrors { code } taskId } }`, file);
    const cards = await mutate(`mutation($input: CredentialsImportInput!) { credentialsImport(input: $input) { userErrors { code } taskId } }`, { ...file, kind: "PIN_CODES_AND_RF_CARDS" });
    const faces = await mutate(`mutation($input: CredentialsImportInput!) { credentialsImport(input: $input) { userErrors { code } taskId } }`, { ...file, kind: "FACES" });
    const tasks = project().import_tasks;
    expect([users.taskId, cards.taskId, faces.taskId]).toEqual(tasks.map((t) => t.task_id));
    expect(tasks.map((t) => t.command)).toEqual(["import_user_info", "import_user_pin_code_and_rf_card_access_info", "import_user_face_access_info"]);
    const param = { project_id: DEMO_PROJECT_ID, file_name: "residents.xlsx", file_url: "https://files.example.org/residents.xlsx" };
    expect(writes("import_user_info")).toEqual([param]);
    expect(writes("import_user_pin_code_and_rf_card_access_info")).toEqual([param]);
    expect(writes("import_user_face_access_info")).toEqual([param]);
  });

  const CREDENTIAL = `userErrors { field code message } pinCode { id number } rfCard { id number } face { id } credentials { pinCodes { number } rfCards { number } faces { faceId } floorAccesses { buildingId floor } }`;

  it("pinCodeCreate → create_user_pin_code_access_info; credentialDelete → delete_user_pin_code_access_info", async () => {
    const a = accounts()[1];
    const created = await mutate(`mutation($input: CredentialNumberInput!) { pinCodeCreate(input: $input) { ${CREDENTIAL} } }`, { account: A(a), number: "90817263" });
    expect(created.pinCode.number).toBe("90817263");
    expect(created.credentials.pinCodes.map((p: any) => p.number)).toContain("90817263");
    expect(writes("create_user_pin_code_access_info")).toEqual([{ project_id: DEMO_PROJECT_ID, residence_id: a.residence_id, account_id: a.account_id, number: "90817263" }]);
    const pinId = project().accounts.get(a.account_id)!.pin_codes.find((p) => p.number === "90817263")!.pin_code_id;
    const deleted = await mutate(`mutation($input: CredentialDeleteInput!) { credentialDelete(input: $input) { ${CREDENTIAL} } }`, { id: created.pinCode.id });
    expect(deleted.credentials.pinCodes.map((p: any) => p.number)).not.toContain("90817263");
    expect(writes("delete_user_pin_code_access_info")).toEqual([{ project_id: DEMO_PROJECT_ID, residence_id: a.residence_id, account_id: a.account_id, pin_code_id: pinId }]);
    expect(stack.logText()).not.toContain("90817263");
  });

  it("rfCardCreate → create_user_rf_card_access_info; credentialDelete → delete_user_rf_card_access_info", async () => {
    const a = accounts()[2];
    const created = await mutate(`mutation($input: CredentialNumberInput!) { rfCardCreate(input: $input) { ${CREDENTIAL} } }`, { account: A(a), number: "0A1B2C3D4E" });
    expect(created.rfCard.number).toBe("0A1B2C3D4E");
    expect(writes("create_user_rf_card_access_info")).toEqual([{ project_id: DEMO_PROJECT_ID, residence_id: a.residence_id, account_id: a.account_id, number: "0A1B2C3D4E" }]);
    const cardId = project().accounts.get(a.account_id)!.rf_cards.find((c) => c.number === "0A1B2C3D4E")!.rf_card_id;
    const deleted = await mutate(`mutation($input: CredentialDeleteInput!) { credentialDelete(input: $input) { ${CREDENTIAL} } }`, { id: created.rfCard.id });
    expect(deleted.credentials.rfCards.map((c: any) => c.number)).not.toContain("0A1B2C3D4E");
    expect(writes("delete_user_rf_card_access_info")).toEqual([{ project_id: DEMO_PROJECT_ID, residence_id: a.residence_id, account_id: a.account_id, rf_card_id: cardId }]);
  });

  it("faceCreate → create_user_face_access_info; credentialDelete → delete_user_face_access_info", async () => {
    const a = accounts().find((x) => x.faces.length === 0)!;
    const created = await mutate(`mutation($input: FaceCreateInput!) { faceCreate(input: $input) { ${CREDENTIAL} } }`, { account: A(a), pictureUrl: "https://files.example.org/face.jpg" });
    expect(created.face).not.toBeNull();
    expect(created.credentials.faces).toHaveLength(1);
    expect(writes("create_user_face_access_info")).toEqual([
      { project_id: DEMO_PROJECT_ID, residence_id: a.residence_id, account_id: a.account_id, face_picture_url: "https://files.example.org/face.jpg" },
    ]);
    const faceId = project().accounts.get(a.account_id)!.faces[0].face_id;
    const deleted = await mutate(`mutation($input: CredentialDeleteInput!) { credentialDelete(input: $input) { ${CREDENTIAL} } }`, { id: created.face.id });
    expect(deleted.credentials.faces).toEqual([]);
    expect(writes("delete_user_face_access_info")).toEqual([{ project_id: DEMO_PROJECT_ID, residence_id: a.residence_id, account_id: a.account_id, face_id: faceId }]);
  });

  it("floorAccessUpdate → update_user_floor_access_info, replacing the floors", async () => {
    const a = accounts()[4];
    const building = toGlobalId("Building", DEMO_PROJECT_ID, a.building_id);
    const payload = await mutate(`mutation($input: FloorAccessUpdateInput!) { floorAccessUpdate(input: $input) { ${CREDENTIAL} } }`, {
      account: A(a),
      floors: [
        { building, floor: "1" },
        { building, floor: "3" },
      ],
    });
    expect(payload.credentials.floorAccesses).toEqual([
      { buildingId: a.building_id, floor: "1" },
      { buildingId: a.building_id, floor: "3" },
    ]);
    expect(writes("update_user_floor_access_info")).toEqual([
      {
        project_id: DEMO_PROJECT_ID,
        residence_id: a.residence_id,
        account_id: a.account_id,
        floor_accesses: [
          { building_id: a.building_id, floor: "1" },
          { building_id: a.building_id, floor: "3" },
        ],
      },
    ]);
  });

  it("a vendor rejection comes back in userErrors with the vendor's code, and nothing is reported done", async () => {
    const a = accounts()[1];
    const taken = accounts().find((x) => x.pin_codes.length > 0)!.pin_codes[0].number;
    const payload = await mutate(`mutation($input: CredentialNumberInput!) { pinCodeCreate(input: $input) { ${CREDENTIAL} } }`, { account: A(a), number: taken });
    expect(payload.pinCode).toBeNull();
    expect(payload.userErrors).toEqual([{ field: null, code: "conflict", message: "param.number is already used by a PIN code in the project" }]);
    expect(stack.sim.calls("create_user_pin_code_access_info")).toHaveLength(1);
  });
});
