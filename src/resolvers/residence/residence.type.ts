import { Field, ID, ObjectType, Directive } from "type-graphql";
import { Node } from "../common/node.type.js";

@Directive('@key(fields: "id")')
@ObjectType({
  implements: Node,
  description:
    "A home in a building: its accounts, the devices it sees, how its doors open and its histories. The vendor " +
    "has no residence list: residences are gathered from the project's accounts, so one without accounts is not listed.",
})
export class Residence extends Node {
  @Field(() => ID, { description: "The vendor's residence id (`residence_id`)." })
  residenceId!: string;
}
