import { Field, ID, InterfaceType } from "type-graphql";

/**
 * The Relay `Node` interface: every entity has an opaque global `id` that `Query.node` fetches again. Records
 * carry `__typename`, which picks the concrete type.
 */
/** Description of every `id` field. */
export const GLOBAL_ID_DESCRIPTION = "Opaque global ID. Stable across requests; fetch the object again with `node(id:)`.";

@InterfaceType("Node", {
  description: "An object with a global ID, fetchable again with `node(id:)`.",
  resolveType: (value: { __typename?: string }) => value.__typename,
})
export abstract class Node {
  @Field(() => ID, { description: GLOBAL_ID_DESCRIPTION })
  id!: string;
}
