/**
 * The simulator's in-memory state: what the Akubela / Akuvox cloud would hold for a property manager's projects.
 *
 * Field names are the vendor's own (snake_case, as in the documents) so that tests can compare answers with the
 * state directly. Maps keep insertion order, which is the order every list command answers in (stable paging):
 * seeded objects first, objects created at run time appended at the end.
 *
 * Vendor documents: `000_ea6fedeba34c96fa.txt` (visitor temp keys), `001_5b8afc7a7400404b.txt` (Akuvox residence
 * commands), `002_d09c615886a81fcb.txt` (users and credentials), all under `/work/shared/vendor-docs/`.
 */

/** The device types the documents list (`device_type`). */
export type DeviceType =
  | "Multi-tenants Doorphone"
  | "Single-tenant Doorphone"
  | "Indoor Monitor"
  | "Guard Phone"
  | "Access Control";

export const DEVICE_TYPES: readonly DeviceType[] = [
  "Multi-tenants Doorphone",
  "Single-tenant Doorphone",
  "Indoor Monitor",
  "Guard Phone",
  "Access Control",
];

/** Doorphones answer their RTSP address under `rtsp` in `get_akuvox_device_list` (as the document's example). */
export const DOORPHONE_TYPES: ReadonlySet<DeviceType> = new Set(["Multi-tenants Doorphone", "Single-tenant Doorphone"]);

/** `auth` of an account: admin = owner, user = family manager, guest = family member. */
export type AccountAuth = "admin" | "user" | "guest";
export const ACCOUNT_AUTHS: readonly AccountAuth[] = ["admin", "user", "guest"];

export type PaymentStatus = "inactivated" | "normal" | "expired";

export type RepeatMode = "never" | "daily" | "weekly";
export const REPEAT_MODES: readonly RepeatMode[] = ["never", "daily", "weekly"];

export type Weekday = "Monday" | "Tuesday" | "Wednesday" | "Thursday" | "Friday" | "Saturday" | "Sunday";
export const WEEKDAYS: readonly Weekday[] = [
  "Monday",
  "Tuesday",
  "Wednesday",
  "Thursday",
  "Friday",
  "Saturday",
  "Sunday",
];

/** A door relay (门控) or security relay (安全门控) of a device. */
export interface Relay {
  relay_id: string;
  relay_name: string;
  /** Dial key that triggers the relay, e.g. `#`. */
  relay_number: string;
}

/**
 * An Akuvox device.
 *
 * - `scope: "building"` — public device of one building (a Multi-tenants Doorphone, an Access Control).
 * - `scope: "project"` — public device of the whole project (the Guard Phone, the main-gate Access Control); its
 *   `building_id` and `building_name` are `""` (it belongs to no building).
 * - `scope: "residence"` — private device of one residence (`residence_id` set; `is_public` false).
 */
export interface Device {
  device_id: string;
  project_id: string;
  scope: "project" | "building" | "residence";
  building_id: string;
  building_name: string;
  residence_id: string | null;
  device_name: string;
  device_type: DeviceType;
  /** 12 uppercase hex characters, unique over the whole simulator. */
  mac: string;
  sip: string;
  /** Opaque credential bundle for the vendor SDK: a secret, never logged. */
  ciphertext: string;
  /** Answered as `rtsp` for doorphones and `rtsp_url` for the others (see {@link DOORPHONE_TYPES}). */
  rtsp_url: string;
  online: boolean;
  is_public: boolean;
  relays: Relay[];
  security_relays: Relay[];
}

export interface Building {
  building_id: string;
  building_name: string;
  /** Number of floors; floor access `floor` is `"all"` or `"1"`..`String(floors)`. */
  floors: number;
  /** The building's system access group, given to every account created in it. */
  system_access_group_id: string;
}

/** A residence temp key (`get_akuvox_open_door_temp_key_config`). Times are `yyyy-MM-dd HH:mm:ss` UTC. */
export interface ResidenceTempKey {
  temp_key: string;
  start_time: string;
  finish_time: string;
  count: number;
  qr_code_url: string;
}

export interface CallRecord {
  call_name: string;
  call_sip: string;
  call_time: string;
}

export interface OpenDoorRecord {
  open_door: boolean;
  account_name: string;
  device_name: string;
  capture_thumbnail_url: string;
  open_door_type: string;
  capture_picture_url: string;
  open_door_time: string;
}

export interface Residence {
  residence_id: string;
  project_id: string;
  building_id: string;
  residence_no: string;
  family_name: string;
  floor: number;
  /** Private-key (PIN) door opening code: a secret. */
  private_key: string;
  nfc: { enable_nfc: boolean; nfc_code: string };
  ble: { enable_ble: boolean; ble_code: string };
  face_file: { is_uploaded: boolean; filename: string | null };
  temp_keys: ResidenceTempKey[];
  /** Newest first. */
  call_history: CallRecord[];
  /** Newest first; `trigger_akuvox_remote_open_door` adds at the front. */
  open_door_history: OpenDoorRecord[];
}

export interface PinCode {
  pin_code_id: string;
  number: string;
  created_time: string;
  creator: string;
}

