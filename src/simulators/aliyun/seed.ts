/**
 * The Aliyun simulator's seeded state: persons linked to the Akubela demo accounts (identityId = account_id, the
 * default link of the site map) and a handful of access-control devices of the demo project, with card
 * permissions, door passwords and keep-open states. Deterministic for a given seed.
 */
import { createAkubelaSeed, DEFAULT_SEED, DEMO_PROJECT_ID } from "../akubela/index.js";
import { SeededRandom } from "../akubela/random.js";

export interface AliyunPerson {
  identityId: string;
  name: string;
  /** As stored: the gateway documents a String, its examples send an object. */
  extInfo: unknown;
}

export interface AliyunDevice {
  iotId: string;
  /** What the seed calls it (for the demo site map; the gateway itself has no names). */
  name: string;
  projectId: string;
  buildingId?: string;
  online: boolean;
  keepOpen: boolean;
}

export interface CardPermission {
  identityId: string;
  iotId: string;
  cardId: string;
  expiryTime: string;
}

export interface QrPermission {
  qrCode: string;
  identityId: string;
  iotId: string;
  effectiveTime: string;
  expiryTime: string;
  maxScanTimes: number;
  maxScanScope: "SHARE" | "DEVICE";
}

export interface DoorPassword {
  identityId: string;
  iotId: string;
  number: string;
  password: string;
  expiryDate: string;
}

export interface AliyunState {
  persons: Map<string, AliyunPerson>;
  devices: Map<string, AliyunDevice>;
  /** By `identityId|iotId|cardId`. */
  cards: Map<string, CardPermission>;
  /** QR codes generated, by code, with the person they were made for. */
  qrCodes: Map<string, { identityId: string }>;
  /** By `qrCode|iotId`. */
  qrPermissions: Map<string, QrPermission>;
  /** By `identityId|iotId|number`. */
  passwords: Map<string, DoorPassword>;
  /** Remote openings received, oldest first. */
  remoteOpens: { iotId: string; at: number }[];
}

export interface AliyunSeedOptions {
  seed?: number;
  /**
   * `accounts` of the Akubela seed the persons are linked to (default: the Akubela default, 120). Give the same
   * number as the Akubela simulator's `seed.accounts` so that every identityId is an account_id it knows.
   */
  accounts?: number;
  /** Persons: the first N accounts of the Akubela demo project (default 60; at most the project's accounts). */
  persons?: number;
  /** Access-control devices (default 6; more get numbered names, spread over the buildings). */
  devices?: number;
  /**
   * Scaled tests: exactly the first M persons hold a card (one card each, `C` + 6 digits of the person's rank),
   * valid on every device, so a person's permissions span all `devices`. Default: the demo mix (about 80 % of
   * the persons hold a card on the car park barrier and their own tower's side door).
   */
  cardHolders?: number;
}

const DEVICE_NAMES = [
  { name: "Car park barrier", building: null },
  { name: "Bike store door", building: 0 },
  { name: "Gym & pool turnstile", building: null },
  { name: "Tower A side door", building: 0 },
  { name: "Tower B side door", building: 1 },
  { name: "Rooftop terrace gate", building: 2 },
] as const;

export const cardKey = (identityId: string, iotId: string, cardId: string) => `${identityId}|${iotId}|${cardId}`;

/** A 26-character iotId like the document's `p2OsgId2N2kXMWThRCQP000101`. */
function iotIdFor(rng: SeededRandom, n: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let s = "";
  for (let i = 0; i < 20; i++) s += alphabet[rng.int(0, alphabet.length - 1)];
  return `${s}${String(n + 1).padStart(6, "0")}`;
}

