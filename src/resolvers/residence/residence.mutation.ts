import { Arg, Ctx, Field, ID, InputType, Int, Mutation, ObjectType, Resolver, UseMiddleware } from "type-graphql";
import type { GraphContext } from "../../context.js";
import { Idempotent, IDEMPOTENCY_KEY_DESCRIPTION } from "../common/idempotency.js";
import type { ResidenceTempKeyRecord } from "../../datasources/akubela/model.js";
import type { ResidenceKey } from "../../datasources/akubela/datasource.js";
import { residenceRef, type ResidenceRef } from "../common/refs.js";
import { attempt, idKey, InputErrors, MutationPayload } from "../common/mutation.js";
import { DateTimeScalar } from "../common/scalars.js";
import { ResidenceTempKey } from "./residence-temp-key.type.js";
import { tempKeyDigest } from "./residence.resolver.js";
import { Residence } from "./residence.type.js";
import { RequiresScope } from "../../auth/scope.js";

@InputType({ description: "A temporary door code for a residence (`create_akuvox_open_door_temp_key_config`)." })
export class ResidenceTempKeyCreateInput {
  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;

  @Field(() => ID, { description: "The residence (a `Residence` ID)." })
  residence!: string;

  @Field(() => DateTimeScalar, { description: "When the code starts to open doors." })
  startsAt!: Date;

  @Field(() => DateTimeScalar, { description: "When the code stops opening doors; later than `startsAt`." })
  endsAt!: Date;

  @Field(() => Int, { description: "How many times the code may be used (1 to 999)." })
  count!: number;
}

@InputType({ description: "Residence temp keys to delete." })
export class ResidenceTempKeysDeleteInput {
  @Field(() => [ID], { description: "`ResidenceTempKey` IDs (1 to 100) of one residence. One deletes with the single command, more with the batch one." })
  ids!: string[];
}

@InputType({ description: "A residence's open-door settings to change; fields left out stay as they are." })
export class OpenDoorConfigUpdateInput {
  @Field(() => ID, { description: "The residence (a `Residence` ID)." })
  residence!: string;

  @Field(() => String, { nullable: true, description: "New private key (4 to 8 digits) for opening from the resident's phone. A secret." })
  privateKey?: string | null;

  @Field(() => Boolean, { nullable: true, description: "Turn opening by NFC on or off." })
  nfcEnabled?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: "Turn opening by Bluetooth on or off." })
  bleEnabled?: boolean | null;

  @Field(() => String, { nullable: true, description: "Name of an uploaded face file to register for the residence (`update_akuvox_face_file_info`)." })
  faceFile?: string | null;

  @Field(() => Boolean, { nullable: true, description: "True removes the residence's face file (`delete_akuvox_face_file_info`); not with `faceFile`." })
  deleteFaceFile?: boolean | null;
}

@ObjectType({ description: "The result of `residenceTempKeyCreate`." })
export class ResidenceTempKeyCreatePayload extends MutationPayload {
  @Field(() => ResidenceTempKey, { nullable: true, description: "The new code; null when not created." })
  residenceTempKey!: ResidenceTempKeyRecord | null;
}

@ObjectType({ description: "The result of `residenceTempKeysDelete`." })
export class ResidenceTempKeysDeletePayload extends MutationPayload {
  @Field(() => [ID], { description: "IDs of the codes deleted." })
  deletedIds!: string[];
}

@ObjectType({ description: "The result of `openDoorConfigUpdate`." })
export class OpenDoorConfigUpdatePayload extends MutationPayload {
  @Field(() => Residence, { nullable: true, description: "The residence: read `openDoorConfig` for the settings as the vendor now has them." })
  residence!: ResidenceRef | null;

  @Field(() => [String], { description: "The settings changed, in the order sent: `privateKey`, `nfcEnabled`, `bleEnabled`, `faceFile`, `deleteFaceFile`." })
  changed!: string[];
}

@Resolver()
export class ResidenceMutationResolver {
  @RequiresScope("write")
  @Mutation(() => ResidenceTempKeyCreatePayload, { nullable: true, description: "Creates a temporary door code for a residence." })
  @UseMiddleware(Idempotent)
  async residenceTempKeyCreate(
    @Arg("input", () => ResidenceTempKeyCreateInput, { description: "The code to create." }) input: ResidenceTempKeyCreateInput,
    @Ctx() ctx: GraphContext,
  ): Promise<ResidenceTempKeyCreatePayload> {
    const check = new InputErrors();
    const residence = check.id(input.residence, "input.residence", "Residence");
    check.int(input.count, "input.count", 1, 999);
    if (input.endsAt <= input.startsAt) check.add("input.endsAt", "input.endsAt must be later than input.startsAt");
    else check.notPast(input.endsAt, "input.endsAt");
    if (!check.ok || !residence) return { userErrors: check.errors, residenceTempKey: null };
    const [projectId, residenceId] = residence.parts;
    const created = await attempt(() => ctx.akubela.createResidenceTempKey({ projectId, residenceId }, input.startsAt, input.endsAt, input.count));
    if (!created.ok) return { userErrors: created.errors, residenceTempKey: null };
    const tempKey = created.value;
    // The list after the write holds the vendor's own record of the new code.
    const keys = tempKey ? await ctx.akubela.residenceTempKeys(projectId, residenceId) : [];
    return { userErrors: [], residenceTempKey: keys.find((k) => k.tempKey === tempKey) ?? null };
  }

