import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { MemoryCache } from "../../src/cache/memory-cache.js";
import { ReadThrough } from "../../src/cache/read-through.js";
import { tokenCredential } from "../../src/auth/caller.js";
import { DEMO_SITE_MAP_PATH } from "../../src/app.js";
import { AkubelaClient } from "../../src/datasources/akubela/client.js";
import { AkubelaDataSource } from "../../src/datasources/akubela/datasource.js";
import { AliyunClient } from "../../src/datasources/aliyun/client.js";
import { AliyunDataSource } from "../../src/datasources/aliyun/datasource.js";
import { ProjectGuard, type ProjectGrant } from "../../src/datasources/guard.js";
import { VendorBudgets } from "../../src/datasources/budget.js";
import { createLogger } from "../../src/logger.js";
import { parseSiteMap } from "../../src/site-map.js";
import { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID, startAkubelaSimulator, type AkubelaSimulator } from "../../src/simulators/akubela/index.js";
import { DEMO_ALIYUN_APP_KEY, DEMO_ALIYUN_APP_SECRET, startAliyunSimulator, type AliyunSimulator } from "../../src/simulators/aliyun/index.js";
import { userListPages } from "../helpers/stack.js";

/**
 * The data sources on their own, over real HTTP to the simulators, with no GraphQL surface in front: what they
 * refuse, they refuse whatever the edge did or did not check.
 */
const OWN = DEMO_SECOND_PROJECT_ID;
const OTHER = DEMO_PROJECT_ID;

let sim: AkubelaSimulator;
let aliyun: AliyunSimulator;
let akubelaClient: AkubelaClient;
let aliyunClient: AliyunClient;
let readThrough: ReadThrough;
const logger = createLogger("error", {}, () => undefined);
const siteMap = parseSiteMap(JSON.parse(readFileSync(DEMO_SITE_MAP_PATH, "utf8")));
const otherIot = siteMap.devices[0].iotId;

beforeAll(async () => {
  sim = await startAkubelaSimulator({ quiet: true });
  aliyun = await startAliyunSimulator({ quiet: true });
  akubelaClient = new AkubelaClient({ baseUrl: sim.url, timeoutMs: 1500, readRetries: 0, logger });
  aliyunClient = new AliyunClient({ baseUrl: aliyun.url, appKey: DEMO_ALIYUN_APP_KEY, appSecret: DEMO_ALIYUN_APP_SECRET, timeoutMs: 1500, readRetries: 0, logger });
});
afterAll(async () => {
  await sim.close();
  await aliyun.close();
});
beforeEach(() => {
  sim.reset();
  aliyun.reset();
  readThrough = new ReadThrough(new MemoryCache(), logger);
});

/** The two data sources of one request, for a caller allowed `grant`. */
function request(grant: ProjectGrant, membershipTtlMs = 0) {
  const common = { guard: new ProjectGuard(grant, `the API key "t"`), budgets: new VendorBudgets({ maxInFlight: 4, maxPerSecond: 0 }), cache: { readThrough, staleMs: 0, bypass: false } };
  const akubela = new AkubelaDataSource(akubelaClient, tokenCredential(DEMO_AKUBELA_TOKEN), { ...common, pageSize: 100, ttlMs: {}, membershipTtlMs });
  const aliyunSource = new AliyunDataSource(aliyunClient, siteMap, { ...common, gatewayAllowed: true, timeZone: "+08:00", scope: "test", ttlMs: {}, accounts: akubela });
  return { akubela, aliyun: aliyunSource };
}

const received = () => sim.received().map((c) => `${c.command} ${JSON.stringify(c.param)}`);
const ownGrant = new Set([OWN]);
const firstAccount = (projectId: string) => [...sim.state.projects.get(projectId)!.accounts.values()][0];

async function forbidden(promise: Promise<unknown>, message: string) {
  await expect(promise).rejects.toMatchObject({ extensions: { code: "FORBIDDEN" }, message });
}

