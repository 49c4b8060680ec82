import type { ApolloServerPlugin } from "@apollo/server";
import { HeaderMap } from "@apollo/server";
import {
  Kind,
  getNamedType,
  isListType,
  isNonNullType,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  isObjectType,
  isInterfaceType,
  type GraphQLNamedType,
  GraphQLError,
  type ValidationRule,
} from "graphql";
import type { Cache } from "../cache/cache.js";
import { KEY_PREFIX } from "../cache/read-through.js";
import type { GraphContext } from "../context.js";
import { LimitError, type ErrorCode } from "../errors.js";

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  /** Highest estimated cost: every field costs 1, a list field multiplies what is under it by its size. */
  maxCost: number;
  /** Size assumed for a list without `first` (a connection's `first` default is 20). */
  listSize: number;
  /** Requests a caller may make per window, shared across instances through the cache. */
  rateLimit: { perWindow: number; windowMs: number };
}

const limitError = (code: ErrorCode, message: string, status = 400, headers?: HeaderMap) => new LimitError(message, code, status, headers);

/** What the limits measure of an operation (introspection fields are not counted: tools need them whole). */
export interface OperationMeasure {
  depth: number;
  aliases: number;
  cost: number;
}

/**
 * Root list fields whose size is an argument's: `_entities` resolves one object per representation and `nodes` one
 * per ID, so each is counted (a gateway's 5,000 references cost 5,000, not `listSize`).
 */
const LIST_SIZE_ARGUMENTS: Record<string, string> = { _entities: "representations", nodes: "ids" };

export function measure(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>, listSize: number): OperationMeasure {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  let aliases = 0;
  let depth = 0;

  const fieldsOf = (type: GraphQLNamedType | undefined): Record<string, GraphQLField<unknown, unknown>> =>
    type && (isObjectType(type) || isInterfaceType(type)) ? type.getFields() : {};
  const firstOf = (node: FieldNode): number | undefined => {
    const arg = node.arguments?.find((a) => a.name.value === "first")?.value;
    const value = arg?.kind === Kind.INT ? Number(arg.value) : arg?.kind === Kind.VARIABLE ? Number(variables[arg.name.value]) : NaN;
    return Number.isFinite(value) && value > 0 ? Math.min(value, 100) : undefined;
  };

  /** The length of a list argument (a literal list, or a variable holding one); undefined when it is neither. */
  const listArgLength = (node: FieldNode, name: string): number | undefined => {
    const arg = node.arguments?.find((a) => a.name.value === name)?.value;
    if (arg?.kind === Kind.LIST) return arg.values.length;
    const value = arg?.kind === Kind.VARIABLE ? variables[arg.name.value] : undefined;
    return Array.isArray(value) ? value.length : undefined;
  };

  /**
   * Cost of a selection set: each field 1, times how many times it is resolved. A list field counts its size: the
   * `first` of the connection above it (for `nodes` / `edges`), else `listSize`. A connection field (one taking
   * `first`) hands its page size down.
   */
  const walk = (set: SelectionSetNode, type: GraphQLNamedType | undefined, level: number, seen: Set<string>, pageSize: number | undefined): number => {
    let cost = 0;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        if (s.name.value.startsWith("__")) continue;
        if (s.alias) aliases++;
        depth = Math.max(depth, level);
        const field = fieldsOf(type)[s.name.value];
        const unwrapped = field ? (isNonNullType(field.type) ? field.type.ofType : field.type) : undefined;
        const isList = unwrapped ? isListType(unwrapped) : false;
        const sizedBy = level === 1 ? LIST_SIZE_ARGUMENTS[s.name.value] : undefined;
        const count = isList ? ((sizedBy ? listArgLength(s, sizedBy) : undefined) ?? pageSize ?? listSize) : 1;
        const takesFirst = field?.args.some((a) => a.name === "first") ?? false;
        const childPage = !isList && takesFirst ? (firstOf(s) ?? 20) : undefined;
        const below = s.selectionSet ? walk(s.selectionSet, field ? getNamedType(field.type) : undefined, level + 1, seen, childPage) : 0;
        cost += count * (1 + below);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        const on = s.typeCondition ? (schema.getType(s.typeCondition.name.value) ?? undefined) : type;
        cost += walk(s.selectionSet, on, level, seen, pageSize);
      } else {
        const fragment = fragments.get(s.name.value);
        if (!fragment || seen.has(fragment.name.value)) continue;
        cost += walk(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) ?? type, level, new Set([...seen, fragment.name.value]), pageSize);
      }
    }
    return cost;
  };
  const root = operation.operation === "mutation" ? schema.getMutationType() : operation.operation === "subscription" ? schema.getSubscriptionType() : schema.getQueryType();
  const cost = walk(operation.selectionSet, root ?? undefined, 1, new Set(), undefined);
  return { depth, aliases, cost };
}