export function createAliyunSeed(opts: AliyunSeedOptions = {}): AliyunState {
  const seed = opts.seed ?? DEFAULT_SEED;
  const rng = new SeededRandom(seed + 7);
  const akubela = createAkubelaSeed({ seed, ...(opts.accounts !== undefined ? { accounts: opts.accounts } : {}) });
  const project = akubela.projects.get(DEMO_PROJECT_ID)!;
  const buildings = [...project.buildings.values()];
  const wanted = opts.persons ?? 60;
  if (!Number.isSafeInteger(wanted) || wanted < 0 || wanted > project.accounts.size) {
    throw new RangeError(`persons must be an integer from 0 to ${project.accounts.size} (the Akubela seed's accounts; raise \`accounts\`)`);
  }
  const accounts = [...project.accounts.values()].slice(0, wanted);
  const holders = opts.cardHolders;
  if (holders !== undefined && (!Number.isSafeInteger(holders) || holders < 0 || holders > accounts.length)) {
    throw new RangeError(`cardHolders must be an integer from 0 to ${accounts.length} (the persons)`);
  }
  const deviceCount = opts.devices ?? DEVICE_NAMES.length;
  if (!Number.isSafeInteger(deviceCount) || deviceCount < 0) throw new RangeError("devices must be an integer >= 0");

  const state: AliyunState = {
    persons: new Map(),
    devices: new Map(),
    cards: new Map(),
    qrCodes: new Map(),
    qrPermissions: new Map(),
    passwords: new Map(),
    remoteOpens: [],
  };
  for (const a of accounts) {
    state.persons.set(a.account_id, { identityId: a.account_id, name: `${a.first_name} ${a.last_name}`, extInfo: { residence: a.residence_id } });
  }
  for (let i = 0; i < deviceCount; i++) {
    const known = DEVICE_NAMES[i];
    const building = known ? (known.building === null ? undefined : buildings[known.building % buildings.length]) : buildings[i % buildings.length];
    const device: AliyunDevice = {
      iotId: iotIdFor(rng, i),
      name: known?.name ?? `Access reader ${i + 1}`,
      projectId: DEMO_PROJECT_ID,
      ...(building ? { buildingId: building.building_id } : {}),
      online: i !== 5, // the rooftop gate is offline: remote opening it fails as the gateway does (6205)
      keepOpen: i === 2, // the gym turnstile is held open in the daytime
    };
    state.devices.set(device.iotId, device);
  }
  const devices = [...state.devices.values()];
  if (holders !== undefined) {
    accounts.slice(0, holders).forEach((a, rank) => {
      const cardId = `C${String(rank + 1).padStart(6, "0")}`;
      for (const d of devices) state.cards.set(cardKey(a.account_id, d.iotId, cardId), { identityId: a.account_id, iotId: d.iotId, cardId, expiryTime: "2030-12-31 23:59:59" });
    });
    return state;
  }
  // Cards: most persons hold one card valid on the car park and their own tower's side door.
  for (const a of accounts) {
    if (!rng.chance(0.8)) continue;
    const cardId = rng.hex(16).toUpperCase();
    const expiryTime = `2027-${String(rng.int(1, 12)).padStart(2, "0")}-${String(rng.int(1, 28)).padStart(2, "0")} 23:59:59`;
    const on = devices.filter((d, i) => i === 0 || d.buildingId === a.building_id || (i >= DEVICE_NAMES.length && rng.chance(0.3)));
    for (const d of on) state.cards.set(cardKey(a.account_id, d.iotId, cardId), { identityId: a.account_id, iotId: d.iotId, cardId, expiryTime });
  }
  return state;
}

/** The site map that names the seeded devices (what the demo ships as `config/demo-site-map.json`). */
export function demoSiteMap(state: AliyunState) {
  return {
    $comment:
      "Demo site map: the Aliyun access-control devices of the built-in simulator. identityId = account_id (the default link).",
    identity: { prefix: "", overrides: {} },
    devices: [...state.devices.values()].map((d) => ({
      iotId: d.iotId,
      name: d.name,
      projectId: d.projectId,
      ...(d.buildingId ? { buildingId: d.buildingId } : {}),
    })),
  };
}
