import type { BuildingRecord, ResidenceRecord } from "../../datasources/akubela/model.js";
import { BadUserInputError } from "../../errors.js";

/**
 * References to related objects built from ids already at hand, so following a relation costs no vendor call
 * until a field that needs one is selected. A `ResidenceRef` without `residenceNo` is completed lazily from the
 * project's user list. A related project is asked of the data source (`ctx.akubela.project`), which refuses one
 * the caller may not see.
 */
export type ResidenceRef = Pick<ResidenceRecord, "__typename" | "projectId" | "residenceId"> & Partial<ResidenceRecord>;
export type BuildingRef = Pick<BuildingRecord, "__typename" | "projectId" | "buildingId"> & Partial<BuildingRecord>;

export const residenceRef = (projectId: string, residenceId: string): ResidenceRef => ({ __typename: "Residence", projectId, residenceId });

export function buildingRef(projectId: string, buildingId: string | null, name?: string | null): BuildingRef | null {
  if (!buildingId) return null;
  return name === undefined ? { __typename: "Building", projectId, buildingId } : { __typename: "Building", projectId, buildingId, name };
}

/** A vendor id argument: non-empty, no surrounding space, of a sane length. Checked before any vendor call. */
export function requireVendorId(value: string, field: string): string {
  if (typeof value !== "string" || value.trim() === "" || value !== value.trim() || value.length > 128) {
    throw new BadUserInputError(`${field} must be a non-empty vendor id`, field);
  }
  return value;
}
