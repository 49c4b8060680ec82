import { describe, expect, it } from "vitest";
import { toGlobalId } from "../../src/lib/global-id.js";
import { residenceDevices } from "../../src/simulators/akubela/index.js";
import { DEMO_PROJECT_ID, useStack } from "../helpers/stack.js";

/**
 * Every fault the simulators inject, for each vendor, crossed with a read, a mutation and a door opening. Expected:
 * coded errors, partial data where other fields could be answered, no request longer than its timeout (plus the
 * retries of a read), no mutation sent twice, no crash, and the same operation answered once the fault clears.
 * (Redis down at start, killed mid-run and slow: test/graph/cache.test.ts.)
 */
const TIMEOUT_MS = 1500;
const stack = useStack({ env: { AKUBELA_TIMEOUT_MS: String(TIMEOUT_MS), ALIYUN_TIMEOUT_MS: String(TIMEOUT_MS) } });

type Fault = "latency" | "http_5xx" | "http_429" | "vendor_error" | "malformed" | "reset" | "no_answer";
const FAULTS: Fault[] = ["latency", "http_5xx", "http_429", "vendor_error", "malformed", "reset", "no_answer"];

/** What the caller sees of each fault: the error code, and a door opening's outcome. */
const EXPECTED: Record<Fault, { code: string; door: "UNKNOWN" | "REJECTED" }> = {
  latency: { code: "UPSTREAM_TIMEOUT", door: "UNKNOWN" },
  http_5xx: { code: "UPSTREAM_UNAVAILABLE", door: "UNKNOWN" },
  http_429: { code: "UPSTREAM_UNAVAILABLE", door: "UNKNOWN" },
  vendor_error: { code: "UPSTREAM_ERROR", door: "REJECTED" },
  malformed: { code: "UPSTREAM_ERROR", door: "UNKNOWN" },
  reset: { code: "UPSTREAM_UNAVAILABLE", door: "UNKNOWN" },
  no_answer: { code: "UPSTREAM_TIMEOUT", door: "UNKNOWN" },
};

function inject(vendor: "akubela" | "aliyun", fault: Fault, target: string): () => void {
  const base = { latency: { kind: "latency", latencyMs: TIMEOUT_MS + 700 }, http_5xx: { kind: "http_error", status: 503 }, http_429: { kind: "http_error", status: 429 }, malformed: { kind: "malformed" }, reset: { kind: "reset" }, no_answer: { kind: "no_answer" } } as const;
  if (vendor === "akubela") {
    const spec = fault === "vendor_error" ? { kind: "vendor_error" as const, code: "device_offline", message: "The device is offline" } : base[fault];
    return stack.sim.injectFault({ ...spec, command: target });
  }
  const spec = fault === "vendor_error" ? { kind: "vendor_error" as const, code: 6205, message: "device offline" } : base[fault];
  return stack.aliyun.injectFault({ ...spec, path: target });
}

const sent = (vendor: "akubela" | "aliyun", target: string) => (vendor === "akubela" ? stack.sim.calls(target) : stack.aliyun.calls(target)).length;

