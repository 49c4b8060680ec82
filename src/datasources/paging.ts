/**
 * A vendor list paged by `page_size` / `page_index` (from 1), answered as a bare array with no total; a page
 * shorter than `page_size` is the last (vendor-docs README, "Paging"). Pages come from `fetchPage`, which goes
 * through the request's DataLoader, so a page fetched for one field is never fetched again for another.
 */
export class PagedList<T> {
  private everything?: Promise<T[]>;
  /** The pages {@link all} has read so far, in order, and who wants each as it comes. */
  private readonly seen: T[][] = [];
  private readonly observers: ((page: readonly T[]) => void)[] = [];

  constructor(
    private readonly fetchPage: (pageIndex: number) => Promise<T[]>,
    readonly pageSize: number,
  ) {}

  /** Every item: pages one after another until a short one (the vendor gives no total to parallelise on). */
  all(): Promise<T[]> {
    this.everything ??= (async () => {
      const items: T[] = [];
      let next = this.fetchPage(1);
      for (let page = 1; ; page++) {
        const rows = await next;
        const more = rows.length >= this.pageSize;
        // The next page first: it is the one every later page waits for.
        if (more) next = this.fetchPage(page + 1);
        items.push(...rows);
        this.seen.push(rows);
        // Observers (read-ahead) start their reads once the next page's request is on its way, not before it.
        // Those registered now: a later one is handed this page by onPage, not twice.
        if (this.observers.length > 0) {
          const observers = [...this.observers];
          setImmediate(() => observers.forEach((observe) => observe(rows)));
        }
        if (!more) return items;
      }
    })();
    return this.everything;
  }

  /**
   * Calls `observe` with each page {@link all} reads, in order, as it arrives (the pages read already at once):
   * what depends on the items can start before the last page is in.
   */
  onPage(observe: (page: readonly T[]) => void): void {
    for (const page of this.seen) observe(page);
    this.observers.push(observe);
  }

  /**
   * Items `offset` … `offset + count - 1`, and whether any follow. Fetches only the pages that cover them (one
   * item further, to answer `hasMore`), unless every page is already known.
   */
  async slice(offset: number, count: number): Promise<{ items: T[]; hasMore: boolean }> {
    if (this.everything) {
      const all = await this.everything;
      return { items: all.slice(offset, offset + count), hasMore: all.length > offset + count };
    }
    const wanted = offset + count + 1;
    const firstPage = Math.floor(offset / this.pageSize) + 1;
    const collected: T[] = [];
    let start = (firstPage - 1) * this.pageSize;
    for (let page = firstPage; start + collected.length < wanted; page++) {
      const rows = await this.fetchPage(page);
      collected.push(...rows);
      if (rows.length < this.pageSize) break;
    }
    const from = offset - start;
    return { items: collected.slice(from, from + count), hasMore: collected.length > from + count };
  }
}

/**
 * A vendor list paged by page number (from 1) whose pages carry the `total` (Aliyun `PageDTO`: `pageSize`,
 * `pageNo`, `total`, `data`). Knowing the total, a window fetches exactly the pages that cover it, in parallel,
 * and `totalCount` costs the first page only. Pages are kept, so no page is fetched twice for one list.
 */
export class CountedPagedList<T> {
  private readonly pages = new Map<number, Promise<{ total: number; items: T[] }>>();

  constructor(
    private readonly fetchPage: (pageNo: number) => Promise<{ total: number; items: T[] }>,
    readonly pageSize: number,
  ) {}

  private page(pageNo: number) {
    let page = this.pages.get(pageNo);
    if (!page) {
      page = this.fetchPage(pageNo);
      this.pages.set(pageNo, page);
    }
    return page;
  }

  async total(): Promise<number> {
    return (await this.page(1)).total;
  }

  async slice(offset: number, count: number): Promise<{ items: T[]; hasMore: boolean }> {
    const firstPageNo = Math.floor(offset / this.pageSize) + 1;
    const first = await this.page(firstPageNo);
    const end = Math.min(offset + count, first.total);
    const lastPageNo = Math.max(firstPageNo, Math.ceil(end / this.pageSize));
    const rest = await Promise.all(Array.from({ length: lastPageNo - firstPageNo }, (_, i) => this.page(firstPageNo + 1 + i)));
    const items = [first, ...rest].flatMap((p) => p.items);
    const from = offset - (firstPageNo - 1) * this.pageSize;
    return { items: items.slice(from, from + count), hasMore: first.total > offset + count };
  }
}
