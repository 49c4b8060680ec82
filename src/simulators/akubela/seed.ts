import {
  DEFAULT_ACCOUNTS,
  DEFAULT_SEED,
  DEMO_PROJECT_ID,
  DEMO_SECOND_PROJECT_ID,
  SIM_FILES_BASE,
} from "./constants.js";
import { SeededRandom } from "./random.js";
import {
  WEEKDAYS,
  type Account,
  type AccessGroup,
  type AccountAuth,
  type AkubelaState,
  type Building,
  type CallRecord,
  type Device,
  type FloorAccess,
  type OpenDoorRecord,
  type PaymentStatus,
  type Project,
  type Relay,
  type RepeatMode,
  type Residence,
  type ResidenceTempKey,
  type VisitorKeyDevice,
  type VisitorKeyHistoryEntry,
  type VisitorTempKey,
  type Weekday,
} from "./state.js";
import { formatDateTime, formatTimeOfDay } from "./time.js";

/** How to build the seed. */
export interface SeedOptions {
  /** PRNG seed: the same number (and `accounts`) always builds the same state. Default {@link DEFAULT_SEED}. */
  seed?: number;
  /**
   * Accounts in the demo project (default 120). Up to 144 they are spread 1–3 a residence over 48 residences
   * (4 buildings × 12); above, over `ceil(accounts / 2.5)` residences in as many 48-residence buildings as needed.
   */
  accounts?: number;
}

const FIRST_NAMES = [
  "Olivia", "Liam", "Amelia", "Noah", "Isla", "Oliver", "Ava", "George", "Mia", "Arthur", "Ivy", "Leo", "Freya",
  "Oscar", "Lily", "Harry", "Florence", "Muhammad", "Grace", "Jack", "Sophia", "Charlie", "Evie", "Thomas",
  "Poppy", "Henry", "Ella", "Theo", "Aisha", "Finn", "Priya", "Mateo", "Chloe", "Kenji", "Zara", "Lucas", "Nina",
  "Ethan", "Sofia", "Omar", "Hannah", "Daniel", "Maya", "Samuel", "Leila", "Joseph", "Ruby", "Adam", "Elena",
  "Tomasz",
] as const;

const LAST_NAMES = [
  "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson", "Wright",
  "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke", "Khan", "Singh",
  "Nguyen", "Kowalski", "Murphy", "O'Brien", "Okafor", "Rossi", "Müller", "Tanaka", "Garcia", "Hughes", "Edwards",
  "Hill", "Moore", "Lewis", "Harris", "Martin", "Cooper", "Ward", "Morris", "King", "Baker", "Chen", "Ahmed",
  "Ali", "Fernandes", "Novak", "Silva",
] as const;

const VISITOR_ROLES = [
  "Cleaner", "Dog walker", "Plumber", "Nanny", "Physiotherapist", "Guest", "Electrician", "Carer", "Tutor",
  "Gardener", "Delivery", "Family visit",
] as const;

const OPEN_DOOR_TYPES: readonly (readonly [string, number])[] = [
  ["PIN", 25],
  ["RF Card", 25],
  ["Face", 15],
  ["Remote", 10],
  ["Temp Key", 8],
  ["BLE", 8],
  ["NFC", 6],
  ["", 3],
];

const CUSTOM_GROUPS = ["Gym & Pool", "Parking Garage", "Rooftop Terrace", "Bike Store"] as const;

/** Seed times fall in the first half of 2026 (UTC). */
const T0 = Date.UTC(2026, 0, 1);
const T_SPAN = Date.UTC(2026, 6, 1) - T0;

interface Unique {
  macs: Set<string>;
  sips: Set<string>;
  emails: Set<string>;
}

interface ProjectSpec {
  project_id: string;
  project_name: string;
  region: string;
  accounts: number;
  residences: number;
  buildingNames: string[];
  /** Residences per building, same length as buildingNames. */
  perBuilding: number[];
  projectWideDevices: boolean;
  visitorKeys: number;
  /** Chance that a building's car-park access control is offline, etc.: see buildDevices. */
  offlineBuildingIndex: number | null;
  emailDomain: string;
  phonePrefix: string;
}

/**
 * Builds the deterministic seed: the demo project ({@link DEMO_PROJECT_ID}) and a second small project
 * ({@link DEMO_SECOND_PROJECT_ID}). Generation is linear in `accounts` (10,000 accounts in well under a second).
 */