/** The three operations per vendor: the vendor command/path each sends, the operation, its variables. */
function operations(vendor: "akubela" | "aliyun", n: number) {
  const project = stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
  const account = [...project.accounts.values()][0];
  const residence = project.residences.get(account.residence_id)!;
  const device = residenceDevices(project, residence).find((d) => d.online && d.relays.length > 0)!;
  const iotId = [...stack.aliyun.state.devices.values()].find((d) => d.online)!.iotId;
  const open = `mutation($input: DoorOpenInput!) { doorOpen(input: $input) { outcome userErrors { code } } }`;
  if (vendor === "akubela") {
    return {
      read: {
        target: "get_akuvox_device_list",
        query: `query($p: ID!, $r: ID!, $a: ID!) { account(projectId: $p, residenceId: $r, accountId: $a) { accountId } residence(projectId: $p, residenceId: $r) { devices { name } } }`,
        variables: { p: DEMO_PROJECT_ID, r: account.residence_id, a: account.account_id },
        partial: (data: any) => data?.account?.accountId === account.account_id,
        failedPath: ["residence", "devices"],
      },
      mutation: {
        target: "create_user_pin_code_access_info",
        query: `mutation($input: CredentialNumberInput!) { pinCodeCreate(input: $input) { pinCode { number } userErrors { code } } }`,
        variables: { input: { account: toGlobalId("Account", DEMO_PROJECT_ID, account.residence_id, account.account_id), number: String(70000000 + n) } },
        field: "pinCodeCreate",
      },
      door: {
        target: "trigger_akuvox_remote_open_door",
        query: open,
        variables: { input: { device: toGlobalId("AkuvoxDevice", DEMO_PROJECT_ID, device.mac), residence: toGlobalId("Residence", DEMO_PROJECT_ID, account.residence_id) } },
      },
    };
  }
  return {
    read: {
      target: "/entrance/paas/keepopen/get",
      query: `query($i: ID!) { aliyunDevice(iotId: $i) { name keepOpen } }`,
      variables: { i: iotId },
      partial: (data: any) => typeof data?.aliyunDevice?.name === "string",
      failedPath: ["aliyunDevice", "keepOpen"],
    },
    mutation: {
      target: "/entrance/paas/keepopen/set",
      query: `mutation($input: KeepOpenSetInput!) { keepOpenSet(input: $input) { device { iotId } userErrors { code } } }`,
      variables: { input: { device: toGlobalId("AliyunAccessControlDevice", iotId), keepOpen: n % 2 === 0 } },
      field: "keepOpenSet",
    },
    door: { target: "/cloud/thing/service/invoke", query: open, variables: { input: { device: toGlobalId("AliyunAccessControlDevice", iotId) } } },
  };
}

/** A bound, not a speed target: one timeout, plus the backoff and Retry-After waits of a read's retries. */
const BOUND_MS = TIMEOUT_MS + 2600;
let n = 0;

for (const vendor of ["akubela", "aliyun"] as const) {
  describe(`${vendor}`, () => {
    for (const fault of FAULTS) {
      it(`${fault}: read, mutation, door opening`, async () => {
        const ops = operations(vendor, ++n);
        const expected = EXPECTED[fault];

        // A read: a coded error at the failed field, the rest answered.
        let remove = inject(vendor, fault, ops.read.target);
        let started = Date.now();
        const read = await stack.gql(ops.read.query, ops.read.variables);
        expect(Date.now() - started).toBeLessThan(BOUND_MS);
        expect(read.status).toBe(200);
        expect(read.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[ops.read.failedPath, expected.code]]);
        expect(ops.read.partial(read.data)).toBe(true);
        remove();

        // A mutation: the vendor's refusal in userErrors, anything else a coded error; sent once, never repeated.
        const before = sent(vendor, ops.mutation.target);
        remove = inject(vendor, fault, ops.mutation.target);
        started = Date.now();
        const mutation = await stack.gql(ops.mutation.query, ops.mutation.variables);
        expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 600);
        expect(sent(vendor, ops.mutation.target) - before).toBe(1);
        if (fault === "vendor_error") {
          expect(mutation.errors).toBeUndefined();
          expect(mutation.data[ops.mutation.field].userErrors.map((e: any) => e.code)).toEqual([vendor === "akubela" ? "device_offline" : "6205"]);
        } else {
          expect(mutation.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[[ops.mutation.field], expected.code]]);
        }
        remove();

        // A door opening: REJECTED on a refusal, UNKNOWN otherwise; sent once.
        const doorBefore = sent(vendor, ops.door.target);
        remove = inject(vendor, fault, ops.door.target);
        started = Date.now();
        const door = await stack.gql(ops.door.query, ops.door.variables);
        expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 600);
        expect(door.errors).toBeUndefined();
        expect(door.data.doorOpen.outcome).toBe(expected.door);
        expect(sent(vendor, ops.door.target) - doorBefore).toBe(1);
        remove();

        // Fault cleared: healthy, and each operation answered.
        expect((await fetch(stack.url.replace(/\/graphql$/, "/healthz"))).status).toBe(200);
        expect((await stack.gql(ops.read.query, ops.read.variables)).errors).toBeUndefined();
        // (A write that timed out may still have been carried out by a slow vendor: the check uses a fresh PIN.)
        const retried = await stack.gql(ops.mutation.query, operations(vendor, n + 5000).mutation.variables);
        expect(retried.errors).toBeUndefined();
        expect(retried.data[ops.mutation.field].userErrors).toEqual([]);
        expect((await stack.gql(ops.door.query, ops.door.variables)).data.doorOpen.outcome).toBe("OPENED");
      });
    }
  });
}
