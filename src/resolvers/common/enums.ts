import { registerEnumType } from "type-graphql";
import {
  AccessGroupType,
  AccountRole,
  DeviceType,
  DeviceVendor,
  PaymentStatus,
  RepeatMode,
  Weekday,
} from "../../datasources/akubela/model.js";

/** Vendor codes as enums (house style, "Schema"), each value described for Sandbox readers. */
registerEnumType(AccountRole, {
  name: "AccountRole",
  description: "What an account may do in its residence (Akubela `auth`).",
  valuesConfig: {
    ADMIN: { description: "Owner of the residence, its highest administrator (`admin`)." },
    USER: { description: "A family administrator (`user`)." },
    GUEST: { description: "An ordinary family member (`guest`)." },
  },
});

registerEnumType(PaymentStatus, {
  name: "PaymentStatus",
  description: "Billing state of an account (Akubela `payment_status`).",
  valuesConfig: {
    INACTIVATED: { description: "Not activated yet (`inactivated`)." },
    NORMAL: { description: "Paid and active (`normal`)." },
    EXPIRED: { description: "The subscription has expired (`expired`)." },
  },
});

registerEnumType(DeviceType, {
  name: "DeviceType",
  description: "Kind of intercom device (Akuvox `device_type`).",
  valuesConfig: {
    MULTI_TENANT_DOORPHONE: { description: "Door phone at a building entrance serving many residences (`Multi-tenants Doorphone`, 梯口机)." },
    SINGLE_TENANT_DOORPHONE: { description: "Door phone of one residence (`Single-tenant Doorphone`, 门口机)." },
    INDOOR_MONITOR: { description: "Indoor monitor inside a residence (`Indoor Monitor`, 室内机)." },
    GUARD_PHONE: { description: "Guard or management phone (`Guard Phone`, 管理机)." },
    ACCESS_CONTROL: { description: "Access-control terminal (`Access Control`, 门禁)." },
    OTHER: { description: "A type the vendor added after this graph was built; see `vendorDeviceType`." },
  },
});

registerEnumType(RepeatMode, {
  name: "RepeatMode",
  description: "How a visitor key's daily window repeats (Akubela `repeat_mode`).",
  valuesConfig: {
    NEVER: { description: "Valid once (`never`)." },
    DAILY: { description: "Every day (`daily`)." },
    WEEKLY: { description: "On the days listed in `availableDays` (`weekly`)." },
  },
});

registerEnumType(Weekday, {
  name: "Weekday",
  description: "A day of the week.",
  valuesConfig: {
    MONDAY: { description: "Monday." },
    TUESDAY: { description: "Tuesday." },
    WEDNESDAY: { description: "Wednesday." },
    THURSDAY: { description: "Thursday." },
    FRIDAY: { description: "Friday." },
    SATURDAY: { description: "Saturday." },
    SUNDAY: { description: "Sunday." },
  },
});

registerEnumType(AccessGroupType, {
  name: "AccessGroupType",
  description: "Who defined an access group (Akubela `access_group_type`).",
  valuesConfig: {
    SYSTEM: { description: "Built in by the system (`system`)." },
    CUSTOMIZED: { description: "Defined by the property manager (`customized`)." },
  },
});

registerEnumType(DeviceVendor, {
  name: "DeviceVendor",
  description: "Which vendor API a device belongs to, and so which one opens its doors.",
  valuesConfig: {
    AKUVOX: { description: "An Akuvox intercom device of the Akubela cloud." },
    ALIYUN: { description: "An access-control device of Alibaba Cloud IoT." },
  },
});

export { AccessGroupType, AccountRole, DeviceType, DeviceVendor, PaymentStatus, RepeatMode, Weekday };
