import { beforeEach, describe, expect, it } from "vitest";
import type { Project } from "../../src/simulators/akubela/state.js";
import { publicDevices, residenceDevices } from "../../src/simulators/akubela/state.js";
import { commandsReceived, DEMO_PROJECT_ID, useStack, userListPages } from "../helpers/stack.js";

/** `2024-01-25 21:10:16` (UTC) as the graph must give it. */
const iso = (vendorTime: string) => new Date(`${vendorTime.replace(" ", "T")}Z`).toISOString();

const stack = useStack();
let project: Project;
beforeEach(() => {
  project = stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
});

const residences = () => [...project.residences.values()];
const accounts = () => [...project.accounts.values()];
/** A residence with temp keys, calls and door events, so the assertions have something to compare. */
const busyResidence = () => residences().find((r) => r.temp_keys.length > 0 && r.call_history.length > 2 && r.open_door_history.length > 2)!;

describe("one query per read command", () => {
  it("get_user_list: project accounts, paged at 100, the caller's token forwarded", async () => {
    const res = await stack.gql(
      `query($p: ID!) { project(projectId: $p) { accounts(first: 3) { totalCount nodes { accountId firstName lastName email phone role paymentStatus region } } } }`,
      { p: DEMO_PROJECT_ID },
    );
    expect(res.errors).toBeUndefined();
    const all = accounts();
    const conn = res.data.project.accounts;
    expect(conn.totalCount).toBe(all.length);
    expect(conn.nodes).toEqual(
      all.slice(0, 3).map((a) => ({
        accountId: a.account_id,
        firstName: a.first_name,
        lastName: a.last_name,
        email: a.email,
        phone: a.phone || null, // the vendor sends "" for "none"; the graph says null
        role: a.auth.toUpperCase(),
        paymentStatus: a.payment_status.toUpperCase(),
        region: a.region,
      })),
    );
    const pages = Math.floor(all.length / 100) + 1;
    const calls = stack.sim.calls("get_user_list");
    expect(calls.map((c) => c.param)).toEqual(
      Array.from({ length: pages }, (_, i) => ({ project_id: DEMO_PROJECT_ID, page_size: 100, page_index: i + 1 })),
    );
    expect(calls.every((c) => c.endpoint === "manager-commands" && c.authorization === "Bearer demo-akubela-token")).toBe(true);
    expect(stack.sim.received()).toHaveLength(pages);
  });

  it("get_user_info: one account, with its residence and building at no further cost", async () => {
    const a = accounts()[7];
    const res = await stack.gql(
      `query($p: ID!, $r: ID!, $a: ID!) { account(projectId: $p, residenceId: $r, accountId: $a) {
         id accountId accountName displayName email role residence { residenceId residenceNo familyName } building { buildingId name } } }`,
      { p: DEMO_PROJECT_ID, r: a.residence_id, a: a.account_id },
    );
    expect(res.errors).toBeUndefined();
    const residence = project.residences.get(a.residence_id)!;
    expect(res.data.account).toMatchObject({
      accountId: a.account_id,
      accountName: a.account_name,
      displayName: `${a.first_name} ${a.last_name}`,
      email: a.email,
      role: a.auth.toUpperCase(),
      residence: { residenceId: a.residence_id, residenceNo: residence.residence_no, familyName: residence.family_name },
      building: { buildingId: a.building_id, name: project.buildings.get(a.building_id)!.building_name },
    });
    // The project's user list proves the account is the project's before get_user_info names it.
    expect(commandsReceived(stack.sim)).toEqual([
      ...userListPages(stack.sim, DEMO_PROJECT_ID),
      `get_user_info ${JSON.stringify({ project_id: DEMO_PROJECT_ID, residence_id: a.residence_id, account_id: a.account_id })}`,
    ]);
  });

  it("get_user_info: an account the project's user list does not have is refused, and never named to the vendor", async () => {
    const res = await stack.gql(`query($p: ID!) { account(projectId: $p, residenceId: "r0", accountId: "a0") { accountId } }`, { p: DEMO_PROJECT_ID });
    expect(res.data.account).toBeNull();
    expect(res.errors?.[0]).toMatchObject({ path: ["account"], extensions: { code: "FORBIDDEN" }, message: `account a0 is not in residence r0 of project ${DEMO_PROJECT_ID}` });
    expect(commandsReceived(stack.sim)).toEqual(userListPages(stack.sim, DEMO_PROJECT_ID));
  });

  it("get_user_access_info: PIN codes, RF cards, faces, access groups and floor access", async () => {
    const a = accounts().find((x) => x.pin_codes.length && x.rf_cards.length && x.faces.length)!;
    const res = await stack.gql(
      `query($p: ID!, $r: ID!, $a: ID!) { account(projectId: $p, residenceId: $r, accountId: $a) { credentials {
         pinCodes { pinCodeId number createdAt creator } rfCards { rfCardId number createdAt } faces { faceId createdAt }
         accessGroups { accessGroupId name type } floorAccesses { buildingId floor } } } }`,
      { p: DEMO_PROJECT_ID, r: a.residence_id, a: a.account_id },
    );
    expect(res.errors).toBeUndefined();
    const c = res.data.account.credentials;
    expect(c.pinCodes).toEqual(a.pin_codes.map((p) => ({ pinCodeId: p.pin_code_id, number: p.number, createdAt: iso(p.created_time), creator: p.creator })));
    expect(c.rfCards).toEqual(a.rf_cards.map((r) => ({ rfCardId: r.rf_card_id, number: r.number, createdAt: iso(r.created_time) })));
    expect(c.faces).toEqual(a.faces.map((f) => ({ faceId: f.face_id, createdAt: iso(f.created_time) })));
    expect(c.accessGroups).toEqual(
      a.access_group_ids.map((id) => {
        const g = project.access_groups.get(id)!;
        return { accessGroupId: id, name: g.access_group_name, type: g.access_group_type.toUpperCase() };
      }),
    );
    expect(c.floorAccesses).toEqual(a.floor_accesses.map((f) => ({ buildingId: f.building_id, floor: f.floor })));
    const access = stack.sim.calls("get_user_access_info");
    expect(access.map((x) => x.param)).toEqual([{ project_id: DEMO_PROJECT_ID, residence_id: a.residence_id, account_id: a.account_id }]);
  });

  it("get_visitor_temp_key_device_list: the project's shared devices with relays and security relays", async () => {
    const res = await stack.gql(
      `query($p: ID!) { project(projectId: $p) { devices { id name vendor online building { buildingId }
         ... on AkuvoxDevice { mac deviceId deviceType vendorDeviceType isPublic }
         relays { relayId name dialKey security } securityRelays { relayId security } } } }`,
      { p: DEMO_PROJECT_ID },
    );
    expect(res.errors).toBeUndefined();
    const expected = publicDevices(project);
    const all = res.data.project.devices;
    const got = all.filter((d: any) => d.vendor === "AKUVOX");
    expect(got.map((d: any) => d.mac)).toEqual(expected.map((d) => d.mac));
    // The Aliyun devices the site map puts in the project follow, named by the map, at no gateway cost.
    const aliyunDevices = [...stack.aliyun.state.devices.values()];
    expect(all.slice(got.length).map((d: any) => [d.vendor, d.name, d.building?.buildingId ?? null])).toEqual(
      aliyunDevices.map((d) => ["ALIYUN", d.name, d.buildingId ?? null]),
    );
    expect(stack.aliyun.received()).toHaveLength(0);
    for (const [i, d] of expected.entries()) {
      expect(got[i]).toMatchObject({
        name: d.device_name,
        vendor: "AKUVOX",
        online: d.online,
        deviceId: d.device_id,
        vendorDeviceType: d.device_type,
        isPublic: true,
        building: d.building_id ? { buildingId: d.building_id } : null,
        relays: d.relays.map((r) => ({ relayId: r.relay_id, name: r.relay_name, dialKey: r.relay_number, security: false })),
        securityRelays: d.security_relays.map((r) => ({ relayId: r.relay_id, security: true })),
      });
    }
    expect(got.some((d: any) => d.securityRelays.length > 0)).toBe(true);
    expect(new Set(got.map((d: any) => d.deviceType))).toContain("MULTI_TENANT_DOORPHONE");
    expect(commandsReceived(stack.sim)).toEqual([`get_visitor_temp_key_device_list {"project_id":"${DEMO_PROJECT_ID}"}`]);
  });

  it("get_akuvox_device_list: a residence's devices, RTSP read from both `rtsp` and `rtsp_url`", async () => {
    const r = residences().find((x) => [...project.devices.values()].some((d) => d.residence_id === x.residence_id))!;
    const res = await stack.gql(
      `query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { devices { mac name deviceType isPublic sip rtspUrl ciphertext online relays { relayId } } } }`,
      { p: DEMO_PROJECT_ID, r: r.residence_id },
    );
    expect(res.errors).toBeUndefined();
    const expected = residenceDevices(project, r);
    expect(res.data.residence.devices).toEqual(
      expected.map((d) => ({
        mac: d.mac,
        name: d.device_name,
        deviceType: expect.any(String),
        isPublic: d.is_public,
        sip: d.sip,
        rtspUrl: d.rtsp_url,
        ciphertext: d.ciphertext,
        online: d.online,
        relays: d.relays.map((x) => ({ relayId: x.relay_id })),
      })),
    );
    expect(expected.some((d) => d.device_type.includes("Doorphone"))).toBe(true);
    expect(expected.some((d) => !d.device_type.includes("Doorphone"))).toBe(true);
    expect(commandsReceived(stack.sim)).toEqual([...userListPages(stack.sim, DEMO_PROJECT_ID), `get_akuvox_device_list {"residence_id":"${r.residence_id}"}`]);
    expect(stack.sim.calls("get_akuvox_device_list")[0].endpoint).toBe("user-commands");
  });

  it("the four open-door config commands: private key, NFC, BLE, face file, each only when selected", async () => {
    const r = residences()[3];
    const query = `query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { openDoorConfig { privateKey nfc { enabled code } ble { enabled code } faceFileUploaded } } }`;
    const res = await stack.gql(query, { p: DEMO_PROJECT_ID, r: r.residence_id });
    expect(res.errors).toBeUndefined();
    expect(res.data.residence.openDoorConfig).toEqual({
      privateKey: r.private_key,
      nfc: { enabled: r.nfc.enable_nfc, code: r.nfc.nfc_code || null },
      ble: { enabled: r.ble.enable_ble, code: r.ble.ble_code || null },
      faceFileUploaded: r.face_file.is_uploaded,
    });
    const param = JSON.stringify({ residence_id: r.residence_id });
    expect(commandsReceived(stack.sim).sort()).toEqual(
      [
        "get_akuvox_face_file_info",
        "get_akuvox_open_door_ble_config",
        "get_akuvox_open_door_nfc_config",
        "get_akuvox_open_door_private_key_config",
      ]
        .map((c) => `${c} ${param}`)
        .concat(userListPages(stack.sim, DEMO_PROJECT_ID)),
    );

    stack.sim.clearReceived();
    const one = await stack.gql(`query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { openDoorConfig { nfc { enabled } } } }`, {
      p: DEMO_PROJECT_ID,
      r: r.residence_id,
    });
    expect(one.data.residence.openDoorConfig.nfc.enabled).toBe(r.nfc.enable_nfc);
    expect(commandsReceived(stack.sim)).toEqual([...userListPages(stack.sim, DEMO_PROJECT_ID), `get_akuvox_open_door_nfc_config ${param}`]);
  });

  it("get_akuvox_open_door_temp_key_config: residence temp keys with full date-times", async () => {
    const r = busyResidence();
    const res = await stack.gql(
      `query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { tempKeys { id tempKey startsAt endsAt count qrCodeUrl } } }`,
      { p: DEMO_PROJECT_ID, r: r.residence_id },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.residence.tempKeys).toEqual(
      r.temp_keys.map((k) => ({
        id: expect.any(String),
        tempKey: k.temp_key,
        startsAt: iso(k.start_time),
        endsAt: iso(k.finish_time),
        count: k.count,
        qrCodeUrl: k.qr_code_url,
      })),
    );
    for (const k of res.data.residence.tempKeys) {
      expect(Buffer.from(k.id, "base64url").toString()).not.toContain(k.tempKey);
    }
    expect(commandsReceived(stack.sim)).toEqual([...userListPages(stack.sim, DEMO_PROJECT_ID), `get_akuvox_open_door_temp_key_config {"residence_id":"${r.residence_id}"}`]);
  });

  it("get_akuvox_call_history: a paged connection over the whole history", async () => {
    const r = busyResidence();
    const res = await stack.gql(
      `query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { callHistory(first: 2) { totalCount pageInfo { hasNextPage endCursor } nodes { callerName callerSip calledAt } } } }`,
      { p: DEMO_PROJECT_ID, r: r.residence_id },
    );
    expect(res.errors).toBeUndefined();
    const h = res.data.residence.callHistory;
    expect(h.totalCount).toBe(r.call_history.length);
    expect(h.pageInfo.hasNextPage).toBe(true);
    expect(h.nodes).toEqual(r.call_history.slice(0, 2).map((c) => ({ callerName: c.call_name, callerSip: c.call_sip, calledAt: iso(c.call_time) })));
    const next = await stack.gql(
      `query($p: ID!, $r: ID!, $after: String) { residence(projectId: $p, residenceId: $r) { callHistory(first: 2, after: $after) { nodes { callerSip } } } }`,
      { p: DEMO_PROJECT_ID, r: r.residence_id, after: h.pageInfo.endCursor },
    );
    expect(next.data.residence.callHistory.nodes).toEqual(r.call_history.slice(2, 4).map((c) => ({ callerSip: c.call_sip })));
    expect(stack.sim.calls("get_akuvox_call_history").map((c) => c.param)).toEqual([{ residence_id: r.residence_id }, { residence_id: r.residence_id }]);
  });

  it("get_akuvox_open_door_history: door events", async () => {
    const r = busyResidence();
    const res = await stack.gql(
      `query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { openDoorHistory(first: 100) { totalCount nodes { success accountName deviceName method thumbnailUrl pictureUrl occurredAt } } } }`,
      { p: DEMO_PROJECT_ID, r: r.residence_id },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.residence.openDoorHistory.totalCount).toBe(r.open_door_history.length);
    expect(res.data.residence.openDoorHistory.nodes).toEqual(
      r.open_door_history.map((e) => ({
        success: e.open_door,
        accountName: e.account_name || null,
        deviceName: e.device_name,
        method: e.open_door_type || null,
        thumbnailUrl: e.capture_thumbnail_url || null,
        pictureUrl: e.capture_picture_url || null,
        occurredAt: iso(e.open_door_time),
      })),
    );
    expect(commandsReceived(stack.sim)).toEqual([...userListPages(stack.sim, DEMO_PROJECT_ID), `get_akuvox_open_door_history {"residence_id":"${r.residence_id}"}`]);
  });

  it("get_visitor_temp_key_list: visitor keys, paged, with repeat modes and days as enums", async () => {
    const keys = [...project.visitor_temp_keys.values()];
    const res = await stack.gql(
      `query($p: ID!) { project(projectId: $p) { visitorTempKeys(first: 5) { totalCount pageInfo { hasNextPage }
         nodes { visitorTempKeyId name number qrCodeUrl deviceValidityCount visitorIdentityNumber repeatMode availableDays startTime finishTime createdAt creator } } } }`,
      { p: DEMO_PROJECT_ID },
    );
    expect(res.errors).toBeUndefined();
    const conn = res.data.project.visitorTempKeys;
    expect(conn.totalCount).toBe(keys.length);
    expect(conn.pageInfo.hasNextPage).toBe(true);
    expect(conn.nodes).toEqual(
      keys.slice(0, 5).map((k) => ({
        visitorTempKeyId: k.visitor_temp_key_id,
        name: k.visitor_temp_key_name,
        number: k.visitor_temp_key_number,
        qrCodeUrl: k.qr_code_url,
        deviceValidityCount: k.device_validity_count === "" ? null : Number(k.device_validity_count),
        visitorIdentityNumber: k.visitor_identity_number || null,
        repeatMode: k.repeat_mode.toUpperCase(),
        availableDays: k.available_days.map((d) => d.toUpperCase()),
        startTime: `${k.start_time}Z`,
        finishTime: `${k.finish_time}Z`,
        createdAt: iso(k.created_time),
        creator: k.creator,
      })),
    );
    expect(stack.sim.calls("get_visitor_temp_key_list").map((c) => c.param)).toEqual([
      { project_id: DEMO_PROJECT_ID, page_size: 100, page_index: 1 },
    ]);
  });

  it("get_visitor_temp_key_info: one key with its residence and devices (result as an array of one)", async () => {
    const k = [...project.visitor_temp_keys.values()].find((x) => x.devices.length > 0)!;
    const res = await stack.gql(
      `query($p: ID!, $k: ID!) { visitorTempKey(projectId: $p, visitorTempKeyId: $k) { visitorTempKeyId name
         residence { residenceId residenceNo familyName } building { buildingId name } devices { mac deviceId relays { relayId } } } }`,
      { p: DEMO_PROJECT_ID, k: k.visitor_temp_key_id },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.visitorTempKey).toMatchObject({
      visitorTempKeyId: k.visitor_temp_key_id,
      name: k.visitor_temp_key_name,
      residence: { residenceId: k.residence_id, residenceNo: k.residence_no, familyName: k.family_name },
      building: { buildingId: k.building_id, name: k.building_name },
    });
    expect(res.data.visitorTempKey.devices.map((d: any) => d.deviceId)).toEqual(k.devices.map((d) => d.device_id));
    // The project's key list proves the key is the project's before get_visitor_temp_key_info names it.
    expect(commandsReceived(stack.sim)).toEqual([
      `get_visitor_temp_key_list ${JSON.stringify({ project_id: DEMO_PROJECT_ID, page_size: 100, page_index: 1 })}`,
      `get_visitor_temp_key_info ${JSON.stringify({ project_id: DEMO_PROJECT_ID, visitor_temp_key_id: k.visitor_temp_key_id })}`,
    ]);
  });

  it("get_visitor_temp_key_history: a key's uses, paged from the vendor", async () => {
    const k = [...project.visitor_temp_keys.values()].sort((a, b) => b.history.length - a.history.length)[0];
    expect(k.history.length).toBeGreaterThan(3);
    const res = await stack.gql(
      `query($p: ID!) { project(projectId: $p) { visitorTempKey(visitorTempKeyId: "${k.visitor_temp_key_id}") {
         history(first: 3) { totalCount nodes { success accountName deviceName method occurredAt residenceNo buildingName recordType number } } } } }`,
      { p: DEMO_PROJECT_ID },
    );
    expect(res.errors).toBeUndefined();
    const h = res.data.project.visitorTempKey.history;
    expect(h.totalCount).toBe(k.history.length);
    expect(h.nodes).toEqual(
      k.history.slice(0, 3).map((e) => ({
        success: e.open_door,
        accountName: e.account_name || null,
        deviceName: e.device_name,
        method: e.open_door_type || null,
        occurredAt: iso(e.open_door_time),
        residenceNo: e.residence_no,
        buildingName: e.building_name,
        recordType: e.record_type,
        number: e.number,
      })),
    );
    expect(stack.sim.calls("get_visitor_temp_key_history").map((c) => c.param)).toEqual([
      { project_id: DEMO_PROJECT_ID, page_size: 100, page_index: 1, visitor_temp_key_id: k.visitor_temp_key_id },
    ]);
  });
});

