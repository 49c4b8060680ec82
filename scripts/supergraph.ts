import { composeServices } from "@apollo/composition";
import { graphql, parse } from "graphql";
import { buildServedSchema } from "../src/schema/build.js";
import { typeDefs as siteNotesTypeDefs } from "../deploy/site-notes-subgraph/subgraph.mjs";

export const SUPERGRAPH_HEADER = "# The supergraph compose.yaml's Apollo Router serves, emitted by `npm run schema:emit`; do not edit.\n\n";

/**
 * The supergraph of `compose.yaml`: this subgraph with `node`/`nodes` left out (the compose file sets
 * `FEDERATION_OMIT_NODE=true`) and the site-notes subgraph, at their compose service addresses.
 */
export async function printDeploySupergraph(): Promise<string> {
  const result = await graphql({ schema: await buildServedSchema({ omitNode: true }), source: "{ _service { sdl } }" });
  const sdl = (result.data as { _service: { sdl: string } })._service.sdl;
  const composed = composeServices([
    { name: "access", typeDefs: parse(sdl), url: "http://graph:4000/graphql" },
    { name: "site_notes", typeDefs: siteNotesTypeDefs, url: "http://site-notes:4001/graphql" },
  ]);
  if (composed.errors) throw new Error(`composition failed:\n${composed.errors.map((e) => e.message).join("\n")}`);
  return SUPERGRAPH_HEADER + composed.supergraphSdl + "\n";
}
