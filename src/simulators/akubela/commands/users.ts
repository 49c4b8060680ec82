/**
 * Manager commands of `002_d09c615886a81fcb.txt` (用戶管理API): users (accounts) and their access credentials.
 * Answered on `manager-commands`.
 */
import { createHash } from "node:crypto";
import { API_CREATOR } from "../constants.js";
import { newId } from "../random.js";
import { ACCOUNT_AUTHS, residenceAccounts, type Account, type AkubelaState, type Project } from "../state.js";
import { formatDateTime } from "../time.js";
import { arr, formats, obj, oneOf, str, type Infer, type Schema, type StringFormat } from "../validate.js";
import {
  accountId,
  command,
  conflict,
  invalidParam,
  notFound,
  pageIndex,
  pageSize,
  paginate,
  projectId,
  requireAccount,
  requireProject,
  requireResidenceIn,
  residenceId,
  type CommandContext,
} from "./common.js";

const DOC = "002_d09c615886a81fcb.txt";
const M = "manager-commands" as const;

const accountRef = { project_id: projectId, residence_id: residenceId, account_id: accountId };
const accountOnly = obj("命令參數", accountRef);

// ---- users -------------------------------------------------------------------------------------------------------

/**
 * `get_user_list` — 002_d09c615886a81fcb.txt, 獲取用戶列表.
 * A page of the project's accounts (bare array; seed order, then creation order).
 */
export const getUserList = command({
  name: "get_user_list",
  endpoint: M,
  doc: `${DOC} 獲取用戶列表`,
  param: obj("命令參數", { project_id: projectId, page_size: pageSize, page_index: pageIndex }),
  handle(p, ctx) {
    const project = requireProject(ctx, p.project_id);
    return paginate([...project.accounts.values()], p.page_index, p.page_size, ctx.maxPageSize).map((a) => {
      const r = project.residences.get(a.residence_id)!;
      return {
        residence_id: a.residence_id,
        family_name: r.family_name,
        residence_no: r.residence_no,
        building_id: a.building_id,
        building_name: project.buildings.get(a.building_id)!.building_name,
        account_id: a.account_id,
        account_name: a.account_name,
        first_name: a.first_name,
        last_name: a.last_name,
        phone: a.phone,
        email: a.email,
        auth: a.auth,
        region: a.region,
        payment_status: a.payment_status,
      };
    });
  },
});

/**
 * `get_user_info` — 002_d09c615886a81fcb.txt, 獲取用戶信息.
 * As the document's table and example: no `account_id` or `residence_id` in the answer.
 */
export const getUserInfo = command({
  name: "get_user_info",
  endpoint: M,
  doc: `${DOC} 獲取用戶信息`,
  param: accountOnly,
  handle(p, ctx) {
    const project = requireProject(ctx, p.project_id);
    const a = requireAccount(project, p.residence_id, p.account_id);
    const r = project.residences.get(a.residence_id)!;
    return {
      family_name: r.family_name,
      residence_no: r.residence_no,
      building_id: a.building_id,
      building_name: project.buildings.get(a.building_id)!.building_name,
      account_name: a.account_name,
      first_name: a.first_name,
      last_name: a.last_name,
      phone: a.phone,
      email: a.email,
      auth: a.auth,
      region: a.region,
      payment_status: a.payment_status,
    };
  },
});

/** The create_user_info parameters (the `email` row of the document's table lost its name; it is `email`). */
const createUserParam = obj("命令參數", {
  project_id: projectId,
  residence_id: residenceId,
  building_id: str("樓棟ID / building id"),
  first_name: str("名 / first name", { nonEmpty: true }),
  last_name: str("姓 / last name", { nonEmpty: true }),
  email: str("郵箱 / email", { format: formats.email }),
  auth: oneOf("賬號權限 / role: admin (owner), user (family manager), guest (family member)", ACCOUNT_AUTHS),
});
type CreateUserParam = Infer<typeof createUserParam>;

function emailTaken(state: AkubelaState, email: string): boolean {
  const wanted = email.toLowerCase();
  for (const project of state.projects.values()) {
    for (const a of project.accounts.values()) if (a.email.toLowerCase() === wanted) return true;
  }
  return false;
}