  @RequiresScope("write")
  @Mutation(() => ResidenceTempKeysDeletePayload, { nullable: true, description: "Deletes temporary door codes of one residence." })
  async residenceTempKeysDelete(
    @Arg("input", () => ResidenceTempKeysDeleteInput, { description: "The codes to delete." }) input: ResidenceTempKeysDeleteInput,
    @Ctx() ctx: GraphContext,
  ): Promise<ResidenceTempKeysDeletePayload> {
    const check = new InputErrors();
    const ids = (check.items(input.ids, "input.ids", 100) ?? []).map((id, i) => check.id(id, `input.ids.${i}`, "ResidenceTempKey"));
    check.unique(ids, idKey, (i) => `input.ids.${i}`);
    if (check.ok && new Set(ids.map((k) => `${k!.parts[0]}|${k!.parts[1]}`)).size > 1) check.add("input.ids", "input.ids must all be codes of one residence");
    if (!check.ok) return { userErrors: check.errors, deletedIds: [] };
    const [projectId, residenceId] = ids[0]!.parts;
    // IDs carry a digest, not the code: the residence's list says which code each one is.
    const keys = await ctx.akubela.residenceTempKeys(projectId, residenceId);
    const found = new InputErrors();
    const tempKeys = ids.map((k, i) => {
      const key = keys.find((x) => tempKeyDigest(x.tempKey) === k!.parts[2]);
      if (!key) found.add(`input.ids.${i}`, `input.ids.${i} is not a current code of the residence`, "NOT_FOUND");
      return key?.tempKey ?? "";
    });
    if (!found.ok) return { userErrors: found.errors, deletedIds: [] };
    const unique = [...new Set(tempKeys)];
    const done = await attempt(() => ctx.akubela.deleteResidenceTempKeys({ projectId, residenceId }, unique));
    return done.ok ? { userErrors: [], deletedIds: input.ids } : { userErrors: done.errors, deletedIds: [] };
  }

  @RequiresScope("write")
  @Mutation(() => OpenDoorConfigUpdatePayload, {
    nullable: true,
    description:
      "Changes a residence's open-door settings: private key, NFC, Bluetooth, face file. Each setting is one vendor command, sent in that order; the first rejection stops the rest (`changed` says what was done).",
  })
  async openDoorConfigUpdate(
    @Arg("input", () => OpenDoorConfigUpdateInput, { description: "The settings to change." }) input: OpenDoorConfigUpdateInput,
    @Ctx() ctx: GraphContext,
  ): Promise<OpenDoorConfigUpdatePayload> {
    const check = new InputErrors();
    const residence = check.id(input.residence, "input.residence", "Residence");
    if (input.privateKey !== null && input.privateKey !== undefined) check.format(input.privateKey, "input.privateKey", /^\d{4,8}$/, "be 4 to 8 digits");
    if (input.faceFile !== null && input.faceFile !== undefined) check.text(input.faceFile, "input.faceFile", { max: 255 });
    if (input.faceFile && input.deleteFaceFile) check.add("input.deleteFaceFile", "input.deleteFaceFile cannot be combined with input.faceFile");
    const steps: [string, (r: ResidenceKey) => Promise<unknown>][] = [];
    if (input.privateKey) steps.push(["privateKey", (r) => ctx.akubela.updatePrivateKey(r, input.privateKey!)]);
    if (typeof input.nfcEnabled === "boolean") steps.push(["nfcEnabled", (r) => ctx.akubela.updateNfc(r, input.nfcEnabled!)]);
    if (typeof input.bleEnabled === "boolean") steps.push(["bleEnabled", (r) => ctx.akubela.updateBle(r, input.bleEnabled!)]);
    if (input.faceFile) steps.push(["faceFile", (r) => ctx.akubela.updateFaceFile(r, input.faceFile!)]);
    if (input.deleteFaceFile) steps.push(["deleteFaceFile", (r) => ctx.akubela.deleteFaceFile(r)]);
    if (check.ok && steps.length === 0) check.add("input", "input must change at least one setting", "REQUIRED");
    if (!check.ok || !residence) return { userErrors: check.errors, residence: null, changed: [] };
    const [projectId, residenceId] = residence.parts;
    const changed: string[] = [];
    for (const [name, run] of steps) {
      const done = await attempt(() => run({ projectId, residenceId }), `input.${name}`);
      if (!done.ok) return { userErrors: done.errors, residence: residenceRef(projectId, residenceId), changed };
      changed.push(name);
    }
    return { userErrors: [], residence: residenceRef(projectId, residenceId), changed };
  }
}