export interface RfCard {
  rf_card_id: string;
  number: string;
  created_time: string;
  creator: string;
}

export interface Face {
  face_id: string;
  created_time: string;
  creator: string;
  face_picture_url: string;
}

export interface AccessGroup {
  access_group_id: string;
  access_group_name: string;
  access_group_type: "system" | "customized";
}

export interface FloorAccess {
  building_id: string;
  floor: string;
}

export interface Account {
  account_id: string;
  project_id: string;
  residence_id: string;
  building_id: string;
  /** The login name; the email at creation. */
  account_name: string;
  first_name: string;
  last_name: string;
  email: string;
  phone: string;
  auth: AccountAuth;
  region: string;
  payment_status: PaymentStatus;
  /** SHA-256 (hex) of the last password set by `update_user_password`; null until then. */
  password_sha256: string | null;
  created_time: string;
  pin_codes: PinCode[];
  rf_cards: RfCard[];
  faces: Face[];
  /** Ids into {@link Project.access_groups}. */
  access_group_ids: string[];
  floor_accesses: FloorAccess[];
}

/** A device of a visitor temp key with the relays it may open. */
export interface VisitorKeyDevice {
  device_id: string;
  relay_ids: string[];
  security_relay_ids: string[];
}

export interface VisitorKeyHistoryEntry {
  open_door_time: string;
  building_name: string;
  device_name: string;
  account_name: string;
  residence_no: string;
  record_type: string;
  open_door_type: string;
  number: string;
  open_door: boolean;
  capture_thumbnail_url: string;
  capture_picture_url: string;
}

export interface VisitorTempKey {
  visitor_temp_key_id: string;
  visitor_temp_key_name: string;
  /** 8 digits, unique in the project: a secret. */
  visitor_temp_key_number: string;
  qr_code_url: string;
  /** A String in the documents; `""` means unlimited. */
  device_validity_count: string;
  visitor_identity_number: string;
  notice_email: string;
  residence_id: string;
  family_name: string;
  residence_no: string;
  building_id: string;
  building_name: string;
  repeat_mode: RepeatMode;
  /** Set for weekly keys; `[]` otherwise. */
  available_days: Weekday[];
  /** `HH:mm:ss` UTC. */
  start_time: string;
  /** `HH:mm:ss` UTC. */
  finish_time: string;
  created_time: string;
  creator: string;
  devices: VisitorKeyDevice[];
  /** Newest first. */
  history: VisitorKeyHistoryEntry[];
}

/** A file import accepted by one of the `import_*` commands (never actually executed). */
export interface ImportTask {
  task_id: string;
  command: string;
  file_name: string;
  file_url: string;
  created_time: string;
}

export interface Project {
  project_id: string;
  project_name: string;
  region: string;
  buildings: Map<string, Building>;
  residences: Map<string, Residence>;
  accounts: Map<string, Account>;
  /** All devices: public (building and project scope) and private (residence scope). */
  devices: Map<string, Device>;
  access_groups: Map<string, AccessGroup>;
  visitor_temp_keys: Map<string, VisitorTempKey>;
  import_tasks: ImportTask[];
}

export interface AkubelaState {
  /** By `project_id`, in seed order: the demo project, then the second project. */
  projects: Map<string, Project>;
  /** The options the state was seeded with (defaults filled in). */
  seed: { seed: number; accounts: number };
}

// ---------------------------------------------------------------------------------------------------------------
// Read helpers shared by the command handlers and useful to tests computing expectations.
// ---------------------------------------------------------------------------------------------------------------

/** The residence with this id in any project, with its project. */
export function findResidence(
  state: AkubelaState,
  residenceId: string,
): { project: Project; residence: Residence } | undefined {
  for (const project of state.projects.values()) {
    const residence = project.residences.get(residenceId);
    if (residence) return { project, residence };
  }
  return undefined;
}

/** Public devices of the project (project-wide ones first, then by building): `get_visitor_temp_key_device_list`. */
export function publicDevices(project: Project): Device[] {
  const all = [...project.devices.values()];
  return [...all.filter((d) => d.scope === "project"), ...all.filter((d) => d.scope === "building")];
}

/**
 * The devices `get_akuvox_device_list` answers for a residence, in this order: the public devices of its building,
 * the project-wide public devices, the residence's own private devices.
 */
export function residenceDevices(project: Project, residence: Residence): Device[] {
  const all = [...project.devices.values()];
  return [
    ...all.filter((d) => d.scope === "building" && d.building_id === residence.building_id),
    ...all.filter((d) => d.scope === "project"),
    ...all.filter((d) => d.scope === "residence" && d.residence_id === residence.residence_id),
  ];
}

/** Accounts of a residence, in list order. */
export function residenceAccounts(project: Project, residenceId: string): Account[] {
  return [...project.accounts.values()].filter((a) => a.residence_id === residenceId);
}

/** The device with this MAC (case-insensitive) anywhere in the project. */
export function findDeviceByMac(project: Project, mac: string): Device | undefined {
  const wanted = mac.toUpperCase();
  for (const d of project.devices.values()) if (d.mac === wanted) return d;
  return undefined;
}
