import type { AkubelaState, Account, Device, Project, Residence, VisitorTempKey } from "../state.js";
import { findResidence } from "../state.js";
import type { Schema } from "../validate.js";
import { int, str } from "../validate.js";

export type Endpoint = "manager-commands" | "user-commands";

/**
 * Failure codes the simulator answers with (in the failure envelope's `code`). The documents omit the failure
 * answer; these snake_case codes are the simulator's choice.
 */
export type FailureCode =
  | "unauthorized"
  | "invalid_json"
  | "invalid_request"
  | "unsupported_media_type"
  | "payload_too_large"
  | "command_not_found"
  | "invalid_param"
  | "not_found"
  | "conflict"
  | "device_offline"
  | "route_not_found"
  | "internal_error";

/** A business failure raised by a handler: answered with HTTP 200 and `success: false`. */
export class SimError extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
  ) {
    super(message);
    this.name = "SimError";
  }
}

export const invalidParam = (message: string): never => {
  throw new SimError("invalid_param", message);
};
export const notFound = (message: string): never => {
  throw new SimError("not_found", message);
};
export const conflict = (message: string): never => {
  throw new SimError("conflict", message);
};

/** What a handler gets besides its parameters. */
export interface CommandContext {
  state: AkubelaState;
  /** The current time (one value per request). */
  now: Date;
  maxPageSize: number;
}

/**
 * One vendor command: where it is answered, the document it follows, its parameter schema (used to validate and
 * to document), and the handler that answers `result` (or throws a {@link SimError}).
 */
export interface CommandDef<P = unknown> {
  name: string;
  endpoint: Endpoint;
  /** The vendor document (file under /work/shared/vendor-docs) and its section title. */
  doc: string;
  param: Schema<P>;
  handle(param: P, ctx: CommandContext): unknown;
}

/** Declares a command with its handler typed by the schema. */
export function command<P>(def: CommandDef<P>): CommandDef<P> {
  return def;
}

// ---- shared parameter schemas --------------------------------------------------------------------------------------

export const projectId = str("项目ID / project id");
export const residenceId = str("住宅ID / residence id");
export const accountId = str("賬號ID / account id");
export const pageSize = int("每页数量 / page size (clamped to the simulator's maxPageSize)", { min: 1 });
export const pageIndex = int("当前页数 / page number, from 1", { min: 1 });

// ---- lookups ---------------------------------------------------------------------------------------------------

export function requireProject(ctx: CommandContext, projectIdValue: string, path = "param.project_id"): Project {
  return ctx.state.projects.get(projectIdValue) ?? notFound(`${path}: no such project`);
}

export function requireResidenceIn(project: Project, id: string, path = "param.residence_id"): Residence {
  return project.residences.get(id) ?? notFound(`${path}: no such residence in the project`);
}

/** A residence by id in any project (user-commands name only the residence). */
export function requireResidence(ctx: CommandContext, id: string): { project: Project; residence: Residence } {
  return findResidence(ctx.state, id) ?? notFound("param.residence_id: no such residence");
}

/** The account, checked to belong to the residence, which is checked to belong to the project. */
export function requireAccount(
  project: Project,
  residenceIdValue: string,
  accountIdValue: string,
  path = "param",
): Account {
  requireResidenceIn(project, residenceIdValue, `${path}.residence_id`);
  const account = project.accounts.get(accountIdValue);
  if (!account || account.residence_id !== residenceIdValue) {
    return notFound(`${path}.account_id: no such account in the residence`);
  }
  return account;
}

export function requireVisitorKey(project: Project, id: string, path = "param.visitor_temp_key_id"): VisitorTempKey {
  return project.visitor_temp_keys.get(id) ?? notFound(`${path}: no such visitor temp key in the project`);
}

/**
 * One page of `items`: `page_index` from 1, `page_size` clamped silently to `maxPageSize`; past the end is `[]`.
 */
export function paginate<T>(items: readonly T[], pageIndexValue: number, pageSizeValue: number, maxPageSize: number): T[] {
  const size = Math.min(pageSizeValue, maxPageSize);
  const start = (pageIndexValue - 1) * size;
  return start >= items.length ? [] : items.slice(start, start + size);
}

// ---- answer shapes ---------------------------------------------------------------------------------------------

const relayRow = (r: { relay_id: string; relay_name: string; relay_number: string }) => ({
  relay_name: r.relay_name,
  relay_number: r.relay_number,
  relay_id: r.relay_id,
});

/** A device as `get_visitor_temp_key_device_list` and `get_visitor_temp_key_info` answer it (000). */
export function visitorDeviceRow(d: Device, relayIds?: readonly string[], securityRelayIds?: readonly string[]) {
  return {
    device_id: d.device_id,
    device_name: d.device_name,
    mac: d.mac,
    building_id: d.building_id,
    building_name: d.building_name,
    online: d.online,
    device_type: d.device_type,
    security_relays: d.security_relays
      .filter((r) => !securityRelayIds || securityRelayIds.includes(r.relay_id))
      .map(relayRow),
    relays: d.relays.filter((r) => !relayIds || relayIds.includes(r.relay_id)).map(relayRow),
  };
}

export { relayRow };
