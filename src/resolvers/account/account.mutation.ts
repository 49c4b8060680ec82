import { PublishesAccessEvent } from "../../events/publish.js";
import { Arg, Ctx, Field, ID, InputType, Mutation, ObjectType, registerEnumType, Resolver, UseMiddleware } from "type-graphql";
import type { GraphContext } from "../../context.js";
import { Idempotent, IDEMPOTENCY_KEY_DESCRIPTION } from "../common/idempotency.js";
import type { CredentialKind, ImportKind, NewAccount } from "../../datasources/akubela/datasource.js";
import { AccountRole, type AccountRecord, type CredentialsRecord } from "../../datasources/akubela/model.js";
import { attempt, idKey, InputErrors, MutationPayload } from "../common/mutation.js";
import { Account } from "./account.type.js";
import { Credentials, Face, PinCode, RfCard } from "./credentials.type.js";
import { RequiresScope } from "../../auth/scope.js";

export enum CredentialImportKind {
  PIN_CODES_AND_RF_CARDS = "PIN_CODES_AND_RF_CARDS",
  FACES = "FACES",
}
registerEnumType(CredentialImportKind, {
  name: "CredentialImportKind",
  description: "What a credential import file holds.",
  valuesConfig: {
    PIN_CODES_AND_RF_CARDS: { description: "PIN codes and RF cards (`import_user_pin_code_and_rf_card_access_info`)." },
    FACES: { description: "Face pictures (`import_user_face_access_info`)." },
  },
});

@InputType({ description: "A new account in a residence (`create_user_info`)." })
export class AccountCreateInput {
  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;

  @Field(() => ID, { description: "The residence (a `Residence` ID)." })
  residence!: string;

  @Field(() => ID, { nullable: true, description: "The residence's building (a `Building` ID); needed only for a residence with no account yet." })
  building?: string | null;

  @Field(() => String, { description: "First name (at most 64 characters)." })
  firstName!: string;

  @Field(() => String, { description: "Last name (at most 64 characters)." })
  lastName!: string;

  @Field(() => String, { description: "E-mail address: the login, unique in the cloud." })
  email!: string;

  @Field(() => AccountRole, { description: "Role in the residence; a residence has one `ADMIN` (its owner)." })
  role!: AccountRole;
}

@InputType({ description: "Several new accounts at once (`batch_create_user_info`): all created, or none." })
export class AccountsCreateInput {
  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;

  @Field(() => [AccountCreateInput], { description: "The accounts (1 to 100), of one project." })
  accounts!: AccountCreateInput[];
}

@InputType({ description: "New names for an account (`update_user_info`)." })
export class AccountUpdateInput {
  @Field(() => ID, { description: "The account (an `Account` ID)." })
  account!: string;

  @Field(() => String, { description: "First name." })
  firstName!: string;

  @Field(() => String, { description: "Last name." })
  lastName!: string;
}

@InputType({ description: "A new password for an account (`update_user_password`)." })
export class AccountPasswordUpdateInput {
  @Field(() => ID, { description: "The account (an `Account` ID)." })
  account!: string;

  @Field(() => String, { description: "The new password, 8 to 64 characters. Never logged nor echoed." })
  newPassword!: string;
}

@InputType({ description: "Accounts to delete." })
export class AccountsDeleteInput {
  @Field(() => [ID], { description: "`Account` IDs (1 to 100) of one project: one deletes with `delete_user_info`, more with the batch command." })
  ids!: string[];
}

@InputType({ description: "A file the vendor imports into a project." })
export class FileImportInput {
  @Field(() => ID, { description: "The project (a `Project` ID)." })
  project!: string;

  @Field(() => String, { description: "Name of the file." })
  fileName!: string;

  @Field(() => String, { description: "https URL on a public host (no credentials in it) the vendor downloads the file from." })
  fileUrl!: string;
}

@InputType({ description: "A credential file the vendor imports into a project." })
export class CredentialsImportInput extends FileImportInput {
  @Field(() => CredentialImportKind, { description: "What the file holds." })
  kind!: CredentialImportKind;
}

@InputType({ description: "A PIN code or RF card for an account." })
export class CredentialNumberInput {
  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;

  @Field(() => ID, { description: "The account (an `Account` ID)." })
  account!: string;

  @Field(() => String, { description: "The number: 4 to 8 digits for a PIN code, 4 to 20 hex digits for an RF card. A secret." })
  number!: string;
}

