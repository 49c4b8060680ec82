import { setImmediate } from "node:timers";

/**
 * Lets one request's burst of work give the event loop back (issue 16). When a large list lands (the 10,000-account
 * project's user list), GraphQL execution resolves every residence and account below it in one go: half a second
 * in which no socket is read, so the vendor calls in flight finish unnoticed, no new one starts, and every other
 * request of the instance (a door opening included) waits. Resolvers that fan out under a list ask {@link pause}
 * first: they go on one at a time, in the order they asked, while the current slice of `sliceMs` lasts; the rest go
 * on at a later turn of the loop, after the sockets have been served. One per request: a small request never waits
 * behind a large one's backlog.
 */
export class TurnSlicer {
  /** When the current slice began (performance.now), or -1 when none is running. */
  private sliceStart = -1;
  private readonly waiting: (() => void)[] = [];
  /** A microtask chain is letting waiting callers go on, one at a time. */
  private dispatching = false;
  private resumeScheduled = false;

  constructor(
    private readonly sliceMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Resolves when the caller may go on: at once (a microtask later) while the current slice has time left, else at a
   * later turn of the loop. Callers go on one at a time, in the order they asked, and the time is looked at again
   * after each one's work: all the resolvers under a list ask before any of them works, so the decision cannot be
   * made when they ask. `undefined` when slicing is off.
   */
  pause(): Promise<void> | undefined {
    if (this.sliceMs <= 0) return undefined;
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      if (this.sliceStart < 0) this.startSlice();
      this.dispatch();
    });
  }

  /** Callers waiting to go on. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** A slice begins now; it ends when the loop next reaches its check phase (this turn is over). */
  private startSlice(): void {
    this.sliceStart = this.now();
    setImmediate(() => {
      if (!this.resumeScheduled) this.sliceStart = -1;
    });
  }

  private dispatch(): void {
    if (this.dispatching || this.resumeScheduled) return;
    this.dispatching = true;
    queueMicrotask(this.next);
  }

  /** Lets the first waiting caller go on, then looks again once its continuation has run (queued behind it). */
  private readonly next = (): void => {
    if (this.waiting.length === 0) {
      this.dispatching = false;
      return;
    }
    if (this.now() - this.sliceStart >= this.sliceMs) {
      this.dispatching = false;
      this.resumeScheduled = true;
      // Scheduled from a check phase an immediate runs at the next turn, otherwise at this one's check phase: the
      // sockets are polled before either.
      setImmediate(this.resume);
      return;
    }
    this.waiting.shift()!();
    queueMicrotask(this.next);
  };

  private readonly resume = (): void => {
    this.resumeScheduled = false;
    this.startSlice();
    this.dispatch();
  };
}
