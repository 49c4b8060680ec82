import { Arg, Ctx, ID, Int, Query, Resolver, Root, Subscription } from "type-graphql";
import type { GraphContext } from "../../context.js";
import { accepts, authorizeEvents, present, startPosition, type EventFilter } from "../../events/access.js";
import { followLog } from "../../events/log.js";
import type { AccessEventKind as Kind, LoggedAccessEvent } from "../../events/model.js";
import { BadUserInputError } from "../../errors.js";
import { DateTimeScalar } from "../common/scalars.js";
import { AccessEventKind, AccessLogEvent, AccessLogEventConnection } from "./access-event.type.js";
import { RequiresScope } from "../../auth/scope.js";

const MAX_FIRST = 100;
/** Entries of the log one query scans at most, matching or not: a page of a sparse filter ends there. */
const SCAN_LIMIT = 5000;

function logOf(ctx: GraphContext) {
  if (!ctx.events) throw new Error("the access-event log is not configured");
  return ctx.events;
}

function filterOf(projectId: string, residenceId: string | null | undefined, kinds: string[] | null | undefined): EventFilter {
  if (residenceId !== undefined && residenceId !== null && (!residenceId.trim() || residenceId.length > 128)) throw new BadUserInputError("residenceId must be a non-empty vendor id", "residenceId");
  return { projectId, residenceId, kinds: kinds as Kind[] | null | undefined };
}

@Resolver(() => AccessLogEvent)
export class AccessEventResolver {
  @RequiresScope("read")
  @Query(() => AccessLogEventConnection, {
    description:
      "Access events of a project in log order (oldest first), for catch-up and BI: door openings and attempts, calls, device status, and changes made through the graph. Resume with `after: pageInfo.endCursor`; the log keeps EVENTS_RETENTION_HOURS (default 7 days).",
  })
  async accessEvents(
    @Arg("projectId", () => ID, { description: "The vendor's project id." }) projectId: string,
    @Arg("after", () => String, { nullable: true, description: "Events after this cursor (an event's `cursor` or a page's `endCursor`)." }) after: string | null,
    @Arg("since", () => DateTimeScalar, { nullable: true, description: "Events received at or after this time (ignored with `after`)." }) since: Date | null,
    @Arg("first", () => Int, { nullable: true, description: `How many events (default 20, at most ${MAX_FIRST}).` }) first: number | null,
    @Arg("kinds", () => [AccessEventKind], { nullable: true, description: "Only these kinds (default: all)." }) kinds: string[] | null,
    @Arg("residenceId", () => ID, { nullable: true, description: "Only events of this residence." }) residenceId: string | null,
    @Ctx() ctx: GraphContext,
  ) {
    const count = first ?? 20;
    if (!Number.isInteger(count) || count < 0) throw new BadUserInputError("first must be zero or more", "first");
    const position = startPosition(after, since);
    const view = await authorizeEvents(ctx, filterOf(projectId, residenceId, kinds));
    const log = logOf(ctx);
    const wanted = Math.min(count, MAX_FIRST);
    const found: LoggedAccessEvent[] = [];
    let cursor = position;
    let scanned = 0;
    let more = false;
    while (found.length < wanted && scanned < SCAN_LIMIT) {
      const page = await log.read(cursor, Math.min(500, SCAN_LIMIT - scanned));
      for (const e of page) {
        scanned++;
        cursor = e.cursor;
        if (accepts(view.filter, e)) found.push(e);
        if (found.length === wanted) break;
      }
      if (page.length === 0) break;
    }
    if (found.length === wanted || scanned >= SCAN_LIMIT) more = (await log.read(cursor, 1)).length > 0;
    const nodes = found.map((e) => present(view, e));
    return {
      edges: nodes.map((node) => ({ cursor: node.cursor, node })),
      nodes,
      pageInfo: { hasNextPage: more, hasPreviousPage: position !== null, startCursor: nodes[0]?.cursor ?? null, endCursor: cursor ?? null },
    };
  }

  @RequiresScope("read")
  @Subscription(() => AccessLogEvent, {
    name: "accessEvents",
    description:
      "Access events of a project as they arrive, over graphql-ws (WebSocket on /graphql) or graphql-sse (/graphql/stream). Pass `after` (the last `cursor` received) to resume after a reconnect: nothing within the retention is missed, nothing is repeated.",
    subscribe: async ({ args, context }) => {
      const ctx = context as GraphContext;
      const a = args as { projectId: string; residenceId?: string | null; kinds?: string[] | null; after?: string | null };
      const position = startPosition(a.after, null);
      const view = await authorizeEvents(ctx, filterOf(a.projectId, a.residenceId, a.kinds));
      const events = followLog(logOf(ctx), position, (e) => accepts(view.filter, e));
      return {
        [Symbol.asyncIterator]: () => ({
          next: async () => {
            const r = await events.next();
            return r.done ? r : { done: false, value: present(view, r.value) };
          },
          return: () => events.return!(),
        }),
      } as AsyncIterable<unknown>;
    },
  })
  accessEventsSubscription(
    @Root() event: AccessLogEvent,
    @Arg("projectId", () => ID, { description: "The vendor's project id." }) _projectId: string,
    @Arg("residenceId", () => ID, { nullable: true, description: "Only events of this residence." }) _residenceId: string | null,
    @Arg("kinds", () => [AccessEventKind], { nullable: true, description: "Only these kinds (default: all)." }) _kinds: string[] | null,
    @Arg("after", () => String, { nullable: true, description: "Resume after this cursor (default: from now on)." }) _after: string | null,
  ): AccessLogEvent {
    return event;
  }
}
