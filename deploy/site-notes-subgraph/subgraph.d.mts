import type { DocumentNode, GraphQLSchema } from "graphql";
export declare const typeDefs: DocumentNode;
export declare function createSiteNotesSchema(): GraphQLSchema;
