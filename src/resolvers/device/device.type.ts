import { Field, ID, InterfaceType, ObjectType, Directive } from "type-graphql";
import { DeviceType, DeviceVendor } from "../common/enums.js";
import { Node } from "../common/node.type.js";
import { Building } from "../project/building.type.js";

@ObjectType({ implements: Node, description: "One door a device can open (a relay), or a security relay." })
export class Relay extends Node {
  @Field(() => ID, { description: "The vendor's relay id (`relay_id`)." })
  relayId!: string;

  @Field(() => String, { nullable: true, description: "Name of the door (`relay_name`)." })
  name!: string | null;

  @Field(() => String, { nullable: true, description: "Key to press on the device to open this door (`relay_number`, e.g. `#`)." })
  dialKey!: string | null;

  @Field(() => Boolean, { description: "True for a security relay, false for an ordinary door relay." })
  security!: boolean;
}

@Directive('@key(fields: "id")')
@InterfaceType("Device", {
  implements: Node,
  description:
    "A device that opens doors, of either vendor. `vendor` says which API it belongs to; opening it routes there.",
  resolveType: (value: { __typename?: string }) => value.__typename,
})
export abstract class Device extends Node {
  @Field(() => String, { nullable: true, description: "Display name of the device." })
  name!: string | null;

  @Field(() => DeviceVendor, { description: "Which vendor API the device belongs to." })
  vendor!: DeviceVendor;

  @Field(() => Boolean, { nullable: true, description: "Whether the device is online now, as the vendor last reported." })
  online!: boolean | null;

  @Field(() => Building, { nullable: true, description: "The building the device is in; null for a project-wide device." })
  building!: Building | null;

  @Field(() => [Relay], { description: "The doors this device opens." })
  relays!: Relay[];

  @Field(() => [Relay], { description: "Its security relays." })
  securityRelays!: Relay[];
}

@Directive('@key(fields: "id")')
@ObjectType({ implements: [Device, Node], description: "An Akuvox intercom device of the Akubela cloud, identified by its MAC." })
export class AkuvoxDevice extends Device {
  @Field(() => String, { description: "MAC address, 12 hex digits: the device's identity across the vendor's lists." })
  mac!: string;

  @Field(() => ID, { nullable: true, description: "The vendor's device id (`device_id`); known only from the project's device list." })
  deviceId!: string | null;

  @Field(() => DeviceType, { description: "Kind of device." })
  deviceType!: DeviceType;

  @Field(() => String, { nullable: true, description: "The vendor's own name of the device type, e.g. `Multi-tenants Doorphone`." })
  vendorDeviceType!: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: "True for a public device (building entrance, gate); false for one private to a residence.",
  })
  isPublic!: boolean | null;

  @Field(() => String, { nullable: true, description: "SIP number; known from a residence's device list." })
  sip!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "RTSP address of the camera stream; it can embed the stream's credentials. Known from a residence's device list.",
  })
  rtspUrl!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "Encrypted credential bundle read only by the vendor's mobile SDK, passed through unchanged.",
  })
  ciphertext!: string | null;
}
