import { Field, ObjectType } from "type-graphql";
import { isVendorRejection } from "../../datasources/base.js";
import type { UpstreamError } from "../../errors.js";
import { fromGlobalId, type NodeTypeName } from "../../lib/global-id.js";

/**
 * A problem the caller can fix, answered in a mutation payload (house style, "Errors": the first tier). Input
 * problems are found before any vendor call; vendor rejections carry the vendor's own code.
 */
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
      "Machine-readable code: `REQUIRED`, `INVALID`, `INVALID_ID`, `TOO_LONG`, `TOO_MANY`, `NOT_FOUND`, or the vendor's own code for a vendor rejection (e.g. `conflict`, `460`, `2062`).",
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

  /** A non-blank string (trimmed), or a `REQUIRED` problem. */
  text(value: string | null | undefined, field: string, opts: { max?: number } = {}): string | undefined {
    if (value === null || value === undefined || value.trim() === "") {
      this.add(field, `${field} is required`, "REQUIRED");
      return undefined;
    }
    if (opts.max !== undefined && value.length > opts.max) {
      this.add(field, `${field} is longer than ${opts.max} characters`, "TOO_LONG");
      return undefined;
    }
    return value.trim();
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
