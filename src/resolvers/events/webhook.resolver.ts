import { randomBytes } from "node:crypto";
import { Arg, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { allows } from "../../auth/caller.js";
import { RequiresScope } from "../../auth/scope.js";
import type { GraphContext } from "../../context.js";
import { ForbiddenError, UnauthenticatedError } from "../../errors.js";
import { newWebhookSecret, webhookUrlProblem, type WebhookDeliveryRecord, type WebhookEndpointRecord, type WebhookService } from "../../events/webhooks.js";
import { ACCESS_EVENT_KINDS, type AccessEventKind } from "../../events/model.js";
import { InputErrors } from "../common/mutation.js";
import {
  WebhookDelivery,
  WebhookDeliveryState,
  WebhookEndpoint,
  WebhookEndpointDeletePayload,
  WebhookEndpointIdInput,
  WebhookEndpointPayload,
  WebhookEndpointRegisterInput,
  WebhookEndpointSecretPayload,
} from "./webhook.type.js";

/** Endpoints one API key may register. */
const MAX_ENDPOINTS_PER_KEY = 20;

/**
 * Webhooks are registered by API keys only: the endpoint receives events long after the request, so its projects
 * are checked against the key's grant here, once, and every event against the endpoint's projects as it is sent.
 * A caller's own vendor token cannot be re-checked later and is refused.
 */
function ownerOf(ctx: GraphContext, scope: "read" | "write"): { owner: string; service: WebhookService } {
  const caller = ctx.caller;
  if (caller.refused) throw new UnauthenticatedError(`Authentication failed: ${caller.refused}`);
  if (caller.kind === "anonymous") throw new UnauthenticatedError();
  if (caller.kind !== "api-key" || !caller.apiKey) throw new ForbiddenError("Webhook endpoints are managed with an API key (X-API-Key), not a vendor token");
  if (!allows(caller, scope)) throw new ForbiddenError(`The API key "${caller.apiKey.name}" lacks the "${scope}" scope needed here`);
  if (!ctx.webhooks) {
    throw new ForbiddenError("Webhooks are off: production needs WEBHOOK_SECRET_KEY (or TOKEN_ENCRYPTION_KEY) to keep endpoint secrets encrypted");
  }
  return { owner: caller.id, service: ctx.webhooks };
}

const present = (e: WebhookEndpointRecord) => ({
  id: e.id,
  url: e.url,
  kinds: e.kinds,
  projectIds: e.projectIds,
  pictures: e.pictures,
  createdAt: new Date(e.createdAt),
  secretRotatedAt: new Date(e.secretRotatedAt),
  enabled: e.disabledAt === null,
  failingSince: e.failingSince ? new Date(e.failingSince) : null,
  disabledAt: e.disabledAt ? new Date(e.disabledAt) : null,
});

const presentDelivery = (d: WebhookDeliveryRecord) => ({
  deliveryId: d.id,
  eventId: d.eventId,
  eventKind: d.eventKind,
  projectId: d.projectId,
  cursor: d.cursor,
  createdAt: new Date(d.createdAt),
  state: d.state,
  attempts: d.attempts.map((a) => ({ ...a, attemptedAt: new Date(a.attemptedAt) })),
  nextAttemptAt: d.nextAttemptAt ? new Date(d.nextAttemptAt) : null,
});

/** The caller's own endpoint, or a NOT_FOUND problem (another key's endpoint looks like one that does not exist). */
async function ownEndpoint(service: WebhookService, owner: string, id: string, errors: InputErrors): Promise<WebhookEndpointRecord | undefined> {
  const ep = typeof id === "string" && id.length <= 64 ? await service.store.endpoint(id) : undefined;
  if (!ep || ep.owner !== owner) {
    errors.add("input.id", "input.id is not a webhook endpoint of this API key", "NOT_FOUND");
    return undefined;
  }
  return ep;
}

@Resolver(() => WebhookEndpoint)
export class WebhookEndpointResolver {
  @RequiresScope("read")
  @Query(() => [WebhookEndpoint], { description: "The webhook endpoints this API key registered, oldest first. Secrets are never shown here." })
  async webhookEndpoints(@Ctx() ctx: GraphContext) {
    const { owner, service } = ownerOf(ctx, "read");
    const mine = (await service.store.endpoints()).filter((e) => e.owner === owner);
    return mine.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map(present);
  }

  @FieldResolver(() => [WebhookDelivery], { description: "Its latest deliveries, newest first (the log keeps the last 500 per endpoint)." })
  async deliveries(
    @Root() endpoint: WebhookEndpoint,
    @Arg("first", () => Int, { nullable: true, description: "How many (default 20, at most 100)." }) first: number | null,
    @Arg("state", () => WebhookDeliveryState, { nullable: true, description: "Only deliveries in this state." }) state: WebhookDeliveryState | null,
    @Ctx() ctx: GraphContext,
  ) {
    const { service } = ownerOf(ctx, "read");
    const count = Math.max(0, Math.min(first ?? 20, 100));
    const all = (await service.store.deliveries(endpoint.id)).filter((d) => !state || d.state === state);
    return all.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.cursor.localeCompare(a.cursor)).slice(0, count).map(presentDelivery);
  }

  @RequiresScope("write")
  @Mutation(() => WebhookEndpointSecretPayload, {
    description:
      "Registers a URL to receive access events of the given projects and kinds, POSTed as JSON and signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`). The secret is answered this once.",
  })
  async webhookEndpointRegister(@Arg("input", () => WebhookEndpointRegisterInput, { description: "The URL, projects and kinds." }) input: WebhookEndpointRegisterInput, @Ctx() ctx: GraphContext) {
    const { owner, service } = ownerOf(ctx, "write");
    const errors = new InputErrors();
    const url = errors.text(input.url, "input.url", { max: 2048 });
    const problem = url === undefined ? null : webhookUrlProblem(url, service.config.allowHttpLoopback);
    if (problem) errors.add("input.url", `input.${problem}`);
    const projectIds = errors.items(input.projectIds, "input.projectIds", 100);
    const configured = ctx.config.akubela.projectIds;
    for (const [i, p] of (projectIds ?? []).entries()) {
      if (typeof p !== "string" || !p.trim() || p.length > 128) errors.add(`input.projectIds.${i}`, `input.projectIds.${i} must be a project id`);
      else if (!allows(ctx.caller, "read", p) || !allows(ctx.caller, "write", p)) errors.add(`input.projectIds.${i}`, `input.projectIds.${i} is not a project of this API key`, "NOT_FOUND");
      else if (configured.length > 0 && !configured.includes(p)) errors.add(`input.projectIds.${i}`, `input.projectIds.${i} is not a project this graph serves (AKUBELA_PROJECT_IDS)`, "NOT_FOUND");
    }
    const kinds = (input.kinds ?? []).filter((k): k is AccessEventKind => (ACCESS_EVENT_KINDS as readonly string[]).includes(k));
    const mine = (await service.store.endpoints()).filter((e) => e.owner === owner);
    if (mine.length >= MAX_ENDPOINTS_PER_KEY) errors.add(null, `An API key registers at most ${MAX_ENDPOINTS_PER_KEY} webhook endpoints`, "TOO_MANY");
    if (!errors.ok) return { userErrors: errors.errors, endpoint: null, secret: null };
    const id = `we_${randomBytes(12).toString("base64url")}`;
    const secret = newWebhookSecret();
    const now = new Date().toISOString();
    const record: WebhookEndpointRecord = {
      id,
      owner,
      url: url!,
      kinds: [...new Set(kinds)],
      projectIds: [...new Set(projectIds!.map((p) => p.trim()))],
      pictures: allows(ctx.caller, "events:pictures"),
      sealedSecret: service.sealer.seal(secret, id),
      createdAt: now,
      secretRotatedAt: now,
      failingSince: null,
      disabledAt: null,
    };
    await service.store.putEndpoint(record);
    ctx.logger.info("webhook endpoint registered", { endpointId: id, owner, projects: record.projectIds.length });
    return { userErrors: [], endpoint: present(record), secret };
  }

  @RequiresScope("write")
  @Mutation(() => WebhookEndpointSecretPayload, {
    description: "Replaces an endpoint's signing secret at once: deliveries from now on (retries included) are signed with the new one, answered this once.",
  })
  async webhookEndpointSecretRotate(@Arg("input", () => WebhookEndpointIdInput, { description: "The endpoint." }) input: WebhookEndpointIdInput, @Ctx() ctx: GraphContext) {
    const { owner, service } = ownerOf(ctx, "write");
    const errors = new InputErrors();
    const ep = await ownEndpoint(service, owner, input.id, errors);
    if (!ep) return { userErrors: errors.errors, endpoint: null, secret: null };
    const secret = newWebhookSecret();
    const updated = { ...ep, sealedSecret: service.sealer.seal(secret, ep.id), secretRotatedAt: new Date().toISOString() };
    await service.store.putEndpoint(updated);
    ctx.logger.info("webhook endpoint secret rotated", { endpointId: ep.id, owner });
    return { userErrors: [], endpoint: present(updated), secret };
  }

  @RequiresScope("write")
  @Mutation(() => WebhookEndpointPayload, { description: "Enables an endpoint disabled after failing: new events are sent to it again (deliveries cancelled meanwhile are not)." })
  async webhookEndpointEnable(@Arg("input", () => WebhookEndpointIdInput, { description: "The endpoint." }) input: WebhookEndpointIdInput, @Ctx() ctx: GraphContext) {
    const { owner, service } = ownerOf(ctx, "write");
    const errors = new InputErrors();
    const ep = await ownEndpoint(service, owner, input.id, errors);
    if (!ep) return { userErrors: errors.errors, endpoint: null };
    const updated = { ...ep, disabledAt: null, failingSince: null };
    await service.store.putEndpoint(updated);
    return { userErrors: [], endpoint: present(updated) };
  }

  @RequiresScope("write")
  @Mutation(() => WebhookEndpointDeletePayload, { description: "Deletes an endpoint and its delivery log; nothing more is sent to it." })
  async webhookEndpointDelete(@Arg("input", () => WebhookEndpointIdInput, { description: "The endpoint." }) input: WebhookEndpointIdInput, @Ctx() ctx: GraphContext) {
    const { owner, service } = ownerOf(ctx, "write");
    const errors = new InputErrors();
    const ep = await ownEndpoint(service, owner, input.id, errors);
    if (!ep) return { userErrors: errors.errors, deletedId: null };
    await service.store.deleteEndpoint(ep.id);
    ctx.logger.info("webhook endpoint deleted", { endpointId: ep.id, owner });
    return { userErrors: [], deletedId: ep.id };
  }
}
