import type { ServerResponse } from "node:http";
import type { ApolloServer } from "@apollo/server";
import type { GraphContext } from "../context.js";
import { isCursor } from "../events/model.js";

/**
 * `GET /reports/<name>.csv|.json?projectId=…`: a report of the graph exported for BI tools and spreadsheets,
 * authenticated like the graph, streamed page by page (100 rows a page, every page) by running the report's own
 * GraphQL query, so an export and a query can never disagree.
 *
 * `events` is the access-event log (issue 17) through `Query.accessEvents`, with its authorization and scoping:
 * `?since=` takes a log cursor (rows after it: an incremental export resumes from the last row's `cursor`) or an
 * ISO date-time (events received at or after it). Capture URLs are in it only for callers allowed to see them.
 */
export const REPORTS = {
  accounts: {
    field: "accountsReport",
    columns: ["projectId", "accountId", "accountName", "firstName", "lastName", "email", "phone", "role", "paymentStatus", "residenceId", "residenceNo", "familyName", "buildingId", "buildingName"],
  },
  devices: {
    field: "devicesReport",
    columns: ["projectId", "vendor", "deviceKey", "name", "deviceType", "online", "shared", "residenceId", "buildingId", "buildingName", "relayCount", "securityRelayCount"],
  },
  credentials: {
    field: "credentialsReport",
    columns: ["projectId", "accountId", "residenceId", "buildingId", "pinCodes", "rfCards", "faces", "accessGroups", "floors"],
  },
  "access-events": {
    field: "accessEventsReport",
    columns: ["projectId", "residenceId", "residenceNo", "buildingId", "occurredAt", "method", "success", "deviceName", "accountName"],
  },
  events: {
    field: "accessEvents",
    columns: [
      "cursor", "eventId", "kind", "method", "occurredAt", "receivedAt", "projectId", "buildingId", "residenceId", "deviceId", "deviceName", "relayId",
      "accountId", "accountName", "visitorTempKeyId", "detail", "vendor", "vendorEventType", "thumbnailUrl", "pictureUrl",
    ],
  },
} as const;

/** Further arguments of a report's query, from the export's query string (`events`: `since`). */
export interface ExportArgs {
  /** A log cursor (read after it) or an ISO date-time (received at or after it). */
  since?: string | null;
}

/** `since` as the report query's arguments: a cursor is `after`, anything else a `since` date-time. */
function sinceArgs(name: ExportName, args: ExportArgs): { after: string | null; since: string | null } {
  const since = args.since ?? null;
  if (since === null) return { after: null, since: null };
  if (name !== "events") throw new ExportError(400, "BAD_USER_INPUT", `since applies to the events export only`);
  if (isCursor(since)) return { after: since, since: null };
  if (!/^\d{4}-\d{2}-\d{2}T/.test(since) || !Number.isFinite(Date.parse(since))) throw new ExportError(400, "BAD_USER_INPUT", "since must be a cursor of the access-event log or an ISO date-time");
  return { after: null, since };
}

export type ExportName = keyof typeof REPORTS;
const PAGE = 100;

/** `/reports/accounts.csv` → `{ name: "accounts", format: "csv" }`, or null for another path. */
export function parseExportPath(pathname: string): { name: ExportName; format: "csv" | "json" } | null {
  const m = /^\/reports\/([a-z-]+)\.(csv|json)$/.exec(pathname);
  if (!m || !Object.hasOwn(REPORTS, m[1])) return null;
  return { name: m[1] as ExportName, format: m[2] as "csv" | "json" };
}

/**
 * A CSV cell: quoted when needed; a value a spreadsheet would run as a formula gets a `'` in front, at its start
 * and after every line break inside it (`=`, `+`, `-`, `@`, tab, CR: a spreadsheet starts a formula at any of them),
 * so an exported name can never execute in the analyst's spreadsheet. Plain numbers (`-12.5`) stay as they are.
 * `formulas: "raw"` (`?formulas=raw`) leaves values unescaped, for machine consumers that the apostrophe would
 * corrupt (a phone number `+44 …` read by a BI tool); only quoting is applied then.
 */
export function csvCell(value: unknown, formulas: "neutral" | "raw" = "neutral"): string {
  if (value === null || value === undefined) return "";
  let s = value instanceof Date ? value.toISOString() : String(value);
  if (formulas === "neutral" && !/^-?\d+(\.\d+)?$/.test(s)) s = s.replace(/(^|\r\n|\n|\r)(?=[=+\-@\t\r])/g, "$1'");
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export class ExportError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** `Retry-After` seconds of a 429. */
    readonly retryAfter?: string,
  ) {
    super(message);
  }
}

