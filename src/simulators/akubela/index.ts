/** The Akubela / Akuvox simulator: start it, seed it, and the names of its demo property. */
export {
  startAkubelaSimulator,
  COMMAND_PATH_PREFIX,
  TOKEN_PATH,
  type AkubelaSimulator,
  type AkubelaSimulatorOptions,
  type FaultSpec,
  type RecordedCommand,
} from "./server.js";
export {
  DEFAULT_TOKEN_TTL_SECONDS,
  OAUTH_TOKEN_COMMAND,
  type OAuthClient,
  type OAuthControl,
  type OAuthUser,
} from "./oauth.js";
export { createAkubelaSeed, type SeedOptions } from "./seed.js";
export { ALL_COMMANDS, COMMANDS_BY_ENDPOINT } from "./commands/index.js";
export * from "./constants.js";
export type * from "./state.js";
export { findResidence, publicDevices, residenceDevices, residenceAccounts, findDeviceByMac } from "./state.js";
export { injectSimEvent, startSimulatedResidents, type SimEventSpec } from "./activity.js";
