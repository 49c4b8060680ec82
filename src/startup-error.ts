/**
 * A start-up failure an operator ends by changing one variable (a busy `PORT`, an unreadable `API_KEYS_FILE` or
 * `SITE_MAP`): `src/index.ts` prints its message as one line naming the variable and exits 1, without a stack.
 */
export class StartupError extends Error {
  constructor(
    readonly variable: string,
    what: string,
  ) {
    super(`${variable}: ${what.replace(/\s*\n\s*/g, " ")}`);
    this.name = "StartupError";
  }
}

/** The listen failure of `port` on `host`, as a {@link StartupError} when it is the operator's (busy or forbidden port). */
export function listenError(error: unknown, port: number, host: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  // The metrics port (METRICS_PORT) fails the same way; the server marks which variable it was.
  const marked = error as { variable?: string; port?: number };
  const variable = marked.variable ?? "PORT";
  port = marked.port ?? port;
  if (code === "EADDRINUSE") return new StartupError(variable, `port ${port} on ${host} is already in use (EADDRINUSE): stop what holds it or set ${variable} to a free port`);
  if (code === "EACCES") return new StartupError(variable, `port ${port} on ${host} may not be opened by this user (EACCES): set ${variable} to 1024 or above`);
  if (code === "EADDRNOTAVAIL") return new StartupError("HOST", `${host} is not an address of this machine (EADDRNOTAVAIL): set HOST, e.g. 0.0.0.0`);
  return error;
}
