import { Arg, Args, Ctx, Field, ID, Int, ObjectType, Query, Resolver } from "type-graphql";
import type { GraphContext } from "../../context.js";
import { connectionOfList, connectionType, PageArgs } from "../common/connection.js";
import { AccountRole, DeviceVendor, PaymentStatus } from "../common/enums.js";
import { requireVendorId } from "../common/refs.js";
import { DateTimeScalar } from "../common/scalars.js";
import type { AccountRecord, AkuvoxDeviceRecord, ResidenceRecord } from "../../datasources/akubela/model.js";
import { unitConnection, type UnitRows } from "./unit-pages.js";
import { RequiresScope } from "../../auth/scope.js";

/**
 * Read-only reports for BI tools: flat rows with stable column names (the field names are the CSV / JSON column
 * names of `/reports/…` and will not change meaning), paged with `totalCount`. No secret is ever a column: PIN
 * and card numbers, keys and codes are counted, not shown.
 */

@ObjectType({ description: "One account with its residence and building, flat." })
export class AccountReportRow {
  @Field(() => ID, { description: "Vendor project id." }) projectId!: string;
  @Field(() => ID, { description: "Vendor account id." }) accountId!: string;
  @Field(() => String, { nullable: true, description: "Login name." }) accountName!: string | null;
  @Field(() => String, { nullable: true, description: "First name." }) firstName!: string | null;
  @Field(() => String, { nullable: true, description: "Last name." }) lastName!: string | null;
  @Field(() => String, { nullable: true, description: "E-mail address." }) email!: string | null;
  @Field(() => String, { nullable: true, description: "Phone number." }) phone!: string | null;
  @Field(() => AccountRole, { nullable: true, description: "Role in the residence." }) role!: AccountRole | null;
  @Field(() => PaymentStatus, { nullable: true, description: "Subscription status." }) paymentStatus!: PaymentStatus | null;
  @Field(() => ID, { description: "Vendor residence id." }) residenceId!: string;
  @Field(() => String, { nullable: true, description: "Residence number." }) residenceNo!: string | null;
  @Field(() => String, { nullable: true, description: "Family name of the residence." }) familyName!: string | null;
  @Field(() => ID, { nullable: true, description: "Vendor building id." }) buildingId!: string | null;
  @Field(() => String, { nullable: true, description: "Building name." }) buildingName!: string | null;
}

@ObjectType({ description: "One device of either vendor with its status, flat." })
export class DeviceReportRow {
  @Field(() => ID, { description: "Vendor project id." }) projectId!: string;
  @Field(() => DeviceVendor, { description: "Which vendor API the device belongs to." }) vendor!: DeviceVendor;
  @Field(() => ID, { description: "The device's vendor identity: MAC (Akuvox) or iotId (Aliyun)." }) deviceKey!: string;
  @Field(() => String, { nullable: true, description: "Display name." }) name!: string | null;
  @Field(() => String, { nullable: true, description: "The vendor's device type." }) deviceType!: string | null;
  @Field(() => Boolean, { nullable: true, description: "Online now, as the vendor last reported (null: not reported)." }) online!: boolean | null;
  @Field(() => Boolean, { description: "True for a shared device, false for one private to a residence." }) shared!: boolean;
  @Field(() => ID, { nullable: true, description: "Residence it is private to." }) residenceId!: string | null;
  @Field(() => ID, { nullable: true, description: "Vendor building id (null: project-wide)." }) buildingId!: string | null;
  @Field(() => String, { nullable: true, description: "Building name." }) buildingName!: string | null;
  @Field(() => Int, { description: "Number of door relays." }) relayCount!: number;
  @Field(() => Int, { description: "Number of security relays." }) securityRelayCount!: number;
}

@ObjectType({ description: "The credentials of one account, counted (never their numbers), flat." })
export class CredentialReportRow {
  @Field(() => ID, { description: "Vendor project id." }) projectId!: string;
  @Field(() => ID, { description: "Vendor account id." }) accountId!: string;
  @Field(() => ID, { description: "Vendor residence id." }) residenceId!: string;
  @Field(() => ID, { nullable: true, description: "Vendor building id." }) buildingId!: string | null;
  @Field(() => Int, { description: "PIN codes held." }) pinCodes!: number;
  @Field(() => Int, { description: "RF cards held." }) rfCards!: number;
  @Field(() => Int, { description: "Faces registered." }) faces!: number;
  @Field(() => String, { description: "Access group names, `;`-separated." }) accessGroups!: string;
  @Field(() => String, { description: "Floor accesses as `building:floor`, `;`-separated." }) floors!: string;
}

