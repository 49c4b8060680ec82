import { describe, expect, it } from "vitest";
import { csvCell } from "../../src/reports/export.js";
import { publicDevices } from "../../src/simulators/akubela/index.js";
import { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, useStack } from "../helpers/stack.js";

const stack = useStack();

const project = () => stack.sim.state.projects.get(DEMO_PROJECT_ID)!;
const accounts = () => [...project().accounts.values()];
const residencesWithAccounts = () => [...new Set(accounts().map((a) => a.residence_id))].map((id) => project().residences.get(id)!);
const exportUrl = (name: string, format: string, projectId = DEMO_PROJECT_ID) => `${stack.url.replace(/\/graphql$/, "")}/reports/${name}.${format}?projectId=${projectId}`;
const download = (name: string, format: string, token: string | null = DEMO_AKUBELA_TOKEN) =>
  fetch(exportUrl(name, format), { headers: token ? { authorization: `Bearer ${token}` } : {} });

/** Parses our CSV (quoted cells, CRLF rows). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") row.push(cell), (cell = "");
    else if (ch === "\r" && text[i + 1] === "\n") row.push(cell), rows.push(row), (row = []), (cell = ""), i++;
    else cell += ch;
  }
  return rows;
}

describe("report queries: flat rows, stable columns, paged with totalCount", () => {
  it("accountsReport: one row per account with its residence and building", async () => {
    const res = await stack.gql(
      `query($p: ID!) { accountsReport(projectId: $p, first: 2) { totalCount pageInfo { hasNextPage } nodes { accountId email role residenceNo familyName buildingId buildingName } } }`,
      { p: DEMO_PROJECT_ID },
    );
    expect(res.errors).toBeUndefined();
    const a = accounts()[0];
    const r = project().residences.get(a.residence_id)!;
    expect(res.data.accountsReport.totalCount).toBe(accounts().length);
    expect(res.data.accountsReport.pageInfo.hasNextPage).toBe(true);
    expect(res.data.accountsReport.nodes[0]).toEqual({
      accountId: a.account_id,
      email: a.email,
      role: a.auth.toUpperCase(),
      residenceNo: r.residence_no,
      familyName: r.family_name,
      buildingId: a.building_id,
      buildingName: project().buildings.get(a.building_id)!.building_name,
    });
    expect(stack.sim.calls().map((c) => c.command)).toEqual(["get_user_list", "get_user_list"]);
  });

  it("devicesReport: shared, private and Aliyun devices with their status", async () => {
    const res = await stack.gql(`query($p: ID!) { devicesReport(projectId: $p, first: 100) { totalCount nodes { vendor deviceKey online shared residenceId } } }`, { p: DEMO_PROJECT_ID });
    expect(res.errors).toBeUndefined();
    const withAccounts = new Set(accounts().map((a) => a.residence_id));
    const own = [...project().devices.values()].filter((d) => d.scope === "residence" && withAccounts.has(d.residence_id!));
    const expected = publicDevices(project()).length + own.length + stack.aliyun.state.devices.size;
    expect(res.data.devicesReport.totalCount).toBe(expected);
    const rows = res.data.devicesReport.nodes;
    expect(rows.filter((r: any) => r.vendor === "ALIYUN")).toHaveLength(stack.aliyun.state.devices.size);
    const privateOne = own[0];
    expect(rows.find((r: any) => r.deviceKey === privateOne.mac)).toEqual({ vendor: "AKUVOX", deviceKey: privateOne.mac, online: privateOne.online, shared: false, residenceId: privateOne.residence_id });
  });

  it("credentialsReport: counts, never numbers", async () => {
    const res = await stack.gql(`query($p: ID!) { credentialsReport(projectId: $p, first: 100) { totalCount nodes { accountId pinCodes rfCards faces floors } } }`, { p: DEMO_PROJECT_ID });
    expect(res.errors).toBeUndefined();
    const holder = accounts().find((a) => a.pin_codes.length > 0)!;
    const row = res.data.credentialsReport.nodes.find((n: any) => n.accountId === holder.account_id);
    expect(row).toMatchObject({ pinCodes: holder.pin_codes.length, rfCards: holder.rf_cards.length, faces: holder.faces.length });
    expect(JSON.stringify(res.data)).not.toContain(holder.pin_codes[0].number);
  });

  it("accessEventsReport: every residence's door events", async () => {
    const res = await stack.gql(`query($p: ID!) { accessEventsReport(projectId: $p, first: 5) { totalCount nodes { residenceId occurredAt method } } }`, { p: DEMO_PROJECT_ID });
    expect(res.errors).toBeUndefined();
    expect(res.data.accessEventsReport.totalCount).toBe(residencesWithAccounts().reduce((n, r) => n + r.open_door_history.length, 0));
    expect(stack.sim.calls("get_akuvox_open_door_history")).toHaveLength(residencesWithAccounts().length);
  });
});

describe("exports over plain GET, streamed page by page, authenticated like the graph", () => {
  for (const name of ["accounts", "devices", "credentials", "access-events"]) {
    it(`${name}.csv and ${name}.json: every row of every page, the same in both`, async () => {
      const csv = await download(name, "csv");
      expect(csv.status).toBe(200);
      expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
      expect(csv.headers.get("content-disposition")).toBe(`attachment; filename="${name}-${DEMO_PROJECT_ID}.csv"`);
      const [header, ...rows] = parseCsv(await csv.text());
      const json = await download(name, "json");
      expect(json.status).toBe(200);
      const objects = (await json.json()) as Record<string, unknown>[];
      expect(Object.keys(objects[0])).toEqual(header);
      expect(rows).toHaveLength(objects.length);
      expect(rows[rows.length - 1]).toEqual(header.map((c) => (objects[objects.length - 1][c] === null ? "" : String(objects[objects.length - 1][c]))));
      const total = (await stack.gql(`query($p: ID!) { r: ${name === "access-events" ? "accessEventsReport" : `${name}Report`}(projectId: $p) { totalCount } }`, { p: DEMO_PROJECT_ID })).data.r.totalCount;
      expect(objects).toHaveLength(total);
    });
  }

  it("accounts: more than one page (100 rows a page) in one file, fetched once from the vendor", async () => {
    const res = await download("accounts", "json");
    const rows = (await res.json()) as { accountId: string }[];
    expect(rows.length).toBe(accounts().length);
    expect(rows.length).toBeGreaterThan(100);
    expect(rows.map((r) => r.accountId)).toEqual(accounts().map((a) => a.account_id));
    // Two export pages share the request's loaders: each vendor page once.
    expect(stack.sim.calls("get_user_list")).toHaveLength(Math.floor(accounts().length / 100) + 1);
  });

  it("refuses without credentials (401), without projectId (400), and with another method (405)", async () => {
    expect((await download("accounts", "csv", null)).status).toBe(401);
    const noProject = await fetch(exportUrl("accounts", "csv").replace(/\?.*$/, ""), { headers: { authorization: `Bearer ${DEMO_AKUBELA_TOKEN}` } });
    expect(noProject.status).toBe(400);
    expect((await fetch(exportUrl("accounts", "csv"), { method: "POST", headers: { authorization: `Bearer ${DEMO_AKUBELA_TOKEN}` } })).status).toBe(405);
    expect(stack.sim.received()).toHaveLength(0);
    const vendorRefuses = await download("accounts", "csv", "expired-token");
    expect(vendorRefuses.status).toBe(401);
    expect(await vendorRefuses.json()).toMatchObject({ errors: [{ extensions: { code: "UNAUTHENTICATED" } }] });
  });

  it("CSV cells are quoted when needed and never run as a spreadsheet formula", () => {
    expect(csvCell('a,"b"')).toBe('"a,""b"""');
    expect(csvCell("=HYPERLINK(\"x\")")).toBe("\"'=HYPERLINK(\"\"x\"\")\"");
    expect(csvCell("-12.5")).toBe("-12.5");
    expect(csvCell("@cmd")).toBe("'@cmd");
    expect(csvCell(null)).toBe("");
    // After a line break inside the cell too: a spreadsheet starts a formula on any line of it.
    expect(csvCell("Flat 3\n=1+1")).toBe("\"Flat 3\n'=1+1\"");
    expect(csvCell("a\r\n+SUM(A1)\r-2")).toBe("\"a\r\n'+SUM(A1)\r'-2\"");
    expect(csvCell("\t=cmd")).toBe("'\t=cmd");
    // ?formulas=raw: quoting only.
    expect(csvCell("+44 20 7946 0000", "raw")).toBe("+44 20 7946 0000");
    expect(csvCell("Flat 3\n=1+1", "raw")).toBe("\"Flat 3\n=1+1\"");
  });

  it("a formula on the second line of a cell is neutralised in the CSV; ?formulas=raw gives the value as it is", async () => {
    const a = accounts()[0];
    const r = project().residences.get(a.residence_id)!;
    const before = r.family_name;
    const value = "+44 20 7946 0000\n=1+1";
    r.family_name = value;
    try {
      const cellsOf = async (query: string) => {
        const res = await fetch(`${exportUrl("accounts", "csv")}${query}`, { headers: { authorization: `Bearer ${DEMO_AKUBELA_TOKEN}` } });
        expect(res.status).toBe(200);
        const rows = parseCsv(await res.text());
        const [column, id] = [rows[0]!.indexOf("familyName"), rows[0]!.indexOf("accountId")];
        expect(column).toBeGreaterThanOrEqual(0);
        return rows.find((row) => row[id] === a.account_id)![column];
      };
      expect(await cellsOf("")).toBe("'+44 20 7946 0000\n'=1+1");
      expect(await cellsOf("&formulas=raw")).toBe(value);
      const bad = await fetch(`${exportUrl("accounts", "csv")}&formulas=yes`, { headers: { authorization: `Bearer ${DEMO_AKUBELA_TOKEN}` } });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(await bad.json())).toContain("formulas");
    } finally {
      r.family_name = before;
    }
  });
});
