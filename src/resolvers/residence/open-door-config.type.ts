import { Field, ObjectType } from "type-graphql";

@ObjectType({ description: "A way of opening doors that can be switched on and off, with its code." })
export class ToggleCode {
  @Field(() => Boolean, { nullable: true, description: "Whether this way of opening is enabled." })
  enabled!: boolean | null;

  @Field(() => String, { nullable: true, description: "The code the resident's phone presents. A credential: show it only to the resident." })
  code!: string | null;
}

@ObjectType({
  description:
    "How a residence's doors open without a key: private key, NFC, Bluetooth and face file. Each field is its own " +
    "vendor call, made only when selected.",
})
export class OpenDoorConfig {
  /** Set by the resolver; not a GraphQL field. */
  residenceId!: string;

  /** The project the residence was verified in (not a GraphQL field). */
  projectId!: string;
}
