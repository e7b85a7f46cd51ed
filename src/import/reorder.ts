/**
 * DOC: Reorder window
 *
 * Capture lines written from several CPUs (bpftrace reads one buffer per CPU) reach the file
 * slightly out of time order. `ReorderWindow` holds items in a binary min-heap on (time, arrival)
 * and releases an item once an item at least `window` ns later has arrived, so the output is in
 * time order whenever no line is later than `window`, with memory bounded by the lines of one
 * window. Ties keep arrival order.
 */

export class ReorderWindow<T> {
  private readonly heap: { t: bigint; seq: number; item: T }[] = [];
  private seq = 0;
  private maxT: bigint | undefined;

  constructor(private readonly window: bigint) {}

  /** Add an item; returns the items now old enough to release, in order. */
  push(t: bigint, item: T, out: T[]): void {
    this.insert({ t, seq: this.seq++, item });
    if (this.maxT === undefined || t > this.maxT) this.maxT = t;
    const limit = this.maxT - this.window;
    while (this.heap.length > 0 && this.heap[0].t < limit) out.push(this.pop());
  }

  /** Release everything (end of capture). */
  drain(out: T[]): void {
    while (this.heap.length > 0) out.push(this.pop());
  }

  private less(a: { t: bigint; seq: number }, b: { t: bigint; seq: number }): boolean {
    return a.t < b.t || (a.t === b.t && a.seq < b.seq);
  }

  private insert(x: { t: bigint; seq: number; item: T }): void {
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

  private pop(): T {
    const h = this.heap;
    const top = h[0];
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
    return top.item;
  }
}
