import { describe, expect, it } from "vitest";
import { DEMO_PROJECT_ID, useStack } from "../helpers/stack.js";

const stack = useStack();

const typeIds = `
  fragment Ids on Node { id __typename
    ... on Project { projectId } ... on Building { buildingId } ... on Residence { residenceId }
    ... on Account { accountId } ... on PinCode { pinCodeId } ... on RfCard { rfCardId } ... on Face { faceId }
    ... on AccessGroup { accessGroupId } ... on AkuvoxDevice { mac } ... on Relay { relayId }
    ... on VisitorTempKey { visitorTempKeyId } ... on ResidenceTempKey { tempKey } }`;

describe("node and nodes", () => {
  it("fetches every kind of object again by the id the graph gave it", async () => {
    const project = stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
    const account = [...project.accounts.values()].find((a) => a.pin_codes.length && a.rf_cards.length && a.faces.length)!;
    const residence = [...project.residences.values()].find((r) => r.temp_keys.length && [...project.devices.values()].some((d) => d.residence_id === r.residence_id))!;
    const seen = await stack.gql(
      `${typeIds}
      query($p: ID!, $r: ID!, $ar: ID!, $a: ID!) {
        project(projectId: $p) { ...Ids buildings { ...Ids } devices { ...Ids relays { ...Ids } } visitorTempKeys(first: 1) { nodes { ...Ids } } }
        residence(projectId: $p, residenceId: $r) { ...Ids tempKeys { ...Ids } devices { ...Ids relays { ...Ids } } }
        account(projectId: $p, residenceId: $ar, accountId: $a) { ...Ids credentials { pinCodes { ...Ids } rfCards { ...Ids } faces { ...Ids } accessGroups { ...Ids } } }
      }`,
      { p: DEMO_PROJECT_ID, r: residence.residence_id, ar: account.residence_id, a: account.account_id },
    );
    expect(seen.errors).toBeUndefined();
    const objects: any[] = [];
    const collect = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === "object") {
        if ("id" in v && "__typename" in v) objects.push(v);
        Object.values(v).forEach(collect);
      }
    };
    collect(seen.data);
    const kinds = new Set(objects.map((o) => o.__typename));
    for (const kind of ["Project", "Building", "Residence", "Account", "PinCode", "RfCard", "Face", "AccessGroup", "AkuvoxDevice", "Relay", "VisitorTempKey", "ResidenceTempKey"]) {
      expect(kinds, kind).toContain(kind);
    }
    // One of each kind, plus the residence's private device (fetched through its residence).
    const sample = [...new Map(objects.map((o) => [o.__typename, o])).values()];
    const privateDevice = seen.data.residence.devices.find((d: any) => Buffer.from(d.id, "base64url").toString().includes(residence.residence_id));
    expect(privateDevice).toBeDefined();
    sample.push(privateDevice);
    const strip = ({ id, __typename, ...rest }: any) => ({ id, __typename, ...Object.fromEntries(Object.entries(rest).filter(([, v]) => typeof v !== "object")) });
    const again = await stack.gql(`${typeIds} query($ids: [ID!]!) { nodes(ids: $ids) { ...Ids } }`, { ids: sample.map((o) => o.id) });
    expect(again.errors).toBeUndefined();
    expect(again.data.nodes).toEqual(sample.map(strip));
  });

  it("refuses an object its project's own list does not have (gone, or never the project's), and BAD_USER_INPUT for a string that is no ID", async () => {
    const gone = Buffer.from(JSON.stringify(["VisitorTempKey", DEMO_PROJECT_ID, "vnope"])).toString("base64url");
    const res = await stack.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: gone });
    expect(res.data.node).toBeNull();
    expect(res.errors?.map((e) => [e.path, e.extensions?.code, e.message])).toEqual([[["node"], "FORBIDDEN", `visitor key vnope is not in project ${DEMO_PROJECT_ID}`]]);
    // The key list proved it; the key itself was never named to the vendor.
    expect(stack.sim.received().map((c) => c.command)).toEqual(["get_visitor_temp_key_list"]);
    stack.sim.clearReceived();
    const bad = await stack.gql(`{ nodes(ids: ["${gone}", "garbage"]) { id } }`);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "ids[1]" });
    expect(stack.sim.received()).toHaveLength(0);
  });
});
