import { Directive, Field, ObjectType } from "type-graphql";
import { isIP } from "node:net";
import { isVendorRejection } from "../../datasources/base.js";
import type { UpstreamError } from "../../errors.js";
import { fromGlobalId, type NodeTypeName } from "../../lib/global-id.js";
import { nonPublicAddress } from "../../lib/public-address.js";

/**
 * A problem the caller can fix, answered in a mutation payload (house style, "Errors": the first tier). Input
 * problems are found before any vendor call; vendor rejections carry the vendor's own code.
 */
// @shareable: other subgraphs commonly define a UserError of their own.
@Directive("@shareable")
@ObjectType({ description: "A reason a mutation (or part of it) was not carried out, which the caller can fix." })
export class UserError {
  @Field(() => [String], {
    nullable: true,
    description: "Path to the input field at fault, e.g. `[\"input\", \"devices\", \"0\", \"relays\"]`; null when no single field is.",
  })
  field!: string[] | null;

  @Field(() => String, { description: "What is wrong, in a sentence that names the field." })
  message!: string;

  @Field(() => String, {
    description:
      "Machine-readable code: `REQUIRED`, `INVALID`, `INVALID_ID`, `TOO_LONG`, `TOO_MANY`, `DUPLICATE`, `IN_PAST`, `NOT_FOUND`, or the vendor's own code for a vendor rejection (e.g. `conflict`, `460`, `2062`).",
  })
  code!: string;
}

/** Base of every mutation payload (its fields are inherited by each payload type). */
@ObjectType({ description: "Base of mutation payloads." })
export abstract class MutationPayload {
  @Field(() => [UserError], { description: "Why the mutation, or part of it, was not carried out; empty when everything was." })
  userErrors!: UserError[];
}

const pathOf = (field: string | null): string[] | null => (field === null ? null : field.split("."));

/** C0 and C1 control characters (NUL included); free text may keep tab, line feed and carriage return. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_IN_FREE_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
/**
 * Bidi embeddings, overrides and isolates (U+202A–202E, U+2066–2069): they reorder what follows them, so a name
 * can display as something else (Trojan Source, CVE-2021-42574). The marks U+200E / U+200F / U+061C change no
 * order and are legitimate in right-to-left names: kept, but they count as invisible below.
 */
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/;
/** Whitespace and characters that render as nothing (zero-width, joiners, marks, fillers, soft hyphen, BOM). */
const INVISIBLE = /[\s\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2060-\u2064\u3164\ufe00-\ufe0f\ufeff\uffa0]/gu;

/** Names that resolve inside a network by convention (RFC 6761 / 6762 / 8375 and common private zones). */
const PRIVATE_NAME = /(^|\.)(localhost|local|localdomain|internal|intranet|lan|home\.arpa|corp)$/i;

/**
 * Why a URL a vendor will download from is not a public https URL, or null when it is. Judged from the URL alone:
 * an IP literal by {@link nonPublicAddress}, the classifier webhooks use too (the WHATWG parser has already turned
 * `0x7f.1` or `2130706433` into `127.0.0.1`); a public name that resolves to a private address is the vendor's
 * network to guard, since the vendor, not the facade, fetches it.
 */
export function notPublicHttps(u: URL): string | null {
  if (u.protocol !== "https:") return "must be an https URL";
  if (u.username || u.password) return "must not carry credentials";
  const host = u.hostname.replace(/^\[|\]$/g, "").toLowerCase().replace(/\.$/, "");
  const family = isIP(host);
  if (family === 4 || family === 6) {
    // The webhooks' classifier: an IPv6 address carrying an IPv4 one (`[::ffff:127.0.0.1]`, which the parser
    // writes `[::ffff:7f00:1]`; NAT64, 6to4) is judged by the IPv4 address it carries.
    return nonPublicAddress(host) ? "must be on a public host (not a loopback, private or link-local address)" : null;
  }
  if (!host.includes(".") || PRIVATE_NAME.test(host)) return "must be on a public host (a fully qualified public name)";
  return null;
}

/**
 * Collects input problems before any vendor call. Field paths are dotted (`input.devices.0.relays`); the checks
 * never echo a value, since values include secrets (PINs, passwords, private keys).
 */
export class InputErrors {
  readonly errors: UserError[] = [];

  get ok(): boolean {
    return this.errors.length === 0;
  }

  add(field: string | null, message: string, code = "INVALID"): void {
    this.errors.push({ field: pathOf(field), message, code });
  }

  /**
   * A non-blank string (trimmed), or one problem: `REQUIRED` when empty or only invisible characters (whitespace,
   * zero-width), `TOO_LONG`, or `INVALID` for a control character (NUL, C0, C1; tab and line breaks too unless
   * `freeText`) or a bidi override / isolate. Every name, id and free text of an input goes through here.
   */
  text(value: string | null | undefined, field: string, opts: { max?: number; freeText?: boolean } = {}): string | undefined {
    if (value === null || value === undefined || value.replace(INVISIBLE, "") === "") {
      this.add(field, value?.trim() ? `${field} is required: it has only invisible characters` : `${field} is required`, "REQUIRED");
      return undefined;
    }
    if (opts.max !== undefined && value.length > opts.max) {
      this.add(field, `${field} is longer than ${opts.max} characters`, "TOO_LONG");
      return undefined;
    }
    if ((opts.freeText ? CONTROL_IN_FREE_TEXT : CONTROL).test(value)) {
      this.add(field, `${field} must not contain control characters`);
      return undefined;
    }
    if (BIDI_CONTROL.test(value)) {
      this.add(field, `${field} must not contain bidirectional override or isolate characters`);
      return undefined;
    }
    return value.trim();
  }

