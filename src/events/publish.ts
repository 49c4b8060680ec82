/**
 * The graph's own mutations as events, published at once (no polling): a door opening requested through the
 * graph, credentials created and deleted, keep-open changes, permission changes. One middleware, named on each
 * mutation with `@UseMiddleware(PublishesAccessEvent)`: it reads the mutation's name, its input's global IDs and
 * its payload, and publishes only what was carried out (a payload without `userErrors`; a door opening also when
 * its outcome is `UNKNOWN`: the command left).
 *
 * Publishing never changes the mutation's answer: the vendor already acted. A log that cannot be written is
 * logged (with no input values) and counted.
 */
import { randomUUID } from "node:crypto";
import type { MiddlewareFn } from "type-graphql";
import type { GraphContext } from "../context.js";
import { fromGlobalId, type DecodedId } from "../lib/global-id.js";
import { eventIdOf, type AccessEventData, type AccessEventKind } from "./model.js";

const MUTATION_KINDS: Record<string, AccessEventKind> = {
  doorOpen: "REMOTE_OPEN_REQUESTED",
  keepOpenSet: "KEEP_OPEN_CHANGED",
  pinCodeCreate: "CREDENTIAL_CREATED",
  rfCardCreate: "CREDENTIAL_CREATED",
  faceCreate: "CREDENTIAL_CREATED",
  credentialDelete: "CREDENTIAL_DELETED",
  floorAccessUpdate: "PERMISSION_CHANGED",
  cardPermissionsGrant: "PERMISSION_CHANGED",
  cardPermissionsRevoke: "PERMISSION_CHANGED",
  qrCodePermissionsSet: "PERMISSION_CHANGED",
  qrCodePermissionsRemove: "PERMISSION_CHANGED",
  qrCodeGrant: "PERMISSION_CHANGED",
  doorPasswordsSet: "PERMISSION_CHANGED",
};

/** Every global ID in a value, decoded. */
function idsIn(value: unknown): DecodedId[] {
  if (typeof value === "string") {
    const id = fromGlobalId(value);
    return id ? [id] : [];
  }
  if (Array.isArray(value)) return value.flatMap(idsIn);
  if (value && typeof value === "object") return Object.values(value).flatMap(idsIn);
  return [];
}

interface Refs {
  projectId: string;
  residenceId?: string | null;
  deviceId?: string | null;
  relayId?: string | null;
  accountId?: string | null;
  vendor: "akubela" | "aliyun";
}

/** What a mutation's input names, per project (an Aliyun device's project from the site map). */
function refsOf(ids: DecodedId[], ctx: GraphContext): Refs[] {
  const byProject = new Map<string, Refs>();
  const at = (projectId: string, vendor: Refs["vendor"]) => {
    let r = byProject.get(projectId);
    if (!r) byProject.set(projectId, (r = { projectId, vendor }));
    return r;
  };
  for (const id of ids) {
    const p = id.parts;
    switch (id.type) {
      case "AkuvoxDevice":
        Object.assign(at(p[0]!, "akubela"), { deviceId: p[1], ...(p[2] ? { residenceId: p[2] } : {}) });
        break;
      case "Relay":
        at(p[0]!, "akubela").relayId = p[p.length - 1];
        break;
      case "Residence":
        at(p[0]!, "akubela").residenceId ??= p[1];
        break;
      case "Account":
      case "PinCode":
      case "RfCard":
      case "Face":
        Object.assign(at(p[0]!, "akubela"), { residenceId: p[1], accountId: p[2] });
        break;
      case "AliyunAccessControlDevice": {
        let projectId: string | null = null;
        try {
          projectId = ctx.aliyun.device(p[0]!).projectId;
        } catch {
          projectId = null; // a device the caller may not see was refused by the mutation itself
        }
        if (projectId) at(projectId, "aliyun").deviceId ??= p[0];
        break;
      }
      default:
        break;
    }
  }
  return [...byProject.values()];
}

const succeeded = (field: string, payload: Record<string, unknown> | null | undefined) => {
  if (!payload || (Array.isArray(payload.userErrors) && payload.userErrors.length > 0 && field !== "doorOpen")) return false;
  if (field === "doorOpen") return payload.outcome === "OPENED" || payload.outcome === "UNKNOWN";
  return true;
};

/** A stable part of the payload, so an idempotent replay of the same mutation is the same event. */
function stableKey(field: string, input: Record<string, unknown>, payload: Record<string, unknown>): string {
  if (field === "doorOpen" && typeof payload.vendorRequestId === "string") return payload.vendorRequestId;
  for (const k of ["pinCode", "rfCard", "face"] as const) {
    const c = payload[k] as Record<string, unknown> | null | undefined;
    const id = c?.pinCodeId ?? c?.rfCardId ?? c?.faceId;
    if (typeof id === "string") return `${k}:${id}`;
  }
  if (field === "credentialDelete" && typeof input.id === "string") return input.id;
  return randomUUID();
}

export const PublishesAccessEvent: MiddlewareFn<GraphContext> = async ({ args, context, info }, next) => {
  const payload = (await next()) as Record<string, unknown> | null | undefined;
  const field = info.fieldName;
  const kind = MUTATION_KINDS[field];
  if (!kind || !succeeded(field, payload) || !context.events) return payload;
  const input = ((args as { input?: Record<string, unknown> }).input ?? {}) as Record<string, unknown>;
  const now = new Date();
  const key = stableKey(field, input, payload!);
  const events: AccessEventData[] = refsOf(idsIn(input), context).map((r) => ({
    eventId: eventIdOf({ s: "graph", f: field, k: key, p: r.projectId }),
    kind,
    method: field === "doorOpen" ? "REMOTE" : null,
    occurredAt: now.toISOString(),
    receivedAt: now.toISOString(),
    vendor: "graph",
    vendorEventType: field,
    projectId: r.projectId,
    residenceId: r.residenceId ?? null,
    deviceId: r.deviceId ?? null,
    relayId: field === "doorOpen" ? ((payload!.relayId as string | null) ?? r.relayId ?? null) : (r.relayId ?? null),
    accountId: r.accountId ?? null,
    detail: field === "doorOpen" ? String(payload!.outcome) : field === "keepOpenSet" ? `keepOpen=${input.keepOpen === true}` : field,
  }));
  try {
    await context.events.publish(events);
  } catch (error) {
    context.logger.warn("access event not published", { mutation: field, error: error instanceof Error ? error.message : String(error) });
  }
  return payload;
};
