import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root } from "type-graphql";
import { GLOBAL_ID_DESCRIPTION } from "../common/node.type.js";
import type { GraphContext } from "../../context.js";
import type {
  AccessGroupRecord,
  AccountRecord,
  CredentialsRecord,
  FaceRecord,
  FloorAccessRecord,
  PinCodeRecord,
  RfCardRecord,
} from "../../datasources/akubela/model.js";
import { toGlobalId } from "../../lib/global-id.js";
import { buildingRef, requireVendorId, type ResidenceRef } from "../common/refs.js";
import { Building } from "../project/building.type.js";
import { Project } from "../project/project.type.js";
import { Residence } from "../residence/residence.type.js";
import { Account } from "./account.type.js";
import { AccessGroup, Credentials, Face, FloorAccess, PinCode, RfCard } from "./credentials.type.js";
import { RequiresScope } from "../../auth/scope.js";

@Resolver(() => Account)
export class AccountResolver {
  @RequiresScope("read")
  @Query(() => Account, { nullable: true, description: "One account by its vendor ids (`get_user_info`); null when unknown." })
  account(
    @Arg("projectId", () => ID, { description: "The vendor's project id." }) projectId: string,
    @Arg("residenceId", () => ID, { description: "The vendor's residence id." }) residenceId: string,
    @Arg("accountId", () => ID, { description: "The vendor's account id." }) accountId: string,
    @Ctx() ctx: GraphContext,
  ): Promise<AccountRecord | null> {
    return ctx.akubela.account(
      requireVendorId(projectId, "projectId"),
      requireVendorId(residenceId, "residenceId"),
      requireVendorId(accountId, "accountId"),
    );
  }

  @FieldResolver(() => ID, { description: GLOBAL_ID_DESCRIPTION })
  id(@Root() a: AccountRecord): string {
    return toGlobalId("Account", a.projectId, a.residenceId, a.accountId);
  }

  @FieldResolver(() => String, { nullable: true, description: "First and last name together, for display." })
  displayName(@Root() a: AccountRecord): string | null {
    return [a.firstName, a.lastName].filter(Boolean).join(" ") || a.accountName;
  }

  @FieldResolver(() => Residence, { description: "The residence the account belongs to." })
  residence(@Root() a: AccountRecord): ResidenceRef {
    return {
      __typename: "Residence",
      projectId: a.projectId,
      residenceId: a.residenceId,
      residenceNo: a.residenceNo,
      familyName: a.familyName,
      buildingId: a.buildingId,
      buildingName: a.buildingName,
    };
  }

  @FieldResolver(() => Building, { nullable: true, description: "The building of the account's residence." })
  building(@Root() a: AccountRecord) {
    return buildingRef(a.projectId, a.buildingId, a.buildingName);
  }

  @FieldResolver(() => Project, { description: "The project the account belongs to." })
  project(@Root() a: AccountRecord, @Ctx() ctx: GraphContext) {
    return ctx.akubela.project(a.projectId);
  }

  @FieldResolver(() => Credentials, {
    nullable: true,
    description: "PIN codes, RF cards, faces, access groups and floor access of the account (`get_user_access_info`).",
  })
  credentials(@Root() a: AccountRecord, @Ctx() ctx: GraphContext): Promise<CredentialsRecord> {
    return ctx.akubela.accountCredentials(a.projectId, a.residenceId, a.accountId);
  }
}

type AccountScopedRecord = { projectId: string; residenceId: string; accountId: string };
const accountOf = (r: AccountScopedRecord) => toGlobalId("Account", r.projectId, r.residenceId, r.accountId);

@Resolver(() => PinCode)
export class PinCodeResolver {
  @FieldResolver(() => ID, { description: GLOBAL_ID_DESCRIPTION })
  id(@Root() p: PinCodeRecord): string {
    return toGlobalId("PinCode", p.projectId, p.residenceId, p.accountId, p.pinCodeId);
  }

  @FieldResolver(() => ID, { description: "Global ID of the account holding it." })
  accountNodeId(@Root() p: PinCodeRecord): string {
    return accountOf(p);
  }
}

@Resolver(() => RfCard)
export class RfCardResolver {
  @FieldResolver(() => ID, { description: GLOBAL_ID_DESCRIPTION })
  id(@Root() c: RfCardRecord): string {
    return toGlobalId("RfCard", c.projectId, c.residenceId, c.accountId, c.rfCardId);
  }

  @FieldResolver(() => ID, { description: "Global ID of the account holding it." })
  accountNodeId(@Root() c: RfCardRecord): string {
    return accountOf(c);
  }
}

@Resolver(() => Face)
export class FaceResolver {
  @FieldResolver(() => ID, { description: GLOBAL_ID_DESCRIPTION })
  id(@Root() f: FaceRecord): string {
    return toGlobalId("Face", f.projectId, f.residenceId, f.accountId, f.faceId);
  }

  @FieldResolver(() => ID, { description: "Global ID of the account it belongs to." })
  accountNodeId(@Root() f: FaceRecord): string {
    return accountOf(f);
  }
}

@Resolver(() => AccessGroup)
export class AccessGroupResolver {
  @FieldResolver(() => ID, { description: GLOBAL_ID_DESCRIPTION })
  id(@Root() g: AccessGroupRecord): string {
    return toGlobalId("AccessGroup", g.projectId, g.residenceId, g.accountId, g.accessGroupId);
  }
}

@Resolver(() => FloorAccess)
export class FloorAccessResolver {
  @FieldResolver(() => Building, { description: "The building the floors are in." })
  building(@Root() f: FloorAccessRecord) {
    return buildingRef(f.projectId, f.buildingId);
  }
}