/**
 * Measures kept per parsed document (Apollo hands the same `DocumentNode` to every request of one query text, from
 * its document store) and per operation and variables (a variable may hold a page size or a list): a client
 * repeating its query does not pay the walk again. Bounded per document; a document no longer cached by Apollo
 * takes its measures with it (a WeakMap).
 */
class MeasureMemo {
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, OperationMeasure>>();

  of(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined, compute: () => OperationMeasure): OperationMeasure {
    let known = this.byDocument.get(document);
    if (!known) this.byDocument.set(document, (known = new Map()));
    let key: string;
    try {
      key = `${operation.name?.value ?? ""}|${variables ? JSON.stringify(variables) : ""}`;
    } catch {
      return compute();
    }
    let m = known.get(key);
    if (!m) {
      m = compute();
      if (known.size >= 64) known.delete(known.keys().next().value as string);
      known.set(key, m);
    }
    return m;
  }
}

/**
 * Query limits and the per-caller rate limit, decided before execution (after authentication, so the key is
 * known): `QUERY_TOO_DEEP`, `TOO_MANY_ALIASES`, `QUERY_TOO_COMPLEX` (HTTP 400) and `RATE_LIMITED` (HTTP 429 with
 * `Retry-After`). The rate counters live in the shared cache, so the limit holds across instances; with the cache
 * down, a per-instance counter stands in (fail-open, but not unlimited).
 */
export function queryLimits(limits: QueryLimits, cache: Cache): ApolloServerPlugin<GraphContext> {
  const counter = rateCounter(limits.rateLimit.windowMs, cache);
  const measured = new MeasureMemo();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, operation, document, schema, request }) {
          if (!operation) return;
          const m = measured.of(document, operation, request.variables, () => measure(schema, document, operation, request.variables ?? {}, limits.listSize));
          if (m.depth > limits.maxDepth) throw limitError("QUERY_TOO_DEEP", `The query is ${m.depth} levels deep; at most ${limits.maxDepth} are allowed`);
          if (m.aliases > limits.maxAliases) throw limitError("TOO_MANY_ALIASES", `The query uses ${m.aliases} aliases; at most ${limits.maxAliases} are allowed`);
          if (m.cost > limits.maxCost) {
            throw limitError(
              "QUERY_TOO_COMPLEX",
              `The query's estimated cost is ${m.cost}; at most ${limits.maxCost} is allowed (each field costs 1, a list multiplies what it holds by its \`first\`, or ${limits.listSize}). Ask for fewer items per page.`,
            );
          }
          const caller = contextValue.caller;
          // Only callers the facade authenticated itself (API keys) are counted: a made-up Bearer token must not
          // create a counter (each would take room in the cache). Vendor-token callers are limited by the vendor.
          if (caller.kind !== "api-key" || contextValue.rateLimitCounted) return;
          const counted = await counter(caller.id);
          if (counted.count > limits.rateLimit.perWindow) {
            const retryAfter = Math.max(1, Math.ceil(counted.resetMs / 1000));
            throw limitError(
              "RATE_LIMITED",
              `Too many requests for ${caller.id}: ${limits.rateLimit.perWindow} per ${limits.rateLimit.windowMs / 1000} s; retry in ${retryAfter} s`,
              429,
              new HeaderMap([["retry-after", String(retryAfter)]]),
            );
          }
        },
      };
    },
  };
}

/**
 * Counts requests per key (a caller id, `anon:<address>`) in fixed windows of `windowMs`. The counters live in the
 * shared cache, so a limit holds across instances; with the cache down, a per-instance counter stands in
 * (fail-open, but not unlimited).
 */
export function rateCounter(windowMs: number, cache: Cache): (key: string) => Promise<{ count: number; resetMs: number }> {
  const local = new Map<string, { count: number; resetAt: number }>();
  const countLocally = (key: string) => {
    const now = Date.now();
    const entry = local.get(key);
    if (!entry || entry.resetAt <= now) {
      local.set(key, { count: 1, resetAt: now + windowMs });
      if (local.size > 10_000) for (const [k, v] of local) if (v.resetAt <= now) local.delete(k);
      return { count: 1, resetMs: windowMs };
    }
    entry.count++;
    return { count: entry.count, resetMs: entry.resetAt - now };
  };
  return async (key) => {
    const windowKey = `${KEY_PREFIX}:rate:${key}:${Math.floor(Date.now() / windowMs)}`;
    return (await cache.increment(windowKey, windowMs)) ?? countLocally(windowKey);
  };
}

/** A validation rule: at most `max` directives in a document (each is work for every tool that walks it). */
export function maxDirectivesRule(max: number): ValidationRule {
  return (context) => {
    let count = 0;
    return {
      Directive(node) {
        count++;
        if (count === max + 1) context.reportError(new GraphQLError(`The document uses more than ${max} directives`, { nodes: [node], extensions: { code: "TOO_MANY_DIRECTIVES" } }));
      },
    };
  };
}
