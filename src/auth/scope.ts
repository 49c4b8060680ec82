import { Extensions } from "type-graphql";
import { SCOPES, type Scope } from "./api-keys.js";

/**
 * Declares, on a root field or mutation itself, the scope an API key needs to use it (read before execution by
 * `policy.ts`, as envelop's generic-auth reads `@requiresScopes`). A root field without one is refused, so a new
 * door-opening mutation cannot silently need only `write`.
 */
export const RequiresScope = (scope: Scope): MethodDecorator & PropertyDecorator & ClassDecorator => Extensions({ scope });

/** The scope a schema field declares (`extensions.scope`), or undefined when it declares none (or an unknown one). */
export function declaredScope(field: { extensions?: Readonly<Record<string, unknown>> | null } | undefined): Scope | undefined {
  const scope = field?.extensions?.scope;
  return typeof scope === "string" && (SCOPES as readonly string[]).includes(scope) ? (scope as Scope) : undefined;
}