describe("the Akubela data source", () => {
  it("refuses a project outside the grant before any command", async () => {
    const { akubela } = request(ownGrant);
    const r = firstAccount(OTHER).residence_id;
    await forbidden(akubela.residenceDevices(OTHER, r), `project ${OTHER} is not one the API key "t" may see`);
    await forbidden(akubela.projectAccounts(OTHER), `project ${OTHER} is not one the API key "t" may see`);
    await forbidden(akubela.openDoor({ projectId: OTHER, residenceId: r }, "0C1100000000", "1", "x".repeat(32)), `project ${OTHER} is not one the API key "t" may see`);
    expect(received()).toEqual([]);
  });

  it("refuses a residence its project's user list does not have, for a limited key and for a caller that sees every project alike", async () => {
    const r = firstAccount(OTHER).residence_id;
    for (const grant of [ownGrant, "*" as const]) {
      sim.clearReceived();
      const { akubela } = request(grant);
      const message = `residence ${r} is not in project ${OWN} (the project's user list has no account there)`;
      await forbidden(akubela.residenceDevices(OWN, r), message);
      await forbidden(akubela.privateKey({ projectId: OWN, residenceId: r }), message);
      await forbidden(akubela.updatePrivateKey({ projectId: OWN, residenceId: r }, "123456"), message);
      // The user list is read once for the request and is the only thing sent.
      expect(received()).toEqual(userListPages(sim, OWN));
    }
  });

  it("lets the project's own residence through, the proof costing the user list once per request", async () => {
    const { akubela } = request(ownGrant);
    const r = firstAccount(OWN).residence_id;
    await akubela.residenceDevices(OWN, r);
    await akubela.nfcConfig({ projectId: OWN, residenceId: r });
    expect(received()).toEqual([
      ...userListPages(sim, OWN),
      `get_akuvox_device_list {"residence_id":"${r}"}`,
      `get_akuvox_open_door_nfc_config {"residence_id":"${r}"}`,
    ]);
  });

  it("shares the index across requests, and refreshes it once when a lookup misses: a new residence is found, a foreign one still refused", async () => {
    const ttl = 300_000;
    const own = sim.state.projects.get(OWN)!;
    const known = firstAccount(OWN).residence_id;
    await request(ownGrant, ttl).akubela.residenceDevices(OWN, known);
    expect(sim.calls("get_user_list")).toHaveLength(userListPages(sim, OWN).length);

    sim.clearReceived();
    await request(ownGrant, ttl).akubela.residenceDevices(OWN, known);
    expect(received()).toEqual([`get_akuvox_device_list {"residence_id":"${known}"}`]); // served by the shared index

    // The vendor gains a residence (with an account) after the index was built.
    const residence = structuredClone(own.residences.get(known)!);
    residence.residence_id = "r-new-residence";
    own.residences.set(residence.residence_id, residence);
    const account = structuredClone(firstAccount(OWN));
    Object.assign(account, { account_id: "a-new-account", residence_id: residence.residence_id, email: "new@harbour-house.example" });
    own.accounts.set(account.account_id, account);
    sim.clearReceived();
    await request(ownGrant, ttl).akubela.residenceDevices(OWN, residence.residence_id);
    expect(received()).toEqual([...userListPages(sim, OWN), `get_akuvox_device_list {"residence_id":"${residence.residence_id}"}`]);

    sim.clearReceived();
    const foreign = firstAccount(OTHER).residence_id;
    await forbidden(request(ownGrant, ttl).akubela.residenceDevices(OWN, foreign), `residence ${foreign} is not in project ${OWN} (the project's user list has no account there)`);
    expect(received()).toEqual(userListPages(sim, OWN));
  });

  it("refuses a device the residence's own list does not have before the remote open", async () => {
    const { akubela } = request(ownGrant);
    const r = firstAccount(OWN).residence_id;
    const foreignMac = [...sim.state.projects.get(OTHER)!.devices.values()][0].mac;
    await forbidden(akubela.openDoor({ projectId: OWN, residenceId: r }, foreignMac, "1", "a".repeat(32)), `device ${foreignMac} is not in the device list of residence ${r} of project ${OWN}`);
    expect(sim.calls("trigger_akuvox_remote_open_door")).toEqual([]);
  });

  it("refuses a visitor key its project's key list does not have, before get_visitor_temp_key_info or a delete", async () => {
    const { akubela } = request(ownGrant);
    const k = [...sim.state.projects.get(OTHER)!.visitor_temp_keys.keys()][0];
    await forbidden(akubela.visitorTempKey(OWN, k), `visitor key ${k} is not in project ${OWN}`);
    await forbidden(akubela.deleteVisitorTempKeys(OWN, [k]), `visitor key ${k} is not in project ${OWN}`);
    expect(sim.received().map((c) => c.command)).toEqual(["get_visitor_temp_key_list"]);
  });
});

describe("the Aliyun data source", () => {
  it("refuses another project's device before any gateway call, reads and writes alike", async () => {
    const { aliyun: source } = request(ownGrant);
    const message = `Aliyun device ${otherIot} is not in a project this caller may see (site map)`;
    expect(() => source.device(otherIot)).toThrow(message);
    await forbidden(source.keepOpen(otherIot), message);
    await forbidden(source.setKeepOpen(otherIot, true), message);
    await forbidden(source.remoteOpen(otherIot, "00000000-0000-4000-8000-000000000000"), message);
    expect(() => source.devicePermissions(otherIot)).toThrow(message);
    expect(aliyun.received()).toEqual([]);
  });

  it("refuses a person linked to another project's account, and the site-wide list", async () => {
    const { aliyun: source } = request(ownGrant);
    const theirs = firstAccount(OTHER).account_id;
    await forbidden(source.person(theirs), `Aliyun person ${theirs} is not linked to an account of a project this caller may see`);
    await forbidden(source.generateQrCode({ identityId: theirs }), `Aliyun person ${theirs} is not linked to an account of a project this caller may see`);
    expect(() => source.persons()).toThrow("the list of every Aliyun person is site-wide data: the API key \"t\" is limited to some projects");
    expect(aliyun.received()).toEqual([]);
    // The person's project was looked for in the caller's own project only.
    expect(sim.received().every((c) => (c.param as { project_id?: string }).project_id === OWN)).toBe(true);
  });

  it("checks an account before deriving the person from it: a forged project part sends nothing", async () => {
    const { aliyun: source } = request(ownGrant);
    const a = firstAccount(OTHER);
    const account = { projectId: OWN, residenceId: a.residence_id, accountId: a.account_id };
    await forbidden(source.upsertPerson({ account }, { name: "Renamed" }), `account ${a.account_id} is not in residence ${a.residence_id} of project ${OWN}`);
    await forbidden(source.grantCards([{ person: { account }, iotId: otherIot, cardId: "C1" }]), `Aliyun device ${otherIot} is not in a project this caller may see (site map)`);
    expect(aliyun.received()).toEqual([]);
  });

  it("a caller that sees every project reaches the same person and device", async () => {
    const { aliyun: source } = request("*");
    const theirs = firstAccount(OTHER).account_id;
    expect(await source.person(theirs)).toMatchObject({ identityId: theirs, projectId: null });
    expect(typeof (await source.keepOpen(otherIot))).toBe("boolean");
  });
});