@InputType({ description: "A face picture for an account (`create_user_face_access_info`)." })
export class FaceCreateInput {
  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;

  @Field(() => ID, { description: "The account (an `Account` ID)." })
  account!: string;

  @Field(() => String, { description: "https URL on a public host (no credentials in it) of the face picture, which the vendor downloads." })
  pictureUrl!: string;
}

@InputType({ description: "A credential to delete." })
export class CredentialDeleteInput {
  @Field(() => ID, { description: "A `PinCode`, `RfCard` or `Face` ID." })
  id!: string;
}

@InputType({ description: "One floor an account may reach." })
export class FloorAccessInput {
  @Field(() => ID, { description: "The building (a `Building` ID)." })
  building!: string;

  @Field(() => String, { description: "`all`, or a floor number." })
  floor!: string;
}

@InputType({ description: "The floors an account may reach, replacing those it had (`update_user_floor_access_info`)." })
export class FloorAccessUpdateInput {
  @Field(() => ID, { description: "The account (an `Account` ID)." })
  account!: string;

  @Field(() => [FloorAccessInput], { description: "The floors (1 to 100)." })
  floors!: FloorAccessInput[];
}

@ObjectType({ description: "The result of a mutation on one account." })
export class AccountPayload extends MutationPayload {
  @Field(() => Account, { nullable: true, description: "The account as the vendor now shows it; null when nothing was done." })
  account!: AccountRecord | null;
}

@ObjectType({ description: "The result of `accountsCreate`." })
export class AccountsCreatePayload extends MutationPayload {
  @Field(() => [Account], { description: "The accounts created, found again by e-mail in the project's list (the batch command answers no ids)." })
  accounts!: AccountRecord[];
}

@ObjectType({ description: "The result of a delete." })
export class DeletePayload extends MutationPayload {
  @Field(() => [ID], { description: "IDs deleted." })
  deletedIds!: string[];
}

@ObjectType({ description: "The result of an import: the vendor's task." })
export class ImportPayload extends MutationPayload {
  @Field(() => ID, { nullable: true, description: "The vendor's import task id (`task_id`)." })
  taskId!: string | null;
}

@ObjectType({ description: "The result of a credential mutation." })
export class CredentialPayload extends MutationPayload {
  @Field(() => PinCode, { nullable: true, description: "The PIN code created." })
  pinCode!: unknown;

  @Field(() => RfCard, { nullable: true, description: "The RF card created." })
  rfCard!: unknown;

  @Field(() => Face, { nullable: true, description: "The face created." })
  face!: unknown;

  @Field(() => Credentials, { nullable: true, description: "All the account's credentials as the vendor now has them." })
  credentials!: CredentialsRecord | null;
}

function checkAccountCreate(check: InputErrors, a: AccountCreateInput, at: string) {
  const residence = check.id(a.residence, `${at}.residence`, "Residence");
  const building = a.building ? check.id(a.building, `${at}.building`, "Building") : undefined;
  check.text(a.firstName, `${at}.firstName`, { max: 64 });
  check.text(a.lastName, `${at}.lastName`, { max: 64 });
  check.email(a.email, `${at}.email`);
  if (residence && building && residence.parts[0] !== building.parts[0]) check.add(`${at}.building`, `${at}.building belongs to another project`);
  return { residence, building };
}

@Resolver()
export class AccountMutationResolver {
  /** One new account; the building comes from the input or from the residence (as the user list has it). */
  private async newAccount(ctx: GraphContext, a: AccountCreateInput, ids: ReturnType<typeof checkAccountCreate>, at: string, found: InputErrors): Promise<NewAccount> {
    const [projectId, residenceId] = ids.residence!.parts;
    const buildingId = ids.building?.parts[1] ?? (await ctx.akubela.residence(projectId, residenceId)).buildingId;
    if (!buildingId) found.add(`${at}.building`, `${at}.building is required: the residence's accounts name no building`, "REQUIRED");
    return { projectId, residenceId, buildingId: buildingId ?? "", firstName: a.firstName.trim(), lastName: a.lastName.trim(), email: a.email.trim(), role: a.role };
  }