  /**
   * Refuses repeats in one batch: each item whose `key` (null = not compared) an earlier item has is a `DUPLICATE`
   * at `field(i)` naming the first, e.g. `input.accounts.3.email duplicates input.accounts.1.email`.
   */
  unique<T>(items: readonly T[], key: (item: T) => string | null | undefined, field: (i: number) => string): void {
    const first = new Map<string, number>();
    items.forEach((item, i) => {
      const k = key(item);
      if (k === null || k === undefined) return;
      const j = first.get(k);
      if (j === undefined) first.set(k, i);
      else this.add(field(i), `${field(i)} duplicates ${field(j)}`, "DUPLICATE");
    });
  }

  /** A window that has already ended is refused (`IN_PAST`): the vendor would store something that never works. */
  notPast(end: Date | null | undefined, field: string, now = Date.now()): void {
    if (end instanceof Date && end.getTime() <= now) this.add(field, `${field} is in the past: the window has already ended`, "IN_PAST");
  }

  /** An https URL on a public host with no credentials in it: what a vendor is asked to download from. */
  publicHttpsUrl(value: string | null | undefined, field: string): string | undefined {
    const v = this.text(value, field, { max: 2048 });
    if (v === undefined) return undefined;
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      this.add(field, `${field} must be an https URL`);
      return undefined;
    }
    const why = notPublicHttps(u);
    if (why) {
      this.add(field, `${field} ${why}`);
      return undefined;
    }
    return v;
  }

  /** A string matching `re`; `hint` completes "`field` must …". */
  format(value: string | null | undefined, field: string, re: RegExp, hint: string): string | undefined {
    const v = this.text(value, field);
    if (v !== undefined && !re.test(v)) {
      this.add(field, `${field} must ${hint}`);
      return undefined;
    }
    return v;
  }

  email(value: string | null | undefined, field: string): string | undefined {
    return this.format(value, field, /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/, "be an e-mail address");
  }

  url(value: string | null | undefined, field: string): string | undefined {
    const v = this.text(value, field);
    if (v === undefined) return undefined;
    try {
      const u = new URL(v);
      if ((u.protocol === "http:" || u.protocol === "https:") && u.hostname) return v;
    } catch {
      // fall through
    }
    this.add(field, `${field} must be an http(s) URL`);
    return undefined;
  }

  /** A list of 1..max items (`min` default 1). */
  items<T>(value: readonly T[] | null | undefined, field: string, max: number, min = 1): readonly T[] | undefined {
    if (!value || value.length < min) {
      this.add(field, min === 1 ? `${field} must list at least one item` : `${field} must list at least ${min} items`, "REQUIRED");
      return undefined;
    }
    if (value.length > max) {
      this.add(field, `${field} lists ${value.length} items; at most ${max} are accepted`, "TOO_MANY");
      return undefined;
    }
    return value;
  }

  /** An integer within bounds. */
  int(value: number | null | undefined, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    if (value === null || value === undefined) {
      this.add(field, `${field} is required`, "REQUIRED");
      return undefined;
    }
    if (!Number.isInteger(value) || value < min || value > max) {
      this.add(field, max === Number.MAX_SAFE_INTEGER ? `${field} must be at least ${min}` : `${field} must be between ${min} and ${max}`);
      return undefined;
    }
    return value;
  }

  /** The parts of a global ID of one of `types`, or an `INVALID_ID` problem. */
  id(value: string | null | undefined, field: string, ...types: NodeTypeName[]): { type: NodeTypeName; parts: string[] } | undefined {
    if (!value) {
      this.add(field, `${field} is required`, "REQUIRED");
      return undefined;
    }
    const decoded = fromGlobalId(value);
    if (!decoded || !types.includes(decoded.type) || decoded.parts.some((p) => p === "")) {
      this.add(field, `${field} must be the ID of a ${types.join(" or ")}`, "INVALID_ID");
      return undefined;
    }
    return decoded;
  }
}

/** What makes two decoded IDs the same object (null for one that did not decode): for `InputErrors.unique`. */
export const idKey = (id: { type: string; parts: string[] } | undefined): string | null => (id ? `${id.type}:${id.parts.join("/")}` : null);

/** A MAC address: 12 hex digits, optionally in pairs separated by `:` or `-`; normalised to upper case. */
export const MAC = /^(?:[0-9A-Fa-f]{12}|(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2})$/;
export const normaliseMac = (mac: string) => mac.replace(/[:-]/g, "").toUpperCase();

export { isVendorRejection };

/** The user error of a vendor rejection: its code and message, pinned to `field` when given. */
export function rejectionError(error: UpstreamError, field: string | null = null): UserError {
  return {
    field: pathOf(field),
    message: error.upstream.vendorMessage ?? error.message,
    code: String(error.upstream.vendorCode),
  };
}

/**
 * Runs a vendor write: its result, or the vendor's rejection as user errors. Infrastructure failures (timeout,
 * unavailable, malformed answers, gateway refusals) propagate as coded GraphQL errors. Never retried.
 */
export async function attempt<T>(write: () => Promise<T>, field: string | null = null): Promise<{ ok: true; value: T } | { ok: false; errors: UserError[] }> {
  try {
    return { ok: true, value: await write() };
  } catch (error) {
    if (isVendorRejection(error)) return { ok: false, errors: [rejectionError(error as UpstreamError, field)] };
    throw error;
  }
}
