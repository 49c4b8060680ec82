/**
 * The per-tenant vendor budget (issue 16): one limiter per vendor credential, shared by every request of the
 * instance, bounding the calls in flight and the calls started per second. A lone request may use the whole budget;
 * concurrent requests take turns (round-robin, one call each); writes (door openings, every mutation) go ahead of
 * every queued read. Keyed by the tenant's cache scope (`serverScope`/`bearerScope`), never by a credential.
 *
 * With a {@link SharedBudget} (VENDOR_BUDGET_SHARED, `shared-budget.ts`) both bounds hold for the whole deployment:
 * each call also needs a lease from Redis. The local queue still decides which call goes next (writes first, requests
 * in turn); Redis only decides how many may go. Whenever Redis cannot answer, this instance goes by its local
 * bounds alone: the shared budget may slow a call down, never stop it.
 */

/**
 * One queued call, waiting for a slot: the task and how to answer its caller. A read waits here for seconds when a
 * large query queues thousands (issue 16), so a queued call is this one object and the caller's promise, nothing
 * more (no async frame, no promise of its own).
 */
interface Waiter {
  task: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  kind: "read" | "write";
  queuedAt: number;
}

export interface BudgetLimits {
  /** Calls of one tenant in flight at once. */
  maxInFlight: number;
  /** Calls of one tenant started per rolling second; 0: no rate bound. */
  maxPerSecond: number;
}

/** What a budget reports about the wait of each call it started (metrics). */
export type BudgetObserver = (vendor: string, kind: "read" | "write", waitedMs: number) => void;

/** What the deployment's budget granted for one tenant. */
export interface SharedGrant {
  /** One lease per call that may start now (fewer than asked, or none, when a bound is reached). */
  leases: string[];
  /**
   * When fewer were granted because the rate window is full: ms until its oldest start leaves it. 0 when the
   * in-flight bound is what is full (slots freed by other instances are not announced: ask again after `pollMs`).
   */
  retryInMs: number;
}

/** One tenant's part of the deployment's budget (`RedisSharedBudget.tenant`). */
export interface SharedTenantBudget {
  /** False while Redis is unreachable or stalled: calls then go by the local budget, without asking. */
  available(): boolean;
  /** Asks for up to `want` leases; rejects when Redis does not answer (the caller then goes by the local budget). */
  acquire(want: number): Promise<SharedGrant>;
  /** Gives a lease back when its call ends (never awaited: a call's answer does not wait on Redis). */
  release(lease: string): void;
  /** Counts calls started by the local budget because the shared one could not answer (metrics). */
  fellBack(calls: number): void;
  /** The longest a queued write waits on one Redis answer before it goes by the local budget (door openings). */
  readonly writeWaitMs: number;
  /** How soon to ask again while the deployment's in-flight bound is full. */
  readonly pollMs: number;
}

/** The deployment's budget: one {@link SharedTenantBudget} per vendor credential. */
export interface SharedBudget {
  tenant(vendor: string, scope: string, limits: BudgetLimits): SharedTenantBudget;
}

/** The limiter of one tenant of one vendor. */
export class TenantBudget {
  private active = 0;
  private readonly writes: Waiter[] = [];
  /** Queued reads per request, in the order the requests first queued (round-robin). */
  private readonly reads = new Map<object, Waiter[]>();
  /** Start times within the last second (rate bound), kept in shared mode too: a fallback starts from them. */
  private readonly starts: number[] = [];
  private timer?: NodeJS.Timeout;
  /** When the shared budget's answer now awaited was asked for (one question at a time). */
  private askedAt?: number;
  /** Set while waiting to ask the shared budget again; `forRate`: for the rate window, which a release does not open. */
  private retry?: { timer: NodeJS.Timeout; forRate: boolean };
  /** Wakes the pump when a queued write has waited `writeWaitMs` on the awaited answer. */
  private writeTimer?: NodeJS.Timeout;
  /** This instance gave a lease back while the answer was awaited: an answer "in-flight bound full" is already stale. */
  private freedWhileAsking = false;

