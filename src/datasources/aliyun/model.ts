/**
 * Domain records of the Aliyun IoT access-control API (`003_*.txt`), mapped: never gateway DTOs. Each carries
 * `__typename` for the `Node` and `Device` interfaces.
 */
import { DeviceVendor } from "../akubela/model.js";

/** A person (`UserDTO`: identityId, name, extInfo). */
export interface AliyunPersonRecord {
  __typename: "AliyunPerson";
  identityId: string;
  name: string | null;
  /** `extInfo` as the gateway gave it, as a JSON string when it was an object. */
  extInfo: string | null;
  /**
   * The project of the Akubela account the person is linked to (site map identity rules), as the data source
   * established it; `null` for a caller that may see every project, for whom it was not looked up.
   */
  projectId: string | null;
}

/** A card permission (`CardDTO`: iotId, identityId, cardId, expiryTime). */
export interface CardPermissionRecord {
  __typename: "CardPermission";
  identityId: string;
  iotId: string;
  cardId: string;
  expiresAt: Date | null;
  /** The project the site map puts the device in (`null`: an unmapped device). */
  projectId: string | null;
}

/**
 * An Aliyun access-control device. The gateway has no device list or device detail API: what is known beyond
 * the `iotId` comes from the site map (`mapped: false` for a device reached by an iotId the map does not name).
 */
export interface AliyunDeviceRecord {
  __typename: "AliyunAccessControlDevice";
  vendor: DeviceVendor.ALIYUN;
  iotId: string;
  name: string | null;
  projectId: string | null;
  buildingId: string | null;
  mapped: boolean;
  /** The gateway reports no online state. */
  online: null;
  /** The gateway opens a device as a whole: no relays. */
  relays: [];
  securityRelays: [];
}
