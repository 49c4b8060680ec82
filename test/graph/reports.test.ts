import { get } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { csvCell } from "../../src/reports/export.js";
import { publicDevices } from "../../src/simulators/akubela/index.js";
import { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, startStack, TEST_API_KEYS, useStack, type Stack } from "../helpers/stack.js";

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

describe("report pages read only the accounts and residences they cover", () => {
  const CREDENTIALS = `query($p: ID!, $after: String) { credentialsReport(projectId: $p, first: 10, after: $after) { pageInfo { hasNextPage endCursor } nodes { accountId } } }`;
  const DEVICES = `query($p: ID!, $first: Int, $after: String) { devicesReport(projectId: $p, first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { vendor deviceKey residenceId } } }`;

  it("credentialsReport: a page of 10 sends the access info of those 10 accounts, no more", async () => {
    const first = await stack.gql(CREDENTIALS, { p: DEMO_PROJECT_ID, after: null });
    expect(first.errors).toBeUndefined();
    stack.sim.clearReceived();
    const second = await stack.gql(CREDENTIALS, { p: DEMO_PROJECT_ID, after: first.data.credentialsReport.pageInfo.endCursor });
    expect(second.errors).toBeUndefined();
    const expected = accounts().slice(10, 20).map((a) => a.account_id);
    expect(second.data.credentialsReport.nodes.map((n: any) => n.accountId)).toEqual(expected);
    expect(second.data.credentialsReport.pageInfo.hasNextPage).toBe(true);
    // What the vendor received: the user list, then those ten accounts' access info only.
    expect(stack.sim.calls("get_user_access_info").map((c) => (c.param as { account_id: string }).account_id)).toEqual(expected);
  });

  it("devicesReport: pages walked one request each read each residence's device list once in all, and add up to the whole report", async () => {
    const whole = await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, first: 100, after: null });
    expect(whole.errors).toBeUndefined();
    stack.sim.clearReceived();
    const rows: unknown[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page: any = await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, first: 7, after });
      expect(page.errors).toBeUndefined();
      rows.push(...page.data.devicesReport.nodes);
      pages++;
      if (!page.data.devicesReport.pageInfo.hasNextPage) break;
      after = page.data.devicesReport.pageInfo.endCursor;
    }
    expect(rows).toEqual(whole.data.devicesReport.nodes);
    expect(pages).toBeGreaterThan(2);
    // Each request reads the residences its window covers (and the one after, to know that rows follow): far fewer
    // than every residence for every page.
    const reads = stack.sim.calls("get_akuvox_device_list").length;
    expect(reads).toBeLessThan(residencesWithAccounts().length * 2);
  });

  it("the credentials export sends each account's access info once, in pages, and lets go of each page's answers", async () => {
    const res = await download("credentials", "json");
    expect(res.status).toBe(200);
    const rows = (await res.json()) as { accountId: string }[];
    expect(rows.map((r) => r.accountId)).toEqual(accounts().map((a) => a.account_id));
    const asked = stack.sim.calls("get_user_access_info").map((c) => (c.param as { account_id: string }).account_id);
    expect(asked.sort()).toEqual(accounts().map((a) => a.account_id).sort());
    // Each page of the user list once (the other get_user_list, of one row, proves the caller's Bearer token).
    const pages = stack.sim.calls("get_user_list").filter((c) => (c.param as { page_size: number }).page_size === 100);
    expect(pages).toHaveLength(Math.floor(accounts().length / 100) + 1);
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

describe("export failures: refused before the first byte, or cut so no reader takes them for data", () => {
  // Every page proves the caller's own token again (BEARER_VERIFY_SECONDS=0), so a later page makes a vendor call
  // of its own; two exports a minute per API key.
  let strict: Stack;
  beforeAll(async () => {
    strict = await startStack({ env: { BEARER_VERIFY_SECONDS: "0", RATE_LIMIT_PER_MINUTE: "2" } });
  });
  afterAll(() => strict.close());
  beforeEach(() => {
    strict.sim.clearReceived();
    strict.sim.clearFaults();
  });
  const base = () => strict.url.replace(/\/graphql$/, "");
  const url = (name: string, format: string) => `${base()}/reports/${name}.${format}?projectId=${DEMO_PROJECT_ID}`;

  /** Reads the body chunk by chunk: what arrived, and whether the transfer ended normally. */
  async function readAll(res: Response): Promise<{ text: string; aborted: boolean }> {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return { text, aborted: false };
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      return { text, aborted: true };
    }
  }

  // Proof of the first page passes (a 0 ms latency spec used once), every later proof meets a vendor 503.
  const failLaterProofs = () => {
    strict.sim.injectFault({ kind: "latency", latencyMs: 0, command: "get_user_list", where: { page_size: 1 }, times: 1 });
    strict.sim.injectFault({ kind: "http_error", status: 503, command: "get_user_list", where: { page_size: 1 } });
  };

  for (const format of ["csv", "json"]) {
    it(`a vendor failure on a later page aborts the ${format} transfer: no error row, no well-formed shorter file`, async () => {
      failLaterProofs();
      const res = await fetch(url("accounts", format), { headers: { authorization: `Bearer ${DEMO_AKUBELA_TOKEN}` } });
      expect(res.status).toBe(200); // the first page was sent before the second failed
      expect(res.headers.get("trailer")).toBe("X-Export-Status");
      const { text, aborted } = await readAll(res);
      expect(aborted).toBe(true);
      expect(text).not.toMatch(/incomplete|error/i);
      if (format === "json") expect(() => JSON.parse(text)).toThrow();
      else expect(text.startsWith("projectId,accountId,")).toBe(true);
      // The vendor: first proof answered, the accounts fetched, then the second page's proof failed (and was retried).
      const proofs = strict.sim.calls("get_user_list").filter((c) => (c.param as { page_size?: number }).page_size === 1);
      expect(proofs[0]).toMatchObject({ status: 200 });
      expect(proofs.slice(1).length).toBeGreaterThan(0);
      expect(proofs.slice(1).every((c) => c.status === 503 && c.fault === "http_error")).toBe(true);
      expect(strict.logs.some((l) => l.msg === "export cut mid-stream" && l.code === "UPSTREAM_UNAVAILABLE")).toBe(true);
    });
  }

  it("a complete export ends normally with the trailer X-Export-Status: complete", async () => {
    const { text, trailers } = await new Promise<{ text: string; trailers: NodeJS.Dict<string> }>((resolve, reject) => {
      get(url("accounts", "json"), { headers: { authorization: `Bearer ${DEMO_AKUBELA_TOKEN}` } }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ text: body, trailers: res.trailers }));
        res.on("error", reject);
      }).on("error", reject);
    });
    expect(trailers).toEqual({ "x-export-status": "complete" });
    expect((JSON.parse(text) as unknown[]).length).toBe(accounts().length);
  });

  it("the rate limit counts an export once, and refuses the next before the first byte: 429, Retry-After, the one error shape", async () => {
    const asKey = { "x-api-key": TEST_API_KEYS.admin.key };
    // Two exports of two pages each within a limit of 2: each export counted once.
    for (let i = 0; i < 2; i++) {
      const res = await fetch(url("accounts", "csv"), { headers: asKey });
      expect(res.status).toBe(200);
      expect(parseCsv(await res.text()).length).toBe(accounts().length + 1);
    }
    strict.sim.clearReceived();
    const refused = await fetch(url("accounts", "csv"), { headers: asKey });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await refused.json()).toEqual({ errors: [{ message: expect.stringContaining("Too many requests"), extensions: { code: "RATE_LIMITED" } }] });
    expect(strict.sim.received()).toHaveLength(0);
  });

  it("an unknown report is a 404 in the same error shape, naming the reports; so is an unknown path", async () => {
    const res = await fetch(`${base()}/reports/nope.csv?projectId=${DEMO_PROJECT_ID}`, { headers: { authorization: `Bearer ${DEMO_AKUBELA_TOKEN}` } });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body).toEqual({ errors: [{ message: expect.stringContaining("/reports/accounts.csv|.json"), extensions: { code: "NOT_FOUND" } }] });
    const other = await fetch(`${base()}/nowhere`);
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ errors: [{ extensions: { code: "NOT_FOUND" } }] });
    expect(strict.sim.received()).toHaveLength(0);
  });
});
