/**
 * The reference the benchmark holds the facade against (issue 16): a bare Apollo Server (`startStandaloneServer`)
 * on the facade's own SDL (`schema/schema.graphql`) whose one root resolver returns, from memory, the JSON the
 * facade answered for the benchmark's query. Default resolvers do the rest. Started by `scripts/bench.ts` in a
 * child process: `BARE_PORT`, `BARE_FIELD` (the root field), `BARE_VALUE_FILE` (its value, JSON).
 */
import { readFileSync } from "node:fs";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";

const typeDefs = readFileSync(new URL("../schema/schema.graphql", import.meta.url), "utf8");
const field = process.env.BARE_FIELD!;
const value: unknown = JSON.parse(readFileSync(process.env.BARE_VALUE_FILE!, "utf8"));
const server = new ApolloServer({ typeDefs, resolvers: { Query: { [field]: () => value } }, nodeEnv: "production" });
const { url } = await startStandaloneServer(server, { listen: { port: Number(process.env.BARE_PORT), host: "127.0.0.1" } });
process.stdout.write(`${url}\n`);
