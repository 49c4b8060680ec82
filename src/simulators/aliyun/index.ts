/** The Aliyun IoT gateway simulator: start it, seed it, its demo credentials and site map. */
export {
  startAliyunSimulator,
  type AliyunSimulator,
  type AliyunSimulatorOptions,
  type AliyunFaultSpec,
  type RecordedGatewayRequest,
} from "./server.js";
export { createAliyunSeed, demoSiteMap, cardKey, type AliyunSeedOptions, type AliyunState } from "./seed.js";
export { PATHS } from "./paths.js";
export * from "./constants.js";
