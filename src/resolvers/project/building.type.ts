import { Field, ID, ObjectType, Directive } from "type-graphql";
import { Node } from "../common/node.type.js";

@Directive('@key(fields: "id")')
@ObjectType({
  implements: Node,
  description:
    "A building of a project. The vendor has no building list: buildings are gathered from the project's " +
    "accounts (`get_user_list`) and devices (`get_visitor_temp_key_device_list`).",
})
export class Building extends Node {
  @Field(() => ID, { description: "The vendor's building id (`building_id`)." })
  buildingId!: string;
}
