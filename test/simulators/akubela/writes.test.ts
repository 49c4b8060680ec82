/**
 * The write commands as flows over HTTP: create → the reads show it → delete → the reads no longer do, with the
 * checks the simulator makes (all-or-nothing batches, conflicts, not_found), for visitor temp keys, residence temp
 * keys, users, PIN / RF / face credentials, floor access, private key / NFC / BLE, face file, imports and remote
 * door opening.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  DEMO_PROJECT_ID,
  DEMO_SECOND_PROJECT_ID,
  startAkubelaSimulator,
  type AkubelaSimulator,
  type Device,
  type Project,
  type Residence,
} from "../../../src/simulators/akubela/index.js";
import { DATE_TIME, vendorId } from "./doc.js";
import {
  accountRef,
  accountWithAllCredentials,
  adminOf,
  demoProject,
  entranceOf,
  first,
  projectNumbers,
  residenceAccounts,
  residenceElsewhere,
  residenceWithOfflineCarPark,
  residenceWithTempKeys,
  secondProject,
  unusedNumber,
} from "./fixtures.js";
import { clientFor, type Client } from "./http.js";

let sim: AkubelaSimulator;
let api: Client;
beforeAll(async () => {
  sim = await startAkubelaSimulator({ quiet: true });
  api = clientFor(sim);
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const M = "manager-commands" as const;
const U = "user-commands" as const;

// ---- visitor temp keys ------------------------------------------------------------------------------------------

function visitorKeyParam(project: Project, residence: Residence, devices: Device[], extra: Record<string, unknown> = {}) {
  return {
    project_id: project.project_id,
    visitor_temp_key_name: "Cleaner – Maya",
    residence_id: residence.residence_id,
    family_name: residence.family_name,
    residence_no: residence.residence_no,
    building_id: residence.building_id,
    building_name: project.buildings.get(residence.building_id)!.building_name,
    repeat_mode: "never",
    start_time: "08:00:00",
    finish_time: "12:30:00",
    devices: devices.map((d) => ({
      building_id: d.building_id || residence.building_id,
      device_id: d.device_id,
      mac: d.mac,
      relays: d.relays.slice(0, 1).map((r) => ({ relay_id: r.relay_id })),
      security_relays: d.security_relays.map((r) => ({ relay_id: r.relay_id })),
    })),
    ...extra,
  };
}

const allVisitorKeys = async () => {
  const rows: any[] = [];
  for (let page = 1; ; page++) {
    const batch = await api.ok(M, "get_visitor_temp_key_list", { project_id: DEMO_PROJECT_ID, page_size: 100, page_index: page });
    rows.push(...batch);
    if (batch.length < 100) return rows;
  }
};

describe("visitor temp keys", () => {
  it("create → the list and the info show it → delete → gone from both", async () => {
    const project = demoProject(sim);
    const residence = [...project.residences.values()][0]!;
    const entrance = entranceOf(project, residence);
    const mainGate = first(project.devices.values(), (d) => d.device_name === "Main Gate", "Main Gate");
    const param = visitorKeyParam(project, residence, [entrance, mainGate], {
      repeat_mode: "weekly",
      available_days: ["Friday", "Monday"],
      device_validity_count: "5",
      visitor_identity_number: "A1234567",
      notice_email: "maya@example.org",
    });
    const { visitor_temp_key_id: id } = await api.ok(M, "create_visitor_temp_key_info", param);
    expect(id).toMatch(vendorId("v"));

    const listed = (await allVisitorKeys()).filter((k) => k.visitor_temp_key_id === id);
    expect(listed).toHaveLength(1);
    const row = listed[0];
    expect(row).toMatchObject({
      visitor_temp_key_name: "Cleaner – Maya",
      device_validity_count: "5",
      visitor_identity_number: "A1234567",
      repeat_mode: "weekly",
      available_days: ["Monday", "Friday"], // week order
      start_time: "08:00:00",
      finish_time: "12:30:00",
      creator: "pm",
    });
    expect(row.visitor_temp_key_number).toMatch(/^\d{8}$/);
    expect(row.created_time).toMatch(DATE_TIME);
    expect((await allVisitorKeys()).at(-1).visitor_temp_key_id).toBe(id); // appended at the end

    // The number is fresh: no other visitor key nor residence temp key of the project has it.
    const others = [...project.visitor_temp_keys.values()].filter((k) => k.visitor_temp_key_id !== id).map((k) => k.visitor_temp_key_number);
    const residenceKeys = [...project.residences.values()].flatMap((r) => r.temp_keys.map((t) => t.temp_key));
    expect([...others, ...residenceKeys]).not.toContain(row.visitor_temp_key_number);

    const [info] = await api.ok(M, "get_visitor_temp_key_info", { project_id: DEMO_PROJECT_ID, visitor_temp_key_id: id });
    expect(info).toMatchObject({ residence_id: residence.residence_id, family_name: residence.family_name, visitor_temp_key_number: row.visitor_temp_key_number });
    expect(info.devices.map((d: any) => [d.device_id, d.relays.map((r: any) => r.relay_id), d.security_relays.map((r: any) => r.relay_id)])).toEqual([
      [entrance.device_id, [entrance.relays[0]!.relay_id], entrance.security_relays.map((r) => r.relay_id)],
      [mainGate.device_id, [mainGate.relays[0]!.relay_id], []],
    ]);
    expect(await api.ok(M, "get_visitor_temp_key_history", { project_id: DEMO_PROJECT_ID, visitor_temp_key_id: id, page_size: 10, page_index: 1 })).toEqual([]);

    expect(await api.ok(M, "delete_visitor_temp_key_info", { project_id: DEMO_PROJECT_ID, visitor_temp_key_id: id })).toEqual({});
    expect((await allVisitorKeys()).map((k) => k.visitor_temp_key_id)).not.toContain(id);
    const gone = await api.manager("get_visitor_temp_key_info", { project_id: DEMO_PROJECT_ID, visitor_temp_key_id: id });
    expect(gone.body).toMatchObject({ success: false, code: "not_found" });
    const again = await api.manager("delete_visitor_temp_key_info", { project_id: DEMO_PROJECT_ID, visitor_temp_key_id: id });
    expect(again.body).toMatchObject({ success: false, code: "not_found" });
  });

  it("batch delete removes every listed key; one unknown id fails the batch and deletes none", async () => {
    const ids = [...demoProject(sim).visitor_temp_keys.keys()];
    const bad = await api.manager("batch_delete_visitor_temp_key_info", {
      project_id: DEMO_PROJECT_ID,
      visitor_temp_keys: [{ visitor_temp_key_id: ids[0] }, { visitor_temp_key_id: "v00000000000000000000000000000000" }],
    });
    expect(bad.body).toMatchObject({ success: false, code: "not_found", message: "param.visitor_temp_keys[1].visitor_temp_key_id: no such visitor temp key in the project" });
    expect((await allVisitorKeys()).map((k) => k.visitor_temp_key_id)).toEqual(ids);

    expect(await api.ok(M, "batch_delete_visitor_temp_key_info", { project_id: DEMO_PROJECT_ID, visitor_temp_keys: ids.slice(0, 3).map((visitor_temp_key_id) => ({ visitor_temp_key_id })) })).toEqual({});
    expect((await allVisitorKeys()).map((k) => k.visitor_temp_key_id)).toEqual(ids.slice(3));
    const empty = await api.manager("batch_delete_visitor_temp_key_info", { project_id: DEMO_PROJECT_ID, visitor_temp_keys: [] });
    expect(empty.body).toMatchObject({ code: "invalid_param", message: "param.visitor_temp_keys must contain at least 1 item" });
  });

  it("rejects what the vendor could not store, and stores nothing", async () => {
    const project = demoProject(sim);
    const residence = [...project.residences.values()][0]!;
    const entrance = entranceOf(project, residence);
    const elsewhere = residenceElsewhere(project, residence);
    const monitor = first(project.devices.values(), (d) => d.residence_id === residence.residence_id, "indoor monitor");
    const base = visitorKeyParam(project, residence, [entrance]);
    const cases: [string, unknown, string, string][] = [
      ["weekly without days", { ...base, repeat_mode: "weekly" }, "invalid_param", "param.available_days is required when param.repeat_mode is weekly"],
      ["finish before start", { ...base, start_time: "12:00:00", finish_time: "11:59:59" }, "invalid_param", "param.finish_time must be later than param.start_time"],
      ["a private device", visitorKeyParam(project, residence, [{ ...monitor, relays: [{ relay_id: "r1", relay_name: "", relay_number: "" }] }]), "not_found", "param.devices[0].device_id: no such public device in the project"],
      ["a wrong MAC", { ...base, devices: [{ ...base.devices[0]!, mac: "0C1100000000" }] }, "invalid_param", "param.devices[0].mac does not match the device"],
      ["a device given with a building not its own", { ...base, devices: [{ ...base.devices[0]!, building_id: elsewhere.building_id }] }, "invalid_param", "param.devices[0].building_id does not match the device"],
      ["a relay of another device", { ...base, devices: [{ ...base.devices[0]!, relays: [{ relay_id: entranceOf(project, elsewhere).relays[0]!.relay_id }] }] }, "not_found", "param.devices[0].relays[0].relay_id: no such relay on the device"],
      ["no relay at all", { ...base, devices: [{ ...base.devices[0]!, relays: [], security_relays: [] }] }, "invalid_param", "param.devices[0] must list at least one relay or security relay"],
      ["the residence in another building", { ...base, building_id: elsewhere.building_id }, "invalid_param", "param.building_id does not match the residence's building"],
      ["no devices", { ...base, devices: [] }, "invalid_param", "param.devices must contain at least 1 item"],
      ["a bad notice email", { ...base, notice_email: "not-an-email" }, "invalid_param", "param.notice_email must be an email address"],
      ["a non-numeric count", { ...base, device_validity_count: "ten" }, "invalid_param", "param.device_validity_count must be empty or a whole number"],
    ];
    for (const [what, param, code, message] of cases) {
      const a = await api.manager("create_visitor_temp_key_info", param);
      expect({ what, ...a.body }).toMatchObject({ what, success: false, code, message });
    }
    expect(project.visitor_temp_keys.size).toBe(25);
  });

  it("a project-wide device may be given with the residence's building id (it has none of its own)", async () => {
    const project = demoProject(sim);
    const residence = [...project.residences.values()][5]!;
    const mainGate = first(project.devices.values(), (d) => d.device_name === "Main Gate", "Main Gate");
    const { visitor_temp_key_id } = await api.ok(M, "create_visitor_temp_key_info", visitorKeyParam(project, residence, [mainGate]));
    const [info] = await api.ok(M, "get_visitor_temp_key_info", { project_id: DEMO_PROJECT_ID, visitor_temp_key_id });
    expect(info.devices).toMatchObject([{ device_id: mainGate.device_id, building_id: "", building_name: "" }]);
  });
});

// ---- residence temp keys ----------------------------------------------------------------------------------------

describe("residence temp keys", () => {
  const list = (residence_id: string) => api.ok(U, "get_akuvox_open_door_temp_key_config", { residence_id });

  it("create → listed with its times and count → delete → gone", async () => {
    const residence = residenceWithTempKeys(demoProject(sim), 1);
    const before = await list(residence.residence_id);
    const created = await api.ok(U, "create_akuvox_open_door_temp_key_config", {
      residence_id: residence.residence_id,
      start_time: "2026-08-01 09:00:00",
      finish_time: "2026-08-01 18:00:00",
      count: 3,
    });
    expect(created.temp_key).toMatch(/^\d{8}$/);
    expect(created.qr_code_url).toMatch(/^https:\/\/.+\.png$/);
    expect(before.map((t: any) => t.temp_key)).not.toContain(created.temp_key);
    const after = await list(residence.residence_id);
    expect(after).toEqual([...before, { temp_key: created.temp_key, qr_code_url: created.qr_code_url, start_time: "2026-08-01 09:00:00", finish_time: "2026-08-01 18:00:00", count: 3 }]);

    expect(await api.ok(U, "delete_akuvox_open_door_temp_key_config", { residence_id: residence.residence_id, temp_key: created.temp_key })).toEqual({});
    expect(await list(residence.residence_id)).toEqual(before);
    const again = await api.user("delete_akuvox_open_door_temp_key_config", { residence_id: residence.residence_id, temp_key: created.temp_key });
    expect(again.body).toMatchObject({ success: false, code: "not_found", message: "param.temp_key: no such temp key in the residence" });
  });

  it("a temp key of another residence cannot be deleted through this one", async () => {
    const project = demoProject(sim);
    const owner = residenceWithTempKeys(project, 1);
    const other = first(project.residences.values(), (r) => r.residence_id !== owner.residence_id, "other residence");
    const a = await api.user("delete_akuvox_open_door_temp_key_config", { residence_id: other.residence_id, temp_key: owner.temp_keys[0]!.temp_key });
    expect(a.body).toMatchObject({ success: false, code: "not_found" });
    expect(owner.temp_keys).toHaveLength(residenceWithTempKeys(project, 1).temp_keys.length);
  });

  it("batch delete takes an array of keys; one unknown key fails the batch and deletes none", async () => {
    const residence = residenceWithTempKeys(demoProject(sim), 3);
    const keys = residence.temp_keys.map((t) => t.temp_key);
    const bad = await api.user("batch_delete_akuvox_open_door_temp_key_config", { residence_id: residence.residence_id, temp_key: [keys[0], "00000000"] });
    expect(bad.body).toMatchObject({ success: false, code: "not_found", message: "param.temp_key[1]: no such temp key in the residence" });
    expect((await list(residence.residence_id)).map((t: any) => t.temp_key)).toEqual(keys);
    expect(await api.ok(U, "batch_delete_akuvox_open_door_temp_key_config", { residence_id: residence.residence_id, temp_key: keys.slice(0, 2) })).toEqual({});
    expect((await list(residence.residence_id)).map((t: any) => t.temp_key)).toEqual(keys.slice(2));
    const notArray = await api.user("batch_delete_akuvox_open_door_temp_key_config", { residence_id: residence.residence_id, temp_key: keys[2] });
    expect(notArray.body).toMatchObject({ code: "invalid_param", message: "param.temp_key must be an array" });
  });

  it("rejects times that are not date-times, a finish before the start, and a count below 1", async () => {
    const residence = [...demoProject(sim).residences.values()][0]!;
    const base = { residence_id: residence.residence_id, start_time: "2026-08-01 09:00:00", finish_time: "2026-08-01 18:00:00", count: 1 };
    const cases: [unknown, string][] = [
      [{ ...base, start_time: "09:00:00" }, "param.start_time must be a date-time yyyy-MM-dd HH:mm:ss"],
      [{ ...base, finish_time: "2026-02-30 10:00:00" }, "param.finish_time must be a date-time yyyy-MM-dd HH:mm:ss"],
      [{ ...base, finish_time: base.start_time }, "param.finish_time must be later than param.start_time"],
      [{ ...base, count: 0 }, "param.count must be at least 1"],
      [{ ...base, count: "3" }, "param.count must be an integer"],
    ];
    const before = residence.temp_keys.length;
    for (const [param, message] of cases) {
      expect((await api.user("create_akuvox_open_door_temp_key_config", param)).body).toMatchObject({ success: false, code: "invalid_param", message });
    }
    expect(residence.temp_keys).toHaveLength(before);
  });
});

// ---- users ------------------------------------------------------------------------------------------------------

const allUsers = async (project_id = DEMO_PROJECT_ID) => {
  const rows: any[] = [];
  for (let page = 1; ; page++) {
    const batch = await api.ok(M, "get_user_list", { project_id, page_size: 100, page_index: page });
    rows.push(...batch);
    if (batch.length < 100) return rows;
  }
};

function newUser(residence: Residence, email: string, auth = "guest", extra: Record<string, unknown> = {}) {
  return {
    project_id: residence.project_id,
    residence_id: residence.residence_id,
    building_id: residence.building_id,
    first_name: "Grace",
    last_name: "Hopper",
    email,
    auth,
    ...extra,
  };
}

describe("users", () => {
  it("create → listed, info and access as a new account → update → password → delete → gone", async () => {
    const project = demoProject(sim);
    const residence = [...project.residences.values()][3]!;
    const building = project.buildings.get(residence.building_id)!;
    const { account_id } = await api.ok(M, "create_user_info", newUser(residence, "grace.hopper@example.org"));
    expect(account_id).toMatch(vendorId("a"));
    const ref = { project_id: DEMO_PROJECT_ID, residence_id: residence.residence_id, account_id };

    const listed = await allUsers();
    expect(listed).toHaveLength(121);
    expect(listed.at(-1)).toEqual({
      residence_id: residence.residence_id,
      family_name: residence.family_name,
      residence_no: residence.residence_no,
      building_id: building.building_id,
      building_name: building.building_name,
      account_id,
      account_name: "grace.hopper@example.org",
      first_name: "Grace",
      last_name: "Hopper",
      phone: "",
      email: "grace.hopper@example.org",
      auth: "guest",
      region: project.region,
      payment_status: "inactivated",
    });
    expect(await api.ok(M, "get_user_info", ref)).toMatchObject({ first_name: "Grace", account_name: "grace.hopper@example.org", payment_status: "inactivated" });
    expect(await api.ok(M, "get_user_access_info", ref)).toEqual({
      floor_accesses: [{ building_id: building.building_id, floor: String(residence.floor) }],
      faces: [],
      pin_codes: [],
      rf_cards: [],
      access_groups: [{ ...project.access_groups.get(building.system_access_group_id)! }],
    });

    expect(await api.ok(M, "update_user_info", { ...ref, first_name: "Amazing", last_name: "Grace" })).toEqual({});
    expect(await api.ok(M, "get_user_info", ref)).toMatchObject({ first_name: "Amazing", last_name: "Grace", email: "grace.hopper@example.org" });

    expect(await api.ok(M, "update_user_password", { ...ref, new_password: "correct horse battery" })).toEqual({});
    expect(project.accounts.get(account_id)!.password_sha256).toBe(createHash("sha256").update("correct horse battery").digest("hex"));

    expect(await api.ok(M, "delete_user_info", ref)).toEqual({});
    expect((await allUsers()).map((u) => u.account_id)).not.toContain(account_id);
    expect((await api.manager("get_user_info", ref)).body).toMatchObject({ success: false, code: "not_found" });
    expect((await api.manager("delete_user_info", ref)).body).toMatchObject({ success: false, code: "not_found" });
  });

  it("batch create takes an array of create_user_info params and creates them all", async () => {
    const project = demoProject(sim);
    const [r1, r2] = [...project.residences.values()];
    const result = await api.ok(M, "batch_create_user_info", [newUser(r1!, "b1@example.org"), newUser(r2!, "b2@example.org", "user")]);
    expect(result).toEqual({});
    const tail = (await allUsers()).slice(-2);
    expect(tail.map((u) => [u.email, u.residence_id, u.auth])).toEqual([
      ["b1@example.org", r1!.residence_id, "guest"],
      ["b2@example.org", r2!.residence_id, "user"],
    ]);
  });

  it("a batch is all or nothing: a duplicate email inside it or against an account creates none", async () => {
    const project = demoProject(sim);
    const residence = [...project.residences.values()][0]!;
    const existing = [...project.accounts.values()][7]!;
    const inside = await api.manager("batch_create_user_info", [newUser(residence, "dup@example.org"), newUser(residence, "DUP@example.org")]);
    expect(inside.body).toMatchObject({ success: false, code: "conflict", message: "param[1].email is already used by another account" });
    const against = await api.manager("batch_create_user_info", [newUser(residence, "fresh@example.org"), newUser(residence, existing.email.toUpperCase())]);
    expect(against.body).toMatchObject({ success: false, code: "conflict", message: "param[1].email is already used by another account" });
    expect(project.accounts.size).toBe(120);
    expect(against.text).not.toContain(existing.email.toUpperCase());
  });

  it("create refuses a second admin in a residence, a building that is not the residence's, an email in use anywhere", async () => {
    const project = demoProject(sim);
    const residence = [...project.residences.values()][0]!;
    expect(adminOf(project, residence)).toBeDefined();
    const elsewhere = residenceElsewhere(project, residence);
    const foreignEmail = [...secondProject(sim).accounts.values()][0]!.email;
    const cases: [unknown, string, string][] = [
      [newUser(residence, "second.admin@example.org", "admin"), "conflict", "param.auth: the residence already has an admin account"],
      [newUser(residence, "x@example.org", "guest", { building_id: elsewhere.building_id }), "invalid_param", "param.building_id does not match the residence's building"],
      [newUser(residence, foreignEmail), "conflict", "param.email is already used by another account"],
      [newUser(residence, "x@example.org", "owner"), "invalid_param", "param.auth must be one of: admin, user, guest"],
      [newUser(residence, "not-an-email"), "invalid_param", "param.email must be an email address"],
      [newUser(residence, "x@example.org", "guest", { project_id: DEMO_SECOND_PROJECT_ID }), "not_found", "param.residence_id: no such residence in the project"],
    ];
    for (const [param, code, message] of cases) {
      expect((await api.manager("create_user_info", param)).body).toMatchObject({ success: false, code, message });
    }
    expect(project.accounts.size).toBe(120);
  });

  it("a residence whose admin was deleted accepts a new admin", async () => {
    const project = demoProject(sim);
    const residence = [...project.residences.values()][0]!;
    const admin = adminOf(project, residence)!;
    await api.ok(M, "delete_user_info", accountRef(admin));
    const { account_id } = await api.ok(M, "create_user_info", newUser(residence, "new.owner@example.org", "admin"));
    expect(project.accounts.get(account_id)!.auth).toBe("admin");
  });

  it("batch delete removes every listed account; an unknown one fails the batch and deletes none", async () => {
    const project = demoProject(sim);
    const victims = [...project.accounts.values()].slice(10, 13).map((a) => ({ account_id: a.account_id, residence_id: a.residence_id }));
    const bad = await api.manager("batch_delete_user_info", { project_id: DEMO_PROJECT_ID, accounts: [...victims, { account_id: "a00000000000000000000000000000000", residence_id: victims[0]!.residence_id }] });
    expect(bad.body).toMatchObject({ success: false, code: "not_found", message: "param.accounts[3].account_id: no such account in the residence" });
    expect(project.accounts.size).toBe(120);
    expect(await api.ok(M, "batch_delete_user_info", { project_id: DEMO_PROJECT_ID, accounts: victims })).toEqual({});
    const ids = (await allUsers()).map((u) => u.account_id);
    expect(ids).toHaveLength(117);
    for (const v of victims) expect(ids).not.toContain(v.account_id);
  });

  it("a deleted account takes its credentials along: its PIN can be given to another account", async () => {
    const project = demoProject(sim);
    const holder = accountWithAllCredentials(project);
    const pin = holder.pin_codes[0]!.number;
    const other = first(project.accounts.values(), (a) => a.account_id !== holder.account_id, "other account");
    expect((await api.manager("create_user_pin_code_access_info", { ...accountRef(other), number: pin })).body.code).toBe("conflict");
    await api.ok(M, "delete_user_info", accountRef(holder));
    expect((await api.manager("create_user_pin_code_access_info", { ...accountRef(other), number: pin })).body.success).toBe(true);
  });

  it("update_user_info refuses empty names; update_user_password refuses a password under 8 characters", async () => {
    const account = [...demoProject(sim).accounts.values()][0]!;
    const names = await api.manager("update_user_info", { ...accountRef(account), first_name: " ", last_name: "X" });
    expect(names.body).toMatchObject({ code: "invalid_param", message: "param.first_name must not be empty" });
    const pw = await api.manager("update_user_password", { ...accountRef(account), new_password: "1234567" });
    expect(pw.body).toMatchObject({ code: "invalid_param" });
    expect(account.password_sha256).toBeNull();
  });
});

// ---- credentials ------------------------------------------------------------------------------------------------

describe("credentials", () => {
  const access = (ref: object) => api.ok(M, "get_user_access_info", ref);

  it("PIN code: create → in the access info → delete → gone; a second delete is not_found", async () => {
    const project = demoProject(sim);
    const account = accountWithAllCredentials(project);
    const ref = accountRef(account);
    const number = unusedNumber(project, "pin_codes", 6);
    const before = (await access(ref)).pin_codes;
    const { pin_code_id } = await api.ok(M, "create_user_pin_code_access_info", { ...ref, number });
    expect(pin_code_id).toMatch(vendorId("p"));
    const after = (await access(ref)).pin_codes;
    expect(after).toEqual([...before, { pin_code_id, number, created_time: expect.stringMatching(DATE_TIME), creator: "pm" }]);
    expect(await api.ok(M, "delete_user_pin_code_access_info", { ...ref, pin_code_id })).toEqual({});
    expect((await access(ref)).pin_codes).toEqual(before);
    const again = await api.manager("delete_user_pin_code_access_info", { ...ref, pin_code_id });
    expect(again.body).toMatchObject({ success: false, code: "not_found", message: "param.pin_code_id: no such PIN code on the account" });
  });

  it("a PIN code of another account cannot be deleted through this account", async () => {
    const project = demoProject(sim);
    const holder = accountWithAllCredentials(project);
    const other = first(project.accounts.values(), (a) => a.account_id !== holder.account_id, "other account");
    const a = await api.manager("delete_user_pin_code_access_info", { ...accountRef(other), pin_code_id: holder.pin_codes[0]!.pin_code_id });
    expect(a.body).toMatchObject({ success: false, code: "not_found" });
    expect(holder.pin_codes.length).toBeGreaterThan(0);
  });

  it("RF card: hex numbers, unique in the project whatever their case; create → listed → delete → gone", async () => {
    const project = demoProject(sim);
    const account = accountWithAllCredentials(project);
    const ref = accountRef(account);
    const { rf_card_id } = await api.ok(M, "create_user_rf_card_access_info", { ...ref, number: "00ABCDEF12" });
    expect(rf_card_id).toMatch(vendorId("r"));
    expect((await access(ref)).rf_cards.at(-1)).toMatchObject({ rf_card_id, number: "00ABCDEF12", creator: "pm" });
    const other = first(project.accounts.values(), (a) => a.account_id !== account.account_id, "other account");
    const dup = await api.manager("create_user_rf_card_access_info", { ...accountRef(other), number: "00abcdef12" });
    expect(dup.body).toMatchObject({ success: false, code: "conflict" });
    expect(dup.text.toLowerCase()).not.toContain("00abcdef12");
    const bad = await api.manager("create_user_rf_card_access_info", { ...ref, number: "XYZ123" });
    expect(bad.body).toMatchObject({ code: "invalid_param", message: "param.number must be 4 to 20 hexadecimal digits" });
    expect(await api.ok(M, "delete_user_rf_card_access_info", { ...ref, rf_card_id })).toEqual({});
    expect((await access(ref)).rf_cards.map((c: any) => c.rf_card_id)).not.toContain(rf_card_id);
    expect(projectNumbers(project, "rf_cards").has("00ABCDEF12")).toBe(false);
  });

  it("face: create answers {} and the access info shows the face; one face an account; delete by face_id", async () => {
    const project = demoProject(sim);
    const account = first(project.accounts.values(), (a) => a.faces.length === 0, "account without a face");
    const ref = accountRef(account);
    expect(await api.ok(M, "create_user_face_access_info", { ...ref, face_picture_url: "https://example.org/face.jpg" })).toEqual({});
    const [face] = (await access(ref)).faces;
    expect(face).toEqual({ face_id: expect.stringMatching(vendorId("f")), created_time: expect.stringMatching(DATE_TIME), creator: "pm" });
    const second = await api.manager("create_user_face_access_info", { ...ref, face_picture_url: "https://example.org/other.jpg" });
    expect(second.body).toMatchObject({ success: false, code: "conflict" });
    const badUrl = await api.manager("create_user_face_access_info", { ...ref, face_picture_url: "ftp://example.org/face.jpg" });
    expect(badUrl.body).toMatchObject({ code: "invalid_param", message: "param.face_picture_url must be an http(s) URL" });
    expect(await api.ok(M, "delete_user_face_access_info", { ...ref, face_id: face.face_id })).toEqual({});
    expect((await access(ref)).faces).toEqual([]);
    expect(await api.ok(M, "create_user_face_access_info", { ...ref, face_picture_url: "https://example.org/other.jpg" })).toEqual({});
  });

  it("floor access: replaced by the list given; floors are \"all\" or a floor of the building", async () => {
    const project = demoProject(sim);
    const account = [...project.accounts.values()][0]!;
    const ref = accountRef(account);
    const [b1, b2] = [...project.buildings.values()];
    const floors = [{ building_id: b1!.building_id, floor: "all" }, { building_id: b2!.building_id, floor: String(b2!.floors) }];
    expect(await api.ok(M, "update_user_floor_access_info", { ...ref, floor_accesses: floors })).toEqual({});
    expect((await access(ref)).floor_accesses).toEqual(floors);
    const cases: [unknown, string, string][] = [
      [[{ building_id: b1!.building_id, floor: String(b1!.floors + 1) }], "invalid_param", 'param.floor_accesses[0].floor must be "all" or a floor number of the building'],
      [[{ building_id: b1!.building_id, floor: "0" }], "invalid_param", 'param.floor_accesses[0].floor must be "all" or a floor number of the building'],
      [[floors[0], { building_id: "b00000000000000000000000000000000", floor: "1" }], "not_found", "param.floor_accesses[1].building_id: no such building in the project"],
      [[{ building_id: b1!.building_id, floor: 3 }], "invalid_param", "param.floor_accesses[0].floor must be a string"],
    ];
    for (const [floor_accesses, code, message] of cases) {
      expect((await api.manager("update_user_floor_access_info", { ...ref, floor_accesses })).body).toMatchObject({ success: false, code, message });
    }
    expect((await access(ref)).floor_accesses).toEqual(floors);
  });
});

// ---- residence settings -----------------------------------------------------------------------------------------

describe("residence settings", () => {
  it("private key: update → get answers the new key", async () => {
    const residence = [...demoProject(sim).residences.values()][2]!;
    expect(await api.ok(U, "update_akuvox_open_door_private_key_config", { residence_id: residence.residence_id, private_key: "246810" })).toEqual({});
    expect(await api.ok(U, "get_akuvox_open_door_private_key_config", { residence_id: residence.residence_id })).toEqual({ private_key: "246810" });
  });

  for (const kind of ["nfc", "ble"] as const) {
    it(`${kind.toUpperCase()}: disabling clears the code, enabling makes a 16-hex code, enabling again keeps it`, async () => {
      const residence = first(demoProject(sim).residences.values(), (r) => (kind === "nfc" ? r.nfc.enable_nfc : r.ble.enable_ble), `residence with ${kind} on`);
      const update = `update_akuvox_open_door_${kind}_config`;
      const get = `get_akuvox_open_door_${kind}_config`;
      const code = `${kind}_code`;
      const enable = `enable_${kind}`;
      const id = { residence_id: residence.residence_id };
      expect(await api.ok(U, update, { ...id, [enable]: false })).toEqual({ [code]: "" });
      expect(await api.ok(U, get, id)).toEqual({ [code]: "", [enable]: false });
      const on = await api.ok(U, update, { ...id, [enable]: true });
      expect(on[code]).toMatch(/^[0-9A-F]{16}$/);
      expect(await api.ok(U, get, id)).toEqual({ [code]: on[code], [enable]: true });
      expect(await api.ok(U, update, { ...id, [enable]: true })).toEqual({ [code]: on[code] });
      const typed = await api.user(update, { ...id, [enable]: "yes" });
      expect(typed.body).toMatchObject({ code: "invalid_param", message: `param.${enable} must be a boolean` });
    });
  }

  it("face file: update → uploaded; delete → not uploaded; deleting again succeeds", async () => {
    const residence = first(demoProject(sim).residences.values(), (r) => !r.face_file.is_uploaded, "residence without a face file");
    const id = { residence_id: residence.residence_id };
    expect(await api.ok(U, "get_akuvox_face_file_info", id)).toEqual({ is_uploaded: false });
    expect(await api.ok(U, "update_akuvox_face_file_info", { ...id, filename: "family.jpg" })).toEqual({});
    expect(await api.ok(U, "get_akuvox_face_file_info", id)).toEqual({ is_uploaded: true });
    expect(await api.ok(U, "delete_akuvox_face_file_info", id)).toEqual({});
    expect(await api.ok(U, "get_akuvox_face_file_info", id)).toEqual({ is_uploaded: false });
    expect(await api.ok(U, "delete_akuvox_face_file_info", id)).toEqual({});
    expect((await api.user("update_akuvox_face_file_info", { ...id, filename: "" })).body).toMatchObject({ code: "invalid_param", message: "param.filename must not be empty" });
  });
});

// ---- imports ----------------------------------------------------------------------------------------------------

describe("imports", () => {
  it("each import command answers a fresh task_id and records the task; a non-http URL is invalid_param", async () => {
    const project = demoProject(sim);
    const commands = ["import_user_info", "import_user_pin_code_and_rf_card_access_info", "import_user_face_access_info"];
    const ids: string[] = [];
    for (const command of commands) {
      const { task_id } = await api.ok(M, command, { project_id: DEMO_PROJECT_ID, file_name: `${command}.xlsx`, file_url: `https://files.example.org/${command}.xlsx` });
      expect(task_id).toMatch(vendorId("t"));
      ids.push(task_id);
    }
    expect(new Set(ids).size).toBe(3);
    expect(project.import_tasks.map((t) => [t.task_id, t.command, t.file_name])).toEqual(commands.map((c, i) => [ids[i], c, `${c}.xlsx`]));
    const bad = await api.manager("import_user_info", { project_id: DEMO_PROJECT_ID, file_name: "x", file_url: "file:///etc/passwd" });
    expect(bad.body).toMatchObject({ success: false, code: "invalid_param", message: "param.file_url must be an http(s) URL" });
    const unknown = await api.manager("import_user_face_access_info", { project_id: "pr0", file_name: "x", file_url: "https://files.example.org/x" });
    expect(unknown.body).toMatchObject({ success: false, code: "not_found" });
    expect(project.import_tasks).toHaveLength(3);
  });
});

// ---- remote door opening ----------------------------------------------------------------------------------------

describe("trigger_akuvox_remote_open_door", () => {
  const open = (residence_id: string, mac: string, relay_id: string) => api.user("trigger_akuvox_remote_open_door", { residence_id, mac, relay_id });

  it("opens a relay of a device of the residence: {} and a Remote entry at the head of the open-door history", async () => {
    const project = demoProject(sim);
    const residence = [...project.residences.values()][0]!;
    const entrance = entranceOf(project, residence);
    const admin = adminOf(project, residence)!;
    const before = residence.open_door_history.length;
    const a = await open(residence.residence_id, entrance.mac, entrance.relays[1]!.relay_id);
    expect(a.body).toEqual({ success: true, timestamp: expect.any(Number), result: {} });
    const [latest] = await api.ok(U, "get_akuvox_open_door_history", { residence_id: residence.residence_id });
    expect(latest).toEqual({
      open_door: true,
      account_name: `${admin.first_name} ${admin.last_name}`,
      device_name: entrance.device_name,
      capture_thumbnail_url: "",
      open_door_type: "Remote",
      capture_picture_url: "",
      open_door_time: expect.stringMatching(DATE_TIME),
    });
    expect(residence.open_door_history).toHaveLength(before + 1);
  });

  it("a security relay, a lowercase MAC and a project-wide device are accepted", async () => {
    const project = demoProject(sim);
    const residence = [...project.residences.values()][0]!;
    const entrance = entranceOf(project, residence);
    const mainGate = first(project.devices.values(), (d) => d.device_name === "Main Gate", "Main Gate");
    expect((await open(residence.residence_id, entrance.mac, entrance.security_relays[0]!.relay_id)).body.success).toBe(true);
    expect((await open(residence.residence_id, entrance.mac.toLowerCase(), entrance.relays[0]!.relay_id)).body.success).toBe(true);
    expect((await open(residence.residence_id, mainGate.mac, mainGate.relays[0]!.relay_id)).body.success).toBe(true);
    expect(residence.open_door_history.slice(0, 3).map((h) => h.device_name)).toEqual(["Main Gate", entrance.device_name, entrance.device_name]);
  });

  it("an unknown MAC, a device of another building, a relay of another device → not_found; nothing recorded", async () => {
    const project = demoProject(sim);
    const residence = [...project.residences.values()][0]!;
    const entrance = entranceOf(project, residence);
    const foreign = entranceOf(project, residenceElsewhere(project, residence));
    const cases: [string, string, string][] = [
      ["0C11FFFFFFFF", entrance.relays[0]!.relay_id, "param.mac: no such device for the residence"],
      [foreign.mac, foreign.relays[0]!.relay_id, "param.mac: no such device for the residence"],
      [entrance.mac, foreign.relays[0]!.relay_id, "param.relay_id: no such relay on the device"],
    ];
    const before = residence.open_door_history.length;
    for (const [mac, relay, message] of cases) {
      expect((await open(residence.residence_id, mac, relay)).body).toMatchObject({ success: false, code: "not_found", message, result: null });
    }
    expect(residence.open_door_history).toHaveLength(before);
  });

  it("an offline device → device_offline; nothing recorded", async () => {
    const project = demoProject(sim);
    const { residence, carPark } = residenceWithOfflineCarPark(project);
    const before = residence.open_door_history.length;
    const a = await open(residence.residence_id, carPark.mac, carPark.relays[0]!.relay_id);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ success: false, code: "device_offline", result: null });
    expect(residence.open_door_history).toHaveLength(before);
    // The same building's entrance is online and opens.
    const entrance = entranceOf(project, residence);
    expect((await open(residence.residence_id, entrance.mac, entrance.relays[0]!.relay_id)).body.success).toBe(true);
  });

  it("residence accounts are untouched by door openings (only the history changes)", async () => {
    const project = demoProject(sim);
    const residence = [...project.residences.values()][0]!;
    const accounts = JSON.stringify(residenceAccounts(project, residence.residence_id));
    const entrance = entranceOf(project, residence);
    await open(residence.residence_id, entrance.mac, entrance.relays[0]!.relay_id);
    expect(JSON.stringify(residenceAccounts(project, residence.residence_id))).toBe(accounts);
  });
});
