import { writeFile } from "node:fs/promises";
import { printGraphSchema, printSubgraphSchema } from "../src/schema/build.js";
import { printDeploySupergraph } from "./supergraph.js";

/** Writes the API schema and the subgraph SDL; tests fail when the committed files differ from the code. */
for (const [file, print] of [
  ["schema.graphql", printGraphSchema],
  ["subgraph.graphql", printSubgraphSchema],
] as const) {
  const target = new URL(`../schema/${file}`, import.meta.url);
  await writeFile(target, await print());
  console.log(`wrote ${target.pathname}`);
}

const supergraph = new URL("../deploy/supergraph.graphql", import.meta.url);
await writeFile(supergraph, await printDeploySupergraph());
console.log(`wrote ${supergraph.pathname}`);
