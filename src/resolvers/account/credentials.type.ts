import { Field, ID, ObjectType } from "type-graphql";
import { AccessGroupType } from "../common/enums.js";
import { Node } from "../common/node.type.js";
import { DateTimeScalar } from "../common/scalars.js";

@ObjectType({ implements: Node, description: "A PIN code that opens doors for an account." })
export class PinCode extends Node {
  @Field(() => ID, { description: "The vendor's PIN code id (`pin_code_id`)." })
  pinCodeId!: string;

  @Field(() => String, { nullable: true, description: "The PIN itself. A credential: show it only to its holder or their manager." })
  number!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "When it was created." })
  createdAt!: Date | null;

  @Field(() => String, { nullable: true, description: "Who created it (e.g. `pm`, the property manager)." })
  creator!: string | null;
}

@ObjectType({ implements: Node, description: "An RF card that opens doors for an account." })
export class RfCard extends Node {
  @Field(() => ID, { description: "The vendor's RF card id (`rf_card_id`)." })
  rfCardId!: string;

  @Field(() => String, { nullable: true, description: "The card number. A credential: show it only to its holder or their manager." })
  number!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "When it was registered." })
  createdAt!: Date | null;

  @Field(() => String, { nullable: true, description: "Who registered it." })
  creator!: string | null;
}

@ObjectType({ implements: Node, description: "A face registered to open doors for an account." })
export class Face extends Node {
  @Field(() => ID, { description: "The vendor's face id (`face_id`)." })
  faceId!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: "When it was registered." })
  createdAt!: Date | null;

  @Field(() => String, { nullable: true, description: "Who registered it." })
  creator!: string | null;
}

@ObjectType({ implements: Node, description: "An access group an account belongs to: a set of doors and times." })
export class AccessGroup extends Node {
  @Field(() => ID, { description: "The vendor's access group id (`access_group_id`)." })
  accessGroupId!: string;

  @Field(() => String, { nullable: true, description: "Name of the group." })
  name!: string | null;

  @Field(() => AccessGroupType, { nullable: true, description: "Whether the system or the manager defined it." })
  type!: AccessGroupType | null;
}

@ObjectType({ description: "Floors of a building an account may reach by lift." })
export class FloorAccess {
  @Field(() => ID, { description: "The vendor's building id." })
  buildingId!: string;

  @Field(() => String, { description: "The floor, as the vendor gives it: a floor number, or `all`." })
  floor!: string;
}

@ObjectType({
  description: "Everything that lets an account through doors (`get_user_access_info`): one vendor call for all of it.",
})
export class Credentials {
  @Field(() => [PinCode], { description: "PIN codes." })
  pinCodes!: PinCode[];

  @Field(() => [RfCard], { description: "RF cards." })
  rfCards!: RfCard[];

  @Field(() => [Face], { description: "Registered faces." })
  faces!: Face[];

  @Field(() => [AccessGroup], { description: "Access groups the account belongs to." })
  accessGroups!: AccessGroup[];

  @Field(() => [FloorAccess], { description: "Floors the account may reach." })
  floorAccesses!: FloorAccess[];
}
