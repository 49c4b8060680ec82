/**
 * Manager commands of `000_ea6fedeba34c96fa.txt` (访客管理API): visitor temp keys. Answered on `manager-commands`.
 */
import { API_CREATOR, SIM_FILES_BASE } from "../constants.js";
import { newId, randomDigits } from "../random.js";
import { publicDevices, REPEAT_MODES, WEEKDAYS, type Project, type VisitorKeyDevice, type Weekday } from "../state.js";
import { formatDateTime, parseTimeOfDay } from "../time.js";
import { arr, formats, obj, oneOf, optional, str } from "../validate.js";
import {
  command,
  invalidParam,
  notFound,
  pageIndex,
  pageSize,
  paginate,
  projectId,
  requireProject,
  requireResidenceIn,
  requireVisitorKey,
  visitorDeviceRow,
} from "./common.js";

const DOC = "000_ea6fedeba34c96fa.txt";
const visitorTempKeyId = str("访客临时密码ID / visitor temp key id");

/** A fresh 8-digit number not used by any visitor or residence temp key of the project. */
export function freshKeyNumber(project: Project): string {
  const used = new Set<string>();
  for (const k of project.visitor_temp_keys.values()) used.add(k.visitor_temp_key_number);
  for (const r of project.residences.values()) for (const t of r.temp_keys) used.add(t.temp_key);
  for (;;) {
    const n = randomDigits(8);
    if (!used.has(n)) return n;
  }
}

/**
 * `get_visitor_temp_key_list` — 000_ea6fedeba34c96fa.txt, 获取访客临时密码列表.
 * A page of the project's visitor temp keys (bare array, creation order).
 */
export const getVisitorTempKeyList = command({
  name: "get_visitor_temp_key_list",
  endpoint: "manager-commands",
  doc: `${DOC} 获取访客临时密码列表`,
  param: obj("命令参数", { project_id: projectId, page_size: pageSize, page_index: pageIndex }),
  handle(p, ctx) {
    const project = requireProject(ctx, p.project_id);
    return paginate([...project.visitor_temp_keys.values()], p.page_index, p.page_size, ctx.maxPageSize).map((k) => ({
      visitor_temp_key_id: k.visitor_temp_key_id,
      visitor_temp_key_name: k.visitor_temp_key_name,
      visitor_temp_key_number: k.visitor_temp_key_number,
      qr_code_url: k.qr_code_url,
      device_validity_count: k.device_validity_count,
      visitor_identity_number: k.visitor_identity_number,
      repeat_mode: k.repeat_mode,
      available_days: [...k.available_days],
      start_time: k.start_time,
      finish_time: k.finish_time,
      created_time: k.created_time,
      creator: k.creator,
    }));
  },
});

/**
 * `get_visitor_temp_key_info` — 000_ea6fedeba34c96fa.txt, 获取访客临时密码信息.
 * Doc quirk reproduced: the table says `result` is an object, the example answers an array of one object; the
 * simulator answers the array. The table (and example) has no `visitor_temp_key_id` field: none is answered.
 * Devices carry only the relays the key may open.
 */
export const getVisitorTempKeyInfo = command({
  name: "get_visitor_temp_key_info",
  endpoint: "manager-commands",
  doc: `${DOC} 获取访客临时密码信息`,
  param: obj("命令参数", { project_id: projectId, visitor_temp_key_id: visitorTempKeyId }),
  handle(p, ctx) {
    const project = requireProject(ctx, p.project_id);
    const k = requireVisitorKey(project, p.visitor_temp_key_id);
    return [
      {
        visitor_temp_key_name: k.visitor_temp_key_name,
        visitor_temp_key_number: k.visitor_temp_key_number,
        qr_code_url: k.qr_code_url,
        device_validity_count: k.device_validity_count,
        visitor_identity_number: k.visitor_identity_number,
        residence_id: k.residence_id,
        family_name: k.family_name,
        residence_no: k.residence_no,
        building_id: k.building_id,
        building_name: k.building_name,
        repeat_mode: k.repeat_mode,
        available_days: [...k.available_days],
        start_time: k.start_time,
        finish_time: k.finish_time,
        created_time: k.created_time,
        creator: k.creator,
        devices: k.devices.flatMap((kd) => {
          const d = project.devices.get(kd.device_id);
          return d ? [visitorDeviceRow(d, kd.relay_ids, kd.security_relay_ids)] : [];
        }),
      },
    ];
  },
});

/**
 * `get_visitor_temp_key_device_list` — 000_ea6fedeba34c96fa.txt, 获取访客临时密码设备列表.
 * The project's public devices (project-wide ones have `building_id`/`building_name` `""`).
 */
