/**
 * The site map (`SITE_MAP`): what the Aliyun gateway cannot say about itself. Aliyun access-control devices have
 * no list API (`003_*.txt` has none), so the map names each `iotId` with its display name, project and building;
 * and it says how an Akubela account links to an Aliyun person (graph-model.md, "Linking the two vendors").
 *
 * ```json
 * {
 *   "identity": { "prefix": "", "overrides": { "<account_id>": "<identityId>" } },
 *   "devices": [{ "iotId": "…", "name": "Car park gate", "projectId": "pr…", "buildingId": "b…" }]
 * }
 * ```
 *
 * By default an account's identityId is its `account_id`; `prefix` is put in front of it; `overrides` name
 * exceptions one by one. The file is validated once at start-up and every problem is named by its path.
 */

import { readFile } from "node:fs/promises";

export interface SiteMapDevice {
  iotId: string;
  name: string;
  projectId: string;
  /** Absent for a project-wide device (a site gate). */
  buildingId?: string;
}

export interface SiteMap {
  devices: readonly SiteMapDevice[];
  /** The Aliyun identityId of an Akubela account. */
  identityIdOf(accountId: string): string;
  /** The Akubela account id linked to an identityId, when the rule can tell (`undefined` when not). */
  accountIdOf(identityId: string): string | undefined;
  /** The device with this iotId, when mapped. */
  device(iotId: string): SiteMapDevice | undefined;
  /** Mapped devices of a project, or of one building of it (project-wide devices belong to no building). */
  devicesOf(projectId: string, buildingId?: string): SiteMapDevice[];
}

export class SiteMapError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid site map ${source}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "SiteMapError";
  }
}

const MAX_DEVICES = 100_000;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Validates a parsed site map; throws one {@link SiteMapError} naming every problem. */
export function parseSiteMap(raw: unknown, source = "(inline)"): SiteMap {
  const problems: string[] = [];
  const unknownKeys = (obj: Record<string, unknown>, allowed: string[], path: string) => {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key) && !key.startsWith("$")) problems.push(`${path}${key} is not a known field (allowed: ${allowed.join(", ")})`);
    }
  };
  const text = (v: unknown, path: string, required: boolean): string | undefined => {
    if (v === undefined || v === null) {
      if (required) problems.push(`${path} is required`);
      return undefined;
    }
    if (typeof v !== "string" || v.trim() === "") {
      problems.push(`${path} must be a non-empty string`);
      return undefined;
    }
    if (v.length > 200) problems.push(`${path} is longer than 200 characters`);
    return v;
  };

  if (!isObject(raw)) throw new SiteMapError(source, ["the file must hold a JSON object with `devices` and `identity`"]);
  unknownKeys(raw, ["devices", "identity"], "");

  let prefix = "";
  const overrides = new Map<string, string>();
  if (raw.identity !== undefined) {
    if (!isObject(raw.identity)) problems.push("identity must be an object");
    else {
      unknownKeys(raw.identity, ["prefix", "overrides"], "identity.");
      if (raw.identity.prefix !== undefined) {
        if (typeof raw.identity.prefix !== "string") problems.push("identity.prefix must be a string");
        else prefix = raw.identity.prefix;
      }
      if (raw.identity.overrides !== undefined) {
        if (!isObject(raw.identity.overrides)) problems.push("identity.overrides must be an object of account_id → identityId");
        else {
          const seen = new Map<string, string>();
          for (const [accountId, identityId] of Object.entries(raw.identity.overrides)) {
            const id = text(identityId, `identity.overrides.${accountId}`, true);
            if (!id) continue;
            if (seen.has(id)) problems.push(`identity.overrides.${accountId} repeats the identityId of identity.overrides.${seen.get(id)}`);
            seen.set(id, accountId);
            overrides.set(accountId, id);
          }
        }
      }
    }
  }

  const devices: SiteMapDevice[] = [];
  if (!Array.isArray(raw.devices)) problems.push("devices must be an array (it may be empty)");
  else if (raw.devices.length > MAX_DEVICES) problems.push(`devices has more than ${MAX_DEVICES} entries`);
  else {
    const seen = new Map<string, number>();
    raw.devices.forEach((d, i) => {
      const path = `devices[${i}]`;
      if (!isObject(d)) {
        problems.push(`${path} must be an object`);
        return;
      }
      unknownKeys(d, ["iotId", "name", "projectId", "buildingId"], `${path}.`);
      const iotId = text(d.iotId, `${path}.iotId`, true);
      const name = text(d.name, `${path}.name`, true);
      const projectId = text(d.projectId, `${path}.projectId`, true);
      const buildingId = text(d.buildingId, `${path}.buildingId`, false);
      if (iotId && seen.has(iotId)) problems.push(`${path}.iotId repeats devices[${seen.get(iotId)}].iotId`);
      if (iotId) seen.set(iotId, i);
      if (iotId && name && projectId) devices.push({ iotId, name, projectId, ...(buildingId ? { buildingId } : {}) });
    });
  }
  if (problems.length > 0) throw new SiteMapError(source, problems);

  const byIotId = new Map(devices.map((d) => [d.iotId, d]));
  const reverse = new Map([...overrides].map(([accountId, identityId]) => [identityId, accountId]));
  return {
    devices,
    identityIdOf: (accountId) => overrides.get(accountId) ?? `${prefix}${accountId}`,
    accountIdOf: (identityId) => {
      const overridden = reverse.get(identityId);
      if (overridden) return overridden;
      if (!identityId.startsWith(prefix)) return undefined;
      const accountId = identityId.slice(prefix.length);
      // An account with an override has another identityId: this one is not it.
      return accountId && !overrides.has(accountId) ? accountId : undefined;
    },
    device: (iotId) => byIotId.get(iotId),
    devicesOf: (projectId, buildingId) =>
      devices.filter((d) => d.projectId === projectId && (buildingId === undefined || d.buildingId === buildingId)),
  };
}

/** Reads and validates the site map file at `path`. */
export async function loadSiteMap(path: string): Promise<SiteMap> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new SiteMapError(path, [`cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new SiteMapError(path, [`is not valid JSON: ${(error as Error).message}`]);
  }
  return parseSiteMap(raw, path);
}

/** The site map of an installation without Aliyun devices: identity = account_id, no devices. */
export const EMPTY_SITE_MAP: SiteMap = parseSiteMap({ devices: [] });
