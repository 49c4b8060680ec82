/**
 * Callers' own vendor tokens the vendor accepted lately (issue 12: "a Bearer caller is served from the cache only
 * while its token is known good"). Keyed by the token's cache scope (a hash, never the token), bounded (the least
 * recently accepted are dropped first), each entry good for `windowMs` after the vendor last accepted the token.
 * A token not known good is proven by one vendor call before anything is answered from the cache; a token the
 * vendor refuses is forgotten at once, so a revoked token stops reading cached lists within the window.
 */
export class KnownGoodTokens {
  private readonly accepted = new Map<string, number>();

  constructor(
    readonly windowMs: number,
    private readonly max = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  isGood(scope: string): boolean {
    const at = this.accepted.get(scope);
    return at !== undefined && this.now() - at < this.windowMs;
  }

  /** The vendor just accepted the token of `scope`. */
  mark(scope: string): void {
    if (this.windowMs <= 0) return;
    this.accepted.delete(scope);
    this.accepted.set(scope, this.now());
    if (this.accepted.size > this.max) this.accepted.delete(this.accepted.keys().next().value!);
  }

  /** The vendor refused the token of `scope`. */
  forget(scope: string): void {
    this.accepted.delete(scope);
  }

  get size(): number {
    return this.accepted.size;
  }
}