export const getVisitorTempKeyDeviceList = command({
  name: "get_visitor_temp_key_device_list",
  endpoint: "manager-commands",
  doc: `${DOC} 获取访客临时密码设备列表`,
  param: obj("命令参数", { project_id: projectId }),
  handle(p, ctx) {
    return publicDevices(requireProject(ctx, p.project_id)).map((d) => visitorDeviceRow(d));
  },
});

const relayRef = obj("门控信息", { relay_id: str("门控ID / relay id") });

/**
 * `create_visitor_temp_key_info` — 000_ea6fedeba34c96fa.txt, 创建访客临时密码信息.
 * Checks the residence and building, start/finish (`HH:mm:ss`, finish after start), weekly keys' available_days,
 * and that every device is a public device of the project with the given MAC and building and the relays listed.
 * Creates the key with a fresh 8-digit number, a QR code URL and no history.
 */
export const createVisitorTempKeyInfo = command({
  name: "create_visitor_temp_key_info",
  endpoint: "manager-commands",
  doc: `${DOC} 创建访客临时密码信息`,
  param: obj("命令参数", {
    project_id: projectId,
    visitor_temp_key_name: str("访客临时密码名称 / name", { nonEmpty: true }),
    device_validity_count: optional(str("设备有效次数 / uses per device, \"\" = unlimited", { format: formats.count })),
    visitor_identity_number: optional(str("访客身份号码 / visitor identity number")),
    notice_email: optional(str("通知邮箱 / notification email", { format: formats.email })),
    residence_id: str("住宅ID / residence id"),
    family_name: str("家庭名称 / family name"),
    residence_no: str("住宅号码 / residence number"),
    building_id: str("楼栋ID / building id"),
    building_name: str("楼栋名称 / building name"),
    repeat_mode: oneOf("重复模式 / repeat mode: never, daily, weekly", REPEAT_MODES),
    available_days: optional(arr("可用时间 / weekdays (weekly keys)", oneOf("weekday", WEEKDAYS))),
    start_time: str("开始时间,UTC / start, time of day", { format: formats.timeOfDay }),
    finish_time: str("结束时间,UTC / finish, time of day", { format: formats.timeOfDay }),
    devices: arr(
      "设备信息 / devices",
      obj("设备", {
        building_id: str("楼栋ID / building id"),
        device_id: str("设备ID / device id"),
        mac: str("MAC地址 / MAC address"),
        relays: arr("门控信息 / relays", relayRef),
        security_relays: arr("安全门控信息 / security relays", relayRef),
      }),
      { minItems: 1 },
    ),
  }),
  handle(p, ctx) {
    const project = requireProject(ctx, p.project_id);
    const residence = requireResidenceIn(project, p.residence_id);
    const building = project.buildings.get(p.building_id) ?? notFound("param.building_id: no such building in the project");
    if (residence.building_id !== building.building_id) {
      invalidParam("param.building_id does not match the residence's building");
    }
    if (parseTimeOfDay(p.finish_time)! <= parseTimeOfDay(p.start_time)!) {
      invalidParam("param.finish_time must be later than param.start_time");
    }
    let available_days: Weekday[] = [];
    if (p.repeat_mode === "weekly") {
      if (!p.available_days || p.available_days.length === 0) {
        invalidParam("param.available_days is required when param.repeat_mode is weekly");
      }
      const given = new Set(p.available_days);
      available_days = WEEKDAYS.filter((d) => given.has(d));
    }
    const publicIds = new Set(publicDevices(project).map((d) => d.device_id));
    const seen = new Set<string>();
    const devices: VisitorKeyDevice[] = p.devices.map((pd, i) => {
      const at = `param.devices[${i}]`;
      const device = project.devices.get(pd.device_id);
      if (!device || !publicIds.has(device.device_id)) return notFound(`${at}.device_id: no such public device in the project`);
      if (seen.has(device.device_id)) invalidParam(`${at}.device_id is listed more than once`);
      seen.add(device.device_id);
      if (device.mac !== pd.mac.toUpperCase()) invalidParam(`${at}.mac does not match the device`);
      const buildingOk =
        pd.building_id === device.building_id || (device.scope === "project" && project.buildings.has(pd.building_id));
      if (!buildingOk) invalidParam(`${at}.building_id does not match the device`);
      const relay_ids = pd.relays.map((r, j) =>
        device.relays.some((x) => x.relay_id === r.relay_id)
          ? r.relay_id
          : notFound(`${at}.relays[${j}].relay_id: no such relay on the device`),
      );
      const security_relay_ids = pd.security_relays.map((r, j) =>
        device.security_relays.some((x) => x.relay_id === r.relay_id)
          ? r.relay_id
          : notFound(`${at}.security_relays[${j}].relay_id: no such security relay on the device`),
      );
      if (relay_ids.length + security_relay_ids.length === 0) {
        invalidParam(`${at} must list at least one relay or security relay`);
      }
      return { device_id: device.device_id, relay_ids: [...new Set(relay_ids)], security_relay_ids: [...new Set(security_relay_ids)] };
    });

    const visitor_temp_key_id = newId("v");
    project.visitor_temp_keys.set(visitor_temp_key_id, {
      visitor_temp_key_id,
      visitor_temp_key_name: p.visitor_temp_key_name,
      visitor_temp_key_number: freshKeyNumber(project),
      qr_code_url: `${SIM_FILES_BASE}/qr/${newId("", 32)}.png`,
      device_validity_count: p.device_validity_count ?? "",
      visitor_identity_number: p.visitor_identity_number ?? "",
      notice_email: p.notice_email ?? "",
      residence_id: residence.residence_id,
      family_name: residence.family_name,
      residence_no: residence.residence_no,
      building_id: building.building_id,
      building_name: building.building_name,
      repeat_mode: p.repeat_mode,
      available_days,
      start_time: p.start_time,
      finish_time: p.finish_time,
      created_time: formatDateTime(ctx.now),
      creator: API_CREATOR,
      devices,
      history: [],
    });
    return { visitor_temp_key_id };
  },
});

