/**
 * Writes `config/demo-site-map.json` from the Aliyun simulator's seed: `npm run demo-site-map`. A test fails when
 * the committed file differs from what the seed gives.
 */
import { writeFileSync } from "node:fs";
import { createAliyunSeed, demoSiteMap } from "../src/simulators/aliyun/index.js";

const path = new URL("../config/demo-site-map.json", import.meta.url);
writeFileSync(path, `${JSON.stringify(demoSiteMap(createAliyunSeed()), null, 2)}\n`);
console.log(`wrote ${path.pathname}`);
