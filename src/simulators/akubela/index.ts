/** The Akubela / Akuvox simulator: start it, seed it, and the names of its demo property. */
export {
  startAkubelaSimulator,
  COMMAND_PATH_PREFIX,
  type AkubelaSimulator,
  type AkubelaSimulatorOptions,
  type FaultSpec,
  type RecordedCommand,
} from "./server.js";
export { createAkubelaSeed, type SeedOptions } from "./seed.js";
export { ALL_COMMANDS, COMMANDS_BY_ENDPOINT } from "./commands/index.js";
export * from "./constants.js";
export type * from "./state.js";
export { findResidence, publicDevices, residenceDevices, residenceAccounts, findDeviceByMac } from "./state.js";
