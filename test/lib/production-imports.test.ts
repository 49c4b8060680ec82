/**
 * Issue 12, "Production does not import the simulators": the service's static import graph, from its entry point,
 * reaches no simulator code; only the simulators' constants (demo credentials and project ids, a few literals) are
 * imported statically. The simulators themselves load through `await import(...)` in demo mode only.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/** Relative value imports of a module (`import type` and `export type` are erased by the compiler; dynamic imports are not static). */
function staticImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)([^;]*?)\s+from\s+"(\.[^"]+)"|^\s*import\s+"(\.[^"]+)"/gm)) {
    const spec = m[2] ?? m[3]!;
    // `import { type A, type B } from` carries no value either.
    if (m[1] && /^\{\s*(type\s+\w+\s*,?\s*)+\}$/.test(m[1].trim())) continue;
    const target = resolve(dirname(file), spec.replace(/\.js$/, ".ts"));
    out.push(existsSync(target) ? target : join(target, "index.ts"));
  }
  return out;
}

function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    todo.push(...staticImports(f));
  }
  return seen;
}

describe("production does not import the simulators", () => {
  it("the entry point's static imports reach no simulator module but the constants", () => {
    const reached = [...closure(join(SRC, "index.ts"))].map((f) => relative(SRC, f));
    expect(reached).toContain("app.ts");
    expect(reached).toContain("server.ts");
    const simulators = reached.filter((f) => f.startsWith("simulators/"));
    expect(simulators.filter((f) => !/^simulators\/(akubela|aliyun)\/constants\.ts$/.test(f))).toEqual([]);
  });

  it("the check sees through re-exports: the simulators' own index does reach their servers", () => {
    const reached = [...closure(join(SRC, "simulators/akubela/index.ts"))].map((f) => relative(SRC, f));
    expect(reached).toContain("simulators/akubela/server.ts");
  });
});
