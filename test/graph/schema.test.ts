import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { buildGraphSchema, printGraphSchema } from "../../src/schema/build.js";
import { isEnumType, isInputObjectType, isInterfaceType, isObjectType } from "graphql";

describe("schema/schema.graphql", () => {
  it("is exactly what the code emits (run `npm run schema:emit` after changing the schema)", async () => {
    const committed = await readFile(new URL("../../schema/schema.graphql", import.meta.url), "utf8");
    expect(committed).toBe(await printGraphSchema());
  });

  it("describes every type, field, argument and enum value", async () => {
    const schema = await buildGraphSchema();
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith("__") || ["String", "Boolean", "Int", "Float", "ID"].includes(type.name)) continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of "args" in field ? field.args : []) if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
      if (isEnumType(type)) for (const v of type.getValues()) if (!v.description) missing.push(`${type.name}.${v.name}`);
    }
    expect(missing).toEqual([]);
  });
});
