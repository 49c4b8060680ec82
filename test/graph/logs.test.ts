import { hostname } from "node:os";
import { beforeEach, describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { toGlobalId } from "../../src/lib/global-id.js";
import { residenceDevices } from "../../src/simulators/akubela/index.js";
import { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, useStack, TEST_API_KEYS } from "../helpers/stack.js";

const stack = useStack();
let residenceId: string;
beforeEach(() => {
  residenceId = [...stack.sim.state.projects.get(DEMO_PROJECT_ID)!.accounts.values()][0].residence_id;
});
beforeEach(() => {
  seen = stack.logs.length;
});
/** Lines written since the case began. */
let seen = 0;
const logs = () => stack.logs.slice(seen);

const DEVICES = `query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { devices { mac } } }`;
const failures = () => logs().filter((l) => l.level === "warn" && l.msg === "vendor call failed");

describe("operator logs", () => {
  it("a vendor 5xx is one warn line with vendor, command, status and vendor code, naming the instance, no secret", async () => {
    stack.sim.injectFault({ kind: "http_error", status: 503, code: "backend_down", message: "maintenance", command: "get_akuvox_device_list" });
    const res = await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r: residenceId });
    expect(res.errors?.[0].extensions?.code).toMatch(/^UPSTREAM_/);
    // The simulator was asked (and retried): the failure is the vendor's.
    expect(stack.sim.calls("get_akuvox_device_list").length).toBeGreaterThanOrEqual(1);
    expect(stack.sim.calls("get_akuvox_device_list").every((c) => c.status === 503)).toBe(true);
    const lines = failures();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ vendor: "akubela", command: "get_akuvox_device_list", outcome: "http_error", status: 503, vendorCode: "backend_down", host: hostname(), pid: process.pid });
    expect(typeof lines[0].requestId).toBe("string");
    const text = stack.logText();
    expect(text).not.toContain(DEMO_AKUBELA_TOKEN);
    for (const k of Object.values(TEST_API_KEYS)) expect(text).not.toContain(k.key);
  });

  it("timeouts and malformed answers are warn lines too; a business refusal is not", async () => {
    stack.sim.injectFault({ kind: "malformed", command: "get_akuvox_device_list" });
    await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r: residenceId });
    expect(failures().map((l) => [l.outcome, l.vendorCode])).toEqual([["malformed", null]]);
    stack.sim.clearFaults();
    seen = stack.logs.length;
    stack.sim.injectFault({ kind: "vendor_error", code: "device_offline", command: "get_akuvox_device_list", times: 1 });
    await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r: residenceId });
    expect(stack.sim.calls("get_akuvox_device_list").length).toBeGreaterThanOrEqual(1);
    expect(failures()).toEqual([]);
    expect(logs().some((l) => l.msg === "vendor call" && l.vendorCode === "device_offline")).toBe(true);
  });

  it("every line names the instance (host, pid), audit lines included", async () => {
    await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r: residenceId });
    const project = stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
    const a = [...project.accounts.values()][0];
    const device = residenceDevices(project, project.residences.get(a.residence_id)!).find((d) => d.online && d.relays.length > 0)!;
    const doc = await readFile(new URL("../../docs/operations/open-door.graphql", import.meta.url), "utf8");
    const res = await stack.gql(doc, { input: { device: toGlobalId("AkuvoxDevice", DEMO_PROJECT_ID, device.mac), residence: toGlobalId("Residence", DEMO_PROJECT_ID, a.residence_id) } });
    expect(res.errors).toBeUndefined();
    expect(stack.sim.calls().length).toBeGreaterThan(0);
    expect(stack.logs.some((l) => l.audit === "door_open")).toBe(true);
    for (const line of stack.logs) expect(line).toMatchObject({ host: hostname(), pid: process.pid });
  });
});
