import { BadUserInputError } from "../errors.js";

/**
 * Opaque global IDs (house style, "Schema"): base64url of a JSON array `[typeName, ...parts]`, where the parts
 * are whatever the vendor needs to fetch the object again (an Account needs project, residence and account ids).
 * Vendor ids stay available as plainly named fields for partners who need them.
 */
export type NodeTypeName =
  | "Project"
  | "Building"
  | "Residence"
  | "Account"
  | "PinCode"
  | "RfCard"
  | "Face"
  | "AccessGroup"
  | "AkuvoxDevice"
  | "Relay"
  | "VisitorTempKey"
  | "ResidenceTempKey"
  | "AliyunAccessControlDevice"
  | "AliyunPerson"
  | "CardPermission";

export interface DecodedId {
  type: NodeTypeName;
  parts: string[];
}

/**
 * IDs encoded lately: a cached answer's objects get the same IDs on every request, and encoding (JSON, then
 * base64url) cost more than a lookup. Keyed by the parts joined with NUL; a part holding a NUL itself (which
 * would make two lists of parts one key) is encoded without the memo. Bounded, oldest dropped first.
 */
const encoded = new Map<string, string>();
const ENCODED_MAX = 20_000;

export function toGlobalId(type: NodeTypeName, ...parts: string[]): string {
  if (parts.some((p) => p.includes("\0"))) return Buffer.from(JSON.stringify([type, ...parts]), "utf8").toString("base64url");
  const key = `${type}\0${parts.join("\0")}`;
  let id = encoded.get(key);
  if (id === undefined) {
    id = Buffer.from(JSON.stringify([type, ...parts]), "utf8").toString("base64url");
    if (encoded.size >= ENCODED_MAX) encoded.delete(encoded.keys().next().value as string);
    encoded.set(key, id);
  }
  return id;
}

/** Decodes a global ID; `null` when it is not one of ours (callers answer `null`, as `node(id:)` should). */
export function fromGlobalId(id: string): DecodedId | null {
  try {
    const decoded = JSON.parse(Buffer.from(id, "base64url").toString("utf8"));
    if (!Array.isArray(decoded) || decoded.length < 2 || !decoded.every((p) => typeof p === "string")) return null;
    const [type, ...parts] = decoded as string[];
    return { type: type as NodeTypeName, parts };
  } catch {
    return null;
  }
}

/** Decodes a global ID that must be of `type`, or throws `BAD_USER_INPUT` naming the argument. */
export function expectGlobalId(id: string, type: NodeTypeName, field: string): string[] {
  const decoded = fromGlobalId(id);
  if (!decoded || decoded.type !== type) {
    throw new BadUserInputError(`${field} is not a ${type} ID`, field);
  }
  return decoded.parts;
}
