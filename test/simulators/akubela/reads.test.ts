/**
 * The read commands in depth: paging as the README describes it (page_index from 1, page_size clamped to 100, a short
 * page is the last, past the end is []), ordering, project scoping, and the documents' quirks.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  DEMO_PROJECT_ID,
  DEMO_SECOND_PROJECT_ID,
  publicDevices,
  residenceDevices,
  startAkubelaSimulator,
  type AkubelaSimulator,
} from "../../../src/simulators/akubela/index.js";
import { demoProject, entranceOf, first, residenceElsewhere, secondProject } from "./fixtures.js";
import { clientFor, type Client } from "./http.js";

let sim: AkubelaSimulator;
let api: Client;
beforeAll(async () => {
  sim = await startAkubelaSimulator({ quiet: true });
  api = clientFor(sim);
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const users = (page_index: number, page_size: number, project_id = DEMO_PROJECT_ID) =>
  api.ok("manager-commands", "get_user_list", { project_id, page_index, page_size });
const visitorKeys = (page_index: number, page_size: number) =>
  api.ok("manager-commands", "get_visitor_temp_key_list", { project_id: DEMO_PROJECT_ID, page_index, page_size });

describe("get_user_list paging", () => {
  it("page_size 100: a full first page, a short second page (the last), then []", async () => {
    const ids = [...demoProject(sim).accounts.keys()];
    expect(ids).toHaveLength(120);
    const p1 = await users(1, 100);
    const p2 = await users(2, 100);
    const p3 = await users(3, 100);
    expect(p1.map((u: any) => u.account_id)).toEqual(ids.slice(0, 100));
    expect(p2.map((u: any) => u.account_id)).toEqual(ids.slice(100));
    expect(p2).toHaveLength(20);
    expect(p3).toEqual([]);
  });

  it("page_size 500 is clamped to 100, for the page length and for the offset of later pages", async () => {
    const ids = [...demoProject(sim).accounts.keys()];
    expect((await users(1, 500)).map((u: any) => u.account_id)).toEqual(ids.slice(0, 100));
    expect((await users(2, 500)).map((u: any) => u.account_id)).toEqual(ids.slice(100, 200));
    expect(await users(3, 500)).toEqual([]);
  });

  it("walking small pages until a short one yields every account once, in list order", async () => {
    const ids = [...demoProject(sim).accounts.keys()];
    const seen: string[] = [];
    let pages = 0;
    for (let page = 1; ; page++) {
      const rows = await users(page, 7);
      pages++;
      seen.push(...rows.map((u: any) => u.account_id));
      if (rows.length < 7) break;
    }
    expect(pages).toBe(Math.ceil(120 / 7)); // 120 = 17 × 7 + 1: the 18th page holds one
    expect(seen).toEqual(ids);
  });

  it("a page far past the end is [], not an error", async () => {
    expect(await users(1000, 10)).toEqual([]);
  });

  it("page_size 0 and page_index 0 are invalid_param", async () => {
    const a = await api.manager("get_user_list", { project_id: DEMO_PROJECT_ID, page_index: 0, page_size: 0 });
    expect(a.body).toMatchObject({ success: false, code: "invalid_param", message: "param.page_size must be at least 1; param.page_index must be at least 1" });
  });

  it("the second project lists its own six accounts only", async () => {
    const rows = await users(1, 100, DEMO_SECOND_PROJECT_ID);
    expect(rows.map((u: any) => u.account_id)).toEqual([...secondProject(sim).accounts.keys()]);
    expect(rows).toHaveLength(6);
    expect(new Set(rows.map((u: any) => u.region))).toEqual(new Set(["Ireland"]));
  });
});

describe("visitor temp keys", () => {
  it("get_visitor_temp_key_list pages the 25 keys in creation order: 10, 10, 5, then []", async () => {
    const ids = [...demoProject(sim).visitor_temp_keys.keys()];
    const pages = [await visitorKeys(1, 10), await visitorKeys(2, 10), await visitorKeys(3, 10), await visitorKeys(4, 10)];
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5, 0]);
    expect(pages.flat().map((k: any) => k.visitor_temp_key_id)).toEqual(ids);
    const created = pages.flat().map((k: any) => k.created_time);
    expect(created).toEqual([...created].sort());
  });

  it("weekly keys list their available days in week order; other keys an empty list", async () => {
    const rows = await visitorKeys(1, 100);
    const week = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
    const weekly = rows.filter((k: any) => k.repeat_mode === "weekly");
    expect(weekly.length).toBeGreaterThan(0);
    for (const k of weekly) {
      expect(k.available_days.length).toBeGreaterThan(0);
      expect(k.available_days).toEqual(week.filter((d) => k.available_days.includes(d)));
    }
    for (const k of rows.filter((k: any) => k.repeat_mode !== "weekly")) expect(k.available_days).toEqual([]);
    expect(new Set(rows.map((k: any) => k.repeat_mode))).toEqual(new Set(["never", "daily", "weekly"]));
  });

  it("get_visitor_temp_key_info answers an array of exactly one object, the key's own", async () => {
    for (const key of [...demoProject(sim).visitor_temp_keys.values()].slice(0, 5)) {
      const result = await api.ok("manager-commands", "get_visitor_temp_key_info", { project_id: DEMO_PROJECT_ID, visitor_temp_key_id: key.visitor_temp_key_id });
      expect(result).toHaveLength(1);
      expect(result[0]).toMatchObject({ visitor_temp_key_number: key.visitor_temp_key_number, residence_no: key.residence_no, building_id: key.building_id });
    }
  });

  it("info lists only the relays the key opens, while the device list lists them all", async () => {
    const project = demoProject(sim);
    const narrowed = first(
      project.visitor_temp_keys.values(),
      (k) => k.devices.some((kd) => kd.relay_ids.length < project.devices.get(kd.device_id)!.relays.length),
      "key opening some relays of a device only",
    );
    const kd = narrowed.devices.find((x) => x.relay_ids.length < project.devices.get(x.device_id)!.relays.length)!;
    const [info] = await api.ok("manager-commands", "get_visitor_temp_key_info", { project_id: DEMO_PROJECT_ID, visitor_temp_key_id: narrowed.visitor_temp_key_id });
    const device = info.devices.find((d: any) => d.device_id === kd.device_id);
    expect(device.relays.map((r: any) => r.relay_id)).toEqual(project.devices.get(kd.device_id)!.relays.filter((r) => kd.relay_ids.includes(r.relay_id)).map((r) => r.relay_id));
    const all = await api.ok("manager-commands", "get_visitor_temp_key_device_list", { project_id: DEMO_PROJECT_ID });
    expect(all.find((d: any) => d.device_id === kd.device_id).relays).toHaveLength(project.devices.get(kd.device_id)!.relays.length);
  });

  it("an unknown key, or a key of another project → not_found", async () => {
    const unknown = await api.manager("get_visitor_temp_key_info", { project_id: DEMO_PROJECT_ID, visitor_temp_key_id: "v00000000000000000000000000000000" });
    expect(unknown.body).toMatchObject({ success: false, code: "not_found", message: "param.visitor_temp_key_id: no such visitor temp key in the project" });
    const foreign = [...secondProject(sim).visitor_temp_keys.values()][0]!;
    const cross = await api.manager("get_visitor_temp_key_history", { project_id: DEMO_PROJECT_ID, visitor_temp_key_id: foreign.visitor_temp_key_id, page_size: 10, page_index: 1 });
    expect(cross.body).toMatchObject({ success: false, code: "not_found" });
  });

  it("get_visitor_temp_key_history: newest first, after the key's creation, paged like the lists", async () => {
    const key = first(demoProject(sim).visitor_temp_keys.values(), (k) => k.history.length >= 12, "key with 12 history entries");
    const param = (page_index: number) => ({ project_id: DEMO_PROJECT_ID, visitor_temp_key_id: key.visitor_temp_key_id, page_size: 5, page_index });
    const all: any[] = [];
    for (let page = 1; ; page++) {
      const rows = await api.ok("manager-commands", "get_visitor_temp_key_history", param(page));
      all.push(...rows);
      if (rows.length < 5) break;
    }
    expect(all).toEqual(key.history);
    const times = all.map((h) => h.open_door_time);
    expect(times).toEqual([...times].sort().reverse());
    expect(times.every((t) => t > key.created_time)).toBe(true);
    expect(new Set(all.map((h) => h.number))).toEqual(new Set([key.visitor_temp_key_number]));
    expect(new Set(all.map((h) => h.residence_no))).toEqual(new Set([key.residence_no]));
    const openedOn = new Set(key.devices.map((kd) => demoProject(sim).devices.get(kd.device_id)!.device_name));
    for (const h of all) expect(openedOn.has(h.device_name)).toBe(true);
  });

  it("a key without history answers []", async () => {
    const key = first(demoProject(sim).visitor_temp_keys.values(), (k) => k.history.length === 0, "key without history");
    expect(await api.ok("manager-commands", "get_visitor_temp_key_history", { project_id: DEMO_PROJECT_ID, visitor_temp_key_id: key.visitor_temp_key_id, page_size: 10, page_index: 1 })).toEqual([]);
  });

  it("get_visitor_temp_key_device_list: project-wide devices first, then every building's public devices", async () => {
    const project = demoProject(sim);
    const rows = await api.ok("manager-commands", "get_visitor_temp_key_device_list", { project_id: DEMO_PROJECT_ID });
    expect(rows.map((d: any) => d.device_id)).toEqual(publicDevices(project).map((d) => d.device_id));
    expect(rows).toHaveLength(2 + 2 * project.buildings.size);
    expect(rows.slice(0, 2).map((d: any) => [d.building_id, d.building_name])).toEqual([["", ""], ["", ""]]);
    expect(rows.every((d: any) => d.device_type !== "Indoor Monitor")).toBe(true);
    expect(rows.some((d: any) => d.online === false)).toBe(true);
    expect(rows.filter((d: any) => d.security_relays.length > 0)).toHaveLength(project.buildings.size);
  });
});

describe("get_akuvox_device_list", () => {
  it("answers, for every residence: its building's public devices, the project-wide ones, then its own", async () => {
    const project = demoProject(sim);
    for (const residence of project.residences.values()) {
      const rows = await api.ok("user-commands", "get_akuvox_device_list", { residence_id: residence.residence_id });
      const expected = residenceDevices(project, residence);
      expect(rows.map((d: any) => d.mac)).toEqual(expected.map((d) => d.mac));
      expect(rows.map((d: any) => d.is_public)).toEqual(expected.map((d) => d.residence_id === null));
      // The README quirk: doorphones send `rtsp`, the other devices `rtsp_url`, never both.
      for (const d of rows) {
        const doorphone = /Doorphone$/.test(d.device_type);
        expect(["rtsp" in d, "rtsp_url" in d]).toEqual([doorphone, !doorphone]);
        expect(d[doorphone ? "rtsp" : "rtsp_url"]).toMatch(/^rtsp:\/\//);
      }
      expect(rows.filter((d: any) => d.device_type === "Indoor Monitor" && !d.is_public)).toHaveLength(1);
    }
  });

  it("the building entrance has relays and security relays; the indoor monitor has none", async () => {
    const project = demoProject(sim);
    const residence = [...project.residences.values()][0]!;
    const rows = await api.ok("user-commands", "get_akuvox_device_list", { residence_id: residence.residence_id });
    const entrance = rows.find((d: any) => d.mac === entranceOf(project, residence).mac);
    expect(entrance.relays.map((r: any) => r.relay_name)).toEqual(["Front Door", "Side Gate"]);
    expect(entrance.security_relays.map((r: any) => [r.relay_name, r.relay_number])).toEqual([["Fire Exit", "1"]]);
    const monitor = rows.find((d: any) => d.device_type === "Indoor Monitor");
    expect([monitor.relays, monitor.security_relays]).toEqual([[], []]);
  });

  it("a residence of the second project sees no demo project device", async () => {
    const second = secondProject(sim);
    const residence = [...second.residences.values()][0]!;
    const rows = await api.ok("user-commands", "get_akuvox_device_list", { residence_id: residence.residence_id });
    const demoMacs = new Set([...demoProject(sim).devices.values()].map((d) => d.mac));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.some((d: any) => demoMacs.has(d.mac))).toBe(false);
  });
});

describe("check_akuvox_device_permission", () => {
  it("answers in request order, echoing each MAC as sent; true only for the residence's devices", async () => {
    const project = demoProject(sim);
    const residence = [...project.residences.values()][0]!;
    const other = residenceElsewhere(project, residence);
    const ownMonitor = residenceDevices(project, residence).find((d) => d.residence_id === residence.residence_id)!;
    const theirMonitor = residenceDevices(project, other).find((d) => d.residence_id === other.residence_id)!;
    const mainGate = first(project.devices.values(), (d) => d.scope === "project", "project-wide device");
    const macs = [
      entranceOf(project, residence).mac.toLowerCase(),
      entranceOf(project, other).mac,
      ownMonitor.mac,
      theirMonitor.mac,
      mainGate.mac,
      "0C11FFFFFFFF",
    ];
    const result = await api.ok("user-commands", "check_akuvox_device_permission", { residence_id: residence.residence_id, devices: macs.map((mac) => ({ mac })) });
    expect(result).toEqual([
      { permission: true, mac: macs[0] },
      { permission: false, mac: macs[1] },
      { permission: true, mac: macs[2] },
      { permission: false, mac: macs[3] },
      { permission: true, mac: macs[4] },
      { permission: false, mac: "0C11FFFFFFFF" },
    ]);
  });

  it("no devices → []", async () => {
    const residence = [...demoProject(sim).residences.values()][0]!;
    expect(await api.ok("user-commands", "check_akuvox_device_permission", { residence_id: residence.residence_id, devices: [] })).toEqual([]);
  });
});

describe("residence histories and configs", () => {
  it("call history: newest first, every caller a device the residence sees", async () => {
    const project = demoProject(sim);
    const residence = first(project.residences.values(), (r) => r.call_history.length >= 5, "residence with calls");
    const rows = await api.ok("user-commands", "get_akuvox_call_history", { residence_id: residence.residence_id });
    expect(rows).toEqual(residence.call_history);
    const times = rows.map((c: any) => c.call_time);
    expect(times).toEqual([...times].sort().reverse());
    const sips = new Map(residenceDevices(project, residence).map((d) => [d.sip, d.device_name]));
    for (const c of rows) expect(sips.get(c.call_sip)).toBe(c.call_name);
  });

  it("open-door history: newest first, every door one the residence sees", async () => {
    const project = demoProject(sim);
    const residence = first(project.residences.values(), (r) => r.open_door_history.length >= 5, "residence with openings");
    const rows = await api.ok("user-commands", "get_akuvox_open_door_history", { residence_id: residence.residence_id });
    expect(rows).toEqual(residence.open_door_history);
    const times = rows.map((h: any) => h.open_door_time);
    expect(times).toEqual([...times].sort().reverse());
    const doors = new Set(residenceDevices(project, residence).map((d) => d.device_name));
    for (const h of rows) expect(doors.has(h.device_name)).toBe(true);
  });

  it("empty histories and temp key lists answer []", async () => {
    const project = demoProject(sim);
    const noCalls = first(project.residences.values(), (r) => r.call_history.length === 0, "residence without calls");
    expect(await api.ok("user-commands", "get_akuvox_call_history", { residence_id: noCalls.residence_id })).toEqual([]);
    const noKeys = first(project.residences.values(), (r) => r.temp_keys.length === 0, "residence without temp keys");
    expect(await api.ok("user-commands", "get_akuvox_open_door_temp_key_config", { residence_id: noKeys.residence_id })).toEqual([]);
  });

  it("NFC, BLE and face file answer each residence's own setting (enabled and disabled ones)", async () => {
    const project = demoProject(sim);
    const residences = [...project.residences.values()].slice(0, 12);
    for (const r of residences) {
      expect(await api.ok("user-commands", "get_akuvox_open_door_nfc_config", { residence_id: r.residence_id })).toEqual({ nfc_code: r.nfc.nfc_code, enable_nfc: r.nfc.enable_nfc });
      expect(await api.ok("user-commands", "get_akuvox_open_door_ble_config", { residence_id: r.residence_id })).toEqual({ ble_code: r.ble.ble_code, enable_ble: r.ble.enable_ble });
      expect(await api.ok("user-commands", "get_akuvox_face_file_info", { residence_id: r.residence_id })).toEqual({ is_uploaded: r.face_file.is_uploaded });
    }
    expect(new Set(residences.map((r) => r.nfc.enable_nfc))).toEqual(new Set([true, false]));
    expect(new Set(residences.map((r) => r.face_file.is_uploaded))).toEqual(new Set([true, false]));
    for (const r of residences) expect(r.nfc.nfc_code).toMatch(r.nfc.enable_nfc ? /^[0-9A-F]{16}$/ : /^$/);
  });

  it("user-commands find residences of any project (they name no project)", async () => {
    const residence = [...secondProject(sim).residences.values()][0]!;
    expect(await api.ok("user-commands", "get_akuvox_open_door_private_key_config", { residence_id: residence.residence_id })).toEqual({ private_key: residence.private_key });
  });
});

describe("users", () => {
  it("get_user_info and get_user_access_info answer each account's own values", async () => {
    const project = demoProject(sim);
    for (const a of [...project.accounts.values()].filter((_, i) => i % 15 === 0)) {
      const ref = { project_id: DEMO_PROJECT_ID, residence_id: a.residence_id, account_id: a.account_id };
      const info = await api.ok("manager-commands", "get_user_info", ref);
      expect(info).toMatchObject({ email: a.email, account_name: a.account_name, auth: a.auth, payment_status: a.payment_status, family_name: project.residences.get(a.residence_id)!.family_name });
      const access = await api.ok("manager-commands", "get_user_access_info", ref);
      expect(access.pin_codes.map((c: any) => c.number)).toEqual(a.pin_codes.map((c) => c.number));
      expect(access.rf_cards.map((c: any) => c.rf_card_id)).toEqual(a.rf_cards.map((c) => c.rf_card_id));
      expect(access.access_groups[0]).toEqual({ ...project.access_groups.get(project.buildings.get(a.building_id)!.system_access_group_id)!, access_group_type: "system" });
    }
  });

  it("each residence's first account is its admin; auth values are the documented three", async () => {
    const rows = [...(await users(1, 100)), ...(await users(2, 100))];
    expect(new Set(rows.map((u: any) => u.auth))).toEqual(new Set(["admin", "user", "guest"]));
    expect(new Set(rows.map((u: any) => u.payment_status))).toEqual(new Set(["normal", "inactivated", "expired"]));
    const byResidence = new Map<string, any[]>();
    for (const u of rows) byResidence.set(u.residence_id, [...(byResidence.get(u.residence_id) ?? []), u]);
    for (const members of byResidence.values()) {
      expect(members[0].auth).toBe("admin");
      expect(members.filter((m) => m.auth === "admin")).toHaveLength(1);
    }
  });
});
