/**
 * Every one of the 44 commands (README rows 1–44), once, over HTTP: the answer's fields are those of the document's
 * result table (`./doc.ts`) and its values are those of the seed (`sim.state`), or the write shows in the state.
 * Deeper behaviour (paging, flows, validation) is in reads / writes / faults.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  DEMO_PROJECT_ID,
  publicDevices,
  residenceDevices,
  startAkubelaSimulator,
  type AkubelaSimulator,
  type Project,
} from "../../../src/simulators/akubela/index.js";
import { DATE_TIME, DOC, README_COMMANDS, TIME_OF_DAY, vendorId } from "./doc.js";
import {
  accountRef,
  accountWithAllCredentials,
  demoProject,
  entranceOf,
  first,
  residenceAccounts,
  residenceElsewhere,
  residenceWithOwnDoorphone,
  residenceWithTempKeys,
  unusedNumber,
} from "./fixtures.js";
import { clientFor, keysOf, type Client, type Endpoint } from "./http.js";

let sim: AkubelaSimulator;
let api: Client;
beforeAll(async () => {
  sim = await startAkubelaSimulator({ quiet: true });
  api = clientFor(sim);
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

/** Seeded objects every row can use (recomputed after each reset). */
function fixture() {
  const project = demoProject(sim);
  const account = accountWithAllCredentials(project);
  const residence = project.residences.get(account.residence_id)!;
  const key = first(project.visitor_temp_keys.values(), (k) => k.history.length >= 3 && k.devices.length >= 2, "visitor key with history on 2 devices");
  const keys = [...project.visitor_temp_keys.values()];
  const withDoorphone = residenceWithOwnDoorphone(project);
  const tk = residenceWithTempKeys(project, 2);
  const entrance = entranceOf(project, residence);
  const elsewhere = entranceOf(project, residenceElsewhere(project, residence));
  const noFace = first(project.accounts.values(), (a) => a.faces.length === 0, "account without a face");
  return { project, account, residence, key, keys, withDoorphone, tk, entrance, elsewhere, noFace };
}
type Fixture = ReturnType<typeof fixture>;

const pick = <T extends object>(o: T, fields: readonly string[]) =>
  Object.fromEntries(fields.map((f) => [f, (o as Record<string, unknown>)[f]]));

const newUser = (f: Fixture, email: string, auth = "guest") => ({
  project_id: DEMO_PROJECT_ID,
  residence_id: f.residence.residence_id,
  building_id: f.residence.building_id,
  first_name: "Ada",
  last_name: "Lovelace",
  email,
  auth,
});

const buildingName = (p: Project, id: string) => p.buildings.get(id)!.building_name;

interface Row {
  command: string;
  endpoint: Endpoint;
  param(f: Fixture): unknown;
  /** `param` is what was sent (the param builder's value before the command changed the state). */
  check(result: any, f: Fixture, param: any): void;
}

const M: Endpoint = "manager-commands";
const U: Endpoint = "user-commands";