  constructor(
    readonly vendor: string,
    private readonly limits: BudgetLimits,
    private readonly observe?: BudgetObserver,
    private readonly now: () => number = Date.now,
    private readonly shared?: SharedTenantBudget,
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

  /**
   * Runs `task` when the budget allows; `request` identifies the GraphQL request for fairness. A `lead` read (one
   * that later reads of its request wait for, such as the next page of a user list) goes ahead of that request's
   * other queued reads: the request's turn among the others is unchanged.
   */
  run<T>(request: object, kind: "read" | "write", task: () => Promise<T>, lead = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = { task, resolve: resolve as (value: unknown) => void, reject, kind, queuedAt: this.now() };
      if (kind === "write") this.writes.push(waiter);
      else {
        const queue = this.reads.get(request);
        if (!queue) this.reads.set(request, [waiter]);
        else if (lead) queue.unshift(waiter);
        else queue.push(waiter);
      }
      this.pump();
    });
  }

  /**
   * Starts what the budget allows: writes first, then one read per request in turn. With the shared budget, asks
   * Redis how many may start (`slotFreed`: this instance just gave a lease back, so a wait for the deployment's
   * in-flight bound is worth cutting short); without an answer from it, goes by the local bounds.
   */
  private pump(slotFreed = false): void {
    const shared = this.shared;
    if (!shared?.available()) return this.startLocally(false);
    if (this.askedAt !== undefined) {
      if (slotFreed) this.freedWhileAsking = true;
      return this.boundWrites(shared);
    }
    if (this.retry) {
      if (!slotFreed || this.retry.forRate) return;
      clearTimeout(this.retry.timer);
      this.retry = undefined;
    }
    this.ask(shared);
  }

  /** Starts queued calls by the local bounds alone (`writesOnly`: the writes, which may not wait on Redis). */
  private startLocally(writesOnly: boolean): void {
    let started = 0;
    while (this.active < this.limits.maxInFlight) {
      if (!this.rateAllows()) break;
      const next = writesOnly ? this.writes.shift() : this.nextWaiter();
      if (!next) break;
      this.begin(next);
      started++;
    }
    if (started > 0) this.shared?.fellBack(started);
  }

  /**
   * Asks the shared budget for as many leases as calls are queued (within the local in-flight bound), and hands the
   * leases granted to the calls whose turn it is when the answer comes (a write queued meanwhile goes first).
   */
  private ask(shared: SharedTenantBudget): void {
    const want = Math.min(this.queued, this.limits.maxInFlight - this.active);
    if (want <= 0) return;
    this.askedAt = this.now();
    const answer = shared.acquire(want);
    this.boundWrites(shared); // a write among those asked for waits on this answer only so long
    answer.then(
      (grant) => {
        const freed = this.freedWhileAsking;
        this.answered();
        for (const lease of grant.leases) {
          const next = this.nextWaiter();
          // Fewer queued than granted: a write went ahead by the local budget while Redis was slow to answer.
          if (next) this.begin(next, lease);
          else shared.release(lease);
        }
        const forRate = grant.retryInMs > 0;
        if (grant.leases.length === want || (freed && !forRate)) return this.pump();
        if (this.queued === 0) return;
        const timer = setTimeout(
          () => {
            this.retry = undefined;
            this.pump();
          },
          forRate ? grant.retryInMs : shared.pollMs,
        );
        timer.unref?.();
        this.retry = { timer, forRate };
      },
      () => {
        // Redis did not answer: this round goes by the local budget; the next one asks again (unless the breaker opened).
        this.answered();
        this.startLocally(false);
      },
    );
  }

  private answered(): void {
    this.askedAt = undefined;
    this.freedWhileAsking = false;
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
  }

  /** While Redis is being asked: a queued write waits for the answer at most `writeWaitMs`, then goes by the local budget. */
  private boundWrites(shared: SharedTenantBudget): void {
    if (this.writes.length === 0 || this.askedAt === undefined) return;
    const waited = this.now() - this.askedAt;
    if (waited >= shared.writeWaitMs) return this.startLocally(true);
    if (this.writeTimer) return;
    this.writeTimer = setTimeout(() => {
      this.writeTimer = undefined;
      this.pump();
    }, shared.writeWaitMs - waited);
    this.writeTimer.unref?.();
  }

  /** Starts a queued call in a slot (with its shared-budget lease, when it got one); the slot is freed when it ends. */
  private begin(waiter: Waiter, lease?: string): void {
    this.active++;
    const now = this.now();
    if (this.limits.maxPerSecond) {
      this.forgetStartsBefore(now - 1000);
      this.starts.push(now);
    }
    this.observe?.(this.vendor, waiter.kind, now - waiter.queuedAt);
    let running: Promise<unknown>;
    try {
      running = waiter.task();
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (value) => {
        this.end(lease);
        waiter.resolve(value);
      },
      (error: unknown) => {
        this.end(lease);
        waiter.reject(error);
      },
    );
  }

  /** A started call ended: its slot (and lease) is free for the next. */
  private end(lease: string | undefined): void {
    this.active--;
    if (lease !== undefined) this.shared?.release(lease);
    this.pump(lease !== undefined);
  }

  private forgetStartsBefore(time: number): void {
    while (this.starts.length > 0 && this.starts[0] <= time) this.starts.shift();
  }

  /** The next call to start: the oldest queued write, else the next request's read. */
  private nextWaiter(): Waiter | undefined {
    return this.writes.shift() ?? this.nextRead();
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
    this.forgetStartsBefore(now - 1000);
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

/** Every tenant's budget of this instance, created on first use; with `shared`, each one's part of the deployment's. */
export class VendorBudgets {
  private readonly tenants = new Map<string, TenantBudget>();

  constructor(
    readonly limits: BudgetLimits,
    private readonly observe?: BudgetObserver,
    private readonly shared?: SharedBudget,
  ) {}

  /** The budget of one vendor credential: `scope` is its tenant cache scope (a keyed hash, never the credential). */
  of(vendor: string, scope: string): TenantBudget {
    const key = `${vendor}|${scope}`;
    let budget = this.tenants.get(key);
    if (!budget) {
      // Callers' own tokens come and go: idle budgets (nothing running or queued) are dropped past a bound.
      if (this.tenants.size >= 1000) for (const [k, b] of this.tenants) if (b.running === 0 && b.queued === 0) this.tenants.delete(k);
      budget = new TenantBudget(vendor, this.limits, this.observe, Date.now, this.shared?.tenant(vendor, scope, this.limits));
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
