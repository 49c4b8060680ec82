/**
 * Seeded objects the tests work on, picked from the simulator's live state (so that expectations are computed from
 * `sim.state`, never hard-coded ids). Call after `sim.reset()`: the state object is replaced by a reset.
 */
import {
  DEMO_PROJECT_ID,
  DEMO_SECOND_PROJECT_ID,
  residenceAccounts,
  residenceDevices,
  type Account,
  type AkubelaSimulator,
  type Device,
  type Project,
  type Residence,
} from "../../../src/simulators/akubela/index.js";

export const demoProject = (sim: AkubelaSimulator): Project => sim.state.projects.get(DEMO_PROJECT_ID)!;
export const secondProject = (sim: AkubelaSimulator): Project => sim.state.projects.get(DEMO_SECOND_PROJECT_ID)!;

export function first<T>(items: Iterable<T>, pred: (item: T) => boolean, what: string): T {
  for (const item of items) if (pred(item)) return item;
  throw new Error(`the seed has no ${what}`);
}

/** An account holding a PIN code, an RF card and a face. */
export const accountWithAllCredentials = (project: Project): Account =>
  first(project.accounts.values(), (a) => a.pin_codes.length > 0 && a.rf_cards.length > 0 && a.faces.length > 0, "account with every credential");

/** The account reference params (`project_id`, `residence_id`, `account_id`) of 002. */
export const accountRef = (a: Account) => ({ project_id: a.project_id, residence_id: a.residence_id, account_id: a.account_id });

/** A residence with at least `n` residence temp keys. */
export const residenceWithTempKeys = (project: Project, n: number): Residence =>
  first(project.residences.values(), (r) => r.temp_keys.length >= n, `residence with ${n} temp keys`);

/** A residence with a private Single-tenant Doorphone (so its device list holds both rtsp forms). */
export function residenceWithOwnDoorphone(project: Project): Residence {
  return first(
    project.residences.values(),
    (r) => [...project.devices.values()].some((d) => d.residence_id === r.residence_id && d.device_type === "Single-tenant Doorphone"),
    "residence with its own doorphone",
  );
}

/** The online building doorphone (relays and a security relay) of the residence's building. */
export function entranceOf(project: Project, residence: Residence): Device {
  return first(
    project.devices.values(),
    (d) => d.scope === "building" && d.building_id === residence.building_id && d.device_type === "Multi-tenants Doorphone",
    "building entrance",
  );
}

/** A residence whose building entrance is online and whose building car park is offline (seed: Tower B). */
export function residenceWithOfflineCarPark(project: Project): { residence: Residence; carPark: Device } {
  const carPark = first(project.devices.values(), (d) => d.scope === "building" && !d.online, "offline public device");
  const residence = first(project.residences.values(), (r) => r.building_id === carPark.building_id, "residence of that building");
  return { residence, carPark };
}

/** A residence of a different building than `residence`. */
export const residenceElsewhere = (project: Project, residence: Residence): Residence =>
  first(project.residences.values(), (r) => r.building_id !== residence.building_id, "residence of another building");

/** The admin (owner) account of a residence, if it has one. */
export const adminOf = (project: Project, residence: Residence): Account | undefined =>
  residenceAccounts(project, residence.residence_id).find((a) => a.auth === "admin");

export { residenceAccounts, residenceDevices };

/** All PIN / RF numbers of a project. */
export const projectNumbers = (project: Project, kind: "pin_codes" | "rf_cards"): Set<string> =>
  new Set([...project.accounts.values()].flatMap((a) => a[kind].map((c) => c.number)));

/** A number of `digits` digits not used as a PIN (or RF card) in the project. */
export function unusedNumber(project: Project, kind: "pin_codes" | "rf_cards", digits: number): string {
  const used = projectNumbers(project, kind);
  for (let n = 10 ** (digits - 1); ; n++) if (!used.has(String(n))) return String(n);
}
