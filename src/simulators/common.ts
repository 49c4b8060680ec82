/**
 * What both vendor simulators share: the fault queue, the control routes for tools outside the process, and an
 * HTTP listener that can drop every open connection on close (a `no_answer` fault leaves sockets hanging).
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** What a test or a tool can do with a running simulator. */
export interface Simulator<State, Recorded, Spec> {
  url: string;
  port: number;
  /** The live state (replaced by {@link reset}). */
  readonly state: State;
  /** Everything received since the start or the last clear, oldest first. */
  received(): Recorded[];
  /** Requests for one command / path (or all that reached one). */
  calls(name?: string): Recorded[];
  clearReceived(): void;
  /** Adds a fault; the returned function removes it. */
  injectFault(spec: Spec): () => void;
  clearFaults(): void;
  /** Re-seeds the state and clears the record and the faults. */
  reset(): void;
  close(): Promise<void>;
}

/** The part of a fault spec the queue reads. */
export interface FaultSelector {
  /** Apply this many times, then remove itself (default: until removed). */
  times?: number;
  /** Only requests whose params have these top-level values (compared as JSON). */
  where?: Record<string, unknown>;
}

/** Injected faults, first match wins; a fault with `times` removes itself when used up. */
export class FaultQueue<S extends FaultSelector> {
  private entries: { spec: S; left: number }[] = [];

  add(spec: S): () => void {
    const entry = { spec, left: spec.times ?? Number.POSITIVE_INFINITY };
    this.entries.push(entry);
    return () => {
      this.entries = this.entries.filter((e) => e !== entry);
    };
  }

  /** The first fault for this request (`target` says whether the spec's command/path matches), consumed once. */
  take(target: (spec: S) => boolean, params: unknown): S | undefined {
    const entry = this.entries.find((e) => target(e.spec) && whereMatches(e.spec.where, params));
    if (!entry) return undefined;
    if (--entry.left <= 0) this.entries = this.entries.filter((e) => e !== entry);
    return entry.spec;
  }

  clear(): void {
    this.entries = [];
  }
}

function whereMatches(where: Record<string, unknown> | undefined, params: unknown): boolean {
  if (!where) return true;
  if (!params || typeof params !== "object") return false;
  const p = params as Record<string, unknown>;
  return Object.entries(where).every(([k, v]) => JSON.stringify(p[k]) === JSON.stringify(v));
}

export interface ControlApi {
  received(): unknown;
  clearReceived(): void;
  addFault(spec: unknown): void;
  clearFaults(): void;
  reset(): void;
}

/** `GET|DELETE /__sim/received`, `POST|DELETE /__sim/faults`, `POST /__sim/reset`. */
export async function handleControl(req: IncomingMessage, res: ServerResponse, path: string, api: ControlApi): Promise<void> {
  const reply = (status: number, value: unknown) => {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify(value));
  };
  const route = `${req.method} ${path}`;
  if (route === "GET /__sim/received") return reply(200, api.received());
  if (route === "DELETE /__sim/received") return reply(200, (api.clearReceived(), { ok: true }));
  if (route === "DELETE /__sim/faults") return reply(200, (api.clearFaults(), { ok: true }));
  if (route === "POST /__sim/reset") return reply(200, (api.reset(), { ok: true }));
  if (route === "POST /__sim/faults") {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    try {
      api.addFault(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      return reply(200, { ok: true });
    } catch {
      return reply(400, { ok: false, message: "body must be a fault spec as JSON" });
    }
  }
  return reply(404, { ok: false, message: "no such control route" });
}

export interface Listening {
  url: string;
  port: number;
  /** Closes the server, destroying open connections first. */
  close(): Promise<void>;
}

/** Listens with `handler` (errors it throws answer 500 and are logged without details). */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  options: { port?: number; host?: string },
  log: (line: string) => void,
): Promise<Listening> {
  const sockets = new Set<Socket>();
  const listener: RequestListener = (req, res) => {
    handler(req, res).catch((error: unknown) => {
      log(`request failed: ${(error as Error).message}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
  const server = createServer(listener);
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const host = options.host && options.host !== "0.0.0.0" ? options.host : "127.0.0.1";
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  log(`listening on ${url}`);
  return {
    url,
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
