/** `node deploy/site-notes-subgraph/server.mjs`: the site-notes subgraph on PORT (default 4001), `/graphql`. */
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { createSiteNotesSchema } from "./subgraph.mjs";

const server = new ApolloServer({ schema: createSiteNotesSchema(), stopOnTerminationSignals: true });
const { url } = await startStandaloneServer(server, { listen: { port: Number(process.env.PORT ?? 4001), host: "0.0.0.0" } });
console.log(JSON.stringify({ level: "info", msg: "site-notes subgraph ready", url }));