/**
 * Checks one create_user_info parameter set against the state (and against the earlier members of a batch) and
 * builds the account without adding it. Emails are unique over the whole cloud (they are logins); a residence has
 * at most one admin (its owner).
 */
function prepareAccount(
  ctx: CommandContext,
  p: CreateUserParam,
  path: string,
  pending: Account[],
): { project: Project; account: Account } {
  const project = requireProject(ctx, p.project_id, `${path}.project_id`);
  const residence = requireResidenceIn(project, p.residence_id, `${path}.residence_id`);
  if (!project.buildings.has(p.building_id)) notFound(`${path}.building_id: no such building in the project`);
  if (residence.building_id !== p.building_id) invalidParam(`${path}.building_id does not match the residence's building`);
  const email = p.email.toLowerCase();
  if (emailTaken(ctx.state, email) || pending.some((a) => a.email.toLowerCase() === email)) {
    conflict(`${path}.email is already used by another account`);
  }
  if (p.auth === "admin") {
    const hasAdmin = [...residenceAccounts(project, residence.residence_id), ...pending].some(
      (a) => a.residence_id === residence.residence_id && a.auth === "admin",
    );
    if (hasAdmin) conflict(`${path}.auth: the residence already has an admin account`);
  }
  const account: Account = {
    account_id: newId("a"),
    project_id: project.project_id,
    residence_id: residence.residence_id,
    building_id: residence.building_id,
    account_name: p.email,
    first_name: p.first_name,
    last_name: p.last_name,
    email: p.email,
    phone: "",
    auth: p.auth,
    region: project.region,
    payment_status: "inactivated",
    password_sha256: null,
    created_time: formatDateTime(ctx.now),
    pin_codes: [],
    rf_cards: [],
    faces: [],
    access_group_ids: [project.buildings.get(residence.building_id)!.system_access_group_id],
    floor_accesses: [{ building_id: residence.building_id, floor: String(residence.floor) }],
  };
  return { project, account };
}

/**
 * `create_user_info` — 002_d09c615886a81fcb.txt, 創建用戶信息.
 * New accounts start `inactivated`, with the building's system access group and their own floor.
 */
export const createUserInfo = command({
  name: "create_user_info",
  endpoint: M,
  doc: `${DOC} 創建用戶信息`,
  param: createUserParam,
  handle(p, ctx) {
    const { project, account } = prepareAccount(ctx, p, "param", []);
    project.accounts.set(account.account_id, account);
    return { account_id: account.account_id };
  },
});

/**
 * `batch_create_user_info` — 002_d09c615886a81fcb.txt, 批量創建用戶信息.
 * Unlike every other command, `param` is an array of create_user_info parameter sets. All or nothing.
 */
export const batchCreateUserInfo = command({
  name: "batch_create_user_info",
  endpoint: M,
  doc: `${DOC} 批量創建用戶信息`,
  param: arr("命令參數 (array)", createUserParam, { minItems: 1 }),
  handle(p, ctx) {
    const prepared: { project: Project; account: Account }[] = [];
    p.forEach((item, i) => {
      prepared.push(prepareAccount(ctx, item, `param[${i}]`, prepared.map((x) => x.account)));
    });
    for (const { project, account } of prepared) project.accounts.set(account.account_id, account);
    return {};
  },
});

/** `update_user_info` — 002_d09c615886a81fcb.txt, 更新用戶信息. Changes first and last name. */
export const updateUserInfo = command({
  name: "update_user_info",
  endpoint: M,
  doc: `${DOC} 更新用戶信息`,
  param: obj("命令參數", {
    ...accountRef,
    first_name: str("名 / first name", { nonEmpty: true }),
    last_name: str("姓 / last name", { nonEmpty: true }),
  }),
  handle(p, ctx) {
    const account = requireAccount(requireProject(ctx, p.project_id), p.residence_id, p.account_id);
    account.first_name = p.first_name;
    account.last_name = p.last_name;
    return {};
  },
});

/**
 * `update_user_password` — 002_d09c615886a81fcb.txt, 更新用戶密碼.
 * The password must be 8 to 64 characters (the document is silent); only its SHA-256 is kept.
 */
