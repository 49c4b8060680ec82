/**
 * Injected faults (every FaultSpec kind, `times`, `where`, `command`, order), the record of what the simulator
 * received, the control routes, and `reset()`.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createAkubelaSeed,
  DEMO_AKUBELA_TOKEN,
  DEMO_MANAGER_PASSWORD,
  DEMO_MANAGER_USERNAME,
  DEMO_OAUTH_CLIENT_ID,
  DEMO_OAUTH_CLIENT_SECRET,
  DEMO_PROJECT_ID,
  startAkubelaSimulator,
  TOKEN_PATH,
  type AkubelaSimulator,
} from "../../../src/simulators/akubela/index.js";
import { accountRef, demoProject, entranceOf } from "./fixtures.js";
import { clientFor, post, type Client } from "./http.js";

let sim: AkubelaSimulator;
let api: Client;
beforeAll(async () => {
  sim = await startAkubelaSimulator({ quiet: true });
  api = clientFor(sim);
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const page = (page_index = 1) => ({ project_id: DEMO_PROJECT_ID, page_size: 10, page_index });
const listUsers = (page_index = 1, signal?: AbortSignal) => api.manager("get_user_list", page(page_index), { signal });
const BEARER = `Bearer ${DEMO_AKUBELA_TOKEN}`;

describe("fault kinds", () => {
  it("latency: waits latencyMs, then answers normally", async () => {
    sim.injectFault({ kind: "latency", latencyMs: 250, command: "get_user_list" });
    const t0 = performance.now();
    const a = await listUsers();
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(240);
    expect(a.status).toBe(200);
    expect(a.body.success).toBe(true);
    expect(a.body.result).toHaveLength(10);
    expect(sim.received()).toMatchObject([{ command: "get_user_list", status: 200, success: true, fault: "latency" }]);
    const r = sim.received()[0]!;
    expect(r.answeredAt! - r.at).toBeGreaterThanOrEqual(240);
  });

  it("http_error: HTTP 500 with the failure envelope by default", async () => {
    sim.injectFault({ kind: "http_error" });
    const a = await listUsers();
    expect(a.status).toBe(500);
    expect(a.headers.get("retry-after")).toBeNull();
    expect(a.body).toEqual({ success: false, timestamp: expect.any(Number), code: "internal_error", message: "HTTP 500", result: null });
    expect(sim.received()[0]).toMatchObject({ status: 500, success: false, code: "internal_error", fault: "http_error" });
  });

  it("http_error 429: Retry-After: 1 and code too_many_requests", async () => {
    sim.injectFault({ kind: "http_error", status: 429 });
    const a = await listUsers();
    expect(a.status).toBe(429);
    expect(a.headers.get("retry-after")).toBe("1");
    expect(a.body).toMatchObject({ success: false, code: "too_many_requests", result: null });
  });

  it("http_error with a code and message, or with an exact body (a string is sent as is)", async () => {
    sim.injectFault({ kind: "http_error", status: 503, code: "service_unavailable", message: "maintenance", times: 1 });
    sim.injectFault({ kind: "http_error", status: 502, body: "<html>Bad Gateway</html>", times: 1 });
    sim.injectFault({ kind: "http_error", status: 500, body: { error: "boom" }, times: 1 });
    const a = await listUsers();
    expect(a.status).toBe(503);
    expect(a.body).toMatchObject({ success: false, code: "service_unavailable", message: "maintenance" });
    const b = await listUsers();
    expect([b.status, b.text]).toEqual([502, "<html>Bad Gateway</html>"]);
    const c = await listUsers();
    expect([c.status, c.text]).toEqual([500, '{"error":"boom"}']);
  });

  it("vendor_error: HTTP 200 with a custom body, exactly as given", async () => {
    const body = { success: false, timestamp: 1, err_code: "40001", msg: "quota exceeded" };
    sim.injectFault({ kind: "vendor_error", body, times: 1 });
    const a = await listUsers();
    expect(a.status).toBe(200);
    expect(JSON.parse(a.text)).toEqual(body);
    expect(sim.received()[0]).toMatchObject({ status: 200, success: false, fault: "vendor_error" });
  });

  it("vendor_error: HTTP 200 failure envelope with the given code and message (or defaults)", async () => {
    sim.injectFault({ kind: "vendor_error", code: "device_busy", message: "try later", times: 1 });
    sim.injectFault({ kind: "vendor_error", times: 1 });
    const a = await listUsers();
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ success: false, timestamp: expect.any(Number), code: "device_busy", message: "try later", result: null });
    const b = await listUsers();
    expect(b.body).toMatchObject({ success: false, code: "internal_error", message: "injected vendor failure", result: null });
  });

  it("malformed: HTTP 200, a JSON content type, and a truncated body", async () => {
    sim.injectFault({ kind: "malformed", times: 1 });
    const a = await listUsers();
    expect(a.status).toBe(200);
    expect(a.headers.get("content-type")).toMatch(/^application\/json/);
    expect(() => JSON.parse(a.text)).toThrow(SyntaxError);
    expect(() => a.body).toThrow(/not JSON/);
    expect(sim.received()[0]).toMatchObject({ status: 200, success: undefined, fault: "malformed" });
  });

  it("no_answer: the request hangs until the caller's timeout ends it; the write is not applied", async () => {
    const project = demoProject(sim);
    const key = [...project.visitor_temp_keys.values()][0]!;
    sim.injectFault({ kind: "no_answer", command: "delete_visitor_temp_key_info", times: 1 });
    const t0 = performance.now();
    const error = await api
      .manager("delete_visitor_temp_key_info", { project_id: DEMO_PROJECT_ID, visitor_temp_key_id: key.visitor_temp_key_id }, { signal: AbortSignal.timeout(300) })
      .then(() => undefined, (e: unknown) => e);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect((error as Error).name).toBe("TimeoutError");
    expect(project.visitor_temp_keys.has(key.visitor_temp_key_id)).toBe(true);
    const [r] = sim.calls("delete_visitor_temp_key_info");
    expect(r).toMatchObject({ status: 0, success: undefined, fault: "no_answer" });
    expect(r!.answeredAt).toBeUndefined();
    // The fault was used up: the retry is answered and applied.
    expect((await api.manager("delete_visitor_temp_key_info", { project_id: DEMO_PROJECT_ID, visitor_temp_key_id: key.visitor_temp_key_id })).body.success).toBe(true);
    expect(project.visitor_temp_keys.has(key.visitor_temp_key_id)).toBe(false);
  });

  it("reset: the connection is destroyed without an answer; the next request is answered", async () => {
    sim.injectFault({ kind: "reset", times: 1 });
    const error = await listUsers().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError); // undici: "fetch failed", the socket error as cause
    expect(sim.received()[0]).toMatchObject({ command: "get_user_list", status: 0, fault: "reset" });
    expect((await listUsers()).body.success).toBe(true);
  });

  it("an http_error on a write: the vendor did nothing", async () => {
    const project = demoProject(sim);
    const residence = [...project.residences.values()][0]!;
    const entrance = entranceOf(project, residence);
    const before = residence.open_door_history.length;
    sim.injectFault({ kind: "http_error", status: 500, command: "trigger_akuvox_remote_open_door", times: 1 });
    const a = await api.user("trigger_akuvox_remote_open_door", { residence_id: residence.residence_id, mac: entrance.mac, relay_id: entrance.relays[0]!.relay_id });
    expect(a.status).toBe(500);
    expect(residence.open_door_history).toHaveLength(before);
  });
});

describe("fault selection", () => {
  it("times: applies that many times, then removes itself", async () => {
    sim.injectFault({ kind: "http_error", status: 503, times: 2 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await listUsers()).status);
    expect(statuses).toEqual([503, 503, 200, 200]);
    expect(sim.calls("get_user_list").map((r) => r.fault)).toEqual(["http_error", "http_error", undefined, undefined]);
  });

  it("without times: applies until removed (by the function injectFault returns, or clearFaults)", async () => {
    const remove = sim.injectFault({ kind: "vendor_error", code: "down" });
    expect((await listUsers()).body.code).toBe("down");
    expect((await listUsers()).body.code).toBe("down");
    remove();
    expect((await listUsers()).body.success).toBe(true);
    sim.injectFault({ kind: "vendor_error", code: "down" });
    sim.clearFaults();
    expect((await listUsers()).body.success).toBe(true);
  });

  it("command: only that command is faulted", async () => {
    sim.injectFault({ kind: "http_error", command: "get_user_info" });
    const account = [...demoProject(sim).accounts.values()][0]!;
    expect((await listUsers()).status).toBe(200);
    expect((await api.manager("get_user_info", accountRef(account))).status).toBe(500);
    const residence = [...demoProject(sim).residences.values()][0]!;
    expect((await api.user("get_akuvox_device_list", { residence_id: residence.residence_id })).status).toBe(200);
  });

  it("where: only requests whose param has those top-level values (compared as JSON, arrays and objects too)", async () => {
    sim.injectFault({ kind: "http_error", status: 502, command: "get_user_list", where: { page_index: 2 } });
    expect((await listUsers(1)).status).toBe(200);
    expect((await listUsers(2)).status).toBe(502);
    expect((await listUsers(3)).status).toBe(200);

    const [k1, k2] = [...demoProject(sim).visitor_temp_keys.keys()];
    sim.injectFault({ kind: "vendor_error", code: "locked", where: { visitor_temp_keys: [{ visitor_temp_key_id: k1 }] } });
    const batch = (ids: string[]) => api.manager("batch_delete_visitor_temp_key_info", { project_id: DEMO_PROJECT_ID, visitor_temp_keys: ids.map((visitor_temp_key_id) => ({ visitor_temp_key_id })) });
    expect((await batch([k1!])).body.code).toBe("locked");
    expect((await batch([k2!])).body.success).toBe(true);
    expect((await batch([k1!, k2!])).body.code).toBe("not_found"); // not the same array: no fault; k2 is already gone
  });

  it("where with a key the param lacks does not match", async () => {
    sim.injectFault({ kind: "http_error", where: { residence_id: "r1" } });
    expect((await listUsers()).status).toBe(200);
  });

  it("the first matching fault applies, in the order added", async () => {
    sim.injectFault({ kind: "vendor_error", code: "first", where: { page_index: 2 } });
    sim.injectFault({ kind: "vendor_error", code: "second" });
    expect((await listUsers(2)).body.code).toBe("first");
    expect((await listUsers(1)).body.code).toBe("second");
  });

  it("an unauthorized request is answered 401 and does not use up a fault", async () => {
    sim.injectFault({ kind: "vendor_error", code: "once", times: 1 });
    const denied = await api.call("manager-commands", "get_user_list", page(), "wrong-token");
    expect(denied.status).toBe(401);
    expect(denied.body.code).toBe("unauthorized");
    expect((await listUsers()).body.code).toBe("once");
    expect((await listUsers()).body.success).toBe(true);
  });

  it("command faults leave the OAuth token endpoint alone", async () => {
    sim.injectFault({ kind: "http_error" });
    const res = await fetch(sim.url + TOKEN_PATH, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "password", client_id: DEMO_OAUTH_CLIENT_ID, client_secret: DEMO_OAUTH_CLIENT_SECRET, scope: "manager", username: DEMO_MANAGER_USERNAME, password: DEMO_MANAGER_PASSWORD }).toString(),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { success: boolean }).success).toBe(true);
  });
});

describe("the record of what was received", () => {
  it("records endpoint, command, id, param, authorization, status, success, code and fault, in order", async () => {
    const residence = [...demoProject(sim).residences.values()][0]!;
    sim.injectFault({ kind: "http_error", status: 429, command: "get_akuvox_device_list", times: 1 });
    await api.manager("get_user_list", page(2), { id: "cmd-1" });
    await api.user("get_akuvox_device_list", { residence_id: residence.residence_id }, { id: "cmd-2" });
    await api.manager("get_user_list", { project_id: DEMO_PROJECT_ID }, { id: "cmd-3" });
    await api.call("user-commands", "get_akuvox_face_file_info", { residence_id: residence.residence_id }, "nope", { id: "cmd-4" });
    const t1 = Date.now();
    const received = sim.received();
    expect(received.map(({ seq, at, answeredAt, ...rest }) => rest)).toEqual([
      { endpoint: "manager-commands", command: "get_user_list", id: "cmd-1", param: page(2), authorization: BEARER, status: 200, success: true },
      { endpoint: "user-commands", command: "get_akuvox_device_list", id: "cmd-2", param: { residence_id: residence.residence_id }, authorization: BEARER, status: 429, success: false, code: "too_many_requests", fault: "http_error" },
      { endpoint: "manager-commands", command: "get_user_list", id: "cmd-3", param: { project_id: DEMO_PROJECT_ID }, authorization: BEARER, status: 200, success: false, code: "invalid_param" },
      { endpoint: "user-commands", command: "get_akuvox_face_file_info", id: "cmd-4", param: { residence_id: residence.residence_id }, authorization: "Bearer nope", status: 401, success: false, code: "unauthorized" },
    ]);
    const seqs = received.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(4);
    for (const r of received) {
      expect(r.at).toBeLessThanOrEqual(r.answeredAt!);
      expect(r.answeredAt!).toBeLessThanOrEqual(t1);
    }
  });

  it("a body that is not JSON is recorded without command, id or param; calls() lists only named commands", async () => {
    await post(sim.url, "manager-commands", "{oops", { authorization: BEARER });
    await listUsers();
    expect(sim.received()).toHaveLength(2);
    expect(sim.received()[0]).toMatchObject({ command: undefined, id: undefined, param: undefined, status: 400, code: "invalid_json" });
    expect(sim.calls().map((r) => r.command)).toEqual(["get_user_list"]);
    expect(sim.calls("get_user_list")).toHaveLength(1);
    expect(sim.calls("get_user_info")).toEqual([]);
  });

  it("batch_create_user_info is recorded with its array param", async () => {
    const residence = [...demoProject(sim).residences.values()][0]!;
    const param = [{ project_id: DEMO_PROJECT_ID, residence_id: residence.residence_id, building_id: residence.building_id, first_name: "A", last_name: "B", email: "rec@example.org", auth: "guest" }];
    await api.manager("batch_create_user_info", param);
    expect(sim.calls("batch_create_user_info")[0]).toMatchObject({ param, status: 200, success: true });
  });

  it("clearReceived empties the record", async () => {
    await listUsers();
    sim.clearReceived();
    expect(sim.received()).toEqual([]);
  });
});

describe("control routes (tools outside the process)", () => {
  it("GET /__sim/received masks the Authorization header", async () => {
    await listUsers();
    await api.call("manager-commands", "get_user_list", page(), null);
    const rows = (await (await fetch(`${sim.url}/__sim/received`)).json()) as { authorization?: string; command: string }[];
    expect(rows.map((r) => [r.command, r.authorization])).toEqual([["get_user_list", "(present)"], ["get_user_list", undefined]]);
    expect(JSON.stringify(rows)).not.toContain(DEMO_AKUBELA_TOKEN);
  });

  it("POST /__sim/faults adds a fault, DELETE /__sim/faults clears them, a bad spec is HTTP 400", async () => {
    const add = await fetch(`${sim.url}/__sim/faults`, { method: "POST", body: JSON.stringify({ kind: "http_error", status: 418, command: "get_user_list" }) });
    expect(await add.json()).toEqual({ ok: true });
    expect((await listUsers()).status).toBe(418);
    await (await fetch(`${sim.url}/__sim/faults`, { method: "DELETE" })).text();
    expect((await listUsers()).status).toBe(200);
    const bad = await fetch(`${sim.url}/__sim/faults`, { method: "POST", body: "{nope" });
    expect(bad.status).toBe(400);
    await bad.text();
  });

  it("POST /__sim/reset re-seeds", async () => {
    const key = [...demoProject(sim).visitor_temp_keys.keys()][0]!;
    await api.manager("delete_visitor_temp_key_info", { project_id: DEMO_PROJECT_ID, visitor_temp_key_id: key });
    expect(demoProject(sim).visitor_temp_keys.has(key)).toBe(false);
    await (await fetch(`${sim.url}/__sim/reset`, { method: "POST" })).text();
    expect(demoProject(sim).visitor_temp_keys.has(key)).toBe(true);
    expect(sim.received()).toEqual([]);
  });
});

describe("reset()", () => {
  it("restores the seed after writes of every kind, and clears the record and the faults", async () => {
    const project = demoProject(sim);
    const residence = [...project.residences.values()][0]!;
    const account = [...project.accounts.values()][0]!;
    await api.manager("delete_visitor_temp_key_info", { project_id: DEMO_PROJECT_ID, visitor_temp_key_id: [...project.visitor_temp_keys.keys()][0] });
    await api.manager("create_user_info", { project_id: DEMO_PROJECT_ID, residence_id: residence.residence_id, building_id: residence.building_id, first_name: "R", last_name: "S", email: "reset@example.org", auth: "guest" });
    await api.manager("update_user_info", { ...accountRef(account), first_name: "Changed", last_name: "Name" });
    await api.user("update_akuvox_open_door_private_key_config", { residence_id: residence.residence_id, private_key: "1111" });
    await api.manager("import_user_info", { project_id: DEMO_PROJECT_ID, file_name: "f", file_url: "https://example.org/f" });
    expect(sim.state).not.toEqual(createAkubelaSeed());
    sim.injectFault({ kind: "http_error" });

    sim.reset();
    expect(sim.state).toEqual(createAkubelaSeed());
    expect(demoProject(sim)).not.toBe(project); // a fresh state object
    expect(sim.received()).toEqual([]);
    expect((await listUsers()).status).toBe(200);
    expect(account.first_name).toBe("Changed");
    expect(demoProject(sim).accounts.get(account.account_id)!.first_name).not.toBe("Changed");
    expect(demoProject(sim).residences.get(residence.residence_id)!.private_key).toBe(createAkubelaSeed().projects.get(DEMO_PROJECT_ID)!.residences.get(residence.residence_id)!.private_key);
  });
});
