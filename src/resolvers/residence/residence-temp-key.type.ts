import { Field, Int, ObjectType } from "type-graphql";
import { DateTimeScalar } from "../common/scalars.js";
import { Node } from "../common/node.type.js";

@ObjectType({
  implements: Node,
  description: "A temporary door code a resident created for a residence (`get_akuvox_open_door_temp_key_config`).",
})
export class ResidenceTempKey extends Node {
  @Field(() => String, { description: "The temporary code itself. A credential: show it only to whom it is for." })
  tempKey!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: "When the code starts to open doors." })
  startsAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "When the code stops opening doors." })
  endsAt!: Date | null;

  @Field(() => Int, { nullable: true, description: "How many times the code may be used." })
  count!: number | null;

  @Field(() => String, { nullable: true, description: "URL of the code as a QR image." })
  qrCodeUrl!: string | null;
}
