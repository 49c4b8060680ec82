import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";

/** What an API key may do. `read`: queries and reports; `write`: mutations; `door:open`: `doorOpen`, `keepOpenSet`. */
export type Scope = "read" | "write" | "door:open" | "events:pictures";
export const SCOPES: readonly Scope[] = ["read", "write", "door:open", "events:pictures"];

export interface ApiKey {
  name: string;
  scopes: ReadonlySet<Scope>;
  /** Vendor project ids it may touch, or `*` for all (and site-wide Aliyun persons). */
  projects: "*" | ReadonlySet<string>;
}

/**
 * The facade's own API keys (`API_KEYS_FILE`), stored hashed: the file holds the SHA-256 of each key, never the
 * key. A presented key is hashed and compared in constant time.
 *
 * ```json
 * { "keys": [{ "name": "bi-dashboard", "sha256": "<64 hex>", "scopes": ["read"], "projects": ["pr7ace4…"] }] }
 * ```
 */
export class ApiKeyStore {
  private constructor(private readonly keys: { hash: Buffer; key: ApiKey }[]) {}

  static empty(): ApiKeyStore {
    return new ApiKeyStore([]);
  }

  /** Validates the parsed file; every problem is named by its path. */
  static parse(raw: unknown, source = "(inline)"): ApiKeyStore {
    const problems: string[] = [];
    const list = raw && typeof raw === "object" && Array.isArray((raw as { keys?: unknown }).keys) ? ((raw as { keys: unknown[] }).keys) : null;
    if (!list) throw new Error(`Invalid API keys file ${source}: it must hold {"keys": [...]}`);
    const names = new Set<string>();
    const keys = list.flatMap((k, i) => {
      const at = `keys[${i}]`;
      if (!k || typeof k !== "object") return problems.push(`${at} must be an object`), [];
      const { name, sha256, scopes, projects } = k as Record<string, unknown>;
      if (typeof name !== "string" || !name.trim()) problems.push(`${at}.name is required`);
      else if (names.has(name)) problems.push(`${at}.name repeats another key's name`);
      else names.add(name);
      if (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/i.test(sha256)) problems.push(`${at}.sha256 must be the 64-hex SHA-256 of the key`);
      if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => SCOPES.includes(s as Scope))) problems.push(`${at}.scopes must list some of ${SCOPES.join(", ")}`);
      const allProjects = Array.isArray(projects) && projects.length === 1 && projects[0] === "*";
      if (!Array.isArray(projects) || projects.length === 0 || !projects.every((p) => typeof p === "string" && p.trim())) problems.push(`${at}.projects must list project ids, or ["*"]`);
      if (problems.length) return [];
      return [
        {
          hash: Buffer.from(String(sha256).toLowerCase(), "hex"),
          key: { name: String(name), scopes: new Set(scopes as Scope[]), projects: allProjects ? ("*" as const) : new Set(projects as string[]) },
        },
      ];
    });
    if (problems.length) throw new Error(`Invalid API keys file ${source}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    return new ApiKeyStore(keys);
  }

  static async load(path: string): Promise<ApiKeyStore> {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      throw new Error(`API keys file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new Error(`API keys file ${path} is not valid JSON`);
    }
    return ApiKeyStore.parse(raw, path);
  }

  /** The key a presented secret is, or undefined. Constant-time over every stored hash. */
  verify(presented: string): ApiKey | undefined {
    const hash = createHash("sha256").update(presented).digest();
    let found: ApiKey | undefined;
    for (const k of this.keys) if (timingSafeEqual(hash, k.hash)) found = k.key;
    return found;
  }

  get size(): number {
    return this.keys.length;
  }
}

export const hashApiKey = (key: string) => createHash("sha256").update(key).digest("hex");
