/**
 * Subscriptions over the two streaming protocols: graphql-ws (WebSocket upgrade on `/graphql`) and graphql-sse
 * (`/graphql/stream`, distinct-connections mode). Both authenticate when the stream opens, with the graph's own
 * credentials: `X-API-Key` or `Authorization: Bearer …` as headers, or in graphql-ws `connectionParams`.
 *
 * Only subscription operations are served here: queries and mutations go through `POST /graphql`, where the
 * authorization plugin, query limits and rate limits apply. Every error is masked as over HTTP.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { GraphQLError, getOperationAST, parse, validate, type DocumentNode, type GraphQLSchema } from "graphql";
import { createHandler } from "graphql-sse/lib/use/http";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { identifyCaller, type Caller } from "../auth/caller.js";
import { createContext, type ServerDeps } from "../context.js";
import { createFormatError } from "../errors.js";

export const SSE_PATH = "/graphql/stream";

/** A parse / validation / operation-type problem, or null when the document is a valid subscription. */
function refuse(schema: GraphQLSchema, query: string, operationName: string | null | undefined): readonly GraphQLError[] | null {
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch (error) {
    return [error instanceof GraphQLError ? error : new GraphQLError("The query could not be parsed")];
  }
  const errors = validate(schema, document);
  if (errors.length > 0) return errors;
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation) return [new GraphQLError("No operation to run: name one with operationName")];
  if (operation.operation !== "subscription") {
    return [new GraphQLError("Only subscriptions are served on this stream: send queries and mutations with POST /graphql", { extensions: { code: "BAD_REQUEST" } })];
  }
  return null;
}

const credentialHeaders = (request: IncomingMessage, params: Record<string, unknown> | undefined) => {
  const pick = (...names: string[]) => {
    for (const n of names) {
      const v = params?.[n];
      if (typeof v === "string" && v) return v;
    }
    return undefined;
  };
  const apiKey = pick("x-api-key", "X-API-Key", "apiKey");
  const authorization = pick("authorization", "Authorization");
  return {
    ...request.headers,
    ...(apiKey ? { "x-api-key": apiKey } : {}),
    ...(authorization ? { authorization } : {}),
  } as IncomingMessage["headers"];
};

const refusal = (caller: Caller) => (caller.refused ? `Authentication failed: ${caller.refused}` : caller.kind === "anonymous" ? "Authentication required: send an API key (X-API-Key) or Authorization: Bearer <vendor token>" : null);

export interface SubscriptionTransports {
  /** Serves `/graphql/stream` (graphql-sse). */
  sse(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Closes every WebSocket and SSE stream (used while the server drains). */
  close(): Promise<void>;
  /** Open WebSockets and SSE streams, for metrics and the benchmark. */
  open(): { websockets: number; sse: number };
}

export function attachSubscriptions(httpServer: Server, schema: GraphQLSchema, deps: ServerDeps): SubscriptionTransports {
  const formatError = createFormatError(deps.logger);
  const format = (errors: readonly GraphQLError[]) => errors.map((e) => formatError(e.toJSON(), e));
  const callers = new WeakMap<object, Caller>();

  const wss = new WebSocketServer({ noServer: true });
  httpServer.on("upgrade", (req, socket, head) => {
    if (new URL(req.url ?? "/", "http://localhost").pathname !== "/graphql") return void socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });
  const ws = useServer<Record<string, unknown> | undefined, { caller?: Caller }>(
    {
      schema,
      onConnect: (ctx) => {
        const caller = identifyCaller(credentialHeaders(ctx.extra.request, ctx.connectionParams), deps.callers);
        if (refusal(caller)) {
          deps.logger.info("subscription refused", { transport: "graphql-ws", reason: caller.refused ? "bad credential" : "anonymous" });
          return false;
        }
        callers.set(ctx, caller);
        return true;
      },
      onSubscribe: (_ctx, _id, payload) => refuse(schema, payload.query, payload.operationName) ?? undefined,
      context: (ctx) => createContext(deps, randomUUID(), callers.get(ctx)!),
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: format(result.errors) } : undefined),
      onError: (_ctx, _id, _payload, errors) => format(errors),
    },
    wss,
  );

  const streams = new Set<ServerResponse>();
  const handler = createHandler({
    schema,
    onSubscribe: (req, params) => {
      const caller = identifyCaller(req.raw.headers, deps.callers);
      const refused = refusal(caller);
      if (refused) return [JSON.stringify({ errors: [{ message: refused, extensions: { code: "UNAUTHENTICATED" } }] }), { status: 401, statusText: "Unauthorized", headers: { "content-type": "application/json; charset=utf-8" } }];
      const errors = refuse(schema, typeof params.query === "string" ? params.query : "", params.operationName);
      if (errors) return [JSON.stringify({ errors: format(errors) }), { status: 400, statusText: "Bad Request", headers: { "content-type": "application/json; charset=utf-8" } }];
      return {
        schema,
        document: parse(params.query as string),
        operationName: params.operationName,
        variableValues: params.variables,
        contextValue: createContext(deps, randomUUID(), caller) as never,
      };
    },
    onNext: (_ctx, _req, result) => ("errors" in result && result.errors ? { ...result, errors: format(result.errors) as never } : undefined),
  });

  return {
    async sse(req, res) {
      streams.add(res);
      res.once("close", () => streams.delete(res));
      await handler(req, res);
    },
    async close() {
      for (const res of streams) res.end();
      for (const client of wss.clients) client.close(1001, "Server shutting down");
      await ws.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
    open: () => ({ websockets: wss.clients.size, sse: streams.size }),
  };
}
