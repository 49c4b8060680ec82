import { getDirectiveValues, GraphQLIncludeDirective, GraphQLSkipDirective, Kind, type GraphQLResolveInfo, type SelectionNode, type SelectionSetNode } from "graphql";

/**
 * Whether the field being resolved selects `path` below it (field names, not aliases), through inline fragments and
 * fragment spreads, and with `@skip` / `@include` decided on the request's variables as execution decides them: a
 * resolver that starts reads for fields further down (read-ahead) starts only those the query will execute.
 */
export function selects(info: GraphQLResolveInfo, ...path: string[]): boolean {
  const included = (node: SelectionNode) =>
    getDirectiveValues(GraphQLSkipDirective, node, info.variableValues)?.if !== true && getDirectiveValues(GraphQLIncludeDirective, node, info.variableValues)?.if !== false;
  const walk = (sets: readonly SelectionSetNode[], depth: number, spread: ReadonlySet<string>): boolean => {
    for (const set of sets) {
      for (const s of set.selections) {
        if (!included(s)) continue;
        if (s.kind === Kind.FIELD) {
          if (s.name.value !== path[depth]) continue;
          if (depth === path.length - 1) return true;
          if (s.selectionSet && walk([s.selectionSet], depth + 1, spread)) return true;
        } else if (s.kind === Kind.INLINE_FRAGMENT) {
          if (walk([s.selectionSet], depth, spread)) return true;
        } else {
          const fragment = info.fragments[s.name.value];
          if (fragment && !spread.has(s.name.value) && walk([fragment.selectionSet], depth, new Set([...spread, s.name.value]))) return true;
        }
      }
    }
    return false;
  };
  return path.length > 0 && walk(info.fieldNodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : [])), 0, new Set());
}
