/**
 * Who sees which access events: decided where the log is read (the feed, subscriptions, webhooks), from the same
 * grant as every query. A project outside the caller's grant is FORBIDDEN before anything is read; every event is
 * checked against the asked project again as it passes, so an event of another project never leaves the log.
 * Capture pictures are served only to callers with the `events:pictures` scope (or their own vendor token, which
 * reads the same pictures from the vendor's history).
 */
import { allows } from "../auth/caller.js";
import { EVENT_SCOPES } from "../auth/policy.js";
import type { GraphContext } from "../context.js";
import { BadUserInputError, ForbiddenError, UnauthenticatedError } from "../errors.js";
import { isCursor, type AccessEventKind, type LoggedAccessEvent } from "./model.js";

export interface EventFilter {
  projectId: string;
  residenceId?: string | null;
  kinds?: readonly AccessEventKind[] | null;
}

export interface EventView {
  filter: EventFilter;
  pictures: boolean;
}

/** Checks the caller may read the project's events; answers what it may see. */
export async function authorizeEvents(ctx: GraphContext, filter: EventFilter): Promise<EventView> {
  const caller = ctx.caller;
  if (caller.refused) throw new UnauthenticatedError(`Authentication failed: ${caller.refused}`);
  if (caller.kind === "anonymous") throw new UnauthenticatedError();
  if (typeof filter.projectId !== "string" || !filter.projectId.trim() || filter.projectId.length > 128) throw new BadUserInputError("projectId must be a non-empty vendor id", "projectId");
  if (caller.kind === "api-key") {
    if (!allows(caller, EVENT_SCOPES.accessEvents, filter.projectId)) {
      throw new ForbiddenError(
        allows(caller, "read") ? `The API key "${caller.apiKey!.name}" may not touch project ${filter.projectId}` : `The API key "${caller.apiKey!.name}" lacks the "read" scope needed by accessEvents`,
      );
    }
    // A residence filter is proved the project's (its user list) before it is applied: another project's
    // residence is refused, not answered with an empty list.
    if (filter.residenceId) await ctx.akubela.verifyResidence(filter.projectId, filter.residenceId);
    return { filter, pictures: allows(caller, EVENT_SCOPES.accessEventPictures, filter.projectId) };
  }
  // A caller's own vendor token: the vendor decides what it reaches. Its own view of the project's user list is
  // asked once (fails closed: a token that cannot read the project gets the vendor's refusal).
  await ctx.akubela.projectAccounts(filter.projectId);
  if (filter.residenceId) await ctx.akubela.verifyResidence(filter.projectId, filter.residenceId);
  return { filter, pictures: true };
}

export function accepts(filter: EventFilter, e: LoggedAccessEvent): boolean {
  if (e.projectId !== filter.projectId) return false;
  if (filter.residenceId && e.residenceId !== filter.residenceId) return false;
  return !filter.kinds || filter.kinds.length === 0 || filter.kinds.includes(e.kind);
}

/** The event as this caller may see it (pictures removed unless allowed). */
export function present(view: EventView, e: LoggedAccessEvent) {
  return {
    buildingId: null,
    residenceId: null,
    deviceId: null,
    deviceName: null,
    relayId: null,
    accountId: null,
    accountName: null,
    visitorTempKeyId: null,
    detail: null,
    ...e,
    occurredAt: new Date(e.occurredAt),
    receivedAt: new Date(e.receivedAt),
    thumbnailUrl: view.pictures ? (e.thumbnailUrl ?? null) : null,
    pictureUrl: view.pictures ? (e.pictureUrl ?? null) : null,
  };
}

/** `after` (a log cursor) or `since` (a time) as the position to read after. */
export function startPosition(after: string | null | undefined, since: Date | null | undefined): string | null {
  if (after) {
    if (!isCursor(after)) throw new BadUserInputError("after is not a cursor of the access-event log", "after");
    return after;
  }
  if (since) {
    const ms = since.getTime();
    if (!Number.isFinite(ms)) throw new BadUserInputError("since must be a date-time", "since");
    return ms <= 0 ? "0-0" : `${ms - 1}-18446744073709551615`;
  }
  return null;
}
