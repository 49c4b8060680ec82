import { derive, groupedBy } from "../../lib/derived.js";
import { AkubelaCore, isNotFound, MANAGER } from "./core.js";
import { expectObject, mapAccount, mapCredentials, str, vendorRole } from "./mappers.js";
import type { AccountRecord, AccountRole, BuildingRecord, CredentialsRecord, ResidenceRecord } from "./model.js";

/**
 * The credential commands of 002 (創建/刪除用戶PIN碼, 射頻卡, 人臉權限信息): what a create sends the value as, and
 * the id a create answers and a delete names.
 */
const CREDENTIALS = {
  pinCode: { create: "create_user_pin_code_access_info", delete: "delete_user_pin_code_access_info", value: "number", id: "pin_code_id" },
  rfCard: { create: "create_user_rf_card_access_info", delete: "delete_user_rf_card_access_info", value: "number", id: "rf_card_id" },
  face: { create: "create_user_face_access_info", delete: "delete_user_face_access_info", value: "face_picture_url", id: "face_id" },
} as const;
export type CredentialKind = keyof typeof CREDENTIALS;

/** The three imports of 002 (導入用戶信息, 導入用戶PIN碼與射頻卡權限信息, 導入用戶人臉權限信息). */
const IMPORTS = {
  accounts: "import_user_info",
  pinCodesAndRfCards: "import_user_pin_code_and_rf_card_access_info",
  faces: "import_user_face_access_info",
} as const;
export type ImportKind = keyof typeof IMPORTS;

/** An account and where it lives, as the graph names them. */
export interface AccountKey {
  projectId: string;
  residenceId: string;
  accountId: string;
}

/** A new account (002 創建用戶信息): the building is the residence's. */
export interface NewAccount {
  projectId: string;
  residenceId: string;
  buildingId: string;
  firstName: string;
  lastName: string;
  email: string;
  role: AccountRole;
}

/**
 * The users document (`002_*.txt`): accounts, their credentials, floor access and imports, and the residences and
 * buildings the user list reveals (the vendor has no list of either). Every command names its project, and the
 * residence and account it touches are checked against that project's user list first.
 */