  @RequiresScope("write")
  @Mutation(() => AccountPayload, { nullable: true, description: "Creates an account in a residence." })
  @UseMiddleware(Idempotent)
  async accountCreate(@Arg("input", () => AccountCreateInput, { description: "The account." }) input: AccountCreateInput, @Ctx() ctx: GraphContext): Promise<AccountPayload> {
    const check = new InputErrors();
    const ids = checkAccountCreate(check, input, "input");
    if (!check.ok) return { userErrors: check.errors, account: null };
    const found = new InputErrors();
    const account = await this.newAccount(ctx, input, ids, "input", found);
    if (!found.ok) return { userErrors: found.errors, account: null };
    const created = await attempt(() => ctx.akubela.createAccounts([account]));
    if (!created.ok) return { userErrors: created.errors, account: null };
    return { userErrors: [], account: created.value ? await ctx.akubela.account(account.projectId, account.residenceId, created.value) : null };
  }

  @RequiresScope("write")
  @Mutation(() => AccountsCreatePayload, { nullable: true, description: "Creates several accounts at once: all, or none when the vendor rejects one." })
  @UseMiddleware(Idempotent)
  async accountsCreate(@Arg("input", () => AccountsCreateInput, { description: "The accounts." }) input: AccountsCreateInput, @Ctx() ctx: GraphContext): Promise<AccountsCreatePayload> {
    const check = new InputErrors();
    const all = check.items(input.accounts, "input.accounts", 100) ?? [];
    const ids = all.map((a, i) => checkAccountCreate(check, a, `input.accounts.${i}`));
    check.unique(all, (a) => a.email?.trim().toLowerCase() || null, (i) => `input.accounts.${i}.email`);
    if (check.ok && new Set(ids.map((x) => x.residence!.parts[0])).size > 1) check.add("input.accounts", "input.accounts must all be of one project");
    if (!check.ok) return { userErrors: check.errors, accounts: [] };
    const found = new InputErrors();
    const news = await Promise.all(all.map((a, i) => this.newAccount(ctx, a, ids[i], `input.accounts.${i}`, found)));
    if (!found.ok) return { userErrors: found.errors, accounts: [] };
    const done = await attempt(() => ctx.akubela.createAccounts(news));
    if (!done.ok) return { userErrors: done.errors, accounts: [] };
    const emails = new Set(news.map((p) => p.email.toLowerCase()));
    const accounts = await ctx.akubela.projectAccounts(news[0].projectId);
    return { userErrors: [], accounts: accounts.filter((a) => a.email && emails.has(a.email.toLowerCase())) };
  }

  @RequiresScope("write")
  @Mutation(() => AccountPayload, { nullable: true, description: "Renames an account." })
  async accountUpdate(@Arg("input", () => AccountUpdateInput, { description: "The new names." }) input: AccountUpdateInput, @Ctx() ctx: GraphContext): Promise<AccountPayload> {
    const check = new InputErrors();
    const account = check.id(input.account, "input.account", "Account");
    const first = check.text(input.firstName, "input.firstName", { max: 64 });
    const last = check.text(input.lastName, "input.lastName", { max: 64 });
    if (!check.ok || !account || !first || !last) return { userErrors: check.errors, account: null };
    const [p, r, a] = account.parts;
    const done = await attempt(() => ctx.akubela.updateAccount({ projectId: p, residenceId: r, accountId: a }, first, last));
    return done.ok ? { userErrors: [], account: await ctx.akubela.account(p, r, a) } : { userErrors: done.errors, account: null };
  }

  @RequiresScope("write")
  @Mutation(() => AccountPayload, { nullable: true, description: "Sets an account's password. The password is never logged nor returned." })
  async accountPasswordUpdate(
    @Arg("input", () => AccountPasswordUpdateInput, { description: "The account and its new password." }) input: AccountPasswordUpdateInput,
    @Ctx() ctx: GraphContext,
  ): Promise<AccountPayload> {
    const check = new InputErrors();
    const account = check.id(input.account, "input.account", "Account");
    if (!input.newPassword || input.newPassword.length < 8 || input.newPassword.length > 64) {
      check.add("input.newPassword", "input.newPassword must be 8 to 64 characters long");
    }
    if (!check.ok || !account) return { userErrors: check.errors, account: null };
    const [p, r, a] = account.parts;
    const done = await attempt(() => ctx.akubela.updateAccountPassword({ projectId: p, residenceId: r, accountId: a }, input.newPassword));
    return done.ok ? { userErrors: [], account: await ctx.akubela.account(p, r, a) } : { userErrors: done.errors, account: null };
  }

