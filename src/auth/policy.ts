import type { ApolloServerPlugin } from "@apollo/server";
import {
  getArgumentValues,
  Kind,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";
import type { GraphContext } from "../context.js";
import { ForbiddenError, UnauthenticatedError } from "../errors.js";
import { fromGlobalId } from "../lib/global-id.js";
import type { SiteMap } from "../site-map.js";
import type { Scope } from "./api-keys.js";
import { allows } from "./caller.js";

/** Mutations that open doors need `door:open`; a check that changes nothing needs `read`; the rest `write`. */
export const DOOR_MUTATIONS = new Set(["doorOpen", "keepOpenSet"]);
export const READ_MUTATIONS = new Set(["devicePermissionCheck"]);
/**
 * Access events (src/events, issue 17): `Query.accessEvents` and `Subscription.accessEvents` need `read` on the
 * asked project (the default above; checked again where the log is read, `src/events/access.ts`, because
 * graphql-ws and graphql-sse do not pass through this plugin). Capture pictures in events need `events:pictures`
 * too: without it `thumbnailUrl` / `pictureUrl` are null.
 */
export const EVENT_SCOPES = { accessEvents: "read", accessEventPictures: "events:pictures" } as const satisfies Record<string, Scope>;

/** Root fields over site-wide Aliyun persons: for keys that may touch every project. */
const SITE_WIDE_FIELDS = new Set(["aliyunPerson", "aliyunPersons"]);

export function scopeOf(operation: "query" | "mutation" | "subscription", field: string): Scope {
  if (operation !== "mutation") return "read";
  if (DOOR_MUTATIONS.has(field)) return "door:open";
  return READ_MUTATIONS.has(field) ? "read" : "write";
}

/** Root fields of an operation, through inline fragments and fragment spreads. */
function rootFields(selectionSet: SelectionSetNode, document: DocumentNode): FieldNode[] {
  return selectionSet.selections.flatMap((s) => {
    if (s.kind === Kind.FIELD) return [s];
    if (s.kind === Kind.INLINE_FRAGMENT) return rootFields(s.selectionSet, document);
    const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === s.name.value);
    return fragment && fragment.kind === Kind.FRAGMENT_DEFINITION ? rootFields(fragment.selectionSet, document) : [];
  });
}

/**
 * The projects an argument value refers to: `projectId` strings, and every string that is one of our global IDs
 * (its first part is the project for Akubela objects; an Aliyun device's project comes from the site map). `null`
 * marks a reference to something no single project owns (an Aliyun person, an unmapped device).
 */
export function projectsReferenced(value: unknown, siteMap: SiteMap, key = ""): (string | null)[] {
  if (typeof value === "string") {
    if (key === "projectId") return [value];
    const id = fromGlobalId(value);
    if (!id) return key === "identityId" || key === "iotId" ? [key === "iotId" ? (siteMap.device(value)?.projectId ?? null) : null] : [];
    if (id.type === "AliyunPerson") return [null];
    if (id.type === "AliyunAccessControlDevice") return [siteMap.device(id.parts[0])?.projectId ?? null];
    if (id.type === "CardPermission") return [siteMap.device(id.parts[1])?.projectId ?? null];
    return [id.parts[0]];
  }
  if (Array.isArray(value)) return value.flatMap((v) => projectsReferenced(v, siteMap, key));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => projectsReferenced(v, siteMap, k));
  return [];
}

/**
 * Authentication and authorisation, decided once the operation is known and before any resolver runs, so no
 * vendor call is made for a caller who may not: `UNAUTHENTICATED` for no or a wrong credential; `FORBIDDEN` for a
 * missing scope or a project outside the API key's.
 */
export function authorize(siteMap: SiteMap): ApolloServerPlugin<GraphContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, operation, document, schema, request }) {
          const caller = contextValue.caller;
          if (caller.refused) throw new UnauthenticatedError(`Authentication failed: ${caller.refused}`);
          const fields = operation ? rootFields(operation.selectionSet, document) : [];
          const vendorFields = fields.filter((f) => !f.name.value.startsWith("__"));
          if (caller.kind === "anonymous") {
            if (!operation || vendorFields.length > 0) throw new UnauthenticatedError();
            return;
          }
          if (!operation || caller.kind !== "api-key") return;
          checkApiKey(contextValue, operation, vendorFields, schema, request.variables ?? {}, siteMap);
        },
      };
    },
  };
}

function checkApiKey(
  ctx: GraphContext,
  operation: OperationDefinitionNode,
  fields: FieldNode[],
  schema: GraphQLSchema,
  variables: Record<string, unknown>,
  siteMap: SiteMap,
): void {
  const caller = ctx.caller;
  const key = caller.apiKey!;
  const root = operation.operation === "mutation" ? schema.getMutationType() : schema.getQueryType();
  for (const field of fields) {
    const name = field.name.value;
    const scope = scopeOf(operation.operation, name);
    if (!allows(caller, scope)) throw new ForbiddenError(`The API key "${key.name}" lacks the "${scope}" scope needed by ${name}`);
    if (key.projects === "*") continue;
    if (SITE_WIDE_FIELDS.has(name)) throw new ForbiddenError(`${name} reads site-wide Aliyun data: the API key "${key.name}" is limited to some projects`);
    const definition = root?.getFields()[name];
    if (!definition) continue;
    let args: Record<string, unknown>;
    try {
      args = getArgumentValues(definition, field, variables);
    } catch {
      continue; // a bad argument is answered by validation and execution, not here
    }
    for (const project of projectsReferenced(args, siteMap)) {
      if (project === null || !allows(caller, scope, project)) {
        throw new ForbiddenError(
          project === null
            ? `${name} refers to site-wide data the API key "${key.name}" may not touch`
            : `The API key "${key.name}" may not touch project ${project}`,
        );
      }
    }
  }
}