@ObjectType({ description: "One door event of a residence's history, flat." })
export class AccessEventReportRow {
  @Field(() => ID, { description: "Vendor project id." }) projectId!: string;
  @Field(() => ID, { description: "Vendor residence id." }) residenceId!: string;
  @Field(() => String, { nullable: true, description: "Residence number." }) residenceNo!: string | null;
  @Field(() => ID, { nullable: true, description: "Vendor building id." }) buildingId!: string | null;
  @Field(() => DateTimeScalar, { nullable: true, description: "When it happened." }) occurredAt!: Date | null;
  @Field(() => String, { nullable: true, description: "How the door was opened (vendor's word)." }) method!: string | null;
  @Field(() => Boolean, { nullable: true, description: "Whether the door opened." }) success!: boolean | null;
  @Field(() => String, { nullable: true, description: "Device name." }) deviceName!: string | null;
  @Field(() => String, { nullable: true, description: "Account that opened, when known." }) accountName!: string | null;
}

export const AccountReportConnection = connectionType("AccountReportRow", AccountReportRow, "account row");
export const DeviceReportConnection = connectionType("DeviceReportRow", DeviceReportRow, "device row");
export const CredentialReportConnection = connectionType("CredentialReportRow", CredentialReportRow, "credential row");
export const AccessEventReportConnection = connectionType("AccessEventReportRow", AccessEventReportRow, "access event row");

/** The rows of the accounts report: the project's user list, which the request holds whole anyway. */
export const REPORT_ROWS = {
  async accounts(ctx: GraphContext, projectId: string): Promise<AccountReportRow[]> {
    return (await ctx.akubela.projectAccounts(projectId)).map((a) => ({
      projectId,
      accountId: a.accountId,
      accountName: a.accountName,
      firstName: a.firstName,
      lastName: a.lastName,
      email: a.email,
      phone: a.phone,
      role: a.role,
      paymentStatus: a.paymentStatus,
      residenceId: a.residenceId,
      residenceNo: a.residenceNo,
      familyName: a.familyName,
      buildingId: a.buildingId,
      buildingName: a.buildingName,
    }));
  },

};

/** A unit of the devices report: the project's shared Akuvox devices, one residence's own, then the Aliyun ones. */
type DeviceUnit = { kind: "shared" } | { kind: "residence"; residence: ResidenceRecord } | { kind: "aliyun" };

/**
 * The reports whose rows come from one vendor read per account or residence, paged by unit ({@link unitConnection}):
 * a page reads only the accounts or residences it covers.
 */