/** `delete_visitor_temp_key_info` — 000_ea6fedeba34c96fa.txt, 删除访客临时密码信息. */
export const deleteVisitorTempKeyInfo = command({
  name: "delete_visitor_temp_key_info",
  endpoint: "manager-commands",
  doc: `${DOC} 删除访客临时密码信息`,
  param: obj("命令参数", { project_id: projectId, visitor_temp_key_id: visitorTempKeyId }),
  handle(p, ctx) {
    const project = requireProject(ctx, p.project_id);
    requireVisitorKey(project, p.visitor_temp_key_id);
    project.visitor_temp_keys.delete(p.visitor_temp_key_id);
    return {};
  },
});

/**
 * `get_visitor_temp_key_history` — 000_ea6fedeba34c96fa.txt, 获取访客临时密码历史记录.
 * A page of the key's door openings, newest first.
 */
export const getVisitorTempKeyHistory = command({
  name: "get_visitor_temp_key_history",
  endpoint: "manager-commands",
  doc: `${DOC} 获取访客临时密码历史记录`,
  param: obj("命令参数", {
    project_id: projectId,
    page_size: pageSize,
    page_index: pageIndex,
    visitor_temp_key_id: visitorTempKeyId,
  }),
  handle(p, ctx) {
    const project = requireProject(ctx, p.project_id);
    const key = requireVisitorKey(project, p.visitor_temp_key_id);
    return paginate(key.history, p.page_index, p.page_size, ctx.maxPageSize).map((h) => ({ ...h }));
  },
});

/**
 * `batch_delete_visitor_temp_key_info` — 000_ea6fedeba34c96fa.txt, 批量删除访客临时密码信息.
 * All or nothing: an unknown id fails the whole batch with `not_found` and deletes none.
 */
export const batchDeleteVisitorTempKeyInfo = command({
  name: "batch_delete_visitor_temp_key_info",
  endpoint: "manager-commands",
  doc: `${DOC} 批量删除访客临时密码信息`,
  param: obj("命令参数", {
    project_id: projectId,
    visitor_temp_keys: arr("访客临时密码信息 / keys", obj("访客临时密码", { visitor_temp_key_id: visitorTempKeyId }), {
      minItems: 1,
    }),
  }),
  handle(p, ctx) {
    const project = requireProject(ctx, p.project_id);
    p.visitor_temp_keys.forEach((k, i) =>
      requireVisitorKey(project, k.visitor_temp_key_id, `param.visitor_temp_keys[${i}].visitor_temp_key_id`),
    );
    for (const k of p.visitor_temp_keys) project.visitor_temp_keys.delete(k.visitor_temp_key_id);
    return {};
  },
});

export const visitorKeyCommands = [
  getVisitorTempKeyList,
  getVisitorTempKeyInfo,
  getVisitorTempKeyDeviceList,
  createVisitorTempKeyInfo,
  deleteVisitorTempKeyInfo,
  getVisitorTempKeyHistory,
  batchDeleteVisitorTempKeyInfo,
];
