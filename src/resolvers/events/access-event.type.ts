import { Field, ID, ObjectType, registerEnumType } from "type-graphql";
import { ACCESS_EVENT_KINDS, ACCESS_METHODS } from "../../events/model.js";
import { PageInfo } from "../common/connection.js";
import { DateTimeScalar } from "../common/scalars.js";

const enumOf = <T extends string>(values: readonly T[]) => Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };

export const AccessEventKind = enumOf(ACCESS_EVENT_KINDS);
export const AccessMethod = enumOf(ACCESS_METHODS);

registerEnumType(AccessEventKind, {
  name: "AccessEventKind",
  description: "What happened.",
  valuesConfig: {
    DOOR_OPENED: { description: "A door opened (the vendor's open-door or visitor-key history)." },
    DOOR_OPEN_DENIED: { description: "An attempt to open a door failed (`open_door: false`)." },
    CALL: { description: "A call to a residence (`get_akuvox_call_history`)." },
    DEVICE_ONLINE: { description: "A device came online (its `online` flag changed in the device list)." },
    DEVICE_OFFLINE: { description: "A device went offline." },
    CREDENTIAL_CREATED: { description: "A PIN code, RF card or face was created through the graph." },
    CREDENTIAL_DELETED: { description: "A PIN code, RF card or face was deleted through the graph." },
    KEEP_OPEN_CHANGED: { description: "An Aliyun door's keep-open state was set through the graph." },
    PERMISSION_CHANGED: { description: "Floor access, card, QR code or door-password permissions changed through the graph." },
    REMOTE_OPEN_REQUESTED: { description: "A remote door opening was sent through the graph (`doorOpen`; `detail` is its outcome)." },
  },
});

registerEnumType(AccessMethod, {
  name: "AccessMethod",
  description: "How a door was opened (the vendor's `open_door_type`, normalised).",
  valuesConfig: {
    PIN: { description: "A PIN code or private key." },
    RF_CARD: { description: "An RF card." },
    FACE: { description: "Face recognition." },
    QR: { description: "A QR code." },
    TEMP_KEY: { description: "A temporary or visitor key." },
    REMOTE: { description: "Opened remotely (the graph's `doorOpen` or the vendor's remote open)." },
    APP: { description: "The resident's app." },
    CALL: { description: "During a call." },
    BLE: { description: "Bluetooth." },
    NFC: { description: "NFC." },
    OTHER: { description: "A method the vendor named that has no value here: see `vendorEventType`." },
  },
});

@ObjectType({ description: "One access event from either vendor or from the graph's own mutations, as the event log holds it." })
export class AccessLogEvent {
  @Field(() => ID, { description: "Stable id of the event: the same vendor record always has the same id (deduplicate on it)." })
  eventId!: string;

  @Field(() => String, { description: "Position in the log: pass it as `after` to resume after this event." })
  cursor!: string;

  @Field(() => AccessEventKind, { description: "What happened." })
  kind!: string;

  @Field(() => AccessMethod, { nullable: true, description: "How the door was opened, for openings and attempts." })
  method!: string | null;

  @Field(() => DateTimeScalar, { description: "When it happened, by the vendor's clock (UTC); for observed changes, when seen." })
  occurredAt!: Date;

  @Field(() => DateTimeScalar, { description: "When the graph received it." })
  receivedAt!: Date;

  @Field(() => String, { description: "Where it came from: `akubela`, `aliyun` or `graph` (the graph's own mutations)." })
  vendor!: string;

  @Field(() => String, { nullable: true, description: "The vendor's own word for the record (`open_door_type`, `record_type`) or the mutation's name." })
  vendorEventType!: string | null;

  @Field(() => ID, { description: "The vendor's project id." })
  projectId!: string;

  @Field(() => ID, { nullable: true, description: "The vendor's building id, when known." })
  buildingId!: string | null;

  @Field(() => ID, { nullable: true, description: "The vendor's residence id, when known." })
  residenceId!: string | null;

  @Field(() => ID, { nullable: true, description: "The device: an Akuvox MAC or an Aliyun iotId, when known." })
  deviceId!: string | null;

  @Field(() => String, { nullable: true, description: "The device's name, as the vendor gave it." })
  deviceName!: string | null;

  @Field(() => ID, { nullable: true, description: "The relay, when known." })
  relayId!: string | null;

  @Field(() => ID, { nullable: true, description: "The vendor's account id, when known." })
  accountId!: string | null;

  @Field(() => String, { nullable: true, description: "The account's name, as the vendor gave it." })
  accountName!: string | null;

  @Field(() => ID, { nullable: true, description: "The visitor temp key, for its history's events." })
  visitorTempKeyId!: string | null;

  @Field(() => String, { nullable: true, description: "URL of the capture's thumbnail: only for callers with the `events:pictures` scope (null otherwise)." })
  thumbnailUrl!: string | null;

  @Field(() => String, { nullable: true, description: "URL of the capture: only for callers with the `events:pictures` scope (null otherwise)." })
  pictureUrl!: string | null;

  @Field(() => String, { nullable: true, description: "More about it: a door opening's outcome, a caller's SIP number, the kind of change." })
  detail!: string | null;
}

@ObjectType({ description: "One access event in a page, with its cursor." })
export class AccessLogEventEdge {
  @Field(() => String, { description: "The event's position in the log: pass it as `after` to continue after it." })
  cursor!: string;

  @Field(() => AccessLogEvent, { description: "The event." })
  node!: AccessLogEvent;
}

@ObjectType({ description: "A page of access events in log order (oldest first). There is no total: the log is a stream." })
export class AccessLogEventConnection {
  @Field(() => [AccessLogEventEdge], { description: "The events of this page with their cursors." })
  edges!: AccessLogEventEdge[];

  @Field(() => [AccessLogEvent], { description: "The events of this page." })
  nodes!: AccessLogEvent[];

  @Field(() => PageInfo, { description: "Where this page stands; `endCursor` is where to resume, even on an empty page once events exist." })
  pageInfo!: PageInfo;
}
