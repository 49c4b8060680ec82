/**
 * A small declarative validator for command parameters. One schema per command serves both validation and
 * documentation ({@link describeSchema}), and types the handler's parameter ({@link Infer}).
 *
 * Problems are reported by parameter path only (`param.devices[0].mac is required`): a message never contains a
 * parameter's value, because values include secrets (PINs, passwords, keys).
 */

import { parseDateTime, parseTimeOfDay } from "./time.js";

/** A format check on a string: `hint` completes the sentence "`<path>` ...". */
export interface StringFormat {
  test(value: string): boolean;
  hint: string;
}

export interface Schema<T> {
  readonly kind: "string" | "integer" | "boolean" | "array" | "object";
  readonly optional: boolean;
  /** What the parameter means (from the vendor document's 说明 column). */
  readonly description: string;
  /** Appends problems (path-named sentences) to `issues`; the returned value is meaningful only when none. */
  check(value: unknown, path: string, issues: string[]): T;
  /** A plain description of the schema, for documentation. */
  describe(): SchemaDoc;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

export interface SchemaDoc {
  type: string;
  required: boolean;
  description: string;
  enum?: readonly string[];
  format?: string;
  min?: number;
  minItems?: number;
  items?: SchemaDoc;
  fields?: Record<string, SchemaDoc>;
}

const absent = (v: unknown) => v === undefined || v === null;

abstract class Base<T> implements Schema<T> {
  abstract readonly kind: Schema<T>["kind"];
  readonly optional: boolean = false;
  constructor(readonly description: string) {}
  check(value: unknown, path: string, issues: string[]): T {
    if (absent(value)) {
      issues.push(`${path} is required`);
      return value as T;
    }
    return this.checkPresent(value, path, issues);
  }
  protected abstract checkPresent(value: unknown, path: string, issues: string[]): T;
  abstract describe(): SchemaDoc;
}

export interface StringOptions {
  /** Reject `""` and blank strings. */
  nonEmpty?: boolean;
  enum?: readonly string[];
  format?: StringFormat;
}

class StringSchema extends Base<string> {
  readonly kind = "string" as const;
  constructor(description: string, private readonly opts: StringOptions) {
    super(description);
  }
  protected checkPresent(value: unknown, path: string, issues: string[]): string {
    if (typeof value !== "string") {
      issues.push(`${path} must be a string`);
    } else if (this.opts.nonEmpty && value.trim() === "") {
      issues.push(`${path} must not be empty`);
    } else if (this.opts.enum && !this.opts.enum.includes(value)) {
      issues.push(`${path} must be one of: ${this.opts.enum.join(", ")}`);
    } else if (this.opts.format && !this.opts.format.test(value)) {
      issues.push(`${path} ${this.opts.format.hint}`);
    }
    return value as string;
  }
  describe(): SchemaDoc {
    return {
      type: "String",
      required: !this.optional,
      description: this.description,
      ...(this.opts.enum ? { enum: this.opts.enum } : {}),
      ...(this.opts.format ? { format: this.opts.format.hint } : {}),
    };
  }
}

class IntegerSchema extends Base<number> {
  readonly kind = "integer" as const;
  constructor(description: string, private readonly min?: number) {
    super(description);
  }
  protected checkPresent(value: unknown, path: string, issues: string[]): number {
    if (typeof value !== "number" || !Number.isSafeInteger(value)) issues.push(`${path} must be an integer`);
    else if (this.min !== undefined && value < this.min) issues.push(`${path} must be at least ${this.min}`);
    return value as number;
  }
  describe(): SchemaDoc {
    return {
      type: "Integer",
      required: !this.optional,
      description: this.description,
      ...(this.min !== undefined ? { min: this.min } : {}),
    };
  }
}

class BooleanSchema extends Base<boolean> {
  readonly kind = "boolean" as const;
  protected checkPresent(value: unknown, path: string, issues: string[]): boolean {
    if (typeof value !== "boolean") issues.push(`${path} must be a boolean`);
    return value as boolean;
  }
  describe(): SchemaDoc {
    return { type: "Boolean", required: !this.optional, description: this.description };
  }
}

class ArraySchema<T> extends Base<T[]> {
  readonly kind = "array" as const;
  constructor(description: string, private readonly items: Schema<T>, private readonly minItems = 0) {
    super(description);
  }
  protected checkPresent(value: unknown, path: string, issues: string[]): T[] {
    if (!Array.isArray(value)) {
      issues.push(`${path} must be an array`);
      return value as T[];
    }
    if (value.length < this.minItems) {
      issues.push(`${path} must contain at least ${this.minItems} item${this.minItems === 1 ? "" : "s"}`);
    }
    value.forEach((item, i) => this.items.check(item, `${path}[${i}]`, issues));
    return value as T[];
  }
  describe(): SchemaDoc {
    return {
      type: `[]${this.items.describe().type}`,
      required: !this.optional,
      description: this.description,
      ...(this.minItems > 0 ? { minItems: this.minItems } : {}),
      items: this.items.describe(),
    };
  }
}

type Fields = Record<string, Schema<unknown>>;
export type ObjectOf<F extends Fields> = { [K in keyof F]: Infer<F[K]> };

class ObjectSchema<F extends Fields> extends Base<ObjectOf<F>> {
  readonly kind = "object" as const;
  constructor(description: string, readonly fields: F) {
    super(description);
  }
  protected checkPresent(value: unknown, path: string, issues: string[]): ObjectOf<F> {
    if (typeof value !== "object" || Array.isArray(value) || value === null) {
      issues.push(`${path} must be an object`);
      return value as ObjectOf<F>;
    }
    const record = value as Record<string, unknown>;
    for (const [key, schema] of Object.entries(this.fields)) schema.check(record[key], `${path}.${key}`, issues);
    return value as ObjectOf<F>;
  }
  describe(): SchemaDoc {
    const fields: Record<string, SchemaDoc> = {};
    for (const [key, schema] of Object.entries(this.fields)) fields[key] = schema.describe();
    return { type: "Object", required: !this.optional, description: this.description, fields };
  }
}

class OptionalSchema<T> implements Schema<T | undefined> {
  readonly optional = true;
  constructor(private readonly inner: Schema<T>) {}
  get kind() {
    return this.inner.kind;
  }
  get description() {
    return this.inner.description;
  }
  check(value: unknown, path: string, issues: string[]): T | undefined {
    return absent(value) ? undefined : this.inner.check(value, path, issues);
  }
  describe(): SchemaDoc {
    return { ...this.inner.describe(), required: false };
  }
}

// ---- builders --------------------------------------------------------------------------------------------------

export const str = (description: string, opts: StringOptions = {}): Schema<string> => new StringSchema(description, opts);
/** A string limited to `values` (the enums the documents list). */
export const oneOf = <T extends string>(description: string, values: readonly T[]): Schema<T> =>
  new StringSchema(description, { enum: values }) as unknown as Schema<T>;
export const int = (description: string, opts: { min?: number } = {}): Schema<number> =>
  new IntegerSchema(description, opts.min);
export const bool = (description: string): Schema<boolean> => new BooleanSchema(description);
export const arr = <T>(description: string, items: Schema<T>, opts: { minItems?: number } = {}): Schema<T[]> =>
  new ArraySchema(description, items, opts.minItems ?? 0);
export const obj = <F extends Fields>(description: string, fields: F): Schema<ObjectOf<F>> =>
  new ObjectSchema(description, fields);
export const optional = <T>(schema: Schema<T>): Schema<T | undefined> => new OptionalSchema(schema);

/** Validates `value` against `schema` at `path`; returns the problems (empty when valid). */
export function validate(schema: Schema<unknown>, value: unknown, path = "param"): string[] {
  const issues: string[] = [];
  schema.check(value, path, issues);
  return issues;
}

export function describeSchema(schema: Schema<unknown>): SchemaDoc {
  return schema.describe();
}

// ---- formats ---------------------------------------------------------------------------------------------------

export const formats = {
  timeOfDay: { test: (s) => parseTimeOfDay(s) !== null, hint: "must be a time of day HH:mm:ss" },
  dateTime: { test: (s) => parseDateTime(s) !== null, hint: "must be a date-time yyyy-MM-dd HH:mm:ss" },
  httpUrl: {
    test: (s) => {
      try {
        const u = new URL(s);
        return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
      } catch {
        return false;
      }
    },
    hint: "must be an http(s) URL",
  },
  email: { test: (s) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s) && s.length <= 254, hint: "must be an email address" },
  pinCode: { test: (s) => /^\d{4,8}$/.test(s), hint: "must be 4 to 8 digits" },
  rfCard: { test: (s) => /^[0-9A-Fa-f]{4,20}$/.test(s), hint: "must be 4 to 20 hexadecimal digits" },
  password: { test: (s) => s.length >= 8 && s.length <= 64, hint: "must be 8 to 64 characters long" },
  count: { test: (s) => /^\d{0,9}$/.test(s), hint: "must be empty or a whole number" },
  digits: { test: (s) => /^\d+$/.test(s), hint: "must contain digits only" },
} satisfies Record<string, StringFormat>;