export const updateUserPassword = command({
  name: "update_user_password",
  endpoint: M,
  doc: `${DOC} 更新用戶密碼`,
  param: obj("命令參數", {
    ...accountRef,
    new_password: str("新密碼 / new password", { format: formats.password }),
  }),
  handle(p, ctx) {
    const account = requireAccount(requireProject(ctx, p.project_id), p.residence_id, p.account_id);
    account.password_sha256 = createHash("sha256").update(p.new_password).digest("hex");
    return {};
  },
});

/** `delete_user_info` — 002_d09c615886a81fcb.txt, 刪除用戶信息. Removes the account with its credentials. */
export const deleteUserInfo = command({
  name: "delete_user_info",
  endpoint: M,
  doc: `${DOC} 刪除用戶信息`,
  param: accountOnly,
  handle(p, ctx) {
    const project = requireProject(ctx, p.project_id);
    requireAccount(project, p.residence_id, p.account_id);
    project.accounts.delete(p.account_id);
    return {};
  },
});

/**
 * `batch_delete_user_info` — 002_d09c615886a81fcb.txt, 批量刪除用戶信息.
 * All or nothing: an unknown account fails the batch with `not_found` and deletes none.
 */
export const batchDeleteUserInfo = command({
  name: "batch_delete_user_info",
  endpoint: M,
  doc: `${DOC} 批量刪除用戶信息`,
  param: obj("命令參數", {
    project_id: projectId,
    accounts: arr("賬號信息 / accounts", obj("賬號", { account_id: accountId, residence_id: residenceId }), { minItems: 1 }),
  }),
  handle(p, ctx) {
    const project = requireProject(ctx, p.project_id);
    p.accounts.forEach((a, i) => requireAccount(project, a.residence_id, a.account_id, `param.accounts[${i}]`));
    for (const a of p.accounts) project.accounts.delete(a.account_id);
    return {};
  },
});

const importParam = obj("命令參數", {
  project_id: projectId,
  file_name: str("文件名稱 / file name", { nonEmpty: true }),
  file_url: str("文件地址 / file URL", { format: formats.httpUrl }),
});

/** Records an import task (never executed: the file is not fetched) and answers its id. */
function importTask(command: string) {
  return (p: Infer<typeof importParam>, ctx: CommandContext) => {
    const project = requireProject(ctx, p.project_id);
    const task_id = newId("t");
    project.import_tasks.push({
      task_id,
      command,
      file_name: p.file_name,
      file_url: p.file_url,
      created_time: formatDateTime(ctx.now),
    });
    return { task_id };
  };
}

/** `import_user_info` — 002_d09c615886a81fcb.txt, 導入用戶信息. Answers a fresh `task_id`. */
export const importUserInfo = command({
  name: "import_user_info",
  endpoint: M,
  doc: `${DOC} 導入用戶信息`,
  param: importParam,
  handle: importTask("import_user_info"),
});

// ---- credentials ------------------------------------------------------------------------------------------------

/** `get_user_access_info` — 002_d09c615886a81fcb.txt, 獲取用戶權限信息. */
export const getUserAccessInfo = command({
  name: "get_user_access_info",
  endpoint: M,
  doc: `${DOC} 獲取用戶權限信息`,
  param: accountOnly,
  handle(p, ctx) {
    const project = requireProject(ctx, p.project_id);
    const a = requireAccount(project, p.residence_id, p.account_id);
    return {
      floor_accesses: a.floor_accesses.map((f) => ({ building_id: f.building_id, floor: f.floor })),
      faces: a.faces.map((f) => ({ face_id: f.face_id, created_time: f.created_time, creator: f.creator })),
      pin_codes: a.pin_codes.map((c) => ({ ...c })),
      rf_cards: a.rf_cards.map((c) => ({ ...c })),
      access_groups: a.access_group_ids.flatMap((gid) => {
        const g = project.access_groups.get(gid);
        return g ? [{ ...g }] : [];
      }),
    };
  },
});

/**
 * `update_user_floor_access_info` — 002_d09c615886a81fcb.txt, 更新用戶樓層權限信息.
 * Replaces the account's floor accesses. Each building must be in the project; `floor` is `"all"` or a floor
 * number of that building (`"1"`..).
 */