export function createAkubelaSeed(opts: SeedOptions = {}): AkubelaState {
  const seed = opts.seed ?? DEFAULT_SEED;
  const accounts = opts.accounts ?? DEFAULT_ACCOUNTS;
  if (!Number.isSafeInteger(seed)) throw new RangeError("seed must be an integer");
  if (!Number.isSafeInteger(accounts) || accounts < 1) throw new RangeError("accounts must be an integer >= 1");

  const unique: Unique = { macs: new Set(), sips: new Set(), emails: new Set() };

  const residences = accounts <= 144 ? Math.min(48, accounts) : Math.ceil(accounts / 2.5);
  const buildingCount = Math.max(4, Math.ceil(residences / 48));
  const perBuilding = Array.from({ length: buildingCount }, (_, i) =>
    Math.floor(residences / buildingCount) + (i < residences % buildingCount ? 1 : 0),
  );
  const main = buildProject(new SeededRandom(seed), unique, {
    project_id: DEMO_PROJECT_ID,
    project_name: "Riverside Gardens",
    region: "United Kingdom",
    accounts,
    residences,
    buildingNames: perBuilding.map((_, i) => `Tower ${letters(i)}`),
    perBuilding,
    projectWideDevices: true,
    visitorKeys: 25,
    offlineBuildingIndex: 1,
    emailDomain: "riverside-gardens.example",
    phonePrefix: "+44 7700 9",
  });
  // The second project has its own PRNG stream so it does not change with `accounts`.
  const second = buildProject(new SeededRandom(seed ^ 0x5eed2), unique, {
    project_id: DEMO_SECOND_PROJECT_ID,
    project_name: "Harbour House",
    region: "Ireland",
    accounts: 6,
    residences: 3,
    buildingNames: ["Harbour House"],
    perBuilding: [3],
    projectWideDevices: false,
    visitorKeys: 2,
    offlineBuildingIndex: null,
    emailDomain: "harbour-house.example",
    phonePrefix: "+353 85 1",
  });

  return {
    projects: new Map([
      [main.project_id, main],
      [second.project_id, second],
    ]),
    seed: { seed, accounts },
  };
}

