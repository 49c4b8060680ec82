import { Field, ID, ObjectType, Directive } from "type-graphql";
import { Node } from "../common/node.type.js";

@Directive('@key(fields: "id")')
@Directive('@key(fields: "projectId")')
@ObjectType({
  implements: Node,
  description:
    "A property managed in the Akubela cloud: its buildings, residences, accounts, devices and visitor keys. " +
    "The vendor has no project record of its own: a project is its id.",
})
export class Project extends Node {
  @Field(() => ID, { description: "The vendor's project id (`project_id`)." })
  projectId!: string;
}
