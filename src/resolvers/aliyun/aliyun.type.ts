import { Field, ID, ObjectType, Directive } from "type-graphql";
import { DateTimeScalar } from "../common/scalars.js";
import { connectionType } from "../common/connection.js";
import { Node } from "../common/node.type.js";
import { Device } from "../device/device.type.js";

@Directive('@key(fields: "id")')
@ObjectType({
  implements: Node,
  description:
    "A person of the Aliyun IoT access-control service (`UserDTO`), identified by `identityId`. An Akubela account is linked to the person whose identityId the site map gives it (by default its `accountId`).",
})
export class AliyunPerson extends Node {
  @Field(() => ID, { description: "The unified identity id (`identityId`)." })
  identityId!: string;

  @Field(() => String, { nullable: true, description: "How the person is addressed (`name`)." })
  name!: string | null;

  @Field(() => String, { nullable: true, description: "Custom information (`extInfo`), as the gateway stores it; JSON text when it is an object." })
  extInfo!: string | null;
}

@ObjectType({
  implements: Node,
  description: "A card permission (`CardDTO`): one card of one person opens one Aliyun access-control device until it expires.",
})
export class CardPermission extends Node {
  @Field(() => ID, { description: "The card id (`cardId`)." })
  cardId!: string;

  @Field(() => ID, { description: "The person's `identityId`." })
  identityId!: string;

  @Field(() => ID, { description: "The device's `iotId`." })
  iotId!: string;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: "When the permission ends (`expiryTime`, read in the gateway's configured zone, ALIYUN_TIME_ZONE).",
  })
  expiresAt!: Date | null;
}

export const CardPermissionConnection = connectionType("CardPermission", CardPermission, "card permission");
export const AliyunPersonConnection = connectionType("AliyunPerson", AliyunPerson, "Aliyun person");

@Directive('@key(fields: "id")')
@Directive('@key(fields: "iotId")')
@ObjectType({
  implements: [Device, Node],
  description:
    "An access-control device of the Aliyun IoT service, identified by its `iotId`. Its name, project and building come from the site map (the gateway has no device list); a device the map does not name is still reachable by `aliyunDevice(iotId:)`. It opens as a whole: it has no relays.",
})
export class AliyunAccessControlDevice extends Device {
  @Field(() => ID, { description: "The device's IoT id (`iotId`)." })
  iotId!: string;

  @Field(() => Boolean, { description: "True when the site map names this device; false for a device reached only by its iotId." })
  mapped!: boolean;
}