/** "A".."Z", "AA", "AB", ... */
function letters(i: number): string {
  let s = "";
  let n = i;
  do {
    s = String.fromCharCode(65 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return s;
}

function slug(s: string): string {
  return s
    .normalize("NFD")
    .replace(/[^A-Za-z]/g, "")
    .toLowerCase();
}

function buildProject(rng: SeededRandom, unique: Unique, spec: ProjectSpec): Project {
  const pid = spec.project_id;
  const id = (prefix: string) => prefix + rng.hex(32);
  const time = () => T0 + Math.floor((rng.next() * T_SPAN) / 1000) * 1000;
  /** `n` times, newest first. */
  const timesDesc = (n: number) => Array.from({ length: n }, time).sort((a, b) => b - a);
  const numbers = new Set<string>(); // PINs, RF cards, temp keys: unique in the project
  const uniqueNumber = (length: number) => {
    for (;;) {
      const n = rng.digits(length);
      if (!numbers.has(n)) {
        numbers.add(n);
        return n;
      }
    }
  };
  const mac = () => {
    for (;;) {
      const m = ("0C11" + rng.hex(8)).toUpperCase();
      if (!unique.macs.has(m)) {
        unique.macs.add(m);
        return m;
      }
    }
  };
  const sip = () => {
    for (;;) {
      const s = "62" + rng.digits(8);
      if (!unique.sips.has(s)) {
        unique.sips.add(s);
        return s;
      }
    }
  };
  let deviceSerial = 0;
  const device = (
    fields: Pick<Device, "scope" | "building_id" | "building_name" | "residence_id" | "device_name" | "device_type">,
    relays: [string, string][],
    securityRelays: [string, string][],
    online: boolean,
  ): Device => {
    const m = mac();
    deviceSerial++;
    const relay = ([relay_name, relay_number]: [string, string]): Relay => ({
      relay_id: id("r"),
      relay_name,
      relay_number,
    });
    return {
      device_id: id("d"),
      project_id: pid,
      ...fields,
      mac: m,
      sip: sip(),
      ciphertext: rng.hex(32),
      rtsp_url: `rtsp://user:${rng.hex(12)}@10.${(deviceSerial >> 16) & 255}.${(deviceSerial >> 8) & 255}.${deviceSerial & 255}:554/${m}`,
      online,
      is_public: fields.scope !== "residence",
      relays: relays.map(relay),
      security_relays: securityRelays.map(relay),
    };
  };
  const captureUrls = (hasCamera: boolean) => {
    if (!hasCamera) return { capture_thumbnail_url: "", capture_picture_url: "" };
    const c = rng.hex(16);
    return {
      capture_thumbnail_url: `${SIM_FILES_BASE}/capture/${c}_thumb.jpg`,
      capture_picture_url: `${SIM_FILES_BASE}/capture/${c}.jpg`,
    };
  };

  const project: Project = {
    project_id: pid,
    project_name: spec.project_name,
    region: spec.region,
    buildings: new Map(),
    residences: new Map(),
    accounts: new Map(),
    devices: new Map(),
    access_groups: new Map(),
    visitor_temp_keys: new Map(),
    import_tasks: [],
  };
  const addDevice = (d: Device) => {
    project.devices.set(d.device_id, d);
    return d;
  };

  // Project-wide public devices.
  const projectWide: Device[] = [];
  if (spec.projectWideDevices) {
    const scope = { scope: "project" as const, building_id: "", building_name: "", residence_id: null };
    projectWide.push(
      addDevice(device({ ...scope, device_name: "Main Gate", device_type: "Access Control" }, [["Main Gate", "#"]], [], true)),
      addDevice(device({ ...scope, device_name: "Concierge Desk", device_type: "Guard Phone" }, [], [], true)),
    );
  }

  // Access groups: one system group per building, a few customized ones for the project.
  const customGroups: AccessGroup[] = CUSTOM_GROUPS.slice(0, spec.buildingNames.length > 1 ? 4 : 2).map((name) => ({
    access_group_id: id("a"),
    access_group_name: name,
    access_group_type: "customized" as const,
  }));

  // Buildings, their public devices and residences.
  const residenceList: Residence[] = [];
  const buildingPublic = new Map<string, Device[]>();
  const systemGroupOf = new Map<string, AccessGroup>();
  spec.buildingNames.forEach((building_name, bi) => {
    const n = spec.perBuilding[bi]!;
    const unitsPerFloor = Math.max(1, Math.ceil(n / 12));
    const floors = Math.max(1, Math.ceil(n / unitsPerFloor));
    const building_id = id("b");
    const group: AccessGroup = {
      access_group_id: id("a"),
      access_group_name: `${building_name} Residents`,
      access_group_type: "system",
    };
    const building: Building = { building_id, building_name, floors, system_access_group_id: group.access_group_id };
    project.buildings.set(building.building_id, building);
    project.access_groups.set(group.access_group_id, group);
    systemGroupOf.set(building.building_id, group);

    const scope = { scope: "building" as const, building_id: building.building_id, building_name, residence_id: null };
    buildingPublic.set(building.building_id, [
      addDevice(
        device(
          { ...scope, device_name: `${building_name} Entrance`, device_type: "Multi-tenants Doorphone" },
          [
            ["Front Door", "#"],
            ["Side Gate", "0"],
          ],
          [["Fire Exit", "1"]],
          true,
        ),
      ),
      addDevice(
        device(
          { ...scope, device_name: `${building_name} Car Park`, device_type: "Access Control" },
          [["Car Park Door", "#"]],
          [],
          bi !== spec.offlineBuildingIndex,
        ),
      ),
    ]);

    for (let k = 0; k < n; k++) {
      const floor = Math.floor(k / unitsPerFloor) + 1;
      const unit = (k % unitsPerFloor) + 1;
      const nfcOn = rng.chance(0.6);
      const bleOn = rng.chance(0.5);
      const faceFile = rng.chance(0.4);
      const residence_no = `${floor}${String(unit).padStart(2, "0")}`;
      const residence: Residence = {
        residence_id: id("r"),
        project_id: pid,
        building_id: building.building_id,
        residence_no,
        family_name: "", // set from the admin account below
        floor,
        private_key: rng.digits(6),
        nfc: { enable_nfc: nfcOn, nfc_code: nfcOn ? rng.hex(16).toUpperCase() : "" },
        ble: { enable_ble: bleOn, ble_code: bleOn ? rng.hex(16).toUpperCase() : "" },
        face_file: { is_uploaded: faceFile, filename: faceFile ? `family-${residence_no}.jpg` : null },
        temp_keys: [],
        call_history: [],
        open_door_history: [],
      };
      project.residences.set(residence.residence_id, residence);
      residenceList.push(residence);
    }
  });
  for (const g of customGroups) project.access_groups.set(g.access_group_id, g);

  // Accounts: base per residence, the remainder to randomly chosen residences.
  const base = Math.floor(spec.accounts / residenceList.length);
  const extra = new Set(rng.sample(residenceList.map((_, i) => i), spec.accounts % residenceList.length));
  const buildingName = (bid: string) => project.buildings.get(bid)!.building_name;

  residenceList.forEach((residence, ri) => {
    const count = base + (extra.has(ri) ? 1 : 0);
    const familyLast = rng.pick(LAST_NAMES);
    residence.family_name = `${familyLast} Family`;
    const members: Account[] = [];
    for (let i = 0; i < count; i++) {
      const first = rng.pick(FIRST_NAMES);
      const last = i === 0 || rng.chance(0.8) ? familyLast : rng.pick(LAST_NAMES);
      let email = `${slug(first)}.${slug(last)}@${spec.emailDomain}`;
      for (let n = 2; unique.emails.has(email); n++) email = `${slug(first)}.${slug(last)}${n}@${spec.emailDomain}`;
      unique.emails.add(email);
      const auth: AccountAuth = i === 0 ? "admin" : rng.chance(0.4) ? "user" : "guest";
      const payment_status = rng.weighted<PaymentStatus>([
        ["normal", 80],
        ["inactivated", 12],
        ["expired", 8],
      ]);
      const credentialTime = () => formatDateTime(time());
      const floor_accesses: FloorAccess[] = rng.chance(0.2)
        ? [{ building_id: residence.building_id, floor: "all" }]
        : [{ building_id: residence.building_id, floor: String(residence.floor) }];
      if (floor_accesses[0]!.floor !== "all" && residence.floor !== 1 && rng.chance(0.3)) {
        floor_accesses.push({ building_id: residence.building_id, floor: "1" });
      }
      const account: Account = {
        account_id: id("a"),
        project_id: pid,
        residence_id: residence.residence_id,
        building_id: residence.building_id,
        account_name: email,
        first_name: first,
        last_name: last,
        email,
        phone: rng.chance(0.9) ? `${spec.phonePrefix}${rng.digits(2)}${rng.int(0, 9)}` : "",
        auth,
        region: spec.region,
        payment_status,
        password_sha256: null,
        created_time: formatDateTime(time()),
        pin_codes: Array.from({ length: rng.int(0, 2) }, () => ({
          pin_code_id: id("p"),
          number: uniqueNumber(6),
          created_time: credentialTime(),
          creator: "pm",
        })),
        rf_cards: Array.from({ length: rng.int(0, 2) }, () => ({
          rf_card_id: id("r"),
          number: uniqueNumber(10),
          created_time: credentialTime(),
          creator: "pm",
        })),
        faces: rng.chance(0.35)
          ? [
              {
                face_id: id("f"),
                created_time: credentialTime(),
                creator: "pm",
                face_picture_url: `${SIM_FILES_BASE}/faces/${rng.hex(16)}.jpg`,
              },
            ]
          : [],
        access_group_ids: [
          systemGroupOf.get(residence.building_id)!.access_group_id,
          ...(rng.chance(0.5) ? [rng.pick(customGroups).access_group_id] : []),
        ],
        floor_accesses,
      };
      project.accounts.set(account.account_id, account);
      members.push(account);
    }

    // Private devices of the residence.
    const own: Device[] = [];
    const scope = {
      scope: "residence" as const,
      building_id: residence.building_id,
      building_name: buildingName(residence.building_id),
      residence_id: residence.residence_id,
    };
    own.push(
      addDevice(
        device({ ...scope, device_name: `Indoor Monitor ${residence.residence_no}`, device_type: "Indoor Monitor" }, [], [], rng.chance(0.93)),
      ),
    );
    if (rng.chance(0.25)) {
      own.push(
        addDevice(
          device(
            { ...scope, device_name: `Apartment ${residence.residence_no} Door`, device_type: "Single-tenant Doorphone" },
            [["Apartment Door", "#"]],
            [],
            rng.chance(0.9),
          ),
        ),
      );
    }
    const visible = [...buildingPublic.get(residence.building_id)!, ...projectWide, ...own];
    const callers = visible.filter((d) => d.device_type !== "Indoor Monitor");
    const doors = visible.filter((d) => d.relays.length > 0);
    const personName = (a: Account) => `${a.first_name} ${a.last_name}`;

    residence.temp_keys = Array.from({ length: rng.int(0, 3) }, (): ResidenceTempKey => {
      const start = time();
      return {
        temp_key: uniqueNumber(8),
        start_time: formatDateTime(start),
        finish_time: formatDateTime(start + rng.int(1, 72) * 3_600_000),
        count: rng.int(1, 20),
        qr_code_url: `${SIM_FILES_BASE}/qr/${rng.hex(32)}.png`,
      };
    });
    residence.call_history = timesDesc(rng.int(0, 15)).map((t): CallRecord => {
      const from = rng.pick(callers);
      return { call_name: from.device_name, call_sip: from.sip, call_time: formatDateTime(t) };
    });
    residence.open_door_history = timesDesc(rng.int(0, 20)).map((t): OpenDoorRecord => {
      const door = rng.pick(doors);
      return {
        open_door: rng.chance(0.9),
        account_name: personName(rng.pick(members)),
        device_name: door.device_name,
        ...captureUrls(door.device_type !== "Access Control"),
        open_door_type: rng.weighted(OPEN_DOOR_TYPES),
        open_door_time: formatDateTime(t),
      };
    });
  });

  // Visitor temp keys.
  const keyTimes = Array.from({ length: spec.visitorKeys }, time).sort((a, b) => a - b);
  for (const created of keyTimes) {
    const residence = rng.pick(residenceList);
    const building = project.buildings.get(residence.building_id)!;
    const admin = [...project.accounts.values()].find(
      (a) => a.residence_id === residence.residence_id && a.auth === "admin",
    );
    const candidates = [...buildingPublic.get(building.building_id)!, ...projectWide].filter((d) => d.relays.length > 0);
    const chosen = rng.sample(candidates, rng.int(1, Math.min(3, candidates.length)));
    const devices: VisitorKeyDevice[] = chosen.map((d) => ({
      device_id: d.device_id,
      relay_ids: rng.sample(d.relays, rng.int(1, d.relays.length)).map((r) => r.relay_id),
      security_relay_ids: d.security_relays.length > 0 && rng.chance(0.3) ? d.security_relays.map((r) => r.relay_id) : [],
    }));
    const repeat_mode = rng.weighted<RepeatMode>([
      ["never", 30],
      ["daily", 30],
      ["weekly", 40],
    ]);
    const available_days: Weekday[] =
      repeat_mode === "weekly" ? WEEKDAYS.filter((d) => rng.sample(WEEKDAYS, rng.int(1, 5)).includes(d)) : [];
    if (repeat_mode === "weekly" && available_days.length === 0) available_days.push("Monday");
    const startSec = rng.int(6 * 4, 16 * 4) * 900;
    const finishSec = Math.min(startSec + rng.int(1, 6) * 3600, 23 * 3600 + 59 * 60 + 59);
    const number = uniqueNumber(8);
    const visitorName = rng.pick(FIRST_NAMES);
    const key: VisitorTempKey = {
      visitor_temp_key_id: id("v"),
      visitor_temp_key_name: `${rng.pick(VISITOR_ROLES)} – ${visitorName}`,
      visitor_temp_key_number: number,
      qr_code_url: `${SIM_FILES_BASE}/qr/${rng.hex(32)}.png`,
      device_validity_count: rng.weighted([
        ["", 50],
        ["1", 15],
        ["5", 20],
        ["10", 15],
      ]),
      visitor_identity_number: rng.chance(0.5) ? rng.digits(rng.int(6, 9)) : "",
      notice_email: rng.chance(0.5) ? `${slug(visitorName)}.visitor@mail.example` : "",
      residence_id: residence.residence_id,
      family_name: residence.family_name,
      residence_no: residence.residence_no,
      building_id: building.building_id,
      building_name: building.building_name,
      repeat_mode,
      available_days,
      start_time: formatTimeOfDay(startSec),
      finish_time: formatTimeOfDay(finishSec),
      created_time: formatDateTime(created),
      creator: "pm",
      devices,
      history: [],
    };
    key.history = timesDesc(rng.int(0, 30))
      .filter((t) => t > created)
      .map((t): VisitorKeyHistoryEntry => {
        const door = rng.pick(chosen);
        return {
          open_door_time: formatDateTime(t),
          building_name: building.building_name,
          device_name: door.device_name,
          account_name: admin ? `${admin.first_name} ${admin.last_name}` : residence.family_name,
          residence_no: residence.residence_no,
          record_type: "open door",
          open_door_type: "temp key",
          number,
          open_door: rng.chance(0.92),
          ...captureUrls(door.device_type !== "Access Control"),
        };
      });
    project.visitor_temp_keys.set(key.visitor_temp_key_id, key);
  }

  return project;
}

