/**
 * The 16 paths of `../shared/vendor-docs/003_d332e758188ea47b.txt` as the Aliyun simulator answers them: the
 * documented `apiVer`, parameter checks, limits and state changes. A handler returns `data` or throws a
 * {@link GatewayFailure} (body `code` ≠ 200, HTTP 200), with the codes of aliyun-gateway.md ("Body codes").
 */
import { randomUUID } from "node:crypto";
import { cardKey, type AliyunState, type QrPermission } from "./seed.js";

export class GatewayFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** 460: request parameter error. Messages name the parameter, never its value. */
const invalid = (message: string): never => {
  throw new GatewayFailure(460, message);
};

export interface PathContext {
  state: AliyunState;
  now: Date;
}

export interface PathDef {
  path: string;
  apiVer: string;
  /** The document's section title. */
  doc: string;
  handle(params: Record<string, unknown>, ctx: PathContext): unknown;
}

// ---- parameter checks ----------------------------------------------------------------------------------------

function str(p: Record<string, unknown>, name: string, opts: { optional?: boolean; max?: number } = {}): string | undefined {
  const v = p[name];
  if (v === undefined || v === null) return opts.optional ? undefined : invalid(`${name} is required`);
  if (typeof v !== "string" || v.trim() === "") return invalid(`${name} must be a non-empty string`);
  if (opts.max && v.length > opts.max) return invalid(`${name} is longer than ${opts.max} characters`);
  return v;
}
const reqStr = (p: Record<string, unknown>, name: string, max?: number) => str(p, name, { max }) as string;

function int(p: Record<string, unknown>, name: string, opts: { min?: number; max?: number; optional?: boolean } = {}): number | undefined {
  const v = p[name];
  if (v === undefined || v === null) return opts.optional ? undefined : invalid(`${name} is required`);
  if (typeof v !== "number" || !Number.isInteger(v)) return invalid(`${name} must be an integer`);
  if (opts.min !== undefined && v < opts.min) return invalid(`${name} must be at least ${opts.min}`);
  if (opts.max !== undefined && v > opts.max) return invalid(`${name} must be at most ${opts.max}`);
  return v;
}

function list(p: Record<string, unknown>, name: string, max?: number): unknown[] {
  const v = p[name];
  if (v === undefined || v === null) return invalid(`${name} is required`);
  if (!Array.isArray(v)) return invalid(`${name} must be an array`);
  if (v.length === 0) return invalid(`${name} must not be empty`);
  if (max !== undefined && v.length > max) return invalid(`${name} has more than ${max} entries (batch amount invalid)`);
  return v;
}

