import { beforeEach, describe, expect, it } from "vitest";
import { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, useStack } from "../helpers/stack.js";

/** The stack's vendor timeout (test/helpers/stack.ts sets AKUBELA_TIMEOUT_MS=1500). */
const TIMEOUT_MS = 1500;
const stack = useStack();
let residenceId: string;
beforeEach(() => {
  const project = stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
  residenceId = [...project.accounts.values()][0].residence_id;
});

const DEVICES = `query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { residenceId devices { mac } } }`;
const devices = () => stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r: residenceId });
const expectedMacs = () => {
  const project = stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
  const residence = project.residences.get(residenceId)!;
  return [...project.devices.values()]
    .filter((d) => (d.scope === "building" && d.building_id === residence.building_id) || d.scope === "project" || d.residence_id === residenceId)
    .map((d) => d.mac)
    .sort();
};

/** The one error of a failed devices field, checked to carry its path and no secret. */
function deviceError(res: Awaited<ReturnType<typeof devices>>) {
  expect(res.status).toBe(200);
  expect(res.data?.residence).toEqual({ residenceId, devices: null });
  expect(res.errors).toHaveLength(1);
  const [error] = res.errors!;
  expect(error.path).toEqual(["residence", "devices"]);
  expect(JSON.stringify(res)).not.toContain(DEMO_AKUBELA_TOKEN);
  return error;
}

