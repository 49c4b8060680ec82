import { ArgsType, Directive, Field, Int, ObjectType, type ClassType } from "type-graphql";
import { BadUserInputError } from "../../errors.js";

/** Largest page a connection serves: the vendor's page size, so one graph page never costs more than two calls. */
export const MAX_PAGE = 100;
export const DEFAULT_PAGE = 20;

// @shareable: other subgraphs of a supergraph commonly define their own PageInfo and connection shapes.
@Directive("@shareable")
@ObjectType({ description: "Where a page of a connection stands in the whole list (forward paging only)." })
export class PageInfo {
  @Field(() => Boolean, { description: "True when items follow this page: ask again with `after: endCursor`." })
  hasNextPage!: boolean;

  @Field(() => Boolean, { description: "True when items precede this page." })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: "Cursor of the first item of this page; null for an empty page." })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: "Cursor of the last item of this page; pass it as `after` for the next page." })
  endCursor!: string | null;
}

@ArgsType()
export class PageArgs {
  @Field(() => Int, {
    nullable: true,
    description: `How many items to return (default ${DEFAULT_PAGE}, at most ${MAX_PAGE}: larger values are clamped).`,
  })
  first?: number | null;

  @Field(() => String, { nullable: true, description: "Return the items after this cursor (an `endCursor` or edge `cursor`)." })
  after?: string | null;
}

/** A connection type `<Name>Connection` with its `<Name>Edge`, for items of `itemClass`. */
export function connectionType<T extends object>(name: string, itemClass: ClassType<T>, what: string) {
  @Directive("@shareable")
  @ObjectType(`${name}Edge`, { description: `One ${what} in a page, with its cursor.` })
  class Edge {
    @Field(() => String, { description: "Opaque cursor of this item: pass it as `after` to continue after it." })
    cursor!: string;

    @Field(() => itemClass, { description: `The ${what}.` })
    node!: T;
  }

  @Directive("@shareable")
  @ObjectType(`${name}Connection`, { description: `A page of ${what}s, with the total count.` })
  class Connection {
    @Field(() => [Edge], { description: "The items of this page with their cursors." })
    edges!: Edge[];

    @Field(() => [itemClass], { description: "The items of this page, without cursors." })
    nodes!: T[];

    @Field(() => PageInfo, { description: "Where this page stands." })
    pageInfo!: PageInfo;

    @Field(() => Int, { description: `How many ${what}s there are in all, across every page. Asking for it fetches every vendor page.` })
    totalCount!: number;
  }
  return Connection;
}

/**
 * A cursor is an item's offset, and may carry a hint of where in the source that item sits (two numbers: a report
 * paged by account or residence puts the unit's index and the offset of its first row there, so the next page starts
 * at that unit without reading the ones before it). A hint only saves reads: a wrong one gives a wrong window of the
 * caller's own data, never anything else.
 */
const encodeCursor = (offset: number, hint?: string) => Buffer.from(`o:${offset}${hint ? `:${hint}` : ""}`, "utf8").toString("base64url");

function decodeCursor(cursor: string): { offset: number; hint?: [number, number] } {
  const m = /^o:(\d{1,9})(?::(\d{1,9})\.(\d{1,9}))?$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) throw new BadUserInputError("after is not a cursor of this connection", "after");
  return { offset: Number(m[1]) + 1, ...(m[2] !== undefined ? { hint: [Number(m[2]), Number(m[3])] as [number, number] } : {}) };
}

export interface PageWindow {
  offset: number;
  count: number;
  /** Where the item at `offset - 1` sits in the source, as the cursor said (see encodeCursor). */
  hint?: [number, number];
}

/** Reads `first` / `after` into an offset and a count; bad values are a `BAD_USER_INPUT` naming the argument. */
export function pageWindow(args: PageArgs): PageWindow {
  const first = args.first ?? DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 0) throw new BadUserInputError("first must be zero or more", "first");
  return { ...(args.after ? decodeCursor(args.after) : { offset: 0 }), count: Math.min(first, MAX_PAGE) };
}

export interface ConnectionSource<T> {
  /** Items of the window and whether more follow; `hints`, per item, what its cursor carries (see encodeCursor). */
  slice(offset: number, count: number, hint?: [number, number]): Promise<{ items: T[]; hasMore: boolean; hints?: string[] }>;
  /** How many in all. */
  total(): Promise<number>;
}

/**
 * A connection object whose fields are lazy: `totalCount` alone fetches the whole list, `edges`/`nodes`/`pageInfo`
 * only the pages of the window, and a field not selected fetches nothing. The fields are getters: type-graphql's
 * default field resolver reads the property (it does not call functions as graphql-js's would).
 */
export function buildConnection<T>(args: PageArgs, source: ConnectionSource<T>) {
  const { offset, count, hint } = pageWindow(args);
  let page: Promise<{ items: T[]; hasMore: boolean; hints?: string[] }> | undefined;
  const window = () => (page ??= source.slice(offset, count, hint));
  // Each field's answer is made once however often it is read: a field resolver wrapper (OpenTelemetry's GraphQL
  // instrumentation) reads a property to see whether it is a function before the default resolver reads it again,
  // and a second promise nobody awaits would be an unhandled rejection when the vendor fails.
  const once = <V>(make: () => Promise<V>) => {
    let made: Promise<V> | undefined;
    return () => (made ??= make());
  };
  const edges = once(() => window().then(({ items, hints }) => items.map((node, i) => ({ cursor: encodeCursor(offset + i, hints?.[i]), node }))));
  const nodes = once(() => window().then(({ items }) => items));
  const pageInfo = once(() =>
    window().then(({ items, hasMore, hints }) => ({
      hasNextPage: hasMore,
      hasPreviousPage: offset > 0,
      startCursor: items.length ? encodeCursor(offset, hints?.[0]) : null,
      endCursor: items.length ? encodeCursor(offset + items.length - 1, hints?.[items.length - 1]) : null,
    })),
  );
  const totalCount = once(() => source.total());
  return {
    get edges() {
      return edges();
    },
    get nodes() {
      return nodes();
    },
    get pageInfo() {
      return pageInfo();
    },
    get totalCount() {
      return totalCount();
    },
  };
}

/** A connection over a list already in memory (a vendor list that is not paged). */
export function connectionOfList<T>(args: PageArgs, load: () => Promise<T[]>) {
  return buildConnection(args, {
    slice: async (offset, count) => {
      const all = await load();
      return { items: all.slice(offset, offset + count), hasMore: all.length > offset + count };
    },
    total: async () => (await load()).length,
  });
}
