/**
 * The seeded demo property: realistic enough for the demo and the tests (≥ 1 project, ≥ 3 buildings, ≥ 40
 * residences, ≥ 100 accounts with credentials, devices with relays and security relays, visitor temp keys with
 * history), consistent with itself, and deterministic (the same seed builds the same state).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createAkubelaSeed,
  DEMO_PROJECT_ID,
  DEMO_SECOND_PROJECT_ID,
  residenceAccounts,
  residenceDevices,
  startAkubelaSimulator,
  type AkubelaSimulator,
  type Project,
} from "../../../src/simulators/akubela/index.js";
import { DATE_TIME, TIME_OF_DAY } from "./doc.js";
import { clientFor, type Client } from "./http.js";

const state = createAkubelaSeed();
const demo: Project = state.projects.get(DEMO_PROJECT_ID)!;
const accounts = [...demo.accounts.values()];
const residences = [...demo.residences.values()];
const devices = [...demo.devices.values()];
const keys = [...demo.visitor_temp_keys.values()];

describe("the demo property", () => {
  it("has the demo project and a second one", () => {
    expect([...state.projects.keys()]).toEqual([DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID]);
    expect(DEMO_PROJECT_ID).toMatch(/^pr[0-9a-f]{31}$/);
    expect(demo.project_name).toBe("Riverside Gardens");
  });

  it("≥ 3 buildings, ≥ 40 residences spread over them, ≥ 100 accounts", () => {
    expect(demo.buildings.size).toBeGreaterThanOrEqual(3);
    expect(residences.length).toBeGreaterThanOrEqual(40);
    expect(accounts.length).toBeGreaterThanOrEqual(100);
    expect([demo.buildings.size, residences.length, accounts.length]).toEqual([4, 48, 120]);
    for (const b of demo.buildings.values()) {
      const own = residences.filter((r) => r.building_id === b.building_id);
      expect(own.length).toBeGreaterThanOrEqual(10);
      expect(new Set(own.map((r) => r.residence_no)).size).toBe(own.length); // residence numbers unique per building
      for (const r of own) {
        expect(r.floor).toBeGreaterThanOrEqual(1);
        expect(r.floor).toBeLessThanOrEqual(b.floors);
      }
    }
  });

  it("every residence has 1–3 accounts, exactly one admin, and its family name", () => {
    for (const r of residences) {
      const members = residenceAccounts(demo, r.residence_id);
      expect(members.length).toBeGreaterThanOrEqual(1);
      expect(members.length).toBeLessThanOrEqual(3);
      expect(members.filter((a) => a.auth === "admin")).toHaveLength(1);
      expect(r.family_name).toBe(`${members[0]!.last_name} Family`);
    }
  });

  it("accounts are realistic: unique emails as logins, documented enums, a system access group, a floor", () => {
    expect(new Set(accounts.map((a) => a.email.toLowerCase())).size).toBe(accounts.length);
    for (const a of accounts) {
      expect(a.account_name).toBe(a.email);
      expect(a.email).toMatch(/^[^\s@]+@[^\s@]+\.[^\s@]+$/);
      expect(["admin", "user", "guest"]).toContain(a.auth);
      expect(["normal", "inactivated", "expired"]).toContain(a.payment_status);
      expect(a.created_time).toMatch(DATE_TIME);
      expect(a.building_id).toBe(demo.residences.get(a.residence_id)!.building_id);
      const group = demo.access_groups.get(a.access_group_ids[0]!)!;
      expect(group.access_group_id).toBe(demo.buildings.get(a.building_id)!.system_access_group_id);
      expect(a.floor_accesses.length).toBeGreaterThan(0);
    }
    expect(new Set(accounts.map((a) => a.payment_status)).size).toBe(3);
  });

  it("most accounts hold credentials: PIN codes, RF cards, faces; numbers unique in the project", () => {
    const withCredential = accounts.filter((a) => a.pin_codes.length + a.rf_cards.length + a.faces.length > 0);
    expect(withCredential.length).toBeGreaterThanOrEqual(100);
    expect(accounts.filter((a) => a.pin_codes.length > 0).length).toBeGreaterThanOrEqual(50);
    expect(accounts.filter((a) => a.rf_cards.length > 0).length).toBeGreaterThanOrEqual(50);
    expect(accounts.filter((a) => a.faces.length > 0).length).toBeGreaterThanOrEqual(30);
    const pins = accounts.flatMap((a) => a.pin_codes.map((c) => c.number));
    const cards = accounts.flatMap((a) => a.rf_cards.map((c) => c.number));
    expect(new Set(pins).size).toBe(pins.length);
    expect(new Set(cards).size).toBe(cards.length);
    for (const pin of pins) expect(pin).toMatch(/^\d{4,8}$/);
    for (const card of cards) expect(card).toMatch(/^[0-9A-Fa-f]{4,20}$/);
  });

  it("devices: each building has a doorphone with relays and a security relay; each residence an indoor monitor", () => {
    for (const b of demo.buildings.values()) {
      const entrance = devices.find((d) => d.building_id === b.building_id && d.scope === "building" && d.device_type === "Multi-tenants Doorphone");
      expect(entrance).toBeDefined();
      expect(entrance!.relays.length).toBeGreaterThanOrEqual(1);
      expect(entrance!.security_relays.length).toBeGreaterThanOrEqual(1);
    }
    for (const r of residences) {
      expect(devices.filter((d) => d.residence_id === r.residence_id && d.device_type === "Indoor Monitor")).toHaveLength(1);
      expect(residenceDevices(demo, r).filter((d) => d.relays.length > 0).length).toBeGreaterThanOrEqual(2);
    }
    expect(new Set(devices.map((d) => d.device_type))).toEqual(
      new Set(["Multi-tenants Doorphone", "Single-tenant Doorphone", "Indoor Monitor", "Guard Phone", "Access Control"]),
    );
    expect(devices.some((d) => !d.online)).toBe(true); // an offline device to test against
    expect(devices.filter((d) => d.online).length).toBeGreaterThan(devices.length * 0.8);
  });

  it("device identifiers are unique over the whole simulator (MAC, SIP) and relay ids unique", () => {
    const all = [...state.projects.values()].flatMap((p) => [...p.devices.values()]);
    for (const d of all) expect(d.mac).toMatch(/^[0-9A-F]{12}$/);
    expect(new Set(all.map((d) => d.mac)).size).toBe(all.length);
    expect(new Set(all.map((d) => d.sip)).size).toBe(all.length);
    const relays = all.flatMap((d) => [...d.relays, ...d.security_relays].map((r) => r.relay_id));
    expect(new Set(relays).size).toBe(relays.length);
  });

  it("visitor temp keys with history: ≥ 20 keys, most with door openings after their creation", () => {
    expect(keys.length).toBeGreaterThanOrEqual(20);
    expect(keys.filter((k) => k.history.length > 0).length).toBeGreaterThanOrEqual(keys.length / 2);
    const numbers = keys.map((k) => k.visitor_temp_key_number);
    expect(new Set(numbers).size).toBe(numbers.length);
    for (const k of keys) {
      expect(k.visitor_temp_key_number).toMatch(/^\d{8}$/);
      expect(k.start_time).toMatch(TIME_OF_DAY);
      expect(k.finish_time > k.start_time).toBe(true);
      expect(k.repeat_mode === "weekly").toBe(k.available_days.length > 0);
      const residence = demo.residences.get(k.residence_id)!;
      expect([k.family_name, k.residence_no, k.building_id]).toEqual([residence.family_name, residence.residence_no, residence.building_id]);
      for (const kd of k.devices) {
        const d = demo.devices.get(kd.device_id)!;
        expect(d.is_public).toBe(true);
        for (const id of kd.relay_ids) expect(d.relays.map((r) => r.relay_id)).toContain(id);
        for (const id of kd.security_relay_ids) expect(d.security_relays.map((r) => r.relay_id)).toContain(id);
      }
      for (const h of k.history) expect(h.open_door_time > k.created_time).toBe(true);
    }
  });

  it("residences have histories, temp keys, and a mix of NFC / BLE / face file settings", () => {
    expect(residences.filter((r) => r.call_history.length > 0).length).toBeGreaterThan(40);
    expect(residences.filter((r) => r.open_door_history.length > 0).length).toBeGreaterThan(40);
    expect(residences.filter((r) => r.temp_keys.length > 0).length).toBeGreaterThan(20);
    expect(new Set(residences.map((r) => r.nfc.enable_nfc))).toEqual(new Set([true, false]));
    expect(new Set(residences.map((r) => r.ble.enable_ble))).toEqual(new Set([true, false]));
    expect(new Set(residences.map((r) => r.face_file.is_uploaded))).toEqual(new Set([true, false]));
    const tempKeys = residences.flatMap((r) => r.temp_keys);
    for (const t of tempKeys) {
      expect(t.temp_key).toMatch(/^\d{8}$/);
      expect(t.start_time).toMatch(DATE_TIME);
      expect(t.finish_time > t.start_time).toBe(true);
    }
    // Temp keys and visitor keys share one number space in the project.
    const all = [...tempKeys.map((t) => t.temp_key), ...keys.map((k) => k.visitor_temp_key_number)];
    expect(new Set(all).size).toBe(all.length);
  });
});

describe("determinism", () => {
  it("the same seed builds the same state", () => {
    expect(createAkubelaSeed()).toEqual(state);
    expect(createAkubelaSeed({ seed: 7, accounts: 150 })).toEqual(createAkubelaSeed({ seed: 7, accounts: 150 }));
  });

  it("another seed builds another property of the same size", () => {
    const other = createAkubelaSeed({ seed: 7 }).projects.get(DEMO_PROJECT_ID)!;
    expect(other.accounts.size).toBe(120);
    expect([...other.accounts.keys()]).not.toEqual([...demo.accounts.keys()]);
    expect([...other.devices.values()].map((d) => d.mac)).not.toEqual(devices.map((d) => d.mac));
  });

  it("the account count scales the property; the second project does not change with it", () => {
    const big = createAkubelaSeed({ accounts: 1000 });
    const project = big.projects.get(DEMO_PROJECT_ID)!;
    expect(project.accounts.size).toBe(1000);
    expect(project.residences.size).toBe(400);
    expect(project.buildings.size).toBe(Math.ceil(400 / 48));
    expect(big.projects.get(DEMO_SECOND_PROJECT_ID)).toEqual(state.projects.get(DEMO_SECOND_PROJECT_ID));
  });

  it("rejects a seed that is not an integer and an account count below 1", () => {
    expect(() => createAkubelaSeed({ seed: 1.5 })).toThrow(RangeError);
    expect(() => createAkubelaSeed({ accounts: 0 })).toThrow(RangeError);
  });
});

describe("a simulator serves the seed it was given", () => {
  let sim: AkubelaSimulator;
  let api: Client;
  beforeAll(async () => {
    sim = await startAkubelaSimulator({ quiet: true, seed: { seed: 99, accounts: 130 } });
    api = clientFor(sim);
  });
  afterAll(() => sim.close());

  it("its state equals createAkubelaSeed with the same options, and the user list walks all of it", async () => {
    const expected = createAkubelaSeed({ seed: 99, accounts: 130 });
    expect(sim.state).toEqual(expected);
    const ids: string[] = [];
    for (let page = 1; ; page++) {
      const rows = await api.ok("manager-commands", "get_user_list", { project_id: DEMO_PROJECT_ID, page_size: 100, page_index: page });
      ids.push(...rows.map((r: { account_id: string }) => r.account_id));
      if (rows.length < 100) break;
    }
    expect(ids).toEqual([...expected.projects.get(DEMO_PROJECT_ID)!.accounts.keys()]);
    expect(ids).toHaveLength(130);
    sim.reset();
    expect(sim.state).toEqual(expected);
  });
});
