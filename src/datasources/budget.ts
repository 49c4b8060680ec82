/**
 * The per-tenant vendor budget (issue 16): one limiter per vendor credential, shared by every request of the
 * instance, bounding the calls in flight and the calls started per second. A lone request may use the whole budget;
 * concurrent requests take turns (round-robin, one call each); writes (door openings, every mutation) go ahead of
 * every queued read. Keyed by the tenant's cache scope (`serverScope`/`bearerScope`), never by a credential.
 */

/** One queued call, waiting for a slot. */
interface Waiter {
  start: () => void;
}

export interface BudgetLimits {
  /** Calls of one tenant in flight at once. */
  maxInFlight: number;
  /** Calls of one tenant started per rolling second; 0: no rate bound. */
  maxPerSecond: number;
}

/** What a budget reports about the wait of each call it started (metrics). */
export type BudgetObserver = (vendor: string, kind: "read" | "write", waitedMs: number) => void;

/** The limiter of one tenant of one vendor. */
export class TenantBudget {
  private active = 0;
  private readonly writes: Waiter[] = [];
  /** Queued reads per request, in the order the requests first queued (round-robin). */
  private readonly reads = new Map<object, Waiter[]>();
  /** Start times within the last second (rate bound). */
  private readonly starts: number[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    readonly vendor: string,
    private readonly limits: BudgetLimits,
    private readonly observe?: BudgetObserver,
    private readonly now: () => number = Date.now,
  ) {}

  /** Calls waiting for a slot. */
  get queued(): number {
    let n = this.writes.length;
    for (const q of this.reads.values()) n += q.length;
    return n;
  }

  get running(): number {
    return this.active;
  }

  /** Runs `task` when the budget allows; `request` identifies the GraphQL request for fairness. */
  async run<T>(request: object, kind: "read" | "write", task: () => Promise<T>): Promise<T> {
    const queuedAt = this.now();
    await new Promise<void>((start) => {
      const waiter = { start };
      if (kind === "write") this.writes.push(waiter);
      else {
        const queue = this.reads.get(request);
        if (queue) queue.push(waiter);
        else this.reads.set(request, [waiter]);
      }
      this.pump();
    });
    this.observe?.(this.vendor, kind, this.now() - queuedAt);
    try {
      return await task();
    } finally {
      this.active--;
      this.pump();
    }
  }

  /** Starts what the budget allows: writes first, then one read per request in turn. */
  private pump(): void {
    while (this.active < this.limits.maxInFlight) {
      if (!this.rateAllows()) return;
      const next = this.writes.shift() ?? this.nextRead();
      if (!next) return;
      this.active++;
      if (this.limits.maxPerSecond) this.starts.push(this.now());
      next.start();
    }
  }

  /** The first queued read of the request whose turn it is; that request then goes to the back of the line. */
  private nextRead(): Waiter | undefined {
    for (const [request, queue] of this.reads) {
      this.reads.delete(request);
      const waiter = queue.shift();
      if (queue.length > 0) this.reads.set(request, queue); // re-inserted: last in the turn order
      if (waiter) return waiter;
    }
    return undefined;
  }

  /** True when another call may start this second; otherwise pumps again when the oldest start leaves the window. */
  private rateAllows(): boolean {
    const perSecond = this.limits.maxPerSecond;
    if (!perSecond) return true;
    const now = this.now();
    while (this.starts.length > 0 && now - this.starts[0] >= 1000) this.starts.shift();
    if (this.starts.length < perSecond) return true;
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, this.starts[0] + 1000 - now);
      this.timer.unref?.();
    }
    return false;
  }
}

/** Every tenant's budget of this instance, created on first use. */
export class VendorBudgets {
  private readonly tenants = new Map<string, TenantBudget>();

  constructor(
    readonly limits: BudgetLimits,
    private readonly observe?: BudgetObserver,
  ) {}

  /** The budget of one vendor credential: `scope` is its tenant cache scope (a keyed hash, never the credential). */
  of(vendor: string, scope: string): TenantBudget {
    const key = `${vendor}|${scope}`;
    let budget = this.tenants.get(key);
    if (!budget) {
      // Callers' own tokens come and go: idle budgets (nothing running or queued) are dropped past a bound.
      if (this.tenants.size >= 1000) for (const [k, b] of this.tenants) if (b.running === 0 && b.queued === 0) this.tenants.delete(k);
      budget = new TenantBudget(vendor, this.limits, this.observe);
      this.tenants.set(key, budget);
    }
    return budget;
  }

  /** Calls waiting, by vendor (metrics: the label is the vendor only, never a tenant). */
  queued(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const b of this.tenants.values()) out[b.vendor] = (out[b.vendor] ?? 0) + b.queued;
    return out;
  }
}
