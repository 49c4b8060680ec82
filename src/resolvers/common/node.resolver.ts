import { Arg, Ctx, ID, Query, Resolver } from "type-graphql";
import type { GraphContext } from "../../context.js";
import { BadUserInputError } from "../../errors.js";
import { fromGlobalId, type NodeTypeName } from "../../lib/global-id.js";
import { tempKeyDigest } from "../residence/residence.resolver.js";
import { Node } from "./node.type.js";
import { RequiresScope } from "../../auth/scope.js";

/** `nodes` takes at most this many IDs, `_entities` as many representations. */
export const MAX_NODES = 100;

type Fetcher = (parts: string[], ctx: GraphContext) => Promise<object | null> | object | null;

/** How each kind of global ID is fetched again, through the request's loaders. */
const FETCHERS: Record<NodeTypeName, Fetcher> = {
  Project: ([projectId], ctx) => ctx.akubela.project(projectId),
  Building: ([projectId, buildingId], ctx) => ctx.akubela.projectBuilding(projectId, buildingId),
  Residence: ([projectId, residenceId], ctx) => ctx.akubela.residence(projectId, residenceId),
  Account: ([projectId, residenceId, accountId], ctx) => ctx.akubela.account(projectId, residenceId, accountId),
  PinCode: async ([p, r, a, id], ctx) => (await ctx.akubela.accountCredentials(p, r, a)).pinCodes.find((x) => x.pinCodeId === id) ?? null,
  RfCard: async ([p, r, a, id], ctx) => (await ctx.akubela.accountCredentials(p, r, a)).rfCards.find((x) => x.rfCardId === id) ?? null,
  Face: async ([p, r, a, id], ctx) => (await ctx.akubela.accountCredentials(p, r, a)).faces.find((x) => x.faceId === id) ?? null,
  AccessGroup: async ([p, r, a, id], ctx) =>
    (await ctx.akubela.accountCredentials(p, r, a)).accessGroups.find((x) => x.accessGroupId === id) ?? null,
  AkuvoxDevice: ([projectId, mac, residenceId], ctx) => ctx.akubela.listedDevice(projectId, mac, residenceId),
  Relay: async (parts, ctx) => {
    const [projectId, mac] = parts;
    const relayId = parts[parts.length - 1];
    const residenceId = parts.length === 4 ? parts[2] : null;
    const device = await ctx.akubela.listedDevice(projectId, mac, residenceId);
    return [...device.relays, ...device.securityRelays].find((r) => r.relayId === relayId) ?? null;
  },
  VisitorTempKey: ([projectId, id], ctx) => ctx.akubela.visitorTempKey(projectId, id),
  ResidenceTempKey: async ([projectId, residenceId, digest], ctx) =>
    (await ctx.akubela.residenceTempKeys(projectId, residenceId)).find((k) => tempKeyDigest(k.tempKey) === digest) ?? null,
  AliyunAccessControlDevice: ([iotId], ctx) => ctx.aliyun.device(iotId),
  AliyunPerson: ([identityId], ctx) => ctx.aliyun.person(identityId),
  CardPermission: async ([identityId, iotId, cardId], ctx) =>
    (await ctx.aliyun.personCardPermissions({ identityId }, [iotId])).find((c) => c.cardId === cardId) ?? null,
};

/**
 * Checks a global ID and returns how to fetch its object (null when it no longer exists). A string that is not
 * one of our IDs is a `BAD_USER_INPUT` naming `field`, raised before any vendor call.
 */
export function nodeFetcher(id: string, field = "id"): (ctx: GraphContext) => Promise<object | null> | object | null {
  const decoded = fromGlobalId(id);
  const fetcher = decoded && Object.hasOwn(FETCHERS, decoded.type) ? FETCHERS[decoded.type] : undefined;
  if (!decoded || !fetcher || decoded.parts.some((p) => p === "")) {
    throw new BadUserInputError(`${field} is not a global ID of this graph`, field);
  }
  return (ctx) => fetcher(decoded.parts, ctx);
}

@Resolver()
export class NodeResolver {
  @RequiresScope("read")
  @Query(() => Node, {
    nullable: true,
    description:
      "Fetches any object by its global ID. FORBIDDEN, naming what could not be verified, when the vendor's own data does not place the object in the project its ID names (an object that no longer exists is answered so too); null when the vendor then says it does not exist.",
  })
  node(@Arg("id", () => ID, { description: "A global ID from any `id` field." }) id: string, @Ctx() ctx: GraphContext) {
    return nodeFetcher(id)(ctx);
  }

  @RequiresScope("read")
  @Query(() => [Node], {
    nullable: "items",
    description: `Fetches up to ${MAX_NODES} objects by global ID, in the order asked; each is checked as \`node\` checks it (null with a FORBIDDEN error at its index when refused).`,
  })
  nodes(@Arg("ids", () => [ID], { description: `Global IDs, at most ${MAX_NODES}.` }) ids: string[], @Ctx() ctx: GraphContext) {
    if (ids.length > MAX_NODES) throw new BadUserInputError(`ids takes at most ${MAX_NODES} IDs`, "ids");
    const fetchers = ids.map((id, i) => nodeFetcher(id, `ids[${i}]`));
    return fetchers.map((fetch) => fetch(ctx));
  }
}
