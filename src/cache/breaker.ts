/**
 * A circuit breaker in front of Redis: after `threshold` consecutive failed commands (timeouts of a stalled server,
 * typically: a SIGSTOPped or swapping Redis keeps its TCP connection open and answers nothing) it opens, and every
 * command fails at once instead of waiting out its timeout. While open, a probe (`PING`) runs every `probeMs`; the
 * first one answered closes it. Answers the server gave (a `ReplyError`) are not failures of the connection.
 */
export class BreakerOpenError extends Error {
  constructor() {
    super("Redis breaker open");
    this.name = "BreakerOpenError";
  }
}

export interface BreakerOptions {
  /** Consecutive failures that open it. */
  threshold?: number;
  /** Interval of the probe while open, ms. */
  probeMs?: number;
  /** The probe: resolves when the server answers. */
  probe: () => Promise<unknown>;
  onChange?: (open: boolean) => void;
}

export class Breaker {
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  /** How many times it opened (for tests and metrics). */
  opened = 0;

  constructor(private readonly options: BreakerOptions) {}

  get isOpen(): boolean {
    return this.timer !== undefined;
  }

  /** Runs `op` unless open; counts its failure or success. */
  async run<T>(op: () => Promise<T>): Promise<T> {
    if (this.isOpen) throw new BreakerOpenError();
    try {
      const result = await op();
      this.failures = 0;
      return result;
    } catch (error) {
      if (!isReplyError(error)) this.failure();
      throw error;
    }
  }

  private failure(): void {
    if (++this.failures < (this.options.threshold ?? 3) || this.isOpen) return;
    this.opened++;
    this.timer = setInterval(() => void this.probe(), this.options.probeMs ?? 500);
    this.timer.unref();
    this.options.onChange?.(true);
  }

  private async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      await this.options.probe();
      this.close();
    } catch {
      // still down: the next probe tries again
    } finally {
      this.probing = false;
    }
  }

  /** Closes it (a probe answered, or the connection came back ready). */
  close(): void {
    this.failures = 0;
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.options.onChange?.(false);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

const isReplyError = (error: unknown) => error instanceof Error && error.name === "ReplyError";