export const updateUserFloorAccessInfo = command({
  name: "update_user_floor_access_info",
  endpoint: M,
  doc: `${DOC} 更新用戶樓層權限信息`,
  param: obj("命令參數", {
    ...accountRef,
    floor_accesses: arr(
      "樓層權限信息 / floor accesses",
      obj("樓層權限", { building_id: str("樓棟ID / building id"), floor: str("樓層 / floor: \"all\" or a number") }),
    ),
  }),
  handle(p, ctx) {
    const project = requireProject(ctx, p.project_id);
    const account = requireAccount(project, p.residence_id, p.account_id);
    const floor_accesses = p.floor_accesses.map((f, i) => {
      const building =
        project.buildings.get(f.building_id) ?? notFound(`param.floor_accesses[${i}].building_id: no such building in the project`);
      const n = Number(f.floor);
      if (f.floor !== "all" && !(/^\d+$/.test(f.floor) && n >= 1 && n <= building.floors)) {
        invalidParam(`param.floor_accesses[${i}].floor must be "all" or a floor number of the building`);
      }
      return { building_id: f.building_id, floor: f.floor };
    });
    account.floor_accesses = floor_accesses;
    return {};
  },
});

function numberUsed(project: Project, kind: "pin_codes" | "rf_cards", number: string): boolean {
  const wanted = number.toUpperCase();
  for (const a of project.accounts.values()) {
    for (const c of a[kind]) if (c.number.toUpperCase() === wanted) return true;
  }
  return false;
}

/**
 * The numbered credential creates of 002 (創建用戶PIN碼 / 射頻卡權限信息): the account reference and a `number` of the
 * given format (the document is silent on formats), unique in the project (`conflict`); answers the new id.
 */
function createNumberedCredential<K extends "pin_codes" | "rf_cards", I extends string>(
  name: string,
  title: string,
  list: K,
  idField: I,
  idPrefix: string,
  numberDescription: string,
  format: StringFormat,
  what: string,
) {
  return command({
    name,
    endpoint: M,
    doc: `${DOC} ${title}`,
    param: obj("命令參數", { ...accountRef, number: str(numberDescription, { format }) }),
    handle(p, ctx) {
      const project = requireProject(ctx, p.project_id);
      const account = requireAccount(project, p.residence_id, p.account_id);
      if (numberUsed(project, list, p.number)) conflict(`param.number is already used by ${what} in the project`);
      const id = newId(idPrefix);
      (account[list] as unknown as Record<string, string>[]).push({ [idField]: id, number: p.number, created_time: formatDateTime(ctx.now), creator: API_CREATOR });
      return { [idField]: id };
    },
  });
}

/** `create_user_pin_code_access_info` — 002_d09c615886a81fcb.txt, 創建用戶PIN碼權限信息. PINs are 4 to 8 digits. */
export const createUserPinCodeAccessInfo = createNumberedCredential(
  "create_user_pin_code_access_info", "創建用戶PIN碼權限信息", "pin_codes", "pin_code_id", "p", "號碼 / PIN", formats.pinCode, "a PIN code",
);

/**
 * The three credential deletes of 002 (刪除用戶PIN碼 / 射頻卡 / 人臉權限信息) share one shape: the account reference and
 * the credential's id; an unknown id is `not_found`; the answer is `{}`.
 */
function deleteCredential<K extends "pin_codes" | "rf_cards" | "faces", I extends string>(
  name: string,
  title: string,
  list: K,
  idField: I,
  idDescription: string,
  what: string,
) {
  return command({
    name,
    endpoint: M,
    doc: `${DOC} ${title}`,
    param: obj("命令參數", { ...accountRef, [idField]: str(idDescription) } as typeof accountRef & Record<I, Schema<string>>),
    handle(p, ctx) {
      const account = requireAccount(requireProject(ctx, p.project_id), p.residence_id, p.account_id);
      const items = account[list] as unknown as Array<Record<string, unknown>>;
      const i = items.findIndex((c) => c[idField] === (p as Record<string, unknown>)[idField]);
      if (i < 0) notFound(`param.${idField}: no such ${what} on the account`);
      items.splice(i, 1);
      return {};
    },
  });
}

