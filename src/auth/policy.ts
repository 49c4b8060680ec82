import type { ApolloServerPlugin } from "@apollo/server";
import {
  getArgumentValues,
  getVariableValues,
  Kind,
  type OperationTypeNode,
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
import { declaredScope } from "./scope.js";

/**
 * Access events (src/events, issue 17): `Query.accessEvents` and `Subscription.accessEvents` declare `read` (on the
 * asked project; checked again where the log is read, `src/events/access.ts`, because graphql-ws and graphql-sse
 * do not pass through this plugin). Capture pictures in events need `events:pictures` too: without it
 * `thumbnailUrl` / `pictureUrl` are null.
 */
export const EVENT_SCOPES = { accessEvents: "read", accessEventPictures: "events:pictures" } as const satisfies Record<string, Scope>;

/** Root fields over site-wide Aliyun persons: for keys that may touch every project. */
const SITE_WIDE_FIELDS = new Set(["aliyunPerson", "aliyunPersons"]);

const rootType = (schema: GraphQLSchema, operation: OperationTypeNode | "query" | "mutation" | "subscription") =>
  operation === "mutation" ? schema.getMutationType() : operation === "subscription" ? schema.getSubscriptionType() : schema.getQueryType();

/**
 * The scope a root field declares on itself (`@RequiresScope` on its resolver, src/auth/scope.ts; `read` for
 * federation's `_entities` / `_service`); undefined for a field that declares none, which is refused.
 */
export function scopeOf(schema: GraphQLSchema, operation: "query" | "mutation" | "subscription", field: string): Scope | undefined {
  return declaredScope(rootType(schema, operation)?.getFields()[field]);
}

/** A refusal of the whole operation, before execution: HTTP 403 (a field refused during execution stays 200). */
const refuse = (message: string) => new ForbiddenError(message, { http: { status: 403 } });

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
          if (!operation) return;
          // Every root field states its scope; one that does not is refused, whoever calls.
          const scoped = vendorFields.map((field) => {
            const scope = scopeOf(schema, operation.operation, field.name.value);
            if (!scope) throw refuse(`${field.name.value} declares no scope: it is refused until it does`);
            return { field, scope };
          });
          // A caller's own token: proven by the vendor (once per BEARER_VERIFY_SECONDS) before anything is answered,
          // from the cache or from fields that make no vendor call.
          if (caller.kind === "vendor-token" && scoped.length > 0) {
            try {
              // (Every context createContext builds has both; a bare test server's context may not.)
              await contextValue.akubela?.proveCaller(contextValue.config?.akubela.projectIds[0]);
            } catch (error) {
              const extensions = (error as { extensions?: { code?: unknown; upstream?: unknown } }).extensions;
              if (extensions?.code === "UNAUTHENTICATED") throw new UnauthenticatedError((error as Error).message, { upstream: extensions.upstream });
              throw error;
            }
          }
          if (caller.kind !== "api-key") return;
          checkApiKey(contextValue, operation, scoped, schema, request.variables, siteMap);
        },
        async willSendResponse({ response }) {
          if (response.body.kind !== "single" || response.http.status) return;
          const status = statusOfRefusal(response.body.singleResult);
          if (status) response.http.status = status;
        },
      };
    },
  };
}

/**
 * The HTTP status of an operation the data layer refused as a whole: nothing answered (no data, or every root
 * field null) and every error a `FORBIDDEN` (403) or every one an `UNAUTHENTICATED` (401). An operation refused
 * only in part keeps 200, with its partial data and the errors at their paths.
 */
export function statusOfRefusal(result: { data?: Record<string, unknown> | null; errors?: readonly { extensions?: Record<string, unknown> }[] }): 401 | 403 | undefined {
  const codes = new Set((result.errors ?? []).map((e) => e.extensions?.code));
  const nothingAnswered = !result.data || Object.values(result.data).every((v) => v === null);
  if (!nothingAnswered || codes.size !== 1) return undefined;
  return codes.has("FORBIDDEN") ? 403 : codes.has("UNAUTHENTICATED") ? 401 : undefined;
}

/**
 * The API key's scopes and projects, on the argument values that will execute: the request's variables coerced
 * as execution coerces them (defaults of omitted variables included), so a defaulted variable is checked too.
 */
function checkApiKey(
  ctx: GraphContext,
  operation: OperationDefinitionNode,
  fields: { field: FieldNode; scope: Scope }[],
  schema: GraphQLSchema,
  rawVariables: Record<string, unknown> | undefined,
  siteMap: SiteMap,
): void {
  const caller = ctx.caller;
  const key = caller.apiKey!;
  const root = rootType(schema, operation.operation);
  for (const { field, scope } of fields) {
    const name = field.name.value;
    if (!allows(caller, scope)) throw refuse(`The API key "${key.name}" lacks the "${scope}" scope needed by ${name}`);
  }
  if (key.projects === "*") return;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables ?? {});
  // Variables that cannot be coerced stop execution before any resolver runs (answered as BAD_USER_INPUT there).
  if (coerced.errors) return;
  const variables = coerced.coerced;
  for (const { field, scope } of fields) {
    const name = field.name.value;
    if (SITE_WIDE_FIELDS.has(name)) throw refuse(`${name} reads site-wide Aliyun data: the API key "${key.name}" is limited to some projects`);
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
        throw refuse(
          project === null
            ? `${name} refers to site-wide data the API key "${key.name}" may not touch`
            : `The API key "${key.name}" may not touch project ${project}`,
        );
      }
    }
  }
}
