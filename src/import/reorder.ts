/**
 * DOC: Reorder window
 *
 * Capture lines written from several CPUs (bpftrace reads one buffer per CPU) reach the file
 * slightly out of time order. `ReorderWindow` holds items in a binary min-heap on (time, arrival)
 * and releases an item once an item more than `window` ns later has arrived, so the output is in
 * time order whenever no line is later than `window`, with memory bounded by the lines of one
 * window. Ties keep arrival order. Times are numbers: ns relative to a base the caller picks (the
 * capture's first time), exact for 104 days.
 */

export class ReorderWindow<T> {
  /** Items that arrived in time order (the common case): a FIFO, sorted by construction. */
  private fifo: { t: number; seq: number; item: T }[] = [];
  private head = 0;
  /** Items that arrived after a later one: a min-heap. */
  private readonly heap: { t: number; seq: number; item: T }[] = [];
  private seq = 0;
  private maxT = Number.NEGATIVE_INFINITY;

  constructor(private readonly window: number) {}

  /** Add an item; appends to `out` the items now old enough to release, in order. */
  push(t: number, item: T, out: T[]): void {
    const x = { t, seq: this.seq++, item };
    if (t >= this.maxT) {
      this.maxT = t;
      this.fifo.push(x);
    } else {
      this.insert(x);
    }
    this.release(this.maxT - this.window, out);
  }

  /** Release everything (end of capture). */
  drain(out: T[]): void {
    this.release(Number.POSITIVE_INFINITY, out);
  }

  private release(limit: number, out: T[]): void {
    for (;;) {
      const f = this.head < this.fifo.length ? this.fifo[this.head] : undefined;
      const h = this.heap.length > 0 ? this.heap[0] : undefined;
      const next = f === undefined ? h : h === undefined || this.less(f, h) ? f : h;
      if (next === undefined || !(next.t < limit)) break;
      if (next === f) this.head++;
      else this.pop();
      out.push(next.item);
    }
    if (this.head > 4096 && this.head * 2 > this.fifo.length) {
      this.fifo = this.fifo.slice(this.head);
      this.head = 0;
    }
  }

  private less(a: { t: number; seq: number }, b: { t: number; seq: number }): boolean {
    return a.t < b.t || (a.t === b.t && a.seq < b.seq);
  }

  private insert(x: { t: number; seq: number; item: T }): void {
    const h = this.heap;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
  }
}

/** ns of a decimal string relative to `base`, as a number (exact within 2^53 ns = 104 days). */
export function relativeNs(digits: string, base: { big: bigint; num: number }): number {
  return digits.length <= 15 ? Number(digits) - base.num : Number(BigInt(digits) - base.big);
}