/** `delete_user_pin_code_access_info` — 002_d09c615886a81fcb.txt, 刪除用戶PIN碼權限信息. */
export const deleteUserPinCodeAccessInfo = deleteCredential(
  "delete_user_pin_code_access_info", "刪除用戶PIN碼權限信息", "pin_codes", "pin_code_id", "PIN碼ID / PIN code id", "PIN code",
);

/**
 * `create_user_rf_card_access_info` — 002_d09c615886a81fcb.txt, 創建用戶射頻卡權限信息. Card numbers are 4 to 20 hex
 * digits.
 */
export const createUserRfCardAccessInfo = createNumberedCredential(
  "create_user_rf_card_access_info", "創建用戶射頻卡權限信息", "rf_cards", "rf_card_id", "r", "號碼 / card number", formats.rfCard, "an RF card",
);

/** `delete_user_rf_card_access_info` — 002_d09c615886a81fcb.txt, 刪除用戶射頻卡權限信息. */
export const deleteUserRfCardAccessInfo = deleteCredential(
  "delete_user_rf_card_access_info", "刪除用戶射頻卡權限信息", "rf_cards", "rf_card_id", "射頻卡ID / RF card id", "RF card",
);

/**
 * `create_user_face_access_info` — 002_d09c615886a81fcb.txt, 創建用戶人臉權限信息.
 * Answers `{}` (no face id, as the document). An account holds one face: a second one is a `conflict`.
 */
export const createUserFaceAccessInfo = command({
  name: "create_user_face_access_info",
  endpoint: M,
  doc: `${DOC} 創建用戶人臉權限信息`,
  param: obj("命令參數", {
    ...accountRef,
    face_picture_url: str("人臉圖片地址 / face picture URL", { format: formats.httpUrl }),
  }),
  handle(p, ctx) {
    const account = requireAccount(requireProject(ctx, p.project_id), p.residence_id, p.account_id);
    if (account.faces.length > 0) conflict("param.account_id: the account already has a face; delete it first");
    account.faces.push({
      face_id: newId("f"),
      created_time: formatDateTime(ctx.now),
      creator: API_CREATOR,
      face_picture_url: p.face_picture_url,
    });
    return {};
  },
});

/** `delete_user_face_access_info` — 002_d09c615886a81fcb.txt, 刪除用戶人臉權限信息. */
export const deleteUserFaceAccessInfo = deleteCredential(
  "delete_user_face_access_info", "刪除用戶人臉權限信息", "faces", "face_id", "人臉ID / face id", "face",
);

/**
 * `import_user_pin_code_and_rf_card_access_info` — 002_d09c615886a81fcb.txt, 導入用戶PIN碼與射頻卡權限信息.
 * Answers a fresh `task_id`.
 */
export const importUserPinCodeAndRfCardAccessInfo = command({
  name: "import_user_pin_code_and_rf_card_access_info",
  endpoint: M,
  doc: `${DOC} 導入用戶PIN碼與射頻卡權限信息`,
  param: importParam,
  handle: importTask("import_user_pin_code_and_rf_card_access_info"),
});

/** `import_user_face_access_info` — 002_d09c615886a81fcb.txt, 導入用戶人臉權限信息. Answers a fresh `task_id`. */
export const importUserFaceAccessInfo = command({
  name: "import_user_face_access_info",
  endpoint: M,
  doc: `${DOC} 導入用戶人臉權限信息`,
  param: importParam,
  handle: importTask("import_user_face_access_info"),
});

export const userCommands = [
  getUserList,
  getUserInfo,
  createUserInfo,
  batchCreateUserInfo,
  updateUserInfo,
  updateUserPassword,
  deleteUserInfo,
  batchDeleteUserInfo,
  importUserInfo,
  getUserAccessInfo,
  updateUserFloorAccessInfo,
  createUserPinCodeAccessInfo,
  deleteUserPinCodeAccessInfo,
  createUserRfCardAccessInfo,
  deleteUserRfCardAccessInfo,
  createUserFaceAccessInfo,
  deleteUserFaceAccessInfo,
  importUserPinCodeAndRfCardAccessInfo,
  importUserFaceAccessInfo,
];
