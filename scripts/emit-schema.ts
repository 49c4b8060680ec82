import { writeFile } from "node:fs/promises";
import { printGraphSchema } from "../src/schema/build.js";

const target = new URL("../schema/schema.graphql", import.meta.url);
await writeFile(target, await printGraphSchema());
console.log(`wrote ${target.pathname}`);