const ROWS: Row[] = [
  {
    command: "get_visitor_temp_key_list",
    endpoint: M,
    param: () => ({ project_id: DEMO_PROJECT_ID, page_size: 5, page_index: 1 }),
    check(result, f) {
      expect(result).toHaveLength(5);
      for (const row of result) expect(keysOf(row)).toEqual(DOC.visitorKeyListRow);
      expect(result).toEqual(f.keys.slice(0, 5).map((k) => pick(k, DOC.visitorKeyListRow)));
      expect(result[0].start_time).toMatch(TIME_OF_DAY);
      expect(result[0].created_time).toMatch(DATE_TIME);
    },
  },
  {
    command: "get_visitor_temp_key_info",
    endpoint: M,
    param: (f) => ({ project_id: DEMO_PROJECT_ID, visitor_temp_key_id: f.key.visitor_temp_key_id }),
    check(result, f) {
      expect(Array.isArray(result)).toBe(true); // the example's array of one, not the table's object
      expect(result).toHaveLength(1);
      const info = result[0];
      expect(keysOf(info)).toEqual(DOC.visitorKeyInfo);
      const { devices, ...rest } = info;
      expect(rest).toEqual(pick(f.key, DOC.visitorKeyInfo.filter((x) => x !== "devices")));
      expect(devices.map((d: any) => d.device_id)).toEqual(f.key.devices.map((d) => d.device_id));
      devices.forEach((d: any, i: number) => {
        expect(keysOf(d)).toEqual(DOC.visitorDevice);
        for (const r of [...d.relays, ...d.security_relays]) expect(keysOf(r)).toEqual(DOC.relay);
        const kd = f.key.devices[i]!;
        const device = f.project.devices.get(kd.device_id)!;
        expect(d).toMatchObject({ mac: device.mac, device_name: device.device_name, device_type: device.device_type, online: device.online, building_name: device.building_name });
        expect(d.relays.map((r: any) => r.relay_id).sort()).toEqual([...kd.relay_ids].sort());
        expect(d.security_relays.map((r: any) => r.relay_id).sort()).toEqual([...kd.security_relay_ids].sort());
      });
    },
  },
  {
    command: "get_visitor_temp_key_device_list",
    endpoint: M,
    param: () => ({ project_id: DEMO_PROJECT_ID }),
    check(result, f) {
      const expected = publicDevices(f.project);
      expect(result.map((d: any) => d.device_id)).toEqual(expected.map((d) => d.device_id));
      for (const d of result) {
        expect(keysOf(d)).toEqual(DOC.visitorDevice);
        for (const r of [...d.relays, ...d.security_relays]) expect(keysOf(r)).toEqual(DOC.relay);
      }
      const entrance = result.find((d: any) => d.device_id === f.entrance.device_id);
      expect(entrance.relays).toEqual(f.entrance.relays.map((r) => ({ relay_name: r.relay_name, relay_number: r.relay_number, relay_id: r.relay_id })));
      expect(entrance.security_relays).toHaveLength(f.entrance.security_relays.length);
      expect(entrance.security_relays.length).toBeGreaterThan(0);
      // Project-wide devices belong to no building.
      expect(result.filter((d: any) => d.building_id === "").map((d: any) => d.device_name).sort()).toEqual(["Concierge Desk", "Main Gate"]);
    },
  },
  {
    command: "create_visitor_temp_key_info",
    endpoint: M,
    param: (f) => ({
      project_id: DEMO_PROJECT_ID,
      visitor_temp_key_name: "Plumber – Sam",
      device_validity_count: "",
      visitor_identity_number: "123456",
      notice_email: "sam@example.org",
      residence_id: f.residence.residence_id,
      family_name: f.residence.family_name,
      residence_no: f.residence.residence_no,
      building_id: f.residence.building_id,
      building_name: buildingName(f.project, f.residence.building_id),
      repeat_mode: "daily",
      start_time: "09:00:00",
      finish_time: "17:00:00",
      devices: [{ building_id: f.entrance.building_id, device_id: f.entrance.device_id, mac: f.entrance.mac, relays: [{ relay_id: f.entrance.relays[0]!.relay_id }], security_relays: [] }],
    }),
    check(result, f) {
      expect(keysOf(result)).toEqual(["visitor_temp_key_id"]);
      expect(result.visitor_temp_key_id).toMatch(vendorId("v"));
      const stored = f.project.visitor_temp_keys.get(result.visitor_temp_key_id)!;
      expect(stored).toMatchObject({ visitor_temp_key_name: "Plumber – Sam", repeat_mode: "daily", residence_id: f.residence.residence_id, history: [] });
    },
  },
  {
    command: "delete_visitor_temp_key_info",
    endpoint: M,
    param: (f) => ({ project_id: DEMO_PROJECT_ID, visitor_temp_key_id: f.key.visitor_temp_key_id }),
    check(result, f) {
      expect(result).toEqual({});
      expect(f.project.visitor_temp_keys.has(f.key.visitor_temp_key_id)).toBe(false);
      expect(f.project.visitor_temp_keys.size).toBe(f.keys.length - 1);
    },
  },
  {
    command: "get_visitor_temp_key_history",
    endpoint: M,
    param: (f) => ({ project_id: DEMO_PROJECT_ID, visitor_temp_key_id: f.key.visitor_temp_key_id, page_size: 100, page_index: 1 }),
    check(result, f) {
      expect(result).toEqual(f.key.history);
      for (const h of result) expect(keysOf(h)).toEqual(DOC.visitorKeyHistory);
      expect(result[0].number).toBe(f.key.visitor_temp_key_number);
    },
  },
  {
    command: "batch_delete_visitor_temp_key_info",
    endpoint: M,
    param: (f) => ({ project_id: DEMO_PROJECT_ID, visitor_temp_keys: f.keys.slice(0, 2).map((k) => ({ visitor_temp_key_id: k.visitor_temp_key_id })) }),
    check(result, f) {
      expect(result).toEqual({});
      expect([...f.project.visitor_temp_keys.keys()]).toEqual(f.keys.slice(2).map((k) => k.visitor_temp_key_id));
    },
  },
  {
    command: "get_akuvox_device_list",
    endpoint: U,
    param: (f) => ({ residence_id: f.withDoorphone.residence_id }),
    check(result, f) {
      const expected = residenceDevices(f.project, f.withDoorphone);
      expect(result.map((d: any) => d.mac)).toEqual(expected.map((d) => d.mac));
      result.forEach((d: any, i: number) => {
        const device = expected[i]!;
        const rtspField = device.device_type.endsWith("Doorphone") ? "rtsp" : "rtsp_url"; // README quirk
        expect(keysOf(d)).toEqual([...DOC.akuvoxDeviceWithoutRtsp, rtspField].sort());
        expect(d[rtspField]).toBe(device.rtsp_url);
        expect(d).toMatchObject({ ciphertext: device.ciphertext, sip: device.sip, is_public: device.is_public, online: device.online });
      });
      expect(result.some((d: any) => "rtsp" in d)).toBe(true);
      expect(result.some((d: any) => "rtsp_url" in d)).toBe(true);
    },
  },
  {
    command: "get_akuvox_open_door_private_key_config",
    endpoint: U,
    param: (f) => ({ residence_id: f.residence.residence_id }),
    check(result, f) {
      expect(result).toEqual({ private_key: f.residence.private_key });
    },
  },
  {
    command: "update_akuvox_open_door_private_key_config",
    endpoint: U,
    param: (f) => ({ residence_id: f.residence.residence_id, private_key: "12345" }),
    check(result, f) {
      expect(result).toEqual({});
      expect(f.residence.private_key).toBe("12345");
    },
  },
  {
    command: "get_akuvox_open_door_nfc_config",
    endpoint: U,
    param: (f) => ({ residence_id: f.residence.residence_id }),
    check(result, f) {
      expect(keysOf(result)).toEqual(DOC.nfc);
      expect(result).toEqual({ nfc_code: f.residence.nfc.nfc_code, enable_nfc: f.residence.nfc.enable_nfc });
    },
  },
  {
    command: "update_akuvox_open_door_nfc_config",
    endpoint: U,
    param: (f) => ({ residence_id: f.residence.residence_id, enable_nfc: !f.residence.nfc.enable_nfc }),
    check(result, f) {
      expect(keysOf(result)).toEqual(DOC.nfcUpdate);
      expect(f.residence.nfc.nfc_code).toBe(result.nfc_code);
      expect(result.nfc_code).toMatch(f.residence.nfc.enable_nfc ? /^[0-9A-F]{16}$/ : /^$/);
    },
  },
  {
    command: "get_akuvox_open_door_ble_config",
    endpoint: U,
    param: (f) => ({ residence_id: f.residence.residence_id }),
    check(result, f) {
      expect(keysOf(result)).toEqual(DOC.ble);
      expect(result).toEqual({ ble_code: f.residence.ble.ble_code, enable_ble: f.residence.ble.enable_ble });
    },
  },
  {
    command: "update_akuvox_open_door_ble_config",
    endpoint: U,
    param: (f) => ({ residence_id: f.residence.residence_id, enable_ble: !f.residence.ble.enable_ble }),
    check(result, f) {
      expect(keysOf(result)).toEqual(DOC.bleUpdate);
      expect(f.residence.ble.ble_code).toBe(result.ble_code);
      expect(result.ble_code).toMatch(f.residence.ble.enable_ble ? /^[0-9A-F]{16}$/ : /^$/);
    },
  },
  {
    command: "get_akuvox_open_door_temp_key_config",
    endpoint: U,
    param: (f) => ({ residence_id: f.tk.residence_id }),
    check(result, f) {
      expect(result).toEqual(f.tk.temp_keys);
      for (const t of result) expect(keysOf(t)).toEqual(DOC.residenceTempKey);
      expect(result[0].start_time).toMatch(DATE_TIME);
      expect(typeof result[0].count).toBe("number");
    },
  },
  {
    command: "create_akuvox_open_door_temp_key_config",
    endpoint: U,
    param: (f) => ({ residence_id: f.tk.residence_id, start_time: "2026-03-12 13:32:43", finish_time: "2026-03-12 17:32:43", count: 100 }),
    check(result, f) {
      expect(keysOf(result)).toEqual(DOC.residenceTempKeyCreate);
      expect(result.temp_key).toMatch(/^\d{8}$/);
      expect(f.tk.temp_keys.at(-1)).toEqual({ ...result, start_time: "2026-03-12 13:32:43", finish_time: "2026-03-12 17:32:43", count: 100 });
    },
  },
  {
    command: "delete_akuvox_open_door_temp_key_config",
    endpoint: U,
    param: (f) => ({ residence_id: f.tk.residence_id, temp_key: f.tk.temp_keys[0]!.temp_key }),
    check(result, f, param) {
      expect(result).toEqual({});
      expect(f.tk.temp_keys.map((t) => t.temp_key)).not.toContain(param.temp_key);
      expect(f.tk.temp_keys.length).toBeGreaterThan(0); // only that one went
    },
  },
  {
    command: "batch_delete_akuvox_open_door_temp_key_config",
    endpoint: U,
    param: (f) => ({ residence_id: f.tk.residence_id, temp_key: f.tk.temp_keys.map((t) => t.temp_key) }),
    check(result, f) {
      expect(result).toEqual({});
      expect(demoProject(sim).residences.get(f.tk.residence_id)!.temp_keys).toEqual([]);
    },
  },
  {
    command: "get_akuvox_face_file_info",
    endpoint: U,
    param: (f) => ({ residence_id: f.residence.residence_id }),
    check(result, f) {
      expect(result).toEqual({ is_uploaded: f.residence.face_file.is_uploaded });
    },
  },
  {
    command: "update_akuvox_face_file_info",
    endpoint: U,
    param: (f) => ({ residence_id: f.residence.residence_id, filename: "my.jpg" }),
    check(result, f) {
      expect(result).toEqual({});
      expect(f.residence.face_file).toEqual({ is_uploaded: true, filename: "my.jpg" });
    },
  },
  {
    command: "delete_akuvox_face_file_info",
    endpoint: U,
    param: (f) => ({ residence_id: f.residence.residence_id }),
    check(result, f) {
      expect(result).toEqual({});
      expect(f.residence.face_file.is_uploaded).toBe(false);
    },
  },
  {
    command: "check_akuvox_device_permission",
    endpoint: U,
    param: (f) => ({ residence_id: f.residence.residence_id, devices: [{ mac: f.entrance.mac }, { mac: f.elsewhere.mac }] }),
    check(result, f) {
      expect(result).toEqual([
        { permission: true, mac: f.entrance.mac },
        { permission: false, mac: f.elsewhere.mac },
      ]);
      for (const r of result) expect(keysOf(r)).toEqual(DOC.permission);
    },
  },
  {
    command: "get_akuvox_call_history",
    endpoint: U,
    param: (f) => ({ residence_id: f.residence.residence_id }),
    check(result, f) {
      expect(result).toEqual(f.residence.call_history);
      for (const c of result) expect(keysOf(c)).toEqual(DOC.call);
    },
  },
  {
    command: "get_akuvox_open_door_history",
    endpoint: U,
    param: (f) => ({ residence_id: f.residence.residence_id }),
    check(result, f) {
      expect(result).toEqual(f.residence.open_door_history);
      for (const h of result) expect(keysOf(h)).toEqual(DOC.openDoor);
    },
  },
  {
    command: "trigger_akuvox_remote_open_door",
    endpoint: U,
    param: (f) => ({ residence_id: f.residence.residence_id, mac: f.entrance.mac, relay_id: f.entrance.relays[0]!.relay_id }),
    check(result, f) {
      expect(result).toEqual({});
      expect(f.residence.open_door_history[0]).toMatchObject({ open_door: true, open_door_type: "Remote", device_name: f.entrance.device_name });
    },
  },
  {
    command: "get_user_list",
    endpoint: M,
    param: () => ({ project_id: DEMO_PROJECT_ID, page_size: 100, page_index: 1 }),
    check(result, f) {
      const accounts = [...f.project.accounts.values()];
      expect(result.map((r: any) => r.account_id)).toEqual(accounts.slice(0, 100).map((a) => a.account_id));
      for (const r of result) expect(keysOf(r)).toEqual(DOC.userListRow);
      const a = accounts[0]!;
      const r = f.project.residences.get(a.residence_id)!;
      expect(result[0]).toEqual({
        ...pick(a, ["residence_id", "building_id", "account_id", "account_name", "first_name", "last_name", "email", "phone", "auth", "region", "payment_status"]),
        family_name: r.family_name,
        residence_no: r.residence_no,
        building_name: buildingName(f.project, a.building_id),
      });
    },
  },
  {
    command: "get_user_info",
    endpoint: M,
    param: (f) => accountRef(f.account),
    check(result, f) {
      expect(keysOf(result)).toEqual(DOC.userInfo);
      expect(result).toEqual({
        ...pick(f.account, ["building_id", "account_name", "first_name", "last_name", "email", "phone", "auth", "region", "payment_status"]),
        family_name: f.residence.family_name,
        residence_no: f.residence.residence_no,
        building_name: buildingName(f.project, f.account.building_id),
      });
    },
  },
  {
    command: "create_user_info",
    endpoint: M,
    param: (f) => newUser(f, "ada.lovelace@example.org"),
    check(result, f) {
      expect(keysOf(result)).toEqual(["account_id"]);
      expect(result.account_id).toMatch(vendorId("a"));
      expect(f.project.accounts.get(result.account_id)).toMatchObject({ email: "ada.lovelace@example.org", auth: "guest", residence_id: f.residence.residence_id });
    },
  },
  {
    command: "batch_create_user_info",
    endpoint: M,
    param: (f) => [newUser(f, "one@example.org"), newUser(f, "two@example.org", "user")],
    check(result, f) {
      expect(result).toEqual({});
      const created = [...f.project.accounts.values()].slice(-2);
      expect(created.map((a) => [a.email, a.auth])).toEqual([["one@example.org", "guest"], ["two@example.org", "user"]]);
    },
  },
  {
    command: "update_user_info",
    endpoint: M,
    param: (f) => ({ ...accountRef(f.account), first_name: "Fly", last_name: "Dom" }),
    check(result, f) {
      expect(result).toEqual({});
      expect([f.account.first_name, f.account.last_name]).toEqual(["Fly", "Dom"]);
    },
  },
  {
    command: "update_user_password",
    endpoint: M,
    param: (f) => ({ ...accountRef(f.account), new_password: "new_1234567As" }),
    check(result, f) {
      expect(result).toEqual({});
      expect(f.account.password_sha256).toBe(createHash("sha256").update("new_1234567As").digest("hex"));
    },
  },
  {
    command: "delete_user_info",
    endpoint: M,
    param: (f) => accountRef(f.account),
    check(result, f) {
      expect(result).toEqual({});
      expect(f.project.accounts.has(f.account.account_id)).toBe(false);
    },
  },
  {
    command: "batch_delete_user_info",
    endpoint: M,
    param: (f) => ({ project_id: DEMO_PROJECT_ID, accounts: residenceAccounts(f.project, f.residence.residence_id).map((a) => ({ account_id: a.account_id, residence_id: a.residence_id })) }),
    check(result, f) {
      expect(result).toEqual({});
      expect(residenceAccounts(f.project, f.residence.residence_id)).toEqual([]);
    },
  },
  {
    command: "import_user_info",
    endpoint: M,
    param: () => ({ project_id: DEMO_PROJECT_ID, file_name: "test", file_url: "https://test.akubela.com/test-user" }),
    check(result, f) {
      expect(keysOf(result)).toEqual(["task_id"]);
      expect(result.task_id).toMatch(vendorId("t"));
      expect(f.project.import_tasks.map((t) => [t.task_id, t.command])).toEqual([[result.task_id, "import_user_info"]]);
    },
  },
  {
    command: "get_user_access_info",
    endpoint: M,
    param: (f) => accountRef(f.account),
    check(result, f) {
      expect(keysOf(result)).toEqual(DOC.access);
      expect(result.pin_codes).toEqual(f.account.pin_codes);
      expect(result.rf_cards).toEqual(f.account.rf_cards);
      expect(result.faces).toEqual(f.account.faces.map((x) => pick(x, DOC.face)));
      expect(result.floor_accesses).toEqual(f.account.floor_accesses);
      expect(result.access_groups).toEqual(f.account.access_group_ids.map((id) => f.project.access_groups.get(id)));
      for (const [list, fields] of [["pin_codes", DOC.pinCode], ["rf_cards", DOC.rfCard], ["faces", DOC.face], ["floor_accesses", DOC.floorAccess], ["access_groups", DOC.accessGroup]] as const) {
        expect(result[list].length).toBeGreaterThan(0);
        for (const item of result[list]) expect(keysOf(item)).toEqual(fields);
      }
    },
  },
  {
    command: "update_user_floor_access_info",
    endpoint: M,
    param: (f) => ({ ...accountRef(f.account), floor_accesses: [{ building_id: f.account.building_id, floor: "all" }] }),
    check(result, f) {
      expect(result).toEqual({});
      expect(f.account.floor_accesses).toEqual([{ building_id: f.account.building_id, floor: "all" }]);
    },
  },
  {
    command: "create_user_pin_code_access_info",
    endpoint: M,
    param: (f) => ({ ...accountRef(f.account), number: unusedNumber(f.project, "pin_codes", 7) }),
    check(result, f) {
      expect(keysOf(result)).toEqual(["pin_code_id"]);
      expect(result.pin_code_id).toMatch(vendorId("p"));
      expect(f.account.pin_codes.at(-1)).toMatchObject({ pin_code_id: result.pin_code_id, creator: "pm" });
    },
  },
  {
    command: "delete_user_pin_code_access_info",
    endpoint: M,
    param: (f) => ({ ...accountRef(f.account), pin_code_id: f.account.pin_codes[0]!.pin_code_id }),
    check(result, f, param) {
      expect(result).toEqual({});
      expect(f.account.pin_codes.map((c) => c.pin_code_id)).not.toContain(param.pin_code_id);
    },
  },
  {
    command: "create_user_rf_card_access_info",
    endpoint: M,
    param: (f) => ({ ...accountRef(f.account), number: unusedNumber(f.project, "rf_cards", 7) }),
    check(result, f) {
      expect(keysOf(result)).toEqual(["rf_card_id"]);
      expect(result.rf_card_id).toMatch(vendorId("r"));
      expect(f.account.rf_cards.at(-1)).toMatchObject({ rf_card_id: result.rf_card_id, creator: "pm" });
    },
  },
  {
    command: "delete_user_rf_card_access_info",
    endpoint: M,
    param: (f) => ({ ...accountRef(f.account), rf_card_id: f.account.rf_cards[0]!.rf_card_id }),
    check(result, f, param) {
      expect(result).toEqual({});
      expect(f.account.rf_cards.map((c) => c.rf_card_id)).not.toContain(param.rf_card_id);
    },
  },
  {
    command: "create_user_face_access_info",
    endpoint: M,
    param: (f) => ({ ...accountRef(f.noFace), face_picture_url: "https://akcs.akubela.com/test" }),
    check(result, f) {
      expect(result).toEqual({}); // the document answers no face id
      expect(f.noFace.faces).toHaveLength(1);
      expect(f.noFace.faces[0]).toMatchObject({ face_picture_url: "https://akcs.akubela.com/test", creator: "pm", face_id: expect.stringMatching(vendorId("f")) });
    },
  },
  {
    command: "delete_user_face_access_info",
    endpoint: M,
    param: (f) => ({ ...accountRef(f.account), face_id: f.account.faces[0]!.face_id }),
    check(result, f) {
      expect(result).toEqual({});
      expect(f.account.faces).toEqual([]);
    },
  },
  {
    command: "import_user_pin_code_and_rf_card_access_info",
    endpoint: M,
    param: () => ({ project_id: DEMO_PROJECT_ID, file_name: "test", file_url: "https://test.akubela.com/test-pin-card" }),
    check(result, f) {
      expect(keysOf(result)).toEqual(["task_id"]);
      expect(result.task_id).toMatch(vendorId("t"));
      expect(f.project.import_tasks).toMatchObject([{ task_id: result.task_id, command: "import_user_pin_code_and_rf_card_access_info", file_name: "test" }]);
    },
  },
  {
    command: "import_user_face_access_info",
    endpoint: M,
    param: () => ({ project_id: DEMO_PROJECT_ID, file_name: "faces.zip", file_url: "https://test.akubela.com/test-face" }),
    check(result, f) {
      expect(keysOf(result)).toEqual(["task_id"]);
      expect(result.task_id).toMatch(vendorId("t"));
      expect(f.project.import_tasks).toMatchObject([{ task_id: result.task_id, command: "import_user_face_access_info", file_url: "https://test.akubela.com/test-face" }]);
    },
  },
];

describe("all 44 commands", () => {
  it("the table below covers every README row exactly once, on the documented endpoint", () => {
    expect(ROWS.map((r) => [r.endpoint, r.command])).toEqual(README_COMMANDS);
  });

  it.each(ROWS.map((r, i) => ({ ...r, n: i + 1 })))("row $n: $command", async (row) => {
    const f = fixture();
    const param = row.param(f);
    const sent = JSON.parse(JSON.stringify(param));
    const a = await api.call(row.endpoint, row.command, param);
    expect(a.status).toBe(200);
    expect(a.body.message).toBeUndefined();
    expect(a.body.success).toBe(true);
    row.check(a.body.result, f, sent);
    // What the vendor received: the command, the param as sent, the demo token.
    const received = sim.calls(row.command);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ endpoint: row.endpoint, command: row.command, param: sent, status: 200, success: true });
  });
});