export abstract class AkubelaUsers extends AkubelaCore {
  /**
   * One account: `get_user_info` (002 獲取用戶信息). Refused when the project's user list does not have it in that
   * residence; `null` when the vendor then says it does not exist.
   */
  async account(projectId: string, residenceId: string, accountId: string): Promise<AccountRecord | null> {
    await this.verifyAccount(projectId, residenceId, accountId);
    try {
      const result = await this.command(MANAGER, "get_user_info", { project_id: projectId, residence_id: residenceId, account_id: accountId });
      return derive(result, `account|${projectId}|${residenceId}|${accountId}`, () => mapAccount(expectObject(result, "get_user_info"), projectId, { residenceId, accountId }));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** Access credentials of one account: `get_user_access_info` (002 獲取用戶權限信息). */
  async accountCredentials(projectId: string, residenceId: string, accountId: string): Promise<CredentialsRecord> {
    await this.verifyAccount(projectId, residenceId, accountId);
    const result = await this.command(MANAGER, "get_user_access_info", { project_id: projectId, residence_id: residenceId, account_id: accountId });
    return derive(result, `credentials|${projectId}|${residenceId}|${accountId}`, () => mapCredentials(expectObject(result, "get_user_access_info"), { projectId, residenceId, accountId }));
  }

  /**
   * Residences of a project, derived from the accounts of `get_user_list` (the vendor has no residence list):
   * a residence without any account is not visible.
   */
  projectResidences(projectId: string): Promise<ResidenceRecord[]> {
    // Derived once per request and project: every residence field (number, family name, building) asks for it.
    return this.shared(this.residenceLists, projectId, () => this.deriveResidences(projectId));
  }

  private readonly residenceLists = new Map<string, Promise<ResidenceRecord[]>>();

  protected override forgetLists(): void {
    super.forgetLists();
    this.residenceLists.clear();
  }

  private async deriveResidences(projectId: string): Promise<ResidenceRecord[]> {
    // In the order of their first account, as the grouping keeps it; the same grouping `residence()` reads.
    return [...groupedBy(await this.projectAccounts(projectId), "residenceId").values()].map((accounts) => residenceOf(accounts[0])!);
  }

  /** One residence as the user list describes it; refused when that list does not place it in the project. */
  async residence(projectId: string, residenceId: string): Promise<ResidenceRecord> {
    await this.verifyResidence(projectId, residenceId);
    const found = residenceOf(groupedBy(await this.projectAccounts(projectId), "residenceId").get(residenceId)?.[0]);
    return found ?? this.guard.refuse(`residence ${residenceId} is not in project ${projectId} (the project's user list has no account there)`);
  }

  /** A building as the project's own lists place it; refused when they do not (another project's, or gone). */
  async projectBuilding(projectId: string, buildingId: string): Promise<BuildingRecord> {
    const building = (await this.projectBuildings(projectId)).find((b) => b.buildingId === buildingId);
    return building ?? this.guard.refuse(`building ${buildingId} is not in project ${projectId}`);
  }

  /**
   * Buildings of a project: those of its accounts (`get_user_list`) and of its devices
   * (`get_visitor_temp_key_device_list`), in that order, each once.
   */
  async projectBuildings(projectId: string): Promise<BuildingRecord[]> {
    const [accounts, devices] = await Promise.all([this.projectAccounts(projectId), this.projectDevices(projectId)]);
    const byId = new Map<string, BuildingRecord>();
    for (const { buildingId, buildingName } of [...accounts, ...devices]) {
      if (buildingId && !byId.has(buildingId)) {
        byId.set(buildingId, { __typename: "Building", projectId, buildingId, name: buildingName });
      } else if (buildingId && buildingName && !byId.get(buildingId)!.name) {
        byId.get(buildingId)!.name = buildingName;
      }
    }
    return [...byId.values()];
  }

  /** Refuses a building the project's user and device lists do not show. */
  private async verifyBuildings(projectId: string, buildingIds: readonly string[]): Promise<void> {
    const known = new Set((await this.projectBuildings(projectId)).map((b) => b.buildingId));
    const unknown = buildingIds.find((b) => !known.has(b));
    if (unknown !== undefined) this.guard.refuse(`building ${unknown} is not in project ${projectId}`);
  }

  // ---- writes ----

  private async createParam(a: NewAccount) {
    await Promise.all([this.verifyResidence(a.projectId, a.residenceId), this.verifyBuildings(a.projectId, [a.buildingId])]);
    return {
      project_id: a.projectId,
      residence_id: a.residenceId,
      building_id: a.buildingId,
      first_name: a.firstName,
      last_name: a.lastName,
      email: a.email,
      auth: vendorRole(a.role),
    };
  }

  /**
   * Creates accounts: one with `create_user_info` (002 創建用戶信息, answers the new id), more with
   * `batch_create_user_info` (002 批量創建用戶信息, `param` an array, all or none). Answers the new account's id
   * for a single one.
   */
  async createAccounts(accounts: readonly NewAccount[]): Promise<string | null> {
    const params = await Promise.all(accounts.map((a) => this.createParam(a)));
    try {
      if (params.length === 1) return str(expectObject(await this.order(MANAGER, "create_user_info", params[0]), "create_user_info").account_id);
      await this.order(MANAGER, "batch_create_user_info", params);
      return null;
    } finally {
      // Whatever the outcome (a timeout may have created them): the user lists are stale on every instance.
      for (const projectId of new Set(accounts.map((a) => a.projectId))) await this.usersChanged(projectId);
    }
  }

  /** `update_user_info` (002 更新用戶信息). */
  async updateAccount(a: AccountKey, firstName: string, lastName: string) {
    await this.verifyAccount(a.projectId, a.residenceId, a.accountId);
    try {
      return await this.order(MANAGER, "update_user_info", { project_id: a.projectId, residence_id: a.residenceId, account_id: a.accountId, first_name: firstName, last_name: lastName });
    } finally {
      await this.usersChanged(a.projectId);
    }
  }

  /** `update_user_password` (002 更新用戶密碼). The password is never logged (the client logs no params). */
  async updateAccountPassword(a: AccountKey, newPassword: string) {
    await this.verifyAccount(a.projectId, a.residenceId, a.accountId);
    return this.order(MANAGER, "update_user_password", { project_id: a.projectId, residence_id: a.residenceId, account_id: a.accountId, new_password: newPassword });
  }

  /**
   * Deletes accounts of one project: one with `delete_user_info` (002 刪除用戶信息), more with
   * `batch_delete_user_info` (002 批量刪除用戶信息). Every account is checked before anything is sent.
   */
  async deleteAccounts(projectId: string, accounts: readonly { residenceId: string; accountId: string }[]) {
    for (const a of accounts) await this.verifyAccount(projectId, a.residenceId, a.accountId);
    try {
      if (accounts.length === 1) {
        return await this.order(MANAGER, "delete_user_info", { project_id: projectId, account_id: accounts[0].accountId, residence_id: accounts[0].residenceId });
      }
      return await this.order(MANAGER, "batch_delete_user_info", {
        project_id: projectId,
        accounts: accounts.map((a) => ({ account_id: a.accountId, residence_id: a.residenceId })),
      });
    } finally {
      await this.usersChanged(projectId);
      await this.accessChanged(projectId, accounts);
    }
  }

  /** Has the vendor import a file into a project (the imports of 002): it fetches the file and answers a task id. */
  async importFile(kind: ImportKind, projectId: string, fileName: string, fileUrl: string): Promise<string | null> {
    this.guard.project(projectId);
    const command = IMPORTS[kind];
    try {
      const result = await this.order(MANAGER, command, { project_id: projectId, file_name: fileName, file_url: fileUrl });
      return str(expectObject(result, command).task_id);
    } finally {
      // The import names no account: every account's access info of the project (and its accounts) may change.
      if (kind === "accounts") await this.usersChanged(projectId);
      await this.accessChanged(projectId);
    }
  }

  /** `update_user_floor_access_info` (002 更新用戶樓層權限信息): replaces the account's floors. */
  async updateFloorAccess(a: AccountKey, floors: readonly { buildingId: string; floor: string }[]) {
    await Promise.all([this.verifyAccount(a.projectId, a.residenceId, a.accountId), this.verifyBuildings(a.projectId, floors.map((f) => f.buildingId))]);
    try {
      return await this.order(MANAGER, "update_user_floor_access_info", {
        project_id: a.projectId,
        residence_id: a.residenceId,
        account_id: a.accountId,
        floor_accesses: floors.map((f) => ({ building_id: f.buildingId, floor: f.floor })),
      });
    } finally {
      await this.accessChanged(a.projectId, [a]);
    }
  }

  /**
   * Gives an account a PIN code, an RF card or a face (002 創建用戶PIN碼 / 射頻卡 / 人臉權限信息): answers the new id
   * where the vendor gives one (`pin_code_id`, `rf_card_id`; a face create answers none).
   */
  async createCredential(a: AccountKey, kind: CredentialKind, value: string): Promise<string | null> {
    const { create, value: field, id } = CREDENTIALS[kind];
    const result = await this.credentialWrite(create, a, { [field]: value });
    return str(result[id]);
  }

  /** Deletes a PIN code, an RF card or a face (002 刪除用戶PIN碼 / 射頻卡 / 人臉權限信息). */
  async deleteCredential(a: AccountKey, kind: CredentialKind, credentialId: string): Promise<void> {
    await this.credentialWrite(CREDENTIALS[kind].delete, a, { [CREDENTIALS[kind].id]: credentialId });
  }

  private async credentialWrite(command: string, a: AccountKey, extra: Record<string, string>): Promise<Record<string, unknown>> {
    await this.verifyAccount(a.projectId, a.residenceId, a.accountId);
    try {
      const result = await this.order(MANAGER, command, { project_id: a.projectId, residence_id: a.residenceId, account_id: a.accountId, ...extra });
      return result && typeof result === "object" ? (result as Record<string, unknown>) : {};
    } finally {
      await this.accessChanged(a.projectId, [a]);
    }
  }
}

/** A residence as the first account of the user list living there describes it (the vendor has no residence list). */
export function residenceOf(a: AccountRecord | undefined): ResidenceRecord | undefined {
  return a
    ? { __typename: "Residence", projectId: a.projectId, residenceId: a.residenceId, residenceNo: a.residenceNo, familyName: a.familyName, buildingId: a.buildingId, buildingName: a.buildingName }
    : undefined;
}