describe("the derived project structure", () => {
  it("gathers buildings and residences from accounts and devices, fetching each list once", async () => {
    const res = await stack.gql(
      `query($p: ID!) { project(projectId: $p) { buildings { buildingId name residences { residenceId residenceNo } } devices { ... on AkuvoxDevice { mac } } } }`,
      { p: DEMO_PROJECT_ID },
    );
    expect(res.errors).toBeUndefined();
    const buildings = res.data.project.buildings;
    expect(buildings.map((b: any) => b.buildingId).sort()).toEqual([...project.buildings.keys()].sort());
    for (const b of buildings) {
      expect(b.name).toBe(project.buildings.get(b.buildingId)!.building_name);
      const withAccounts = new Set(accounts().filter((a) => a.building_id === b.buildingId).map((a) => a.residence_id));
      expect(b.residences.map((r: any) => r.residenceId).sort()).toEqual([...withAccounts].sort());
    }
    const received = commandsReceived(stack.sim);
    expect(new Set(received).size).toBe(received.length);
    expect(stack.sim.calls("get_visitor_temp_key_device_list")).toHaveLength(1);
  });

  it("lists the configured projects", async () => {
    const res = await stack.gql(`{ projects { projectId id } }`);
    expect(res.data.projects.map((p: any) => p.projectId)).toEqual([...stack.sim.state.projects.keys()]);
    expect(stack.sim.received()).toHaveLength(0);
  });
});
