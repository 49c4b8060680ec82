import { Field, ID, ObjectType, Directive } from "type-graphql";
import { AccountRole, PaymentStatus } from "../common/enums.js";
import { connectionType } from "../common/connection.js";
import { Node } from "../common/node.type.js";

@Directive('@key(fields: "id")')
@ObjectType({ implements: Node, description: "A person's account in a residence (Akubela user)." })
export class Account extends Node {
  @Field(() => ID, { description: "The vendor's account id (`account_id`)." })
  accountId!: string;

  @Field(() => String, { nullable: true, description: "Login name of the account, often its e-mail address (`account_name`)." })
  accountName!: string | null;

  @Field(() => String, { nullable: true, description: "Given name." })
  firstName!: string | null;

  @Field(() => String, { nullable: true, description: "Family name." })
  lastName!: string | null;

  @Field(() => String, { nullable: true, description: "E-mail address." })
  email!: string | null;

  @Field(() => String, { nullable: true, description: "Phone number, as the vendor stores it." })
  phone!: string | null;

  @Field(() => AccountRole, { nullable: true, description: "What the account may do in its residence; null for a role this graph does not know." })
  role!: AccountRole | null;

  @Field(() => String, { nullable: true, description: "Region of the account, as the vendor names it." })
  region!: string | null;

  @Field(() => PaymentStatus, { nullable: true, description: "Billing state of the account." })
  paymentStatus!: PaymentStatus | null;
}

export const AccountConnection = connectionType("Account", Account, "account");