  @RequiresScope("write")
  @Mutation(() => DeletePayload, { nullable: true, description: "Deletes accounts of one project (and their credentials)." })
  async accountsDelete(@Arg("input", () => AccountsDeleteInput, { description: "The accounts." }) input: AccountsDeleteInput, @Ctx() ctx: GraphContext): Promise<DeletePayload> {
    const check = new InputErrors();
    const ids = (check.items(input.ids, "input.ids", 100) ?? []).map((id, i) => check.id(id, `input.ids.${i}`, "Account"));
    check.unique(ids, idKey, (i) => `input.ids.${i}`);
    if (check.ok && new Set(ids.map((x) => x!.parts[0])).size > 1) check.add("input.ids", "input.ids must all be accounts of one project");
    if (!check.ok) return { userErrors: check.errors, deletedIds: [] };
    const projectId = ids[0]!.parts[0];
    const accounts = ids.map((x) => ({ residenceId: x!.parts[1], accountId: x!.parts[2] }));
    const done = await attempt(() => ctx.akubela.deleteAccounts(projectId, accounts));
    return done.ok ? { userErrors: [], deletedIds: input.ids } : { userErrors: done.errors, deletedIds: [] };
  }

  @RequiresScope("write")
  @Mutation(() => ImportPayload, { nullable: true, description: "Has the vendor import accounts from a file (`import_user_info`); answers its task id." })
  accountsImport(@Arg("input", () => FileImportInput, { description: "The file." }) input: FileImportInput, @Ctx() ctx: GraphContext): Promise<ImportPayload> {
    return this.importFile(ctx, input, "accounts");
  }

  @RequiresScope("write")
  @Mutation(() => ImportPayload, { nullable: true, description: "Has the vendor import credentials from a file; answers its task id." })
  credentialsImport(@Arg("input", () => CredentialsImportInput, { description: "The file." }) input: CredentialsImportInput, @Ctx() ctx: GraphContext): Promise<ImportPayload> {
    return this.importFile(ctx, input, input.kind === CredentialImportKind.FACES ? "faces" : "pinCodesAndRfCards");
  }

  private async importFile(
    ctx: GraphContext,
    input: FileImportInput,
    kind: ImportKind,
  ): Promise<ImportPayload> {
    const check = new InputErrors();
    const project = check.id(input.project, "input.project", "Project");
    const fileName = check.text(input.fileName, "input.fileName", { max: 255 });
    const fileUrl = check.publicHttpsUrl(input.fileUrl, "input.fileUrl");
    if (!check.ok || !project || !fileName || !fileUrl) return { userErrors: check.errors, taskId: null };
    const done = await attempt(() => ctx.akubela.importFile(kind, project.parts[0], fileName, fileUrl));
    return done.ok ? { userErrors: [], taskId: done.value } : { userErrors: done.errors, taskId: null };
  }

  @RequiresScope("write")
  @Mutation(() => CredentialPayload, { nullable: true, description: "Gives an account a PIN code (unique in the project)." })
  @UseMiddleware(Idempotent)
  @UseMiddleware(PublishesAccessEvent)
  pinCodeCreate(@Arg("input", () => CredentialNumberInput, { description: "The account and the PIN." }) input: CredentialNumberInput, @Ctx() ctx: GraphContext) {
    return this.createCredential(ctx, input.account, "pinCode", "input.number", input.number, /^\d{4,8}$/, "be 4 to 8 digits");
  }

  @RequiresScope("write")
  @Mutation(() => CredentialPayload, { nullable: true, description: "Gives an account an RF card (unique in the project)." })
  @UseMiddleware(Idempotent)
  @UseMiddleware(PublishesAccessEvent)
  rfCardCreate(@Arg("input", () => CredentialNumberInput, { description: "The account and the card number." }) input: CredentialNumberInput, @Ctx() ctx: GraphContext) {
    return this.createCredential(ctx, input.account, "rfCard", "input.number", input.number, /^[0-9A-Fa-f]{4,20}$/, "be 4 to 20 hexadecimal digits");
  }

  @RequiresScope("write")
  @Mutation(() => CredentialPayload, { nullable: true, description: "Gives an account a face (one per account)." })
  @UseMiddleware(Idempotent)
  @UseMiddleware(PublishesAccessEvent)
  faceCreate(@Arg("input", () => FaceCreateInput, { description: "The account and its picture." }) input: FaceCreateInput, @Ctx() ctx: GraphContext) {
    return this.createCredential(ctx, input.account, "face", "input.pictureUrl", input.pictureUrl, null, "");
  }

