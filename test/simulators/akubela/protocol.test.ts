import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ALL_COMMANDS,
  COMMAND_PATH_PREFIX,
  createAkubelaSeed,
  DEMO_AKUBELA_TOKEN,
  DEMO_PROJECT_ID,
  startAkubelaSimulator,
  type AkubelaSimulator,
} from "../../../src/simulators/akubela/index.js";

let sim: AkubelaSimulator;
beforeAll(async () => {
  sim = await startAkubelaSimulator({ quiet: true });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

async function call(endpoint: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${sim.url}${COMMAND_PATH_PREFIX}${endpoint}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${DEMO_AKUBELA_TOKEN}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}
const command = (name: string, param: unknown, endpoint = "manager-commands") => call(endpoint, { command: name, id: "c1", param });

describe("Akubela simulator: the protocol of the vendor-docs README", () => {
  it("answers all 44 commands of the two endpoints (rows 1–44)", () => {
    expect(ALL_COMMANDS).toHaveLength(44);
    expect(ALL_COMMANDS.filter((c) => c.endpoint === "user-commands")).toHaveLength(18);
  });

  it("the success envelope: success, a numeric timestamp, result", async () => {
    const { status, body } = await command("get_visitor_temp_key_device_list", { project_id: DEMO_PROJECT_ID });
    expect(status).toBe(200);
    expect(body.success).toBe(true);
    expect(typeof body.timestamp).toBe("number");
    expect(Array.isArray(body.result)).toBe(true);
  });

  it("the Bearer check: missing or wrong → HTTP 401 with the failure envelope", async () => {
    for (const headers of [{ authorization: "" }, { authorization: "Bearer wrong" }]) {
      const { status, body } = await call("manager-commands", { command: "get_user_list", id: "x", param: {} }, headers);
      expect(status).toBe(401);
      expect(body).toMatchObject({ success: false, code: "unauthorized", result: null });
    }
  });

  it("a body that is not JSON → 400 invalid_json; no id → invalid_request; unknown or misplaced command → command_not_found", async () => {
    expect(await call("manager-commands", "{not json")).toMatchObject({ status: 400, body: { success: false, code: "invalid_json" } });
    expect((await call("manager-commands", { command: "get_user_list", param: {} })).body).toMatchObject({ success: false, code: "invalid_request", message: "id is required" });
    expect((await command("no_such_command", {})).body).toMatchObject({ code: "command_not_found", message: "unknown command no_such_command" });
    expect((await command("get_akuvox_device_list", { residence_id: "r" })).body).toMatchObject({
      code: "command_not_found",
      message: "command get_akuvox_device_list is answered on user-commands",
    });
  });

  it("a missing or ill-typed parameter → success: false, invalid_param, the parameter named and its value never echoed", async () => {
    const missing = await command("get_user_list", { project_id: DEMO_PROJECT_ID, page_size: 10 });
    expect(missing.body).toMatchObject({ success: false, code: "invalid_param", message: "param.page_index is required" });
    const typed = await command("get_user_list", { project_id: DEMO_PROJECT_ID, page_size: "ten", page_index: 1 });
    expect(typed.body.code).toBe("invalid_param");
    expect(typed.body.message).toMatch(/^param\.page_size /);
    const account = [...sim.state.projects.get(DEMO_PROJECT_ID)!.accounts.values()][0];
    const pin = await command("create_user_pin_code_access_info", { project_id: DEMO_PROJECT_ID, residence_id: account.residence_id, account_id: account.account_id, number: "12ab-SECRET" });
    expect(pin.body.code).toBe("invalid_param");
    expect(JSON.stringify(pin.body)).not.toContain("12ab-SECRET");
  });

  it("paging: page_index from 1, page_size clamped to 100, a short page is the last, past the end is []", async () => {
    const total = sim.state.projects.get(DEMO_PROJECT_ID)!.accounts.size;
    const first = await command("get_user_list", { project_id: DEMO_PROJECT_ID, page_size: 500, page_index: 1 });
    expect(first.body.result).toHaveLength(100);
    const second = await command("get_user_list", { project_id: DEMO_PROJECT_ID, page_size: 100, page_index: 2 });
    expect(second.body.result).toHaveLength(total - 100);
    expect((await command("get_user_list", { project_id: DEMO_PROJECT_ID, page_size: 100, page_index: 9 })).body.result).toEqual([]);
  });

  it("the documents' quirks: visitor key info as an array of one; doorphones send rtsp, other devices rtsp_url; batch create takes an array", async () => {
    const project = sim.state.projects.get(DEMO_PROJECT_ID)!;
    const key = [...project.visitor_temp_keys.values()][0];
    const info = await command("get_visitor_temp_key_info", { project_id: DEMO_PROJECT_ID, visitor_temp_key_id: key.visitor_temp_key_id });
    expect(Array.isArray(info.body.result)).toBe(true);
    expect(info.body.result).toHaveLength(1);
    const residence = [...project.residences.values()].find((r) => [...project.devices.values()].some((d) => d.residence_id === r.residence_id))!;
    const devices = (await command("get_akuvox_device_list", { residence_id: residence.residence_id }, "user-commands")).body.result as Record<string, unknown>[];
    const doorphone = devices.find((d) => /Doorphone/.test(String(d.device_type)));
    const other = devices.find((d) => !/Doorphone/.test(String(d.device_type)));
    expect(doorphone).toHaveProperty("rtsp");
    expect(doorphone).not.toHaveProperty("rtsp_url");
    expect(other).toHaveProperty("rtsp_url");
    const account = [...project.accounts.values()][0];
    const batch = await call("manager-commands", {
      command: "batch_create_user_info",
      id: "b1",
      param: [{ project_id: DEMO_PROJECT_ID, residence_id: account.residence_id, building_id: account.building_id, first_name: "A", last_name: "B", email: "ab@example.org", auth: "guest" }],
    });
    expect(batch.body).toMatchObject({ success: true });
    expect([...project.accounts.values()].some((a) => a.email === "ab@example.org")).toBe(true);
  });

  it("records what it received, with faults and the answered status", async () => {
    sim.clearReceived();
    sim.injectFault({ kind: "http_error", status: 503, command: "get_user_list", times: 1 });
    await command("get_user_list", { project_id: DEMO_PROJECT_ID, page_size: 10, page_index: 1 });
    await command("get_user_list", { project_id: DEMO_PROJECT_ID, page_size: 10, page_index: 1 });
    expect(sim.received().map((r) => [r.command, r.id, r.status, r.fault, r.authorization])).toEqual([
      ["get_user_list", "c1", 503, "http_error", `Bearer ${DEMO_AKUBELA_TOKEN}`],
      ["get_user_list", "c1", 200, undefined, `Bearer ${DEMO_AKUBELA_TOKEN}`],
    ]);
    const control = (await (await fetch(`${sim.url}/__sim/received`)).json()) as { authorization: string }[];
    expect(control.map((r) => r.authorization)).toEqual(["(present)", "(present)"]);
  });

  it("the seed: a realistic property, the same for the same seed", () => {
    const state = createAkubelaSeed();
    const project = state.projects.get(DEMO_PROJECT_ID)!;
    const accounts = [...project.accounts.values()];
    expect(project.buildings.size).toBeGreaterThanOrEqual(3);
    expect(project.residences.size).toBeGreaterThanOrEqual(40);
    expect(accounts.length).toBeGreaterThanOrEqual(100);
    expect(accounts.filter((a) => a.pin_codes.length + a.rf_cards.length + a.faces.length > 0).length).toBeGreaterThan(50);
    const devices = [...project.devices.values()];
    expect(devices.some((d) => d.relays.length > 0 && d.security_relays.length > 0)).toBe(true);
    expect([...project.visitor_temp_keys.values()].some((k) => k.history.length > 0)).toBe(true);
    expect(JSON.stringify([...createAkubelaSeed().projects.get(DEMO_PROJECT_ID)!.accounts.keys()])).toBe(JSON.stringify(accounts.map((a) => a.account_id)));
  });
});
