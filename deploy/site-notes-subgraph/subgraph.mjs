/**
 * A second team's small subgraph, to show composition: site notes attached to the access graph's projects. It
 * defines what other subgraphs commonly define too: its own `PageInfo`, `UserError`, `Node` and `node(id:)`.
 * Plain JavaScript on the access graph's production dependencies (@apollo/server, @apollo/subgraph, graphql), so
 * compose runs it from the same image; `test/graph/federation.test.ts` composes it with the access graph.
 */
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";

export const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])

  interface Node { id: ID! }

  # The Relay PageInfo, as most teams define it.
  type PageInfo @shareable {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }

  type UserError @shareable {
    code: String!
    field: [String!]
    message: String!
  }

  type SiteNote implements Node @key(fields: "id") {
    id: ID!
    text: String!
    project: Project!
  }

  type SiteNoteConnection {
    nodes: [SiteNote!]!
    pageInfo: PageInfo!
  }

  type Project @key(fields: "projectId") {
    projectId: ID!
    siteNotes: SiteNoteConnection!
  }

  type SiteNoteAddPayload {
    note: SiteNote
    userErrors: [UserError!]!
  }

  type Query {
    node(id: ID!): Node
  }

  type Mutation {
    siteNoteAdd(projectId: ID!, text: String!): SiteNoteAddPayload!
  }
`);

/** A subgraph schema over an in-memory list of notes (each run starts empty). */
export function createSiteNotesSchema() {
  const notes = [];
  const byId = (id) => notes.find((n) => n.id === id) ?? null;
  return buildSubgraphSchema({
    typeDefs,
    resolvers: {
      Query: { node: (_, { id }) => byId(id) },
      Node: { __resolveType: () => "SiteNote" },
      Mutation: {
        siteNoteAdd: (_, { projectId, text }) => {
          if (!text.trim()) return { note: null, userErrors: [{ code: "REQUIRED", field: ["text"], message: "text must not be empty" }] };
          const note = { id: `SiteNote:${notes.length + 1}`, text, projectId };
          notes.push(note);
          return { note, userErrors: [] };
        },
      },
      SiteNote: {
        __resolveReference: (ref) => byId(ref.id),
        project: (note) => ({ projectId: note.projectId }),
      },
      Project: {
        siteNotes: (project) => ({ nodes: notes.filter((n) => n.projectId === project.projectId), pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } }),
      },
    },
  });
}
