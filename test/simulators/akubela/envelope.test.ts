/**
 * The Akubela open-ability protocol as the vendor documents and the README describe it: the request
 * `{command, id, param}` with a Bearer token, the success envelope, and the failure envelope
 * `{success: false, timestamp, code, message, result: null}` with its HTTP statuses.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ALL_COMMANDS,
  COMMAND_PATH_PREFIX,
  DEMO_AKUBELA_TOKEN,
  DEMO_PROJECT_ID,
  startAkubelaSimulator,
  type AkubelaSimulator,
} from "../../../src/simulators/akubela/index.js";
import { README_COMMANDS } from "./doc.js";
import { accountRef, accountWithAllCredentials, demoProject, first, secondProject, unusedNumber } from "./fixtures.js";
import { clientFor, keysOf, post, type Client } from "./http.js";

let sim: AkubelaSimulator;
let api: Client;
beforeAll(async () => {
  sim = await startAkubelaSimulator({ quiet: true });
  api = clientFor(sim);
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const userList = (page_index = 1, page_size = 10) => ({ project_id: DEMO_PROJECT_ID, page_size, page_index });
const FAILURE_KEYS = ["code", "message", "result", "success", "timestamp"];

describe("the command table", () => {
  it("answers exactly the 44 commands of the README index, each on its documented endpoint", () => {
    const served = ALL_COMMANDS.map((c) => [c.endpoint, c.name]);
    expect(served).toEqual(README_COMMANDS);
    expect(new Set(ALL_COMMANDS.map((c) => c.name)).size).toBe(44);
  });
});

describe("success envelope", () => {
  it("is {success: true, timestamp (epoch ms, now), result} with HTTP 200 and a JSON content type", async () => {
    const before = Date.now();
    const a = await api.call("manager-commands", "get_user_list", userList());
    const after = Date.now();
    expect(a.status).toBe(200);
    expect(a.headers.get("content-type")).toMatch(/^application\/json/);
    expect(keysOf(a.body)).toEqual(["result", "success", "timestamp"]);
    expect(a.body.success).toBe(true);
    expect(Number.isInteger(a.body.timestamp)).toBe(true);
    expect(a.body.timestamp).toBeGreaterThanOrEqual(before);
    expect(a.body.timestamp).toBeLessThanOrEqual(after);
    expect(a.body.result).toHaveLength(10);
  });

  it("a command answering an empty object answers `result: {}` (not null)", async () => {
    const residence = [...demoProject(sim).residences.values()][0]!;
    const a = await api.user("delete_akuvox_face_file_info", { residence_id: residence.residence_id });
    expect(a.body).toEqual({ success: true, timestamp: expect.any(Number), result: {} });
  });

  it("the id is a correlation id, not an idempotency key: the same id twice is answered twice", async () => {
    const a1 = await api.manager("get_user_list", userList(), { id: "same-id" });
    const a2 = await api.manager("get_user_list", userList(), { id: "same-id" });
    expect([a1.body.success, a2.body.success]).toEqual([true, true]);
    expect(sim.calls("get_user_list").map((r) => r.id)).toEqual(["same-id", "same-id"]);
  });
});

describe("authorization", () => {
  const cases: [string, Record<string, string>][] = [
    ["no Authorization header", {}],
    ["a wrong token", { authorization: "Bearer not-the-token" }],
    ["the right token without the Bearer scheme", { authorization: DEMO_AKUBELA_TOKEN }],
    ["another scheme", { authorization: `Basic ${DEMO_AKUBELA_TOKEN}` }],
    ["an empty Bearer", { authorization: "Bearer " }],
  ];
  it.each(cases)("%s → HTTP 401 with the failure envelope (code unauthorized)", async (_, headers) => {
    const a = await post(sim.url, "manager-commands", { command: "get_user_list", id: "x", param: userList() }, headers);
    expect(a.status).toBe(401);
    expect(keysOf(a.body)).toEqual(FAILURE_KEYS);
    expect(a.body).toMatchObject({ success: false, code: "unauthorized", result: null });
    expect(typeof a.body.timestamp).toBe("number");
    expect(a.body.message).toEqual(expect.any(String));
    expect(a.body.message).not.toContain(DEMO_AKUBELA_TOKEN);
  });

  it("the 401 comes before anything else: a bad body, an unknown command, a write — none is looked at", async () => {
    const key = [...demoProject(sim).visitor_temp_keys.values()][0]!;
    const bad = await api.call("manager-commands", "delete_visitor_temp_key_info", { project_id: DEMO_PROJECT_ID, visitor_temp_key_id: key.visitor_temp_key_id }, "wrong");
    expect(bad.status).toBe(401);
    expect(demoProject(sim).visitor_temp_keys.has(key.visitor_temp_key_id)).toBe(true);
    expect((await post(sim.url, "manager-commands", "{not json", {})).status).toBe(401);
    expect((await api.call("manager-commands", "no_such_command", {}, null)).status).toBe(401);
  });

  it("user-commands check the token too", async () => {
    const residence = [...demoProject(sim).residences.values()][0]!;
    const a = await api.call("user-commands", "get_akuvox_open_door_private_key_config", { residence_id: residence.residence_id }, null);
    expect(a.status).toBe(401);
    expect(a.text).not.toContain(residence.private_key);
  });
});

describe("malformed requests", () => {
  it("a body that is not JSON → HTTP 400 invalid_json with the failure envelope", async () => {
    const a = await post(sim.url, "manager-commands", '{"command": "get_user_list", "id": ', { authorization: `Bearer ${DEMO_AKUBELA_TOKEN}` });
    expect(a.status).toBe(400);
    expect(keysOf(a.body)).toEqual(FAILURE_KEYS);
    expect(a.body).toMatchObject({ success: false, code: "invalid_json", result: null });
  });

  it("a JSON body that is not an object → invalid_request (HTTP 200, success false)", async () => {
    const a = await post(sim.url, "manager-commands", "[1, 2]", { authorization: `Bearer ${DEMO_AKUBELA_TOKEN}` });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ success: false, code: "invalid_request", result: null });
  });

  it("a content type other than JSON → HTTP 415 unsupported_media_type", async () => {
    const a = await post(sim.url, "manager-commands", JSON.stringify({ command: "get_user_list", id: "x", param: userList() }), {
      authorization: `Bearer ${DEMO_AKUBELA_TOKEN}`,
      "content-type": "text/plain",
    });
    expect(a.status).toBe(415);
    expect(a.body).toMatchObject({ success: false, code: "unsupported_media_type" });
  });

  it("no id, an empty id or a null id → invalid_request naming id", async () => {
    for (const opts of [{ omitId: true }, { id: "" }, { id: null }]) {
      const a = await api.manager("get_user_list", userList(), opts);
      expect(a.status).toBe(200);
      expect(keysOf(a.body)).toEqual(FAILURE_KEYS);
      expect(a.body).toMatchObject({ success: false, code: "invalid_request", message: "id is required", result: null });
    }
  });

  it("no command → invalid_request naming command", async () => {
    const a = await post(sim.url, "manager-commands", { id: "x", param: userList() }, { authorization: `Bearer ${DEMO_AKUBELA_TOKEN}` });
    expect(a.body).toMatchObject({ success: false, code: "invalid_request", message: "command is required" });
  });

  it("an unknown command → command_not_found on either endpoint", async () => {
    for (const endpoint of ["manager-commands", "user-commands"] as const) {
      const a = await api.call(endpoint, "get_everything", {});
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ success: false, code: "command_not_found", message: "unknown command get_everything", result: null });
    }
  });

  it("a command sent to the wrong endpoint → command_not_found, the message naming the right endpoint", async () => {
    const residence = [...demoProject(sim).residences.values()][0]!;
    const userOnManager = await api.manager("get_akuvox_device_list", { residence_id: residence.residence_id });
    expect(userOnManager.body).toMatchObject({ success: false, code: "command_not_found" });
    expect(userOnManager.body.message).toContain("user-commands");
    const managerOnUser = await api.user("get_user_list", userList());
    expect(managerOnUser.body).toMatchObject({ success: false, code: "command_not_found" });
    expect(managerOnUser.body.message).toContain("manager-commands");
    expect(managerOnUser.body.message).not.toContain("user-commands");
  });

  it("an unknown path, or a GET on a command endpoint → HTTP 404 route_not_found", async () => {
    const wrongPath = await post(sim.url, "admin-commands", { command: "get_user_list", id: "x", param: userList() }, { authorization: `Bearer ${DEMO_AKUBELA_TOKEN}` });
    expect(wrongPath.status).toBe(404);
    expect(wrongPath.body).toMatchObject({ success: false, code: "route_not_found" });
    const get = await fetch(`${sim.url}${COMMAND_PATH_PREFIX}manager-commands`, { headers: { authorization: `Bearer ${DEMO_AKUBELA_TOKEN}` } });
    expect(get.status).toBe(404);
    await get.text();
  });
});

describe("parameter validation (invalid_param names the path, never the value)", () => {
  it("no param at all → param is required", async () => {
    const a = await api.manager("get_user_list", undefined);
    expect(a.body).toMatchObject({ success: false, code: "invalid_param", message: "param is required", result: null });
  });

  it("a missing required parameter is named by its path", async () => {
    const a = await api.manager("get_user_list", { project_id: DEMO_PROJECT_ID, page_size: 10 });
    expect(a.status).toBe(200);
    expect(keysOf(a.body)).toEqual(FAILURE_KEYS);
    expect(a.body).toMatchObject({ success: false, code: "invalid_param", message: "param.page_index is required", result: null });
  });

  it("every problem is listed, each with its path", async () => {
    const a = await api.manager("get_user_list", { page_size: "ten", page_index: 0 });
    expect(a.body.code).toBe("invalid_param");
    expect(a.body.message!.split("; ")).toEqual([
      "param.project_id is required",
      "param.page_size must be an integer",
      "param.page_index must be at least 1",
    ]);
  });

  it("nested paths: devices[0].mac of create_visitor_temp_key_info, param[1].email of batch_create_user_info", async () => {
    const v = await api.manager("create_visitor_temp_key_info", {
      project_id: DEMO_PROJECT_ID,
      visitor_temp_key_name: "x",
      residence_id: "r",
      family_name: "f",
      residence_no: "101",
      building_id: "b",
      building_name: "B",
      repeat_mode: "monthly",
      start_time: "25:00:00",
      finish_time: "10:00:00",
      devices: [{ building_id: "b", device_id: "d", relays: [{}], security_relays: [] }],
    });
    expect(v.body.code).toBe("invalid_param");
    expect(v.body.message!.split("; ")).toEqual([
      "param.repeat_mode must be one of: never, daily, weekly",
      "param.start_time must be a time of day HH:mm:ss",
      "param.devices[0].mac is required",
      "param.devices[0].relays[0].relay_id is required",
    ]);
    const account = [...demoProject(sim).accounts.values()][0]!;
    const item = { project_id: DEMO_PROJECT_ID, residence_id: account.residence_id, building_id: account.building_id, first_name: "A", last_name: "B", email: "a.b@example.org", auth: "guest" };
    const b = await api.manager("batch_create_user_info", [item, { ...item, email: undefined }]);
    expect(b.body).toMatchObject({ code: "invalid_param", message: "param[1].email is required" });
  });

  it("batch_create_user_info wants an array: an object param is invalid_param", async () => {
    const account = [...demoProject(sim).accounts.values()][0]!;
    const a = await api.manager("batch_create_user_info", {
      project_id: DEMO_PROJECT_ID, residence_id: account.residence_id, building_id: account.building_id,
      first_name: "A", last_name: "B", email: "a.b@example.org", auth: "guest",
    });
    expect(a.body).toMatchObject({ success: false, code: "invalid_param", message: "param must be an array" });
  });

  it("a PIN code of the wrong type or format is rejected without echoing it", async () => {
    const account = accountWithAllCredentials(demoProject(sim));
    const ref = accountRef(account);
    const typed = await api.manager("create_user_pin_code_access_info", { ...ref, number: 73914682 });
    expect(typed.body).toMatchObject({ success: false, code: "invalid_param", message: "param.number must be a string" });
    expect(typed.text).not.toContain("73914682");
    const format = await api.manager("create_user_pin_code_access_info", { ...ref, number: "7391x682" });
    expect(format.body).toMatchObject({ success: false, code: "invalid_param", message: "param.number must be 4 to 8 digits" });
    expect(format.text).not.toContain("7391x682");
    expect(account.pin_codes.map((c) => c.number)).not.toContain("7391x682");
  });

  it("a PIN already used in the project is a conflict whose message does not carry the PIN", async () => {
    const project = demoProject(sim);
    const holder = accountWithAllCredentials(project);
    const taken = holder.pin_codes[0]!.number;
    const other = first(project.accounts.values(), (a) => a.account_id !== holder.account_id, "second account");
    const a = await api.manager("create_user_pin_code_access_info", { ...accountRef(other), number: taken });
    expect(a.body).toMatchObject({ success: false, code: "conflict", result: null });
    expect(a.body.message).toContain("param.number");
    expect(a.text).not.toContain(taken);
  });

  it("secrets in other commands are not echoed either: private key, password", async () => {
    const residence = [...demoProject(sim).residences.values()][0]!;
    const key = await api.user("update_akuvox_open_door_private_key_config", { residence_id: residence.residence_id, private_key: "98a7654" });
    expect(key.body).toMatchObject({ code: "invalid_param", message: "param.private_key must be 4 to 8 digits" });
    expect(key.text).not.toContain("98a7654");
    const account = [...demoProject(sim).accounts.values()][0]!;
    const pw = await api.manager("update_user_password", { ...accountRef(account), new_password: "Sh0rt!" });
    expect(pw.body).toMatchObject({ code: "invalid_param", message: "param.new_password must be 8 to 64 characters long" });
    expect(pw.text).not.toContain("Sh0rt!");
  });
});

describe("business failures (HTTP 200, success false)", () => {
  it("an unknown project → not_found naming param.project_id", async () => {
    const a = await api.manager("get_user_list", { project_id: "pr00000000000000000000000000000000", page_size: 10, page_index: 1 });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ success: false, code: "not_found", message: "param.project_id: no such project", result: null });
  });

  it("projects are scoped: an account of the second project is not found through the demo project", async () => {
    const foreign = [...secondProject(sim).accounts.values()][0]!;
    const a = await api.manager("get_user_info", { ...accountRef(foreign), project_id: DEMO_PROJECT_ID });
    expect(a.body).toMatchObject({ success: false, code: "not_found" });
    const own = await api.manager("get_user_info", accountRef(foreign));
    expect(own.body.success).toBe(true);
    expect(own.body.result.email).toBe(foreign.email);
  });

  it("an account named with another residence's id → not_found naming param.account_id", async () => {
    const project = demoProject(sim);
    const account = [...project.accounts.values()][0]!;
    const otherResidence = first(project.residences.values(), (r) => r.residence_id !== account.residence_id, "other residence");
    const a = await api.manager("get_user_info", { ...accountRef(account), residence_id: otherResidence.residence_id });
    expect(a.body).toMatchObject({ success: false, code: "not_found", message: "param.account_id: no such account in the residence" });
  });

  it("an unknown residence on user-commands → not_found naming param.residence_id", async () => {
    const a = await api.user("get_akuvox_device_list", { residence_id: "r00000000000000000000000000000000" });
    expect(a.body).toMatchObject({ success: false, code: "not_found", message: "param.residence_id: no such residence" });
  });

  it("a new PIN that is free in the project is accepted (the conflict test above is not vacuous)", async () => {
    const project = demoProject(sim);
    const account = accountWithAllCredentials(project);
    const number = unusedNumber(project, "pin_codes", 6);
    const a = await api.manager("create_user_pin_code_access_info", { ...accountRef(account), number });
    expect(a.body.success).toBe(true);
  });
});
