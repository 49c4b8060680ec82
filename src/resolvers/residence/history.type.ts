import { Field, ObjectType } from "type-graphql";
import { connectionType } from "../common/connection.js";
import { DateTimeScalar } from "../common/scalars.js";

@ObjectType({ description: "A call received by a residence (`get_akuvox_call_history`)." })
export class CallRecord {
  @Field(() => String, { nullable: true, description: "Name of the other party (a device or an account)." })
  callerName!: string | null;

  @Field(() => String, { nullable: true, description: "SIP number of the other party." })
  callerSip!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "When the call happened." })
  calledAt!: Date | null;
}

@ObjectType({ description: "A door opening, or an attempt (`get_akuvox_open_door_history`, `get_visitor_temp_key_history`)." })
export class AccessEvent {
  @Field(() => Boolean, { nullable: true, description: "Whether the door opened." })
  success!: boolean | null;

  @Field(() => String, { nullable: true, description: "Name of the account that opened, when known." })
  accountName!: string | null;

  @Field(() => String, { nullable: true, description: "Name of the device where it happened." })
  deviceName!: string | null;

  @Field(() => String, { nullable: true, description: "How the door was opened, in the vendor's words (`temp key`, `face`, …)." })
  method!: string | null;

  @Field(() => String, { nullable: true, description: "URL of a thumbnail of the capture taken at the door." })
  thumbnailUrl!: string | null;

  @Field(() => String, { nullable: true, description: "URL of the capture taken at the door." })
  pictureUrl!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "When it happened." })
  occurredAt!: Date | null;

  @Field(() => String, { nullable: true, description: "Residence number of the key's residence (visitor-key history only)." })
  residenceNo?: string | null;

  @Field(() => String, { nullable: true, description: "Building name (visitor-key history only)." })
  buildingName?: string | null;

  @Field(() => String, { nullable: true, description: "Kind of record in the vendor's words, e.g. `open door` (visitor-key history only)." })
  recordType?: string | null;

  @Field(() => String, { nullable: true, description: "The number used at the door (visitor-key history only)." })
  number?: string | null;
}

export const CallRecordConnection = connectionType("CallRecord", CallRecord, "call");
export const AccessEventConnection = connectionType("AccessEvent", AccessEvent, "door event");
