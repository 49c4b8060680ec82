import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { MiddlewareFn } from "type-graphql";
import { KEY_PREFIX } from "../../cache/read-through.js";
import type { GraphContext } from "../../context.js";
import { BadUserInputError, LimitError } from "../../errors.js";
import { stableStringify } from "../../lib/stable-stringify.js";

/** How long a repeat waits for the first attempt still running before saying so. */
const WAIT_FOR_FIRST_MS = 5_000;

interface Stored {
  state: "pending" | "done";
  /** A hash of the input the key was first used with. */
  input: string;
  payload?: unknown;
}

/**
 * `idempotencyKey` on a mutation's input: the first call runs and its payload is kept (in the shared cache, so
 * every instance sees it) for IDEMPOTENCY_WINDOW_SECONDS; a repeat with the same key returns that payload without
 * calling the vendor again. The key is scoped to the caller and the mutation. The same key with a different input
 * is `IDEMPOTENCY_KEY_REUSED` (409); a repeat while the first is still running waits for it, then answers
 * `IDEMPOTENCY_IN_PROGRESS` (409) if it is still running. A first attempt that fails with an error (not a payload)
 * frees the key, so the caller can try again.
 */
export const Idempotent: MiddlewareFn<GraphContext> = async ({ args, context, info }, next) => {
  const input = (args as { input?: Record<string, unknown> }).input;
  const idempotencyKey = input?.idempotencyKey;
  if (typeof idempotencyKey !== "string" || idempotencyKey === "") return next();
  if (idempotencyKey.length > 128) throw new BadUserInputError("input.idempotencyKey is longer than 128 characters", "input.idempotencyKey");
  const cache = context.cache;
  const windowMs = context.config.limits.idempotencyWindowMs;
  const hash = (s: string) => createHash("sha256").update(s).digest("hex");
  const key = `${KEY_PREFIX}:idem:${hash(context.caller.id)}:${info.fieldName}:${hash(idempotencyKey)}`;
  const { idempotencyKey: _key, ...rest } = input!;
  const inputHash = hash(stableStringify(rest));

  if (await cache.setIfAbsent(key, JSON.stringify({ state: "pending", input: inputHash } satisfies Stored), windowMs)) {
    try {
      const payload = await next();
      // Stored as JSON: what a repeat answers is the first payload's data, through the same field resolvers.
      await cache.set(key, JSON.stringify({ state: "done", input: inputHash, payload } satisfies Stored), windowMs);
      context.logger.info("idempotent mutation", { mutation: info.fieldName, repeat: false });
      return payload;
    } catch (error) {
      await cache.delete(key);
      throw error;
    }
  }

  for (let waited = 0; ; waited += 100) {
    const raw = await cache.get(key);
    const stored = raw ? (JSON.parse(raw) as Stored) : undefined;
    if (!stored) return next(); // expired or freed meanwhile: this is now the first call
    if (stored.input !== inputHash) throw new LimitError("This idempotencyKey was used with a different input", "IDEMPOTENCY_KEY_REUSED", 409);
    if (stored.state === "done") {
      context.logger.info("idempotent mutation", { mutation: info.fieldName, repeat: true });
      return stored.payload;
    }
    if (waited >= WAIT_FOR_FIRST_MS) throw new LimitError("The first call with this idempotencyKey is still running; try again shortly", "IDEMPOTENCY_IN_PROGRESS", 409);
    await sleep(100);
  }
};

/** The field every idempotent mutation's input carries. */
export const IDEMPOTENCY_KEY_DESCRIPTION =
  "A key of your choosing (e.g. a UUID) making this call safe to repeat: within 24 hours (IDEMPOTENCY_WINDOW_SECONDS), a call with the same key returns the first call's result without calling the vendor again. At most 128 characters.";