function iotIdList(p: Record<string, unknown>, max?: number): string[] {
  return list(p, "iotIds", max).map((v, i) => (typeof v === "string" && v !== "" ? v : invalid(`iotIds[${i}] must be a non-empty string`)));
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/**
 * The gateway's times carry no zone (003); the simulator reads and writes them at UTC+08:00, the zone the facade
 * assumes by default (ALIYUN_TIME_ZONE).
 */
export const GATEWAY_OFFSET_MS = 8 * 3600 * 1000;

/** `yyyy-MM-dd HH:mm:ss` at UTC+08:00 → epoch ms. */
function dateTime(p: Record<string, unknown>, name: string, optional = false): number | undefined {
  const v = str(p, name, { optional });
  if (v === undefined) return undefined;
  const m = DATE_TIME.exec(v);
  const wall = m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN;
  if (!m || Number.isNaN(wall) || new Date(wall).getUTCDate() !== +m[3]) invalid(`${name} must be a time yyyy-MM-dd HH:mm:ss`);
  return wall - GATEWAY_OFFSET_MS;
}

const formatDateTime = (ms: number) => new Date(ms + GATEWAY_OFFSET_MS).toISOString().replace("T", " ").slice(0, 19);

function page<T>(items: T[], pageSize: number, pageNo: number) {
  const start = (pageNo - 1) * pageSize;
  return { pageSize, pageNo, total: items.length, data: items.slice(start, start + pageSize) };
}

function requirePerson(ctx: PathContext, identityId: string) {
  return ctx.state.persons.get(identityId) ?? fail(2062, "identityId does not exist");
}
function requireDevice(ctx: PathContext, iotId: string) {
  return ctx.state.devices.get(iotId) ?? fail(2063, "iotId does not exist");
}
const fail = (code: number, message: string): never => {
  throw new GatewayFailure(code, message);
};

const cardRow = (c: { identityId: string; iotId: string; cardId: string; expiryTime: string }) => ({
  iotId: c.iotId,
  identityId: c.identityId,
  expiryTime: c.expiryTime,
  cardId: c.cardId,
});

const QR_ALPHABET = "0123456789ABCDEF";
function newQrCode(state: AliyunState, identityId: string, length: number): string {
  for (;;) {
    const bytes = randomUUID().replace(/-/g, "") + randomUUID().replace(/-/g, "");
    let code = "";
    for (let i = 0; i < length; i++) code += QR_ALPHABET[parseInt(bytes[i % bytes.length]!, 16)];
    if (!state.qrCodes.has(code)) {
      state.qrCodes.set(code, { identityId });
      return code;
    }
  }
}

const DOC = "003_d332e758188ea47b.txt";

// ---- the 16 paths ----------------------------------------------------------------------------------------------

export const PATHS: PathDef[] = [
  {
    path: "/entrance/paas/user/modify",
    apiVer: "1.0.0",
    doc: `${DOC} 添加或更新人员信息`,
    handle(p, ctx) {
      const identityId = reqStr(p, "identityId", 255);
      const existing = ctx.state.persons.get(identityId);
      const name = existing ? str(p, "name", { optional: true, max: 255 }) : reqStr(p, "name", 255);
      const extInfo = p.extInfo;
      if (extInfo !== undefined && extInfo !== null && typeof extInfo !== "string" && (typeof extInfo !== "object" || Array.isArray(extInfo))) {
        invalid("extInfo must be a string or an object");
      }
      ctx.state.persons.set(identityId, {
        identityId,
        name: name ?? existing!.name,
        extInfo: extInfo === undefined ? existing?.extInfo ?? null : extInfo,
      });
      return null;
    },
  },
  {
    path: "/entrance/paas/user/delete",
    apiVer: "1.0.0",
    doc: `${DOC} 删除人员信息`,
    handle(p, ctx) {
      const identityId = reqStr(p, "identityId");
      requirePerson(ctx, identityId);
      ctx.state.persons.delete(identityId);
      for (const [k, c] of ctx.state.cards) if (c.identityId === identityId) ctx.state.cards.delete(k);
      for (const [k, c] of ctx.state.passwords) if (c.identityId === identityId) ctx.state.passwords.delete(k);
      return null;
    },
  },
  {
    path: "/entrance/paas/user/get",
    apiVer: "1.0.0",
    doc: `${DOC} 查询人员信息`,
    handle(p, ctx) {
      const person = requirePerson(ctx, reqStr(p, "identityId"));
      return { identityId: person.identityId, name: person.name, extInfo: person.extInfo };
    },
  },
  {
    path: "/entrance/paas/user/query",
    apiVer: "1.0.0",
    doc: `${DOC} 查询人员列表`,
    handle(p, ctx) {
      const pageSize = int(p, "pageSize", { min: 1, max: 100 })!;
      const pageNo = int(p, "pageNo", { min: 1 })!;
      return page([...ctx.state.persons.values()].map((x) => ({ identityId: x.identityId, name: x.name, extInfo: x.extInfo })), pageSize, pageNo);
    },
  },
  {
    path: "/entrance/paas/perm/card/batchmodify",
    apiVer: "1.0.2",
    doc: `${DOC} 批量设置门禁卡权限`,
    handle(p, ctx) {
      const cards = list(p, "cards", 1000);
      const failed: { identityId: unknown; iotId: unknown; cardId: unknown }[] = [];
      cards.forEach((raw, i) => {
        if (!raw || typeof raw !== "object") invalid(`cards[${i}] must be an object`);
        const c = raw as Record<string, unknown>;
        const path = `cards[${i}]`;
        const identityId = str(c, "identityId", { optional: true });
        const iotId = str(c, "iotId", { optional: true });
        const cardId = str(c, "cardId", { optional: true, max: 255 });
        if (!identityId || !iotId || !cardId) invalid(`${path}: identityId, iotId and cardId are required`);
        const expiry = c.expiryTime === undefined ? undefined : dateTime(c, "expiryTime");
        // A record the gateway cannot apply (unknown person or device) is answered in the failure list.
        if (!ctx.state.persons.has(identityId!) || !ctx.state.devices.has(iotId!)) {
          failed.push({ identityId, iotId, cardId });
          return;
        }
        ctx.state.cards.set(cardKey(identityId!, iotId!, cardId!), {
          identityId: identityId!,
          iotId: iotId!,
          cardId: cardId!,
          expiryTime: expiry === undefined ? "2099-12-31 23:59:59" : formatDateTime(expiry),
        });
      });
      return failed;
    },
  },
  {
    path: "/entrance/paas/perm/card/batchdelete",
    apiVer: "1.0.1",
    doc: `${DOC} 删除刷卡门禁上某用户的权限`,
    handle(p, ctx) {
      const items = list(p, "list");
      const failed: unknown[] = [];
      items.forEach((raw, i) => {
        if (!raw || typeof raw !== "object") invalid(`list[${i}] must be an object`);
        const c = raw as Record<string, unknown>;
        const identityId = str(c, "identityId", { optional: true });
        const iotId = str(c, "iotId", { optional: true });
        const cardId = str(c, "cardId", { optional: true, max: 255 });
        if (!identityId || !iotId) invalid(`list[${i}]: identityId and iotId are required`);
        // "Deleting a card permission really deletes the person's permission on the device": without cardId, all.
        const keys = [...ctx.state.cards.entries()]
          .filter(([, x]) => x.identityId === identityId && x.iotId === iotId && (!cardId || x.cardId === cardId))
          .map(([k]) => k);
        if (keys.length === 0) failed.push({ iotId, cardId: cardId ?? null, identityId });
        for (const k of keys) ctx.state.cards.delete(k);
      });
      return failed;
    },
  },
  {
    path: "/entrance/paas/user/perm/query",
    apiVer: "1.0.0",
    doc: `${DOC} 查询用户的门禁卡权限信息`,
    handle(p, ctx) {
      const identityId = reqStr(p, "identityId");
      const iotIds = new Set(iotIdList(p, 100));
      requirePerson(ctx, identityId);
      const data = [...ctx.state.cards.values()].filter((c) => c.identityId === identityId && iotIds.has(c.iotId)).map(cardRow);
      return { identityId, data };
    },
  },
  {
    path: "/entrance/paas/device/perm/query",
    apiVer: "1.0.0",
    doc: `${DOC} 查询门禁设备上的权限信息`,
    handle(p, ctx) {
      const iotId = reqStr(p, "iotId");
      const pageSize = int(p, "pageSize", { min: 1, max: 100 })!;
      const pageNo = int(p, "pageNo", { min: 1 })!;
      requireDevice(ctx, iotId);
      return page([...ctx.state.cards.values()].filter((c) => c.iotId === iotId).map(cardRow), pageSize, pageNo);
    },
  },
  {
    path: "/entrance/paas/keepopen/get",
    apiVer: "1.0.0",
    doc: `${DOC} 查询门禁设备的常开门状态`,
    handle(p, ctx) {
      return requireDevice(ctx, reqStr(p, "iotId")).keepOpen;
    },
  },
  {
    path: "/entrance/paas/keepopen/set",
    apiVer: "1.0.0",
    doc: `${DOC} 设置门禁设备的常开门状态`,
    handle(p, ctx) {
      const device = requireDevice(ctx, reqStr(p, "iotId"));
      if (typeof p.keepOpen !== "boolean") invalid("keepOpen must be a boolean");
      if (!device.online) fail(6205, "device offline");
      device.keepOpen = p.keepOpen as boolean;
      return null;
    },
  },
  {
    path: "/homelink/common/qrcode/generate",
    apiVer: "1.0.1",
    doc: `${DOC} 生成二维码`,
    handle(p, ctx) {
      const identityId = reqStr(p, "identityId");
      const length = int(p, "codeLength", { min: 8, max: 64, optional: true }) ?? 16;
      requirePerson(ctx, identityId);
      return newQrCode(ctx.state, identityId, length);
    },
  },
  {
    path: "/entrance/paas/perm/qrcode/config",
    apiVer: "1.0.1",
    doc: `${DOC} 二维码权限配置`,
    handle(p, ctx) {
      const qrCode = reqStr(p, "qrCode");
      const identityId = reqStr(p, "identityId");
      const iotIds = iotIdList(p);
      const effective = dateTime(p, "effectiveTime", true) ?? ctx.now.getTime();
      const expiry = dateTime(p, "expiryTime")!;
      if (expiry <= effective) invalid("expiryTime must be later than effectiveTime");
      const maxScanTimes = int(p, "maxScanTimes", { min: -1, optional: true }) ?? -1;
      const scope = str(p, "maxScanScope", { optional: true }) ?? "DEVICE";
      if (scope !== "SHARE" && scope !== "DEVICE") invalid("maxScanScope must be SHARE or DEVICE");
      requirePerson(ctx, identityId);
      return iotIds.map((iotId) => {
        if (!ctx.state.devices.has(iotId)) return { iotId, code: "2063", message: "iotId does not exist" };
        const perm: QrPermission = {
          qrCode,
          identityId,
          iotId,
          effectiveTime: formatDateTime(effective),
          expiryTime: formatDateTime(expiry),
          maxScanTimes,
          maxScanScope: scope as QrPermission["maxScanScope"],
        };
        ctx.state.qrPermissions.set(`${qrCode}|${iotId}`, perm);
        return { iotId, code: "200" };
      });
    },
  },
  {
    path: "/entrance/paas/perm/qrcode/remove",
    apiVer: "1.0.1",
    doc: `${DOC} 二维码权限删除`,
    handle(p, ctx) {
      const qrCode = reqStr(p, "qrCode");
      const identityId = reqStr(p, "identityId");
      const iotIds = iotIdList(p);
      return iotIds.map((iotId) => {
        const key = `${qrCode}|${iotId}`;
        const perm = ctx.state.qrPermissions.get(key);
        if (!perm || perm.identityId !== identityId) return { iotId, code: "2065", message: "identityId and iotId not bound" };
        ctx.state.qrPermissions.delete(key);
        return { iotId, code: "200" };
      });
    },
  },
  {
    path: "/entrance/paas/perm/qrcode/generate",
    apiVer: "1.0.1",
    doc: `${DOC} 生成二维码并配置权限(旧)`,
    handle(p, ctx) {
      const iotIds = iotIdList(p, 500);
      const identityId = reqStr(p, "identityId");
      const now = ctx.now.getTime();
      const effective = dateTime(p, "effectiveTime", true) ?? now;
      const expiry = dateTime(p, "expiryTime")!;
      // "不能小于当前时间" (not before now): a second of leeway for the caller's clock and the trip.
      if (effective < now - 1000) invalid("effectiveTime must not be earlier than the current time");
      if (expiry > effective + 24 * 3600 * 1000) invalid("expiryTime must not be later than effectiveTime + 24h");
      if (expiry <= effective) invalid("expiryTime must be later than effectiveTime");
      requirePerson(ctx, identityId);
      for (const iotId of iotIds) requireDevice(ctx, iotId);
      const qrCode = newQrCode(ctx.state, identityId, 12);
      for (const iotId of iotIds) {
        ctx.state.qrPermissions.set(`${qrCode}|${iotId}`, {
          qrCode,
          identityId,
          iotId,
          effectiveTime: formatDateTime(effective),
          expiryTime: formatDateTime(expiry),
          maxScanTimes: -1,
          maxScanScope: "DEVICE",
        });
      }
      return qrCode;
    },
  },
  {
    path: "/entrance/paas/perm/passwd/modify",
    apiVer: "1.0.0",
    doc: `${DOC} 设置门禁密码`,
    handle(p, ctx) {
      const passwords = list(p, "passwords", 100);
      // The table puts identityId in each PasswordDTO, the example beside `passwords`: both are accepted.
      const outer = str(p, "identityId", { optional: true });
      const failed: { iotId: unknown }[] = [];
      passwords.forEach((raw, i) => {
        if (!raw || typeof raw !== "object") invalid(`passwords[${i}] must be an object`);
        const x = raw as Record<string, unknown>;
        const identityId = str(x, "identityId", { optional: true }) ?? outer ?? invalid(`passwords[${i}].identityId is required`);
        const iotId = str(x, "iotId", { optional: true }) ?? invalid(`passwords[${i}].iotId is required`);
        const password = str(x, "password", { optional: true, max: 255 }) ?? invalid(`passwords[${i}].password is required`);
        // `number`: Integer in the table, "030" in the example; `expiredDate` in the table, `expiryDate` in the example.
        const number = typeof x.number === "number" || typeof x.number === "string" ? String(x.number) : invalid(`passwords[${i}].number is required`);
        const expiryField = x.expiredDate !== undefined ? "expiredDate" : "expiryDate";
        const expiry = dateTime(x, expiryField, true);
        if (!ctx.state.persons.has(identityId) || !ctx.state.devices.has(iotId)) {
          failed.push({ iotId });
          return;
        }
        ctx.state.passwords.set(`${identityId}|${iotId}|${number}`, {
          identityId,
          iotId,
          number,
          password,
          expiryDate: expiry === undefined ? "2099-12-31 23:59:59" : formatDateTime(expiry),
        });
      });
      return failed;
    },
  },
  {
    path: "/cloud/thing/service/invoke",
    apiVer: "1.0.1",
    doc: `${DOC} 远程控制开门`,
    handle(p, ctx) {
      const iotId = reqStr(p, "iotId");
      if (p.identifier !== "remoteOpen") invalid('identifier must be "remoteOpen"');
      if (p.args !== undefined && (typeof p.args !== "object" || p.args === null || Array.isArray(p.args))) invalid("args must be an object");
      const device = requireDevice(ctx, iotId);
      if (!device.online) fail(6205, "device offline");
      ctx.state.remoteOpens.push({ iotId, at: ctx.now.getTime() });
      return null;
    },
  },
];

export const PATHS_BY_PATH: ReadonlyMap<string, PathDef> = new Map(PATHS.map((d) => [d.path, d]));
