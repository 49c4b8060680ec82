import { akuvoxCommands } from "./akuvox.js";
import type { CommandDef, Endpoint } from "./common.js";
import { userCommands } from "./users.js";
import { visitorKeyCommands } from "./visitor-keys.js";

/** All 44 Akubela / Akuvox commands (README rows 1–44), in document order. */
export const ALL_COMMANDS: readonly CommandDef<never>[] = [
  ...visitorKeyCommands,
  ...akuvoxCommands,
  ...userCommands,
] as unknown as readonly CommandDef<never>[];

/** The commands answered on each endpoint, by name. */
export const COMMANDS_BY_ENDPOINT: ReadonlyMap<Endpoint, ReadonlyMap<string, CommandDef<unknown>>> = new Map(
  (["manager-commands", "user-commands"] as const).map((endpoint) => [
    endpoint,
    new Map(
      ALL_COMMANDS.filter((c) => c.endpoint === endpoint).map((c) => [c.name, c as unknown as CommandDef<unknown>]),
    ),
  ]),
);