describe("vendor faults on a read become coded errors, with partial data", () => {
  it("latency above the timeout: UPSTREAM_TIMEOUT after one attempt (a timed-out read is not repeated)", async () => {
    stack.sim.injectFault({ kind: "latency", command: "get_akuvox_device_list", latencyMs: TIMEOUT_MS + 1000 });
    const started = Date.now();
    const error = deviceError(await devices());
    // Not a speed target: a bound. The caller is answered after one timeout, not after the vendor's latency.
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 900);
    expect(error.extensions).toMatchObject({
      code: "UPSTREAM_TIMEOUT",
      upstream: { vendor: "akubela", command: "get_akuvox_device_list" },
    });
    expect(stack.sim.calls("get_akuvox_device_list")).toHaveLength(1);
    // After the user list that proves the residence is the project's, the one timed-out attempt.
    expect(stack.vendorCalls.filter((c) => c.command !== "get_user_list")).toMatchObject([{ command: "get_akuvox_device_list", outcome: "timeout", attempts: 1 }]);
  });

  it("no answer at all: UPSTREAM_TIMEOUT, bounded by the timeout", async () => {
    stack.sim.injectFault({ kind: "no_answer", command: "get_akuvox_device_list" });
    const started = Date.now();
    const error = deviceError(await devices());
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 900); // a bound, not a speed target
    expect(error.extensions?.code).toBe("UPSTREAM_TIMEOUT");
    expect(stack.sim.calls("get_akuvox_device_list")).toHaveLength(1);
  });

  it("one HTTP 500: the read is repeated and the caller sees nothing of it", async () => {
    stack.sim.injectFault({ kind: "http_error", status: 500, command: "get_akuvox_device_list", times: 1 });
    const res = await devices();
    expect(res.errors).toBeUndefined();
    expect(res.data.residence.devices.map((d: any) => d.mac).sort()).toEqual(expectedMacs());
    const calls = stack.sim.calls("get_akuvox_device_list");
    expect(calls.map((c) => [c.status, c.fault])).toEqual([
      [500, "http_error"],
      [200, undefined],
    ]);
    expect(calls[0].id).toBe(calls[1].id); // the same command, repeated
    expect(calls[0].param).toEqual({ residence_id: residenceId });
  });

  it("persistent HTTP 503: UPSTREAM_UNAVAILABLE after 1 + AKUBELA_READ_RETRIES attempts", async () => {
    stack.sim.injectFault({ kind: "http_error", status: 503, command: "get_akuvox_device_list" });
    const error = deviceError(await devices());
    expect(error.extensions).toMatchObject({ code: "UPSTREAM_UNAVAILABLE", upstream: { status: 503, vendorCode: "internal_error" } });
    expect(stack.sim.calls("get_akuvox_device_list")).toHaveLength(3);
  });

  it("HTTP 429 with Retry-After: waits, repeats, succeeds", async () => {
    stack.sim.injectFault({ kind: "http_error", status: 429, command: "get_akuvox_device_list", times: 1 });
    const res = await devices();
    expect(res.errors).toBeUndefined();
    expect(res.data.residence.devices.map((d: any) => d.mac).sort()).toEqual(expectedMacs());
    expect(stack.sim.calls("get_akuvox_device_list").map((c) => c.status)).toEqual([429, 200]);
  });

  it("success: false with the vendor's own field names: UPSTREAM_ERROR carrying its code and message, not repeated", async () => {
    stack.sim.injectFault({
      kind: "vendor_error",
      command: "get_akuvox_device_list",
      body: { success: false, timestamp: 1, err_code: "E_QUOTA", msg: "daily quota exceeded" },
    });
    const error = deviceError(await devices());
    expect(error.extensions).toMatchObject({
      code: "UPSTREAM_ERROR",
      upstream: { vendor: "akubela", command: "get_akuvox_device_list", status: 200, vendorCode: "E_QUOTA", vendorMessage: "daily quota exceeded" },
    });
    expect(error.message).toContain("E_QUOTA");
    expect(stack.sim.calls("get_akuvox_device_list")).toHaveLength(1);
  });

  it("a body that is not JSON: UPSTREAM_ERROR, not repeated", async () => {
    stack.sim.injectFault({ kind: "malformed", command: "get_akuvox_device_list" });
    const error = deviceError(await devices());
    expect(error.extensions?.code).toBe("UPSTREAM_ERROR");
    expect(error.message).toMatch(/not a JSON envelope/);
    expect(stack.sim.calls("get_akuvox_device_list")).toHaveLength(1);
  });

  it("a connection reset once: repeated; reset every time: UPSTREAM_UNAVAILABLE", async () => {
    stack.sim.injectFault({ kind: "reset", command: "get_akuvox_device_list", times: 1 });
    const ok = await devices();
    expect(ok.errors).toBeUndefined();
    expect(ok.data.residence.devices.map((d: any) => d.mac).sort()).toEqual(expectedMacs());
    expect(stack.sim.calls("get_akuvox_device_list")).toHaveLength(2);

    stack.sim.clearReceived();
    stack.sim.injectFault({ kind: "reset", command: "get_akuvox_device_list" });
    const error = deviceError(await devices());
    expect(error.extensions?.code).toBe("UPSTREAM_UNAVAILABLE");
    expect(stack.sim.calls("get_akuvox_device_list")).toHaveLength(3);
  });

  it("one failing residence among many: the others are answered, the error points at the failing one", async () => {
    stack.sim.injectFault({ kind: "vendor_error", command: "get_akuvox_device_list", where: { residence_id: residenceId }, code: "device_offline", message: "gateway offline" });
    const res = await stack.gql(
      `query($p: ID!) { project(projectId: $p) { buildings { residences { residenceId devices { mac } } } } }`,
      { p: DEMO_PROJECT_ID },
    );
    const residences = res.data.project.buildings.flatMap((b: any) => b.residences);
    const failed = residences.filter((r: any) => r.devices === null);
    expect(failed.map((r: any) => r.residenceId)).toEqual([residenceId]);
    expect(residences.filter((r: any) => r.devices !== null).length).toBe(residences.length - 1);
    expect(residences.filter((r: any) => r.devices !== null).every((r: any) => r.devices.length > 0)).toBe(true);
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0].extensions).toMatchObject({ code: "UPSTREAM_ERROR", upstream: { vendorCode: "device_offline", vendorMessage: "gateway offline" } });
    const b = res.data.project.buildings.findIndex((x: any) => x.residences.some((r: any) => r.residenceId === residenceId));
    const r = res.data.project.buildings[b].residences.findIndex((x: any) => x.residenceId === residenceId);
    expect(res.errors![0].path).toEqual(["project", "buildings", b, "residences", r, "devices"]);
  });

  it("never writes the caller's token into a log line, whatever failed", async () => {
    for (const kind of ["latency", "http_error", "vendor_error", "malformed", "reset"] as const) {
      stack.sim.injectFault({ kind, command: "get_akuvox_device_list", latencyMs: TIMEOUT_MS + 200, times: 3 });
      await devices();
      stack.sim.clearFaults();
    }
    expect(stack.logs.some((l) => l.msg === "vendor call")).toBe(true);
    expect(stack.logText()).not.toContain(DEMO_AKUBELA_TOKEN);
  });
});