  private async createCredential(
    ctx: GraphContext,
    accountId: string,
    kind: CredentialKind,
    field: string,
    value: string,
    format: RegExp | null,
    hint: string,
  ): Promise<CredentialPayload> {
    const none = { pinCode: null, rfCard: null, face: null, credentials: null };
    const check = new InputErrors();
    const account = check.id(accountId, "input.account", "Account");
    const v = format ? check.format(value, field, format, hint) : check.publicHttpsUrl(value, field);
    if (!check.ok || !account || !v) return { userErrors: check.errors, ...none };
    const [p, r, a] = account.parts;
    const done = await attempt(() => ctx.akubela.createCredential({ projectId: p, residenceId: r, accountId: a }, kind, v));
    if (!done.ok) return { userErrors: done.errors, ...none };
    const credentials = await ctx.akubela.accountCredentials(p, r, a);
    const pinCode = kind === "pinCode" ? (credentials.pinCodes.find((c) => c.pinCodeId === done.value) ?? null) : null;
    const rfCard = kind === "rfCard" ? (credentials.rfCards.find((c) => c.rfCardId === done.value) ?? null) : null;
    // The face create answers no id; an account holds one face.
    const face = kind === "face" ? (credentials.faces.at(-1) ?? null) : null;
    return { userErrors: [], pinCode, rfCard, face, credentials };
  }

  @RequiresScope("write")
  @Mutation(() => CredentialPayload, { nullable: true, description: "Deletes a PIN code, an RF card or a face." })
  @UseMiddleware(PublishesAccessEvent)
  async credentialDelete(@Arg("input", () => CredentialDeleteInput, { description: "The credential." }) input: CredentialDeleteInput, @Ctx() ctx: GraphContext): Promise<CredentialPayload> {
    const none = { pinCode: null, rfCard: null, face: null, credentials: null };
    const check = new InputErrors();
    const id = check.id(input.id, "input.id", "PinCode", "RfCard", "Face");
    if (!check.ok || !id) return { userErrors: check.errors, ...none };
    const [p, r, a, credentialId] = id.parts;
    const kind: CredentialKind = id.type === "PinCode" ? "pinCode" : id.type === "RfCard" ? "rfCard" : "face";
    const done = await attempt(() => ctx.akubela.deleteCredential({ projectId: p, residenceId: r, accountId: a }, kind, credentialId));
    if (!done.ok) return { userErrors: done.errors, ...none };
    return { userErrors: [], ...none, credentials: await ctx.akubela.accountCredentials(p, r, a) };
  }

  @RequiresScope("write")
  @Mutation(() => CredentialPayload, { nullable: true, description: "Sets the floors an account may reach, replacing those it had." })
  @UseMiddleware(PublishesAccessEvent)
  async floorAccessUpdate(@Arg("input", () => FloorAccessUpdateInput, { description: "The account and its floors." }) input: FloorAccessUpdateInput, @Ctx() ctx: GraphContext): Promise<CredentialPayload> {
    const none = { pinCode: null, rfCard: null, face: null, credentials: null };
    const check = new InputErrors();
    const account = check.id(input.account, "input.account", "Account");
    const floors = (check.items(input.floors, "input.floors", 100) ?? []).map((f, i) => {
      const building = check.id(f.building, `input.floors.${i}.building`, "Building");
      if (building && account && building.parts[0] !== account.parts[0]) check.add(`input.floors.${i}.building`, `input.floors.${i}.building belongs to another project`);
      const floor = check.format(f.floor, `input.floors.${i}.floor`, /^(all|-?\d{1,3})$/, "be `all` or a floor number");
      return { buildingId: building?.parts[1] ?? "", floor: floor ?? "" };
    });
    if (!check.ok || !account) return { userErrors: check.errors, ...none };
    const [p, r, a] = account.parts;
    const done = await attempt(() => ctx.akubela.updateFloorAccess({ projectId: p, residenceId: r, accountId: a }, floors));
    if (!done.ok) return { userErrors: done.errors, ...none };
    return { userErrors: [], ...none, credentials: await ctx.akubela.accountCredentials(p, r, a) };
  }
}
