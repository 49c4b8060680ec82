import { Field, ID, Int, ObjectType, Directive } from "type-graphql";
import { connectionType } from "../common/connection.js";
import { RepeatMode, Weekday } from "../common/enums.js";
import { Node } from "../common/node.type.js";
import { DateTimeScalar, TimeScalar } from "../common/scalars.js";

@Directive('@key(fields: "id")')
@ObjectType({ implements: Node, description: "A temporary key a property manager gave a visitor (Akubela visitor temp key)." })
export class VisitorTempKey extends Node {
  @Field(() => ID, { description: "The vendor's visitor key id (`visitor_temp_key_id`)." })
  visitorTempKeyId!: string;

  @Field(() => String, { nullable: true, description: "Name of the key, usually the visitor's." })
  name!: string | null;

  @Field(() => String, { nullable: true, description: "The code the visitor types. A credential: show it only to the visitor and managers." })
  number!: string | null;

  @Field(() => String, { nullable: true, description: "URL of the key as a QR image." })
  qrCodeUrl!: string | null;

  @Field(() => Int, { nullable: true, description: "How many times each device accepts it; null for no limit." })
  deviceValidityCount!: number | null;

  @Field(() => String, { nullable: true, description: "Identity document number of the visitor, when given." })
  visitorIdentityNumber!: string | null;

  @Field(() => RepeatMode, { nullable: true, description: "How the daily window repeats." })
  repeatMode!: RepeatMode | null;

  @Field(() => [Weekday], { description: "Days the key works on, for `WEEKLY` keys." })
  availableDays!: Weekday[];

  @Field(() => TimeScalar, { nullable: true, description: "Start of the daily window (UTC)." })
  startTime!: string | null;

  @Field(() => TimeScalar, { nullable: true, description: "End of the daily window (UTC)." })
  finishTime!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "When the key was created." })
  createdAt!: Date | null;

  @Field(() => String, { nullable: true, description: "Who created it." })
  creator!: string | null;
}

export const VisitorTempKeyConnection = connectionType("VisitorTempKey", VisitorTempKey, "visitor key");