/** The trailer a complete export ends with (`X-Export-Status: complete`); a failed one has no end at all. */
export const EXPORT_STATUS_TRAILER = "X-Export-Status";

/**
 * Streams the report. The first page is fetched before any byte is written, so an error there (unauthenticated,
 * rate limited, vendor down) is an HTTP error with the JSON error body. The caller's rate limit is counted by that
 * first page only: the later pages of one export are one request. A later page failing cannot become an error
 * status any more, and a line or element saying so would be read as data, so the response is cut: the socket is
 * destroyed before the last chunk, every HTTP client sees an aborted transfer (a CSV without its end, a JSON
 * array never closed). A complete export ends with the trailer `X-Export-Status: complete` (announced in
 * `Trailer`), for clients that read trailers. `onCut` is told why (for the log).
 */
export async function streamReport(
  apollo: ApolloServer<GraphContext>,
  context: GraphContext,
  name: ExportName,
  format: "csv" | "json",
  projectId: string,
  res: ServerResponse,
  formulas: "neutral" | "raw" = "neutral",
  args: ExportArgs = {},
  onCut?: (error: unknown) => void,
): Promise<void> {
  const report = REPORTS[name];
  const start = sinceArgs(name, args);
  const query =
    name === "events"
      ? `query Export($p: ID!, $first: Int!, $after: String, $since: DateTime) { ${report.field}(projectId: $p, first: $first, after: $after, since: $since) {
    pageInfo { hasNextPage endCursor } nodes { ${report.columns.join(" ")} } } }`
      : `query Export($p: ID!, $first: Int!, $after: String) { ${report.field}(projectId: $p, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor } nodes { ${report.columns.join(" ")} } } }`;
  const page = async (after: string | null) => {
    const variables = name === "events" ? { p: projectId, first: PAGE, after: after ?? start.after, since: after ? null : start.since } : { p: projectId, first: PAGE, after };
    const result = await apollo.executeOperation({ query, variables }, { contextValue: context });
    const body = result.body.kind === "single" ? result.body.singleResult : undefined;
    const error = body?.errors?.[0];
    if (error || !body?.data) {
      const code = String(error?.extensions?.code ?? "INTERNAL_SERVER_ERROR");
      const status = { UNAUTHENTICATED: 401, FORBIDDEN: 403, BAD_USER_INPUT: 400, RATE_LIMITED: 429 }[code] ?? 502;
      throw new ExportError(status, code, error?.message ?? "the report failed", result.http.headers.get("retry-after") ?? undefined);
    }
    return body.data[report.field] as { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: Record<string, unknown>[] };
  };

  let current = await page(null);
  // Counted once, by the first page: the rest of the export is not another request.
  context.rateLimitCounted = true;
  res.writeHead(200, {
    "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
    "content-disposition": `attachment; filename="${name}-${projectId.replace(/[^A-Za-z0-9_-]/g, "")}.${format}"`,
    "cache-control": "no-store",
    trailer: EXPORT_STATUS_TRAILER,
  });
  let first = true;
  if (format === "csv") res.write(`${report.columns.join(",")}\r\n`);
  else res.write("[");
  for (;;) {
    for (const row of current.nodes) {
      if (format === "csv") res.write(`${report.columns.map((c) => csvCell(row[c], formulas)).join(",")}\r\n`);
      else {
        res.write(`${first ? "" : ","}\n${JSON.stringify(Object.fromEntries(report.columns.map((c) => [c, row[c] ?? null])))}`);
        first = false;
      }
    }
    if (!current.pageInfo.hasNextPage || !current.pageInfo.endCursor) break;
    // The page is written: its vendor answers are not needed again (the reports page by account or residence and
    // keep what the next page needs), so the export's memory does not grow with the project.
    context.akubela.releaseAnswers();
    try {
      current = await page(current.pageInfo.endCursor);
    } catch (error) {
      onCut?.(error);
      // No terminating chunk: the transfer is incomplete for every reader, never a well-formed shorter file.
      res.destroy();
      return;
    }
  }
  if (format === "json") res.write("\n]\n");
  res.addTrailers({ [EXPORT_STATUS_TRAILER]: "complete" });
  res.end();
}
