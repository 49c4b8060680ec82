import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { MutationPayload } from "../common/mutation.js";
import { DateTimeScalar } from "../common/scalars.js";
import { AccessEventKind } from "./access-event.type.js";

export enum WebhookDeliveryState {
  PENDING = "PENDING",
  SUCCEEDED = "SUCCEEDED",
  FAILED = "FAILED",
  CANCELLED = "CANCELLED",
}
registerEnumType(WebhookDeliveryState, {
  name: "WebhookDeliveryState",
  description: "Where a webhook delivery stands.",
  valuesConfig: {
    PENDING: { description: "Not yet answered with a 2xx: `nextAttemptAt` says when it is tried again." },
    SUCCEEDED: { description: "The endpoint answered 2xx." },
    FAILED: { description: "Every attempt of the retry schedule failed." },
    CANCELLED: { description: "Stopped: the endpoint was disabled or deleted before a 2xx." },
  },
});

@ObjectType({ description: "One HTTP attempt of a webhook delivery." })
export class WebhookAttempt {
  @Field(() => DateTimeScalar, { description: "When it was sent (also its `webhook-timestamp`)." })
  attemptedAt!: Date;

  @Field(() => Int, { nullable: true, description: "The endpoint's HTTP status; null when none came (timeout, connection failed)." })
  status!: number | null;

  @Field(() => String, { nullable: true, description: "Why it failed (`HTTP 500`, `timeout`, `connection failed`); null on success. Never the endpoint's body." })
  error!: string | null;

  @Field(() => Int, { description: "How long it took, ms." })
  durationMs!: number;
}

@ObjectType({ description: "One access event sent (or being sent) to a webhook endpoint, with its attempts." })
export class WebhookDelivery {
  @Field(() => ID, { description: "The delivery's id (one per endpoint and event)." })
  deliveryId!: string;

  @Field(() => ID, { description: "The event's `eventId`, sent as the `webhook-id` header: deduplicate on it." })
  eventId!: string;

  @Field(() => AccessEventKind, { description: "The event's kind." })
  eventKind!: string;

  @Field(() => ID, { description: "The event's project." })
  projectId!: string;

  @Field(() => String, { description: "The event's position in the access-event log (`Query.accessEvents(after:)`)." })
  cursor!: string;

  @Field(() => DateTimeScalar, { description: "When the delivery was made from the log." })
  createdAt!: Date;

  @Field(() => WebhookDeliveryState, { description: "Where it stands." })
  state!: string;

  @Field(() => [WebhookAttempt], { description: "Its attempts, oldest first." })
  attempts!: WebhookAttempt[];

  @Field(() => DateTimeScalar, { nullable: true, description: "When it is tried next; null once it succeeded, failed or was cancelled." })
  nextAttemptAt!: Date | null;
}

@ObjectType({ description: "A URL that receives access events, signed per the Standard Webhooks spec. Its secret is shown only when registered or rotated." })
export class WebhookEndpoint {
  @Field(() => ID, { description: "The endpoint's id." })
  id!: string;

  @Field(() => String, { description: "Where events are POSTed." })
  url!: string;

  @Field(() => [AccessEventKind], { description: "The kinds sent; empty: every kind." })
  kinds!: string[];

  @Field(() => [ID], { description: "The projects whose events are sent." })
  projectIds!: string[];

  @Field(() => Boolean, { description: "Whether capture pictures are sent (the registering key had `events:pictures`)." })
  pictures!: boolean;

  @Field(() => DateTimeScalar, { description: "When it was registered." })
  createdAt!: Date;

  @Field(() => DateTimeScalar, { description: "When its secret was last set." })
  secretRotatedAt!: Date;

  @Field(() => Boolean, { description: "False once disabled after failing for WEBHOOK_DISABLE_AFTER_MS: nothing is sent until `webhookEndpointEnable`." })
  enabled!: boolean;

  @Field(() => DateTimeScalar, { nullable: true, description: "Since when every attempt failed; null while the last one succeeded." })
  failingSince!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "When it was disabled; null while enabled." })
  disabledAt!: Date | null;
}

@InputType({ description: "A webhook endpoint to register." })
export class WebhookEndpointRegisterInput {
  @Field(() => String, { description: "An https URL (no credentials in it). Plain http only to a loopback address where WEBHOOK_ALLOW_HTTP_LOOPBACK allows it." })
  url!: string;

  @Field(() => [AccessEventKind], { nullable: true, description: "The kinds to send (default: every kind)." })
  kinds?: string[] | null;

  @Field(() => [ID], { description: "The projects whose events to send: each within the API key's projects." })
  projectIds!: string[];
}

@InputType({ description: "A webhook endpoint, by id." })
export class WebhookEndpointIdInput {
  @Field(() => ID, { description: "The endpoint's id." })
  id!: string;
}

@ObjectType({ description: "A registered endpoint and its secret." })
export class WebhookEndpointSecretPayload extends MutationPayload {
  @Field(() => WebhookEndpoint, { nullable: true, description: "The endpoint; null when not carried out." })
  endpoint!: WebhookEndpoint | null;

  @Field(() => String, {
    nullable: true,
    description: "The signing secret (`whsec_…`): shown this once; keep it to verify `webhook-signature` (Standard Webhooks). Null when not carried out.",
  })
  secret!: string | null;
}

@ObjectType({ description: "The endpoint after the change." })
export class WebhookEndpointPayload extends MutationPayload {
  @Field(() => WebhookEndpoint, { nullable: true, description: "The endpoint; null when not carried out." })
  endpoint!: WebhookEndpoint | null;
}

@ObjectType({ description: "What was deleted." })
export class WebhookEndpointDeletePayload extends MutationPayload {
  @Field(() => ID, { nullable: true, description: "The deleted endpoint's id; null when not carried out." })
  deletedId!: string | null;
}
