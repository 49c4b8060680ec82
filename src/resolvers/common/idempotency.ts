import { createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { getNamedType, isNonNullType, isObjectType, type GraphQLResolveInfo } from "graphql";
import type { MiddlewareFn } from "type-graphql";
import type { GraphContext } from "../../context.js";
import { BadUserInputError, LimitError } from "../../errors.js";
import type { IdempotencyRecord } from "../../idempotency/store.js";
import { createSealer } from "../../lib/sealed.js";
import { stableStringify } from "../../lib/stable-stringify.js";

/** How long a repeat waits for the first attempt still running before saying so. */
const WAIT_FOR_FIRST_MS = 5_000;

/**
 * The secrets of one key: derived from the caller's idempotency key (and the server's TOKEN_ENCRYPTION_KEY when
 * set), so a record read straight from the store reveals neither its input nor its payload.
 */
function keyMaterial(context: GraphContext, mutation: string, idempotencyKey: string) {
  const salt = context.config.tokenEncryptionKey ?? Buffer.from("acg-idempotency-v1");
  const secret = Buffer.from(hkdfSync("sha256", idempotencyKey, salt, `${context.caller.id}\0${mutation}`, 32));
  const callerHash = createHash("sha256").update(context.caller.id).digest("hex").slice(0, 32);
  const keyHash = createHmac("sha256", salt).update(idempotencyKey).digest("hex");
  return { secret, key: `${callerHash}:${mutation}:${keyHash}` };
}

/**
 * What a retry answers when the first call's instance stopped renewing its lease (it died mid-call): the command
 * may have reached the vendor. A payload with an `outcome` field (doorOpen) says `UNKNOWN` in it; others get the
 * error `IDEMPOTENCY_OUTCOME_UNKNOWN` (409), with `extensions.outcome: "UNKNOWN"`.
 */
function unknownOutcome(info: GraphQLResolveInfo): unknown {
  const message = "The first call with this idempotencyKey stopped without recording its outcome: the command may or may not have reached the vendor. Check before retrying with a new key.";
  const type = getNamedType(info.returnType);
  const fields = isObjectType(type) ? type.getFields() : {};
  if (fields.outcome && fields.userErrors && Object.values(fields).every((f) => f.name === "outcome" || f.name === "userErrors" || !isNonNullType(f.type))) {
    return {
      ...Object.fromEntries(Object.keys(fields).map((f) => [f, null])),
      outcome: "UNKNOWN",
      userErrors: [{ field: null, message, code: "IDEMPOTENCY_OUTCOME_UNKNOWN" }],
    };
  }
  throw new LimitError(message, "IDEMPOTENCY_OUTCOME_UNKNOWN", 409);
}

/**
 * `idempotencyKey` on a mutation's input: the first call runs and its payload is kept in the idempotency store
 * (Redis, shared by every instance, or this process's own) for IDEMPOTENCY_WINDOW_SECONDS; a repeat with the same
 * key returns that payload without calling the vendor again. The key is scoped to the caller and the mutation.
 *
 * - The pending record is written (`SET NX`) and confirmed before the mutation runs; when it cannot be, the call is
 *   refused with `IDEMPOTENCY_UNAVAILABLE` (503, `Retry-After`) and nothing reaches the vendor (fail closed).
 * - The same key with a different input is `IDEMPOTENCY_KEY_REUSED` (409); a repeat while the first is still
 *   running waits for it, then answers `IDEMPOTENCY_IN_PROGRESS` (409).
 * - The running call holds a short lease (IDEMPOTENCY_LEASE_MS, longer than the vendor timeouts), renewed while it
 *   runs. A repeat that finds the lease expired (the instance died) learns the outcome is `UNKNOWN`.
 * - A first attempt that fails with an error (not a payload) frees the key, so the caller can try again.
 * - A batch payload with `complete: false` (some records `unknown` or `notSent`) is resumed by a retry with the
 *   same key: the retry claims `<key>:resume:<n>` (so two retries do not both send the rest), the resolver reads
 *   the earlier payload with {@link priorAttempt} and sends only what it did not apply or refuse, and the merged
 *   payload becomes the key's record.
 * - The record holds an HMAC of the input and the payload sealed with a key derived from the idempotency key: no
 *   PIN, card number or credential in clear.
 */
export const Idempotent: MiddlewareFn<GraphContext> = async ({ args, context, info }, next) => {
  const input = (args as { input?: Record<string, unknown> }).input;
  const idempotencyKey = input?.idempotencyKey;
  if (typeof idempotencyKey !== "string" || idempotencyKey === "") return next();
  if (idempotencyKey.length > 128) throw new BadUserInputError("input.idempotencyKey is longer than 128 characters", "input.idempotencyKey");
  const store = context.idempotency;
  const { windowMs, leaseMs } = { windowMs: context.config.limits.idempotencyWindowMs, leaseMs: context.config.limits.idempotencyLeaseMs };
  const { secret, key } = keyMaterial(context, info.fieldName, idempotencyKey);
  const sealer = createSealer(secret);
  const { idempotencyKey: _key, ...rest } = input!;
  const inputHash = createHmac("sha256", secret).update(stableStringify(rest)).digest("hex");
  const owner = randomBytes(16).toString("hex");
  const done = (k: string, payload: unknown): IdempotencyRecord => ({ owner, state: "done", input: inputHash, payload: sealer.seal(JSON.stringify(payload ?? null), k) });

  /**
   * Runs the mutation under `k`: the key itself, or (to resume an incomplete batch) `key:resume:<n>`, claimed like
   * the key so that two retries of one incomplete batch do not both send its rest. A resumed run's payload becomes
   * the key's record too, so the next retry resumes from there.
   */
  const run = async (k: string, prior?: IncompleteBatch): Promise<unknown> => {
    if (await store.claim(k, { owner, state: "pending", input: inputHash } satisfies IdempotencyRecord, windowMs, leaseMs)) {
      const renewal = setInterval(() => store.renew(k, owner, leaseMs).catch(() => {}), Math.max(100, Math.floor(leaseMs / 3)));
      renewal.unref();
      let payload: unknown;
      if (prior) priorAttempts(context).set(responseKey(info), prior);
      try {
        payload = await next();
      } catch (error) {
        clearInterval(renewal);
        await store.release(k, owner).catch(() => {});
        throw error;
      } finally {
        priorAttempts(context).delete(responseKey(info));
      }
      clearInterval(renewal);
      if (prior && payload && typeof payload === "object") payload = { ...payload, resumes: (prior.resumes ?? 0) + 1 };
      // Stored as JSON: what a repeat answers is the first payload's data, through the same field resolvers.
      const lost = () => context.logger.warn("idempotent mutation ran but its outcome could not be recorded: a repeat will answer UNKNOWN", { mutation: info.fieldName });
      if (prior) await store.finish(key, done(key, payload), windowMs).catch(lost);
      await store.finish(k, done(k, payload), windowMs).catch(lost);
      context.logger.info("idempotent mutation", { mutation: info.fieldName, repeat: false, resumed: Boolean(prior) });
      return payload;
    }

    for (let waited = 0; ; waited += 100) {
      const found = await store.look(k);
      if (!found) return run(k, prior); // freed meanwhile: claim anew
      const { record } = found;
      if (record.input !== inputHash) throw new LimitError("This idempotencyKey was used with a different input", "IDEMPOTENCY_KEY_REUSED", 409);
      if (record.state === "done") {
        const opened = record.payload ? sealer.open(record.payload, k) : undefined;
        if (opened === undefined) throw new LimitError("This idempotencyKey's recorded outcome cannot be read", "IDEMPOTENCY_OUTCOME_UNKNOWN", 409);
        const payload = JSON.parse(opened) as unknown;
        if (k === key && isIncompleteBatch(payload)) return run(`${key}:resume:${payload.resumes ?? 0}`, payload);
        context.logger.info("idempotent mutation", { mutation: info.fieldName, repeat: true });
        return payload;
      }
      if (!found.leased) {
        context.logger.warn("idempotent mutation: the first call's lease expired before it recorded an outcome", { mutation: info.fieldName });
        return unknownOutcome(info);
      }
      if (waited >= WAIT_FOR_FIRST_MS) throw new LimitError("The first call with this idempotencyKey is still running; try again shortly", "IDEMPOTENCY_IN_PROGRESS", 409);
      await sleep(100);
    }
  };
  return run(key);
};

/** A recorded batch payload some of whose records are not known to be applied or refused (`complete: false`). */
interface IncompleteBatch {
  complete: false;
  applied: number[];
  refused: { item: number }[];
  resumes?: number;
}

function isIncompleteBatch(payload: unknown): payload is IncompleteBatch {
  const p = payload as Partial<IncompleteBatch> | null;
  return !!p && typeof p === "object" && p.complete === false && Array.isArray(p.applied) && Array.isArray(p.refused);
}

const responseKey = (info: GraphQLResolveInfo) => String(info.path.key);
const PRIOR = new WeakMap<GraphContext, Map<string, IncompleteBatch>>();
function priorAttempts(context: GraphContext): Map<string, IncompleteBatch> {
  let map = PRIOR.get(context);
  if (!map) PRIOR.set(context, (map = new Map()));
  return map;
}

/**
 * For a batch mutation resumed by a retry with the same idempotency key: the earlier attempt's payload (what it
 * applied and refused is not sent again). Undefined on a first call.
 */
export function priorAttempt<T>(context: GraphContext, info: GraphQLResolveInfo): T | undefined {
  return PRIOR.get(context)?.get(responseKey(info)) as T | undefined;
}

/** The field every idempotent mutation's input carries. */
export const IDEMPOTENCY_KEY_DESCRIPTION =
  "A key of your choosing (e.g. a UUID) making this call safe to repeat: within 24 hours (IDEMPOTENCY_WINDOW_SECONDS), a call with the same key returns the first call's result without calling the vendor again. At most 128 characters.";
