import type { Cache, CacheStats } from "./cache.js";

/**
 * The in-process cache used when no Redis is configured: a bounded LRU with a TTL per entry. A `Map` keeps
 * insertion order, so re-inserting on read moves an entry to the young end and the first key is the eldest. A read
 * re-inserts only an entry in the older half (by a clock of insertions): hot entries are read many times a request,
 * and moving each on every read cost more than the lookup (issue 16's profile); the order stays close to LRU.
 */
export class MemoryCache implements Cache {
  readonly kind = "memory";
  private readonly entries = new Map<string, { value: string; expiresAt: number; placed: number }>();
  /** Insertions so far (an entry's `placed` is the clock when it went to the young end). */
  private clock = 0;
  private readonly counters: CacheStats = { hits: 0, misses: 0, errors: 0 };

  constructor(
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError("maxEntries must be a positive integer");
  }

  async get(key: string): Promise<string | undefined> {
    const entry = this.entries.get(key);
    if (!entry || entry.expiresAt <= this.now()) {
      if (entry) this.entries.delete(key);
      this.counters.misses++;
      return undefined;
    }
    if (this.clock - entry.placed >= this.maxEntries >> 1) {
      this.entries.delete(key);
      entry.placed = ++this.clock;
      this.entries.set(key, entry);
    }
    this.counters.hits++;
    return entry.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (!(ttlMs > 0)) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs, placed: ++this.clock });
    while (this.entries.size > this.maxEntries) {
      const eldest = this.entries.keys().next().value as string;
      this.entries.delete(eldest);
    }
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > this.now()) return false;
    await this.set(key, value, ttlMs);
    return true;
  }

  async extendIfEquals(key: string, value: string, ttlMs: number): Promise<boolean> {
    const entry = this.entries.get(key);
    if (!entry || entry.expiresAt <= this.now() || entry.value !== value) return false;
    entry.expiresAt = this.now() + ttlMs;
    return true;
  }

  async increment(key: string, windowMs: number): Promise<{ count: number; resetMs: number }> {
    const entry = this.entries.get(key);
    const now = this.now();
    if (!entry || entry.expiresAt <= now) {
      this.entries.set(key, { value: "1", expiresAt: now + windowMs, placed: ++this.clock });
      return { count: 1, resetMs: windowMs };
    }
    entry.value = String(Number(entry.value) + 1);
    return { count: Number(entry.value), resetMs: entry.expiresAt - now };
  }

  async delete(...keys: string[]): Promise<void> {
    for (const key of keys) this.entries.delete(key);
  }

  stats(): CacheStats {
    return { ...this.counters };
  }

  /** Entries held now (expired ones included until read or evicted). */
  get size(): number {
    return this.entries.size;
  }

  ready(): boolean {
    return true;
  }

  /** Drops every entry (a fresh cache without a restart). */
  clear(): void {
    this.entries.clear();
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
