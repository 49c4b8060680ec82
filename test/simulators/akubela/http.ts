/**
 * A tiny client for the Akubela simulator's command endpoints over real HTTP (Node's global fetch), so that the
 * tests see exactly what a vendor client sees: status, headers, body.
 */
import { COMMAND_PATH_PREFIX, DEMO_AKUBELA_TOKEN, type AkubelaSimulator } from "../../../src/simulators/akubela/index.js";

export type Endpoint = "manager-commands" | "user-commands";

/** The vendor envelope; `result` is typed loosely on purpose: the tests check its shape against the documents. */
export interface Envelope {
  success: boolean;
  timestamp: number;
  result: any;
  code?: string;
  message?: string;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body; reading it throws when the body is not JSON (see `text`). */
  readonly body: Envelope;
}

export interface CallOptions {
  /** The command id (default: a fresh `t<n>`); `omitId` sends none. */
  id?: unknown;
  omitId?: boolean;
  signal?: AbortSignal;
}

let counter = 0;

function answerOf(status: number, headers: Headers, text: string): Answer {
  return {
    status,
    headers,
    text,
    get body(): Envelope {
      try {
        return JSON.parse(text) as Envelope;
      } catch {
        throw new Error(`the answer is not JSON: ${text.slice(0, 80)}`);
      }
    },
  };
}

/** POSTs `body` (a string is sent as is) to `{url}/api/v1.0/invoke/open-ability/method/{endpoint}`. */
export async function post(
  baseUrl: string,
  endpoint: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Answer> {
  const res = await fetch(`${baseUrl}${COMMAND_PATH_PREFIX}${endpoint}`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal,
  });
  return answerOf(res.status, res.headers, await res.text());
}

/**
 * `call(endpoint, command, param, token?)` against one simulator: `{command, id, param}` with
 * `Authorization: Bearer <token>` (the demo token by default; `null` sends no Authorization header).
 */
export function clientFor(sim: AkubelaSimulator) {
  function call(
    endpoint: Endpoint,
    command: string,
    param: unknown,
    token: string | null = DEMO_AKUBELA_TOKEN,
    opts: CallOptions = {},
  ): Promise<Answer> {
    const body: Record<string, unknown> = { command, param };
    if (!opts.omitId) body.id = "id" in opts ? opts.id : `t${++counter}`;
    const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
    return post(sim.url, endpoint, body, headers, opts.signal);
  }
  return {
    call,
    /** A manager command with the demo token. */
    manager: (command: string, param: unknown, opts?: CallOptions) => call("manager-commands", command, param, DEMO_AKUBELA_TOKEN, opts),
    /** A user command with the demo token. */
    user: (command: string, param: unknown, opts?: CallOptions) => call("user-commands", command, param, DEMO_AKUBELA_TOKEN, opts),
    /** The `result` of a command that must succeed (fails the test with the vendor code otherwise). */
    async ok(endpoint: Endpoint, command: string, param: unknown) {
      const a = await call(endpoint, command, param);
      if (a.status !== 200 || a.body.success !== true) {
        throw new Error(`${command} failed: HTTP ${a.status} ${a.body.code ?? ""} ${a.body.message ?? ""}`);
      }
      return a.body.result;
    },
  };
}

export type Client = ReturnType<typeof clientFor>;

/** Sorted keys of an object: to compare an answer's fields with a document's table. */
export const keysOf = (o: unknown): string[] => Object.keys(o as object).sort();