const UNIT_ROWS = {
  devices(ctx: GraphContext, projectId: string): UnitRows<DeviceUnit, DeviceReportRow> {
    const akuvoxRow = (d: AkuvoxDeviceRecord, residence: ResidenceRecord | null): DeviceReportRow => ({
      projectId,
      vendor: DeviceVendor.AKUVOX,
      deviceKey: d.mac,
      name: d.name,
      deviceType: d.vendorDeviceType,
      online: d.online,
      shared: residence === null,
      residenceId: residence?.residenceId ?? null,
      buildingId: d.buildingId || (residence?.buildingId ?? null),
      buildingName: d.buildingName || (residence?.buildingName ?? null),
      relayCount: d.relays.length,
      securityRelayCount: d.securityRelays.length,
    });
    return {
      units: async () => [{ kind: "shared" }, ...(await ctx.akubela.projectResidences(projectId)).map((residence) => ({ kind: "residence" as const, residence })), { kind: "aliyun" }],
      key: (u) => (u.kind === "residence" ? `r:${u.residence.residenceId}` : u.kind),
      async rows(u) {
        if (u.kind === "shared") return (await ctx.akubela.projectDevices(projectId)).map((d) => akuvoxRow(d, null));
        if (u.kind === "residence") {
          const own = (await ctx.akubela.residenceDevices(projectId, u.residence.residenceId)).filter((d) => d.isPublic === false);
          return own.map((d) => akuvoxRow(d, u.residence));
        }
        return ctx.aliyun.devicesOf(projectId).map((d) => ({
          projectId,
          vendor: DeviceVendor.ALIYUN,
          deviceKey: d.iotId,
          name: d.name,
          deviceType: "Access Control",
          online: null,
          shared: true,
          residenceId: null,
          buildingId: d.buildingId,
          buildingName: null,
          relayCount: 0,
          securityRelayCount: 0,
        }));
      },
    };
  },

  credentials(ctx: GraphContext, projectId: string): UnitRows<AccountRecord, CredentialReportRow> {
    return {
      units: () => ctx.akubela.projectAccounts(projectId),
      key: (a) => `${a.residenceId}|${a.accountId}`,
      oneRowEach: true,
      async rows(a) {
        const c = await ctx.akubela.accountCredentials(projectId, a.residenceId, a.accountId);
        return [
          {
            projectId,
            accountId: a.accountId,
            residenceId: a.residenceId,
            buildingId: a.buildingId,
            pinCodes: c.pinCodes.length,
            rfCards: c.rfCards.length,
            faces: c.faces.length,
            accessGroups: c.accessGroups.map((g) => g.name ?? g.accessGroupId).join(";"),
            floors: c.floorAccesses.map((f) => `${f.buildingId}:${f.floor}`).join(";"),
          },
        ];
      },
    };
  },

  accessEvents(ctx: GraphContext, projectId: string): UnitRows<ResidenceRecord, AccessEventReportRow> {
    return {
      units: () => ctx.akubela.projectResidences(projectId),
      key: (r) => r.residenceId,
      async rows(r) {
        return (await ctx.akubela.openDoorHistory(r)).map((e) => ({
          projectId,
          residenceId: r.residenceId,
          residenceNo: r.residenceNo,
          buildingId: r.buildingId,
          occurredAt: e.occurredAt,
          method: e.method,
          success: e.success,
          deviceName: e.deviceName,
          accountName: e.accountName,
        }));
      },
    };
  },
};

export type ReportName = keyof typeof REPORT_ROWS | keyof typeof UNIT_ROWS;

const PROJECT_ARG = { description: "The vendor project id." };

@Resolver()
export class ReportResolver {
  @RequiresScope("read")
  @Query(() => AccountReportConnection, { description: "Report: every account of a project with its residence and building (`get_user_list`)." })
  accountsReport(@Arg("projectId", () => ID, PROJECT_ARG) projectId: string, @Args(() => PageArgs) page: PageArgs, @Ctx() ctx: GraphContext) {
    const id = requireVendorId(projectId, "projectId");
    return connectionOfList(page, () => REPORT_ROWS.accounts(ctx, id));
  }

  @RequiresScope("read")
  @Query(() => DeviceReportConnection, {
    description: "Report: every device of a project, both vendors, with its status: shared ones, residences' own, the site map's Aliyun devices.",
  })
  devicesReport(@Arg("projectId", () => ID, PROJECT_ARG) projectId: string, @Args(() => PageArgs) page: PageArgs, @Ctx() ctx: GraphContext) {
    const id = requireVendorId(projectId, "projectId");
    return unitConnection(page, ctx.akubela, `devices|${id}`, UNIT_ROWS.devices(ctx, id));
  }

  @RequiresScope("read")
  @Query(() => CredentialReportConnection, { description: "Report: the credentials of every account of a project, counted (`get_user_access_info`)." })
  credentialsReport(@Arg("projectId", () => ID, PROJECT_ARG) projectId: string, @Args(() => PageArgs) page: PageArgs, @Ctx() ctx: GraphContext) {
    const id = requireVendorId(projectId, "projectId");
    return unitConnection(page, ctx.akubela, `credentials|${id}`, UNIT_ROWS.credentials(ctx, id));
  }

  @RequiresScope("read")
  @Query(() => AccessEventReportConnection, { description: "Report: the door events of every residence of a project (`get_akuvox_open_door_history`)." })
  accessEventsReport(@Arg("projectId", () => ID, PROJECT_ARG) projectId: string, @Args(() => PageArgs) page: PageArgs, @Ctx() ctx: GraphContext) {
    const id = requireVendorId(projectId, "projectId");
    return unitConnection(page, ctx.akubela, `accessEvents|${id}`, UNIT_ROWS.accessEvents(ctx, id));
  }
}
