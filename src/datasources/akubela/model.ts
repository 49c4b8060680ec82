/**
 * Domain records the Akubela data source returns: mapped, never vendor DTOs. Each carries `__typename` (the
 * GraphQL type it becomes, used by the `Node` and `Device` interfaces) and the vendor ids needed to fetch
 * related data again.
 */

export enum AccountRole {
  ADMIN = "ADMIN",
  USER = "USER",
  GUEST = "GUEST",
}

export enum PaymentStatus {
  INACTIVATED = "INACTIVATED",
  NORMAL = "NORMAL",
  EXPIRED = "EXPIRED",
}

export enum DeviceType {
  MULTI_TENANT_DOORPHONE = "MULTI_TENANT_DOORPHONE",
  SINGLE_TENANT_DOORPHONE = "SINGLE_TENANT_DOORPHONE",
  INDOOR_MONITOR = "INDOOR_MONITOR",
  GUARD_PHONE = "GUARD_PHONE",
  ACCESS_CONTROL = "ACCESS_CONTROL",
  OTHER = "OTHER",
}

export enum RepeatMode {
  NEVER = "NEVER",
  DAILY = "DAILY",
  WEEKLY = "WEEKLY",
}

export enum Weekday {
  MONDAY = "MONDAY",
  TUESDAY = "TUESDAY",
  WEDNESDAY = "WEDNESDAY",
  THURSDAY = "THURSDAY",
  FRIDAY = "FRIDAY",
  SATURDAY = "SATURDAY",
  SUNDAY = "SUNDAY",
}

export enum AccessGroupType {
  SYSTEM = "SYSTEM",
  CUSTOMIZED = "CUSTOMIZED",
}

export enum DeviceVendor {
  AKUVOX = "AKUVOX",
  ALIYUN = "ALIYUN",
}

export interface ProjectRecord {
  __typename: "Project";
  projectId: string;
}

export interface BuildingRecord {
  __typename: "Building";
  projectId: string;
  buildingId: string;
  name: string | null;
}

export interface ResidenceRecord {
  __typename: "Residence";
  projectId: string;
  residenceId: string;
  residenceNo: string | null;
  familyName: string | null;
  buildingId: string | null;
  buildingName: string | null;
}

export interface AccountRecord {
  __typename: "Account";
  projectId: string;
  residenceId: string;
  accountId: string;
  accountName: string | null;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  phone: string | null;
  role: AccountRole | null;
  region: string | null;
  paymentStatus: PaymentStatus | null;
  residenceNo: string | null;
  familyName: string | null;
  buildingId: string | null;
  buildingName: string | null;
}

interface AccountScoped {
  projectId: string;
  residenceId: string;
  accountId: string;
}

export interface PinCodeRecord extends AccountScoped {
  __typename: "PinCode";
  pinCodeId: string;
  number: string | null;
  createdAt: Date | null;
  creator: string | null;
}

export interface RfCardRecord extends AccountScoped {
  __typename: "RfCard";
  rfCardId: string;
  number: string | null;
  createdAt: Date | null;
  creator: string | null;
}

export interface FaceRecord extends AccountScoped {
  __typename: "Face";
  faceId: string;
  createdAt: Date | null;
  creator: string | null;
}

export interface AccessGroupRecord extends AccountScoped {
  __typename: "AccessGroup";
  accessGroupId: string;
  name: string | null;
  type: AccessGroupType | null;
}

export interface FloorAccessRecord {
  projectId: string;
  buildingId: string;
  floor: string;
}

export interface CredentialsRecord extends AccountScoped {
  pinCodes: PinCodeRecord[];
  rfCards: RfCardRecord[];
  faces: FaceRecord[];
  accessGroups: AccessGroupRecord[];
  floorAccesses: FloorAccessRecord[];
}

export interface RelayRecord {
  __typename: "Relay";
  projectId: string;
  mac: string;
  /** Set for a residence's private device: where it can be fetched again. */
  residenceId: string | null;
  relayId: string;
  name: string | null;
  dialKey: string | null;
  security: boolean;
}

/**
 * An Akuvox device. Seen in two lists: the project's (`get_visitor_temp_key_device_list`: device id and building)
 * and a residence's (`get_akuvox_device_list`: SIP, RTSP, ciphertext, public flag). Its identity is the MAC; a
 * private device (not public) is fetched again through its residence.
 */
export interface AkuvoxDeviceRecord {
  __typename: "AkuvoxDevice";
  vendor: DeviceVendor.AKUVOX;
  projectId: string;
  mac: string;
  deviceId: string | null;
  name: string | null;
  deviceType: DeviceType;
  vendorDeviceType: string | null;
  online: boolean | null;
  isPublic: boolean | null;
  sip: string | null;
  rtspUrl: string | null;
  ciphertext: string | null;
  buildingId: string | null;
  buildingName: string | null;
  /** The residence whose list it came from, when it is private to that residence. */
  residenceId: string | null;
  relays: RelayRecord[];
  securityRelays: RelayRecord[];
}

export interface VisitorTempKeyRecord {
  __typename: "VisitorTempKey";
  projectId: string;
  visitorTempKeyId: string;
  name: string | null;
  number: string | null;
  qrCodeUrl: string | null;
  deviceValidityCount: number | null;
  visitorIdentityNumber: string | null;
  repeatMode: RepeatMode | null;
  availableDays: Weekday[];
  startTime: string | null;
  finishTime: string | null;
  createdAt: Date | null;
  creator: string | null;
}

/** `get_visitor_temp_key_info` adds where the key belongs and the devices it opens. */
export interface VisitorTempKeyDetailRecord extends VisitorTempKeyRecord {
  residenceId: string | null;
  residenceNo: string | null;
  familyName: string | null;
  buildingId: string | null;
  buildingName: string | null;
  devices: AkuvoxDeviceRecord[];
}

export interface AccessEventRecord {
  success: boolean | null;
  accountName: string | null;
  deviceName: string | null;
  method: string | null;
  thumbnailUrl: string | null;
  pictureUrl: string | null;
  occurredAt: Date | null;
  /** Visitor-key history only. */
  residenceNo?: string | null;
  buildingName?: string | null;
  recordType?: string | null;
  number?: string | null;
}

export interface CallRecord {
  callerName: string | null;
  callerSip: string | null;
  calledAt: Date | null;
}

export interface ResidenceTempKeyRecord {
  __typename: "ResidenceTempKey";
  projectId: string;
  residenceId: string;
  tempKey: string;
  startsAt: Date | null;
  endsAt: Date | null;
  count: number | null;
  qrCodeUrl: string | null;
}

export interface ToggleCodeRecord {
  enabled: boolean | null;
  code: string | null;
}
