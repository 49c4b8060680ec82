import { ForbiddenError } from "../errors.js";
import type { ReadThrough } from "../cache/read-through.js";
import type { ReadRecord } from "../cache/response-memo.js";

/**
 * The projects a caller may see: an API key's `projects` (or `*`), every project for a caller with its own vendor
 * token (the vendor decides what that token sees), none for an anonymous caller.
 */
export type ProjectGrant = "*" | ReadonlySet<string>;

/**
 * The data layer's authorization (house style, "Authorization"): every data-source method that sends a vendor
 * command asks the guard first, with the project the command acts for. The guard answers from the caller's grant;
 * whether an object belongs to that project is decided by the data source from the vendor's own data (the user
 * list, the device lists, the site map), never from the ID the caller sent. Anything that cannot be established
 * is a refusal: a `FORBIDDEN` naming what could not be verified.
 */
export class ProjectGuard {
  constructor(
    readonly grant: ProjectGrant,
    /** How the caller is named in refusals (`the API key "bi"`), never a credential. */
    private readonly who: string,
  ) {}

  /** A caller that may see every project (and site-wide data such as every Aliyun person). */
  get unrestricted(): boolean {
    return this.grant === "*";
  }

  /** The projects of a limited grant (empty for `*`: use {@link unrestricted} first). */
  get projects(): string[] {
    return this.grant === "*" ? [] : [...this.grant];
  }

  /** Whether records of `projectId` may leave the data source (`null`: an object of no known project). */
  sees(projectId: string | null | undefined): boolean {
    if (this.grant === "*") return true;
    return typeof projectId === "string" && this.grant.has(projectId);
  }

  /** Refuses a command for a project outside the grant, before it is sent. */
  project(projectId: string): void {
    if (!this.sees(projectId)) this.refuse(`project ${projectId} is not one ${this.who} may see`);
  }

  /** Refuses site-wide data (no single project owns it) to a caller limited to some projects. */
  siteWide(what: string): void {
    if (!this.unrestricted) this.refuse(`${what} is site-wide data: ${this.who} is limited to some projects`);
  }

  refuse(what: string): never {
    throw new ForbiddenError(what);
  }
}

/**
 * A membership index built from vendor data (which residences and accounts a project's user list has, which
 * visitor keys its key list has), shared across requests through the cache under the tenant's scope and
 * refreshed once from the vendor when a lookup misses: an object created since is found, one that is not the
 * project's is refused. Within a request each index is built at most once fresh.
 */
export class MembershipIndex<T> {
  private readonly memo = new Map<string, Promise<{ value: T; fresh: boolean }>>();

  constructor(
    private readonly options: {
      readThrough?: ReadThrough;
      /** 0: never shared across requests (each request builds its own from the vendor). */
      ttlMs: number;
      staleMs: number;
      /**
       * Whether a build not asked to be fresh may read cached vendor data (the user list's pages): then a lookup that
       * misses on it builds once more from the vendor, as it does over a shared index.
       */
      sourcesCached?: boolean;
      /** The shared-cache key of an index (tenant-scoped by the data source). */
      cacheKey: (name: string) => string;
      /** The request's reads, for the response memo. */
      record?: ReadRecord;
    },
  ) {}

  /** `find` over the index named `name`; when it misses on a cached index, once more over a fresh one. */
  async lookup<R>(name: string, build: (fresh: boolean) => Promise<T>, find: (index: T) => R | undefined): Promise<R | undefined> {
    let index = await this.get(name, build, false);
    let found = find(index.value);
    if (found === undefined && !index.fresh) {
      index = await this.get(name, build, true);
      found = find(index.value);
    }
    return found;
  }

  /** Drops what this request holds (after a write): the next lookup reads the shared index or the vendor. */
  forget(): void {
    this.memo.clear();
  }

  private get(name: string, build: (fresh: boolean) => Promise<T>, refresh: boolean): Promise<{ value: T; fresh: boolean }> {
    const memoKey = `${refresh ? "fresh" : "any"}|${name}`;
    let got = this.memo.get(memoKey);
    if (!got) {
      got = this.load(name, build, refresh);
      this.memo.set(memoKey, got);
      got.catch(() => this.memo.delete(memoKey));
      if (refresh) this.memo.set(`any|${name}`, got);
    }
    return got;
  }

  private async load(name: string, build: (fresh: boolean) => Promise<T>, refresh: boolean): Promise<{ value: T; fresh: boolean }> {
    const { readThrough, ttlMs, staleMs } = this.options;
    // Built from what the vendor answered just now, unless its sources may be cached and a fresh build was not asked.
    const builtFresh = refresh || !this.options.sourcesCached;
    if (!readThrough || ttlMs <= 0) return { value: await build(refresh), fresh: builtFresh };
    let fresh = false;
    const value = await readThrough.read(this.options.cacheKey(name), { ttlMs, staleMs, bypass: refresh, record: this.options.record }, async () => {
      fresh = builtFresh;
      return build(refresh);
    });
    return { value, fresh };
  }
}
